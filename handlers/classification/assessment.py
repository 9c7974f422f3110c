"""The classification the dialogue and `classify` use: the model's labels, with the rule-based
floor on top (danger check, out of scope, other services)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from handlers.classification.danger import DEFAULT_THRESHOLD, needs_danger_check
from handlers.classification.scope import in_scope, other_service
from handlers.core.ports import Classification


@dataclass(frozen=True)
class Assessment:
    """Labels for a text and what the rules add to them."""

    classification: Classification
    danger_check: bool  # ask "¿Hay personas en peligro en este momento?" first
    in_scope: bool  # False: thanks, praise, greetings, one-word and meaningless texts
    service: str | None  # the other service it is about (its topic is then "otro")


def assess(
    text: str, classification: Classification, danger_threshold: int = DEFAULT_THRESHOLD
) -> Assessment:
    """The classification of `text`, with the rules applied: a text about another service gets
    topic "otro" (unless it is an emergency: then what it is about is the model's best guess)."""
    service = other_service(text)
    if service is not None and classification.urgency != "emergencia":
        classification = replace(classification, topic="otro")
    return Assessment(
        classification,
        danger_check=needs_danger_check(text, classification, danger_threshold),
        in_scope=in_scope(text, classification),
        service=service,
    )
