"""Commitments made to citizens on their cases ("Seguimiento a compromisos"): what, who answers
for it and by when; the citizen is told when one is made, met or moved, and the responsible staff
member when one is overdue. The same functions serve the chat, the terminal and the web desk."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from handlers.casework.cases import record_event
from handlers.casework.lifecycle import (
    FINAL,
    Actor,
    NotAllowed,
    notify_citizen,
    reachable_contact,
)
from handlers.casework.notifications import Event, staff_replies
from handlers.casework.visits import COMMITTABLE, day_without_year
from handlers.core.messages import Reply
from handlers.core.normalise import fold, strip_controls
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from storage.models import Case, Commitment, Staff, Visit

MAX_WHAT = 500
MAX_REASON = 300
LIST_LENGTH = 20  # commitments shown by /compromisos without a folio
# The case events that carry a commitment; their notes are the citizen's to read (anonymous
# reporters read them with their secret code).
EVENT_KINDS = ("commitment_made", "commitment_met", "commitment_moved", "commitment_cancelled")
DAY_MONTH = re.compile(r"(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2}|\d{4}))?")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
RELATIVE = {"hoy": 0, "mañana": 1, "manana": 1, "pasado mañana": 2, "pasado manana": 2}


class BadDate(NotAllowed):
    """A date that names no day, or a day already past; the message is one Spanish line."""


def parse_due(t: Texts, value: str, today: date) -> date:
    """The day a commitment is due: "15/12" (see day_without_year), "15/12/2026", "2026-12-15",
    "hoy", "mañana" or a weekday ("viernes": the next Friday after today). Never before today."""
    text = fold(value).strip(" .,")
    weekdays = [fold(day) for day in t("dates.weekdays").split(",")]
    try:
        if text in RELATIVE:
            day = today + timedelta(days=RELATIVE[text])
        elif text in weekdays:
            ahead = (weekdays.index(text) - today.weekday() - 1) % 7 + 1
            day = today + timedelta(days=ahead)
        elif ISO_DAY.fullmatch(text):
            day = date.fromisoformat(text)
        elif match := DAY_MONTH.fullmatch(text):
            number, month, year = int(match[1]), int(match[2]), match[3]
            if year is None:
                day = day_without_year(today, month, number)
            else:
                day = date(int(year) + (2000 if len(year) == 2 else 0), month, number)
        else:
            raise ValueError(value)
    except ValueError as exc:
        raise BadDate(t("commitments.bad_date", value=value)) from exc
    if day < today:
        raise BadDate(t("commitments.past_date", value=value))
    return day


def day_label(policy: CasePolicy, day: date) -> str:
    """ "viernes 15/12/2026"."""
    weekday = policy.texts("dates.weekdays").split(",")[day.weekday()]
    return f"{weekday} {day.strftime('%d/%m/%Y')}"


def today(policy: CasePolicy, now: datetime) -> date:
    return policy.calendar.local_date(now)


def is_overdue(commitment: Commitment, day: date) -> bool:
    """Pending past its date (due on `day` itself is not overdue yet)."""
    return commitment.status == "pending" and commitment.due_date < day


def find_responsible(uow: UnitOfWork, policy: CasePolicy, name: str) -> tuple[Staff | None, str]:
    """Who `@NAME` names: an active staff member by id, username, whole name (underscores for
    spaces) or first name when only one has it; else (None, the name as written), someone
    outside the staff (another office). Two members with that first name: NotAllowed."""
    written = strip_controls(name).strip().lstrip("@").replace("_", " ").strip()[:120]
    if not written:
        raise NotAllowed(policy.texts("commitments.error_usage"))
    wanted = fold(written)
    staff = uow.staff.active()
    for member in staff:
        names = {str(member.id), fold(member.name), fold(member.username or "")}
        if wanted in names:
            return member, member.name
    firsts = [m for m in staff if fold(m.name).split()[:1] == [wanted]]
    if len(firsts) > 1:
        listed = ", ".join(m.name for m in firsts)
        raise NotAllowed(policy.texts("commitments.error_ambiguous", name=written, names=listed))
    if firsts:
        return firsts[0], firsts[0].name
    return None, written


def responsible_label(uow: UnitOfWork, policy: CasePolicy, commitment: Commitment) -> str:
    """The responsible's name, or "sin responsable"."""
    if commitment.responsible_id is not None:
        member = uow.staff.get(commitment.responsible_id)
        if member is not None:
            return member.name
    return commitment.responsible_name or policy.texts("commitments.nobody")


def make(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    *,
    what: str,
    due: date,
    actor: Actor,
    now: datetime,
    responsible: Staff | None = None,
    responsible_name: str | None = None,
    visit: Visit | None = None,
) -> tuple[Commitment, list[Reply]]:
    """Record a commitment on an open case (made on one of its field visits: `visit`); the
    citizen is told what and by when. Without a responsible named, the staff member who makes
    it answers for it (else whoever has the case)."""
    t = policy.texts
    if case.status in FINAL:
        raise NotAllowed(t("staff.error_closed", folio=case.folio))
    what = strip_controls(what).strip()[:MAX_WHAT]
    if not what:
        raise NotAllowed(t("commitments.error_no_what"))
    if visit is not None and visit.case_id != case.id:
        raise NotAllowed(t("commitments.error_visit", number=visit.id, folio=case.folio))
    if visit is not None and visit.status not in COMMITTABLE:
        status = policy.texts(f"visits.status.{visit.status}")
        raise NotAllowed(t("commitments.error_visit_status", number=visit.id, status=status))
    if due < today(policy, now):
        raise BadDate(t("commitments.past_date", value=due.strftime("%d/%m/%Y")))
    if responsible is None and not responsible_name:
        staff_id = actor.staff_id if actor.staff_id is not None else case.assignee_id
        responsible = uow.staff.get(staff_id) if staff_id is not None else None
    commitment = uow.commitments.add(
        Commitment(
            case_id=case.id,
            visit_id=visit.id if visit is not None else None,
            what=what,
            responsible_id=responsible.id if responsible else None,
            responsible_name=None if responsible else (responsible_name or None),
            due_date=due,
            original_due_date=due,
            created_by=actor.name[:80],
            created_at=now,
            updated_at=now,
        )
    )
    when = day_label(policy, due)
    note = t("commitments.event_made", what=what, due=when)
    record_event(uow, case, now, actor=actor.name, kind="commitment_made", note=note)
    text = t("commitments.citizen_made", folio=case.folio, what=what, due=when)
    return commitment, notify_citizen(uow, policy, case, text)


def make_as_written(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    *,
    day: str,
    what: str,
    who: str | None,
    actor: Actor,
    now: datetime,
    visit: Visit | None = None,
) -> tuple[Commitment, list[Reply]]:
    """`make`, with the date and the responsible as staff write them (see parse_due and
    find_responsible; no one named: see `make`)."""
    due = parse_due(policy.texts, day, today(policy, now))
    member, name = find_responsible(uow, policy, who) if who else (None, None)
    return make(
        uow,
        policy,
        case,
        what=what,
        due=due,
        actor=actor,
        now=now,
        responsible=member,
        responsible_name=name,
        visit=visit,
    )


def find(uow: UnitOfWork, policy: CasePolicy, number: str) -> tuple[Commitment, Case]:
    """The commitment numbered `number` ("7" or "#7") and its case, both locked until the
    transaction ends; NotAllowed when there is none."""
    digits = number.strip().lstrip("#")
    if not digits:
        raise NotAllowed(policy.texts("commitments.error_no_number"))
    known = digits.isdigit() and len(digits) <= 9
    commitment = uow.commitments.get(int(digits), lock=True) if known else None
    case = uow.cases.get(commitment.case_id) if commitment is not None else None
    if commitment is None or case is None:
        raise NotAllowed(policy.texts("commitments.error_unknown", number=number))
    case = uow.cases.by_folio(case.folio, lock=True) or case
    return commitment, case


def _pending(policy: CasePolicy, commitment: Commitment) -> None:
    if commitment.status != "pending":
        status = policy.texts(f"commitments.status.{commitment.status}")
        raise NotAllowed(
            policy.texts("commitments.error_not_pending", number=commitment.id, status=status)
        )


def meet(
    uow: UnitOfWork,
    policy: CasePolicy,
    commitment: Commitment,
    case: Case,
    note: str,
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """The commitment was met (on time or late, by its date as it stands); the citizen is told,
    with the staff member's note when there is one."""
    t = policy.texts
    _pending(policy, commitment)
    commitment.status, commitment.met_at, commitment.updated_at = "met", now, now
    commitment.met_on_time = policy.calendar.local_date(now) <= commitment.due_date
    uow.commitments.add(commitment)
    note = strip_controls(note).strip()[:MAX_REASON]
    text = t("commitments.event_met", what=commitment.what)
    if note:
        text = f"{text} {t('commitments.note', note=note)}"
    record_event(uow, case, now, actor=actor.name, kind="commitment_met", note=text)
    told = t("commitments.citizen_met", folio=case.folio, what=commitment.what)
    if note:
        told = f"{told}\n{t('commitments.note', note=note)}"
    return notify_citizen(uow, policy, case, told)


def move(
    uow: UnitOfWork,
    policy: CasePolicy,
    commitment: Commitment,
    case: Case,
    day: str,
    reason: str,
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """A new date (as staff write it, see parse_due), with the reason, which the citizen is
    told; the first date is kept and the moves counted. A moved commitment is no longer overdue
    (its responsible may be told again once the new date passes)."""
    t = policy.texts
    _pending(policy, commitment)
    reason = strip_controls(reason).strip()[:MAX_REASON]
    if not reason:
        raise NotAllowed(t("commitments.error_needs_reason"))
    due = parse_due(t, day, today(policy, now))
    if due == commitment.due_date:
        raise NotAllowed(t("commitments.error_same_date", number=commitment.id))
    commitment.due_date = due
    commitment.moved_count += 1
    commitment.moved_reason = reason
    commitment.overdue_notified_at = None
    commitment.updated_at = now
    uow.commitments.add(commitment)
    when = day_label(policy, due)
    note = t("commitments.event_moved", what=commitment.what, due=when, reason=reason)
    record_event(uow, case, now, actor=actor.name, kind="commitment_moved", note=note)
    text = t(
        "commitments.citizen_moved", folio=case.folio, what=commitment.what, due=when, reason=reason
    )
    return notify_citizen(uow, policy, case, text)


def cancel(
    uow: UnitOfWork,
    policy: CasePolicy,
    commitment: Commitment,
    case: Case,
    reason: str,
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """A pending commitment that will not be met: the reason is needed and the citizen is told
    it; the tally counts it as cancelled."""
    t = policy.texts
    _pending(policy, commitment)
    reason = strip_controls(reason).strip()[:MAX_REASON]
    if not reason:
        raise NotAllowed(t("commitments.error_needs_reason"))
    commitment.status, commitment.updated_at = "cancelled", now
    uow.commitments.add(commitment)
    note = t("commitments.event_cancelled", what=commitment.what, reason=reason)
    record_event(uow, case, now, actor=actor.name, kind="commitment_cancelled", note=note)
    text = t("commitments.citizen_cancelled", folio=case.folio, what=commitment.what, reason=reason)
    return notify_citizen(uow, policy, case, text)


def cancelled_text(
    policy: CasePolicy, commitment: Commitment, case: Case, replies: list[Reply]
) -> str:
    """What staff are told once a commitment is cancelled."""
    done = policy.texts("commitments.done_cancelled", number=commitment.id, folio=case.folio)
    return f"{done}\n{told(policy, case, bool(replies))}"


def told(policy: CasePolicy, case: Case, reached: bool) -> str:
    """For staff: whether the citizen hears of it in their chat (`reached`: a notice went to
    it), with their code, or not at all."""
    if case.anonymous:
        return policy.texts("commitments.told_anonymous")
    return policy.texts("commitments.told" if reached else "commitments.told_nobody")


def told_as_it_stands(uow: UnitOfWork, policy: CasePolicy, case: Case) -> str:
    """told(), for the case as it stands (the desk says it once the case's page is shown again)."""
    return told(policy, case, reachable_contact(uow, case) is not None)


def made_text(
    uow: UnitOfWork, policy: CasePolicy, commitment: Commitment, case: Case, replies: list[Reply]
) -> str:
    """What staff are told once a commitment is recorded."""
    t = policy.texts
    responsible = responsible_label(uow, policy, commitment)
    if commitment.responsible_id is None and commitment.responsible_name:
        responsible = f"{responsible} {t('commitments.outside_staff')}"
    done = t(
        "commitments.done_made",
        number=commitment.id,
        folio=case.folio,
        due=day_label(policy, commitment.due_date),
        responsible=responsible,
    )
    return f"{done}\n{told(policy, case, bool(replies))}"


def met_text(policy: CasePolicy, commitment: Commitment, case: Case, replies: list[Reply]) -> str:
    """What staff are told once a commitment is met: on time or late."""
    key = "done_met_on_time" if commitment.met_on_time else "done_met_late"
    done = policy.texts(
        f"commitments.{key}",
        number=commitment.id,
        folio=case.folio,
        due=day_label(policy, commitment.due_date),
    )
    return f"{done}\n{told(policy, case, bool(replies))}"


def moved_text(policy: CasePolicy, commitment: Commitment, case: Case, replies: list[Reply]) -> str:
    """What staff are told once a commitment has a new date."""
    done = policy.texts(
        "commitments.done_moved",
        number=commitment.id,
        folio=case.folio,
        due=day_label(policy, commitment.due_date),
        count=commitment.moved_count,
    )
    return f"{done}\n{told(policy, case, bool(replies))}"


def line(policy: CasePolicy, commitment: Commitment, folio: str, day: date) -> str:
    """One commitment in a list: "⏰ #3 TA-2026-000001 · viernes 15/12/2026 · Rosa · what"."""
    t = policy.texts
    if is_overdue(commitment, day):
        mark = t("commitments.mark_overdue")
    else:
        mark = t(f"commitments.mark_{commitment.status}")
    moved = t("commitments.moved_times", count=commitment.moved_count)
    return t(
        "commitments.line",
        mark=mark,
        number=commitment.id,
        folio=folio,
        due=day_label(policy, commitment.due_date),
        what=commitment.what[:120],
        moved=moved if commitment.moved_count else "",
        visit=t("commitments.of_visit", number=commitment.visit_id) if commitment.visit_id else "",
    )


def listing(
    uow: UnitOfWork, policy: CasePolicy, now: datetime, case: Case | None = None
) -> list[str]:
    """A case's commitments (pending first), or every pending one (the earliest, so the overdue,
    first); each line names its responsible."""
    day = today(policy, now)
    if case is not None:
        rows = [(c, case.folio) for c in uow.commitments.for_case(case.id)]
    else:
        rows = uow.commitments.pending(LIST_LENGTH)
    return [
        f"{line(policy, c, folio, day)} · {responsible_label(uow, policy, c)}" for c, folio in rows
    ]


def overdue_reminders(uow: UnitOfWork, policy: CasePolicy, now: datetime) -> list[Reply]:
    """Each responsible staff member is told of their overdue commitments (a commitment with
    nobody on the staff responsible goes to the staff chat), at most once a day each: the
    commitments told are marked."""
    t, day = policy.texts, today(policy, now)
    since = policy.calendar.start_of_day(day)
    by_member: dict[int | None, list[str]] = {}
    for commitment, folio in uow.commitments.overdue_untold(day, since):
        member = uow.staff.get(commitment.responsible_id) if commitment.responsible_id else None
        key = member.id if member is not None and member.active else None
        by_member.setdefault(key, []).append(line(policy, commitment, folio, day))
        if key is None:
            by_member[None][-1] += f" · {responsible_label(uow, policy, commitment)}"
        commitment.overdue_notified_at = now
        uow.commitments.add(commitment)
    replies: list[Reply] = []
    for member_id, lines in by_member.items():
        member = uow.staff.get(member_id) if member_id is not None else None
        heading = t("commitments.overdue_header", count=len(lines))
        text = "\n".join([heading, *lines])
        replies += staff_replies(Event.COMMITMENT_OVERDUE, uow, policy, text, assignee=member)
    return replies
