"""The period report's figures as the report queries give them (on SQLite they count plain rows
and take the medians with NumPy) against a straightforward count of the same cases in Python,
on SQLite and PostgreSQL."""

import statistics
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.reporting import tally
from handlers.core.deadlines import BusinessCalendar
from handlers.core.texts import load_texts
from handlers.reporting.tally import (
    REPORT_CHANNELS,
    Period,
    _closed_days,
    _zone_offset,
    build_tally,
    parse_period,
)
from storage.models import Case
from storage.reports import ReportRepository


class PlainReports:
    """The report repository's answers computed case by case from every case in memory."""

    def __init__(self, cases: list[Case], calendar: BusinessCalendar, others) -> None:
        self.cases = [case for case in cases if case.channel in REPORT_CHANNELS]
        self.calendar = calendar
        self.channels = REPORT_CHANNELS
        self.others = others  # the real repository, for what this comparison does not cover

    def commitment_figures(self, *args):
        return self.others.commitment_figures(*args)

    def visit_counts(self, *args):
        return self.others.visit_counts(*args)

    def gather(self, *queries):
        return [query(self) for query in queries]

    def _received(self, start: datetime, end: datetime) -> list[Case]:
        return [case for case in self.cases if start <= case.created_at < end]

    def _attended(self, start: datetime, end: datetime) -> list[Case]:
        return [case for case in self.cases if case.attended_at and start <= case.attended_at < end]

    def received_cube(self, start: datetime, end: datetime) -> list[tuple]:
        counts = Counter(
            (case.channel, case.type, case.topic, case.municipality, case.urgency)
            for case in self._received(start, end)
        )
        return [(*key, count) for key, count in counts.items()]

    def attended_cube(self, start: datetime, end: datetime) -> list[tuple]:
        counts = Counter(
            (
                case.channel,
                case.type,
                int(case.due_at is not None and case.attended_at <= case.due_at),
                case.survey_rating,
                case.survey_resolved,
            )
            for case in self._attended(start, end)
        )
        return [(*key, count) for key, count in counts.items()]

    def people(self, start: datetime, end: datetime, youth: tuple[int, int]) -> list[tuple]:
        latest: dict[int, Case] = {}
        anonymous = []
        for case in self._received(start, end):
            if case.contact_id is None:
                anonymous.append(case)
            elif case.contact_id not in latest or case.id > latest[case.contact_id].id:
                latest[case.contact_id] = case
        people, young = Counter(), Counter()
        for case in [*latest.values(), *anonymous]:
            people[case.gender] += 1
            young[case.gender] += case.age is not None and youth[0] <= case.age <= youth[1]
        return [(gender, count, young[gender]) for gender, count in people.items()]

    def earliest_attended_receipt(self, start: datetime, end: datetime) -> datetime | None:
        return min((case.created_at for case in self._attended(start, end)), default=None)

    def backlog(
        self, end: datetime, now: datetime, since: datetime | None = None
    ) -> tuple[int, int]:
        still_open = [
            case
            for case in self.cases
            if case.created_at < end
            and (since is None or case.created_at >= since)
            and (case.attended_at is None or case.attended_at >= end)
            and (case.closed_at is None or case.closed_at >= end)
        ]
        late = sum(case.due_at is not None and case.due_at < min(end, now) for case in still_open)
        return len(still_open), late

    def _medians(self, spans: list[tuple[datetime, datetime]]) -> tuple[float | None, ...]:
        if not spans:
            return None, None
        hours = [(later - received).total_seconds() / 3600 for received, later in spans]
        business = [self._business_seconds(received, later) for received, later in spans]
        return statistics.median(hours), statistics.median(business)

    def _business_seconds(self, received: datetime, later: datetime) -> float:
        """The seconds between two instants that fall on business days, day by day."""
        tz = self.calendar.tz
        first, last = (instant.astimezone(tz).replace(tzinfo=None) for instant in (received, later))
        seconds, day = 0.0, first.date()
        while day <= last.date():
            if self.calendar.is_business_day(day):
                midnight = datetime.combine(day, time())
                overlap = min(last, midnight + timedelta(days=1)) - max(first, midnight)
                seconds += max(overlap.total_seconds(), 0.0)
            day += timedelta(days=1)
        return seconds

    def first_response_medians(self, start, end, offset, closed) -> tuple[float | None, ...]:
        spans = [
            (case.created_at, case.first_response_at)
            for case in self._received(start, end)
            if case.first_response_at is not None
        ]
        hours, business = self._medians(spans)
        return hours, None if business is None else business / 3600

    def resolution_medians(self, start, end, offset, closed) -> tuple[float | None, ...]:
        spans = [(case.created_at, case.attended_at) for case in self._attended(start, end)]
        hours, business = self._medians(spans)
        return (
            None if hours is None else hours / 24,
            None if business is None else business / 86400,
        )


@pytest.fixture
def synthetic(app):
    """A year of 800 synthetic cases (demo-data), and every one of them as stored."""
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    cli = build_cli(load_texts())
    result = CliRunner().invoke(cli, ["demo-data", "--cases", "800", "--seed", "5"], env=env)
    assert result.exit_code == 0, result.output
    with app.uow() as uow:
        cases = list(uow.session.exec(select(Case)).all())
        uow.session.expunge_all()
    return cases


def test_the_tally_of_a_year_of_cases_is_what_counting_them_one_by_one_gives(app, synthetic):
    policy, now = app.policy, datetime.now(UTC)
    today = policy.calendar.local_date(now)
    quarter = (today.month - 1) // 3
    last_quarter = f"{today.year - 1}-T4" if quarter == 0 else f"{today.year}-T{quarter}"
    periods = [
        Period("año", today - timedelta(days=367), today + timedelta(days=1)),
        parse_period(policy.texts, last_quarter, None, None),
    ]
    youth = tuple(app.settings.reporting.youth_ages)
    with app.reading_uow() as uow:
        plain = PlainReports(
            synthetic, policy.calendar, ReportRepository(uow.session, REPORT_CHANNELS)
        )
        for period in periods:
            figures = tally(app, period, now=now)
            del figures["institution"]
            expected = build_tally(
                plain, period, policy.calendar, youth, policy.texts, now, places=policy.places
            )
            assert figures == expected
            assert figures["received"]["total"] > 100 and figures["deadlines"]["closed"] > 50
    # The medians before rounding, too (SQLite's instants are exact to a few microseconds).
    start, end = periods[0].bounds(policy.calendar.tz)
    with app.reading_uow() as uow:
        reports = ReportRepository(uow.session, REPORT_CHANNELS)
        earliest = reports.earliest_attended_receipt(start, end)
        offset = _zone_offset(policy.calendar, start)
        closed = _closed_days(policy.calendar, start, end, earliest, now)
        for name in ("first_response_medians", "resolution_medians"):
            fast = getattr(reports, name)(start, end, offset, closed)
            assert fast == pytest.approx(getattr(plain, name)(start, end, offset, closed))
