"""The `telefono-abierto` command line (spec section 5).

Commands import what only they need (the HTTP service, the console chat, scikit-learn,
openpyxl, matplotlib) inside their functions, so that each command starts quickly."""

import csv
import json
import re
import sys
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.app import App, create_app, utc_now
from bot.case_views import (
    EXPORT_FIELDS,
    case_export_row,
    case_summary,
    print_table,
    render_case,
    spreadsheet_safe_row,
)
from bot.classifier_cli import add_classifier_commands
from bot.config import ConfigError, load_settings
from bot.privacy_cli import add_privacy_commands
from bot.report_cli import add_report_commands
from handlers.casework.actions import (
    assign,
    close,
    find_case,
    find_staff,
    register_case,
    reply,
    set_status,
)
from handlers.casework.cases import normalise_folio
from handlers.casework.lifecycle import ROLES, Actor, NotAllowed
from handlers.casework.staff import actor_of, new_case_cards
from handlers.core.labels import CASE_TYPES, STATUSES
from handlers.core.normalise import strip_controls
from handlers.core.texts import Texts, load_texts
from handlers.dialogue.intake import queue
from storage.migrate import is_current
from storage.models import Staff

MAX_ADDRESS = 64
# Without --as, terminal actions are recorded as the terminal, with an
# administrator's rights: whoever runs the CLI already holds the database.
TERMINAL = Actor("consola", "admin")


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
    staff = typer.Typer(help=t("cli.staff_help"), no_args_is_help=True)
    cli.add_typer(staff, name="staff")

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
        # The HTTP service (uvicorn, starlette, the channel clients) is imported only here:
        # the other commands start without it.
        from bot.serve import PortInUse, serve

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
        from bot.channels.console import ConsoleChat

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
        topic: Annotated[str | None, typer.Option(help=t("cli.topic_option"))] = None,
        municipality: Annotated[str | None, typer.Option(help=t("cli.municipality_option"))] = None,
        assignee: Annotated[str | None, typer.Option(help=t("cli.assignee_option"))] = None,
        as_json: Annotated[bool, typer.Option("--json", help=t("cli.json_option"))] = False,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_status", status, STATUSES)
        check_label(t, "cli.unknown_type", type_, CASE_TYPES)
        app = open_app(config, migrate=False)
        with app.uow() as uow:
            assignee_id = staff_member(uow, app.policy, assignee).id if assignee else None
            found = uow.cases.search(
                status=status,
                case_type=type_,
                topic=topic,
                municipality=municipality,
                assignee_id=assignee_id,
            )
            rows = [case_summary(app, uow, case) for case in found]
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

    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]

    def act(app: App, config_as: str | None, work) -> None:
        """Run one staff action in a transaction: its citizen replies go to the outbox."""
        now = utc_now()
        with app.uow() as uow:
            try:
                actor = actor_for(app, uow, config_as)
                replies = work(uow, actor, now) or []
            except NotAllowed as exc:
                raise Failure(str(exc)) from exc
            queue(uow, replies, now)
            uow.commit()

    def staff_member(uow, policy, who: str):
        try:
            return find_staff(uow, policy, who)
        except NotAllowed as exc:
            raise Failure(str(exc)) from exc

    def actor_for(app: App, uow, who: str | None) -> Actor:
        return actor_of(staff_member(uow, app.policy, who)) if who else TERMINAL

    @staff.command("add", help=t("cli.staff_add_help"))
    def staff_add(
        name: Annotated[str, typer.Option("--name", help=t("cli.staff_name_option"))],
        role: Annotated[str, typer.Option("--role", help=t("cli.staff_role_option"))],
        telegram_id: Annotated[
            int | None, typer.Option("--telegram-id", help=t("cli.staff_telegram_option"))
        ] = None,
        whatsapp: Annotated[
            str | None, typer.Option("--whatsapp", help=t("cli.staff_whatsapp_option"))
        ] = None,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_role", role, ROLES)
        name = " ".join(strip_controls(name).split())
        if not 1 <= len(name) <= 120:
            raise Failure(t("cli.staff_bad_name"))
        number = None
        if whatsapp is not None:
            number = normalise_whatsapp(whatsapp)
            if number is None:
                raise Failure(t("cli.staff_bad_whatsapp", value=whatsapp))
        app = open_app(config)
        with app.uow() as uow:
            if uow.staff.by_id_or_name(name) is not None:
                raise Failure(t("cli.staff_exists", name=name))
            member = uow.staff.add(
                Staff(
                    name=name,
                    role=role,
                    telegram_id=telegram_id,
                    whatsapp=number,
                    created_at=utc_now(),
                )
            )
            try:
                uow.commit()
            except IntegrityError as exc:
                raise Failure(t("cli.staff_address_taken")) from exc
            typer.echo(t("cli.staff_added", id=member.id, name=member.name, role=member.role))

    def one_case(app: App, uow, folio: str):
        try:
            return find_case(uow, app.policy, folio)
        except NotAllowed as exc:
            raise Failure(str(exc)) from exc

    def work_on(config: str | None, as_: str | None, folio: str, action) -> None:
        """One staff action on one case, from the terminal: action(uow, policy, case, actor,
        now) returns what the citizen is told."""
        app = open_app(config, migrate=False)

        def work(uow, actor, now):
            return action(uow, app.policy, one_case(app, uow, folio), actor, now)

        act(app, as_, work)
        typer.echo(t("cli.done", folio=folio))

    @cases.command("assign", help=t("cli.cases_assign_help"))
    def cases_assign(folio: str, staff_: str, as_: As = None, config: Config = None) -> None:
        def action(uow, policy, case, actor, now):
            member = staff_member(uow, policy, staff_)
            return assign(uow, policy, case, member, actor, now)

        work_on(config, as_, folio, action)

    @cases.command("status", help=t("cli.cases_status_help"))
    def cases_status(
        folio: str,
        status: str,
        note: Annotated[str, typer.Option("--note", help=t("cli.note_option"))] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_status", status, STATUSES)

        def action(uow, policy, case, actor, now):
            return set_status(uow, policy, case, status, note, actor, now)

        work_on(config, as_, folio, action)

    @cases.command("reply", help=t("cli.cases_reply_help"))
    def cases_reply(folio: str, text: str, as_: As = None, config: Config = None) -> None:
        def action(uow, policy, case, actor, now):
            return reply(uow, policy, case, text, actor, now)

        work_on(config, as_, folio, action)

    @cases.command("close", help=t("cli.cases_close_help"))
    def cases_close(
        folio: str,
        resolution: Annotated[str, typer.Option("--resolution", help=t("cli.resolution_option"))],
        as_: As = None,
        config: Config = None,
    ) -> None:
        def action(uow, policy, case, actor, now):
            return close(uow, policy, case, resolution, actor, now)

        work_on(config, as_, folio, action)

    @cases.command("new", help=t("cli.cases_new_help"))
    def cases_new(
        channel: Annotated[str, typer.Option("--channel", help=t("cli.channel_option"))],
        type_: Annotated[str, typer.Option("--type", help=t("cli.type_option"))],
        text: Annotated[str, typer.Option("--text", help=t("cli.text_option"))],
        gender: Annotated[str | None, typer.Option("--gender", help=t("cli.gender_option"))] = None,
        age: Annotated[int | None, typer.Option("--age", help=t("cli.age_option"))] = None,
        as_: As = None,
        config: Config = None,
    ) -> None:
        app = open_app(config, migrate=False)
        created: list[str] = []

        def work(uow, actor, now):
            case = register_case(
                uow,
                app.policy,
                channel=channel,
                case_type=type_,
                text=text,
                actor=actor,
                now=now,
                gender=gender,
                age=age,
            )
            created.append(case.folio)
            return new_case_cards(uow, app.policy, case)

        act(app, as_, work)
        typer.echo(t("cli.case_created", folio=created[0]))

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
        writer.writerows(spreadsheet_safe_row(row) for row in rows)

    add_classifier_commands(
        cli, t, Config, lambda config: load_settings(config or state.get("config")), open_app
    )
    add_report_commands(cli, t, Config, open_app)
    add_privacy_commands(cli, t, Config, open_app, Failure, normalise_whatsapp)
    return cli


def check_label(t: Texts, key: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise Failure(t(key, value=value, valid=", ".join(valid)))


def parse_day(t: Texts, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Failure(t("cli.bad_date", value=value)) from exc


def normalise_whatsapp(value: str) -> str | None:
    """A WhatsApp number as the channel's addresses hold it: "+" and digits, no spaces."""
    digits = re.sub(r"[\s().-]", "", value.removeprefix("whatsapp:"))
    return digits if re.fullmatch(r"\+\d{8,15}", digits) else None
