"""How well the classifier does: stratified cross-validation on the corpus, a held-out file, and
the fixed evaluation set written apart from the corpus (figures per register, calibration error,
emergencies caught)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from bot.training.model import SEED, train
from handlers.classification.classifier import Classification
from handlers.classification.compact import ModelClassifier
from handlers.classification.corpus import HEADS, LABELS, Example, Labelled
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


# -- the fixed evaluation set: figures per register ------------------------------------------

CALIBRATION_BINS = 10
WHOLE = "todo"

DangerCheck = Callable[[str, Classification], bool]


def calibration_error(
    confidences: Sequence[float], right: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float:
    """Expected calibration error: how far, weighted by the share of messages in each of `bins`
    equal bins of confidence, the confidence is from the share of right answers."""
    if not confidences:
        return 0.0
    confidence = np.asarray(confidences, dtype=float)
    correct = np.asarray(right, dtype=float)
    # Bin i holds the confidences in (i/bins, (i+1)/bins]; a confidence of 0 goes to the first.
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap = abs(confidence[members].mean() - correct[members].mean())
            total += members.mean() * gap
    return float(total)


def _macro_f1(truth: list[str], predicted: list[str], head: str) -> float | None:
    if not truth:
        return None
    present = set(truth) | set(predicted)
    labels = [label for label in LABELS[head] if label in present]
    return float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0))


def _share(flags: Sequence[bool]) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def figures(
    rows: Sequence[Labelled],
    predictions: Sequence[Classification],
    checks: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """The figures of one group of messages: type macro-F1 (on the messages in scope), topic
    macro-F1, out of scope given `otro`, calibration error of the type's confidence (in scope),
    and the emergencies marked `emergencia` (and marked or checked, when a danger check is given)
    with the share of other messages the check would ask about."""
    pairs = list(zip(rows, predictions, strict=True))
    in_scope = [(row, p) for row, p in pairs if row.in_scope]
    outside = [(row, p) for row, p in pairs if row.out_of_scope]
    emergencies = [i for i, row in enumerate(rows) if row.emergency]
    others = [i for i, row in enumerate(rows) if not row.emergency]
    marked = [predictions[i].urgency == "emergencia" for i in range(len(rows))]
    result: dict[str, Any] = {
        "messages": len(rows),
        "type_macro_f1": _macro_f1(
            [row.type for row, _ in in_scope], [p.type for _, p in in_scope], "type"
        ),
        "topic_macro_f1": _macro_f1(
            [row.topic for row, _ in pairs], [p.topic for _, p in pairs], "topic"
        ),
        "out_of_scope": len(outside),
        "out_of_scope_to_otro": _share([p.topic == "otro" for _, p in outside]),
        "calibration_error": calibration_error(
            [p.confidence for _, p in in_scope], [row.type == p.type for row, p in in_scope]
        )
        if in_scope
        else None,
        "emergencies": len(emergencies),
        "emergencies_marked": _share([marked[i] for i in emergencies]),
        "false_emergencies": _share([marked[i] for i in others]),
        "emergencies_caught": None,
        "danger_checks_on_others": None,
    }
    if checks is not None:
        result["emergencies_caught"] = _share([marked[i] or checks[i] for i in emergencies])
        result["danger_checks_on_others"] = _share([checks[i] for i in others])
    return result


def assess(
    classifier: ModelClassifier,
    rows: Sequence[Labelled],
    *,
    danger_check: DangerCheck | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The model's figures on an evaluation set, for the whole and per register, and what model
    it was (its training date and size)."""
    rows = list(rows)
    predictions = classifier.classify_many([row.text for row in rows])
    checks = (
        [danger_check(row.text, p) for row, p in zip(rows, predictions, strict=True)]
        if danger_check is not None
        else None
    )
    registers: dict[str, Any] = {}
    for register in sorted({row.register for row in rows if row.register}):
        chosen = [i for i, row in enumerate(rows) if row.register == register]
        registers[register] = figures(
            [rows[i] for i in chosen],
            [predictions[i] for i in chosen],
            [checks[i] for i in chosen] if checks is not None else None,
        )
    meta = dict(meta if meta is not None else getattr(classifier.model, "meta", {}))
    return {
        "model": {
            "trained_at": meta.get("trained_at"),
            "examples": meta.get("examples"),
            "staff_examples": meta.get("staff_examples"),
        },
        "danger_check": danger_check is not None,
        "whole": figures(rows, predictions, checks),
        "registers": registers,
    }


def score(assessment: dict[str, Any]) -> float:
    """One number to compare two models on the same set: the mean of type and topic macro-F1,
    out of scope given `otro`, and emergencies marked (each figure the set can give)."""
    whole = assessment["whole"]
    keys = ("type_macro_f1", "topic_macro_f1", "out_of_scope_to_otro", "emergencies_marked")
    values = [whole[key] for key in keys if whole[key] is not None]
    return float(np.mean(values)) if values else 0.0


def render_assessment(assessment: dict[str, Any], name: str, t: Texts) -> str:
    """The figures as a table: one row per register and one for the whole."""
    model = assessment["model"]
    lines = [
        t("evaluation.set_header", name=name, count=assessment["whole"]["messages"]),
        t(
            "evaluation.model_line",
            trained_at=model["trained_at"] or t("evaluation.unknown"),
            examples=model["examples"] if model["examples"] is not None else "?",
            staff=model["staff_examples"] or 0,
        ),
        "",
    ]
    caught = assessment["danger_check"]
    columns = ["", "n", "tipo F1", "tema F1", "fuera→otro", "ECE", "emerg. marcadas"]
    if caught:
        columns += ["marcadas o preguntadas", "preguntas a no emerg."]
    table = [columns]
    groups = list(assessment["registers"].items()) + [(WHOLE, assessment["whole"])]
    for group, values in groups:
        row = [
            group,
            str(values["messages"]),
            _figure(values["type_macro_f1"]),
            _figure(values["topic_macro_f1"]),
            _figure(values["out_of_scope_to_otro"], values["out_of_scope"]),
            _figure(values["calibration_error"]),
            _figure(values["emergencies_marked"], values["emergencies"]),
        ]
        if caught:
            row += [
                _figure(values["emergencies_caught"], values["emergencies"]),
                _figure(values["danger_checks_on_others"]),
            ]
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    for row in table:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines += ["", t("evaluation.set_note")]
    return "\n".join(lines)


def _figure(value: float | None, count: int | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" ({count})" if count is not None else "")
