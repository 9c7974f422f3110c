"""Commitments through the real unit of work, on SQLite and PostgreSQL: planned against executed
in the period tally, the overdue ones in the weekly summary, reminded once a day."""

from datetime import UTC, date, datetime, timedelta

from typer.testing import CliRunner

from bot.cli import CliContext, build_cli
from bot.reporting import tally, weekly_summary
from bot.scheduler import Scheduler
from handlers.casework.privacy import forget_cases
from handlers.core.texts import load_texts
from handlers.reporting.tally import Period
from tests.helpers import POTHOLE, Citizen, Clock, add_staff

CITIZEN_NUMBER = "+50370009999"
FOLIO = "TA-2026-000001"
NOVEMBER = Period("2026-11", date(2026, 11, 1), date(2026, 11, 30))


def reported(app) -> tuple[Clock, Citizen]:
    """The pothole case (FOLIO) reported on Tuesday 17 November 2026, and Ana, an agent on
    Telegram, on the same clock."""
    clock = Clock()
    citizen = Citizen(app.dialogue, app.uow, address=CITIZEN_NUMBER, channel="whatsapp")
    citizen.clock = clock
    citizen.converse(*POTHOLE)
    add_staff(app.uow, "Ana Gómez", telegram_id=111)
    return clock, Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=clock)


def test_made_met_on_time_met_late_moved_and_overdue_are_counted_as_planned_against_executed(
    app,
):
    clock, ana = reported(app)
    ana.send(f"/compromiso {FOLIO} viernes limpiar el tragante")  # 1: met on time
    ana.send(f"/compromiso {FOLIO} 19/11 reponer la tapadera")  # 2: met late
    ana.send(f"/compromiso {FOLIO} 20/11 podar el árbol")  # 3: moved, still pending, overdue
    ana.send(f"/compromiso {FOLIO} 15/12 asfaltar la calle")  # 4: due next month
    assert "cumplido a tiempo" in ana.send("/compromiso_cumplido 1")
    ana.send("/compromiso_mover 3 24/11 falta la grúa")
    clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    assert "con retraso" in ana.send("/compromiso_cumplido 2")

    later = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    figures = tally(app, NOVEMBER, now=later)
    assert figures["commitments"] == {
        "made": 4,
        "due": 3,  # 1, 2 and 3 had their dates in November
        "met_on_time": 1,
        "met_late": 1,
        "pending": 2,
        "overdue": 1,  # 3, due on the 24th
        "moved": 1,
        "cancelled": 0,
    }
    assert (
        "Compromisos con la ciudadanía: se adquirieron 4, y 3 tenían fecha en el periodo; se "
        "cumplieron 2 (1 a tiempo y 1 con retraso). Al cierre quedaban 2 pendientes (1 vencido), "
        "y 1 de los adquiridos cambió de fecha." in figures["narrative"]
    )
    # Seen from before the 24th, the moved one was not overdue yet.
    assert tally(app, NOVEMBER, now=clock.now)["commitments"]["overdue"] == 0

    summary = weekly_summary(app, date(2026, 11, 23), later)
    assert summary.commitments_overdue == 1
    (folio, number, responsible, due) = summary.oldest_commitments[0]
    assert (folio, number, responsible, due) == (FOLIO, 3, "Ana Gómez", date(2026, 11, 24))

    # The daily job: Ana hears of #3 once that day, whatever the number of runs.
    morning = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert Scheduler(app, lambda: morning, lambda: None).remind_overdue_commitments()
    assert not Scheduler(app, lambda: morning, lambda: None).remind_overdue_commitments()
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("telegram", address="111", limit=100)]
    overdue = [body for body in told if body.startswith("⏰ Compromisos vencidos")]
    assert len(overdue) == 1 and "#3" in overdue[0] and "#4" not in overdue[0]


def test_forgetting_a_case_clears_what_was_promised_and_keeps_the_figures(app):
    clock, ana = reported(app)
    ana.send(f"/compromiso {FOLIO} 15/12 visitar a doña Marta en la casa 24")
    with app.uow() as uow:
        case = uow.cases.by_folio(FOLIO)
        forget_cases(uow, [case], case.contact_id, "[borrado]")
        uow.commit()
    with app.uow() as uow:
        (commitment,) = uow.commitments.for_case(case.id)
        assert commitment.what == "[borrado]" and commitment.due_date == date(2026, 12, 15)
    assert tally(app, NOVEMBER, now=clock.now + timedelta(days=1))["commitments"]["made"] == 1


def test_the_terminal_makes_lists_moves_and_meets_commitments_as_the_chat_does(app):
    clock = Clock()
    citizen = Citizen(app.dialogue, app.uow, address=CITIZEN_NUMBER, channel="whatsapp")
    citizen.clock = clock
    citizen.converse(*POTHOLE)
    add_staff(app.uow, "Rosa Pérez", telegram_id=4242)
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}

    def terminal(*args: str):
        obj = CliContext(clock=clock)
        return CliRunner().invoke(build_cli(load_texts()), ["commitments", *args], env=env, obj=obj)

    made = terminal("add", FOLIO, "15/12", "Visita técnica al puente", "--responsible", "Rosa")
    assert made.exit_code == 0, made.output
    assert "Compromiso #1 en el caso TA-2026-000001, para el martes 15/12/2026" in made.output
    assert "responsable: Rosa Pérez" in made.output
    refused = terminal("add", FOLIO, "ayer", "algo")
    assert "Fecha no válida: «ayer»" in str(refused.exception)  # one line; main() prints it
    moved = terminal("move", "1", "2026-12-18", "Lluvias en la zona", "--as", "Rosa Pérez")
    assert moved.exit_code == 0 and "nueva fecha viernes 18/12/2026" in moved.output
    listed = terminal("list", FOLIO)
    assert "📋 Compromisos del caso TA-2026-000001:" in listed.output
    assert "#1 TA-2026-000001 · viernes 18/12/2026 · Visita técnica al puente" in listed.output
    met = terminal("met", "1", "--note", "Visita hecha")
    assert met.exit_code == 0 and "cumplido a tiempo" in met.output
    assert terminal("list").output == "No hay compromisos pendientes.\n"
    assert "No hay un compromiso número 7" in str(terminal("met", "7").exception)
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=100)]
        case = uow.cases.by_folio(FOLIO)
        actors = [(e.actor, e.kind) for e in uow.cases.events(case.id) if "commitment" in e.kind]
    assert sum("Visita técnica al puente" in body for body in told) == 3
    assert actors == [
        ("consola", "commitment_made"),
        ("Rosa Pérez", "commitment_moved"),
        ("consola", "commitment_met"),
    ]


def test_a_commitment_made_on_a_field_visit_is_listed_with_it_and_only_on_its_case(app):
    clock, ana = reported(app)
    ana.send(f"/visita {FOLIO} mañana 09:00-11:00 Ing. Pérez")
    clock.now += timedelta(days=1)
    ana.send("/visita_hecha 1 El hoyo mide 2 m | Cuadrilla la otra semana")

    made = ana.send("/compromiso visita 1 viernes rellenar el hoyo")
    assert f"Compromiso #1 en el caso {FOLIO}" in made
    assert f"#1 {FOLIO} (visita #1)" in ana.send(f"/compromisos {FOLIO}")
    assert "No hay una visita #7" in ana.send("/compromiso visita 7 viernes otra cosa")
    ana.send(f"/visita {FOLIO} 30/11 09:00-11:00")
    ana.send("/visita_cancelar 2 lluvias")
    refused = ana.send("/compromiso visita 2 viernes otra cosa")
    assert refused.startswith("La visita #2 está cancelada: un compromiso se registra en una")

    Citizen(app.dialogue, app.uow, address="+50370008888", channel="whatsapp").converse(*POTHOLE)
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    refused = CliRunner().invoke(
        build_cli(load_texts()),
        ["commitments", "add", "TA-2026-000002", "15/12", "tapar el hoyo", "--visit", "1"],
        env=env,
        obj=CliContext(clock=clock),
    )
    assert "La visita #1 no es del caso TA-2026-000002." in str(refused.exception)
    with app.uow() as uow:
        (commitment,) = uow.commitments.for_case(uow.cases.by_folio(FOLIO).id)
    assert commitment.visit_id == 1


def filed_with_a_terminal(app):
    """The pothole reported on WhatsApp, and the terminal to work on it (its Result)."""
    clock = Clock()
    citizen = Citizen(app.dialogue, app.uow, address=CITIZEN_NUMBER, channel="whatsapp")
    citizen.clock = clock
    citizen.converse(*POTHOLE)
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}

    def terminal(*args: str):
        obj = CliContext(clock=clock)
        return CliRunner().invoke(build_cli(load_texts()), list(args), env=env, obj=obj)

    return terminal


def test_the_terminal_cancels_a_commitment_and_takes_the_note_as_written(app):
    terminal = filed_with_a_terminal(app)
    assert terminal("commitments", "add", FOLIO, "15/12", "podar el árbol").exit_code == 0
    assert terminal("commitments", "add", FOLIO, "16/12", "limpiar el tragante").exit_code == 0
    cancelled = terminal("commitments", "cancel", "1", "La alcaldía ya lo hizo")
    assert cancelled.exit_code == 0, cancelled.output
    assert "Compromiso #1 del caso TA-2026-000001 cancelado" in cancelled.output
    met = terminal("commitments", "met", "2", "quedó reparado")
    assert met.exit_code == 0, met.output
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=100)]
    assert any("se canceló.\nMotivo: La alcaldía ya lo hizo" in body for body in told)
    assert any(body.endswith("Nota: quedó reparado") for body in told)
    figures = tally(app, NOVEMBER, now=datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert figures["commitments"]["cancelled"] == 1


def test_terminal_errors_name_no_chat_command(app):
    run = filed_with_a_terminal(app)

    def terminal(*args: str) -> str:
        result = run(*args)
        return str(result.exception) + result.output

    assert "No hay una visita #99." in terminal("visits", "done", "99", "--notes", "x")
    assert "No hay un compromiso número 99." in terminal("commitments", "move", "99", "15/12", "x")
    said = terminal("commitments", "add", FOLIO, "15/12", " ")
    assert "Escriba qué se compromete a hacer la institución." in said
    terminal("visits", "propose", FOLIO, "--date", "20/11", "--from", "09:00", "--to", "11:00")
    busy = terminal(
        "visits", "propose", FOLIO, "--date", "21/11", "--from", "09:00", "--to", "11:00"
    )
    assert "ya tiene la visita #1 pendiente: cancélela antes de proponer otra." in busy
    for shown in (busy, said):
        assert "/" not in shown.replace("20/11", "").replace("15/12", "")


def test_the_help_names_each_argument_for_what_it_is():
    cli = build_cli(load_texts())
    add = CliRunner().invoke(cli, ["commitments", "add", "--help"]).output
    assert "commitments add [OPCIONES] FOLIO FECHA QUÉ" in add
    move = CliRunner().invoke(cli, ["commitments", "move", "--help"]).output
    assert "commitments move [OPCIONES] N FECHA MOTIVO" in move
    propose = " ".join(CliRunner().invoke(cli, ["visits", "propose", "--help"]).output.split())
    assert "--who QUIÉN" in propose and "hoy o mañana" in propose
    tally_help = " ".join(CliRunner().invoke(cli, ["tally", "--help"]).output.split())
    assert "visitas técnicas, compromisos" in tally_help
