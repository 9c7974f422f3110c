"""The fixed evaluation set's figures: their keys, the calibration error, emergencies caught."""

import pytest

from bot.training.evaluation import assess, calibration_error, render_assessment, score
from handlers.classification.corpus import Labelled, labelled_from
from handlers.core.ports import Classification
from handlers.core.texts import load_texts

FIGURES = {
    "messages",
    "type_macro_f1",
    "topic_macro_f1",
    "out_of_scope",
    "out_of_scope_to_otro",
    "calibration_error",
    "emergencies",
    "emergencies_marked",
    "false_emergencies",
    "emergencies_caught",
    "danger_checks_on_others",
}


class Stub:
    """Answers from a table; its model's date as the real ones carry it."""

    def __init__(self, answers: dict[str, Classification]) -> None:
        self.answers = answers
        self.model = type("Model", (), {"meta": {"trained_at": "2026-12-01T03:30:00+00:00"}})()

    def classify_many(self, texts):
        return [self.answers[text] for text in texts]


ROWS = [
    Labelled("hoyo", "solicitud", "calles_caminos", False, True, "chat", "SV"),
    Labelled("se cae el puente con gente", "solicitud", "puentes", True, True, "voz", "CO"),
    Labelled("el rio se llevo un carro", "solicitud", "drenaje", True, True, "voz", "CO"),
    Labelled("gracias", "sugerencia", "otro", False, False, "fuera", "SV"),
]
ANSWERS = {
    "hoyo": Classification("solicitud", "calles_caminos", "normal", 0.9),
    "se cae el puente con gente": Classification("solicitud", "puentes", "emergencia", 0.8),
    "el rio se llevo un carro": Classification("queja", "drenaje", "normal", 0.7),
    "gracias": Classification("sugerencia", "otro", "normal", 0.6),
}


def test_the_figures_come_for_the_whole_and_for_each_register_with_the_models_date():
    assessment = assess(Stub(ANSWERS), ROWS)
    assert assessment["model"]["trained_at"] == "2026-12-01T03:30:00+00:00"
    assert set(assessment["registers"]) == {"chat", "voz", "fuera"}
    assert set(assessment["whole"]) == FIGURES
    assert all(set(figures) == FIGURES for figures in assessment["registers"].values())
    whole = assessment["whole"]
    assert whole["messages"] == 4 and whole["emergencies"] == 2
    assert whole["emergencies_marked"] == 0.5 and whole["out_of_scope_to_otro"] == 1.0
    assert whole["emergencies_caught"] is None  # no danger check given: marked only
    assert assessment["registers"]["chat"]["out_of_scope_to_otro"] is None


def test_an_emergency_the_danger_check_would_ask_about_counts_as_caught():
    def check(text, classification):
        return "rio" in text or text == "hoyo"

    whole = assess(Stub(ANSWERS), ROWS, danger_check=check)["whole"]
    assert whole["emergencies_marked"] == 0.5
    assert whole["emergencies_caught"] == 1.0
    assert whole["danger_checks_on_others"] == 0.5  # "hoyo" of the two others


def test_the_calibration_error_is_the_weighted_gap_between_confidence_and_accuracy():
    assert calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert calibration_error([0.8, 0.8], [True, False]) == pytest.approx(0.3)
    # Two bins, half the messages each: |0.9 - 1| and |0.3 - 0|.
    assert calibration_error([0.9, 0.9, 0.3, 0.3], [True, True, False, False]) == pytest.approx(0.2)
    assert calibration_error([], []) == 0.0


def test_the_calibration_error_is_measured_on_the_messages_in_scope():
    whole = assess(Stub(ANSWERS), ROWS)["whole"]
    # In scope: 0.9 right, 0.8 right, 0.7 wrong (three bins of a third each).
    assert whole["calibration_error"] == pytest.approx((0.1 + 0.2 + 0.7) / 3)


def test_the_score_that_compares_two_models_falls_when_a_figure_falls():
    good = assess(Stub(ANSWERS), ROWS)
    worse = dict(ANSWERS, hoyo=Classification("queja", "puentes", "normal", 0.9))
    assert score(assess(Stub(worse), ROWS)) < score(good)


def test_the_table_shows_every_register_the_whole_and_the_models_date():
    text = render_assessment(assess(Stub(ANSWERS), ROWS), "eval.jsonl", load_texts())
    assert "2026-12-01T03:30:00+00:00" in text
    for name in ("chat", "voz", "fuera", "todo", "ECE"):
        assert name in text


def test_an_evaluation_line_in_the_corpus_format_reads_too():
    row = labelled_from({"text": "x", "type": "queja", "topic": "otro", "urgency": "emergencia"})
    assert row.emergency and row.in_scope and row.register == ""
