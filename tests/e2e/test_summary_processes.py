"""Two service processes on one PostgreSQL database, both with the weekly summary due at once:
each supervisor gets one summary, not two."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from bot.app import create_app
from bot.scheduler import WEEKLY_SUMMARY, Scheduler
from tests.e2e.channels import Service, TelegramStaff
from tests.helpers import make_settings

SUPERVISORS = (4242, 4343)
STARTING_SECONDS = 8  # more than two services take to start together on a loaded machine


def the_summary_is_due_at(database_url: str, due: datetime) -> None:
    """The job store holds the weekly summary's next run at `due`: both processes, started
    before then, wake at that same instant and both run the job."""
    app = create_app(make_settings(database={"url": database_url}))

    async def store_the_job() -> None:
        scheduler = Scheduler(app, lambda: datetime.now(UTC), lambda: None)
        scheduler.start()
        job = scheduler.scheduler.get_job(WEEKLY_SUMMARY)
        job.modify(next_run_time=due)
        scheduler.scheduler.pause()
        scheduler.stop()

    asyncio.run(store_the_job())
    app.engine.dispose()


def test_two_service_processes_due_the_same_summary_send_each_supervisor_one(
    tmp_path, postgres_url, provider
):
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    first = Service(tmp_path / "first", postgres_url, provider)
    second = Service(tmp_path / "second", postgres_url, provider)
    for telegram_id in SUPERVISORS:
        added = first.cli("staff", "add", "--name", f"Supervisora {telegram_id}", "--role",
                          "supervisor", "--telegram-id", str(telegram_id))  # fmt: skip
        assert added.returncode == 0, added.stderr
    # Both processes start within seconds; the summary is due a little later.
    due = datetime.now(UTC) + timedelta(seconds=STARTING_SECONDS)
    the_summary_is_due_at(postgres_url, due)

    services = (first, second)
    starting = [threading.Thread(target=service.start) for service in services]
    try:
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()

        def summaries(telegram_id: int) -> list[str]:
            return [
                text
                for text in (c["text"] for c in TelegramStaff(first, telegram_id).replies())
                if text.startswith("📊 Resumen semanal")
            ]

        provider.wait_for(lambda: all(summaries(n) for n in SUPERVISORS))
        time.sleep(2)  # time for a second, wrong, summary to arrive
        for telegram_id in SUPERVISORS:
            assert len(summaries(telegram_id)) == 1, telegram_id
        assert len(provider.calls_to("sendPhoto")) == len(SUPERVISORS)
    finally:
        for service in services:
            service.stop()
