"""The weekly supervisor summary: the week's cases against the previous week, what is overdue and
who has it, emergencies, first response and satisfaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from handlers.casework.notifications import Event, staff_replies
from handlers.casework.reminders import RUNNING
from handlers.core.labels import CASE_TYPES, CHANNELS
from handlers.core.messages import Reply
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from handlers.reporting.tally import (
    FIRST_DAY,
    LAST_DAY,
    Period,
    attended_figures,
    number,
    sum_by,
    visit_figures,
)

OLDEST = 5  # overdue folios and agents listed


class BadWeek(ValueError):
    """A week string that names no ISO week; the message is one Spanish line."""


def parse_week(t: Texts, value: str) -> date:
    """The Monday of an ISO week written `2026-W47`."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", value.strip().upper())
    try:
        if match is None:
            raise ValueError(value)
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        if not FIRST_DAY <= monday <= LAST_DAY:  # the week and the one before must be dates
            raise ValueError(value)
        return monday
    except ValueError as exc:
        raise BadWeek(t("summary.bad_week", value=value)) from exc


def last_full_week(today: date) -> date:
    """The Monday of the week before the one `today` is in."""
    return today - timedelta(days=today.weekday() + 7)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class WeeklySummary:
    """The figures of one week (Monday to Sunday, institution time)."""

    week: str
    first: date
    last: date
    received: dict[str, int]  # by type
    received_before: dict[str, int]
    by_channel: dict[str, int]
    by_channel_before: dict[str, int]
    attended: int
    still_open: int  # received in the week and open when it ended (or now, for this week)
    open_now: int  # every case open when the week ended (or now, for this week)
    overdue: int  # past their deadline now, whatever the week ("hoy")
    oldest_overdue: list[str]
    agents_overdue: list[tuple[str, int]]
    emergencies: int
    median_first_response_hours: float | None
    satisfaction_responses: int
    satisfaction_mean: float | None
    # Pending commitments past their date, and the oldest: (folio, number, responsible, date).
    commitments_overdue: int = 0
    oldest_commitments: tuple[tuple[str, int, str | None, date], ...] = ()
    visits: dict[str, int] | None = None  # the week's field visits (tally.visit_figures)
    ended: bool = True  # False for the week in progress: its open cases are today's


def build_summary(reports: Any, policy: CasePolicy, monday: date, now: datetime) -> WeeklySummary:
    """The week that starts on `monday`; open cases as of the week's end (or now, if earlier),
    as the period report's backlog counts them: received by then, neither attended nor closed
    by then. Overdue cases are today's, for any week (the summary says "hoy"): running, never
    attended, past their deadline now; a referred case is attended, as in the period report."""
    tz = policy.calendar.tz
    week = Period(week_label(monday), monday, monday + timedelta(days=6))
    start, end = week.bounds(tz)
    before_start, _ = Period("", monday - timedelta(days=7), monday).bounds(tz)
    # Independent queries, asked together (the database answers them in parallel).
    # Commitments overdue as of the day after the week (or today, if earlier).
    commitments_before = min(week.last + timedelta(days=1), policy.calendar.local_date(now))
    at = min(now, end)
    (
        this_week,
        previous,
        attended_rows,
        overdue_rows,
        still_open,
        open_now,
        median,
        (commitments_overdue, oldest_commitments),
        visit_rows,
    ) = reports.gather(
        lambda r: r.received_cube(start, end),
        lambda r: r.received_cube(before_start, start),
        lambda r: r.attended_cube(start, end),
        lambda r: r.overdue(now, RUNNING, OLDEST),
        lambda r: r.backlog(at, now, since=start),
        lambda r: r.backlog(at, now),
        lambda r: r.median_first_response_hours(start, end),
        lambda r: r.overdue_commitments(commitments_before, OLDEST),
        lambda r: r.visit_counts(start, end),
    )
    attended = attended_figures(attended_rows)
    overdue, oldest, agents = overdue_rows
    return WeeklySummary(
        week=week.label,
        first=week.first,
        last=week.last,
        received=sum_by(this_week, 1),
        received_before=sum_by(previous, 1),
        by_channel=sum_by(this_week, 0),
        by_channel_before=sum_by(previous, 0),
        attended=attended["closed"],
        still_open=still_open[0],
        open_now=open_now[0],
        overdue=overdue,
        oldest_overdue=oldest,
        agents_overdue=agents,
        emergencies=sum_by(this_week, 4).get("emergencia", 0),
        median_first_response_hours=median,
        satisfaction_responses=attended["responses"],
        satisfaction_mean=attended["mean"] if attended["responses"] else None,
        commitments_overdue=commitments_overdue,
        oldest_commitments=tuple(oldest_commitments),
        visits=visit_figures(visit_rows),
        ended=now >= end,
    )


def _change(now: int, before: int) -> str:
    difference = now - before
    return f"+{number(difference)}" if difference > 0 else number(difference)


def render_summary(t: Texts, summary: WeeklySummary) -> str:
    """The summary as one message for a supervisor."""
    total, total_before = sum(summary.received.values()), sum(summary.received_before.values())
    lines = [
        t(
            "summary.header",
            week=summary.week,
            first=summary.first.strftime("%d/%m"),
            last=summary.last.strftime("%d/%m/%Y"),
        ),
        t(
            "summary.received",
            total=number(total),
            before=number(total_before),
            change=_change(total, total_before),
        ),
    ]
    for case_type in CASE_TYPES:
        now, before = summary.received.get(case_type, 0), summary.received_before.get(case_type, 0)
        if now or before:
            lines.append(t("summary.line", name=case_type, now=number(now), before=number(before)))
    for channel in CHANNELS:
        now = summary.by_channel.get(channel, 0)
        before = summary.by_channel_before.get(channel, 0)
        if now or before:
            name = t(f"labels.channel.{channel}")
            lines.append(t("summary.line", name=name, now=number(now), before=number(before)))
    lines += [
        t("summary.closed", count=number(summary.attended)),
        t(
            "summary.still_open" if summary.ended else "summary.still_open_today",
            count=number(summary.still_open),
            open=number(summary.open_now),
        ),
        t("summary.emergencies", count=number(summary.emergencies)),
        t("summary.overdue", count=number(summary.overdue)),
    ]
    if summary.oldest_overdue:
        lines.append(t("summary.oldest", folios=", ".join(summary.oldest_overdue)))
    if summary.agents_overdue:
        agents = ", ".join(f"{name} ({number(count)})" for name, count in summary.agents_overdue)
        lines.append(t("summary.agents", agents=agents))
    if summary.commitments_overdue:
        items = "; ".join(
            t(
                "summary.commitments_overdue_item",
                folio=folio,
                number=number_,
                responsible=responsible or t("commitments.nobody"),
                # The year only when it is not the week's: "vencía 31/12/2025".
                due=due.strftime("%d/%m" if due.year == summary.last.year else "%d/%m/%Y"),
            )
            for folio, number_, responsible, due in summary.oldest_commitments
        )
        lines.append(
            t("summary.commitments_overdue", count=number(summary.commitments_overdue), items=items)
        )
    if summary.median_first_response_hours is None:
        lines.append(t("summary.no_first_response"))
    else:
        hours = number(summary.median_first_response_hours, 1)
        lines.append(t("summary.first_response", hours=hours))
    if summary.satisfaction_responses:
        form = "one" if summary.satisfaction_responses == 1 else "many"
        lines.append(
            t(
                f"summary.satisfaction_{form}",
                mean=number(summary.satisfaction_mean or 0.0, 1),
                count=number(summary.satisfaction_responses),
            )
        )
    if summary.visits and summary.visits["proposed"]:
        visits = {key: number(value) for key, value in summary.visits.items()}
        lines.append(t("visits.summary_line", **visits))
    return "\n".join(lines)


def summary_chart(t: Texts, summary: WeeklySummary) -> bytes:
    """The week's received cases by type beside the previous week's, as PNG."""
    from handlers.reporting.files import chart_png

    labels = [t("summary.previous_week"), summary.week]
    series = {
        case_type: [summary.received_before.get(case_type, 0), summary.received.get(case_type, 0)]
        for case_type in CASE_TYPES
    }
    return chart_png(t, t("summary.chart_title"), labels, series)


def summary_replies(uow: UnitOfWork, policy: CasePolicy, text: str) -> list[Reply]:
    """The summary for the staff the notification rules name (active supervisors and
    administrators, each on one channel)."""
    return staff_replies(Event.WEEKLY_SUMMARY, uow, policy, text)
