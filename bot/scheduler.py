"""Scheduled jobs: APScheduler 3 with its SQLAlchemy job store in our own database.

The job store keeps each job's next run, so a restart neither loses a run (a run missed while
the service was down happens when it starts, within the grace time) nor repeats one. With
several service processes on one database each process has the job, and each run first claims
its date in `job_runs` (INSERT ... ON CONFLICT DO NOTHING): only the process that inserted the
row does the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.app import App
from bot.reporting import WEEKLY_SUMMARY, send_weekly_summary
from handlers.intake import queue
from handlers.reminders import daily_reminders
from handlers.summary import last_full_week

log = logging.getLogger(__name__)

DAILY_REMINDERS = "daily_reminders"
JOBS_TABLE = "apscheduler_jobs"
GRACE = 6 * 3600  # seconds a missed run may still happen late (after a restart, say)
# The weekly summary missed (service down on Monday) is still sent later that week, once.
WEEKLY_GRACE = 6 * 86400

# The job store pickles a reference to `run_job` and the job's id, never objects of this
# process; each process registers here what its jobs do.
_runners: dict[str, Callable[[], Awaitable[None]]] = {}


async def run_job(job_id: str) -> None:
    """What every stored job calls."""
    runner = _runners.get(job_id)
    if runner is not None:
        await runner()


class Scheduler:
    """The daily reminders, on `schedule.daily_reminders`, and the weekly supervisor summary,
    on `schedule.weekly_summary`, in the institution's time zone."""

    def __init__(self, app: App, clock: Callable[[], datetime], wake: Callable[[], None]):
        self.app = app
        self.clock = clock
        self.wake = wake
        self.scheduler: AsyncIOScheduler | None = None

    def send_daily_reminders(self) -> bool:
        """Claim today's run and queue the reminders; False when another process (or an earlier
        run of this one) already did."""
        now = self.clock()
        run_date = self.app.policy.calendar.local_date(now).isoformat()
        with self.app.uow() as uow:
            if not uow.job_runs.claim(DAILY_REMINDERS, run_date, now):
                return False
            queue(uow, daily_reminders(uow, self.app.policy, now), now)
            uow.commit()
        return True

    async def _daily(self) -> None:
        try:
            if await asyncio.to_thread(self.send_daily_reminders):
                self.wake()
        except Exception as exc:  # a failed run is logged; the next day's still happens
            log.warning("scheduler: daily reminders failed (%s)", type(exc).__name__)

    def send_weekly_summary(self) -> bool:
        """Claim the last full week's summary and queue it for the supervisors; False when
        another process (or an earlier run of this one) already did."""
        now = self.clock()
        monday = last_full_week(self.app.policy.calendar.local_date(now))
        return send_weekly_summary(self.app, monday, now, claim=True)[1] is not None

    async def _weekly(self) -> None:
        try:
            if await asyncio.to_thread(self.send_weekly_summary):
                self.wake()
        except Exception as exc:  # a failed run is logged; next week's still happens
            log.warning("scheduler: weekly summary failed (%s)", type(exc).__name__)

    def weekly_trigger(self) -> CronTrigger:
        day, hour_minute = self.app.settings.schedule.weekly_summary.split()
        hour, minute = (int(part) for part in hour_minute.split(":"))
        tz = self.app.policy.calendar.tz
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)

    def trigger(self) -> CronTrigger:
        hour, minute = (int(part) for part in self.app.settings.schedule.daily_reminders.split(":"))
        return CronTrigger(hour=hour, minute=minute, timezone=self.app.policy.calendar.tz)

    def start(self) -> None:
        """Start the scheduler (inside the running event loop) and make sure the job exists."""
        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=JOBS_TABLE)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": store}, timezone=self.app.policy.calendar.tz
        )
        _runners[DAILY_REMINDERS] = self._daily
        self.scheduler.start()
        trigger = self.trigger()
        job = self.scheduler.get_job(DAILY_REMINDERS)
        if job is None:
            self.scheduler.add_job(
                run_job,
                trigger,
                args=[DAILY_REMINDERS],
                id=DAILY_REMINDERS,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=GRACE,
                replace_existing=True,
            )
        elif str(job.trigger) != str(trigger):
            # The hour was changed in the settings.
            self.scheduler.reschedule_job(DAILY_REMINDERS, trigger=trigger)
        self._start_weekly()

    def _start_weekly(self) -> None:
        _runners[WEEKLY_SUMMARY] = self._weekly
        trigger = self.weekly_trigger()
        job = self.scheduler.get_job(WEEKLY_SUMMARY)
        if job is None:
            self.scheduler.add_job(
                run_job,
                trigger,
                args=[WEEKLY_SUMMARY],
                id=WEEKLY_SUMMARY,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=WEEKLY_GRACE,
                replace_existing=True,
            )
        elif str(job.trigger) != str(trigger):
            self.scheduler.reschedule_job(WEEKLY_SUMMARY, trigger=trigger)

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        _runners.pop(DAILY_REMINDERS, None)
        _runners.pop(WEEKLY_SUMMARY, None)
