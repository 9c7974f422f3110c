"""The report queries: every figure of the period report and the weekly summary is aggregated by
the database (GROUP BY, counts, medians), never by loading cases into Python as objects.

SQLite has no hash aggregation and no selection algorithm: its GROUP BY and its medians sort
the period's rows in a temporary B-tree, which over a quarter of a large database costs more
than reading the rows. There the breakdowns are grouped by one JSON array of each row's values
(sorted faster than the values), and the medians are the middle values of arrays of the cases'
times (NumPy), by the arithmetic of PostgreSQL's statements (which aggregate and take the
medians in the database). Reading rows into Python holds the interpreter's lock, so the queries
of a gather that do it take turns (two at once run slower than one after the other), while the
others run in SQLite alone, in parallel with them.
"""

from __future__ import annotations

import json
import os
import threading
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, case, cast, func, or_, select, true, union_all
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from storage.models import Case, Commitment, Staff, Visit

if TYPE_CHECKING:
    import numpy as np

cases = Case.__table__.c
commitments = Commitment.__table__.c
visits = Visit.__table__.c
DAY = 86400  # seconds
UNIX_EPOCH_JULIAN = 2440587.5  # julianday('1970-01-01')


class ReportRepository:
    """Aggregates over the cases of some channels; instants are UTC, ranges half-open."""

    def __init__(
        self,
        session: Session,
        channels: Sequence[str],
        rows_turn: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.session = session
        self.channels = tuple(channels)
        self.postgres = session.get_bind().dialect.name == "postgresql"
        # Held while reading rows into Python (see the module's docstring).
        self.rows_turn = rows_turn or nullcontext()

    def gather(self, *queries: Callable[[ReportRepository], Any]) -> list[Any]:
        """The answers of independent queries, in order, asked at once: each on a connection of
        its own that only reads, on a thread more than there are cores (a tally's queries are
        the most of its time, and the database works on each in parallel; the extra thread
        keeps the cores busy while a query waits for its turn to read rows into Python)."""
        engine = self.session.get_bind().execution_options(read_only=True)
        rows_turn = threading.Lock()

        def ask(query: Callable[[ReportRepository], Any]) -> Any:
            with Session(engine) as session:
                return query(ReportRepository(session, self.channels, rows_turn))

        workers = max(1, min(len(queries), (os.cpu_count() or 1) + 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(ask, queries))

    def _rows(self, statement) -> list[Any]:
        return list(self.session.connection().execute(statement).all())

    def _one(self, statement) -> Any:
        return self.session.connection().execute(statement).one()

    def _plain_rows(self, statement) -> Iterator[tuple]:
        """The rows of a statement as the driver returns them, plain tuples: for a quarter's
        cases, building SQLAlchemy's rows costs more than the database's own work. Only for
        columns the driver gives as they are stored (text, numbers)."""
        with self.rows_turn:
            result = self.session.connection().execute(statement)
            try:
                # The DB-API cursor iterates its rows (the type stubs do not say so).
                yield from typing.cast(Iterable[tuple], result.cursor)
            finally:
                result.close()

    def _grouped(
        self, columns: Sequence[ColumnElement[Any]], condition: ColumnElement[bool]
    ) -> list[tuple]:
        """On SQLite, the distinct values of `columns` among the rows meeting `condition`, each
        with how many rows have them, as a GROUP BY of the columns with a count would give
        them: grouped by one JSON array of each row's values, which SQLite's sorter orders
        faster than the values themselves (a quarter to a third less time over a quarter's
        cases)."""
        values = func.json_array(*columns).label("key")
        statement = select(values, func.count()).where(condition).group_by(values)
        return [(*json.loads(key), count) for key, count in self._rows(statement)]

    def visit_counts(self, start: datetime, end: datetime) -> list[tuple]:
        """Visits planned in [start, end) on cases of these channels: (status, confirmed by the
        citizen, the case affects women, count)."""
        confirmed = visits.confirmed_at.is_not(None)
        statement = (
            select(visits.status, confirmed, cases.affects_women, func.count())
            .select_from(Visit.__table__.join(Case.__table__, cases.id == visits.case_id))
            .where(
                visits.starts_at >= start,
                visits.starts_at < end,
                cases.channel.in_(self.channels),
            )
            .group_by(visits.status, confirmed, cases.affects_women)
        )
        return self._rows(statement)

    def _received(self, start: datetime, end: datetime) -> ColumnElement[bool]:
        return and_(
            cases.created_at >= start, cases.created_at < end, cases.channel.in_(self.channels)
        )

    def _attended(self, start: datetime, end: datetime) -> ColumnElement[bool]:
        return and_(
            cases.attended_at >= start, cases.attended_at < end, cases.channel.in_(self.channels)
        )

    def received_cube(self, start: datetime, end: datetime) -> list[tuple]:
        """(channel, type, topic, municipality, urgency, cases) of the cases created in the
        range: every breakdown of the received cases, from one pass."""
        dimensions = (cases.channel, cases.type, cases.topic, cases.municipality, cases.urgency)
        if not self.postgres:
            return self._grouped(dimensions, self._received(start, end))
        statement = (
            select(*dimensions, func.count())
            .where(self._received(start, end))
            .group_by(*dimensions)
        )
        return [tuple(row) for row in self._rows(statement)]

    def attended_cube(self, start: datetime, end: datetime) -> list[tuple]:
        """(channel, type, within the deadline 0/1, survey rating, survey resolved, cases) of
        the cases first attended in the range (on SQLite the survey's resolved answer as it
        keeps it, 0 or 1)."""
        within = case((cases.attended_at <= cases.due_at, 1), else_=0)
        dimensions = (cases.channel, cases.type, within, cases.survey_rating, cases.survey_resolved)
        if not self.postgres:
            return self._grouped(dimensions, self._attended(start, end))
        statement = (
            select(*dimensions, func.count())
            .where(self._attended(start, end))
            .group_by(*dimensions)
        )
        return [tuple(row) for row in self._rows(statement)]

    def people(
        self, start: datetime, end: datetime, youth: tuple[int, int]
    ) -> list[tuple[str, int, int]]:
        """(gender, people, young people) among the distinct citizens with a case created in the
        range: one per contact (as their latest case there describes them), one per case
        without a contact (anonymous, phone calls, erased)."""
        with_contact = and_(self._received(start, end), cases.contact_id.is_not(None))
        without_contact = select(cases.gender, cases.age).where(
            self._received(start, end), cases.contact_id.is_(None)
        )
        if self.postgres:
            latest = select(func.max(cases.id)).where(with_contact).group_by(cases.contact_id)
            people = union_all(
                select(cases.gender, cases.age).where(cases.id.in_(latest)), without_contact
            ).subquery()
        else:
            # SQLite gives a bare column the value of the row whose max() the group took: each
            # contact's latest case in the same pass over the index, not a lookup per contact.
            people = union_all(
                select(cases.gender, cases.age, func.max(cases.id))
                .where(with_contact)
                .group_by(cases.contact_id),
                without_contact.add_columns(cases.id),
            ).subquery()
        young = case((people.c.age.between(youth[0], youth[1]), 1), else_=0)
        statement = select(people.c.gender, func.count(), func.sum(young)).group_by(people.c.gender)
        return [(gender, count, int(young or 0)) for gender, count, young in self._rows(statement)]

    def _hours(self, later, earlier) -> ColumnElement[float]:
        if self.postgres:
            return func.extract("epoch", later - earlier) / 3600.0  # type: ignore[return-value]
        return (func.julianday(later) - func.julianday(earlier)) * 24.0

    def _local_seconds(self, instant, offset: int) -> ColumnElement[float]:
        """Seconds from 1970-01-01 00:00 local time to `instant` (`offset`: the time zone's
        seconds from UTC)."""
        if self.postgres:
            return func.extract("epoch", instant) + offset  # type: ignore[return-value]
        return (func.julianday(instant) - UNIX_EPOCH_JULIAN) * DAY + offset

    def _business_seconds(self, local, closed: Sequence[int]) -> ColumnElement[float]:
        """Seconds of business days from 1970-01-01 to the local instant `local` (seconds, see
        _local_seconds): weekends and the `closed` weekdays (day numbers since 1970-01-01) left
        out. Differences of two such values are business time. In PostgreSQL's statement; on
        SQLite _business_array does the same to an array."""
        day = cast(func.floor(local / DAY), Integer)
        # 1970-01-01 was a Thursday: Saturdays before `day` are (day + 4) // 7, Sundays
        # (day + 3) // 7, and its weekday (Monday 0) is (day + 3) % 7.
        days_off = (day + 4) // 7 + (day + 3) // 7
        for closed_day in closed:
            days_off = days_off + case((day > closed_day, 1), else_=0)
        working_today = and_((day + 3) % 7 < 5, day.not_in(closed) if closed else true())
        into_today = case((working_today, 0.0), else_=local - day * DAY)
        return local - days_off * DAY - into_today

    def _receipt_medians(
        self, later, condition: ColumnElement[bool], offset: int, closed: Sequence[int]
    ) -> tuple[float | None, float | None]:
        """(median hours, median business seconds) from receipt to `later` of the cases meeting
        `condition`, from one pass over them: the local instants are computed once per case (on
        PostgreSQL in a materialised CTE that both medians read, as the business-day arithmetic
        uses each many times; SQLite gives them to _span_medians)."""
        instants = select(
            self._local_seconds(cases.created_at, offset).label("created"),
            self._local_seconds(later, offset).label("later"),
        ).where(condition)
        if not self.postgres:
            return _span_medians(self._plain_rows(instants), closed)
        spans = instants.cte("spans").prefix_with("MATERIALIZED")
        hours = (spans.c.later - spans.c.created) / 3600.0
        business = self._business_seconds(spans.c.later, closed) - self._business_seconds(
            spans.c.created, closed
        )
        median = func.percentile_cont(0.5).within_group
        statement = select(median(hours), median(business)).select_from(spans)
        first, second = self._one(statement)
        return _float(first), _float(second)

    def _median(
        self,
        value: ColumnElement[float],
        condition: ColumnElement[bool],
        count: int,
        source: Any = None,
    ) -> float | None:
        """The median of `value` over the `count` cases meeting `condition` (rows of `source`,
        when given), in the database."""
        if not count:
            return None
        if self.postgres:
            statement = select(func.percentile_cont(0.5).within_group(value)).where(condition)
            if source is not None:
                statement = statement.select_from(source)
            return float(self._one(statement)[0])
        labelled = value.label("v")
        middle = select(labelled).where(condition).order_by(labelled)
        if source is not None:
            middle = middle.select_from(source)
        values = [
            row[0] for row in self._rows(middle.limit(2 - count % 2).offset((count - 1) // 2))
        ]
        return sum(values) / len(values)

    def median_first_response_hours(self, start: datetime, end: datetime) -> float | None:
        """Median hours from receipt to the first staff action, of cases created in the range."""
        condition = and_(self._received(start, end), cases.first_response_at.is_not(None))
        count = self._one(select(func.count()).where(condition))[0]
        return self._median(
            self._hours(cases.first_response_at, cases.created_at), condition, count
        )

    def first_response_medians(
        self, start: datetime, end: datetime, offset: int, closed: Sequence[int]
    ) -> tuple[float | None, float | None]:
        """(median hours, median business hours) from receipt to the first staff action, of the
        cases created in the range (business time: see _business_seconds)."""
        condition = and_(self._received(start, end), cases.first_response_at.is_not(None))
        hours, business = self._receipt_medians(cases.first_response_at, condition, offset, closed)
        return hours, None if business is None else business / 3600.0

    def earliest_attended_receipt(self, start: datetime, end: datetime) -> datetime | None:
        """When the oldest of the cases first attended in the range was received."""
        return self._one(select(func.min(cases.created_at)).where(self._attended(start, end)))[0]

    def resolution_medians(
        self, start: datetime, end: datetime, offset: int, closed: Sequence[int]
    ) -> tuple[float | None, float | None]:
        """(median days, median business days, of 24 hours) from receipt to attention of the
        cases first attended in the range."""
        hours, business = self._receipt_medians(
            cases.attended_at, self._attended(start, end), offset, closed
        )
        return (
            None if hours is None else hours / 24.0,
            None if business is None else business / DAY,
        )

    def backlog(
        self, end: datetime, now: datetime, since: datetime | None = None
    ) -> tuple[int, int]:
        """(cases open at `end`, of them past their deadline): created before it (and from
        `since`, when given) and neither attended nor closed by then; past their deadline at
        `end`, or now for a period that has not ended."""
        still_open = and_(
            cases.created_at < end,
            cases.created_at >= since if since is not None else true(),
            cases.channel.in_(self.channels),
            or_(cases.attended_at.is_(None), cases.attended_at >= end),
            or_(cases.closed_at.is_(None), cases.closed_at >= end),
        )
        overdue = case((cases.due_at < min(end, now), 1), else_=0)
        count, late = self._one(select(func.count(), func.sum(overdue)).where(still_open))
        return int(count), int(late or 0)

    def overdue(
        self, at: datetime, statuses: Sequence[str], limit: int
    ) -> tuple[int, list[str], list[tuple[str, int]]]:
        """(cases in these statuses, never attended, past their deadline at `at`, the folios of
        the `limit` oldest, (staff name, overdue cases) of the staff with most, most first)."""
        condition = and_(
            cases.status.in_(statuses),
            cases.attended_at.is_(None),
            cases.due_at < at,
            cases.channel.in_(self.channels),
        )
        count = int(self._one(select(func.count()).where(condition))[0])
        oldest = select(cases.folio).where(condition).order_by(cases.due_at, cases.id).limit(limit)
        staff = Staff.__table__.c
        per_agent = (
            select(staff.name, func.count().label("n"))
            .join_from(Case.__table__, Staff.__table__, staff.id == cases.assignee_id)
            .where(condition)
            .group_by(staff.name)
            .order_by(func.count().desc(), staff.name)
            .limit(limit)
        )
        agents = [(name, int(n)) for name, n in self._rows(per_agent)]
        return count, [row[0] for row in self._rows(oldest)], agents

    def _commitments_of(self) -> Any:
        """Commitments joined to their cases of these channels."""
        return Commitment.__table__.join(
            Case.__table__,
            and_(cases.id == commitments.case_id, cases.channel.in_(self.channels)),
        )

    def commitment_figures(
        self, start: datetime, end: datetime, first: date, last: date, overdue_before: date
    ) -> dict[str, int]:
        """Planned against executed, in one pass: commitments made in the range, due in it
        (dates `first` to `last`, not cancelled), met in it on time and late, pending at its end
        (made before, neither met nor cancelled by then), of them due before `overdue_before`,
        and those made in the range whose date was moved, or that were cancelled."""
        made = and_(commitments.created_at >= start, commitments.created_at < end)
        met = and_(
            commitments.status == "met", commitments.met_at >= start, commitments.met_at < end
        )
        still_pending = and_(
            commitments.created_at < end,
            or_(
                commitments.status == "pending",
                and_(commitments.status == "met", commitments.met_at >= end),
            ),
        )

        def count(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        statement = select(
            count(made),
            count(
                and_(
                    commitments.due_date >= first,
                    commitments.due_date <= last,
                    commitments.status != "cancelled",
                )
            ),
            count(and_(met, commitments.met_on_time == true())),
            count(
                and_(met, or_(commitments.met_on_time.is_(None), commitments.met_on_time != true()))
            ),
            count(still_pending),
            count(and_(still_pending, commitments.due_date < overdue_before)),
            count(and_(made, commitments.moved_count > 0)),
            count(and_(made, commitments.status == "cancelled")),
        ).select_from(self._commitments_of())
        keys = (
            "made",
            "due",
            "met_on_time",
            "met_late",
            "pending",
            "overdue",
            "moved",
            "cancelled",
        )
        return {key: int(value) for key, value in zip(keys, self._one(statement), strict=True)}

    def overdue_commitments(
        self, before: date, limit: int
    ) -> tuple[int, list[tuple[str, int, str | None, date]]]:
        """(pending commitments due before `before`, the `limit` oldest of them as (folio,
        number, responsible's name, date))."""
        condition = and_(commitments.status == "pending", commitments.due_date < before)
        source = self._commitments_of()
        total = int(self._one(select(func.count()).select_from(source).where(condition))[0])
        staff = Staff.__table__.c
        oldest = (
            select(
                cases.folio,
                commitments.id,
                func.coalesce(staff.name, commitments.responsible_name),
                commitments.due_date,
            )
            .select_from(source.outerjoin(Staff.__table__, staff.id == commitments.responsible_id))
            .where(condition)
            .order_by(commitments.due_date, commitments.id)
            .limit(limit)
        )
        return total, [tuple(row) for row in self._rows(oldest)]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _span_medians(
    rows: Iterable[tuple[float, float]], closed: Sequence[int]
) -> tuple[float | None, float | None]:
    """(median hours, median business seconds) of (local receipt, local later) instants in
    seconds (see ReportRepository._local_seconds), by the arithmetic of _business_seconds."""
    import numpy as np

    spans = np.fromiter(chain.from_iterable(rows), dtype=np.float64).reshape(-1, 2)
    created, later = spans[:, 0], spans[:, 1]
    days_off = np.sort(np.asarray(closed, dtype=np.int64))
    hours = (later - created) / 3600.0
    business = _business_array(later, days_off) - _business_array(created, days_off)
    return _middle(hours), _middle(business)


def _business_array(local: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """ReportRepository._business_seconds over an array of local instants (`closed` sorted):
    the same operations on the same doubles, so the same values."""
    import numpy as np

    day = np.floor(local / DAY).astype(np.int64)
    days_off = (day + 4) // 7 + (day + 3) // 7 + np.searchsorted(closed, day, side="left")
    working_today = ((day + 3) % 7 < 5) & ~np.isin(day, closed)
    into_today = np.where(working_today, 0.0, local - day * DAY)
    return local - days_off * DAY - into_today


def _middle(values: np.ndarray) -> float | None:
    """The median: the middle value, or the mean of the two middle ones, of the sorted values
    (a partial sort); None when there are none."""
    import numpy as np

    count = len(values)
    if not count:
        return None
    middle = (count - 1) // 2
    if count % 2:
        return float(np.partition(values, middle)[middle])
    lower, upper = np.partition(values, (middle, middle + 1))[middle : middle + 2]
    return (float(lower) + float(upper)) / 2
