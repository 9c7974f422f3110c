"""Staff corrections of a case's labels, kept in its history and learned from by the model."""

from __future__ import annotations

import json
import re
from datetime import datetime

from handlers.casework.cases import record_event
from handlers.classification.corpus import Example
from handlers.core.labels import CASE_TYPES, URGENCIES
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import REDACTED, Case, CaseEvent

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
    return uow.cases.events(case.id)[-1]


def staff_examples(uow: UnitOfWork, policy: CasePolicy) -> list[Example]:
    """The labels staff confirmed, latest per case, with the case's description as the text.
    Descriptions that were erased, redacted or never written (media only) are left out."""
    texts = policy.texts
    hidden = {texts("privacy.erased_placeholder"), REDACTED}
    template = re.escape(texts.entries["dialogue.description_media_only"])
    media_only = re.compile(template.replace(re.escape("{count}"), r"\d+"))
    examples = []
    for case, event in uow.cases.latest_events(KIND):
        description = case.description.strip()
        if not description or description in hidden or media_only.fullmatch(description):
            continue
        try:
            labels = json.loads(event.note or "")
            examples.append(
                Example(description, labels["type"], labels["topic"], labels["urgency"])
            )
        except (ValueError, KeyError, TypeError):
            continue  # a note this code did not write
    return examples
