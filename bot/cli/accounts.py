"""The web desk's accounts from the terminal: `staff password`, `staff totp`, `staff team-add`,
`staff team-join`."""

import getpass
import re
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.context import CliContext, Failure, cli_context, config_option
from handlers.core.texts import Texts

if TYPE_CHECKING:
    from storage.models import Staff

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


def check_username(t: Texts, username: str) -> str:
    """A user name: lower-case letters, digits, dot, dash or underscore (2 to 64)."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise Failure(t("desk_cli.bad_username", username=username))
    return username


def register(staff: typer.Typer, t: Texts) -> None:
    """Add the account commands to the `staff` group."""
    Config = config_option(t)

    @staff.command("password", help=t("desk_cli.password_help"))
    def staff_password(ctx: typer.Context, username: str, config: Config = None) -> None:
        set_password(cli_context(ctx), config, username)

    @staff.command("totp", help=t("desk_cli.totp_help"))
    def staff_totp(ctx: typer.Context, username: str, config: Config = None) -> None:
        enrol_totp(cli_context(ctx), config, username)

    @staff.command("team-add", help=t("desk_cli.team_add_help"))
    def team_add(
        ctx: typer.Context,
        name: str,
        topic: Annotated[
            list[str] | None, typer.Option("--topic", help=t("desk_cli.team_topic"))
        ] = None,
        municipality: Annotated[
            list[str] | None, typer.Option("--municipality", help=t("desk_cli.team_place"))
        ] = None,
        config: Config = None,
    ) -> None:
        add_team(cli_context(ctx), config, name, topic or [], municipality or [])

    @staff.command("team-join", help=t("desk_cli.team_join_help"))
    def team_join(ctx: typer.Context, team: str, username: str, config: Config = None) -> None:
        join_team(cli_context(ctx), config, team, username)


def _member(state: CliContext, uow, username: str) -> "Staff":
    member = uow.desk.staff_by_username(username.strip().lower())
    if member is None:
        raise Failure(state.texts("desk_cli.unknown_username", username=username))
    return member


def read_password(t: Texts) -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(t("desk_cli.password_prompt"))
        if getpass.getpass(t("desk_cli.password_again")) != first:
            raise Failure(t("desk_cli.password_mismatch"))
        return first
    return sys.stdin.readline().rstrip("\r\n")


def set_password(state: CliContext, config: str | None, username: str) -> None:
    from bot.desk.accounts import MIN_PASSWORD, hash_password

    t = state.texts
    app = state.open_app(config)
    with app.uow() as uow:
        _member(state, uow, username)
    password = read_password(t)
    if len(password) < MIN_PASSWORD:
        raise Failure(t("desk_cli.password_short", least=MIN_PASSWORD))
    with app.uow() as uow:
        member = _member(state, uow, username)
        member.password_hash = hash_password(password)
        member.failed_sign_ins, member.locked_until = 0, None
        uow.session.add(member)
        uow.desk.end_sessions_of(member.id)  # whoever held the old one is signed out
        uow.desk.audit(state.clock(), member.id, "password_set")
        uow.commit()
    typer.echo(t("desk_cli.password_set", username=member.username))


def enrol_totp(state: CliContext, config: str | None, username: str) -> None:
    """A new authenticator secret and recovery codes (the old ones stop working)."""
    from bot.desk.accounts import new_recovery_codes, new_totp_secret, recovery_hash, totp_uri

    t = state.texts
    app = state.open_app(config)
    secret, codes = new_totp_secret(), new_recovery_codes()
    with app.uow() as uow:
        member = _member(state, uow, username)
        member.totp_secret, member.totp_last_step = secret, None
        uow.session.add(member)
        uow.desk.replace_recovery_codes(member.id, [recovery_hash(code) for code in codes])
        uow.desk.end_sessions_of(member.id)
        uow.desk.audit(state.clock(), member.id, "totp_enrolled")
        uow.commit()
    uri = totp_uri(secret, member.username or username, app.settings.institution.short_name)
    typer.echo(t("desk_cli.totp_scan", username=member.username))
    typer.echo(qr_text(uri))
    typer.echo(uri)
    typer.echo(t("desk_cli.totp_secret", secret=secret))
    typer.echo(t("desk_cli.recovery_codes"))
    for code in codes:
        typer.echo(f"  {code}")


def qr_text(data: str) -> str:
    """A QR code drawn with block characters, readable from a terminal."""
    import io

    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(data)
    out = io.StringIO()
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


def add_team(
    state: CliContext, config: str | None, name: str, topics: list[str], places: list[str]
) -> None:
    t = state.texts
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise Failure(t("cli.staff_bad_name"))
    app = state.open_app(config)
    unknown = [topic for topic in topics if topic not in app.policy.topics]
    if unknown:
        raise Failure(t("cli.unknown_topic", value=unknown[0], valid=", ".join(app.policy.topics)))
    with app.uow() as uow:
        if uow.desk.team_by_name(name) is not None:
            raise Failure(t("desk_cli.team_exists", name=name))
        from storage.models import Team

        uow.desk.add_team(Team(name=name, topics=topics, municipalities=places))
        uow.commit()
    typer.echo(t("desk_cli.team_added", name=name))


def join_team(state: CliContext, config: str | None, team_name: str, username: str) -> None:
    t = state.texts
    app = state.open_app(config)
    with app.uow() as uow:
        team = uow.desk.team_by_name(" ".join(team_name.split()))
        if team is None:
            raise Failure(t("desk_cli.unknown_team", name=team_name))
        member = _member(state, uow, username)
        uow.desk.join_team(team.id, member.id)
        uow.commit()
    typer.echo(t("desk_cli.team_joined", name=team.name, username=member.username))
