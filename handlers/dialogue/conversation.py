"""The citizen dialogue of spec section 6: one step per message, state kept in the database."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.casework import visits
from handlers.casework.cases import (
    FOLIO_PATTERN,
    count_miss,
    detach_message,
    find_own_case,
    in_anonymous_range,
    lookups_refused,
    mask_codes,
    mentions_case,
    names_code,
    open_case,
    record_event,
    render_status,
)
from handlers.casework.documents import CONSTANCIA, SOLICITUD, caption
from handlers.casework.examples import CITIZEN, learn_from_case
from handlers.casework.notifications import Event, staff_replies
from handlers.casework.places import pin_words
from handlers.casework.privacy import erase_personal_data, personal_data
from handlers.casework.staff import new_case_cards
from handlers.classification.danger import needs_danger_check
from handlers.core.labels import CASE_TYPES
from handlers.core.messages import DocumentRef, Incoming, Option, Reply
from handlers.core.normalise import fold, is_substantive, looks_like_words, words
from handlers.core.places import place_as_written, without_not_knowing
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from handlers.dialogue import community
from handlers.dialogue.emergency import EmergencySteps
from handlers.dialogue.followups import Followups, latest_open_case
from handlers.dialogue.intents import Intents
from handlers.dialogue.problems import OtherProblems
from handlers.dialogue.ratelimit import Bursts, CodePieces, Strangers
from storage.models import MAX_DESCRIPTION, Contact, day_start

# A description ends when the person writes LISTO, or when they come back after this long.
DESCRIPTION_PAUSE = timedelta(minutes=30)
# After an emergency report, what the person sends for this long is added to that case.
FOLLOWUP_WINDOW = timedelta(hours=2)
GENDERS = ("mujer", "hombre", "otro")
MENU = ("report", "status", "person", "info")
DRAFT_STEPS = {
    "describing",
    "danger_check",
    "confirm_class",
    "choose_type",
    "choose_topic",
    "location",
    "anonymity",
    "demographics",
}
MAX_LOCATION = 300


class Vocabulary:
    """The words and phrases people type, from the catalogue's [vocabulary] table."""

    def __init__(self, texts: Texts) -> None:
        def phrases(key: str) -> frozenset[str]:
            return frozenset(fold(p) for p in texts(f"vocabulary.{key}").split(",") if p.strip())

        self.yes, self.no, self.done = phrases("yes"), phrases("no"), phrases("done")
        self.skip, self.cancel, self.help = phrases("skip"), phrases("cancel"), phrases("help")
        self.greetings, self.thanks = phrases("greetings"), phrases("thanks")
        self.status, self.my_data = phrases("status"), phrases("my_data")
        self.erase_data = phrases("erase_data")
        # Longest first: "darme de baja puentenorte" is read as that phrase and a keyword.
        self.leave = sorted(phrases("leave"), key=len, reverse=True)
        self.visit_confirm = phrases("visit_confirm")
        self.visit_other_day = sorted(phrases("visit_other_day"), key=len, reverse=True)
        # Longest first: "constancia de recepcion TA-..." is read as that phrase and a folio.
        self.document = sorted(phrases("document"), key=len, reverse=True)
        self.anonymous, self.named = phrases("anonymous"), phrases("named")
        self.menu = {name: phrases(f"menu_{name}") for name in MENU}
        self.genders = {name: phrases(f"gender_{name}") for name in GENDERS}
        self._courtesy = sorted(self.greetings | self.thanks, key=len, reverse=True)
        # Answers that steer the dialogue (finishing, skipping, yes, no): never a report's words.
        self._control = self.done | self.skip | self.yes | self.no

    def is_control(self, folded: str) -> bool:
        """Whether a whole message only finishes, skips, confirms or denies ("listo", "omitir",
        "sí", "listo, gracias"); a sentence that merely uses those words is not one."""
        return self.without_courtesy(folded) in self._control

    def finishes(self, folded: str) -> bool:
        """Whether a whole message says the description is complete ("listo", "ya, gracias")."""
        return self.without_courtesy(folded) in self.done

    def visit_answer(self, folded: str) -> bool | None:
        """True for a field visit confirmed ("sí", "confirmo"), False for another day asked
        ("otro día, mejor el lunes"), None for anything else."""
        if self.without_courtesy(folded) in self.visit_confirm:
            return True
        other = self.visit_other_day
        if any(folded == phrase or folded.startswith(phrase + " ") for phrase in other):
            return False
        return None

    def is_request(self, folded: str) -> bool:
        """Whether a text asks the bot for something (menu, help, status, my data, erasure, or
        only greets) rather than saying something to staff."""
        rest = self.without_courtesy(folded)
        asks = self.cancel | self.help | self.status | self.my_data | self.erase_data
        asks |= frozenset(self.document)
        return not rest or rest in asks or any(rest in words for words in self.menu.values())

    def document_request(self, folded: str) -> str | None:
        """What follows a request for a case's constancia ("" for none: their latest case);
        None when the text is not one."""
        for phrase in self.document:
            if folded == phrase:
                return ""
            if folded.startswith(phrase + " "):
                return folded[len(phrase) :].strip()
        return None

    def without_courtesy(self, folded: str) -> str:
        """The text without greetings and thanks around it ("hola buenas, hay un hoyo")."""
        changed = True
        while changed:
            changed = False
            for phrase in self._courtesy:
                if folded == phrase:
                    return ""
                if folded.startswith(phrase + " "):
                    folded, changed = folded[len(phrase) :].strip(), True
                elif folded.endswith(" " + phrase):
                    folded, changed = folded[: -len(phrase)].strip(), True
        return folded

    def answer(
        self, folded: str, *, yes: frozenset[str] = frozenset(), no: frozenset[str] = frozenset()
    ) -> bool | None:
        """True for yes, False for no, None when unclear ("sí, no quiero que sepan mi nombre").
        A plain "no" at the end settles it ("claro que no"); `yes` and `no` add step words."""
        if folded in yes or folded in no:
            return folded in yes  # the step's own words, whole ("no sé" is yes to danger)
        tokens = folded.split()
        said_no = folded in self.no or folded in no or "no" in tokens
        said_yes = folded in self.yes or folded in yes or bool(tokens and tokens[0] in self.yes)
        if said_no and (not said_yes or tokens[-1:] == ["no"]):
            return False
        if said_yes and not said_no:
            return True
        return None


@dataclass
class Turn:
    """One incoming message being answered: who, what, and the state it moves."""

    incoming: Incoming
    contact: Contact
    message_id: int
    uow: UnitOfWork
    now: datetime
    step: str
    data: dict
    idle: timedelta | None
    replies: list[Reply] = field(default_factory=list)
    # Set once the turn concerns an anonymous case: every reply is then confidential.
    confidential: bool = False
    asked: Reply | None = None

    @property
    def text(self) -> str:
        return self.incoming.text.strip()

    @property
    def folded(self) -> str:
        return " ".join(words(self.incoming.text))


class Dialogue(EmergencySteps):
    """Decides what to answer; never sends anything itself (replies go to the outbox)."""

    vocab: Vocabulary

    def __init__(self, policy: CasePolicy) -> None:
        self.policy = policy
        self.t = policy.texts
        self.vocab = Vocabulary(policy.texts)
        self.intents = Intents(policy.texts)
        self.followups = Followups(policy.texts)
        self.others = OtherProblems(self)
        self.reserved = community.reserved_words(policy.texts)  # never a project's keyword
        self.bursts = Bursts()  # per-sender counts, in this process's memory only
        self.strangers = Strangers()  # numbers with no row asking about codes, likewise
        self.pieces = CodePieces()  # who just sent a piece of a code, likewise
        self._steps: dict[str, Callable[[Turn], None]] = {
            "menu": self._on_menu,
            "describing": self._on_describing,
            "danger_check": self._on_danger_check,
            "confirm_class": self._on_confirm_class,
            "choose_type": self._on_choose_type,
            "choose_topic": self._on_choose_topic,
            "location": self._on_location,
            "anonymity": self._on_anonymity,
            "demographics": self._on_demographics,
            "await_folio": self._on_await_folio,
            "followup": self._on_followup,
            "confirm_erase": self._on_confirm_erase,
            "survey_resolved": self._on_survey_resolved,
            "survey_rating": self._on_survey_rating,
            "offer_other": self.others.on_offer,
        }

    def handle(
        self, incoming: Incoming, contact: Contact, message_id: int, uow: UnitOfWork, now: datetime
    ) -> list[Reply]:
        """Answer one incoming message and store where the conversation now stands."""
        state = uow.conversations.get(contact.id)
        turn = Turn(
            incoming,
            contact,
            message_id,
            uow,
            now,
            step=state.step if state else ("menu" if contact.consented_at else "new"),
            data=dict(state.data) if state else {},
            idle=now - state.updated_at if state else None,
            # A message naming a code is a question about an anonymous case (see kept_apart).
            confidential=self.kept_apart(incoming, now),
        )
        if turn.confidential:
            self._code_lookup(turn)
            if contact.consented_at is None or turn.step != "menu":
                # The conversation stays where it was, and so does the time of its last step:
                # nothing of the person's may be dated by the question.
                return turn.replies
        elif contact.consented_at is None:
            self._before_consent(turn)
        elif not self._global_command(turn):
            if "message_ids" in turn.data and message_id not in turn.data["message_ids"]:
                turn.data["message_ids"] = [*turn.data["message_ids"], message_id]
            self._steps.get(turn.step, self._on_menu)(turn)
        if turn.step in ("erased", "menu"):
            # At the menu nothing is pending; keeping no row also keeps no time of last activity
            # that could be matched with an anonymous report.
            uow.conversations.delete(contact.id)
        else:
            if turn.asked is not None:
                options = [[o.key, o.label] for o in turn.asked.options]
                turn.data["asked"] = {"text": turn.asked.text, "options": options}
            uow.conversations.save(contact.id, turn.step, turn.data, now)
        return turn.replies

    def absorb(
        self, incoming: Incoming, contact: Contact, message_id: int, uow: UnitOfWork, now: datetime
    ) -> None:
        """Keep a message sent too fast without answering it or moving the conversation on:
        a report being written gets its content, a case in follow-up gets it appended, before
        consent it waits with the rest; elsewhere it stays among the person's messages."""
        state = uow.conversations.get(contact.id)
        if state is None or self.kept_apart(incoming, now):
            return  # a question about an anonymous case joins nothing of the person's
        turn = Turn(incoming, contact, message_id, uow, now, state.step, dict(state.data), None)
        piece = self._draft_piece(turn)
        if turn.step == "consent":
            self._keep_as_pending(turn)
        elif turn.step == "describing":
            if self.vocab.is_control(turn.folded):
                piece["text"] = ""  # LISTO, OMITIR sent too fast: no word of the description
            if piece["text"] or piece["media"] or piece["location"]:
                self._add_piece(turn, piece)
        elif turn.step == "followup" and now < datetime.fromisoformat(turn.data["until"]):
            case_id = turn.data["case_id"]
            uow.messages.attach_to_case([message_id], case_id)
            text = "" if self.vocab.is_control(turn.folded) else piece["text"]
            uow.cases.append_details(case_id, text, piece["location"])
            return
        elif "message_ids" in turn.data and message_id not in turn.data["message_ids"]:
            turn.data["message_ids"] = [*turn.data["message_ids"], message_id]
        else:
            return
        uow.conversations.save(contact.id, turn.step, turn.data, now)

    def kept_apart(self, incoming: Incoming, now: datetime) -> bool:
        """Whether a citizen's message asks about an anonymous case (see `kept_apart`), the
        groups that complete a code sent in pieces just before included."""
        return kept_apart(incoming, self.code_groups_before(incoming, now))

    def code_groups_before(self, incoming: Incoming, now: datetime) -> int:
        """The groups of a code the sender's message just before held, when it was a piece."""
        return self.pieces.before((incoming.channel, incoming.address), now)

    # -- helpers ---------------------------------------------------------------------------

    def _say(
        self,
        turn: Turn,
        text: str,
        options: Sequence[Option] = (),
        case_id: int | None = None,
        confidential: bool = False,
        document: DocumentRef | None = None,
    ) -> None:
        channel, address = turn.incoming.channel, turn.incoming.address
        confidential = confidential or turn.confidential
        if confidential:
            case_id = None
        reply = Reply(
            channel, address, text, tuple(options), case_id, confidential, document=document
        )
        turn.replies.append(reply)

    def _ask(self, turn: Turn, text: str, options: Sequence[Option] = ()) -> None:
        """Say a question, and remember it so that AYUDA can ask it again."""
        self._say(turn, text, options)
        turn.asked = turn.replies[-1]

    def _privacy_notice(self) -> str:
        days = self.t.plural("amounts.days", self.policy.retention_days)
        return self.t("dialogue.privacy_notice", retention=days)

    def _options(self, prefix: str, names: Sequence[str]) -> list[Option]:
        return [Option(str(i), self.t(f"{prefix}{name}")) for i, name in enumerate(names, 1)]

    def _yes_no(self, yes_key: str, no_key: str) -> list[Option]:
        return [Option("1", self.t(yes_key)), Option("2", self.t(no_key))]

    def _show_menu(self, turn: Turn, intro_key: str = "dialogue.menu_intro") -> None:
        turn.step, turn.data = "menu", {}
        self._ask(turn, self.t(intro_key), self._options("dialogue.menu_", MENU))

    def _alert_staff(self, turn: Turn, event: Event, text: str, case_id: int | None) -> bool:
        """Queue a message to the staff the notification rules name for `event`; whether
        anyone is told."""
        alerts = staff_replies(event, turn.uow, self.policy, text, case_id=case_id)
        turn.replies.extend(alerts)
        return bool(alerts)

    # -- before consent --------------------------------------------------------------------

    def _before_consent(self, turn: Turn) -> None:
        t, inst = self.t, self.policy.institution
        consent = self._yes_no("dialogue.consent_yes", "dialogue.consent_no")
        if self._aside_before_consent(turn):
            if turn.step != "consent":
                turn.step, turn.data = "consent", {"pending": []}
                self._say(
                    turn,
                    t("dialogue.greeting", institution=inst.name, short_name=inst.short_name),
                )
                notice = self._privacy_notice()
                self._ask(turn, notice, consent)
            else:
                self._ask(turn, t("dialogue.consent_again"), consent)
            return
        follows = self._follow_request(turn)
        if turn.step != "consent":
            turn.step, turn.data = "consent", {"pending": []}
            if follows:
                turn.data["follow"] = follows
            else:
                self._keep_as_pending(turn)
            greeting = t("dialogue.greeting", institution=inst.name, short_name=inst.short_name)
            self._say(turn, greeting)
            self._warn_if_emergency(turn)
            notice = self._privacy_notice()
            self._ask(turn, notice, consent)
            return
        answer = self.vocab.answer(turn.folded)
        if answer is None and turn.folded.startswith("acepto"):
            answer = True
        if answer is True:
            turn.contact.consented_at = day_start(turn.now)
            pending = turn.data.get("pending", [])
            self._say(turn, t("dialogue.consent_thanks"))
            follow = turn.data.get("follow")
            joined = follow and community.follow(turn.uow, t, turn.contact, follow, turn.now)
            if joined and not pending:
                self._say(turn, joined)
                turn.step, turn.data = "menu", {}
                return
            if joined:
                self._say(turn, joined)
            if not pending:
                self._show_menu(turn)
                return
            told = turn.data.get("numbers_told", False)
            turn.step, turn.data = "describing", self._new_draft()
            # Told before the consent question: the emergency path does not repeat them.
            turn.data["numbers_told"] = told
            for piece in pending[:-1]:
                self._add_piece(turn, piece)
            self._take_piece(turn, pending[-1], first=len(pending) == 1)
        elif answer is False:
            # Without consent nothing is kept: what they wrote, and who they are.
            erase_personal_data(turn.uow, self.policy, turn.contact, turn.now)
            self._say(
                turn,
                t("dialogue.consent_refused", emergency_numbers=inst.emergency_numbers),
                confidential=True,
            )
            turn.step, turn.data = "erased", {}
        elif follows:
            turn.data["follow"] = follows
            self._ask(turn, t("dialogue.consent_again"), consent)
        else:
            self._keep_as_pending(turn)
            self._warn_if_emergency(turn)
            self._ask(turn, t("dialogue.consent_again"), consent)

    def _follow_request(self, turn: Turn) -> str | None:
        """Before consent: the keyword of an existing project the message asks to follow
        (followed once they accept: a subscription is personal data)."""
        request = community.read_request(turn.folded, self.vocab.leave)
        if request is None or request.leave or request.keyword in self.reserved:
            return None
        return request.keyword if turn.uow.community.by_keyword(request.keyword) else None

    def _open_case(self, turn: Turn) -> Any:
        """The case of the finished draft. An anonymous one makes every reply of the turn
        confidential, and its conversation leaves out following and leaving projects (see
        community.aside)."""
        anonymous = bool(turn.data.get("anonymous"))
        turn.confidential = anonymous
        aside = anonymous and community.aside(turn.uow, self.t, self.vocab.leave, self.reserved)
        return open_case(
            turn.uow,
            self.policy,
            contact=turn.contact,
            draft=turn.data,
            now=turn.now,
            aside=aside or None,
        )

    def _community(self, turn: Turn) -> bool:
        """A project's keyword (follow it) or BAJA (leave), outside a report being written;
        False for anything else, an unknown keyword included: the dialogue goes on."""
        if turn.step in DRAFT_STEPS or turn.step == "confirm_erase":
            return False
        request = community.read_request(turn.folded, self.vocab.leave)
        if request is None or request.keyword in self.reserved:
            return False
        uow, t, contact = turn.uow, self.t, turn.contact
        if request.leave:
            answer = community.leave(uow, t, contact, request.keyword)
        else:
            answer = community.follow(uow, t, contact, request.keyword, turn.now)
        if answer is None:
            return False
        self._say(turn, answer)
        turn.step, turn.data = "menu", {}
        return True

    def _visit_answer(self, turn: Turn) -> bool:
        """ "Sí"/"confirmo" or "otro día ..." from someone asked to confirm a field visit, outside
        a report being written (and, for a bare yes, outside the survey's questions)."""
        if turn.step in DRAFT_STEPS or turn.step == "confirm_erase":
            return False
        answer = self.vocab.visit_answer(turn.folded)
        if answer is None:
            return False
        confirm = answer
        if confirm and (turn.step.startswith("survey") or turn.step == "offer_other"):
            return False
        visit = turn.uow.visits.awaiting_answer(turn.contact.id or 0)
        if visit is None or (confirm and visit.status == "confirmed"):
            return False
        case = turn.uow.cases.get(visit.case_id)
        if case is None:
            return False
        replies = visits.citizen_answer(
            turn.uow, self.policy, visit, case, confirm, turn.text, turn.now
        )
        turn.replies.extend(replies)
        turn.step, turn.data = "menu", {}
        return True

    def _aside_before_consent(self, turn: Turn) -> bool:
        """MIS DATOS and AYUDA work before consent too (after an erasure as well): answered,
        and then the consent question follows."""
        folded = turn.folded
        if folded in self.vocab.my_data:
            data = personal_data(turn.uow, self.policy, turn.contact)
            self._say(turn, data, confidential=True)
        elif self.vocab.without_courtesy(folded) in self.vocab.help or turn.text == "?":
            self._say(turn, self.t("dialogue.help"))
        else:
            return False
        return True

    def _keep_as_pending(self, turn: Turn) -> None:
        """What tells the problem before consent is kept, to be used once they accept."""
        if self._starts_report(turn) and not self._is_command(turn):
            turn.data["pending"] = [*turn.data.get("pending", []), self._draft_piece(turn)]

    def _warn_if_emergency(self, turn: Turn) -> None:
        """The emergency numbers need no consent: they are told at once."""
        text = "\n".join(p["text"] for p in turn.data.get("pending", []) if p["text"])
        result = self.policy.classifier.classify(text) if text else None
        if turn.data.get("numbers_told"):
            return  # once is enough, however many messages come before the answer
        if result and (result.urgency == "emergencia" or needs_danger_check(text, result)):
            turn.data["numbers_told"] = True
            numbers = self.policy.institution.emergency_numbers
            self._say(turn, self.t("dialogue.emergency", emergency_numbers=numbers))

    def _is_command(self, turn: Turn) -> bool:
        folded, vocab = turn.folded, self.vocab
        commands = vocab.cancel | vocab.erase_data | vocab.my_data | vocab.status | vocab.help
        if vocab.document_request(folded) == "":
            return True
        return folded in commands or folded.startswith("estado ") or mentions_case(turn.text)

    def _starts_report(self, turn: Turn) -> bool:
        rest = self.vocab.without_courtesy(turn.folded)
        return is_substantive(rest) or bool(turn.incoming.media or turn.incoming.location)

    # -- anywhere --------------------------------------------------------------------------

    def _code_lookup(self, turn: Turn) -> None:
        """A message naming a code, in any step and before consent too: answered with the
        status (or the constancia) of the anonymous case, or that no case has that code; its
        words join no report, and the question asked before it is asked again."""
        if self._urgent(turn):
            numbers = self.policy.institution.emergency_numbers
            self._say(turn, self.t("dialogue.emergency", emergency_numbers=numbers))
        step, data = turn.step, turn.data
        if not names_code(turn.text):
            self._rest_of_a_code(turn)
        elif self._asks_document(turn):
            self._document(turn)
        else:
            self._status(turn, turn.text)
        if step != "await_folio":  # which the lookup answers
            # The conversation stays where it was: a report, an emergency's follow-up, a survey.
            turn.step, turn.data = step, data
            if step == "consent":
                consent = self._yes_no("dialogue.consent_yes", "dialogue.consent_no")
                self._say(turn, self.t("dialogue.consent_again"), consent)

    def _rest_of_a_code(self, turn: Turn) -> None:
        """Only the groups that complete a code sent in pieces ("N9DX-8QAB", then "TTTT"):
        answered as its first piece was, a code not found, and counted as a miss."""
        if lookups_refused(turn.contact, turn.now):
            self._say(turn, self.t("dialogue.status_refused"))
        else:
            count_miss(turn.contact, turn.now)
            self._say(turn, self.t("dialogue.status_code_not_found"))
        self._back_to_where_we_were(turn)

    def _global_command(self, turn: Turn) -> bool:
        """Commands that work at any step: menu, a case's status, help, one's own data."""
        folded, vocab = turn.folded, self.vocab
        if folded in vocab.cancel or (self.intents.cancels(folded) and not self._urgent(turn)):
            if turn.data.get("parts") or turn.data.get("media"):
                self._say(turn, self.t("dialogue.cancelled"))
            self._show_menu(turn)
        elif folded in vocab.erase_data:
            # What they were doing is kept, in case they answer no.
            turn.data = {"resume": {"step": turn.step, "data": turn.data}}
            turn.step = "confirm_erase"
            options = self._yes_no("privacy.erase_yes", "privacy.erase_no")
            self._ask(turn, self.t("privacy.erase_confirm"), options)
        elif folded in vocab.my_data:
            data = personal_data(turn.uow, self.policy, turn.contact)
            self._say(turn, data, confidential=True)
            self._back_to_where_we_were(turn)
        elif self._visit_answer(turn) or self._community(turn):
            pass
        elif self._asks_document(turn):
            self._document(turn)
        elif folded in vocab.status or self._asks_status(turn):
            self._status(turn, turn.text)
        elif self.intents.wants_person(folded) and not self._urgent(turn):
            self._hand_over(turn)
            self._back_to_where_we_were(turn)
        elif vocab.without_courtesy(folded) in vocab.help or turn.text == "?":
            self._say(turn, self.t("dialogue.help"))
            if turn.step in ("menu", "await_folio") or not self._ask_again(turn):
                self._show_menu(turn)
        else:
            return False
        return True

    def _urgent(self, turn: Turn) -> bool:
        """Whether a sentence read as a request (a person, a cancel, a status) tells of an
        emergency instead: that is acted on as one."""
        return self.policy.classifier.classify(turn.text).urgency == "emergencia"

    def _asks_status(self, turn: Turn) -> bool:
        if not mentions_case(turn.text) and not turn.folded.startswith("estado "):
            return False
        if turn.folded.startswith("estado "):
            return True
        return turn.step not in DRAFT_STEPS and len(turn.folded.split()) <= 4

    def _back_to_where_we_were(self, turn: Turn) -> None:
        """After an aside, ask the pending question of a report again, or rest at the menu."""
        if turn.step not in DRAFT_STEPS:
            turn.step, turn.data = "menu", {}
        elif turn.data.get("asked"):
            self._say(turn, self.t("dialogue.draft_kept"))
            self._ask_again(turn)

    def _ask_again(self, turn: Turn) -> bool:
        """Repeat the last question asked, if there is one."""
        asked = turn.data.get("asked")
        if asked:
            self._say(turn, asked["text"], [Option(k, v) for k, v in asked["options"]])
        return bool(asked)

    def _status(self, turn: Turn, reference: str) -> None:
        t = self.t
        looks_up = mentions_case(reference) or re.search(r"\d", reference)
        if looks_up and lookups_refused(turn.contact, turn.now):
            self._say(turn, t("dialogue.status_refused"))
            self._back_to_where_we_were(turn)
            return
        number = re.fullmatch(r"(?:estado\s+)?0*(\d{1,8})", fold(reference).strip())
        if number:
            # "estado 2" or just "2" at the folio question: one of their own, by its number.
            own = [
                c
                for c in turn.uow.cases.for_contact(turn.contact.id)
                if int(c.folio.rsplit("-", 1)[1]) == int(number[1])
            ]
            reference = own[-1].folio if own else reference
        found = find_own_case(turn.uow, self.policy, turn.contact, reference)
        if found:
            case, shown_as = found
            # Found as anonymous only by its code: the question is kept apart (kept_apart).
            self._say(turn, render_status(turn.uow, self.policy, case, shown_as), case_id=case.id)
        elif looks_up:
            self._missed(turn)
            self._say(turn, self._not_found(turn))
        else:
            self._list_own_cases(turn)
            return
        self._back_to_where_we_were(turn)

    def _missed(self, turn: Turn) -> None:
        """A folio or code that is not theirs or does not exist. A code (mistyped, say) or a
        folio of the anonymous range is kept as "estado CODE" is: only someone who made an
        anonymous denuncia asks about one, so the question must not stay with their number. A
        folio of that range counts no miss (no such folio is ever found by its number: trying
        them tells nothing); a code does (codes must not be tried by the thousand)."""
        code = names_code(turn.text)
        if in_anonymous_range(turn.text) and not code:
            turn.confidential = True
            detach_message(turn.uow, self.policy, turn.message_id, turn.now)
        if code or not in_anonymous_range(turn.text):
            count_miss(turn.contact, turn.now)

    def _not_found(self, turn: Turn) -> str:
        """What a folio or code that finds nothing is answered. A code speaks of codes: whoever
        holds one made an anonymous denuncia, which is nobody's "own" case and has no folio."""
        if names_code(turn.text) and not FOLIO_PATTERN.search(turn.text):
            return self.t("dialogue.status_code_not_found")
        return self.t("dialogue.status_not_found", example=self.policy.example_folio(turn.now))

    def _asks_document(self, turn: Turn) -> bool:
        """ "constancia", or "constancia" and a folio or code (nothing else after it)."""
        rest = self.vocab.document_request(turn.folded)
        if rest is None:
            return False
        return rest == "" or (mentions_case(turn.text) and len(rest.split()) <= 4)

    def _document(self, turn: Turn) -> None:
        """The constancia de recepción of the case named (by folio their own, by code an
        anonymous one), or of their latest case, as a PDF after a line that says so."""
        t = self.t
        named = mentions_case(turn.text)
        if named and lookups_refused(turn.contact, turn.now):
            self._say(turn, t("dialogue.status_refused"))
            self._back_to_where_we_were(turn)
            return
        if named:
            found = find_own_case(turn.uow, self.policy, turn.contact, turn.text)
            if found is None:
                self._missed(turn)
                self._say(turn, self._not_found(turn))
                self._back_to_where_we_were(turn)
                return
            case, intro = found[0], t("documents.sending")
        else:
            own = [c for c in turn.uow.cases.for_contact(turn.contact.id) if not c.anonymous]
            if not own:
                self._say(turn, t("documents.no_cases"))
                self._back_to_where_we_were(turn)
                return
            case = own[-1]
            several = len(own) > 1
            intro = t("documents.sending_other", folio=case.folio) if several else ""
            intro = intro or t("documents.sending")
        # An anonymous case is found only by its code: the question is kept apart (kept_apart).
        self._say(turn, intro, case_id=case.id)
        self._send_document(turn, CONSTANCIA, case)
        self._back_to_where_we_were(turn)

    def _send_document(self, turn: Turn, kind: str, case: Any) -> None:
        """A document of the case as a file, with its caption."""
        ref = DocumentRef(kind, case.id)
        self._say(turn, caption(self.policy, kind, case), case_id=case.id, document=ref)

    def _list_own_cases(self, turn: Turn, cases: Sequence[Any] | None = None) -> None:
        t = self.t
        asked_which = cases is not None
        if cases is None:
            cases = turn.uow.cases.for_contact(turn.contact.id)
        cases = list(cases)[-10:]
        # Numbered when the person is then asked to answer with the number; in the middle of a
        # report (which goes on after the list) a number would answer the report's question.
        numbered = turn.step not in DRAFT_STEPS
        if cases:
            lines = [t("dialogue.status_which" if asked_which else "dialogue.status_your_cases")]
            lines += [
                t(
                    "dialogue.status_case_numbered" if numbered else "dialogue.status_case_line",
                    number=position,
                    folio=c.folio,
                    type=t(f"labels.type.{c.type}"),
                    status=t(f"labels.status.{c.status}"),
                )
                for position, c in enumerate(cases, start=1)
            ]
            self._say(turn, "\n".join(lines))
        else:
            self._say(turn, t("dialogue.status_no_cases"))
        if turn.step in DRAFT_STEPS:
            self._back_to_where_we_were(turn)
            return
        turn.step, turn.data = "await_folio", {"listed": [c.folio for c in cases]}
        ask = t("dialogue.status_ask", example=self.policy.example_folio(turn.now))
        self._ask(turn, t("dialogue.status_ask_listed") if cases else ask)

    def _on_confirm_erase(self, turn: Turn) -> None:
        if self.vocab.answer(turn.folded) is True:
            erase_personal_data(turn.uow, self.policy, turn.contact, turn.now)
            self._say(turn, self.t("privacy.erased"), confidential=True)
            turn.step, turn.data = "erased", {}
            return
        self._say(turn, self.t("privacy.erase_kept"))
        resume = turn.data.get("resume", {})
        turn.step, turn.data = resume.get("step", "menu"), resume.get("data", {})
        if turn.step in DRAFT_STEPS:
            self._back_to_where_we_were(turn)
        else:
            self._show_menu(turn)

    # -- menu ------------------------------------------------------------------------------

    def _on_menu(self, turn: Turn) -> None:
        folded = turn.folded
        choice = self._menu_choice(folded)
        turn.step = "menu"
        if self._answers_status_question(turn):
            pass
        elif choice == "report":
            turn.step, turn.data = "describing", self._new_draft(turn.message_id)
            self._ask(turn, self.t("dialogue.describe_prompt"))
        elif choice == "status":
            self._list_own_cases(turn)
        elif choice == "person":
            self._hand_over(turn)
        elif choice == "info":
            inst = self.policy.institution
            self._say(
                turn,
                self.t(
                    "dialogue.information",
                    institution=inst.name,
                    consulta=self.t.plural("amounts.days", self.policy.deadline_days["consulta"]),
                    solicitud=self.t.plural("amounts.days", self.policy.deadline_days["solicitud"]),
                    emergency_numbers=inst.emergency_numbers,
                ),
            )
            self._show_menu(turn)
        elif self._answers_out_of_scope(turn):
            pass
        elif self._starts_report(turn):
            turn.step, turn.data = "describing", self._new_draft(turn.message_id)
            self._take_piece(turn, self._draft_piece(turn), first=True)
        elif folded in self.vocab.thanks:
            self._say(turn, self.t("dialogue.thanks"))
        elif self.vocab.without_courtesy(folded) == "":  # a greeting, or nothing at all
            self._show_menu(turn)
        else:
            self._show_menu(turn, "dialogue.menu_hint")

    def _answers_status_question(self, turn: Turn) -> bool:
        """ "como va lo del puente?" from someone with cases: the status of the one meant, or
        the question which one when several may be."""
        if not self.followups.asks_about_a_case(turn.folded) or self._urgent(turn):
            return False
        own = [c for c in turn.uow.cases.for_contact(turn.contact.id) if not c.anonymous]
        if not own:
            return False
        meant = self.followups.cases_meant(turn.folded, own, self.policy.topic_label)
        if len(meant) == 1:
            self._status(turn, meant[0].folio)
        else:
            self._list_own_cases(turn, meant)
        return True

    def _menu_choice(self, folded: str) -> str | None:
        """The option meant: its number, its words, or one of them in a short request
        ("quiero hablar con un humano")."""
        tokens = self.vocab.without_courtesy(folded).split()
        for i, name in enumerate(MENU, 1):
            said = self.vocab.menu[name] | {fold(self.t(f"dialogue.menu_{name}"))}
            if folded == str(i) or folded in said:
                return name
            if 0 < len(tokens) <= 5 and any(word in said for word in tokens):
                return name
        return None

    def _hand_over(self, turn: Turn) -> None:
        """Someone asks for a person: the staff on duty are told, if there are any, and their
        latest open case keeps the request in its (internal) history."""
        channel = self.t(f"labels.channel.{turn.contact.channel}")
        case = latest_open_case(turn.uow, turn.contact)
        if case is not None:
            text = self.t(
                "staff.handoff_case", folio=case.folio, contact_id=turn.contact.id, channel=channel
            )
            record_event(
                turn.uow, case, turn.now, actor="ciudadano", kind="handoff_requested", public=False
            )
        else:
            text = self.t("staff.handoff", contact_id=turn.contact.id, channel=channel)
        if self._alert_staff(turn, Event.HANDOFF, text, case.id if case else None):
            self._say(turn, self.t("dialogue.person"))
        else:
            numbers = self.policy.institution.emergency_numbers
            self._say(turn, self.t("dialogue.person_nobody", emergency_numbers=numbers))

    # -- description -----------------------------------------------------------------------

    @staticmethod
    def _new_draft(opened_by: int | None = None) -> dict:
        """An empty draft; `opened_by`, the message that started it (a menu choice, the first
        words of a report): an anonymous case takes the conversation from there on, not the
        greeting and consent before it (see detach_conversation)."""
        draft: dict = {"parts": [], "message_ids": [], "media": 0, "location": None}
        if opened_by is not None:
            draft["opened_by"] = opened_by
        return draft

    def _draft_piece(self, turn: Turn) -> dict:
        """What one message adds to a description, as plain data."""
        location = turn.incoming.location
        return {
            "text": mask_codes(turn.text) if looks_like_words(turn.text) else "",
            "message_id": turn.message_id,
            "media": len(turn.incoming.media),
            "location": None
            if location is None
            else {
                "latitude": location.latitude,
                "longitude": location.longitude,
                "address": (location.address or location.label or "")[:MAX_LOCATION] or None,
            },
        }

    @staticmethod
    def _add_piece(turn: Turn, piece: dict) -> None:
        data = turn.data
        written = sum(len(part) + 1 for part in data["parts"])
        if piece["text"] and written < MAX_DESCRIPTION:
            data["parts"] = [*data["parts"], piece["text"][: MAX_DESCRIPTION - written]]
        if piece["message_id"] not in data["message_ids"]:
            data["message_ids"] = [*data["message_ids"], piece["message_id"]]
        data["media"] += piece["media"]
        if piece["location"]:
            data["location"] = piece["location"]

    def _on_describing(self, turn: Turn) -> None:
        t, data = self.t, turn.data
        has_content = bool(data["parts"] or data["media"])
        if self.vocab.finishes(turn.folded):
            if has_content:
                self._classify(turn)
            else:
                self._say(turn, t("dialogue.describe_empty"))
            return
        if self._only_steers(turn):
            # "omitir", "no, gracias" (nothing more to add) finish it as LISTO does; "ok", "sí"
            # hear the reminder again. None of them is a word of the report.
            said = self.vocab.without_courtesy(turn.folded)
            skips = said in self.vocab.skip or said in self.vocab.no
            if has_content and skips:
                self._classify(turn)
            elif has_content:
                self._say(turn, t("dialogue.describe_ack"))
            else:
                # Nothing told yet: skipping is not possible (and saying so beats a bare
                # "tell us what happens"); leaving is.
                key = "dialogue.describe_cannot_skip" if skips else "dialogue.describe_empty"
                self._say(turn, t(key))
            return
        piece = self._draft_piece(turn)
        if not (piece["text"] or piece["media"] or piece["location"]):
            self._say(turn, t("dialogue.describe_unreadable"))
            return
        if has_content and piece["text"] and self.intents.corrects(turn.folded):
            # Said as a correction, kept as one: the description does not hold both as true.
            fixed = self.intents.correction_text(piece["text"])
            self._add_piece(turn, {**piece, "text": t("dialogue.correction_part", text=fixed)})
            self._say(turn, t("dialogue.correction_ack"))
            return
        if has_content and turn.idle is not None and turn.idle >= DESCRIPTION_PAUSE:
            # They stopped for a while and came back: this completes the description.
            self._add_piece(turn, piece)
            self._classify(turn)
            return
        self._take_piece(turn, piece, first=not has_content)

    def _only_steers(self, turn: Turn) -> bool:
        """Whether the message is nothing but a control word (finishing, skipping, yes, no),
        with no photo or pin: no part of a description."""
        incoming = turn.incoming
        return not (incoming.media or incoming.location) and self.vocab.is_control(turn.folded)

    def _take_piece(self, turn: Turn, piece: dict, *, first: bool) -> None:
        """Add to the description; an emergency is acted on at once, anything else acknowledged."""
        self._add_piece(turn, piece)
        text = "\n".join(turn.data["parts"])
        if piece["text"] and self.policy.classifier.classify(text).urgency == "emergencia":
            self._classify(turn)
        elif piece["text"] and self._asks_danger(turn, text):
            pass
        elif piece["text"]:
            self._say(
                turn, self.t("dialogue.describe_first_ack" if first else "dialogue.describe_ack")
            )
        elif piece["media"]:
            self._say(turn, self.t("dialogue.describe_media_ack"))
        else:
            self._say(turn, self.t("dialogue.describe_location_ack"))

    def _classify(self, turn: Turn) -> None:
        text = "\n".join(turn.data["parts"])
        if self._asks_danger(turn, text, done=True):
            return
        assessed = self._assess(turn, text)
        if self._says_nothing(turn, assessed):
            return
        result = assessed.classification
        if result.urgency != "emergencia":
            self.others.notice(turn, result.topic)
        turn.data.update(
            type=result.type,
            topic=self.policy.known_topic(result.topic),
            urgency=result.urgency,
            confidence=round(result.confidence, 3),
        )
        if result.urgency == "emergencia":
            if result.type == "denuncia":
                # No time to ask: a denuncia in an emergency is filed anonymously, to protect
                # whoever makes it.
                turn.data["anonymous"] = turn.confidential = True
            if not turn.data.get("numbers_told"):
                numbers = self.policy.institution.emergency_numbers
                self._say(turn, self.t("dialogue.emergency", emergency_numbers=numbers))
            self._open_emergency(turn)
        elif result.confidence < self.policy.confidence_threshold:
            self._refer(turn, assessed)
            self._ask_type(turn)
        else:
            self._refer(turn, assessed)
            turn.step = "confirm_class"
            self._ask_confirmation(turn)

    def _ask_confirmation(self, turn: Turn) -> None:
        text = self.t(
            "dialogue.classification",
            article=self.t(f"labels.type_article.{turn.data['type']}"),
            type=self.t(f"labels.type.{turn.data['type']}"),
            topic=self.policy.topic_label(turn.data["topic"]),
        )
        self._ask(
            turn, text, self._yes_no("dialogue.classification_yes", "dialogue.classification_no")
        )

    def _ask_type(self, turn: Turn, again: bool = False) -> None:
        turn.step = "choose_type"
        key = "dialogue.choose_type_again" if again else "dialogue.choose_type"
        self._ask(
            turn, self.t(key, count=len(CASE_TYPES)), self._options("labels.type_hint.", CASE_TYPES)
        )

    def _on_confirm_class(self, turn: Turn) -> None:
        answer = self.vocab.answer(turn.folded)
        if answer is True:
            self._after_classification(turn)
        elif answer is False:
            turn.data["corrected"] = True  # the person's own labels: the model learns from them
            self._ask_type(turn)
        else:
            self._say(
                turn,
                self.t("dialogue.classification_again"),
                self._yes_no("dialogue.classification_yes", "dialogue.classification_no"),
            )

    def _pick(self, turn: Turn, names: Sequence[str]) -> str | None:
        folded = turn.folded
        if folded.isdigit() and 1 <= int(folded) <= len(names):
            return names[int(folded) - 1]
        for name in names:
            if folded in (name, fold(name.replace("_", " ")), fold(self.policy.topic_label(name))):
                return name
        return None

    def _on_choose_type(self, turn: Turn) -> None:
        picked = self._pick(turn, CASE_TYPES)
        if picked is None:
            self._ask_type(turn, again=True)
            return
        turn.data.update(type=picked, confidence=1.0)
        turn.step = "choose_topic"
        self._ask(turn, self.t("dialogue.choose_topic"), self._topic_options())

    def _topic_options(self) -> list[Option]:
        topics = self.policy.topics
        return [Option(str(i), self.policy.topic_label(name)) for i, name in enumerate(topics, 1)]

    def _on_choose_topic(self, turn: Turn) -> None:
        picked = self._pick(turn, self.policy.topics)
        if picked is None:
            text = self.t("dialogue.choose_topic_again", count=len(self.policy.topics))
            self._say(turn, text, self._topic_options())
            return
        turn.data["topic"] = picked
        self._after_classification(turn)

    # -- location, anonymity, statistics ---------------------------------------------------

    def _after_classification(self, turn: Turn) -> None:
        if turn.data.get("location"):
            self._after_location(turn)  # a pin shared while describing answers the question
        else:
            turn.step = "location"
            self._ask(turn, self.t("dialogue.location_prompt"))

    def _on_location(self, turn: Turn) -> None:
        if turn.incoming.location is not None:
            self._add_piece(turn, {**self._draft_piece(turn), "text": ""})
        elif self.vocab.without_courtesy(turn.folded) in self.vocab.skip | self.vocab.done:
            pass  # "omitir", or "listo": no place given, and none made of those words
        elif not without_not_knowing(turn.text):
            pass  # "no sé" alone: no place either (the message stays in the history)
        elif looks_like_words(turn.text):
            turn.data["location_text"] = turn.text[:MAX_LOCATION]
            turn.data["municipality"] = place_as_written(turn.text)
        else:
            self._say(turn, self.t("dialogue.location_again"))
            return
        self._after_location(turn)

    def _after_location(self, turn: Turn) -> None:
        if turn.data["type"] == "denuncia":
            self._offer_anonymity(turn)
        else:
            self._ask_demographics_or_finish(turn)

    def _offer_anonymity(self, turn: Turn) -> None:
        turn.step = "anonymity"
        options = self._yes_no("dialogue.anonymity_yes", "dialogue.anonymity_no")
        self._ask(turn, self.t("dialogue.anonymity_offer"), options)

    def _on_anonymity(self, turn: Turn) -> None:
        answer = self.vocab.answer(turn.folded, yes=self.vocab.anonymous, no=self.vocab.named)
        if answer is None:
            options = self._yes_no("dialogue.anonymity_yes", "dialogue.anonymity_no")
            self._ask(turn, self.t("dialogue.anonymity_again"), options)
            return
        turn.data["anonymous"] = answer
        if answer:
            self._finish(turn)
        else:
            self._ask_demographics_or_finish(turn)

    def _ask_demographics_or_finish(self, turn: Turn) -> None:
        if turn.contact.gender is not None:
            self._finish(turn)
            return
        turn.step = "demographics"
        options = self._options("dialogue.gender_", GENDERS)
        self._ask(turn, self.t("dialogue.demographics_prompt"), options)

    def _on_demographics(self, turn: Turn) -> None:
        parsed = parse_demographics(turn.folded, self.vocab)
        if parsed is None:
            self._say(turn, self.t("dialogue.demographics_again"))
        elif parsed == "bad_age":
            self._say(turn, self.t("dialogue.demographics_bad_age"))
        else:
            turn.contact.gender, turn.contact.age = parsed  # type: ignore[str-unpack, assignment]
            # Asked «solo para estadísticas»: what was given is kept as the contact's figures,
            # not as a line of the case's history that staff read («omitir» stays as it was).
            if parsed != ("sin_dato", None):
                kept = self.t("dialogue.demographics_kept")
                turn.uow.messages.replace_body(turn.message_id, kept)
            self._finish(turn)

    # -- the case --------------------------------------------------------------------------

    def _finish(self, turn: Turn) -> None:
        opened = self._open_case(turn)
        if turn.data.get("corrected"):
            learn_from_case(turn.uow, self.policy, opened.case, source=CITIZEN, now=turn.now)
        self._receipt(turn, opened.case, opened.secret_code)
        if self.policy.written_filing:
            suffix = "_anonymous" if opened.case.anonymous else ""
            self._say(turn, self.t(f"documents.solicitud_sending{suffix}"))
            self._send_document(turn, SOLICITUD, opened.case)
        turn.replies.extend(new_case_cards(turn.uow, self.policy, opened.case))
        draft = turn.data
        turn.step, turn.data = "menu", {}
        self.others.offer(turn, draft)

    def _receipt(
        self, turn: Turn, case: Any, secret_code: str | None, alerted: bool = False
    ) -> None:
        t = self.t
        # An anonymous case keeps only its day; the person is told the hour all the same (the
        # receipt is not stored).
        values = dict(
            received=self.policy.local_time(turn.now if case.anonymous else case.created_at),
            channel=t(f"labels.channel.{case.channel}"),
            type=t(f"labels.type.{case.type}"),
            topic=self.policy.topic_label(case.topic),
            due=self.policy.local_day(case.due_at),
            days=t.plural("amounts.business_days", case.deadline_days),
        )
        if case.urgency == "emergencia":
            # No deadline of days is promised for an emergency: staff were alerted, or the
            # person is told that nobody was, and whom to call.
            numbers = self.policy.institution.emergency_numbers
            values["alerted"] = (
                t("dialogue.receipt_emergency_alerted")
                if alerted
                else t("dialogue.receipt_emergency_unalerted", emergency_numbers=numbers)
            )
        if secret_code:
            key = (
                "receipt_emergency_anonymous"
                if case.urgency == "emergencia"
                else "receipt_anonymous"
            )
            text = t(f"dialogue.{key}", code=secret_code, **values)
            self._say(turn, text, confidential=True)
        else:
            key = "receipt_emergency" if case.urgency == "emergencia" else "receipt"
            self._say(turn, t(f"dialogue.{key}", folio=case.folio, **values), case_id=case.id)

    def _open_emergency(self, turn: Turn) -> None:
        """Emergencies skip the remaining questions: the case now, and the staff alerted now."""
        opened = self._open_case(turn)
        case = opened.case
        t = self.t
        alert = t(
            "staff.emergency_alert",
            folio=case.folio,
            topic=self.policy.topic_label(case.topic),
            location=case.location_text
            or pin_words(self.policy, case, link=True)
            or t("staff.emergency_no_location"),
            description=case.description[:500],
        )
        alerted = self._alert_staff(turn, Event.EMERGENCY, alert, case.id)
        kind = "emergency_alert" if alerted else "emergency_unalerted"
        # An anonymous case's alert is dated by its day, as the case (see open_case).
        at = self.policy.day_of(turn.now) if case.anonymous else turn.now
        record_event(
            turn.uow, case, at, actor="sistema", kind=kind, public=alerted, detached=case.anonymous
        )
        self._receipt(turn, case, opened.secret_code, alerted)
        turn.replies.extend(new_case_cards(turn.uow, self.policy, case))
        if case.anonymous:
            turn.step, turn.data = "menu", {}
        else:
            until = (turn.now + FOLLOWUP_WINDOW).isoformat()
            turn.step, turn.data = (
                "followup",
                {"case_id": case.id, "folio": case.folio, "until": until},
            )
            self._ask_where(turn, case)

    def _on_survey_resolved(self, turn: Turn) -> None:
        """After closure: was the case resolved? Anything else leaves the survey."""
        resolved = self.vocab.answer(turn.folded)
        case = turn.uow.cases.get(turn.data["case_id"])
        if resolved is None or case is None:
            turn.step, turn.data = "menu", {}
            self._on_menu(turn)
            return
        case.survey_resolved = resolved
        turn.uow.cases.add(case)
        turn.step = "survey_rating"
        options = [Option(str(n), self.t(f"survey.rating_{n}")) for n in range(1, 6)]
        self._ask(turn, self.t("survey.rating"), options)

    def _on_survey_rating(self, turn: Turn) -> None:
        """A rating from 1 to 5; anything else leaves the survey."""
        rating = re.fullmatch(r"([1-5])(?: estrellas?)?", turn.folded)
        case = turn.uow.cases.get(turn.data["case_id"])
        turn.step, turn.data = "menu", {}
        if rating is None or case is None:
            self._on_menu(turn)
            return
        case.survey_rating = int(rating[1])
        turn.uow.cases.add(case)
        self._say(turn, self.t("survey.thanks"))

    def _on_await_folio(self, turn: Turn) -> None:
        folded = turn.folded
        picked = self.followups.pick(folded, turn.data.get("listed", []))
        if picked is None and turn.data.get("listed"):
            own = turn.uow.cases.for_contact(turn.contact.id)
            case = self.followups.by_number(folded, own)
            picked = case.folio if case is not None else None
        if picked is not None:
            self._status(turn, picked)
        elif folded in {str(i) for i in range(1, len(MENU) + 1)}:
            self._on_menu(turn)
        elif mentions_case(turn.text) or re.search(r"\d", turn.text):
            self._status(turn, turn.text)
        else:
            self._on_menu(turn)


def kept_apart(incoming: Incoming, before: int = 0) -> bool:
    """Whether a citizen's message names something shaped like an anonymous case's code. Only
    someone who made an anonymous denuncia writes one, so wherever it comes (before consent, in
    a report, at a menu, after an emergency) it is a question about that case: answered in
    confidence and stored with no sender, no provider id and only its day (intake.receive).
    `before`: groups of a code sent in pieces just before (see cases.piece_groups)."""
    return names_code(incoming.text, before)


def parse_demographics(folded: str, vocab: Vocabulary) -> tuple[str, int | None] | str | None:
    """Gender and age from "mujer 34", "2", "34" or "omitir"; "bad_age" for an impossible age;
    None when nothing can be read."""
    if folded in vocab.skip:
        return "sin_dato", None
    if folded in {"1", "2", "3"}:
        return GENDERS[int(folded) - 1], None
    tokens = folded.split()
    gender = next(
        (
            name
            for name, said in vocab.genders.items()
            if any(p in said for p in tokens) or any(f" {p} " in f" {folded} " for p in said)
        ),
        None,
    )
    numbers = [int(n) for n in re.findall(r"\b\d{1,3}\b", folded)]
    if numbers and not 10 <= numbers[0] <= 110:
        return "bad_age"
    age = numbers[0] if numbers else None
    if gender is None and age is None:
        return None
    return gender or "sin_dato", age
