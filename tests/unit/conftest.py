"""What the unit tests share: the in-memory unit of work, one clock, a dialogue with no model,
and citizens who write to it (a module may redefine `citizen`; `case` then files through it)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from handlers.dialogue.conversation import Dialogue
from storage.models import Case
from tests.helpers import POTHOLE, Citizen, Clock, make_dialogue
from tests.unit.fakes import FakeClassifier, FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialogue() -> Dialogue:
    """The dialogue with a classifier that needs no model (unit tests do no I/O)."""
    return make_dialogue(classifier=FakeClassifier())


@pytest.fixture
def make_citizen(uow: FakeUnitOfWork, dialogue: Dialogue, clock: Clock) -> Callable[..., Citizen]:
    """Another person writing to the same bot, on the same clock: `make_citizen("7002")`."""

    def make(address: str = "7001", channel: str = "console", **options) -> Citizen:
        options.setdefault("clock", clock)
        return Citizen(dialogue, lambda: uow, address=address, channel=channel, **options)

    return make


@pytest.fixture
def citizen(make_citizen: Callable[..., Citizen]) -> Citizen:
    """Someone at the test console (address 7001) who has not written yet."""
    return make_citizen()


@pytest.fixture
def case(citizen: Citizen, uow: FakeUnitOfWork) -> Case:
    """The citizen's pothole report, filed: TA-2026-000001."""
    citizen.converse(*POTHOLE)
    (case,) = uow.rows[Case]
    return case
