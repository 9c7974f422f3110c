"""What the desk's pages show, computed from the cases: deadlines in words, the Bandeja's rows,
a case's timeline, the actions its lifecycle allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers.casework.lifecycle import FINAL, REOPENED_FROM, SUPERVISING, TRANSITIONS
from handlers.core.deadlines import BusinessCalendar
from handlers.core.policy import CasePolicy
from handlers.core.texts import Texts
from storage.models import Attachment, Case, CaseEvent, Message, Staff

DUE_SOON = 2  # business days left (today included) when a case shows as due soon


class DayCounter:
    """Business days between two dates, counted from per-year tables built once: a page of
    cases overdue by months would otherwise look up tens of thousands of days."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._years: dict[int, list[int]] = {}

    def _year(self, year: int) -> list[int]:
        if year not in self._years:
            day, counted, table = date(year, 1, 1), 0, []
            while day.year == year:
                counted += self.calendar.is_business_day(day)
                table.append(counted)
                day += timedelta(days=1)
            self._years[year] = table
        return self._years[year]

    def _upto(self, day: date) -> int:
        return self._year(day.year)[day.timetuple().tm_yday - 1]

    def is_business_day(self, day: date) -> bool:
        table = self._year(day.year)
        index = day.timetuple().tm_yday - 1
        return table[index] > (table[index - 1] if index else 0)

    def between(self, start: date, end: date) -> int:
        """As BusinessCalendar.business_days_between: after `start`, up to `end` included."""
        if end <= start:
            return 0
        full_years = sum(self._year(year)[-1] for year in range(start.year, end.year))
        return full_years + self._upto(end) - self._upto(start)


@dataclass(frozen=True)
class Deadline:
    state: str  # a_tiempo, por_vencer, vencido, pausado, cerrado
    words: str
    days_left: int  # negative when overdue


def deadline(
    policy: CasePolicy, t: Texts, case: Case, now: datetime, days: DayCounter | None = None
) -> Deadline:
    """The deadline as a person says it: "vence el jueves 24/12/2026: faltan 6 días hábiles"."""
    from handlers.casework.lifecycle import effective_due

    calendar = policy.calendar
    days = days or DayCounter(calendar)
    due = effective_due(policy, case, now)
    day = policy.local_day(due)
    today, due_day = calendar.local_date(now), calendar.local_date(due)
    extended = t.plural("deadline.extended", case.extension_days) if case.extension_days else ""
    if case.status in FINAL:
        return Deadline("cerrado", t("deadline.closed", due=day) + extended, 0)
    if due_day >= today:
        counted_today = days.is_business_day(today)
        left = days.between(today, due_day) + counted_today
        if due_day == today:
            words = t("deadline.today", due=day)
        elif left == 1:
            words = t("deadline.left_one", due=day)
        else:
            # Today is said to be counted: on the day a case comes in, its 15 days are 16 here.
            key = "deadline.left_with_today" if counted_today else "deadline.left"
            words = t(key, due=day, days=left)
        state = "por_vencer" if left <= DUE_SOON else "a_tiempo"
    else:
        late = days.between(due_day, today)
        words = t.plural("deadline.late", late, due=day)
        left, state = -late, "vencido"
    if case.paused_at is not None:
        since = policy.local_time(case.paused_at, anonymous=case.anonymous)
        return Deadline("pausado", t("deadline.paused", since=since, rest=words) + extended, left)
    return Deadline(state, words + extended, left)


def since_words(
    t: Texts,
    then: datetime | None,
    now: datetime,
    day_of: Callable[[datetime], date] | None = None,
) -> str:
    """How long ago, in the largest unit that fits: "hace 3 h". With `day_of` (the local
    date of an instant), for what is kept to its day only (an anonymous case): "hoy", "ayer"."""
    if then is None:
        return t("time.never")
    if day_of is not None:
        days = (day_of(now) - day_of(then)).days
        if days <= 1:
            return t("time.today" if days <= 0 else "time.yesterday")
        return t("time.days", n=days)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return t("time.just_now")
    if seconds < 3600:
        return t("time.minutes", n=seconds // 60)
    if seconds < 48 * 3600:
        return t("time.hours", n=seconds // 3600)
    return t("time.days", n=seconds // 86400)


@dataclass(frozen=True)
class Row:
    case: Case
    deadline: Deadline
    assignee: str
    last_wrote: str


def allowed_statuses(case: Case, member: Staff) -> list[str]:
    """The statuses the lifecycle lets this member move the case to."""
    if case.status in REOPENED_FROM and member.role not in SUPERVISING:
        return []
    return sorted(TRANSITIONS.get(case.status, frozenset()))


# A message to the citizen by where it stands (messages.status): not yet sent (queued, or
# waiting for the person to write within WhatsApp's 24 hours), or given up; else sent.
DELIVERY_KINDS = {
    "pending": "to_send",
    "waiting": "to_send",
    "failed": "undelivered",
    "undelivered": "undelivered",
}


@dataclass(frozen=True)
class Entry:
    """One line of a case's timeline."""

    at: datetime
    kind: str  # citizen, sent / to_send / undelivered (to the citizen), staff, reply, note, event
    who: str
    text: str
    attachments: tuple[Attachment, ...] = ()


def timeline(
    policy: CasePolicy,
    t: Texts,
    case: Case,
    messages: list[Message],
    events: list[CaseEvent],
    attachments: list[Attachment],
) -> list[Entry]:
    """The citizen's messages, what was sent to them, what was sent to staff about the case (cards,
    alerts), staff replies, internal notes and status events, in the order they happened."""
    from handlers.casework.cases import event_note, event_summary, message_text

    by_message: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        by_message.setdefault(attachment.message_id, []).append(attachment)
    entries: list[Entry] = []
    for message in messages:
        if message.direction == "in":
            # A staff member's photo from a field visit is theirs, not the citizen's.
            kind = "from_staff" if message.to_staff else "citizen"
            files = tuple(by_message.get(message.id, ()))
            # Words, or the files shown; a pin alone says it had no text.
            body = message.body if files else message_text(policy.texts, message)
            entries.append(Entry(message.created_at, kind, t(f"timeline.{kind}"), body, files))
        elif message.to_staff:
            entries.append(Entry(message.created_at, "staff", t("timeline.staff"), message.body))
        else:
            # Queued is not sent: the desk says which replies the citizen has not received.
            kind = DELIVERY_KINDS.get(message.status, "sent")
            entries.append(Entry(message.created_at, kind, t(f"timeline.{kind}"), message.body))
    replies_sent = any(m.direction == "out" and not m.to_staff for m in messages)
    for event in events:
        if event.kind == "staff_reply":
            if replies_sent:
                continue  # the message sent shows it
            entries.append(Entry(event.at, "reply", event.actor, event.note or ""))
        elif event.kind == "note":
            entries.append(Entry(event.at, "note", event.actor, event.note or ""))
        else:
            what = event_summary(policy.texts, event, for_staff=True)
            if event.kind == "assigned" and event.note:
                what = t("timeline.assigned", name=event.note)
            elif event.note:
                what = f"{what}: {event_note(policy.texts, event)}"
            entries.append(Entry(event.at, "event", event.actor, what))
    entries.sort(key=lambda entry: entry.at)
    return entries
