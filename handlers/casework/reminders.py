"""The daily reminders: each agent's due-soon and overdue cases, escalations to supervisors."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.casework.lifecycle import ATTENDED
from handlers.casework.notifications import Event, staff_replies
from handlers.core.labels import OPEN_STATUSES
from handlers.core.messages import Reply
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case

DUE_SOON_DAYS = 2  # business days
# Still to be attended: open, and not referred (a referred case counts as attended, like in the
# period report).
PENDING = tuple(s for s in OPEN_STATUSES if s not in ATTENDED)
# Waiting for the citizen, the clock is stopped: such cases are neither due soon nor overdue.
RUNNING = tuple(s for s in PENDING if s != "esperando_ciudadano")


def daily_reminders(uow: UnitOfWork, policy: CasePolicy, now: datetime) -> list[Reply]:
    """What each agent and supervisor is told this morning (who hears it, and where: see
    notifications)."""
    t, calendar = policy.texts, policy.calendar
    today = calendar.local_date(now)
    soon = calendar.end_of_day(calendar.add_business_days(today, DUE_SOON_DAYS))
    # Unassigned for more than one business day: received before the previous business day.
    previous = today - timedelta(days=1)
    while not calendar.is_business_day(previous):
        previous -= timedelta(days=1)
    stale_before = calendar.end_of_day(previous - timedelta(days=1))
    running = uow.cases.queue(RUNNING)

    def line(case: Case) -> str:
        return t(
            "reminders.line", folio=case.folio, type=case.type, due=policy.local_day(case.due_at)
        )

    replies: list[Reply] = []
    for member in uow.staff.active():
        mine = [c for c in running if c.assignee_id == member.id]
        overdue = [c for c in mine if c.due_at < now]
        due_soon = [c for c in mine if now <= c.due_at <= soon]
        if not (overdue or due_soon):
            continue
        lines = [t("reminders.agent_header", name=member.name)]
        if overdue:
            lines += [t("reminders.overdue"), *map(line, overdue)]
        if due_soon:
            lines += [t("reminders.due_soon"), *map(line, due_soon)]
        replies += staff_replies(Event.REMINDER, uow, policy, "\n".join(lines), assignee=member)

    overdue = [c for c in running if c.due_at < now]
    unassigned = [c for c in running if c.assignee_id is None and c.created_at <= stale_before]
    if overdue or unassigned:
        lines = [t("reminders.supervisor_header")]
        if overdue:
            lines += [t("reminders.escalated_overdue"), *map(line, overdue)]
        if unassigned:
            lines += [t("reminders.unassigned"), *map(line, unassigned)]
        replies += staff_replies(Event.ESCALATION, uow, policy, "\n".join(lines))
    return replies
