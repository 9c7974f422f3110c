"""Commitments' queries: those of a case, the pending ones, the overdue ones to remind."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case as when
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.models import Case, Commitment
from storage.repositories import among, execute_many

# Pending ones first, by date; then the met and cancelled ones, latest first.
PENDING_FIRST = (
    when((col(Commitment.status) == "pending", 0), else_=1),
    when((col(Commitment.status) == "pending", col(Commitment.due_date)), else_=None),
    col(Commitment.id).desc(),
)


class CommitmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, commitment: Commitment) -> Commitment:
        self.session.add(commitment)
        self.session.flush()
        return commitment

    def get(self, commitment_id: int, *, lock: bool = False) -> Commitment | None:
        """A commitment, locked until the transaction ends when asked (two staff acting on it at
        once act one after the other)."""
        query = select(Commitment).where(Commitment.id == commitment_id)
        if lock:
            query = query.with_for_update()
        return self.session.exec(query).first()

    def for_case(self, case_id: int) -> list[Commitment]:
        """A case's commitments, pending ones first (the nearest date first)."""
        query = select(Commitment).where(Commitment.case_id == case_id).order_by(*PENDING_FIRST)
        return list(self.session.exec(query).all())

    def pending(self, limit: int | None = None) -> list[tuple[Commitment, str]]:
        """Every pending commitment with its case's folio, the earliest date first (the overdue
        ones lead)."""
        query = (
            select(Commitment, Case.folio)
            .join(Case, col(Case.id) == Commitment.case_id)
            .where(Commitment.status == "pending")
            .order_by(col(Commitment.due_date), col(Commitment.id))
            .limit(limit)
        )
        return [(commitment, folio) for commitment, folio in self.session.exec(query).all()]

    def overdue_untold(self, today: date, since: datetime) -> list[tuple[Commitment, str]]:
        """Pending commitments due before `today` whose responsible has not been told since
        `since` (the start of today), with their folios, locked until the transaction ends."""
        query = (
            select(Commitment, Case.folio)
            .join(Case, col(Case.id) == Commitment.case_id)
            .where(
                Commitment.status == "pending",
                col(Commitment.due_date) < today,
                or_(
                    col(Commitment.overdue_notified_at).is_(None),
                    col(Commitment.overdue_notified_at) < since,
                ),
            )
            .order_by(col(Commitment.due_date), col(Commitment.id))
            .with_for_update(of=Commitment)
        )
        return [(commitment, folio) for commitment, folio in self.session.exec(query).all()]

    def anonymise(self, case_ids: list[int], placeholder: str) -> None:
        """What was promised can name people or places: cleared with the cases' texts; the
        dates and outcomes stay for the figures."""
        if not case_ids:
            return
        many = len(case_ids)
        execute_many(
            self.session,
            update(Commitment)
            .where(among(self.session, Commitment.case_id, case_ids))
            .values(what=placeholder, moved_reason=None),
            many,
        )
