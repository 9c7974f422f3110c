"""Field visits' queries: a case's visits, the one a citizen may be answering, the staff's list,
tomorrow's reminders and the period's counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from storage.models import Case, Visit
from storage.repositories import among, execute_many

OPEN_VISIT = ("proposed", "confirmed", "reschedule_asked")  # not yet done, cancelled or missed
# What a citizen can still answer, and what is reminded the day before.
AWAITED = ("proposed", "confirmed")


class VisitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, visit: Visit) -> Visit:
        self.session.add(visit)
        self.session.flush()
        return visit

    def get(self, visit_id: int, *, lock: bool = False) -> Visit | None:
        query = select(Visit).where(Visit.id == visit_id)
        if lock:
            query = query.with_for_update()
        return self.session.exec(query).first()

    def for_case(self, case_id: int) -> Sequence[Visit]:
        query = select(Visit).where(Visit.case_id == case_id).order_by(col(Visit.id))
        return self.session.exec(query).all()

    def awaiting_answer(self, contact_id: int) -> Visit | None:
        """The latest visit proposed or confirmed on a case of this person (not anonymous)."""
        query = (
            select(Visit)
            .join(Case, col(Case.id) == col(Visit.case_id))
            .where(
                Case.contact_id == contact_id,
                col(Case.anonymous).is_(False),
                col(Visit.status).in_(AWAITED),
            )
            .order_by(col(Visit.id).desc())
        )
        return self.session.exec(query).first()

    def listing(
        self,
        *,
        since: datetime | None = None,
        statuses: Sequence[str] | None = None,
        who: str | None = None,
        limit: int = 500,
    ) -> list[tuple[Visit, Case]]:
        """Visits with their case: those of cases affecting women first, then by start."""
        query = select(Visit, Case).join(Case, col(Case.id) == col(Visit.case_id))
        if since is not None:
            query = query.where(Visit.ends_at >= since)
        if statuses:
            query = query.where(col(Visit.status).in_(statuses))
        if who:
            # A staff member's visits: those they go to, and those they proposed.
            name = who.lower()
            query = query.where(
                or_(func.lower(Visit.who).contains(name), func.lower(Visit.proposed_by) == name)
            )
        query = query.order_by(col(Case.affects_women).desc(), col(Visit.starts_at), col(Visit.id))
        return [(visit, case) for visit, case in self.session.exec(query.limit(limit)).all()]

    def to_remind(self, start: datetime, end: datetime) -> list[tuple[Visit, Case]]:
        """Visits still awaited that start in [start, end) and were not reminded yet."""
        query = (
            select(Visit, Case)
            .join(Case, col(Case.id) == col(Visit.case_id))
            .where(
                col(Visit.status).in_(AWAITED),
                col(Visit.reminded_at).is_(None),
                Visit.starts_at >= start,
                Visit.starts_at < end,
            )
            .order_by(col(Visit.starts_at), col(Visit.id))
            .with_for_update(of=Visit)
        )
        return [(visit, case) for visit, case in self.session.exec(query).all()]

    def done_by(self, staff_id: int, since: datetime) -> Visit | None:
        """The visit this staff member last recorded as done, if not before `since`."""
        query = (
            select(Visit)
            .where(Visit.done_by_id == staff_id, col(Visit.done_at) >= since)
            .order_by(col(Visit.done_at).desc())
        )
        return self.session.exec(query).first()

    def forget_cases(self, case_ids: list[int]) -> None:
        """An anonymised case's visits keep their dates and status, not what was written."""
        if not case_ids:
            return
        execute_many(
            self.session,
            update(Visit)
            .where(among(self.session, Visit.case_id, case_ids))
            .values(citizen_answer=None, outcome=None, next_step=None, reason=None),
            len(case_ids),
        )
