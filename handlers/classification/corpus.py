"""The labelled messages the classifier learns from: the shipped corpus and staff corrections."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from handlers.core.labels import CASE_TYPES, DEFAULT_TOPICS, URGENCIES
from handlers.core.normalise import fold

TRAINING = Path(__file__).with_name("training")
# Messages written apart from the corpus, the way the evaluation set was: the classifier's
# confidence is calibrated on them (never trained on them).
CALIBRATION = Path(__file__).with_name("calibration") / "calibration.jsonl"
# Registers whose messages are all out of the institution's scope (their topic is `otro`), in the
# evaluation set's words and the corpus's; a message marked "in_scope": false is out of scope too.
OUT_OF_SCOPE_REGISTERS = frozenset({"fuera", "out_of_scope"})
CORPUS = TRAINING / "corpus.jsonl"  # the first corpus; the others beside it widen it by register
HEADS = ("type", "topic", "urgency")
LABELS = {"type": CASE_TYPES, "topic": DEFAULT_TOPICS, "urgency": URGENCIES}


class BadExample(ValueError):
    """A line of a labelled file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Example:
    """One message and its three labels."""

    text: str
    type: str
    topic: str
    urgency: str

    def label(self, head: str) -> str:
        return getattr(self, head)


def example_from(record: object) -> Example:
    """An Example from a decoded JSON object, checking every label against spec section 5."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise BadExample("text")
    for head in HEADS:
        if record.get(head) not in LABELS[head]:
            raise BadExample(head)
    return Example(record["text"], record["type"], record["topic"], record["urgency"])


def read_examples(path: Path) -> list[Example]:
    """Every example of a JSON Lines file; a bad line stops with its number."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                examples.append(example_from(json.loads(line)))
            except (json.JSONDecodeError, BadExample) as exc:
                raise BadExample(f"{path}:{number}: {exc}") from exc
    return examples


# Files written after reading the calibration set's errors: the calibration set is no longer
# unseen for a model trained on them, so temperatures are fitted on a model trained without them.
AFTER_CALIBRATION = "conventions"


def corpus_files() -> list[Path]:
    """Every labelled file shipped with the package, in a fixed order."""
    return sorted(TRAINING.glob("*.jsonl"))


def load_corpus(*, before_calibration: bool = False) -> list[Example]:
    """The corpus shipped with the package: every file of the training folder (only those
    written before the calibration set was read, when asked)."""
    paths = corpus_files()
    if before_calibration:
        paths = [path for path in paths if not path.name.startswith(AFTER_CALIBRATION)]
    return [example for path in paths for example in read_examples(path)]


def merge(corpus: Iterable[Example], corrections: Iterable[Example]) -> list[Example]:
    """The corpus plus staff-confirmed examples; for the same text the staff's labels win."""
    staff = {fold(example.text): example for example in corrections}
    kept = [example for example in corpus if fold(example.text) not in staff]
    return kept + list(staff.values())


@dataclass(frozen=True)
class Labelled:
    """One message of an evaluation set: what a person meant by it, and how it was written."""

    text: str
    type: str
    topic: str
    emergency: bool
    in_scope: bool = True
    register: str = ""
    country: str = ""

    @property
    def out_of_scope(self) -> bool:
        return not self.in_scope or self.register in OUT_OF_SCOPE_REGISTERS


def labelled_from(record: object) -> Labelled:
    """A Labelled from a decoded JSON object: the evaluation set's fields (`emergency`,
    `in_scope`, `register`, `country`) or the corpus's (`urgency`)."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise BadExample("text")
    for head in ("type", "topic"):
        if record.get(head) not in LABELS[head]:
            raise BadExample(head)
    emergency = record.get("emergency", record.get("urgency") == "emergencia")
    in_scope = record.get("in_scope", True)
    if not isinstance(emergency, bool) or not isinstance(in_scope, bool):
        raise BadExample("emergency")
    return Labelled(
        record["text"],
        record["type"],
        record["topic"],
        emergency,
        in_scope,
        str(record.get("register") or ""),
        str(record.get("country") or ""),
    )


def read_labelled(path: Path) -> list[Labelled]:
    """Every message of a JSON Lines evaluation set; a bad line stops with its number."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(labelled_from(json.loads(line)))
            except (json.JSONDecodeError, BadExample) as exc:
                raise BadExample(f"{path}:{number}: {exc}") from exc
    return rows


def load_calibration() -> list[Labelled]:
    """The calibration set shipped with the package (empty when there is none)."""
    return read_labelled(CALIBRATION) if CALIBRATION.exists() else []
