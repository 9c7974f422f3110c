"""Staff corrections of a case's labels, kept in its history and learned from by the model."""

from __future__ import annotations

import json
from datetime import datetime

from handlers.casework.cases import record_event
from handlers.casework.examples import STAFF, learn_from_case, stored_examples
from handlers.classification.corpus import Example
from handlers.core.labels import CASE_TYPES, URGENCIES
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case, CaseEvent

KIND = "reclassified"


class UnknownLabel(ValueError):
    """A label that spec section 5 (or `classifier.topics`) does not know."""

    def __init__(self, field: str, value: str, valid: tuple[str, ...]) -> None:
        super().__init__(f"{field}: {value}")
        self.field, self.value, self.valid = field, value, valid


def reclassify(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    *,
    type: str,  # noqa: A002 - the label's name in spec section 5
    topic: str,
    urgency: str,
    actor: str,
    now: datetime,
) -> CaseEvent:
    """Set the labels a staff member confirmed, and record who did it, when, and what they were.
    A new type brings its own answer deadline, counted from when the case was received."""
    for field, value, valid in (
        ("type", type, CASE_TYPES),
        ("topic", topic, policy.topics),
        ("urgency", urgency, URGENCIES),
    ):
        if value not in valid:
            raise UnknownLabel(field, value, tuple(valid))
    previous = {"type": case.type, "topic": case.topic, "urgency": case.urgency}
    if type != case.type:
        case.deadline_days = policy.deadline_days[type]
        case.due_at = policy.calendar.due_at(case.created_at, case.deadline_days)
    case.type, case.topic, case.urgency, case.confidence = type, topic, urgency, 1.0
    uow.cases.add(case)
    note = {"type": type, "topic": topic, "urgency": urgency, "previous": previous}
    record_event(
        uow,
        case,
        now,
        actor=actor,
        kind=KIND,
        note=json.dumps(note, ensure_ascii=False),
        public=False,
    )
    learn_from_case(uow, policy, case, source=STAFF, now=now)
    return uow.cases.events(case.id)[-1]


def staff_examples(uow: UnitOfWork, policy: CasePolicy) -> list[Example]:
    """The labels staff and citizens confirmed, one per case, with the description as the text
    (kept in the labelled examples; see handlers.casework.examples)."""
    return stored_examples(uow, policy)
