"""Staff commands in a chat (Telegram staff chat or private chat, a staff WhatsApp number):
parse, act through `casework`, answer with cards."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.casework import actions as casework
from handlers.casework import commitments, visits
from handlers.casework.cases import direction, event_summary, message_text
from handlers.casework.lifecycle import ROLES, Actor, NotAllowed
from handlers.casework.notifications import Event, staff_replies
from handlers.casework.places import describe_place, pin_words, placed_words, set_place
from handlers.core.labels import CASE_TYPES, OPEN_STATUSES, STATUSES, URGENCIES, staff_label
from handlers.core.messages import Incoming, Option, Reply
from handlers.core.normalise import fold, strip_controls
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case, Staff

MAX_CALLBACK = 64  # bytes of a Telegram button's data
QUEUE_LENGTH = 15
BUTTON = re.compile(r"^(tomar|asignar|urgente|descartar|caso):(\S{1,40})$")
FILTERS = {"estado": "status", "tipo": "type", "tema": "topic", "municipio": "municipality"}


@dataclass(frozen=True)
class Command:
    """A parsed staff command: its name (without the slash) and the rest of the line."""

    name: str
    args: str


def parse_command(text: str) -> Command | None:
    """`/tomar TA-2026-000001`, `/cola@bot estado=recibido` or a card button's `tomar:FOLIO`."""
    text = text.strip()
    button = BUTTON.match(text)
    if button:
        return Command(button[1], button[2])
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = f"{more} {rest}".strip()
    return Command(head.partition("@")[0].lower(), rest.strip())


def is_staff_command(text: str) -> bool:
    """Whether a message from a staff member is meant for the staff desk."""
    return parse_command(text) is not None


def actor_of(member: Staff) -> Actor:
    return Actor(member.name, member.role, member.id)


def button(key: str, label: str) -> Option:
    """A card button; its data must fit Telegram's 64 bytes."""
    if len(key.encode()) > MAX_CALLBACK:
        raise ValueError(key)
    return Option(key, label)


def case_card(uow: UnitOfWork, policy: CasePolicy, case: Case, *, heading: str = "") -> str:
    """A case in a few lines for a chat; an anonymous reporter's identity never appears."""
    t = policy.texts
    assignee = uow.staff.get(case.assignee_id) if case.assignee_id else None
    lines = [heading] if heading else []
    lines.append(
        t(
            "staff.card",
            folio=case.folio,
            type=staff_label(t, "type", case.type),
            topic=policy.topic_label(case.topic),
            status=staff_label(t, "status", case.status),
            urgency=staff_label(t, "urgency", case.urgency),
            due=policy.local_day(case.due_at),
            assignee=assignee.name if assignee else t("staff.nobody"),
        )
    )
    if case.prioritised:
        lines.append(t("staff.card_prioritised"))
    if case.affects_women:
        lines.append(t("staff.card_women"))
    if case.paused_at is not None:
        lines.append(t("staff.card_paused"))
    if case.anonymous:
        lines.append(t("staff.card_anonymous"))
    if case.municipality or case.location_text or case.latitude is not None:
        place = case.location_text or pin_words(policy, case) or ""
        if case.municipality and fold(case.municipality) not in fold(place):
            place = f"{place} · {describe_place(case)}" if place else describe_place(case)
        lines.append(t("staff.card_place", place=place))
    lines.append(case.description[:300])
    return strip_controls("\n".join(lines))


def card_buttons(policy: CasePolicy, case: Case) -> tuple[Option, ...]:
    """A card's buttons: [Tomar] only while nobody has the case."""
    t = policy.texts
    names: tuple[str, ...] = ("asignar", "urgente", "descartar")
    if case.assignee_id is None:
        names = ("tomar", *names)
    return tuple(button(f"{name}:{case.folio}", t(f"staff.button_{name}")) for name in names)


def reply_done(uow: UnitOfWork, policy: CasePolicy, case: Case) -> str:
    """What staff are told once they replied: sent, kept for the anonymous reporter, or (no chat)
    not sent to anyone and noted as a call to make."""
    t = policy.texts
    if case.anonymous:
        return t("staff.done_reply_anonymous", folio=case.folio)
    if casework.has_chat(uow, case):
        return t("staff.done_reply", folio=case.folio)
    return casework.reach_reporter(
        uow, policy, case, "staff.done_reply_no_address", "staff.done_reply_no_address_no_number"
    )


def close_done(uow: UnitOfWork, policy: CasePolicy, case: Case) -> str | None:
    """What staff are told once they closed a case nobody could be told of by chat (a call, a
    walk-in): that nobody was, and how to tell them; None when the closing reached them."""
    if case.anonymous or casework.has_chat(uow, case):
        return None
    return casework.reach_reporter(
        uow, policy, case, "staff.done_close_no_address", "staff.done_close_no_address_no_number"
    )


def new_case_cards(uow: UnitOfWork, policy: CasePolicy, case: Case) -> list[Reply]:
    """The card of a new case for the staff the notification rules name (the staff chat)."""
    text = case_card(uow, policy, case, heading=policy.texts("staff.new_case"))
    buttons = card_buttons(policy, case)
    return staff_replies(Event.NEW_CASE, uow, policy, text, case_id=case.id, options=buttons)


class StaffDesk:
    """Answers staff commands; never sends (replies go to the outbox)."""

    def __init__(self, policy: CasePolicy) -> None:
        self.policy = policy
        self.t = policy.texts
        self._commands: dict[str, Callable[[_Turn, str], None]] = {
            "ayuda": self._help,
            "start": self._help,
            "cola": self._queue,
            "caso": self._show,
            "tomar": self._take,
            "asignar": self._assign,
            "estado": self._status,
            "responder": self._reply,
            "responder_cerrado": self._reply_closed,
            "nota": self._note,
            "reclasificar": self._reclassify,
            "lugar": self._place,
            "prioridad": self._priority,
            "urgente": self._urgent,
            "remitir": self._refer,
            "pedir_info": self._request_info,
            "prorroga": self._extend,
            "cerrar": self._close,
            "descartar": self._discard,
            "registrar": self._register,
            "compromiso": self._commitment,
            "compromiso_cumplido": self._commitment_met,
            "compromiso_mover": self._commitment_move,
            "compromiso_cancelar": self._commitment_cancel,
            "compromisos": self._commitments,
            "visita": self._visit,
            "visitas": self._visits,
            "visita_confirmar": self._visit_confirm,
            "visita_hecha": self._visit_done,
            "visita_cancelar": self._visit_cancel,
            "visita_fallida": self._visit_missed,
        }

    def handle(
        self,
        incoming: Incoming,
        member: Staff,
        uow: UnitOfWork,
        now: datetime,
        message_id: int | None = None,
    ) -> list[Reply]:
        """Run one command from a staff member; the answer goes back where it came from."""
        turn = _Turn(incoming, member, actor_of(member), uow, now, message_id)
        if not member.active:
            # Deactivated: refused at once, commands and button presses alike.
            turn.say(self.t("staff.deactivated", name=member.name))
            return turn.replies
        command = parse_command(incoming.text)
        action = self._commands.get(command.name) if command else None
        if action is None:
            turn.say(self.t("staff.unknown_command"))
            return turn.replies
        try:
            action(turn, command.args)
        except NotAllowed as exc:
            turn.replies = []
            turn.say(str(exc))
        except (ValueError, OverflowError):
            # A number or a name the database cannot take: an answer, not a failed delivery.
            turn.replies = []
            turn.say(self.t("staff.unknown_command"))
        return turn.replies

    # -- commands ---------------------------------------------------------------------------

    def _help(self, turn: _Turn, args: str) -> None:
        turn.say(self.t("staff.help"))

    def _queue(self, turn: _Turn, args: str) -> None:
        filters = self._filters(turn, args)
        statuses = (filters.pop("status"),) if "status" in filters else OPEN_STATUSES
        cases = turn.uow.cases.queue(statuses, limit=QUEUE_LENGTH, **filters)
        if not cases:
            turn.say(self.t("staff.queue_empty"))
            return
        lines = [self.t.plural("staff.queue_header", len(cases))]
        for case in cases:
            lines.append(
                self.t(
                    "staff.queue_line",
                    mark=_mark(case),
                    folio=case.folio,
                    type=staff_label(self.t, "type", case.type),
                    topic=self.policy.topic_label(case.topic),
                    status=staff_label(self.t, "status", case.status),
                    due=self.policy.calendar.local_date(case.due_at).strftime("%d/%m"),
                )
            )
        options = tuple(button(f"caso:{c.folio}", c.folio) for c in cases[:5])
        turn.say("\n".join(lines), options)

    def _filters(self, turn: _Turn, args: str) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        for token in _split(args):
            key, _, value = token.partition("=")
            value = value.replace("_", " ") if key == "municipio" else value
            if key == "asignado":
                if value == "nadie":
                    filters["unassigned"] = True
                elif value == "yo":
                    filters["assignee_id"] = turn.member.id
                else:
                    # A deactivated member's cases too: they are the ones to reassign.
                    filters["assignee_id"] = find_member(turn.uow, self.policy, value).id
            elif key == "municipio" and value:
                # "municipio=mejicanos" or "municipio=san_salvador_centro": the gazetteer's name.
                found = self.policy.places.match(value)
                filters["municipality"] = found.municipality if found and found.matched else value
            elif key in FILTERS and value:
                filters[FILTERS[key] if key != "tipo" else "case_type"] = value
            else:
                raise NotAllowed(self.t("staff.error_filter", token=token))
        if "status" in filters and filters["status"] not in STATUSES:
            raise NotAllowed(self.t("staff.error_unknown_status", value=filters["status"]))
        return filters

    def _case(self, turn: _Turn, args: str) -> tuple[Case, str]:
        folio, _, rest = args.strip().partition(" ")
        if not folio:
            raise NotAllowed(self.t("staff.error_needs_folio"))
        return casework.find_case(turn.uow, self.policy, folio), rest.strip()

    def _card(self, turn: _Turn, case: Case, done_key: str, **values: Any) -> None:
        heading = self.t(done_key, folio=case.folio, **values)
        card = case_card(turn.uow, self.policy, case, heading=heading)
        turn.say(card, card_buttons(self.policy, case), case.id)

    def _show(self, turn: _Turn, args: str) -> None:
        case, _ = self._case(turn, args)
        t, uow = self.t, turn.uow
        lines = [case_card(uow, self.policy, case)]
        if case.contact_id and not case.anonymous:
            contact = uow.contacts.get(case.contact_id)
            if contact is not None:
                name = contact.name or t("cli.unnamed")
                lines.append(t("staff.show_citizen", name=name, channel=contact.channel))
        messages = uow.messages.for_case(case.id)
        if messages:
            lines.append(t("cli.show_messages"))
            for message in messages[-10:]:
                arrow = direction(t, message)
                body = message_text(t, message).replace("\n", " / ")[:200]
                at = self.policy.local_time(message.created_at, anonymous=case.anonymous)
                lines.append(t("cli.show_message_line", at=at, direction=arrow, body=body))
        attachments = uow.messages.attachments_for_case(case.id)
        if attachments:
            kinds = ", ".join(a.kind for a in attachments)
            lines.append(t.plural("staff.show_attachments", len(attachments), kinds=kinds))
        lines.append(t("cli.show_history"))
        for event in uow.cases.events(case.id):
            note = f" — {event.note}" if event.note else ""
            lock = "" if event.public else "🔒 "
            lines.append(
                t(
                    "cli.show_event_line",
                    at=self.policy.local_time(event.at, anonymous=case.anonymous),
                    actor=event.actor,
                    what=lock + event_summary(t, event, for_staff=True),
                    note=note[:300],
                )
            )
        turn.say("\n".join(lines), card_buttons(self.policy, case), case.id)

    def _take(self, turn: _Turn, args: str) -> None:
        case, _ = self._case(turn, args)
        taken_by = case.assignee_id not in (None, turn.member.id)
        if taken_by and turn.member.role == "agent":
            # Taking a colleague's case is an assignment, for a supervisor or with /asignar.
            owner = turn.uow.staff.get(case.assignee_id)
            name = owner.name if owner else "?"
            raise NotAllowed(self.t("staff.error_already_taken", folio=case.folio, name=name))
        turn.notify(casework.assign(turn.uow, self.policy, case, turn.member, turn.actor, turn.now))
        self._card(turn, case, "staff.done_taken", name=turn.member.name)

    def _assign(self, turn: _Turn, args: str) -> None:
        case, who = self._case(turn, args)
        if not who:
            turn.say(self.t("staff.ask_assignee", folio=case.folio))
            return
        member = casework.find_staff(turn.uow, self.policy, who)
        turn.notify(casework.assign(turn.uow, self.policy, case, member, turn.actor, turn.now))
        self._card(turn, case, "staff.done_assigned", name=member.name)

    def _status(self, turn: _Turn, args: str) -> None:
        case, rest = self._case(turn, args)
        status, _, note = rest.partition(" ")
        if not status:
            raise NotAllowed(self.t("staff.error_needs_status"))
        replies = casework.set_status(
            turn.uow, self.policy, case, status, note, turn.actor, turn.now
        )
        turn.notify(replies)
        self._card(
            turn, case, "staff.done_status", status=staff_label(self.t, "status", case.status)
        )

    def _reply(self, turn: _Turn, args: str, *, closed_ok: bool = False) -> None:
        case, text = self._case(turn, args)
        try:
            replies = casework.reply(
                turn.uow, self.policy, case, text, turn.actor, turn.now, closed_ok=closed_ok
            )
        except casework.ClosedCase as exc:
            how = self.t("staff.reply_closed_how", folio=case.folio)
            raise NotAllowed(f"{exc}\n{how}") from exc
        here = (turn.incoming.channel, turn.incoming.address)
        turn.notify([r for r in replies if (r.channel, r.address) != here])
        turn.say(reply_done(turn.uow, self.policy, case))

    def _reply_closed(self, turn: _Turn, args: str) -> None:
        """/responder_cerrado: a reply to a closed case, confirmed by the command's name."""
        self._reply(turn, args, closed_ok=True)

    def _note(self, turn: _Turn, args: str) -> None:
        case, text = self._case(turn, args)
        casework.add_note(turn.uow, self.policy, case, text, turn.actor, turn.now)
        turn.say(self.t("staff.done_note", folio=case.folio))

    def _reclassify(self, turn: _Turn, args: str) -> None:
        case, rest = self._case(turn, args)
        values: dict[str, str] = {}
        for word in rest.split():
            if word in CASE_TYPES:
                values["case_type"] = word
            elif word in URGENCIES:
                values["urgency"] = word
            elif word in self.policy.topics:
                values["topic"] = word
            else:
                raise NotAllowed(self.t("staff.error_label", value=word))
        if not values:
            raise NotAllowed(self.t("staff.error_reclassify"))
        casework.reclassify_case(turn.uow, self.policy, case, turn.actor, turn.now, **values)
        self._card(turn, case, "staff.done_reclassified")

    def _place(self, turn: _Turn, args: str) -> None:
        case, text = self._case(turn, args)
        set_place(turn.uow, self.policy, case, text, turn.actor, turn.now)
        self._card(turn, case, "staff.done_place", place=placed_words(self.t, case, text))

    def _priority(self, turn: _Turn, args: str) -> None:
        case, rest = self._case(turn, args)
        women = fold(rest).split()
        if women in (["mujeres"], ["no", "mujeres"]):
            on = women == ["mujeres"]
            visits.mark_women(turn.uow, self.policy, case, on, turn.actor, turn.now)
            key = "visits.women_on" if on else "visits.women_off"
            self._card(turn, case, key)
            return
        off = rest.split()[:1] == ["no"]
        reason = rest[2:].strip() if off else rest
        casework.prioritise(turn.uow, self.policy, case, not off, reason, turn.actor, turn.now)
        self._card(turn, case, "staff.done_unprioritised" if off else "staff.done_prioritised")

    def _urgent(self, turn: _Turn, args: str) -> None:
        case, _ = self._case(turn, args)
        if case.urgency != "emergencia":
            casework.reclassify_case(
                turn.uow, self.policy, case, turn.actor, turn.now, urgency="urgente"
            )
        self._card(turn, case, "staff.done_reclassified")

    def _refer(self, turn: _Turn, args: str) -> None:
        case, institution = self._case(turn, args)
        turn.notify(casework.refer(turn.uow, self.policy, case, institution, turn.actor, turn.now))
        self._card(
            turn, case, "staff.done_status", status=staff_label(self.t, "status", case.status)
        )

    def _request_info(self, turn: _Turn, args: str) -> None:
        case, question = self._case(turn, args)
        replies = casework.request_info(turn.uow, self.policy, case, question, turn.actor, turn.now)
        turn.notify(replies)
        self._card(
            turn, case, "staff.done_status", status=staff_label(self.t, "status", case.status)
        )

    def _extend(self, turn: _Turn, args: str) -> None:
        case, rest = self._case(turn, args)
        days, _, reason = rest.partition(" ")
        if not re.fullmatch(r"[0-9]{1,3}", days):
            if case.deadline_days == 0:
                raise NotAllowed(self.t("staff.error_extension_same_day", folio=case.folio))
            raise NotAllowed(self.t("staff.error_extension_usage", most=case.deadline_days))
        replies = casework.extend(
            turn.uow, self.policy, case, int(days), reason, turn.actor, turn.now
        )
        turn.notify(replies)
        key = "staff.done_extended_anonymous" if case.anonymous else "staff.done_extended"
        self._card(turn, case, key, due=self.policy.local_day(case.due_at))

    def _close(self, turn: _Turn, args: str) -> None:
        case, resolution = self._case(turn, args)
        turn.notify(casework.close(turn.uow, self.policy, case, resolution, turn.actor, turn.now))
        # A call or a walk-in: nobody was told; say so, and how to tell them.
        unheard = close_done(turn.uow, self.policy, case)
        key = "staff.done_closed_anonymous" if case.anonymous else "staff.done_closed"
        turn.say(unheard or self.t(key, folio=case.folio))

    def _discard(self, turn: _Turn, args: str) -> None:
        case, reason = self._case(turn, args)
        if not reason:
            turn.say(self.t("staff.ask_discard_reason", folio=case.folio))
            return
        turn.notify(casework.discard(turn.uow, self.policy, case, reason, turn.actor, turn.now))
        turn.say(self.t("staff.done_discarded", folio=case.folio))

    def _register(self, turn: _Turn, args: str) -> None:
        words = args.split(" ")
        channel = "telefono"
        if words and words[0] in ("telefono", "presencial"):
            channel = words.pop(0)
        if not words or words[0] not in CASE_TYPES:
            raise NotAllowed(self.t("staff.error_register_usage"))
        case_type, text = words[0], " ".join(words[1:])
        case = casework.register_case(
            turn.uow,
            self.policy,
            channel=channel,
            case_type=case_type,
            text=text,
            actor=turn.actor,
            now=turn.now,
        )
        self._card(turn, case, "staff.done_registered")
        here = (turn.incoming.channel, turn.incoming.address)
        for card in new_case_cards(turn.uow, self.policy, case):
            if (card.channel, card.address) != here:
                turn.replies.append(card)

    # -- commitments ------------------------------------------------------------------------

    def _commitment(self, turn: _Turn, args: str) -> None:
        """/compromiso FOLIO FECHA [@NOMBRE] texto, or /compromiso visita N FECHA ... (one made
        on field visit N, of its case)"""
        head, _, after = args.strip().partition(" ")
        visit = None
        if fold(head) == "visita":
            number, _, rest = after.strip().partition(" ")
            visit, case = visits.find_visit(turn.uow, self.policy, number)
        else:
            case, rest = self._case(turn, args)
        when, _, what = rest.partition(" ")
        what = what.strip()
        if not when or not what:
            raise NotAllowed(self.t("commitments.error_usage"))
        who = None
        if what.startswith("@"):
            who, _, what = what.partition(" ")
        commitment, replies = commitments.make_as_written(
            turn.uow,
            self.policy,
            case,
            day=when,
            what=what,
            who=who,
            actor=turn.actor,
            now=turn.now,
            visit=visit,
        )
        turn.notify(replies)
        text = commitments.made_text(turn.uow, self.policy, commitment, case, replies)
        turn.say(text, case_id=case.id)

    def _commitment_met(self, turn: _Turn, args: str) -> None:
        """/compromiso_cumplido N [nota]"""
        number, _, note = args.strip().partition(" ")
        if not number:
            raise NotAllowed(self.t("commitments.error_met_usage"))
        commitment, case = commitments.find(turn.uow, self.policy, number)
        replies = commitments.meet(
            turn.uow, self.policy, commitment, case, note, turn.actor, turn.now
        )
        turn.notify(replies)
        turn.say(commitments.met_text(self.policy, commitment, case, replies), case_id=case.id)

    def _commitment_move(self, turn: _Turn, args: str) -> None:
        """/compromiso_mover N FECHA motivo"""
        number, _, rest = args.strip().partition(" ")
        when, _, reason = rest.strip().partition(" ")
        if not number or not when or not reason.strip():
            raise NotAllowed(self.t("commitments.error_move_usage"))
        commitment, case = commitments.find(turn.uow, self.policy, number)
        replies = commitments.move(
            turn.uow, self.policy, commitment, case, when, reason, turn.actor, turn.now
        )
        turn.notify(replies)
        turn.say(commitments.moved_text(self.policy, commitment, case, replies), case_id=case.id)

    def _commitment_cancel(self, turn: _Turn, args: str) -> None:
        """/compromiso_cancelar N motivo"""
        number, _, reason = args.strip().partition(" ")
        if not number or not reason.strip():
            raise NotAllowed(self.t("commitments.error_cancel_usage"))
        commitment, case = commitments.find(turn.uow, self.policy, number)
        replies = commitments.cancel(
            turn.uow, self.policy, commitment, case, reason, turn.actor, turn.now
        )
        turn.notify(replies)
        text = commitments.cancelled_text(self.policy, commitment, case, replies)
        turn.say(text, case_id=case.id)

    def _commitments(self, turn: _Turn, args: str) -> None:
        """/compromisos [FOLIO]: a case's, or every pending one (the overdue first)."""
        case = casework.find_case(turn.uow, self.policy, args) if args.strip() else None
        lines = commitments.listing(turn.uow, self.policy, turn.now, case)
        if case is not None:
            heading = self.t("commitments.header_case", folio=case.folio)
            empty = self.t("commitments.none_case", folio=case.folio)
        else:
            heading, empty = self.t("commitments.header_all"), self.t("commitments.none_all")
        text = "\n".join([heading, *lines]) if lines else empty
        turn.say(text, case_id=case.id if case else None)

    # -- field visits (handlers/casework/visits.py) -----------------------------------------

    def _visit(self, turn: _Turn, args: str) -> None:
        """/visita FOLIO FECHA HH:MM-HH:MM [quién va]"""
        parts = args.split(maxsplit=3)
        if len(parts) < 3:
            raise NotAllowed(self.t("visits.usage"))
        case = casework.find_case(turn.uow, self.policy, parts[0])
        slot = visits.parse_slot(self.policy, parts[1], parts[2], turn.now)
        who = parts[3] if len(parts) > 3 else ""
        visit, replies = visits.propose(
            turn.uow, self.policy, case, slot, who, turn.actor, turn.now
        )
        here = (turn.incoming.channel, turn.incoming.address)
        turn.notify([r for r in replies if (r.channel, r.address) != here])
        when = visits.describe_slot(self.policy, visit)
        text = self.t("visits.done_proposed", number=visit.id, folio=case.folio, when=when)
        if visits.has_chat(turn.uow, case):
            text = f"{text}\n{self.t('visits.done_proposed_chat')}"
        else:
            call = casework.reach_reporter(
                turn.uow,
                self.policy,
                case,
                "visits.call_to_agree",
                "visits.call_to_agree_no_number",
                when=when,
            )
            text = f"{text}\n{call}"
        turn.say(text, case_id=case.id)

    def _visits(self, turn: _Turn, args: str) -> None:
        rows = turn.uow.visits.listing(
            since=turn.now, statuses=("proposed", "confirmed", "reschedule_asked"), limit=30
        )
        if not rows:
            turn.say(self.t("visits.list_empty"))
            return
        lines = [self.t("visits.list_header", count=len(rows))]
        turn.say("\n".join(lines + visits.list_lines(self.policy, rows)))

    def _visit_number(self, turn: _Turn, args: str):
        number, _, rest = args.strip().partition(" ")
        visit, case = visits.find_visit(turn.uow, self.policy, number)
        return visit, case, rest.strip()

    def _visit_confirm(self, turn: _Turn, args: str) -> None:
        visit, case, _ = self._visit_number(turn, args)
        replies = visits.confirm_by_staff(turn.uow, self.policy, visit, case, turn.actor, turn.now)
        turn.notify(replies)
        turn.say(self.t("visits.done_confirmed", number=visit.id, folio=case.folio))

    def _visit_done(self, turn: _Turn, args: str) -> None:
        """/visita_hecha N notas [| próximo paso]; a photo with it (its caption) joins the case."""
        visit, case, rest = self._visit_number(turn, args)
        notes, _, next_step = rest.partition("|")
        replies = visits.record_done(
            turn.uow, self.policy, visit, case, notes, next_step, turn.actor, turn.now
        )
        turn.notify(replies)
        if turn.incoming.media and turn.message_id is not None:
            turn.uow.messages.attach_to_case([turn.message_id], case.id)
        turn.say(self.t("visits.done_done", number=visit.id, folio=case.folio), case_id=case.id)

    def _visit_cancel(self, turn: _Turn, args: str) -> None:
        visit, case, reason = self._visit_number(turn, args)
        replies = visits.end(
            turn.uow, self.policy, visit, case, "cancelled", reason, turn.actor, turn.now
        )
        turn.notify(replies)
        turn.say(self.t("visits.done_cancelled", number=visit.id, folio=case.folio))

    def _visit_missed(self, turn: _Turn, args: str) -> None:
        visit, case, reason = self._visit_number(turn, args)
        visits.end(turn.uow, self.policy, visit, case, "missed", reason, turn.actor, turn.now)
        turn.say(self.t("visits.done_missed", number=visit.id, folio=case.folio))


# -- the staff accounts (`staff list|deactivate|activate|role|unbind`) -------------------------
# Each changes a member read by `find_member` in the caller's unit of work; its commit writes it.


def find_member(uow: UnitOfWork, policy: CasePolicy, who: str) -> Staff:
    """A staff member, active or not, as an administrator names them: by id or exact name (the
    repository's one lookup, where a username can join them); NotAllowed when there is none."""
    member = uow.staff.by_id_or_name(strip_controls(who).strip())
    if member is None:
        raise NotAllowed(policy.texts("staff.error_no_such_member", who=who))
    return member


def open_cases_of(uow: UnitOfWork, member: Staff) -> list[str]:
    """The folios of the open cases assigned to a staff member."""
    return [case.folio for case in uow.cases.queue(OPEN_STATUSES, assignee_id=member.id)]


def set_active(uow: UnitOfWork, policy: CasePolicy, member: Staff, active: bool) -> list[str]:
    """Deactivate (or activate again) a staff member: from the next message on, a deactivated
    one's commands and button presses are refused on every channel, they are told of nothing,
    and no case can be assigned to them nor done in their name. The folios of the open cases
    still assigned to them, to be reassigned."""
    t = policy.texts
    if member.active == active:
        key = "staff.error_already_active" if active else "staff.error_already_inactive"
        raise NotAllowed(t(key, name=member.name))
    member.active = active
    return [] if active else open_cases_of(uow, member)


def set_role(uow: UnitOfWork, policy: CasePolicy, member: Staff, role: str) -> None:
    """Change what a staff member may do (agent, supervisor, admin)."""
    t = policy.texts
    if role not in ROLES:
        valid = ", ".join(staff_label(t, "role", code) for code in ROLES)
        raise NotAllowed(t("staff.error_unknown_role", value=role, valid=valid))
    if member.role == role:
        raise NotAllowed(
            t("staff.error_same_role", name=member.name, role=staff_label(t, "role", role))
        )
    member.role = role


def unbind(
    uow: UnitOfWork, policy: CasePolicy, member: Staff, *, telegram: bool, whatsapp: bool
) -> list[str]:
    """Forget a staff member's Telegram user id or WhatsApp number (a lost phone, a number
    given back): messages from it are a citizen's again. The channels unbound."""
    t = policy.texts
    if not (telegram or whatsapp):
        raise NotAllowed(t("staff.error_unbind_what"))
    done = []
    if telegram and member.telegram_id is not None:
        member.telegram_id = None
        done.append("Telegram")
    if whatsapp and member.whatsapp is not None:
        member.whatsapp = None
        done.append("WhatsApp")
    if not done:
        raise NotAllowed(t("staff.error_unbind_nothing", name=member.name))
    return done


@dataclass
class _Turn:
    incoming: Incoming
    member: Staff
    actor: Actor
    uow: UnitOfWork
    now: datetime
    message_id: int | None = None  # the command's stored message (its photos, if any)

    def __post_init__(self) -> None:
        self.replies: list[Reply] = []

    def say(self, text: str, options: tuple[Option, ...] = (), case_id: int | None = None) -> None:
        """An answer to the staff member; `case_id` when it shows a case, so that erasing the
        citizen's data reaches this copy too."""
        reply = Reply(
            self.incoming.channel, self.incoming.address, text, options, case_id, to_staff=True
        )
        self.replies.append(reply)

    def notify(self, replies: list[Reply]) -> None:
        self.replies.extend(replies)


def _split(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _mark(case: Case) -> str:
    marks = {"emergencia": "🚨", "urgente": "⚠️"}
    return marks.get(case.urgency) or ("⭐" if case.prioritised else "•")
