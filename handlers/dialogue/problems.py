"""Two problems in one report ("el semáforo no funciona y el tragante se rebalsa"): the case is
filed as told, and the person is offered to file the other one with a single answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from handlers.core.messages import Option
from handlers.core.normalise import words
from handlers.core.policy import CasePolicy
from handlers.core.texts import Texts

# The turn being answered (conversation.Turn: step, data, folded, message_id).
Turn = Any


class Dialogue(Protocol):
    """What of the dialogue this module uses (conversation.Dialogue; no import: no cycle)."""

    policy: CasePolicy
    t: Texts
    vocab: Any

    def _ask(self, turn: Turn, text: str, options: Sequence[Option] = ()) -> None: ...

    def _say(self, turn: Turn, text: str) -> None: ...

    def _yes_no(self, yes_key: str, no_key: str) -> list[Option]: ...

    def _on_menu(self, turn: Turn) -> None: ...

    def _new_draft(self, opened_by: int | None = None) -> dict: ...

    def _after_location(self, turn: Turn) -> None: ...


# Where one problem ends and another may start: a sentence's end, "y", "además", "también".
_BOUNDARY = re.compile(
    r"\s*(?:[.;!?\n]+|,?\s+y\s+(?:tambi[eé]n\s+|adem[aá]s\s+)?|,?\s+adem[aá]s\s+"
    r"|,?\s+tambi[eé]n\s+|,?\s+otra cosa\s*:?)\s*",
    re.IGNORECASE,
)
MIN_CLAUSE_WORDS = 3
MAX_OTHER = 300


class OtherProblems:
    """Notices a second problem in a description and offers to file it."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue

    def notice(self, turn: Turn, topic: str) -> None:
        """Keep, in the draft, a part of the description about another topic than `topic`
        (each part must be clearly about its topic)."""
        policy = self.dialogue.policy
        turn.data.pop("other", None)
        clauses = [
            c.strip()
            for part in turn.data["parts"]
            for c in _BOUNDARY.split(part)
            if len(words(c)) >= MIN_CLAUSE_WORDS
        ]
        if len(clauses) < 2:
            return
        sure = [
            (clause, result)
            for clause in clauses
            # The model's confidence is the type's (calibrated, so often below the threshold
            # on a short clause): a clause counts by its topic alone, never "otro".
            if (result := policy.classifier.classify(clause)).topic != "otro"
            and result.urgency != "emergencia"
        ]
        topics = {policy.known_topic(result.topic) for _, result in sure}
        if policy.known_topic(topic) not in topics:
            return  # no part is clearly the case's own problem: nothing to split off
        for clause, result in sure:
            other_topic = policy.known_topic(result.topic)
            if other_topic not in (policy.known_topic(topic), "otro"):
                turn.data["other"] = {
                    "text": clause[:MAX_OTHER],
                    "type": result.type,
                    "topic": other_topic,
                    "urgency": result.urgency,
                    "confidence": round(result.confidence, 3),
                }
                return

    def offer(self, turn: Turn, draft: dict) -> None:
        """After the receipt: offer to file the other problem, in the same place."""
        other = draft.get("other")
        if not other or draft.get("anonymous"):
            return  # never tie a second case to an anonymous one
        d, t = self.dialogue, self.dialogue.t
        turn.step = "offer_other"
        turn.data = {
            "other": other,
            **{key: draft.get(key) for key in ("location", "location_text", "municipality")},
        }
        text = t(
            "dialogue.other_problem_offer",
            text=other["text"],
            type=t(f"labels.type.{other['type']}"),
            topic=d.policy.topic_label(other["topic"]),
        )
        d._ask(turn, text, d._yes_no("dialogue.other_problem_yes", "dialogue.other_problem_no"))

    def on_offer(self, turn: Turn) -> None:
        """Yes files the other problem at once (asking only what a report still needs); no
        leaves it; anything else is read as at the menu."""
        d = self.dialogue
        answer = d.vocab.answer(turn.folded)
        if answer is None:
            turn.step, turn.data = "menu", {}
            d._on_menu(turn)
        elif answer is False:
            turn.step, turn.data = "menu", {}
            d._say(turn, d.t("dialogue.other_problem_declined"))
        else:
            other, data = turn.data["other"], turn.data
            turn.data = {
                **d._new_draft(turn.message_id),
                "parts": [other["text"]],
                "message_ids": [turn.message_id],
                **{key: other[key] for key in ("type", "topic", "urgency", "confidence")},
                **{k: data.get(k) for k in ("location", "location_text", "municipality")},
            }
            d._after_location(turn)
