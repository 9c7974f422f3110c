"""The classifier's cache on disk: where the trained and compact models for the shipped corpus
are kept, and how the compact one is written and read."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from importlib.metadata import version
from pathlib import Path

from handlers.classification import classifier as light
from handlers.classification import compact as applied
from handlers.classification.compact import CompactModel
from handlers.classification.corpus import CALIBRATION, corpus_files

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where trained models are kept: $XDG_CACHE_HOME/telefono-abierto, or ~/.cache/..."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "telefono-abierto"


def model_key(examples_digest: str) -> str:
    """What a cached model depends on: its training data, the code that builds and applies it,
    and the versions of the libraries that compute and store it."""
    code = hashlib.sha256()
    for module in (
        Path(light.__file__),
        Path(__file__).with_name("model.py"),
        Path(applied.__file__),
    ):
        code.update(module.read_bytes())
    parts = [examples_digest, code.hexdigest(), version("scikit-learn"), version("numpy")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def corpus_digest() -> str:
    """One digest of every shipped training file and the calibration set (names and contents)."""
    digest = hashlib.sha256()
    for path in [*corpus_files(), CALIBRATION]:
        if not path.exists():
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def model_path(directory: Path | None = None) -> Path:
    """The cached trained model for the shipped corpus and the installed library versions."""
    return (directory or cache_dir()) / f"classifier-{model_key(corpus_digest())}.joblib"


def compact_path(directory: Path | None = None) -> Path:
    """Its compact form, beside it."""
    return model_path(directory).with_suffix(".compact.pickle")


def save_compact(model: CompactModel, path: Path) -> None:
    """Write atomically (a reader never sees half a file), readable by its owner only (the
    vocabulary comes from citizens' descriptions too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    partial.chmod(0o600)
    partial.replace(path)


def load_compact(path: Path) -> CompactModel | None:
    """The compact model cached at `path`, or None. It is a pickle: only ever load files this
    program wrote in its own cache directory."""
    try:
        model = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign cache file is rebuilt
        log.warning("ignoring unreadable classifier cache %s (%s)", path, type(exc).__name__)
        return None
    return model if isinstance(model, CompactModel) else None


def current_path(directory: Path | None = None) -> Path:
    """The model a retraining chose (corpus plus confirmed examples), beside the corpus's own;
    tied to the same key, so that a new corpus or new code starts again from the corpus's."""
    return model_path(directory).with_suffix(".current.compact.pickle")
