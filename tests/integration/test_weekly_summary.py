"""The weekly supervisor summary: its figures, and exactly one per supervisor and week however
many service processes share the database, on SQLite and PostgreSQL."""

import asyncio
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import CliContext, build_cli
from bot.scheduler import WEEKLY_SUMMARY, Scheduler
from handlers.casework.cases import open_case
from handlers.core.texts import load_texts
from tests.helpers import Citizen, Clock, add_staff
from tests.integration.test_outbox import (
    ACCOUNT_SID,
    BOT_TOKEN,
    ManualClock,
    dispatcher,
    send_all,
)
from tests.provider import Provider

# Monday 23 November 2026, 07:00 in San Salvador: the summary of week 47 (16 to 22 November).
MONDAY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
DRAFT = {"type": "solicitud", "topic": "puentes", "parts": ["el puente se está hundiendo"]}


def case_received(app, when: datetime, assignee_id: int | None = None, **draft) -> str:
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", f"+5037{when:%m%d%H}00", when)
        contact.consented_at = when  # the person went through the greeting
        case = open_case(uow, app.policy, contact=contact, draft={**DRAFT, **draft}, now=when)
        case.case.assignee_id = assignee_id
        uow.cases.add(case.case)
        uow.commit()
        return case.case.folio


def summaries_for(app, channel: str, address: str) -> list[str]:
    with app.uow() as uow:
        return [
            item.body
            for item in uow.outbox.pending(channel, address=address)
            if "Resumen semanal" in item.body
        ]


@pytest.fixture(autouse=True)
def charts_in_tmp(app, tmp_path):
    """The summary's chart is written under the media directory: a temporary one here."""
    app.settings.media.directory = str(tmp_path / "media")


def supervisors(app) -> None:
    add_staff(app.uow, "Sara", "supervisor", telegram_id=222)
    add_staff(app.uow, "Pedro", "supervisor", whatsapp="+50370005555")
    add_staff(app.uow, "Rita", "supervisor", telegram_id=333, active=False)


def test_the_summary_compares_the_week_and_names_the_oldest_overdue_cases(app):
    add_staff(app.uow, "Ana", telegram_id=111)
    ana = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=Clock())
    supervisors(app)
    late = case_received(app, datetime(2026, 10, 1, 15, tzinfo=UTC))
    ana.clock.now = datetime(2026, 10, 1, 16, tzinfo=UTC)
    ana.send(f"/tomar {late}")
    case_received(app, datetime(2026, 11, 10, 15, tzinfo=UTC))  # week 46
    closed = case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    case_received(app, datetime(2026, 11, 18, 15, tzinfo=UTC))
    # An emergency's deadline is its own day: unanswered, it is overdue by Monday.
    emergency = case_received(app, datetime(2026, 11, 19, 15, tzinfo=UTC), urgency="emergencia")
    ana.clock.now = datetime(2026, 11, 17, 16, 59, tzinfo=UTC)
    ana.send(f"/tomar {closed}")  # two hours after it arrived: not a response to the citizen
    ana.clock.now = datetime(2026, 11, 18, 15, tzinfo=UTC)
    ana.send(f"/cerrar {closed} Puente reforzado")  # the first response, 24 hours after
    citizen = Citizen(
        app.dialogue, app.uow, address="+503711171500", channel="whatsapp", clock=ana.clock
    )
    assert "de 1 (muy mala) a 5" in citizen.send("1")  # resolved
    citizen.send("4")
    scheduler = Scheduler(app, lambda: MONDAY, lambda: None)
    assert scheduler.send_weekly_summary()
    (text,) = summaries_for(app, "telegram", "222")
    assert text.splitlines() == [
        "📊 Resumen semanal 2026-W47 (16/11 al 22/11/2026)",
        "Casos recibidos: 3 (semana anterior: 1; diferencia: +2)",
        "• solicitud: 3 (antes 1)",
        "• WhatsApp: 3 (antes 1)",
        "Atendidos en la semana: 1",
        "Abiertos al terminar la semana: 4 (de ellos, recibidos en la semana: 2)",
        "Emergencias: 1",
        "Casos con plazo vencido hoy: 2",
        f"Los más antiguos: {late}, {emergency}",
        "Con más casos vencidos: Ana (1)",
        "Mediana de primera respuesta: 24.0 horas",  # the closure (see above)
        "Satisfacción: 4.0 sobre 5 (1 respuesta)",
    ]
    assert summaries_for(app, "whatsapp", "+50370005555") == [text]
    assert summaries_for(app, "telegram", "333") == summaries_for(app, "telegram", "111") == []


def test_a_case_referred_before_its_deadline_is_neither_overdue_nor_open_in_the_summary(app):
    add_staff(app.uow, "Ana", telegram_id=111)
    supervisors(app)
    referred = case_received(app, datetime(2026, 10, 1, 15, tzinfo=UTC))
    late = case_received(app, datetime(2026, 10, 2, 15, tzinfo=UTC))
    this_week = case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    case_received(app, datetime(2026, 11, 18, 15, tzinfo=UTC))
    ana = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=Clock())
    ana.clock.now = datetime(2026, 10, 5, 15, tzinfo=UTC)  # within the deadline
    assert referred in ana.send(f"/remitir {referred} Alcaldía de San Miguel")
    ana.clock.now = datetime(2026, 11, 19, 15, tzinfo=UTC)
    assert this_week in ana.send(f"/remitir {this_week} Ministerio de Obras Públicas")
    assert Scheduler(app, lambda: MONDAY, lambda: None).send_weekly_summary()
    (text,) = summaries_for(app, "telegram", "222")
    assert "Atendidos en la semana: 1" in text
    assert "Abiertos al terminar la semana: 2 (de ellos, recibidos en la semana: 1)" in text
    assert "Casos con plazo vencido hoy: 1" in text and f"Los más antiguos: {late}" in text


def test_the_summary_of_a_past_week_counts_the_cases_open_when_that_week_ended(app):
    add_staff(app.uow, "Ana", telegram_id=111)
    ana = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=Clock())
    case_received(app, datetime(2026, 10, 1, 15, tzinfo=UTC))  # still open
    discarded = case_received(app, datetime(2026, 11, 10, 15, tzinfo=UTC))
    closed_later = case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    closed_within = case_received(app, datetime(2026, 11, 18, 15, tzinfo=UTC))
    for day in (24, 25, 26):  # the weeks after: not yet received when week 47 ended
        case_received(app, datetime(2026, 11, day, 15, tzinfo=UTC))
    for when, command in (
        (datetime(2026, 11, 12, 15, tzinfo=UTC), f"/descartar {discarded} duplicado"),
        (datetime(2026, 11, 19, 15, tzinfo=UTC), f"/cerrar {closed_within} Reparado"),
        (datetime(2026, 11, 25, 15, tzinfo=UTC), f"/cerrar {closed_later} Reparado"),
    ):
        ana.clock.now = when
        assert "✅" in ana.send(command), command
    terminal = CliRunner()
    obj = CliContext(clock=lambda: datetime(2026, 12, 9, 15, tzinfo=UTC), interactive=lambda: False)
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    past = terminal.invoke(
        build_cli(load_texts()), ["summary", "--week", "2026-W47"], env=env, obj=obj
    )
    assert past.exit_code == 0, past.output
    assert "Abiertos al terminar la semana: 2 (de ellos, recibidos en la semana: 1)" in (
        past.output.splitlines()
    ), past.output
    # The week in progress: open today, and said so.
    now = terminal.invoke(
        build_cli(load_texts()), ["summary", "--week", "2026-W50"], env=env, obj=obj
    )
    assert "Abiertos hoy: 4 (de ellos, recibidos en la semana: 0)" in now.output.splitlines()


def test_the_overdue_cases_of_a_past_week_are_counted_and_labelled_as_of_today(app):
    """Who is late is a question about now: the line and its folios say so ("hoy"), beside the
    open cases counted when the week ended."""
    late = case_received(app, datetime(2026, 11, 16, 15, tzinfo=UTC))  # week 47, due in December
    with app.uow() as uow:
        (case,) = [c for c in uow.cases.queue(("recibido",)) if c.folio == late]
        asked = case.due_at + timedelta(days=1)
    obj = CliContext(clock=lambda: asked, interactive=lambda: False)
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    past = CliRunner().invoke(
        build_cli(load_texts()), ["summary", "--week", "2026-W47"], env=env, obj=obj
    )
    assert past.exit_code == 0, past.output
    lines = past.output.splitlines()
    assert "Abiertos al terminar la semana: 1 (de ellos, recibidos en la semana: 1)" in lines
    assert "Casos con plazo vencido hoy: 1" in lines and f"Los más antiguos: {late}" in lines


def test_two_processes_send_each_supervisor_one_summary_a_week(app):
    supervisors(app)
    case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    processes = [create_app(app.settings) for _ in range(2)]
    results: list[bool] = []
    start = threading.Barrier(len(processes))

    def run(process) -> None:
        start.wait()
        results.append(Scheduler(process, lambda: MONDAY, lambda: None).send_weekly_summary())

    threads = [threading.Thread(target=run, args=(p,)) for p in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    # Later the same week (a restart, say) nothing more is sent; the next week, again once.
    wednesday = Scheduler(processes[0], lambda: MONDAY + timedelta(days=2), lambda: None)
    assert not wednesday.send_weekly_summary()
    next_monday = Scheduler(processes[1], lambda: MONDAY + timedelta(days=7), lambda: None)
    assert next_monday.send_weekly_summary()
    sara = summaries_for(app, "telegram", "222")
    assert [body.split(" (")[0] for body in sara] == [
        "📊 Resumen semanal 2026-W47",
        "📊 Resumen semanal 2026-W48",
    ]
    assert len(summaries_for(app, "whatsapp", "+50370005555")) == 2
    for process in processes:
        process.engine.dispose()


def test_a_summary_missed_while_both_services_were_down_is_sent_once_when_they_return(app):
    supervisors(app)
    clock = lambda: MONDAY + timedelta(days=1)  # noqa: E731 - back on Tuesday

    async def went_down_before_monday() -> None:
        scheduler = Scheduler(app, clock, lambda: None)
        scheduler.start()
        job = scheduler.scheduler.get_job(WEEKLY_SUMMARY)
        job.modify(next_run_time=datetime.now(UTC) - timedelta(hours=30))
        scheduler.scheduler.pause()
        scheduler.stop()

    async def both_come_back(missed: bool) -> None:
        processes = [create_app(app.settings) for _ in range(2)]
        schedulers = [Scheduler(process, clock, lambda: None) for process in processes]
        summary_ran = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_job(event) -> None:
            if event.job_id == WEEKLY_SUMMARY:
                loop.call_soon_threadsafe(summary_ran.set)

        for scheduler in schedulers:
            scheduler.start()
            scheduler.scheduler.add_listener(on_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        # Until a process ran the missed job (the bound only catches a hang), then a moment
        # for a second, wrong, send to show up (a wait that can only hide a failure, not make
        # one).
        if missed:
            await asyncio.wait_for(summary_ran.wait(), 60)
        await asyncio.sleep(0.3)
        for scheduler in schedulers:
            scheduler.stop()
        for process in processes:
            process.engine.dispose()

    asyncio.run(went_down_before_monday())
    asyncio.run(both_come_back(missed=True))
    assert len(summaries_for(app, "telegram", "222")) == 1
    assert len(summaries_for(app, "whatsapp", "+50370005555")) == 1
    asyncio.run(both_come_back(missed=False))  # restarted again the same week
    assert len(summaries_for(app, "telegram", "222")) == 1


def test_supervisors_on_telegram_get_the_chart_as_a_photo_and_on_whatsapp_the_text(app):
    supervisors(app)
    for day in (10, 17, 18):
        case_received(app, datetime(2026, 11, day, 15, tzinfo=UTC))
    assert Scheduler(app, lambda: MONDAY, lambda: None).send_weekly_summary()
    provider = Provider(BOT_TOKEN, ACCOUNT_SID).start()
    clock = ManualClock()
    clock.now = MONDAY
    try:
        send_all(dispatcher(app, provider, clock), "telegram")
    finally:
        provider.stop()
    (text,) = [c.params["text"] for c in provider.calls_to("sendMessage")]
    (photo,) = provider.calls_to("sendPhoto")
    assert text.startswith("📊 Resumen semanal 2026-W47")
    assert photo.params["chat_id"] in ("222", b"222")
    assert photo.params["photo"].startswith(b"\x89PNG")
    assert "Casos recibidos por tipo" in photo.params["caption"]
    # WhatsApp gets the text (sent within the supervisor's 24-hour window, like any reply).
    assert summaries_for(app, "whatsapp", "+50370005555") == [text]


def test_the_summary_command_prints_a_week_and_refuses_a_wrong_one_in_one_line(app):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    supervisors(app)
    case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    cli = build_cli(load_texts())
    shown = CliRunner().invoke(cli, ["summary", "--week", "2026-W47"], env=env)
    assert (
        shown.exit_code == 0
        and "Casos recibidos: 1 (semana anterior: 0; diferencia: +1)" in shown.output
    )
    assert summaries_for(app, "telegram", "222") == []
    sent = CliRunner().invoke(cli, ["summary", "--week", "2026-W47", "--send"], env=env)
    assert "Resumen 2026-W47 en cola para 2 supervisores." in sent.output
    assert len(summaries_for(app, "telegram", "222")) == 1
    wrong = CliRunner().invoke(cli, ["summary", "--week", "noviembre"], env=env)
    assert wrong.exit_code == 1 and len(wrong.output.strip().splitlines()) == 1


def test_a_week_out_of_the_calendar_and_a_chart_that_cannot_be_written_are_one_line(app, tmp_path):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    supervisors(app)
    case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    cli = build_cli(load_texts())
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    for week in ("9999-W52", "0001-W01"):
        wrong = CliRunner().invoke(cli, ["summary", "--week", week], env=env)
        assert wrong.exit_code == 1 and "Semana desconocida" in wrong.output
        assert len(wrong.output.strip().splitlines()) == 1
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    env["TA_MEDIA__DIRECTORY"] = str(not_a_folder)
    failed = CliRunner().invoke(cli, ["summary", "--week", "2026-W47", "--send"], env=env)
    assert failed.exit_code == 1 and failed.output.startswith("No se pudo escribir")
    assert len(failed.output.strip().splitlines()) == 1
    assert summaries_for(app, "telegram", "222") == []  # nothing queued without its chart


def test_the_summary_command_sends_a_week_once_unless_forced_and_the_scheduler_then_skips_it(app):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    add_staff(app.uow, "Sara", "supervisor", telegram_id=222)
    case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    cli = build_cli(load_texts())

    def summary(*options: str):
        return CliRunner().invoke(cli, ["summary", "--week", "2026-W47", *options], env=env)

    sent = summary("--send")
    assert sent.exit_code == 0
    assert sent.output.strip().endswith("Resumen 2026-W47 en cola para 1 supervisor.")
    again = summary("--send")
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1
    assert "ya se envió" in again.output and "--force" in again.output
    assert len(summaries_for(app, "telegram", "222")) == 1
    # The Monday job finds the week already sent.
    assert not Scheduler(app, lambda: MONDAY, lambda: None).send_weekly_summary()
    assert len(summaries_for(app, "telegram", "222")) == 1
    forced = summary("--send", "--force")
    assert forced.exit_code == 0 and "en cola para 1 supervisor." in forced.output
    assert len(summaries_for(app, "telegram", "222")) == 2


def test_a_trial_on_the_console_shows_in_the_summary_only_when_asked_and_a_future_week_is_refused(
    app,
):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    supervisors(app)
    folio = case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    with app.uow() as uow:
        uow.cases.by_folio(folio).channel = "console"
        uow.commit()
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    cli = build_cli(load_texts())

    def summary(*options: str):
        return CliRunner().invoke(cli, ["summary", "--week", "2026-W47", *options], env=env)

    assert "Casos recibidos: 0 (semana anterior: 0; diferencia: 0)" in summary().output
    trial = summary("--include-console")
    assert (
        trial.exit_code == 0
        and "Casos recibidos: 1 (semana anterior: 0; diferencia: +1)" in trial.output
    )
    refused = summary("--include-console", "--send")
    assert refused.exit_code == 1 and summaries_for(app, "telegram", "222") == []
    future = CliRunner().invoke(cli, ["summary", "--week", "2099-W10"], env=env)
    assert future.exit_code == 1 and "todavía no ha empezado" in future.output


def test_charts_are_kept_the_configured_weeks_and_older_ones_are_deleted(app, tmp_path):
    supervisors(app)
    app.settings.media.chart_weeks = 4
    folder = tmp_path / "media" / "reports"
    folder.mkdir(parents=True)
    old, recent, other = (folder / f"{c * 32}.png" for c in "abc")
    other = folder / "not-a-chart.png"
    for path in (old, recent, other):
        path.write_bytes(b"\x89PNG")
    five_weeks_ago = (MONDAY - timedelta(weeks=5)).timestamp()
    for path in (old, other):
        os.utime(path, (five_weeks_ago, five_weeks_ago))
    three_weeks_ago = (MONDAY - timedelta(weeks=3)).timestamp()
    os.utime(recent, (three_weeks_ago, three_weeks_ago))

    assert Scheduler(app, lambda: MONDAY, lambda: None).send_weekly_summary()
    left = {path.name for path in folder.iterdir()}
    assert old.name not in left and recent.name in left and other.name in left
    assert len(left) == 3  # this week's chart, the recent one and the file it did not write


def test_the_chart_route_serves_a_chart_written_under_a_relative_media_folder(
    app, tmp_path, monkeypatch
):
    from starlette.testclient import TestClient

    from bot.reporting import chart_file
    from bot.server import build_asgi, build_service
    from tests.helpers import make_settings

    monkeypatch.chdir(tmp_path)
    settings = make_settings(
        database={"url": app.settings.database.url}, media={"directory": "rel"}
    )
    relative = create_app(settings)
    supervisors(relative)
    assert Scheduler(relative, lambda: MONDAY, lambda: None).send_weekly_summary()
    (chart,) = (tmp_path / "rel" / "reports").iterdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the service's working directory is not the config's
    assert chart_file(relative, chart.name) == chart
    asgi = build_asgi(build_service(relative, lambda: MONDAY, channels=[]))
    response = TestClient(asgi).get(f"/reports/charts/{chart.name}")
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    relative.engine.dispose()


def test_a_summary_with_nobody_to_receive_it_says_so_and_is_not_taken_as_sent(app):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    case_received(app, datetime(2026, 11, 17, 15, tzinfo=UTC))
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    cli = build_cli(load_texts())
    nobody = CliRunner().invoke(cli, ["summary", "--week", "2026-W47", "--send"], env=env)
    assert nobody.exit_code == 1 and "no se envió a nadie" in nobody.output
    supervisors(app)
    sent = CliRunner().invoke(cli, ["summary", "--week", "2026-W47", "--send"], env=env)
    assert sent.exit_code == 0 and "en cola para 2 supervisores" in sent.output
