"""The unit of work: one transaction, its repositories, and an explicit commit."""

from __future__ import annotations

import contextlib
import os
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from storage.commitments import CommitmentRepository
from storage.community import CommunityRepository
from storage.desk import DeskRepository
from storage.engine import purge_old_versions
from storage.ids import PROCESS_IDS, IdClock
from storage.repositories import (
    FILES_TO_FORGET,
    CaseRepository,
    ContactRepository,
    ConversationRepository,
    ExampleRepository,
    JobRunRepository,
    MessageRepository,
    OutboxRepository,
    StaffRepository,
    files_in_use,
    transaction_ended,
)
from storage.visits import VisitRepository

# How many erased files are checked for other uses in one query.
FILES_PER_QUERY = 500


class UnitOfWork:
    """Everything done inside `with uow:` is one transaction; what is not committed rolls back."""

    def __init__(self, engine: Engine, ids: IdClock = PROCESS_IDS) -> None:
        self._engine = engine
        self._ids = ids  # numbers the rows that can leave for an anonymous case (storage/ids.py)

    def __enter__(self) -> Self:
        self._purge = False
        # A plain Session: a sessionmaker made here would make a new Session class per unit
        # of work, and SQLAlchemy sets up each new class's event dispatch on its first use.
        self.session = Session(self._engine, expire_on_commit=False)
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
        forgotten = self.session.info.pop(FILES_TO_FORGET, set())
        self.session.commit()
        transaction_ended(self.session)
        if self._purge:
            self._purge = False
            purge_old_versions(self._engine)
        self._delete_files(sorted(forgotten))

    def _delete_files(self, paths: list[str]) -> None:
        """Downloaded files whose attachments this transaction erased go at once, unless some
        other attachment (the same photo sent again) still uses them: a file named by its
        content's hash would tell what was erased, and when it was sent."""
        for start in range(0, len(paths), FILES_PER_QUERY):
            chunk = paths[start : start + FILES_PER_QUERY]
            used = files_in_use(self.session, chunk)
            self.session.rollback()  # only read: end the transaction the check began
            for path in chunk:
                if path not in used:
                    with contextlib.suppress(OSError):
                        # The folder's times stay as they were: a deletion must not date
                        # what was erased, nor when.
                        folder = os.stat(os.path.dirname(path))
                        os.unlink(path)
                        os.utime(os.path.dirname(path), (folder.st_atime, folder.st_mtime))

    def purge_after_commit(self) -> None:
        """What this transaction erases must not survive in the database's log either."""
        self._purge = True

    def rollback(self) -> None:
        self.session.rollback()
        transaction_ended(self.session)
