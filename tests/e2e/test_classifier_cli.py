"""`classify` and `classifier train|evaluate` as real processes."""

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import create_app
from handlers.casework.reclassify import reclassify
from tests.e2e.test_console import telefono
from tests.helpers import POTHOLE, make_settings

HOLDOUT = Path(__file__).resolve().parents[1] / "holdout.jsonl"


@pytest.fixture
def sqlite_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=f"sqlite:///{tmp_path / 'ta.db'}")
    return env


def test_classify_answers_each_line_and_names_the_bad_ones_without_stopping(
    sqlite_environment, tmp_path
):
    lines = [
        json.dumps({"text": "se cayó el puente de la colonia y hay gente atrapada"}),
        "esto no es json",
        json.dumps({"texto": "sin el campo"}),
        "",
        json.dumps({"text": "😀😀"}),
        json.dumps({"text": "Gracias"}),
        json.dumps({"text": "hay un señor sangrando en la calle, vengan rápido"}),
        json.dumps({"text": "hay un bache en la calle de la colonia Las Brisas"}),
    ]
    result = telefono(sqlite_environment, "classify", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "Línea 2: no es JSON válido; se omite.",
        'Línea 3: se espera un objeto con "text" (un texto); se omite.',
    ]
    first, emoji, thanks, danger, pothole = map(json.loads, result.stdout.splitlines())
    assert first["text"] == "se cayó el puente de la colonia y hay gente atrapada"
    assert (first["topic"], first["urgency"]) == ("puentes", "emergencia")
    stable = {"text", "type", "topic", "urgency", "confidence"}
    assert set(first) == stable | {"danger_check", "in_scope"}
    assert emoji["confidence"] == 0.0
    # Marked an emergency, or else the dialogue asks whether people are in danger.
    assert danger["urgency"] == "emergencia" or danger["danger_check"] is True
    assert (first["danger_check"], pothole["danger_check"]) == (False, False)
    assert [r["in_scope"] for r in (emoji, thanks, pothole)] == [False, False, True]


def test_train_from_db_adds_the_staff_corrections(database_url, tmp_path):
    app = create_app(make_settings(database={"url": database_url}))
    app.migrate()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=database_url)
    telefono(env, "chat", "--as", "7001", stdin="\n".join(POTHOLE) + "\n", cwd=tmp_path)
    with app.uow() as uow:
        (case,) = uow.cases.search()
        reclassify(
            uow,
            app.policy,
            case,
            type="queja",
            topic="calles_caminos",
            urgency="normal",
            actor="Ana",
            now=case.created_at + timedelta(days=1),
        )
        uow.commit()
    app.engine.dispose()
    # A model of its own, so that the one the other tests share stays the corpus's.
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"))
    trained = telefono(env, "classifier", "train", "--from-db", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "(confirmados por el personal: 1)" in trained.stdout
    assert list((tmp_path / "cache" / "telefono-abierto").glob("classifier-*.joblib"))


def test_evaluate_prints_per_class_figures_macro_f1_and_confusion_for_each_label(
    sqlite_environment, tmp_path
):
    result = telefono(
        sqlite_environment,
        "classifier",
        "evaluate",
        "--folds",
        "2",
        "--holdout",
        str(HOLDOUT),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for head in ("type", "topic", "urgency"):
        assert out.count(f"-- {head}: macro-F1 ") == 2
    assert out.count("matriz de confusión") == 6 and "emergencia" in out
    assert "validación cruzada estratificada (2 partes)" in out and "conjunto de prueba" in out


def test_evaluate_with_a_missing_holdout_file_says_so_in_one_line(sqlite_environment, tmp_path):
    result = telefono(
        sqlite_environment, "classifier", "evaluate", "--holdout", "no-existe.jsonl", cwd=tmp_path
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "no-existe.jsonl" in result.stderr and "Traceback" not in result.stderr
