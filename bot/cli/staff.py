"""The staff accounts: `staff add|list|deactivate|activate|role|unbind`."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import accounts as desk_accounts
from bot.cli.context import (
    CliContext,
    Failure,
    cli_context,
    command_group,
    config_option,
)
from handlers.core.labels import ROLES, role_code, staff_label
from handlers.core.normalise import strip_controls
from handlers.core.texts import Texts

if TYPE_CHECKING:
    from storage.models import Staff


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `staff` group to the command tree."""
    Config = config_option(t)
    staff = command_group(t("cli.staff_help"))
    cli.add_typer(staff, name="staff")

    @staff.command("add", help=t("cli.staff_add_help"))
    def staff_add(
        ctx: typer.Context,
        name: Annotated[str, typer.Option("--name", help=t("cli.staff_name_option"))],
        role: Annotated[str, typer.Option("--role", help=t("cli.staff_role_option"))],
        telegram_id: Annotated[
            int | None, typer.Option("--telegram-id", help=t("cli.staff_telegram_option"))
        ] = None,
        whatsapp: Annotated[
            str | None, typer.Option("--whatsapp", help=t("cli.staff_whatsapp_option"))
        ] = None,
        username: Annotated[
            str | None, typer.Option("--username", help=t("desk_cli.username_option"))
        ] = None,
        config: Config = None,
    ) -> None:
        add_staff(cli_context(ctx), config, name, role, telegram_id, whatsapp, username)

    desk_accounts.register(staff, t)

    add_account_commands(staff, t)


def add_account_commands(staff: typer.Typer, t: Texts) -> None:
    """`staff list|deactivate|activate|role|unbind`."""
    Config = config_option(t)
    Who = Annotated[str, typer.Argument(help=t("cli.staff_who_argument"), show_default=False)]

    @staff.command("list", help=t("cli.staff_list_help"))
    def staff_list(ctx: typer.Context, config: Config = None) -> None:
        list_staff(cli_context(ctx), config)

    @staff.command("deactivate", help=t("cli.staff_deactivate_help"))
    def staff_deactivate(ctx: typer.Context, who: Who, config: Config = None) -> None:
        from handlers.casework import staff as accounts

        def change(uow, policy, member):
            folios = accounts.set_active(uow, policy, member, False)
            said = [t("cli.staff_deactivated", name=member.name)]
            if folios:
                said.append(t.plural("cli.staff_open_cases", len(folios), folios=", ".join(folios)))
            return said

        change_member(cli_context(ctx), config, who, change)

    @staff.command("activate", help=t("cli.staff_activate_help"))
    def staff_activate(ctx: typer.Context, who: Who, config: Config = None) -> None:
        from handlers.casework import staff as accounts

        def change(uow, policy, member):
            accounts.set_active(uow, policy, member, True)
            return [t("cli.staff_activated", name=member.name)]

        change_member(cli_context(ctx), config, who, change)

    @staff.command("role", help=t("cli.staff_role_help"))
    def staff_role(ctx: typer.Context, who: Who, role: str, config: Config = None) -> None:
        from handlers.casework import staff as accounts

        code = role_of(t, role)

        def change(uow, policy, member):
            accounts.set_role(uow, policy, member, code)
            return [
                t("cli.staff_role_changed", name=member.name, role=staff_label(t, "role", code))
            ]

        change_member(cli_context(ctx), config, who, change)

    @staff.command("unbind", help=t("cli.staff_unbind_help"))
    def staff_unbind(
        ctx: typer.Context,
        who: Who,
        telegram: Annotated[
            bool, typer.Option("--telegram", help=t("cli.staff_unbind_telegram_option"))
        ] = False,
        whatsapp: Annotated[
            bool, typer.Option("--whatsapp", help=t("cli.staff_unbind_whatsapp_option"))
        ] = False,
        config: Config = None,
    ) -> None:
        from handlers.casework import staff as accounts

        def change(uow, policy, member):
            done = accounts.unbind(uow, policy, member, telegram=telegram, whatsapp=whatsapp)
            return [t("cli.staff_unbound", name=member.name, channels=" y ".join(done))]

        change_member(cli_context(ctx), config, who, change)


def change_member(
    state: CliContext,
    config: str | None,
    who: str,
    change: Callable[[Any, Any, "Staff"], list[str]],
) -> None:
    """Change one staff member in a transaction, and say what was done."""
    from handlers.casework import staff as accounts
    from handlers.casework.lifecycle import NotAllowed

    app = state.open_app(config, migrate=False)
    with app.uow() as uow:
        try:
            member = accounts.find_member(uow, app.policy, who)
            said = change(uow, app.policy, member)
        except NotAllowed as exc:
            raise Failure(str(exc)) from exc
        uow.commit()
    for line in said:
        typer.echo(line)


def list_staff(state: CliContext, config: str | None) -> None:
    """Every staff member, active or not, with their role and chat addresses."""
    t = state.texts
    app = state.open_app(config, migrate=False)
    with app.uow() as uow:
        members = list(uow.staff.all())
    if not members:
        typer.echo(t("cli.staff_none"))
        return
    header = [
        t("cli.staff_col_id"),
        t("cli.staff_col_name"),
        t("cli.staff_col_role"),
        t("cli.staff_col_state"),
        "Telegram",
        "WhatsApp",
    ]
    rows = [
        [
            str(m.id),
            m.name,
            staff_label(t, "role", m.role),
            t("cli.staff_active") if m.active else t("cli.staff_inactive"),
            str(m.telegram_id) if m.telegram_id is not None else "-",
            m.whatsapp or "-",
        ]
        for m in members
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def add_staff(
    state: CliContext,
    config: str | None,
    name: str,
    role: str,
    telegram_id: int | None,
    whatsapp: str | None,
    username: str | None = None,
) -> None:
    """Register a staff member under a unique name, bound to their chat addresses and, with a
    user name, able to sign in to the web desk once given a password and a second factor."""
    from sqlalchemy.exc import IntegrityError

    from storage.models import Staff

    t = state.texts
    role = role_of(t, role)
    name = " ".join(strip_controls(name).split())
    if not 1 <= len(name) <= 120:
        raise Failure(t("cli.staff_bad_name"))
    number = None
    if whatsapp is not None:
        number = normalise_whatsapp(whatsapp)
        if number is None:
            raise Failure(t("cli.staff_bad_whatsapp", value=whatsapp))
    if username is not None:
        username = desk_accounts.check_username(t, username)
    app = state.open_app(config)
    with app.uow() as uow:
        if uow.staff.by_id_or_name(name) is not None:
            raise Failure(t("cli.staff_exists", name=name))
        if username is not None and uow.desk.staff_by_username(username) is not None:
            raise Failure(t("desk_cli.username_taken", username=username))
        member = uow.staff.add(
            Staff(
                name=name,
                role=role,
                telegram_id=telegram_id,
                whatsapp=number,
                username=username,
                created_at=state.clock(),
            )
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Failure(t("cli.staff_address_taken")) from exc
        role_words = staff_label(t, "role", member.role)
        typer.echo(t("cli.staff_added", id=member.id, name=member.name, role=role_words))


def role_of(t: Texts, word: str) -> str:
    """The role code of a word given on the command line: agente, supervisor(a), administrador(a),
    or the codes of spec section 5 (agent, supervisor, admin)."""
    code = role_code(word)
    if code is None:
        valid = ", ".join(staff_label(t, "role", code) for code in ROLES)
        raise Failure(t("cli.unknown_role", value=word, valid=valid))
    return code


def normalise_whatsapp(value: str) -> str | None:
    """A WhatsApp number as the channel's addresses hold it: "+" and digits, no spaces."""
    digits = re.sub(r"[\s().-]", "", value.removeprefix("whatsapp:"))
    return digits if re.fullmatch(r"\+\d{8,15}", digits) else None
