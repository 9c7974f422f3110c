"""Field visits ("Visitas Técnicas Sociales"): staff propose one on a case, the citizen confirms
it or asks for another day by answering, both sides are reminded the day before, and its
outcome (notes, photos, a next step) joins the case. The same functions serve the chat, the
terminal and the web desk; each returns the replies to queue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from handlers.casework.cases import record_event
from handlers.casework.lifecycle import FINAL, Actor, NotAllowed, notify_citizen, reachable_contact
from handlers.casework.notifications import Event, staff_replies
from handlers.casework.places import pin_words
from handlers.casework.reach import callback_number, reach_reporter
from handlers.core.messages import Incoming, Reply
from handlers.core.normalise import strip_controls
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Attachment, Case, Message, Staff, Visit, row_values

STATUSES = ("proposed", "confirmed", "reschedule_asked", "done", "cancelled", "missed")
CLOSED = frozenset({"done", "cancelled", "missed"})
# The visits a commitment can be made on: not one that will not happen or was moved.
COMMITTABLE = frozenset({"proposed", "confirmed", "done"})
# Which status may follow which (the citizen confirms or asks for another day; staff record the
# outcome). A visit the citizen asked to move stays so once a new one is proposed.
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"confirmed", "reschedule_asked", "done", "cancelled", "missed"}),
    "confirmed": frozenset({"reschedule_asked", "done", "cancelled", "missed"}),
    "reschedule_asked": frozenset({"confirmed", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
    "missed": frozenset(),
}
# Photos a staff member sends this soon after recording a visit done join its case.
PHOTO_MINUTES = 30
MAX_TEXT = 2000
MAX_WHO = 200
WINDOW = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?")
# A day and month without a year that passed fewer days ago than this is a typo, refused as past;
# an older one means next year.
RECENT_PAST_DAYS = 60


@dataclass(frozen=True)
class Slot:
    """When a visit happens: a local date and a window of hours, as UTC instants."""

    starts_at: datetime
    ends_at: datetime


def day_without_year(today: date, month: int, day: int) -> date:
    """The date a day and month without a year mean: this year's, unless it passed at least
    RECENT_PAST_DAYS ago (then next year's). A recent past date is returned as it is, for the
    caller to refuse as past. ValueError when no such day."""
    this_year = date(today.year, month, day)
    if this_year >= today or (today - this_year).days < RECENT_PAST_DAYS:
        return this_year
    return date(today.year + 1, month, day)


def parse_day(policy: CasePolicy, text: str, now: datetime) -> date:
    """`2026-12-10`, `10/12/2026`, `10/12` (see day_without_year) or `mañana`; NotAllowed else."""
    t = policy.texts
    value = text.strip().lower()
    today = policy.calendar.local_date(now)
    if value in ("mañana", "manana"):
        return today + timedelta(days=1)
    if value in ("hoy",):
        return today
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        full = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
        if full:
            return date(int(full[3]), int(full[2]), int(full[1]))
        short = re.fullmatch(r"(\d{1,2})/(\d{1,2})", value)
        if short:
            return day_without_year(today, int(short[2]), int(short[1]))
    except ValueError:
        pass
    raise NotAllowed(t("visits.error_date", value=text))


def parse_slot(policy: CasePolicy, day_text: str, window_text: str, now: datetime) -> Slot:
    """A date and an `HH:MM-HH:MM` window (`9-11` too), in the institution's time; the window
    must end after it starts and lie ahead."""
    t = policy.texts
    day = parse_day(policy, day_text, now)
    match = WINDOW.fullmatch(window_text.strip())
    if match is None:
        raise NotAllowed(t("visits.error_window", value=window_text))
    try:
        start = time(int(match[1]), int(match[2] or 0))
        end = time(int(match[3]), int(match[4] or 0))
    except ValueError as exc:
        raise NotAllowed(t("visits.error_window", value=window_text)) from exc
    if end <= start:
        raise NotAllowed(t("visits.error_window_order", value=window_text))
    tz = policy.calendar.tz
    slot = Slot(
        datetime.combine(day, start, tzinfo=tz).astimezone(now.tzinfo),
        datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo),
    )
    if slot.ends_at <= now:
        raise NotAllowed(t("visits.error_past", day=day.strftime("%d/%m/%Y")))
    return slot


def describe_slot(policy: CasePolicy, visit: Visit) -> str:
    """ "jueves 10/12/2026 de 09:00 a 11:00", in the institution's time."""
    tz = policy.calendar.tz
    start, end = visit.starts_at.astimezone(tz), visit.ends_at.astimezone(tz)
    day = policy.local_day(visit.starts_at)
    return policy.texts(
        "visits.slot", day=day, start=start.strftime("%H:%M"), end=end.strftime("%H:%M")
    )


def place_of(policy: CasePolicy, case: Case) -> str:
    """Where the visit goes: the place given, else the municipality, else the shared pin."""
    parts = [p for p in (case.location_text, case.municipality) if p]
    if len(parts) == 2 and parts[1].lower() in parts[0].lower():
        parts = parts[:1]
    return ", ".join(parts) or pin_words(policy, case) or ""


def _clean(text: str | None, limit: int = MAX_TEXT) -> str:
    return strip_controls(text or "").strip()[:limit]


def status_label(policy: CasePolicy, status: str) -> str:
    return policy.texts(f"visits.status.{status}")


def find_visit(uow: UnitOfWork, policy: CasePolicy, number: str | int) -> tuple[Visit, Case]:
    """A visit by its number (`12` or `#12`), locked, with its case; NotAllowed when none."""
    t = policy.texts
    text = str(number).strip().lstrip("#")
    if not text.isdigit() or len(text) > 12:
        raise NotAllowed(t("visits.error_number", value=number))
    visit = uow.visits.get(int(text), lock=True)
    case = uow.cases.get(visit.case_id) if visit is not None else None
    if visit is None or case is None:
        raise NotAllowed(t("visits.error_number", value=number))
    return visit, case


def _replaced_by(uow: UnitOfWork, visit: Visit) -> Visit | None:
    """The visit proposed after this one when the citizen asked for another day: the old one
    keeps its status (counted as rescheduled) and is closed to any change."""
    if visit.status != "reschedule_asked":
        return None
    later = [
        other for other in uow.visits.for_case(visit.case_id) if (other.id or 0) > (visit.id or 0)
    ]
    return later[0] if later else None


def _check_open(uow: UnitOfWork, policy: CasePolicy, visit: Visit) -> None:
    newer = _replaced_by(uow, visit)
    if newer is not None:
        raise NotAllowed(policy.texts("visits.error_replaced", number=visit.id, newer=newer.id))


def _check_started(policy: CasePolicy, visit: Visit, now: datetime) -> None:
    """Done or missed is recorded once the visit's window has started."""
    if now < visit.starts_at:
        when = describe_slot(policy, visit)
        raise NotAllowed(policy.texts("visits.error_not_yet", number=visit.id, when=when))


def _move(policy: CasePolicy, visit: Visit, to: str, now: datetime) -> None:
    if to == visit.status:
        current = status_label(policy, to)
        raise NotAllowed(policy.texts("visits.error_same_status", number=visit.id, current=current))
    if to not in TRANSITIONS[visit.status]:
        raise NotAllowed(
            policy.texts(
                "visits.error_transition",
                number=visit.id,
                current=status_label(policy, visit.status),
                to=status_label(policy, to),
            )
        )
    visit.status = to
    visit.updated_at = now


def _proposer(uow: UnitOfWork, visit: Visit, case: Case) -> Staff | None:
    """Who hears about the visit: the staff member who proposed it, else the case's assignee."""
    for staff_id in (visit.staff_id, case.assignee_id):
        member = uow.staff.get(staff_id) if staff_id else None
        if member is not None and member.active:
            return member
    return None


def _tell_staff(uow: UnitOfWork, policy: CasePolicy, visit: Visit, case: Case, text: str):
    assignee = _proposer(uow, visit, case)
    return staff_replies(Event.VISIT, uow, policy, text, assignee=assignee, case_id=case.id)


def propose(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    slot: Slot,
    who: str,
    actor: Actor,
    now: datetime,
) -> tuple[Visit, list[Reply]]:
    """Propose a visit on an open case; the citizen is asked to confirm it in their chat. An
    anonymous denuncia has nobody to agree a visit with: refused. A case without a chat (a call,
    a walk-in) gets the visit, and staff agree it by phone (then `confirm`)."""
    t = policy.texts
    if case.anonymous:
        raise NotAllowed(t("visits.error_anonymous", folio=case.folio))
    if case.status in FINAL:
        raise NotAllowed(t("staff.error_closed", folio=case.folio))
    for other in uow.visits.for_case(case.id):
        if other.status in ("proposed", "confirmed"):
            raise NotAllowed(t("visits.error_pending", folio=case.folio, number=other.id))
    visit = uow.visits.add(
        Visit(
            case_id=case.id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            who=_clean(who, MAX_WHO),
            status="proposed",
            proposed_by=actor.name[:80],
            staff_id=actor.staff_id,
            created_at=now,
            updated_at=now,
        )
    )
    when = describe_slot(policy, visit)
    record_event(uow, case, now, actor=actor.name, kind="visit_proposed", note=when)
    place = place_of(policy, case)
    if case.location_text or case.municipality:
        text = t("visits.notify_proposed", folio=case.folio, when=when, place=place)
    elif place:  # only a pin: told as the location they shared
        latitude, longitude = f"{case.latitude:.5f}", f"{case.longitude:.5f}"
        text = t(
            "visits.notify_proposed_pin",
            folio=case.folio,
            when=when,
            latitude=latitude,
            longitude=longitude,
        )
    else:
        text = t("visits.notify_proposed_no_place", folio=case.folio, when=when)
    replies = notify_citizen(uow, policy, case, text)
    if not replies:
        # With no number to call, the visit is agreed in person: the history says which.
        kind = "visit_call" if callback_number(uow, case) else "visit_in_person"
        record_event(uow, case, now, actor=actor.name, kind=kind, note=when, public=False)
        alert = reach_reporter(
            uow, policy, case, "visits.call_to_agree", "visits.call_to_agree_no_number", when=when
        )
        replies = _tell_staff(uow, policy, visit, case, alert)
    return visit, replies


def has_chat(uow: UnitOfWork, case: Case) -> bool:
    return reachable_contact(uow, case) is not None


def confirm_by_staff(
    uow: UnitOfWork, policy: CasePolicy, visit: Visit, case: Case, actor: Actor, now: datetime
) -> list[Reply]:
    """The citizen agreed by another way (a call): recorded as confirmed, and they are told."""
    _check_open(uow, policy, visit)
    _move(policy, visit, "confirmed", now)
    visit.confirmed_at = now
    uow.visits.add(visit)
    when = describe_slot(policy, visit)
    record_event(uow, case, now, actor=actor.name, kind="visit_confirmed", note=when)
    text = policy.texts("visits.notify_confirmed", folio=case.folio, when=when)
    return notify_citizen(uow, policy, case, text)


def citizen_answer(
    uow: UnitOfWork,
    policy: CasePolicy,
    visit: Visit,
    case: Case,
    confirmed: bool,
    text: str,
    now: datetime,
) -> list[Reply]:
    """The citizen confirmed ("sí") or asked for another day ("otro día, mejor el lunes"): the
    visit records it, the case's history shows it, and staff are told. The replies start with
    what the citizen is answered."""
    t = policy.texts
    _check_open(uow, policy, visit)
    when = describe_slot(policy, visit)
    words = _clean(text, 500)
    if confirmed:
        _move(policy, visit, "confirmed", now)
        visit.confirmed_at = now
        record_event(uow, case, now, actor="ciudadano", kind="visit_confirmed", note=when)
        answer = t("visits.citizen_confirmed", folio=case.folio, when=when)
        staff = t("visits.staff_confirmed", folio=case.folio, number=visit.id, when=when)
    else:
        _move(policy, visit, "reschedule_asked", now)
        visit.citizen_answer = words
        record_event(uow, case, now, actor="ciudadano", kind="visit_reschedule", note=words)
        answer = t("visits.citizen_reschedule", folio=case.folio)
        staff = t(
            "visits.staff_reschedule", folio=case.folio, number=visit.id, when=when, text=words
        )
    uow.visits.add(visit)
    contact = reachable_contact(uow, case)
    replies = [Reply(contact.channel, contact.address, answer, case_id=case.id)] if contact else []
    return replies + _tell_staff(uow, policy, visit, case, staff)


def record_done(
    uow: UnitOfWork,
    policy: CasePolicy,
    visit: Visit,
    case: Case,
    notes: str,
    next_step: str,
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """The visit happened: its notes and next step join the case's history (the citizen reads
    them with their case's status); photos the staff member sends next join the case."""
    t = policy.texts
    _check_open(uow, policy, visit)
    notes = _clean(notes)
    if not notes:
        raise NotAllowed(t("visits.error_needs_notes"))
    if "done" in TRANSITIONS[visit.status]:
        _check_started(policy, visit, now)
    _move(policy, visit, "done", now)
    visit.outcome = notes
    visit.next_step = _clean(next_step) or None
    visit.done_at = now
    visit.done_by_id = actor.staff_id
    uow.visits.add(visit)
    note = notes if not visit.next_step else t("visits.outcome", notes=notes, next=visit.next_step)
    record_event(uow, case, now, actor=actor.name, kind="visit_done", note=note)
    if case.first_response_at is None:
        case.first_response_at = now
        uow.cases.add(case)
    text = t("visits.notify_done", folio=case.folio, notes=note)
    return notify_citizen(uow, policy, case, text)


def end(
    uow: UnitOfWork,
    policy: CasePolicy,
    visit: Visit,
    case: Case,
    to: str,
    reason: str,
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """A visit that will not happen: `cancelled` (a reason is needed, and the citizen is told
    it) or `missed` (in the staff's history only)."""
    t = policy.texts
    _check_open(uow, policy, visit)
    reason = _clean(reason)
    cancelled = to == "cancelled"
    if not cancelled and to in TRANSITIONS[visit.status]:
        _check_started(policy, visit, now)
    if cancelled and not reason:
        raise NotAllowed(t("visits.error_needs_reason"))
    when = describe_slot(policy, visit)
    _move(policy, visit, to, now)
    visit.reason = reason or None
    uow.visits.add(visit)
    note = f"{when}: {reason}" if reason else when
    record_event(uow, case, now, actor=actor.name, kind=f"visit_{to}", note=note, public=cancelled)
    if not cancelled:
        return []
    text = t("visits.notify_cancelled", folio=case.folio, when=when, reason=reason)
    return notify_citizen(uow, policy, case, text)


PENDING = ("proposed", "confirmed", "reschedule_asked")


def cancel_pending(
    uow: UnitOfWork, policy: CasePolicy, case: Case, reason: str, actor: Actor, now: datetime
) -> list[int]:
    """Cancel, with `reason`, the visits still pending on a case that was just closed or
    discarded (the person is told of the closing itself, not once more of each visit); the
    history records each one. The numbers of those cancelled."""
    cancelled: list[int] = []
    for visit in uow.visits.for_case(case.id):
        if visit.status not in PENDING or _replaced_by(uow, visit) is not None:
            continue
        when = describe_slot(policy, visit)
        _move(policy, visit, "cancelled", now)
        visit.reason = reason
        uow.visits.add(visit)
        note = f"{when}: {reason}"
        record_event(uow, case, now, actor=actor.name, kind="visit_cancelled", note=note)
        cancelled.append(visit.id or 0)
    return cancelled


def recent_visit_done(uow: UnitOfWork, member: Staff, now: datetime) -> Visit | None:
    """The visit an active staff member recorded as done in the last minutes, if any."""
    if not member.active or member.id is None:
        return None
    return uow.visits.done_by(member.id, now - timedelta(minutes=PHOTO_MINUTES))


def add_photo(
    uow: UnitOfWork,
    policy: CasePolicy,
    member: Staff,
    visit: Visit,
    incoming: Incoming,
    message_id: int,
    now: datetime,
) -> list[Reply]:
    """A photo a staff member sent from their phone right after recording a visit done joins
    that visit's case (and its history); they are told so."""
    case = uow.cases.get(visit.case_id)
    if case is None:
        return []
    uow.messages.attach_to_case([message_id], visit.case_id)
    record_event(uow, case, now, actor=member.name, kind="visit_photo", note=f"#{visit.id}")
    text = policy.texts("visits.photo_added", folio=case.folio)
    return [Reply(incoming.channel, incoming.address, text, case_id=case.id, to_staff=True)]


def attach_desk_photo(
    uow: UnitOfWork,
    visit: Visit,
    case: Case,
    actor: Actor,
    path: str,
    digest: str,
    content_type: str,
    now: datetime,
) -> None:
    """A photo of the visit attached on the web desk (already stored at `path`): kept as the
    staff member's message on the case, with the photo, and noted in the history."""
    message_id = uow.messages.add_incoming(
        row_values(
            Message,
            direction="in",
            channel="desk",
            case_id=case.id,
            body="",
            created_at=now,
            to_staff=True,
        )
    )
    if message_id is None:
        return
    uow.messages.add_attachment(
        Attachment(
            message_id=message_id,
            case_id=case.id,
            kind="photo",
            provider_ref=f"mesa:{digest}",
            content_type=content_type,
            local_path=path,
            sha256=digest,
            status="stored",
            created_at=now,
        )
    )
    record_event(uow, case, now, actor=actor.name, kind="visit_photo", note=f"#{visit.id}")


def due_reminders(uow: UnitOfWork, policy: CasePolicy, now: datetime) -> list[Reply]:
    """Tomorrow's visits (in the institution's time), each reminded once: the citizen in their
    chat, and the staff member who proposed it (else the case's assignee, else the staff chat)."""
    t, calendar = policy.texts, policy.calendar
    tomorrow = calendar.local_date(now) + timedelta(days=1)
    start = calendar.start_of_day(tomorrow)
    end = calendar.start_of_day(tomorrow + timedelta(days=1))
    replies: list[Reply] = []
    for visit, case in uow.visits.to_remind(start, end):
        when = describe_slot(policy, visit)
        key = (
            "visits.remind_citizen" if visit.status == "confirmed" else "visits.remind_unconfirmed"
        )
        replies += notify_citizen(uow, policy, case, t(key, folio=case.folio, when=when))
        state = status_label(policy, visit.status)
        staff_text = t(
            "visits.remind_staff",
            folio=case.folio,
            number=visit.id,
            when=when,
            place=place_of(policy, case) or t("visits.no_place"),
            who=visit.who or t("visits.no_who"),
            status=state,
        )
        replies += _tell_staff(uow, policy, visit, case, staff_text)
        visit.reminded_at = now
        uow.visits.add(visit)
    return replies


def list_lines(policy: CasePolicy, rows: list[tuple[Visit, Case]]) -> list[str]:
    """One line a visit: number, folio, when, where, who goes, status; ♀ for the women's
    priority."""
    t = policy.texts
    lines = []
    for visit, case in rows:
        lines.append(
            t(
                "visits.line",
                mark="♀" if case.affects_women else "•",
                number=visit.id,
                folio=case.folio,
                when=describe_slot(policy, visit),
                place=place_of(policy, case) or t("visits.no_place"),
                who=visit.who or t("visits.no_who"),
                status=status_label(policy, visit.status),
            )
        )
    return lines


def mark_women(
    uow: UnitOfWork, policy: CasePolicy, case: Case, on: bool, actor: Actor, now: datetime
) -> None:
    """Mark (or unmark) the case as a situation affecting women: prioritised, its visits first,
    counted in the tally."""
    if case.status in FINAL:
        raise NotAllowed(policy.texts("staff.error_closed", folio=case.folio))
    if not on and not case.affects_women:
        raise NotAllowed(policy.texts("visits.error_not_women", folio=case.folio))
    case.affects_women = on
    if on:
        case.prioritised = True
    uow.cases.add(case)
    kind = "women_priority" if on else "women_priority_off"
    record_event(uow, case, now, actor=actor.name, kind=kind, public=False)
