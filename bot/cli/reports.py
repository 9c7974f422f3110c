"""The report commands of spec section 5: `tally`, `summary`, `demo-data`."""

import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.context import cannot_write, cli_context, config_option
from handlers.core.texts import Texts

# Each command imports what it uses (bot.reporting brings the database, the files' writers,
# the charts): `--help` and the other commands start without them.

FORMATS = ("md", "csv", "xlsx", "json")


def fail(message: str) -> typer.Exit:
    """Say why in one line on stderr; the caller raises what this returns (exit status 1)."""
    typer.echo(message, err=True)
    return typer.Exit(1)


def register(cli: typer.Typer, t: Texts) -> None:
    """Add `tally`, `summary` and `demo-data` to the command tree."""
    Config = config_option(t)

    def day(value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise fail(t("cli.bad_date", value=value)) from None

    @cli.command("tally", help=t("cli.tally_help"))
    def tally_command(
        ctx: typer.Context,
        period: Annotated[str | None, typer.Option("--period", help=t("cli.period_option"))] = None,
        from_: Annotated[str | None, typer.Option("--from", help=t("cli.from_option"))] = None,
        to: Annotated[str | None, typer.Option("--to", help=t("cli.to_option"))] = None,
        format_: Annotated[str, typer.Option("--format", help=t("cli.tally_format_option"))] = "md",
        out: Annotated[Path | None, typer.Option("--out", help=t("cli.out_option"))] = None,
        include_console: Annotated[
            bool, typer.Option("--include-console", help=t("cli.include_console_option"))
        ] = False,
        config: Config = None,
        # --output, as the other commands that write a file call it; --out is the spec's.
        output: Annotated[Path | None, typer.Option("--output", hidden=True)] = None,
    ) -> None:
        from bot.reporting import tally, write_report
        from handlers.reporting.tally import BadPeriod, parse_period

        if out is not None and output is not None and out != output:
            raise fail(t("cli.out_twice"))
        out = out or output
        if format_ not in FORMATS:
            raise fail(t("cli.unknown_format", value=format_, valid=", ".join(FORMATS)))
        if period and (from_ or to):
            raise fail(t("cli.period_and_dates"))
        if (from_ is None) != (to is None):
            raise fail(t("cli.dates_need_both"))
        first, last = day(from_), day(to)
        if first and last and first > last:
            raise fail(t("cli.bad_range", first=from_, last=to))
        try:
            chosen = parse_period(t, period, first, last)
        except BadPeriod as exc:
            raise fail(str(exc)) from None
        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        figures = tally(app, chosen, include_console=include_console, now=state.clock())
        try:
            data = write_report(t, figures, format_, out)
        except OSError as exc:
            raise fail(cannot_write(t, out, exc)) from None
        if data is not None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        app.engine.dispose()

    @cli.command(help=t("cli.summary_help"))
    def summary(
        ctx: typer.Context,
        week: Annotated[str | None, typer.Option("--week", help=t("cli.week_option"))] = None,
        send: Annotated[bool, typer.Option("--send", help=t("cli.send_option"))] = False,
        force: Annotated[bool, typer.Option("--force", help=t("cli.force_option"))] = False,
        include_console: Annotated[
            bool, typer.Option("--include-console", help=t("cli.include_console_option"))
        ] = False,
        config: Config = None,
    ) -> None:
        from bot.reporting import charts_folder, send_weekly_summary, weekly_summary
        from handlers.reporting.summary import (
            BadWeek,
            last_full_week,
            parse_week,
            render_summary,
            week_label,
        )

        state = cli_context(ctx)
        now = state.clock()
        app = state.open_app(config, migrate=False)
        try:
            monday = parse_week(t, week) if week else None
        except BadWeek as exc:
            raise fail(str(exc)) from None
        today = app.policy.calendar.local_date(now)
        if monday is not None and monday > today:
            raise fail(t("summary.future_week", week=week_label(monday)))
        monday = monday or last_full_week(today)
        if send and include_console:
            raise fail(t("summary.console_not_sent"))
        if send:
            try:
                summary, count = send_weekly_summary(app, monday, now, force=force)
            except OSError as exc:  # the chart could not be written
                path = exc.filename or charts_folder(app)
                raise fail(cannot_write(t, path, exc)) from None
            if summary is None or count is None:
                raise fail(t("summary.already_sent", week=week_label(monday)))
            if count == 0:
                typer.echo(render_summary(t, summary))
                raise fail(t("summary.nobody", week=summary.week))
            typer.echo(render_summary(t, summary))
            form = "one" if count == 1 else "many"
            typer.echo(t(f"summary.queued_{form}", week=summary.week, count=count))
        else:
            figures = weekly_summary(app, monday, now, include_console=include_console)
            typer.echo(render_summary(t, figures))
        app.engine.dispose()

    @cli.command("demo-data", help=t("cli.demo_help"))
    def demo_data(
        ctx: typer.Context,
        cases: Annotated[int, typer.Option("--cases", help=t("cli.demo_cases_option"))],
        seed: Annotated[int, typer.Option("--seed", help=t("cli.demo_seed_option"))] = 1,
        config: Config = None,
    ) -> None:
        from rich.progress import Progress

        from bot.reporting import fill_demo_data

        if not 1 <= cases <= 10_000_000:
            raise fail(t("cli.demo_bad_count"))
        state = cli_context(ctx)
        app = state.open_app(config)
        started = time.perf_counter()
        with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task(t("cli.demo_progress"), total=cases)
            fill_demo_data(app, cases, seed, state.clock(), lambda n: progress.advance(task, n))
        seconds = time.perf_counter() - started
        typer.echo(
            t.plural(
                "cli.demo_done",
                cases,
                count=f"{cases:,}",
                seconds=f"{seconds:.1f}",
                rate=f"{cases / seconds:,.0f}",
            )
        )
        app.engine.dispose()
