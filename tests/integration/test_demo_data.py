"""Synthetic cases for demos and benchmarks, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import build_cli
from handlers.core.labels import CASE_TYPES
from handlers.core.texts import load_texts
from storage.models import Case, Contact


def run(app, *args: str):
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    return CliRunner().invoke(build_cli(load_texts()), list(args), env=env)


def test_demo_data_fills_a_year_of_consistent_cases_that_the_tally_counts(app):
    result = run(app, "demo-data", "--cases", "600", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "600 casos sintéticos creados" in result.output
    with app.uow() as uow:
        cases = uow.session.exec(select(Case)).all()
        contacts = uow.session.exec(select(func.count()).select_from(Contact)).one()
    now = datetime.now(UTC)
    assert len(cases) == 600 and len({case.folio for case in cases}) == 600
    assert {case.channel for case in cases} == {"whatsapp", "telegram", "telefono", "presencial"}
    assert {case.type for case in cases} == set(CASE_TYPES)
    assert {case.status for case in cases} >= {"cerrado", "resuelto", "remitido", "recibido"}
    assert {case.gender for case in cases} >= {"mujer", "hombre", "sin_dato"}
    assert 0 < contacts < 600
    for case in cases:
        assert now - timedelta(days=366) < case.created_at <= now
        assert case.due_at > case.created_at
        assert (case.attended_at is not None) == (
            case.status in ("resuelto", "cerrado", "remitido")
        )
        assert (case.closed_at is not None) == (case.status in ("cerrado", "descartado"))
        assert (case.first_response_at is None) == (case.status == "recibido")
        assert case.survey_rating is None or case.status == "cerrado"
        if case.anonymous:
            assert case.contact_id is None and case.gender == "sin_dato"
    today = now.date()
    first, last = str(today - timedelta(days=367)), str(today + timedelta(days=1))
    tally = run(app, "tally", "--from", first, "--to", last, "--format", "json")
    figures = json.loads(tally.output)
    assert figures["received"]["total"] == 600
    attended = sum(case.status in ("resuelto", "cerrado", "remitido") for case in cases)
    assert figures["attended"]["total"] == figures["deadlines"]["closed"] == attended


def test_demo_data_carries_commitments_that_a_demo_tally_shows(app):
    result = run(app, "demo-data", "--cases", "600", "--seed", "3")
    assert result.exit_code == 0, result.output
    today = datetime.now(UTC).date()
    first, last = str(today - timedelta(days=367)), str(today + timedelta(days=1))
    period = ("--from", first, "--to", last)
    figures = json.loads(run(app, "tally", *period, "--format", "json").output)
    commitments = figures["commitments"]
    assert 20 < commitments["made"] < 90
    assert commitments["met_on_time"] > commitments["met_late"] > 0
    assert commitments["moved"] > 0 and commitments["pending"] > 0
    assert "Compromisos con la ciudadanía" in figures["narrative"]
    table = run(app, "tally", "--from", first, "--to", last, "--format", "md").output
    assert "## Compromisos" in table and "| Ejecutados a tiempo |" in table
