"""Synthetic cases for demos and benchmarks, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import build_cli
from handlers.core.labels import CASE_TYPES
from handlers.core.texts import load_texts
from storage.models import Case, Commitment, Contact
from tests.helpers import add_staff


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
        # The deadline the policy gives real cases: an emergency's is the emergency deadline.
        assert case.deadline_days == app.policy.case_deadline_days(case.type, case.urgency)
    assert any(case.urgency == "emergencia" for case in cases)
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


def test_the_demos_pending_commitments_have_a_responsible_when_there_is_staff(app):
    ana, beto = add_staff(app.uow, "Ana"), add_staff(app.uow, "Beto")
    assert run(app, "demo-data", "--cases", "600", "--seed", "3").exit_code == 0
    with app.uow() as uow:
        commitments = uow.session.exec(select(Commitment)).all()
    pending = [c.responsible_id for c in commitments if c.status == "pending"]
    assert pending and set(pending) == {ana.id, beto.id}


def test_without_staff_the_demos_commitments_have_no_responsible(app):
    assert run(app, "demo-data", "--cases", "300", "--seed", "3").exit_code == 0
    with app.uow() as uow:
        commitments = uow.session.exec(select(Commitment)).all()
    assert commitments and {c.responsible_id for c in commitments} == {None}
