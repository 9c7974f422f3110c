"""The `telefono-abierto` command line (spec section 5)."""

import csv
import json
import sys
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from bot.app import App, create_app, utc_now
from bot.case_views import (
    EXPORT_FIELDS,
    case_export_row,
    case_summary,
    print_table,
    render_case,
    spreadsheet_safe,
)
from bot.channels.console import ConsoleChat
from bot.classifier_cli import add_classifier_commands
from bot.config import ConfigError, load_settings
from bot.serve import PortInUse, serve
from handlers.cases import normalise_folio
from handlers.labels import CASE_TYPES, STATUSES
from handlers.texts import Texts, load_texts
from storage.migrate import is_current

MAX_ADDRESS = 64


class Failure(Exception):
    """A command cannot do what was asked; the message is the one line the user sees."""


def main() -> None:
    """Entry point of the console script."""
    cli = build_cli(load_texts("es"))
    try:
        cli()
    except Failure as exc:
        typer.echo(str(exc), err=True)
        sys.exit(1)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        typer.echo(load_texts("es")("cli.db_failed", reason=one_line(exc)), err=True)
        sys.exit(1)


def one_line(exc: SQLAlchemyError) -> str:
    """The first line of what the database driver said."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def build_cli(t: Texts) -> typer.Typer:
    """Build the command tree; texts come from the catalogue."""
    cli = typer.Typer(
        help=t("cli.help"),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    db = typer.Typer(help=t("cli.db_help"), no_args_is_help=True)
    cases = typer.Typer(help=t("cli.cases_help"), no_args_is_help=True)
    cli.add_typer(db, name="db")
    cli.add_typer(cases, name="cases")

    Config = Annotated[str | None, typer.Option("--config", help=t("cli.config_option"))]
    state: dict[str, Any] = {}

    @cli.callback()
    def _root(config: Config = None) -> None:
        state["config"] = config

    def open_app(config: str | None, *, migrate: bool = True) -> App:
        """The application; `migrate` brings the schema up to date, else it must already be."""
        app = create_app(load_settings(config or state.get("config")))
        try:
            if migrate:
                app.migrate()
            elif not is_current(app.engine):
                raise Failure(t("cli.db_not_current"))
        except SQLAlchemyError as exc:
            url = app.engine.url.render_as_string(hide_password=True)
            raise Failure(t("cli.db_unreachable", url=url, reason=one_line(exc))) from exc
        return app

    @cli.command(help=t("cli.run_help"))
    def run(config: Config = None) -> None:
        app = open_app(config)
        if app.settings.channels_enabled:
            server = app.settings.server
            try:
                serve(app)
            except PortInUse as exc:
                raise Failure(
                    t("cli.port_in_use", host=server.host, port=server.port, reason=exc)
                ) from exc
            return
        typer.echo(t("cli.run_no_channels"), err=True)
        chat_loop(app, "consola", None)

    @cli.command(help=t("cli.chat_help"))
    def chat(
        as_: Annotated[str, typer.Option("--as", help=t("cli.chat_as"))],
        name: Annotated[str | None, typer.Option("--name", help=t("cli.chat_name"))] = None,
        config: Config = None,
    ) -> None:
        if not 1 <= len(as_.strip()) <= MAX_ADDRESS:
            raise Failure(t("cli.chat_bad_id", limit=MAX_ADDRESS))
        chat_loop(open_app(config), as_.strip(), name)

    def chat_loop(app: App, address: str, name: str | None) -> None:
        # Bytes that are not UTF-8 must not end the conversation.
        sys.stdin.reconfigure(errors="replace")
        console = ConsoleChat(app, address, sys.stdout, name=name, clock=utc_now)
        try:
            console.run(sys.stdin, interactive=sys.stdin.isatty())
        except KeyboardInterrupt:
            typer.echo("")

    @db.command("upgrade", help=t("cli.db_upgrade_help"))
    def db_upgrade(config: Config = None) -> None:
        app = open_app(config)
        typer.echo(t("cli.db_upgraded", url=app.engine.url.render_as_string(hide_password=True)))

    @cases.command("list", help=t("cli.cases_list_help"))
    def cases_list(
        status: Annotated[str | None, typer.Option(help=t("cli.status_option"))] = None,
        type_: Annotated[str | None, typer.Option("--type", help=t("cli.type_option"))] = None,
        as_json: Annotated[bool, typer.Option("--json", help=t("cli.json_option"))] = False,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_status", status, STATUSES)
        check_label(t, "cli.unknown_type", type_, CASE_TYPES)
        app = open_app(config, migrate=False)
        with app.uow() as uow:
            rows = [
                case_summary(app, uow, case)
                for case in uow.cases.search(status=status, case_type=type_)
            ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        elif not rows:
            typer.echo(t("cli.no_cases"))
        else:
            print_table(t, rows)

    @cases.command("show", help=t("cli.cases_show_help"))
    def cases_show(folio: str, config: Config = None) -> None:
        app = open_app(config, migrate=False)
        with app.uow() as uow:
            case = uow.cases.by_folio(normalise_folio(folio) or folio.strip().upper())
            if case is None:
                raise Failure(t("cli.unknown_folio", folio=folio))
            typer.echo(render_case(app, uow, case))

    @cases.command("export", help=t("cli.cases_export_help"))
    def cases_export(
        format_: Annotated[str, typer.Option("--format", help=t("cli.format_option"))] = "csv",
        from_: Annotated[str | None, typer.Option("--from", help=t("cli.from_option"))] = None,
        to: Annotated[str | None, typer.Option("--to", help=t("cli.to_option"))] = None,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_format", format_, ("csv", "json"))
        first, last = (parse_day(t, from_) if from_ else None), (parse_day(t, to) if to else None)
        if first and last and first > last:
            raise Failure(t("cli.bad_range", first=from_, last=to))
        app = open_app(config, migrate=False)
        tz = app.policy.calendar.tz
        start = datetime.combine(first, time(), tzinfo=tz) if first else None
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz) if last else None
        with app.uow() as uow:
            rows = [
                case_export_row(app, uow, case)
                for case in uow.cases.search(created_from=start, created_to=end)
            ]
        if format_ == "json":
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(spreadsheet_safe(row) for row in rows)

    add_classifier_commands(
        cli, t, Config, lambda config: load_settings(config or state.get("config")), open_app
    )
    return cli


def check_label(t: Texts, key: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise Failure(t(key, value=value, valid=", ".join(valid)))


def parse_day(t: Texts, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Failure(t("cli.bad_date", value=value)) from exc
