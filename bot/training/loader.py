"""Where the service's classifier comes from: the compact model cached on disk for the shipped
corpus, trained in a child process when it is missing (so that scikit-learn never stays in the
service's memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

from handlers.classification.classifier import LazyClassifier

if TYPE_CHECKING:
    from handlers.classification.compact import ModelClassifier


def load_default() -> ModelClassifier:
    """The running classifier: the one the last retraining chose when there is one, else the
    one for the shipped corpus. When that is not cached yet it is trained in a child process,
    so that scikit-learn never stays in this one; in this process only when the child could not
    write the cache."""
    # Imported on first use (NumPy among them): commands that never classify skip them.
    from bot.training.cache import compact_path, current_path, load_compact
    from handlers.classification.compact import ModelClassifier

    current = load_compact(current_path())
    if current is not None:
        return ModelClassifier(current)
    path = compact_path()
    model = load_compact(path)
    if model is None:
        subprocess.run(
            [sys.executable, "-m", "bot.training.model"],
            check=False,
            timeout=600,
            env=os.environ,
        )
        model = load_compact(path)
    if model is None:
        from bot.training.model import compact, load_or_train

        model = compact(load_or_train())
    return ModelClassifier(model)


_shared: LazyClassifier | None = None


def default_classifier() -> LazyClassifier:
    """The process-wide classifier: every app in one process shares one loaded model."""
    global _shared
    if _shared is None:
        _shared = LazyClassifier(load_default)
    return _shared
