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
from bot.training.retrain import Outcome, evaluation_set_path, retrain_in_child
from handlers.casework.commitments import overdue_reminders
from handlers.casework.examples import stored_examples
from handlers.casework.privacy import anonymise_expired, erase_inactive_contacts
from handlers.casework.reminders import daily_reminders
from handlers.casework.visits import due_reminders
from handlers.dialogue.intake import queue
from handlers.reporting.summary import last_full_week
from storage.engine import vacuum
from storage.models import PERSONAL_TABLES

log = logging.getLogger(__name__)

DAILY_REMINDERS = "daily_reminders"
COMMITMENTS_OVERDUE = "commitments_overdue"
VISIT_REMINDERS = "visit_reminders"
RETRAIN = "classifier_retrain"
RETENTION = "privacy_retention"
RETENTION_HOUR = 3  # local time: the retention work runs at night
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
    """The daily reminders, on `schedule.daily_reminders`, the overdue commitments, on
    `schedule.commitments_overdue`, tomorrow's field visits, on `schedule.visit_reminders`, the
    weekly supervisor summary, on
    `schedule.weekly_summary`, and the classifier's weekly retraining, on `classifier.retrain`,
    in the institution's time zone."""

    def __init__(self, app: App, clock: Callable[[], datetime], wake: Callable[[], None]):
        self.app = app
        self.clock = clock
        self.wake = wake
        self.scheduler: AsyncIOScheduler | None = None

    def send_daily_reminders(self) -> bool:
        """Claim today's run and queue the reminders; False when another process (or an earlier
        run of this one) already did."""
        return self._queue_once_a_day(DAILY_REMINDERS, daily_reminders)

    def remind_overdue_commitments(self) -> bool:
        """Claim today's run and tell the responsible staff of their overdue commitments; False
        when another process (or an earlier run of this one) already did."""
        return self._queue_once_a_day(COMMITMENTS_OVERDUE, overdue_reminders)

    def _queue_once_a_day(self, job: str, replies: Callable[..., list]) -> bool:
        """Claim today's run of `job` and queue what `replies(uow, policy, now)` says."""
        now = self.clock()
        run_date = self.app.policy.calendar.local_date(now).isoformat()
        with self.app.uow() as uow:
            if not uow.job_runs.claim(job, run_date, now):
                return False
            queue(uow, replies(uow, self.app.policy, now), now)
            uow.commit()
        return True

    async def _daily(self) -> None:
        await self._queued(DAILY_REMINDERS, self.send_daily_reminders)

    async def _commitments(self) -> None:
        await self._queued(COMMITMENTS_OVERDUE, self.remind_overdue_commitments)

    async def _queued(self, job: str, run: Callable[[], bool]) -> None:
        """Run a job that queues messages, waking the dispatcher when it did."""
        try:
            done = await asyncio.to_thread(run)
            if done:
                self.wake()
        except Exception as exc:  # a failed run is logged; the next day's still happens
            log.warning("scheduler: %s failed (%s)", job, type(exc).__name__)
            self.app.metrics.job(job, "failed")
        else:
            self.app.metrics.job(job, "done" if done else "skipped")

    def send_visit_reminders(self) -> int:
        """Queue the reminders of tomorrow's field visits; each visit is reminded once (its
        `reminded_at`), however often this runs. The number of messages queued."""
        now = self.clock()
        with self.app.uow() as uow:
            replies = due_reminders(uow, self.app.policy, now)
            queue(uow, replies, now)
            uow.commit()
        return len(replies)

    async def _visits(self) -> None:
        await self._queued(VISIT_REMINDERS, lambda: self.send_visit_reminders() > 0)

    def anonymise_expired_cases(self) -> list[str] | None:
        """Claim today's retention run and anonymise the expired cases; None when another
        process (or an earlier run of this one) already did."""
        now = self.clock()
        run_date = self.app.policy.calendar.local_date(now).isoformat()
        with self.app.uow() as uow:
            if not uow.job_runs.claim(RETENTION, run_date, now):
                return None
            folios = anonymise_expired(uow, self.app.policy, now)
            contacts = erase_inactive_contacts(uow, self.app.policy, now)
            uow.commit()
        vacuum(self.app.engine, PERSONAL_TABLES)
        log.info("scheduler: retention anonymised %d cases, %d contacts", len(folios), contacts)
        return folios

    async def _retention(self) -> None:
        try:
            done = await asyncio.to_thread(self.anonymise_expired_cases) is not None
        except Exception as exc:  # logged; the next night's run still happens
            log.warning("scheduler: retention failed (%s)", type(exc).__name__)
            self.app.metrics.job(RETENTION, "failed")
        else:
            self.app.metrics.job(RETENTION, "done" if done else "skipped")

    def send_weekly_summary(self) -> bool:
        """Claim the last full week's summary and queue it for the supervisors; False when
        another process (or an earlier run of this one) already did."""
        now = self.clock()
        monday = last_full_week(self.app.policy.calendar.local_date(now))
        return send_weekly_summary(self.app, monday, now)[1] is not None

    async def _weekly(self) -> None:
        try:
            done = await asyncio.to_thread(self.send_weekly_summary)
            if done:
                self.wake()
        except Exception as exc:  # a failed run is logged; next week's still happens
            log.warning("scheduler: weekly summary failed (%s)", type(exc).__name__)
            self.app.metrics.job(WEEKLY_SUMMARY, "failed")
        else:
            self.app.metrics.job(WEEKLY_SUMMARY, "done" if done else "skipped")

    def retrain_classifier(self) -> Outcome | None:
        """Claim this week's retraining, build a candidate from the corpus and the stored
        labelled examples in a child process, and reload the running classifier when the
        candidate replaced it; None when another process (or an earlier run) already did, or
        the retraining failed."""
        now = self.clock()
        run_date = self.app.policy.calendar.local_date(now).isoformat()
        with self.app.uow() as uow:
            if not uow.job_runs.claim(RETRAIN, run_date, now):
                return None
            corrections = stored_examples(uow, self.app.policy)
            uow.commit()
        evaluation = evaluation_set_path(self.app.settings.classifier.evaluation_set)
        if not evaluation.exists():
            log.warning("scheduler: no evaluation set, the classifier is not retrained")
            return None
        outcome = retrain_in_child(corrections, evaluation)
        if outcome is not None and outcome.replaced:
            reload = getattr(self.app.policy.classifier, "reload", None)
            if reload is not None:
                reload()
        if outcome is not None:
            log.info(
                "scheduler: classifier candidate %.3f, running %.3f, %s",
                outcome.candidate_score,
                outcome.current_score,
                "replaced" if outcome.replaced else "kept",
            )
        return outcome

    async def _retrain(self) -> None:
        try:
            await asyncio.to_thread(self.retrain_classifier)
        except Exception as exc:  # logged; next week's still happens
            log.warning("scheduler: classifier retrain failed (%s)", type(exc).__name__)

    def retrain_trigger(self) -> CronTrigger | None:
        setting = self.app.settings.classifier.retrain
        if setting == "off":
            return None
        day, hour_minute = setting.split()
        hour, minute = (int(part) for part in hour_minute.split(":"))
        tz = self.app.policy.calendar.tz
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)

    def weekly_trigger(self) -> CronTrigger:
        day, hour_minute = self.app.settings.schedule.weekly_summary.split()
        hour, minute = (int(part) for part in hour_minute.split(":"))
        tz = self.app.policy.calendar.tz
        return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)

    def trigger(self, setting: str | None = None) -> CronTrigger:
        """Every day at `setting` (by default `schedule.daily_reminders`), local time."""
        setting = setting or self.app.settings.schedule.daily_reminders
        hour, minute = (int(part) for part in setting.split(":"))
        return CronTrigger(hour=hour, minute=minute, timezone=self.app.policy.calendar.tz)

    def start(self) -> None:
        """Start the scheduler (inside the running event loop) and make sure the job exists."""
        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=JOBS_TABLE)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": store}, timezone=self.app.policy.calendar.tz
        )
        self.scheduler.start()
        self._ensure(DAILY_REMINDERS, self._daily, self.trigger(), GRACE)
        overdue = self.trigger(self.app.settings.schedule.commitments_overdue)
        self._ensure(COMMITMENTS_OVERDUE, self._commitments, overdue, GRACE)
        visits = self.trigger(self.app.settings.schedule.visit_reminders)
        self._ensure(VISIT_REMINDERS, self._visits, visits, GRACE)
        retention = CronTrigger(hour=RETENTION_HOUR, minute=0, timezone=self.app.policy.calendar.tz)
        self._ensure(RETENTION, self._retention, retention, GRACE)
        self._ensure(WEEKLY_SUMMARY, self._weekly, self.weekly_trigger(), WEEKLY_GRACE)
        retrain = self.retrain_trigger()
        if retrain is not None:
            self._ensure(RETRAIN, self._retrain, retrain, WEEKLY_GRACE)
        elif self.scheduler.get_job(RETRAIN) is not None:
            self.scheduler.remove_job(RETRAIN)

    def _ensure(self, job_id: str, runner, trigger: CronTrigger, grace: int) -> None:
        """Register what the job does in this process, and store the job once for all of
        them (rescheduled when its time was changed in the settings)."""
        _runners[job_id] = runner
        job = self.scheduler.get_job(job_id)
        if job is None:
            self.scheduler.add_job(
                run_job,
                trigger,
                args=[job_id],
                id=job_id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
                replace_existing=True,
            )
        elif str(job.trigger) != str(trigger):
            self.scheduler.reschedule_job(job_id, trigger=trigger)

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        _runners.pop(DAILY_REMINDERS, None)
        _runners.pop(COMMITMENTS_OVERDUE, None)
        _runners.pop(VISIT_REMINDERS, None)
        _runners.pop(RETENTION, None)
        _runners.pop(WEEKLY_SUMMARY, None)
        _runners.pop(RETRAIN, None)
