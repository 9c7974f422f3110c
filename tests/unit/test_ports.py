"""The real unit of work and the unit tests' fake both offer what the handlers' port asks."""

from __future__ import annotations

import inspect

import pytest

from handlers.core import ports
from storage import repositories
from storage.uow import UnitOfWork as StorageUnitOfWork
from tests.unit.fakes import FakeUnitOfWork

REPOSITORIES = {
    "contacts": (ports.Contacts, repositories.ContactRepository),
    "conversations": (ports.Conversations, repositories.ConversationRepository),
    "cases": (ports.Cases, repositories.CaseRepository),
    "messages": (ports.Messages, repositories.MessageRepository),
    "outbox": (ports.Outbox, repositories.OutboxRepository),
    "staff": (ports.StaffMembers, repositories.StaffRepository),
    "job_runs": (ports.JobRuns, repositories.JobRunRepository),
}


def _satisfies(uow: StorageUnitOfWork) -> ports.UnitOfWork:
    """Never called: mypy fails here when storage's unit of work drifts from the port."""
    return uow


def _methods(protocol: type) -> list[str]:
    return [name for name, _ in inspect.getmembers(protocol, inspect.isfunction)]


@pytest.mark.parametrize("name", sorted(REPOSITORIES))
def test_every_method_of_a_port_has_the_storage_signature(name: str) -> None:
    protocol, repository = REPOSITORIES[name]
    for method in _methods(protocol):
        if method.startswith("_"):
            continue
        wanted = inspect.signature(getattr(protocol, method))
        assert inspect.signature(getattr(repository, method)) == wanted, method


@pytest.mark.parametrize("name", sorted(REPOSITORIES))
def test_the_fake_unit_of_work_has_every_method_of_a_port(name: str) -> None:
    protocol, _ = REPOSITORIES[name]
    fake = getattr(FakeUnitOfWork(), name)
    for method in _methods(protocol):
        if not method.startswith("_"):
            assert callable(getattr(fake, method, None)), method
