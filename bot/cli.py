"""The `telefono-abierto` command line (spec section 5)."""

import csv
import json
import sys
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from bot.app import App, create_app, utc_now
from bot.channels.console import ConsoleChat
from bot.config import ConfigError, load_settings
from handlers.cases import event_summary
from handlers.labels import CASE_TYPES, STATUSES
from handlers.texts import Texts, load_texts
from storage.models import Case


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

    def open_app(config: str | None) -> App:
        app = create_app(load_settings(config or state.get("config")))
        try:
            app.migrate()
        except SQLAlchemyError as exc:
            url = app.engine.url.render_as_string(hide_password=True)
            reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
            raise Failure(t("cli.db_unreachable", url=url, reason=reason)) from exc
        return app

    @cli.command(help=t("cli.run_help"))
    def run(config: Config = None) -> None:
        app = open_app(config)
        if app.settings.channels_enabled:
            typer.echo(t("cli.run_channels_pending"), err=True)
        else:
            typer.echo(t("cli.run_no_channels"), err=True)
        chat_loop(app, "consola", None)

    @cli.command(help=t("cli.chat_help"))
    def chat(
        as_: Annotated[str, typer.Option("--as", help=t("cli.chat_as"))],
        name: Annotated[str | None, typer.Option("--name", help=t("cli.chat_name"))] = None,
        config: Config = None,
    ) -> None:
        chat_loop(open_app(config), as_, name)

    def chat_loop(app: App, address: str, name: str | None) -> None:
        console = ConsoleChat(app, address, sys.stdout, name=name, clock=utc_now)
        console.run(sys.stdin, interactive=sys.stdin.isatty())

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
        app = open_app(config)
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
        app = open_app(config)
        with app.uow() as uow:
            case = uow.cases.by_folio(folio.strip().upper())
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
        app = open_app(config)
        tz = app.policy.calendar.tz
        start = datetime.combine(parse_day(t, from_), time(), tzinfo=tz) if from_ else None
        end = (
            datetime.combine(parse_day(t, to) + timedelta(days=1), time(), tzinfo=tz)
            if to
            else None
        )
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
        writer.writerows(rows)

    return cli


def check_label(t: Texts, key: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise Failure(t(key, value=value, valid=", ".join(valid)))


def parse_day(t: Texts, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Failure(t("cli.bad_date", value=value)) from exc


def assignee_name(uow: Any, case: Case) -> str | None:
    if case.assignee_id is None:
        return None
    member = uow.staff.get(case.assignee_id)
    return member.name if member else None


def case_summary(app: App, uow: Any, case: Case) -> dict[str, Any]:
    """The fields of `cases list --json` (spec section 5)."""
    return {
        "folio": case.folio,
        "type": case.type,
        "topic": case.topic,
        "urgency": case.urgency,
        "status": case.status,
        "channel": case.channel,
        "created_at": case.created_at.isoformat(),
        "due_date": app.policy.calendar.local_date(case.due_at).isoformat(),
        "assignee": assignee_name(uow, case),
        "municipality": case.municipality,
        "anonymous": case.anonymous,
    }


EXPORT_FIELDS = [
    "folio",
    "type",
    "topic",
    "urgency",
    "status",
    "channel",
    "created_at",
    "due_date",
    "assignee",
    "municipality",
    "anonymous",
    "location_text",
    "latitude",
    "longitude",
    "gender",
    "age",
    "deadline_days",
    "first_response_at",
    "closed_at",
    "description",
]


def case_export_row(app: App, uow: Any, case: Case) -> dict[str, Any]:
    """One row of `cases export`: the summary plus what a report or audit needs."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        **case_summary(app, uow, case),
        "location_text": case.location_text,
        "latitude": case.latitude,
        "longitude": case.longitude,
        "gender": case.gender,
        "age": case.age,
        "deadline_days": case.deadline_days,
        "first_response_at": iso(case.first_response_at),
        "closed_at": iso(case.closed_at),
        "description": case.description,
    }


TABLE_COLUMNS = {
    "folio": "folio",
    "type": "type",
    "topic": "topic",
    "urgency": "urgency",
    "status": "status",
    "channel": "channel",
    "created_at": "created",
    "due_date": "due",
    "assignee": "assignee",
}


def print_table(t: Texts, rows: list[dict[str, Any]]) -> None:
    """A table on a terminal; tab-separated lines when piped."""
    headers = [t(f"cli.col_{header}") for header in TABLE_COLUMNS.values()]
    cells = [[str(row[c] or "") for c in TABLE_COLUMNS] for row in rows]
    if not sys.stdout.isatty():
        for line in [headers, *cells]:
            typer.echo("\t".join(line))
        return
    table = Table(*headers)
    for line in cells:
        table.add_row(*line)
    Console().print(table)


def render_case(app: App, uow: Any, case: Case) -> str:
    """A case with its messages, attachments and history, for staff."""
    t = app.policy.texts
    policy = app.policy
    summary = case_summary(app, uow, case)
    lines = [t("cli.show_header", folio=case.folio)]
    for key in ("type", "topic", "urgency", "status", "channel"):
        lines.append(f"  {t('cli.col_' + key)}: {summary[key]}")
    lines.append(f"  {t('cli.col_created')}: {policy.local_time(case.created_at)}")
    lines.append(t("cli.show_due", due=policy.local_day(case.due_at), days=case.deadline_days))
    if case.assignee_id:
        lines.append(f"  {t('cli.col_assignee')}: {summary['assignee']}")
    if case.anonymous:
        lines.append(t("cli.show_anonymous"))
    elif case.contact_id:
        contact = uow.contacts.get(case.contact_id)
        lines.append(
            t(
                "cli.show_citizen",
                name=contact.name or t("cli.unnamed"),
                channel=contact.channel,
                contact_id=contact.id,
            )
        )
    if case.municipality:
        lines.append(t("cli.show_municipality", municipality=case.municipality))
    if case.location_text:
        lines.append(t("cli.show_location", location=case.location_text))
    if case.latitude is not None:
        lines.append(t("cli.show_coordinates", latitude=case.latitude, longitude=case.longitude))
    lines += [t("cli.show_description"), *("  " + line for line in case.description.splitlines())]
    lines.append(t("cli.show_messages"))
    for message in uow.messages.for_case(case.id):
        arrow = t("cli.direction_in") if message.direction == "in" else t("cli.direction_out")
        body = message.body.replace("\n", " / ")
        lines.append(
            t(
                "cli.show_message_line",
                at=policy.local_time(message.created_at),
                direction=arrow,
                body=body[:300],
            )
        )
    attachments = uow.messages.attachments_for_case(case.id)
    if attachments:
        lines.append(t("cli.show_attachments"))
        lines += [
            t(
                "cli.show_attachment_line",
                kind=a.kind,
                content_type=a.content_type or "",
                ref=a.local_path or a.provider_ref,
            )
            for a in attachments
        ]
    lines.append(t("cli.show_history"))
    for event in uow.cases.events(case.id):
        note = f" — {event.note}" if event.note else ""
        lines.append(
            t(
                "cli.show_event_line",
                at=policy.local_time(event.at),
                actor=event.actor,
                what=event_summary(t, event),
                note=note,
            )
        )
    return "\n".join(lines)
