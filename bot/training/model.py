"""The default classifier: TF-IDF over folded words and character n-grams, one linear support
vector machine per label with a temperature that calibrates its scores into probabilities,
trained from the corpus with a fixed seed and cached on disk."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bot.training.cache import compact_path, corpus_digest, model_path, save_compact
from handlers.classification.classifier import normalise
from handlers.classification.compact import Analyzer, CompactModel, Head, softmax
from handlers.classification.corpus import (
    HEADS,
    Example,
    Labelled,
    load_calibration,
    load_corpus,
    merge,
)

log = logging.getLogger(__name__)

SEED = 20261117
C = 0.5  # the support vector machines' regularisation, chosen on the calibration set
CALIBRATION_FOLDS = 3


def _features() -> FeatureUnion:
    words = TfidfVectorizer(
        lowercase=False, token_pattern=r"\b\w+\b", ngram_range=(1, 2), sublinear_tf=True, min_df=2
    )
    characters = TfidfVectorizer(
        lowercase=False, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
    )
    return FeatureUnion([("words", words), ("characters", characters)])


def _scores(model: LinearSVC, features: Any) -> np.ndarray:
    scores = model.decision_function(features)
    if scores.ndim == 1:  # two classes: one score for the second
        scores = np.column_stack([-scores, scores]) / 2
    return scores


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that makes softmax(scores / T) honest probabilities (least log-loss)."""

    def loss(log_t: float) -> float:
        probabilities = softmax(scores, math.exp(log_t))
        return -float(np.mean(np.log(probabilities[np.arange(len(truth)), truth] + 1e-12)))

    return math.exp(minimize_scalar(loss, bounds=(-3, 3), method="bounded").x)


@dataclass
class TrainedModel:
    """Features, one linear model per label, and the temperature that calibrates each."""

    features: FeatureUnion
    heads: dict[str, LinearSVC]
    temperatures: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Calibrated probabilities of every label, per head (columns: the head's classes)."""
        # Each part's transform, stacked: what FeatureUnion.transform does, without the cost of
        # its parallel machinery for one short text.
        normalised = [normalise(text) for text in texts]
        matrix = hstack([part.transform(normalised) for _, part in self.features.transformer_list])
        matrix = matrix.tocsr()
        return {
            head: softmax(_scores(model, matrix), self.temperatures[head])
            for head, model in self.heads.items()
        }

    def classes(self, head: str) -> list[str]:
        return list(self.heads[head].classes_)


def _fit_heads(features: Any, examples: Sequence[Example], seed: int) -> dict[str, LinearSVC]:
    # A linear support vector machine per label: on the calibration set (text written apart from
    # the corpus) it generalised better than logistic regression (C 3 to 30), SGD with a modified
    # Huber loss and complement naive Bayes, and trains five times faster (docs/classification.md).
    heads = {}
    for head in HEADS:
        model = LinearSVC(C=C, class_weight="balanced", random_state=seed)
        heads[head] = model.fit(features, [example.label(head) for example in examples])
    return heads


def train(
    examples: Sequence[Example],
    *,
    seed: int = SEED,
    calibrate: bool = True,
    calibration: Sequence[Labelled] = (),
    calibration_examples: Sequence[Example] | None = None,
) -> TrainedModel:
    """Learn the three heads from labelled examples. Each head's temperature comes from the
    calibration set when one is given (text written apart, as the citizens' will be), so that a
    confidence of 0.6 means right about 6 times in 10 on such text (else from cross-validated
    scores on the corpus). They are measured on a model trained on `calibration_examples` when
    given: the examples written before the calibration set was read."""
    texts = [normalise(example.text) for example in examples]
    features = _features()
    matrix = features.fit_transform(texts)
    heads = _fit_heads(matrix, examples, seed)
    temperatures = {head: 1.0 for head in HEADS}
    if calibrate and not calibration:
        temperatures = _temperatures(texts, examples, seed)
    model = TrainedModel(features, heads, temperatures)
    if calibrate and calibration:
        measured = model
        if calibration_examples is not None and len(calibration_examples) < len(examples):
            measured = train(calibration_examples, seed=seed, calibrate=False)
        model.temperatures.update(_calibrated(measured, calibration))
    return model


def _calibrated(model: TrainedModel, rows: Sequence[Labelled]) -> dict[str, float]:
    """Each head's temperature fitted on the calibration messages: the type's on those in scope,
    the topic's on all; the urgency's on all, where the set says only whether a message is an
    emergency (for the others the model's own choice between normal and urgente stands)."""
    normalised = [normalise(row.text) for row in rows]
    matrix = hstack([part.transform(normalised) for _, part in model.features.transformer_list])
    matrix = matrix.tocsr()
    found = {}
    for head in HEADS:
        classes = list(model.heads[head].classes_)
        scores = _scores(model.heads[head], matrix)
        if head == "urgency":
            if "emergencia" not in classes:
                continue
            emergency = classes.index("emergencia")
            others = scores.copy()
            others[:, emergency] = -np.inf
            truth = np.where([row.emergency for row in rows], emergency, np.argmax(others, axis=1))
            found[head] = _fit_temperature(scores, truth)
            continue
        chosen = [
            i
            for i, row in enumerate(rows)
            if (row.in_scope or head == "topic") and getattr(row, head) in classes
        ]
        if chosen:
            truth = np.array([classes.index(getattr(rows[i], head)) for i in chosen])
            found[head] = _fit_temperature(scores[chosen], truth)
    return found


def _temperatures(texts: list[str], examples: Sequence[Example], seed: int) -> dict[str, float]:
    """Each head's temperature, fitted on scores of examples its model was not trained on."""
    folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    types = [example.type for example in examples]
    out_of_fold: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
    truths: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
    for train_rows, test_rows in folds.split(texts, types):
        features = _features()
        matrix = features.fit_transform([texts[i] for i in train_rows])
        heads = _fit_heads(matrix, [examples[i] for i in train_rows], seed)
        held_out = features.transform([texts[i] for i in test_rows])
        for head, model in heads.items():
            index = {label: position for position, label in enumerate(model.classes_)}
            labels = [examples[i].label(head) for i in test_rows]
            rows = [row for row, label in enumerate(labels) if label in index]
            if rows:  # a label absent from this fold's training part cannot be scored
                out_of_fold[head].append(_scores(model, held_out[rows]))
                truths[head].append(np.array([index[labels[row]] for row in rows]))
    return {
        head: _fit_temperature(np.vstack(out_of_fold[head]), np.concatenate(truths[head]))
        if out_of_fold[head]
        else 1.0
        for head in HEADS
    }


def compact(model: TrainedModel) -> CompactModel:
    """The same model in the form the service applies without scikit-learn."""
    analyzers, offset = [], 0
    for _, vectorizer in model.features.transformer_list:
        analyzers.append(
            Analyzer(
                kind=vectorizer.analyzer,
                ngram_range=tuple(vectorizer.ngram_range),
                token_pattern=vectorizer.token_pattern if vectorizer.analyzer == "word" else None,
                vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                idf=np.asarray(vectorizer.idf_, dtype=float),
                offset=offset,
            )
        )
        offset += len(vectorizer.vocabulary_)
    heads = {}
    for name, regression in model.heads.items():
        weights = np.asarray(regression.coef_, dtype=float)
        intercepts = np.broadcast_to(regression.intercept_, (len(weights),)).astype(float)
        if len(regression.classes_) == 2:  # one score for the second class: split it, as _scores
            weights, intercepts = (
                np.vstack([-weights, weights]) / 2,
                np.array([-1, 1]) * (intercepts[0] / 2),
            )
        heads[name] = Head(
            [str(c) for c in regression.classes_],
            np.ascontiguousarray(weights),
            intercepts,
            float(model.temperatures[name]),
        )
    return CompactModel(analyzers, heads, dict(model.meta))


def save_model(model: TrainedModel, path: Path) -> None:
    """Write the model atomically (a reader never sees half a file), and its compact form
    beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    joblib.dump(model, partial, compress=3)
    # Its vocabulary comes from citizens' descriptions too (staff corrections): owner only.
    partial.chmod(0o600)
    save_compact(compact(model), path.with_suffix(".compact.pickle"))
    partial.replace(path)


def load_model(path: Path) -> TrainedModel | None:
    """The model cached at `path`, or None when there is none. It is a pickle: only ever load
    files this program wrote in its own cache directory."""
    try:
        model = joblib.load(path)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign cache file is rebuilt
        log.warning("ignoring unreadable classifier cache %s: %s", path, exc)
        return None
    return model if isinstance(model, TrainedModel) else None


def train_default(
    corrections: Sequence[Example] = (), *, now: datetime | None = None
) -> TrainedModel:
    """Train on the shipped corpus, plus staff-confirmed examples when given."""
    examples = merge(load_corpus(), corrections)
    calibration = load_calibration()
    before = merge(load_corpus(before_calibration=True), corrections)
    model = train(examples, calibration=calibration, calibration_examples=before)
    model.meta = {
        "corpus_sha256": corpus_digest(),
        "examples": len(examples),
        "calibration_messages": len(calibration),
        "staff_examples": len(corrections),
        "sklearn": sklearn.__version__,
        "trained_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    return model


def load_or_train(directory: Path | None = None) -> TrainedModel:
    """The cached model, or a new one trained now and cached (kept in memory only when the
    cache directory is not writable)."""
    path = model_path(directory)
    model = load_model(path)
    if model is not None:
        return model
    model = train_default()
    try:
        save_model(model, path)
    except OSError as exc:
        log.warning("classifier cache %s not writable (%s); keeping the model in memory", path, exc)
    return model


if __name__ == "__main__":
    # Run by bot.training.loader.load_default in a child process: train (or read)
    # and cache both forms, so that the process that classifies never imports scikit-learn.
    save_compact(compact(load_or_train()), compact_path())
