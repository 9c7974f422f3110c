"""Daily reminders and their scheduling, on SQLite and PostgreSQL."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.app import create_app
from bot.scheduler import (
    COMMITMENTS_OVERDUE,
    DAILY_REMINDERS,
    JOBS_TABLE,
    RETENTION,
    RETRAIN,
    VISIT_REMINDERS,
    WEEKLY_SUMMARY,
    Scheduler,
)
from handlers.casework.cases import open_case
from handlers.casework.reminders import daily_reminders
from storage.models import OutboxItem
from tests.helpers import add_staff

# Monday 7 December 2026, 08:00 in San Salvador.
MONDAY = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
DRAFT = {"type": "solicitud", "topic": "puentes", "parts": ["el puente se está hundiendo"]}


def case_received(app, when: datetime, assignee_id: int | None = None) -> str:
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", f"+5037{when:%d%H%M}00", when)
        case = open_case(uow, app.policy, contact=contact, draft=DRAFT, now=when).case
        case.assignee_id = assignee_id
        uow.cases.add(case)
        uow.commit()
        return case.folio


def test_agents_get_due_soon_and_overdue_cases_and_supervisors_the_escalations(app):
    ana = add_staff(app.uow, "Ana", telegram_id=111)
    add_staff(app.uow, "Sara", "supervisor", whatsapp="+50370005555")
    overdue = case_received(app, MONDAY - timedelta(days=30), ana.id)  # due in November
    due_soon = case_received(app, datetime(2026, 11, 17, 15, 0, tzinfo=UTC), ana.id)  # due 8/12
    later = case_received(app, MONDAY - timedelta(days=1), ana.id)  # due in 3 weeks
    stale = case_received(app, datetime(2026, 12, 3, 15, 0, tzinfo=UTC))  # Thursday, nobody
    fresh = case_received(app, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))  # Friday, nobody
    with app.uow() as uow:
        replies = {(r.channel, r.address): r.text for r in daily_reminders(uow, app.policy, MONDAY)}
    to_ana, to_sara = replies[("telegram", "111")], replies[("whatsapp", "+50370005555")]
    assert to_ana.index("Vencidos:") < to_ana.index(overdue) < to_ana.index("Vencen en 2")
    assert to_ana.index("Vencen en 2") < to_ana.index(due_soon)
    assert later not in to_ana and stale not in to_ana
    assert overdue in to_sara and stale in to_sara and due_soon not in to_sara
    assert fresh not in to_sara


def test_the_daily_reminders_are_queued_once_per_day_by_however_many_processes(app):
    add_staff(app.uow, "Sara", "supervisor", telegram_id=222)
    case_received(app, MONDAY - timedelta(days=30))
    processes = [create_app(app.settings) for _ in range(4)]
    results: list[bool] = []
    start = threading.Barrier(len(processes))

    def run(process) -> None:
        start.wait()
        results.append(Scheduler(process, lambda: MONDAY, lambda: None).send_daily_reminders())

    threads = [threading.Thread(target=run, args=(p,)) for p in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    tuesday = Scheduler(processes[0], lambda: MONDAY + timedelta(days=1), lambda: None)
    assert tuesday.send_daily_reminders()
    with app.uow() as uow:
        assert len(uow.outbox.pending("telegram", address="222")) == 2
    for process in processes:
        process.engine.dispose()


def test_the_job_lives_in_the_database_and_a_run_missed_while_down_happens_on_start(app):
    add_staff(app.uow, "Sara", "supervisor", telegram_id=222)
    case_received(app, MONDAY - timedelta(days=30))
    clock = lambda: MONDAY  # noqa: E731

    async def first_process() -> datetime:
        scheduler = Scheduler(app, clock, lambda: None)
        scheduler.start()
        job = scheduler.scheduler.get_job(DAILY_REMINDERS)
        # As if the service had stopped just before today's run.
        job.modify(next_run_time=datetime.now(UTC) - timedelta(minutes=5))
        scheduler.scheduler.pause()
        scheduler.stop()
        return job.next_run_time

    async def restarted() -> list[OutboxItem]:
        scheduler = Scheduler(app, clock, lambda: None)
        scheduler.start()
        deadline = time.monotonic() + 60  # bounds a hang only
        while True:
            await asyncio.sleep(0.05)
            with app.uow() as uow:
                sent = uow.outbox.pending("telegram", address="222")
            if sent or time.monotonic() > deadline:
                break
        jobs = scheduler.scheduler.get_jobs()
        scheduler.stop()
        assert sorted(job.id for job in jobs) == sorted(
            [
                DAILY_REMINDERS,
                COMMITMENTS_OVERDUE,
                RETENTION,
                WEEKLY_SUMMARY,
                RETRAIN,
                VISIT_REMINDERS,
            ]
        )
        return sent

    asyncio.run(first_process())
    with app.engine.connect() as connection:
        stored = connection.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars().all()
        runs = connection.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
    assert (
        sorted(stored)
        == sorted(
            [
                DAILY_REMINDERS,
                COMMITMENTS_OVERDUE,
                RETENTION,
                WEEKLY_SUMMARY,
                RETRAIN,
                VISIT_REMINDERS,
            ]
        )
        and runs == 0
    )
    (reminder,) = asyncio.run(restarted())
    assert "Escalamiento diario" in reminder.body
