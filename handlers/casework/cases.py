"""Opening a case from a finished draft, and telling a citizen how their cases are going."""

from __future__ import annotations

import functools
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.core.labels import staff_label
from handlers.core.messages import REPLY_WINDOW
from handlers.core.normalise import fold
from handlers.core.places import MAX_PLACE, Place, place_as_written
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from storage.models import MAX_DESCRIPTION, Case, CaseEvent, Contact, Message

FOLIO_PATTERN = re.compile(r"\b([A-Za-z]{1,6})-(\d{4})-(\d{1,8})\b")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_CHARS = frozenset(CODE_ALPHABET + CODE_ALPHABET.lower())
_CODE_DIGITS = "".join(c for c in CODE_ALPHABET if c.isdigit())
CODE_LENGTH, GROUP = 12, 4
# A run of letters and digits: a code is read from these, whatever people put between them.
_TOKEN = re.compile(r"[^\W_]+")
# What people put between a code's groups, or between its characters when they spell it out:
# anything that is not a letter or a digit (spaces, dots, dashes, commas, slashes, brackets,
# invisible spaces), up to three of them ("N9DX - 8QAB", "(N9DX)(8QAB)", "N-9-D-X-..."). A
# separator missed would leave the code in clear beside the number that asked about it.
MAX_GAP = 3
# Words of a question about a code that people glue to it ("codigoN9DX8QABT84T",
# "N9DX8QABT84Tgracias"), as written without accents and in lower case. A code glued to any
# other letters ("ABCDN9DX8QABT84T", "casaN9DX...") is part of a longer word, not a code.
GLUE_WORDS = frozenset(
    {
        "mi",
        "el",
        "es",
        "su",
        "codigo",
        "cod",
        "code",
        "clave",
        "estado",
        "constancia",
        "consulta",
        "consultar",
        "denuncia",
        "anonima",
        "seguimiento",
        "numero",
        "hola",
        "ok",
        "gracias",
        "por",
        "favor",
        "porfavor",
    }
)
MAX_GLUE = 24  # letters glued around a code, at most (bounds the work on a long word)
CODE_MASK = "XXXX-XXXX-XXXX"
FOLIO_MASK = "[folio]"
# More wrong folios or codes than this in an hour from one address, and lookups are refused
# for an hour: enough for typos, too few to guess other people's cases.
MAX_MISSES = 10
MISS_WINDOW = timedelta(hours=1)


def _is_code(raw: str) -> bool:
    return sum(c.isdigit() for c in raw) >= 2 and any(c.isalpha() for c in raw)


def _compatible(text: str) -> str:
    """The text with look-alike characters as their plain forms (full-width "Ｎ９ＤＸ" is N9DX)."""
    return unicodedata.normalize("NFKC", text)


_LONGEST_GLUE = max(map(len, GLUE_WORDS))


@functools.lru_cache(maxsize=4096)  # the same words come again and again
def _glue_ends(letters: str) -> frozenset[int]:
    """Where a run of words of a question about a code, read from the start of some letters
    ("micodigoN9DX"), can end: 0, and the length of each such run (2 and 8 here)."""
    folded = [fold(c) for c in letters[:MAX_GLUE]]
    if any(len(c) != 1 for c in folded):
        return frozenset({0})
    text, ends = "".join(folded), {0}
    for end in range(1, len(text) + 1):
        if any(text[start:end] in GLUE_WORDS for start in ends if end - start <= _LONGEST_GLUE):
            ends.add(end)
    return frozenset(ends)


def _is_glue(letters: str) -> bool:
    """Whether letters glued to a code are words of a question about it ("gracias")."""
    return 0 < len(letters) <= MAX_GLUE and len(letters) in _glue_ends(letters)


def _fits(offset: int, piece: str) -> bool:
    """Whether a run of letters and digits can be the next part of a code, `offset` characters
    into it: one character spelled out, or whole groups where a group begins ("N 9 D X 8QAB",
    not "casa 23 frente")."""
    if not all(c in _CODE_CHARS for c in piece):
        return False
    return len(piece) == 1 or (offset % GROUP == 0 and len(piece) % GROUP == 0)


def _code_from(text: str, tokens: list[re.Match[str]], i: int, cut: int) -> tuple | None:
    """The code that begins `cut` characters into the i-th run of letters and digits, if one
    does: (start, end, canonical code)."""
    raw, start = "", tokens[i].start() + cut
    for j in range(i, min(len(tokens), i + CODE_LENGTH)):
        token = tokens[j]
        if j > i and token.start() - tokens[j - 1].end() > MAX_GAP:
            return None
        begin = token.start() + (cut if j == i else 0)
        piece, need = text[begin : token.end()], CODE_LENGTH - len(raw)
        if len(piece) > need:
            # The code ends inside the run: what follows it must be words glued to it.
            if not _is_glue(piece[need:]):
                return None
            piece = piece[:need]
        if not _fits(len(raw), piece):
            return None
        raw += piece
        if len(raw) == CODE_LENGTH:
            raw = raw.upper()
            if not _is_code(raw):
                return None
            return start, begin + len(piece), f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    return None


def _codes(text: str) -> list[tuple[int, int, str]]:
    """Every stretch of a text that could be a code: (start, end, canonical code); the text is
    to be given in its compatible form (`_compatible`), where the spans are. A code is never
    part of a longer run of letters or digits, but for words of the question glued to it; it
    always holds digits and a letter, so that ordinary words ("para esta casa"), folios
    ("TA-2026-000123": 0 and 1 are not in the alphabet) and phone numbers never look like one.
    Candidates may overlap: in "para N9DX 8QAB T84T" the code is the second."""
    if sum(map(text.count, _CODE_DIGITS)) < 2:
        return []  # no code holds fewer than two digits: most messages end here, unread
    tokens = list(_TOKEN.finditer(text))
    found = []
    for i, token in enumerate(tokens):
        word = token.group()
        for cut in sorted(k for k in _glue_ends(word) if k < len(word)):
            code = _code_from(text, tokens, i, cut)
            if code is not None and (_mixed(code[2]) or _alone(text, code[0], code[1])):
                found.append(code)
    return found


def _mixed(code: str) -> bool:
    """Whether a group of the code holds both digits and letters (all codes but about one in
    700)."""
    return any(
        any(c.isdigit() for c in group) and any(c.isalpha() for c in group)
        for group in code.split("-")
    )


def _alone(text: str, start: int, end: int) -> bool:
    """Whether the rest of a text is only words of a question about a code ("estado", "mi
    codigo es"). Three groups none of which mixes digits and letters are a code only so: in a
    sentence they are a house number between two words ("la casa 2345 esta inundada"), and
    taken for a code they lost the report, an emergency's too (an outside check, 2026-12-06)."""
    rest = _TOKEN.findall(text[:start] + " " + text[end:])
    return all(_is_glue(word) for word in rest)


@dataclass(frozen=True)
class OpenedCase:
    case: Case
    secret_code: str | None


def new_secret_code() -> str:
    """A follow-up code for an anonymous case, easy to read aloud: XXXX-XXXX-XXXX."""
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        if _is_code(raw):
            return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _code_piece(plain: str, before: int = 0) -> str | None:
    """The groups of a message that is only a piece of a code ("N9DX-8QAB", then "T84T"), as
    letters and digits: one or two of a code's groups, however separated or spelled out, of
    which one has both digits and letters (a word or a number alone, or a word and a number,
    is not one). Right after `before` groups of a code sent in pieces, the groups that complete
    it are a piece whatever they hold ("TTTT", "8888"). Each piece is kept apart as the whole
    code would be."""
    raw, previous = "", None
    for token in _TOKEN.finditer(plain):  # lazily: a long message stops at its first words
        if previous is not None and token.start() - previous.end() > MAX_GAP:
            return None
        if len(raw) + len(token.group()) > 2 * GROUP or not _fits(len(raw), token.group()):
            return None
        raw, previous = raw + token.group(), token
    if len(raw) % GROUP or not raw:
        return None
    groups = {raw[:GROUP], raw[GROUP:]} - {""}
    mixed = any(any(c.isdigit() for c in g) and any(c.isalpha() for c in g) for g in groups)
    completes = 0 < before < CODE_LENGTH // GROUP and before + len(raw) // GROUP <= 3
    return raw if mixed or completes else None


def piece_groups(text: str, before: int = 0) -> int:
    """How many of a code's groups a message that is only a piece of one holds (0: it is not
    one), `before` groups of it having come in the sender's message just before."""
    piece = _code_piece(_compatible(text), before)
    return len(piece) // GROUP if piece else 0


# A message is asked this several times in its turn (who it is from, whether it is kept apart,
# whether it answers a request, the dialogue's own step): read once.
@functools.lru_cache(maxsize=256)
def _names_code(plain: str, before: int = 0) -> bool:
    return bool(_codes(plain) or _code_piece(plain, before))


def mask_codes(text: str, before: int = 0) -> str:
    """The text with anything shaped like a secret code hidden, for storing what people wrote
    (in its compatible form when it holds one: a look-alike character of the code is gone too);
    `before`: groups of a code sent in pieces just before (see `piece_groups`)."""
    plain = _compatible(text)
    piece = _code_piece(plain, before)
    if piece is not None:
        return "-".join("XXXX" for _ in range(len(piece) // 4))
    found = _codes(plain)
    if not found:
        return text
    text, spans = plain, list[list[int]]()
    for start, end, _ in found:
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    for start, end in reversed(spans):
        text = text[:start] + CODE_MASK + text[end:]
    return text


def normalise_folio(text: str) -> str | None:
    """The canonical folio in a text ("ta-2026-15" → "TA-2026-000015"), if there is one."""
    match = FOLIO_PATTERN.search(text)
    if not match:
        return None
    prefix, year, number = match.groups()
    return f"{prefix.upper()}-{year}-{int(number):06d}"


def open_case(
    uow: UnitOfWork,
    policy: CasePolicy,
    *,
    contact: Contact,
    draft: dict,
    now: datetime,
    aside: Aside | None = None,
) -> OpenedCase:
    """Create the case of a finished draft: folio, deadline, audit event, linked messages.
    `aside` sorts out, when it becomes an anonymous case, the messages of the conversation that
    must not join it (see detach_conversation)."""
    year = policy.calendar.local_date(now).year
    days = policy.case_deadline_days(draft["type"], draft.get("urgency"))
    anonymous = bool(draft.get("anonymous"))
    if anonymous:
        folio = anonymous_folio(uow, policy, year)
    else:
        folio = policy.format_folio(
            year, uow.cases.next_folio_number(policy.institution.folio_prefix, year)
        )
    secret_code = new_secret_code() if anonymous else None
    # An anonymous case is dated by its day only: its hour could be matched with the sender's.
    at = policy.day_of(now) if anonymous else now
    location = draft.get("location") or {}
    place = place_of_draft(policy, draft)
    case = uow.cases.add(
        Case(
            folio=folio,
            contact_id=None if anonymous else contact.id,
            channel=contact.channel,
            type=draft["type"],
            topic=draft["topic"],
            urgency=draft.get("urgency", "normal"),
            confidence=draft.get("confidence"),
            description=describe(draft, policy.texts),
            location_text=(draft.get("location_text") or location.get("address") or None),
            municipality=place.municipality,
            district=place.district,
            department=place.department,
            latitude=location.get("latitude"),
            longitude=location.get("longitude"),
            anonymous=anonymous,
            secret_code_hash=policy.code_hash(secret_code) if secret_code else None,
            gender="sin_dato" if anonymous else (contact.gender or "sin_dato"),
            age=None if anonymous else contact.age,
            deadline_days=days,
            created_at=at,
            due_at=policy.calendar.due_at(now, days),
        ),
        detached=anonymous,
    )
    if anonymous:
        draft_ids = draft.get("message_ids", [])
        opened_by = draft.get("opened_by")
        detach_conversation(
            uow, policy, contact, case, draft_ids, now, aside=aside, opened_by=opened_by
        )
    else:
        uow.messages.attach_to_case(draft.get("message_ids", []), case.id)
    record_event(
        uow, case, at, actor="ciudadano", kind="created", to_status=case.status, detached=anonymous
    )
    return OpenedCase(case, secret_code)


def place_of_draft(policy: CasePolicy, draft: dict) -> Place:
    """Where a draft's case happened: the unit its place as typed names (or the municipality
    given, by staff logging a call), else the unit of its pin, else the place as written."""
    location = draft.get("location") or {}
    for text in (draft.get("location_text"), draft.get("municipality")):
        found = policy.places.match(text)
        if found is not None and found.matched:
            return found
    pinned = None
    if location.get("latitude") is not None and location.get("longitude") is not None:
        pinned = policy.places.nearest(location["latitude"], location["longitude"])
    if pinned is not None:
        return pinned
    written = draft.get("municipality") or place_as_written(draft.get("location_text") or "")
    return Place(written[:MAX_PLACE] if written else None)


# Anonymous denuncias take their folio numbers at random from this range: a number in the
# sequence would tell, next to the cases around it, when the report was made.
ANONYMOUS_FOLIOS = range(900_000, 1_000_000)


def in_anonymous_range(text: str) -> bool:
    """Whether a text names a folio of the range anonymous denuncias take theirs from."""
    folio = normalise_folio(text)
    return folio is not None and int(folio.rsplit("-", 1)[1]) in ANONYMOUS_FOLIOS


def names_code(text: str, before: int = 0) -> bool:
    """Whether a text holds something shaped like an anonymous case's code, or a piece of one
    (`before`: groups of a code sent in pieces just before, see `piece_groups`)."""
    return _names_code(_compatible(text), before)


def anonymous_folio(uow: UnitOfWork, policy: CasePolicy, year: int) -> str:
    """A folio for an anonymous denuncia that no case of the year has."""
    while True:
        number = ANONYMOUS_FOLIOS.start + secrets.randbelow(len(ANONYMOUS_FOLIOS))
        folio = policy.format_folio(year, number)
        if uow.cases.by_folio(folio) is None:
            return folio


# How long a text of the anonymous case must be for the same text sent earlier by its sender
# to be cleared from their number (see clear_repeats): "si", "1", "listo" or "hola" are said by
# everyone and name no one; a sentence of a report does.
REPEAT_MIN = 20

# How far back the conversation that becomes an anonymous case reaches, at most.
CONVERSATION = timedelta(hours=24)


# What `Aside` says of a message of the conversation that becomes an anonymous case: deleted
# (following or leaving a project, and its answer: who follows what is known by name, so those
# words in an anonymous case would name its sender), or left as it is, theirs (an update staff
# sent to every follower: in the case it would name the project, and leaving its outbox row
# would change the project's counts when the case is made). None: it joins the case.
DELETE, KEEP = "delete", "keep"
Aside = Callable[[Message], str | None]


def detach_conversation(
    uow: UnitOfWork,
    policy: CasePolicy,
    contact: Contact,
    case: Case,
    draft_ids: list[int],
    now,
    *,
    aside: Aside | None = None,
    opened_by: int | None = None,
) -> None:
    """The conversation that became an anonymous case joins it with nothing left that leads to
    the sender: no contact, no provider id, only the day, rows numbered out of sequence; folios
    of the person's other cases are masked in what they wrote and were answered; replies already
    sent leave the outbox, and those still to send keep their recipient only until sent. What
    `aside` sorts out of the report's own messages is deleted or stays theirs."""
    # The conversation that led to the report: what was said to and by the person since their
    # last filed case (within a day), in no case; not what belongs to another case (a status
    # of it asked for meanwhile), nor what came before it (another report's questions). It
    # begins with the message that opened the draft (`opened_by`: the menu choice, the first
    # words of the report): the greeting and consent before it stay the person's, as they do
    # for anyone who consents and writes no more. Taken too, they left a consented contact
    # with no message at all, and put a new contact's consent in the case (the outside attack
    # of 2026-12-05, night). A draft written before consenting has no `opened_by`: its first
    # words are the first message, whose answers (the greeting) cannot stay without it.
    first = min(draft_ids, default=None)
    messages: list[Message] = []
    answers: list[Message] = []
    if first is not None:
        start = uow.messages.after_last_filed(contact.id, before=first, since=now - CONVERSATION)
        if opened_by is not None:
            start = max(start, min(opened_by, first))
        messages = uow.messages.unfiled(contact.id, from_id=start, also=draft_ids)
        # A question about another of their cases asked meanwhile ("estado FOLIO", a named
        # constancia) joins the report, masked; its answer, kept with that case under their
        # number and at the question's exact time, would be the one reply of theirs with no
        # question beside it: it goes.
        asked = {message.created_at for message in messages if message.direction == "in"}
        answers = uow.messages.answers_about_cases(contact.id, from_id=start, at=asked)
    # When the conversation began: replies held for them (outside WhatsApp's window) that their
    # writing released since then keep only the day of it.
    since = min((message.created_at for message in messages), default=now)
    own = set(draft_ids)
    sorted_out = {
        message.id: aside(message) if aside and message.id not in own else None
        for message in messages
    }
    for message in messages:
        if lists_their_cases(policy.texts, message):
            sorted_out[message.id] = DELETE
    deleted = [message.id for message in messages if sorted_out[message.id] == DELETE]
    deleted += [answer.id for answer in answers]
    # Delivery reports for what was sent to them in it, come before its provider id was
    # recorded, name that id (hashed): they go with it. Those that come later match no row
    # and are kept a few minutes only, by a keyed hash and a coarse time (keep_early_report).
    sent = [m.provider_id for m in [*messages, *answers] if m.direction == "out" and m.provider_id]
    uow.outbox.drop_early_reports([policy.delivery_hash(provider_id) for provider_id in sent])
    messages = [message for message in messages if sorted_out[message.id] is None]
    ids = [message.id for message in messages]
    day = policy.day_of(now)
    # The outbox rows first, then their messages: the order in which the dispatcher locks them
    # when it records a send, so that the two never wait for each other.
    uow.outbox.make_confidential(ids + deleted, day)
    # The same words (beyond a few) or photo sent earlier, in a draft they dropped, would stay
    # under their number with its exact time: a join on the text or the file's hash would name
    # the sender (the outside attack of 2026-12-05, night). They are cleared as an erasure
    # clears them.
    placeholder = policy.texts("privacy.erased_placeholder")
    uow.messages.clear_repeats(contact.id, ids, min_length=REPEAT_MIN, placeholder=placeholder)
    for message in messages:
        message.body = FOLIO_PATTERN.sub(FOLIO_MASK, message.body)
    uow.messages.detach(ids, case.id, day, key=policy.media_hash)
    uow.messages.delete(deleted)
    uow.outbox.released_to_the_day(contact.channel, contact.address, since, day, REPLY_WINDOW)
    uow.purge_after_commit()


def lists_their_cases(t: Texts, message: Message) -> bool:
    """Whether a reply lists the person's cases (a plain "estado"): in an anonymous case it
    would tell, folios masked or not, how many cases its sender has and of which kinds."""
    heads = (t("dialogue.status_your_cases"), t("dialogue.status_which"))
    return message.direction == "out" and message.body.startswith(heads)


def detach_message(uow: UnitOfWork, policy: CasePolicy, message_id: int, now: datetime) -> None:
    """A message about an anonymous case (its code asked about) is kept with no sender, no
    provider id and only its day."""
    uow.messages.detach([message_id], None, policy.day_of(now))
    uow.purge_after_commit()


def describe(draft: dict, texts: Texts) -> str:
    """The case description: everything the person wrote, in order, within a sane length."""
    text = "\n".join(draft.get("parts", [])).strip()
    if not text:
        return texts("dialogue.description_media_only", count=draft.get("media", 0))
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def record_event(
    uow: UnitOfWork,
    case: Case,
    now: datetime,
    *,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    public: bool = True,
    detached: bool = False,
) -> None:
    """Append to the case's audit trail (`detached`: about an anonymous case as it is filed,
    numbered out of sequence)."""
    uow.cases.add_event(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public=public,
        ),
        detached=detached,
    )


def mentions_case(text: str) -> bool:
    """Whether a text carries something shaped like a folio or an anonymous code."""
    return bool(FOLIO_PATTERN.search(text) or _names_code(_compatible(text)))


def lookups_refused(contact: Contact, now: datetime) -> bool:
    """Whether this address asked about too many wrong folios lately."""
    return contact.folio_blocked_until is not None and now < contact.folio_blocked_until


def count_miss(contact: Contact, now: datetime) -> None:
    """One more folio or code that was not theirs or does not exist; the eleventh within an hour
    refuses lookups for an hour or so. Only clock hours are kept on the number's row, never the
    instant it tried one: the count runs from the hour of the first miss through the next one
    (eleven misses within any hour always fall in it), and the refusal lasts until the end of
    the hour after the eleventh."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    since = contact.folio_misses_since
    if since is None or hour - since > MISS_WINDOW:
        contact.folio_misses, contact.folio_misses_since = 0, hour
    contact.folio_misses += 1
    if contact.folio_misses > MAX_MISSES:
        contact.folio_blocked_until = hour + 2 * MISS_WINDOW
        contact.folio_misses, contact.folio_misses_since = 0, None


def find_own_case(
    uow: UnitOfWork, policy: CasePolicy, contact: Contact, text: str
) -> tuple[Case, str] | None:
    """The case a person refers to: by folio only their own, by anonymous code any holder's."""
    folio = normalise_folio(text)
    if folio:
        case = uow.cases.by_folio(folio)
        # A number with no row (see dialogue.intake) has no case of its own: a case whose
        # reporter was erased has no contact either.
        theirs = case is not None and contact.id is not None and case.contact_id == contact.id
        if case is not None and theirs and not case.anonymous:
            return case, policy.texts("dialogue.case_reference", folio=folio)
    # A few candidates at most: a status question is short, and each is one indexed lookup.
    for _, _, code in _codes(_compatible(text))[:5]:
        case = uow.cases.by_secret_code_hash(policy.code_hash(code))
        if case is not None:
            return case, policy.texts("dialogue.anonymous_reference")
    return None


# Status changes whose note the citizen was sent (the resolution, the reason for discarding, the
# institution referred to): read again in the history, where an anonymous reporter reads them.
TOLD_STATUSES = frozenset({"cerrado", "descartado", "remitido"})

# Events whose note was written for the citizen (a reply, a commitment made, met, moved or
# cancelled; a field visit's day, or its outcome, as the citizen was told them).
CITIZEN_NOTES = (
    "staff_reply",
    "extended",  # the reason and the new date, as the citizen was told them
    "commitment_made",
    "commitment_met",
    "commitment_moved",
    "commitment_cancelled",
    "visit_proposed",
    "visit_confirmed",
    "visit_cancelled",
    "visit_done",
)


def render_status(uow: UnitOfWork, policy: CasePolicy, case: Case, reference: str) -> str:
    """Status, deadline and public history of a case, for the citizen."""
    t = policy.texts
    lines = [
        t(
            "dialogue.status_detail",
            reference=reference,
            type=t(f"labels.type.{case.type}"),
            topic=policy.topic_label(case.topic),
            status=t(f"labels.status.{case.status}"),
            received=policy.local_time(case.created_at, anonymous=case.anonymous),
            due=policy.local_day(case.due_at),
        )
    ]
    for event in uow.cases.events(case.id, public_only=True):
        what = event_summary(t, event)
        told = event.kind in CITIZEN_NOTES or (
            event.kind == "status_changed" and event.to_status in TOLD_STATUSES
        )
        if told and event.note:
            # Anonymous reporters read staff replies and commitments here, with their secret code.
            what = f"{what}: {event.note}"
        at = policy.local_time(event.at, anonymous=case.anonymous)
        lines.append(t("dialogue.status_event_line", at=at, what=what))
    return "\n".join(lines)


def direction(t: Texts, message: Message) -> str:
    """How a case's history marks a message: from the citizen, to the citizen, to staff, or
    from a staff member (a field visit's photo)."""
    if message.direction == "in":
        return t("cli.direction_from_staff") if message.to_staff else t("cli.direction_in")
    return t("cli.direction_staff") if message.to_staff else t("cli.direction_out")


def message_text(t: Texts, message: Message) -> str:
    """A message's words for a case's history; one without any (a pin, a photo without a
    caption) says so rather than showing an empty line."""
    return message.body if message.body.strip() else t("cli.show_no_text")


def event_summary(t: Texts, event: CaseEvent, *, for_staff: bool = False) -> str:
    """One line saying what an event did, in words a person understands: the citizen's words,
    or with `for_staff` the staff's ("Esperando al ciudadano", not "... de usted")."""
    if event.to_status and event.kind == "status_changed":
        if for_staff:
            status = staff_label(t, "status", event.to_status)
        else:
            status = t(f"labels.status.{event.to_status}")
        return t("events.status_changed", status=status)
    key = f"events.{event.kind}"
    return t(key) if t.has(key) else t("events.other")


def event_note(t: Texts, event: CaseEvent) -> str:
    """The note an event carries, for staff to read: a reclassification's labels in words
    («tema: Calles y caminos (antes: Puentes)»), not the record kept for the classifier."""
    if event.kind != "reclassified" or not event.note:
        return event.note or ""
    try:
        labels = json.loads(event.note)
        previous = labels.get("previous") or {}
        parts = []
        for field, kind in (("type", "type"), ("topic", "topic"), ("urgency", "urgency")):
            now, before = labels[field], previous.get(field)
            words = staff_label(t, kind, now)
            if before and before != now:
                earlier = staff_label(t, kind, before)
                words = t("events.reclassified_from", now=words, before=earlier)
            parts.append(t(f"events.reclassified_{field}", value=words))
    except (ValueError, TypeError, KeyError, AttributeError):
        return event.note  # an older or hand-written note: shown as it is
    return "; ".join(parts)
