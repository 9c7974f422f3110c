"""The classifier's model as the service runs it: vocabularies, weights and temperatures in NumPy
arrays, applied without scikit-learn.

Training needs scikit-learn (bot.training.model); answering does not, and importing
it would cost every process that classifies some 70 MB of memory. `compact()` in
bot.training.model turns a trained model into this form; a test checks that both give
the same probabilities for every text of the corpus and the holdout.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from handlers.classification.classifier import Classification, decide_urgency, normalise
from handlers.classification.corpus import HEADS

LOW_CONFIDENCE = 0.0  # what an unreadable text (empty, emoji only) gets: the person picks
# What a text that tells nothing gets; a tie between labels also goes to these.
DEFAULTS = {"type": "solicitud", "topic": "otro", "urgency": "normal"}
# The model alone calls an emergency only when it is at least this sure (the rules need not be).
EMERGENCY_PROBABILITY = 0.5
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass
class Analyzer:
    """One TF-IDF part of the features: how the text is cut into n-grams, which of them the
    model knows (and their columns), their inverse document frequencies."""

    kind: str  # "word" or "char_wb", as scikit-learn names them
    ngram_range: tuple[int, int]
    token_pattern: str | None
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # where this part's columns start

    def ngrams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        if self.kind == "word":
            tokens = re.findall(self.token_pattern or r"(?u)\b\w\w+\b", text)
            grams = list(tokens) if low == 1 else []
            for n in range(max(low, 2), min(high, len(tokens)) + 1):
                grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
            return grams
        grams = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            word = f" {word} "
            for n in range(low, high + 1):
                grams += [word[i : i + n] for i in range(max(1, len(word) - n + 1))]
                if len(word) <= n:  # a short word counts once
                    break
        return grams

    def _idf_values(self) -> list[float]:
        """The idf as Python floats (reading NumPy scalars one by one is slower)."""
        values = self.__dict__.get("_idf_list")
        if values is None:
            values = self.__dict__["_idf_list"] = [float(v) for v in self.idf]
        return values

    def features(self, text: str) -> dict[int, float]:
        """Columns and values: sublinear term frequency times idf, of unit length."""
        found = Counter(map(self.vocabulary.get, self.ngrams(text)))
        found.pop(None, None)  # n-grams the model does not know
        counts = cast("Counter[int]", found)
        idf = self._idf_values()
        values = {col: (1.0 + math.log(n)) * idf[col] for col, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        return {self.offset + col: v / norm for col, v in values.items()} if norm else {}


@dataclass
class Head:
    """One label's linear model: a row of weights per class, and its calibration."""

    classes: list[str]
    weights: np.ndarray  # classes x features
    intercepts: np.ndarray
    temperature: float


@dataclass
class CompactModel:
    """Everything needed to classify, and nothing that needs scikit-learn."""

    analyzers: list[Analyzer]
    heads: dict[str, Head]
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Calibrated probabilities of every label, per head (columns: the head's classes)."""
        rows = []
        for text in texts:
            normalised = normalise(text)
            features: dict[int, float] = {}
            for analyzer in self.analyzers:
                features.update(analyzer.features(normalised))
            rows.append(
                (np.fromiter(features, dtype=np.intp), np.fromiter(features.values(), float))
            )
        result = {}
        for name, head in self.heads.items():
            scores = np.array(
                [head.weights[:, columns] @ values + head.intercepts for columns, values in rows]
            )
            result[name] = softmax(scores.reshape(len(texts), -1), head.temperature)
        return result

    def classes(self, head: str) -> list[str]:
        return self.heads[head].classes


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


class ModelClassifier:
    """A trained model (compact or not), with the emergency rules on top of its urgency."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._classes = {head: [str(c) for c in model.classes(head)] for head in HEADS}

    def classify(self, text: str) -> Classification:
        """Propose labels for a description."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        """Propose labels for several descriptions at once."""
        if not texts:
            return []
        probabilities = self.model.probabilities(texts)
        results = []
        for row, text in enumerate(texts):
            if not normalise(text):  # nothing readable (empty, emoji, greetings): the person picks
                best, confidence = dict(DEFAULTS), LOW_CONFIDENCE
            else:
                best = {head: self._best(head, probabilities[head][row]) for head in HEADS}
                confidence = float(np.max(probabilities["type"][row]))
            urgency = decide_urgency(text, best["urgency"])
            results.append(Classification(best["type"], best["topic"], urgency, confidence))
        return results

    def _best(self, head: str, probabilities: np.ndarray) -> str:
        classes = self._classes[head]
        scores = probabilities.copy()
        if DEFAULTS[head] in classes:
            scores[classes.index(DEFAULTS[head])] += 1e-9  # ties go to the default
        if head == "urgency" and "emergencia" in classes:
            emergency = classes.index("emergencia")
            if scores[emergency] < EMERGENCY_PROBABILITY:
                scores[emergency] = -1.0
        return classes[int(np.argmax(scores))]
