"""Learning from staff: a candidate model trained on the corpus plus the stored labelled
examples replaces the running one only if it scores at least as well on the fixed evaluation set.

The service runs it in a child process (`python -m bot.training.retrain`), so that
scikit-learn never stays in the service's memory; `classifier retrain` runs it in its own.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.training.cache import compact_path, current_path, load_compact, save_compact
from handlers.classification.compact import CompactModel, ModelClassifier
from handlers.classification.corpus import Example, Labelled, read_examples, read_labelled

log = logging.getLogger(__name__)

SOURCE_TREE = Path(__file__).resolve().parents[2]
DEFAULT_EVALUATION_SET = SOURCE_TREE / "tests" / "evaluation" / "eval.jsonl"


def evaluation_set_path(setting: str = "") -> Path:
    """The fixed evaluation set: the configured file, else the source tree's."""
    return Path(setting).expanduser() if setting else DEFAULT_EVALUATION_SET


@dataclass(frozen=True)
class Outcome:
    """What a retraining did: both models' scores, and whether the candidate now runs."""

    replaced: bool
    current_score: float
    candidate_score: float
    examples: int
    staff_examples: int
    trained_at: str


def _default_candidate(corrections: Sequence[Example], now: datetime) -> CompactModel:
    from bot.training.model import compact, train_default

    return compact(train_default(corrections, now=now))


def _running(directory: Path | None) -> CompactModel:
    """The model the service runs now (trained for the corpus when none is cached)."""
    model = load_compact(current_path(directory)) or load_compact(compact_path(directory))
    if model is None:
        from bot.training.model import compact, load_or_train

        model = compact(load_or_train(directory))
    return model


def retrain(
    corrections: Sequence[Example],
    evaluation: Sequence[Labelled],
    *,
    now: datetime | None = None,
    directory: Path | None = None,
    build: Callable[[Sequence[Example], datetime], CompactModel] = _default_candidate,
) -> Outcome:
    """Build a candidate from the corpus and `corrections`, score it and the running model on
    `evaluation`, and make the candidate the running model only if it is not worse."""
    from bot.training.evaluation import assess, score

    now = now or datetime.now(UTC)
    running = _running(directory)
    candidate = build(corrections, now)
    current_score = score(assess(ModelClassifier(running), evaluation))
    candidate_score = score(assess(ModelClassifier(candidate), evaluation))
    replaced = candidate_score >= current_score
    if replaced:
        candidate.meta = {**candidate.meta, "evaluation_score": round(candidate_score, 4)}
        save_compact(candidate, current_path(directory))
    meta = candidate.meta
    return Outcome(
        replaced,
        round(current_score, 4),
        round(candidate_score, 4),
        int(meta.get("examples") or 0),
        int(meta.get("staff_examples") or len(corrections)),
        str(meta.get("trained_at") or now.isoformat(timespec="seconds")),
    )


def retrain_in_child(corrections: Sequence[Example], evaluation: Path) -> Outcome | None:
    """`retrain` in a child process (the examples passed in a private temporary file, deleted
    at once); None when it failed."""
    handle, name = tempfile.mkstemp(prefix="ta-examples-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp: owner only
            for example in corrections:
                out.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
        done = subprocess.run(
            [sys.executable, "-m", "bot.training.retrain", name, str(evaluation)],
            check=False,
            capture_output=True,
            text=True,
            timeout=1800,
            env=os.environ,
        )
    finally:
        Path(name).unlink(missing_ok=True)
    if done.returncode != 0:
        log.warning("classifier retrain failed (exit status %d)", done.returncode)
        return None
    return Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(arguments: list[str]) -> dict[str, Any]:
    examples_file, evaluation = arguments
    outcome = retrain(read_examples(Path(examples_file)), read_labelled(Path(evaluation)))
    return asdict(outcome)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
