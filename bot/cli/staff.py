"""Registering staff: `staff add`."""

import re
from typing import Annotated

import typer
from sqlalchemy.exc import IntegrityError

from bot.cli import accounts
from bot.cli.context import CliContext, Failure, check_label, cli_context, config_option
from handlers.casework.lifecycle import ROLES
from handlers.core.normalise import strip_controls
from handlers.core.texts import Texts
from storage.models import Staff


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `staff` group to the command tree."""
    Config = config_option(t)
    staff = typer.Typer(help=t("cli.staff_help"), no_args_is_help=True)
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

    accounts.register(staff, t)


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
    t = state.texts
    check_label(t, "cli.unknown_role", role, ROLES)
    name = " ".join(strip_controls(name).split())
    if not 1 <= len(name) <= 120:
        raise Failure(t("cli.staff_bad_name"))
    number = None
    if whatsapp is not None:
        number = normalise_whatsapp(whatsapp)
        if number is None:
            raise Failure(t("cli.staff_bad_whatsapp", value=whatsapp))
    if username is not None:
        username = accounts.check_username(t, username)
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
        typer.echo(t("cli.staff_added", id=member.id, name=member.name, role=member.role))


def normalise_whatsapp(value: str) -> str | None:
    """A WhatsApp number as the channel's addresses hold it: "+" and digits, no spaces."""
    digits = re.sub(r"[\s().-]", "", value.removeprefix("whatsapp:"))
    return digits if re.fullmatch(r"\+\d{8,15}", digits) else None
