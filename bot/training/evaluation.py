"""How well the classifier does: stratified cross-validation on the corpus, or a held-out file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from bot.training.model import SEED, train
from handlers.classification.classifier import Classification
from handlers.classification.compact import ModelClassifier
from handlers.classification.corpus import HEADS, LABELS, Example
from handlers.core.texts import Texts

FOLDS = 5


@dataclass(frozen=True)
class Report:
    """Predictions next to the truth, for every head, and the confidence of each type."""

    name: str
    examples: list[Example]
    predictions: list[Classification]

    def truth(self, head: str) -> list[str]:
        return [example.label(head) for example in self.examples]

    def predicted(self, head: str) -> list[str]:
        return [getattr(prediction, head) for prediction in self.predictions]

    def labels(self, head: str) -> list[str]:
        present = set(self.truth(head)) | set(self.predicted(head))
        return [label for label in LABELS[head] if label in present]

    def macro_f1(self, head: str) -> float:
        return float(
            f1_score(
                self.truth(head),
                self.predicted(head),
                labels=self.labels(head),
                average="macro",
                zero_division=0,
            )
        )

    def per_class(self, head: str) -> list[tuple[str, float, float, float, int]]:
        """(label, precision, recall, F1, support) for every label of a head."""
        labels = self.labels(head)
        precision, recall, f1, support = precision_recall_fscore_support(
            self.truth(head), self.predicted(head), labels=labels, zero_division=0
        )
        return [
            (label, float(p), float(r), float(f), int(s))
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        ]

    def confusion(self, head: str) -> np.ndarray:
        return confusion_matrix(self.truth(head), self.predicted(head), labels=self.labels(head))

    def confidence_split(self, threshold: float) -> tuple[float, float, float]:
        """Share of messages at or above the threshold, and the type accuracy above and below."""
        right = np.array(
            [p.type == e.type for p, e in zip(self.predictions, self.examples, strict=True)]
        )
        sure = np.array([p.confidence >= threshold for p in self.predictions])
        above = float(right[sure].mean()) if sure.any() else 0.0
        below = float(right[~sure].mean()) if (~sure).any() else 0.0
        return float(sure.mean()), above, below


def cross_validate(
    examples: Sequence[Example], name: str, *, folds: int = FOLDS, seed: int = SEED
) -> Report:
    """Every example classified by a model trained without it (stratified by type)."""
    examples = list(examples)
    predictions: list[Classification | None] = [None] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in splitter.split(examples, [e.type for e in examples]):
        classifier = ModelClassifier(train([examples[i] for i in train_rows], seed=seed))
        found = classifier.classify_many([examples[i].text for i in test_rows])
        for row, prediction in zip(test_rows, found, strict=True):
            predictions[row] = prediction
    return Report(name, examples, predictions)


def held_out(classifier: ModelClassifier, examples: Sequence[Example], name: str) -> Report:
    """The classifier's answers on examples it never saw."""
    return Report(name, list(examples), classifier.classify_many([e.text for e in examples]))


def render(report: Report, threshold: float, t: Texts) -> str:
    """The report as plain text: per-class figures, macro-F1 and confusion matrix per head."""
    lines = [t("evaluation.header", name=report.name, count=len(report.examples))]
    for head in HEADS:
        labels = report.labels(head)
        width = max(len(label) for label in labels)
        lines += ["", t("evaluation.head", head=head, macro_f1=f"{report.macro_f1(head):.3f}")]
        lines.append(f"{'':{width}}  {t('evaluation.columns')}")
        for label, precision, recall, f1, support in report.per_class(head):
            figures = f"{precision:9.3f}  {recall:6.3f}  {f1:5.3f}  {support:5d}"
            lines.append(f"{label:{width}}  {figures}")
        lines.append(t("evaluation.confusion"))
        lines.append(f"{'':{width}}  " + " ".join(f"{label[:6]:>6}" for label in labels))
        for label, row in zip(labels, report.confusion(head), strict=True):
            lines.append(f"{label:{width}}  " + " ".join(f"{n:6d}" for n in row))
    share, above, below = report.confidence_split(threshold)
    lines += [
        "",
        t(
            "evaluation.confidence",
            threshold=f"{threshold:.2f}",
            share=f"{share:.1%}",
            above=f"{above:.1%}",
            below=f"{below:.1%}",
        ),
    ]
    return "\n".join(lines)
