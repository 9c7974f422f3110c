"""The unit of work: one transaction, its repositories, and an explicit commit."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from storage.commitments import CommitmentRepository
from storage.community import CommunityRepository
from storage.desk import DeskRepository
from storage.engine import purge_old_versions
from storage.ids import PROCESS_IDS, IdClock
from storage.repositories import (
    CaseRepository,
    ContactRepository,
    ConversationRepository,
    ExampleRepository,
    JobRunRepository,
    MessageRepository,
    OutboxRepository,
    StaffRepository,
)
from storage.visits import VisitRepository


class UnitOfWork:
    """Everything done inside `with uow:` is one transaction; what is not committed rolls back."""

    def __init__(self, engine: Engine, ids: IdClock = PROCESS_IDS) -> None:
        self._engine = engine
        self._ids = ids  # numbers the rows that can leave for an anonymous case (storage/ids.py)
        self._sessions = sessionmaker(engine, class_=Session, expire_on_commit=False)

    def __enter__(self) -> Self:
        self._purge = False
        self.session = self._sessions()
        self.contacts = ContactRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.cases = CaseRepository(self.session, self._ids)
        self.messages = MessageRepository(self.session, self._ids)
        self.outbox = OutboxRepository(self.session, self._ids)
        self.staff = StaffRepository(self.session)
        self.job_runs = JobRunRepository(self.session)
        self.examples = ExampleRepository(self.session)
        self.desk = DeskRepository(self.session)
        self.community = CommunityRepository(self.session)
        self.commitments = CommitmentRepository(self.session)
        self.visits = VisitRepository(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Closing rolls back whatever was not committed; loaded objects stay readable.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        if self._purge:
            self._purge = False
            purge_old_versions(self._engine)

    def purge_after_commit(self) -> None:
        """What this transaction erases must not survive in the database's log either."""
        self._purge = True

    def rollback(self) -> None:
        self.session.rollback()
