"""Reports wiring: the period report, the weekly summary (built, printed or queued for the
supervisors) and the synthetic data of `demo-data`."""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App, utc_now
from handlers.core.texts import Texts
from handlers.dialogue.intake import queue
from handlers.reporting.demo_data import demo_batches, number_folios
from handlers.reporting.summary import (
    WeeklySummary,
    build_summary,
    render_summary,
    summary_chart,
    summary_replies,
    week_label,
)
from handlers.reporting.tally import REPORT_CHANNELS, Period, build_tally
from storage.bulk import (
    active_staff,
    case_ids,
    insert_cases,
    insert_commitments,
    insert_contacts,
    insert_visits,
    reserve_folios,
)
from storage.models import OutboxItem
from storage.reports import ReportRepository

WEEKLY_SUMMARY = "weekly_summary"
CHART_TOKEN_BYTES = 24  # 32 URL-safe characters
CHART_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.png")
# The bulk connection of demo-data: index pages of a large table stay in memory between chunks,
# and checkpoints do not wait for the disk (synthetic data: a power cut loses nothing of value).
# Given back to the pool as storage.engine sets them.
DEMO_PRAGMAS = {"cache_size": f"-{256 * 1024}", "temp_store": "MEMORY", "synchronous": "OFF"}
NORMAL_PRAGMAS = {"cache_size": "-2000", "temp_store": "DEFAULT", "synchronous": "NORMAL"}
# Fewer, larger transactions: each commit on SQLite writes the changed index pages again.
DEMO_COMMIT_CASES = 50_000


def report_channels(include_console: bool) -> tuple[str, ...]:
    return (*REPORT_CHANNELS, "console") if include_console else REPORT_CHANNELS


def tally(
    app: App, period: Period, *, include_console: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """The period report's figures, aggregated by the database, as of `now` (by default the
    current time)."""
    settings = app.settings
    with app.reading_uow() as uow:
        reports = ReportRepository(uow.session, report_channels(include_console))
        figures = build_tally(
            reports,
            period,
            app.policy.calendar,
            tuple(settings.reporting.youth_ages),
            app.policy.texts,
            now or utc_now(),
            places=app.policy.places,
        )
    figures["institution"] = app.policy.institution.name
    return figures


def weekly_summary(
    app: App, monday: date, now: datetime, *, include_console: bool = False
) -> WeeklySummary:
    """The figures of the week that starts on `monday` (console trials left out unless asked)."""
    with app.reading_uow() as uow:
        reports = ReportRepository(uow.session, report_channels(include_console))
        return build_summary(reports, app.policy, monday, now)


def send_weekly_summary(
    app: App, monday: date, now: datetime, *, force: bool = False
) -> tuple[WeeklySummary | None, int | None]:
    """Queue the week's summary for every active supervisor, and say to how many. Each sending
    claims the week: only the first caller for that week sends it (once a week, across
    processes and the `summary --send` command); the others get (None, None), unless `force`."""
    with app.uow() as uow:
        reports = ReportRepository(uow.session, REPORT_CHANNELS)
        summary = build_summary(reports, app.policy, monday, now)
        replies = summary_replies(uow, app.policy, render_summary(app.policy.texts, summary))
        if not replies:  # nobody to send it to: the week is not taken as sent
            return summary, 0
        claimed = uow.job_runs.claim(WEEKLY_SUMMARY, week_label(monday), now)
        if not (claimed or force):
            return None, None
        queue(uow, replies, now)
        chart = _chart_file(app, summary)
        _prune_charts(app, now)
        # WhatsApp takes an image only by URL: the service serves the chart (see CHARTS_PATH).
        photo_channels = (
            ("telegram", "whatsapp") if app.settings.server.public_url else ("telegram",)
        )
        for reply in replies:
            if reply.channel in photo_channels:
                uow.outbox.add(_photo_row(app, reply.channel, reply.address, chart, now))
        uow.commit()
    return summary, len(replies)


def charts_folder(app: App) -> Path:
    """Where the summary's charts are written, and the only place CHARTS_PATH serves from."""
    return Path(app.settings.media.directory) / "reports"


def chart_file(app: App, name: str) -> Path | None:
    """The chart called `name` (a token and ".png", see _chart_file); None for any other
    name, or when there is no such chart."""
    if not CHART_NAME.fullmatch(name):
        return None
    path = charts_folder(app) / name
    return path if path.is_file() else None


def _chart_file(app: App, summary: WeeklySummary) -> Path:
    """The week's chart as a PNG under the media directory, named by a random token: the
    service serves it by that name (for WhatsApp), so the name must not be guessable."""
    folder = charts_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(CHART_TOKEN_BYTES)}.png"
    path.write_bytes(summary_chart(app.policy.texts, summary))
    return path


def _prune_charts(app: App, now: datetime) -> int:
    """Charts older than `media.chart_weeks` weeks are deleted (they were sent long ago);
    only files named as the summary names them."""
    horizon = (now - timedelta(weeks=app.settings.media.chart_weeks)).timestamp()
    removed = 0
    for path in charts_folder(app).glob("*.png"):
        with contextlib.suppress(OSError):
            if CHART_NAME.fullmatch(path.name) and path.stat().st_mtime < horizon:
                path.unlink()
                removed += 1
    return removed


def _photo_row(app: App, channel: str, address: str, chart: Path, now: datetime) -> OutboxItem:
    caption = app.policy.texts("summary.chart_caption")
    return OutboxItem(
        channel=channel,
        address=address,
        body=caption,
        options={"photo": str(chart.resolve())},
        next_attempt_at=now,
        created_at=now,
    )


def fill_demo_data(app: App, count: int, seed: int, now: datetime, progress=None) -> None:
    """Insert `count` synthetic cases, one transaction per DEMO_COMMIT_CASES of them;
    `progress(n)` after each chunk."""
    policy = app.policy
    prefix = policy.institution.folio_prefix
    with app.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragmas(connection, DEMO_PRAGMAS)
        try:
            pending = 0
            # A pending commitment has someone who answers for it when there is staff.
            staff = active_staff(connection)
            for batch in demo_batches(policy, count, seed, now):
                first = {
                    year: reserve_folios(connection, prefix, year, n)
                    for year, n in sorted(batch.folio_years.items())
                }
                number_folios(policy, batch, first)
                ids = insert_contacts(connection, batch.contacts)
                for row, contact in zip(batch.cases, batch.case_contact, strict=True):
                    row["contact_id"] = None if contact is None else ids[contact]
                insert_cases(connection, batch.cases)
                if batch.commitments:
                    give_responsibles(batch.commitments, staff)
                    folios = [batch.cases[i]["folio"] for i, _ in batch.commitments]
                    by_folio = case_ids(connection, folios)
                    insert_commitments(
                        connection,
                        [
                            {**row, "case_id": by_folio[batch.cases[i]["folio"]]}
                            for i, row in batch.commitments
                        ],
                    )
                folios = [row["folio"] for row in batch.cases]
                insert_visits(connection, batch.visits, folios)
                pending += len(batch.cases)
                if pending >= DEMO_COMMIT_CASES:
                    connection.commit()
                    pending = 0
                if progress is not None:
                    progress(len(batch.cases))
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                _pragmas(connection, NORMAL_PRAGMAS)


def give_responsibles(commitments: list[tuple[int, dict[str, Any]]], staff) -> None:
    """The staff in turn answer for the demo's pending commitments (none without staff)."""
    if not staff:
        return
    for turn, (_, row) in enumerate(commitments):
        if row["status"] == "pending":
            row["responsible_id"] = staff[turn % len(staff)]


def _pragmas(connection, pragmas: dict[str, str]) -> None:
    """Set SQLite pragmas on the driver's connection, outside any transaction (some of them
    cannot change inside one)."""
    raw = connection.connection.driver_connection
    for name, value in pragmas.items():
        raw.execute(f"PRAGMA {name}={value}")


def write_report(t: Texts, tally: dict[str, Any], fmt: str, out: Path | None) -> bytes | None:
    """Write the report to `out` in `fmt` (md also writes its chart beside it, as PNG); without
    `out`, return the bytes for standard output."""
    from handlers.reporting.files import received_chart, render_report

    chart = out.with_suffix(".png") if out is not None and fmt == "md" else None
    if chart is not None:
        chart.write_bytes(received_chart(t, tally))
    data = render_report(t, tally, fmt, chart.name if chart else None)
    if out is None:
        return data
    out.write_bytes(data)
    return None
