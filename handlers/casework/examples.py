"""Labelled examples: the labels a person confirmed for a description, which the classifier
learns from at its next retraining (bot.training.retrain).

Two sources: a staff member's reclassification of a case, and the citizen's own correction in
the dialogue ("No, quiero cambiarlo"). What someone wrote is personal data: an example is erased
with the person's data and with an anonymised case (handlers.casework.privacy.forget_cases), and
none is ever kept for an anonymous case.
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers.classification.corpus import Example
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import REDACTED, Case, LabelledExample, day_start

STAFF = "personal"
CITIZEN = "ciudadano"


def learnable(policy: CasePolicy, text: str) -> bool:
    """Whether a description can teach the model: written, not erased, redacted or media only."""
    texts = policy.texts
    text = text.strip()
    hidden = {
        texts("privacy.erased_placeholder"),
        texts("privacy.expired_placeholder"),
        REDACTED,
    }
    template = re.escape(texts.entries["dialogue.description_media_only"])
    media_only = re.compile(template.replace(re.escape("{count}"), r"\d+"))
    return bool(text) and text not in hidden and not media_only.fullmatch(text)


def learn_from_case(
    uow: UnitOfWork, policy: CasePolicy, case: Case, *, source: str, now: datetime
) -> bool:
    """Keep the case's description with its current labels as an example; never for an
    anonymous case. Whether one was kept."""
    if case.anonymous or not learnable(policy, case.description):
        return False
    uow.examples.record(
        LabelledExample(
            case_id=case.id,
            contact_id=case.contact_id,
            source=source,
            text=case.description,
            type=case.type,
            topic=case.topic,
            urgency=case.urgency,
            created_at=day_start(now),
        )
    )
    return True


def stored_examples(uow: UnitOfWork, policy: CasePolicy) -> list[Example]:
    """The stored examples whose labels the classifier still knows, for training."""
    return [
        Example(row.text, row.type, row.topic, row.urgency)
        for row in uow.examples.all()
        if learnable(policy, row.text)
    ]
