"""Running the service and trying it: `run`, `chat`, `db upgrade`."""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import backup
from bot.cli.context import CliContext, Failure, cli_context, command_group, config_option
from handlers.core.texts import Texts

if TYPE_CHECKING:
    from bot.app import App

MAX_ADDRESS = 64


def register(cli: typer.Typer, t: Texts) -> None:
    """Add `run`, `chat` and the `db` group to the command tree."""
    Config = config_option(t)
    db = command_group(t("cli.db_help"))
    cli.add_typer(db, name="db")

    @cli.command(help=t("cli.run_help"))
    def run(
        ctx: typer.Context,
        config: Config = None,
        no_console: Annotated[
            bool, typer.Option("--no-console", help=t("cli.run_no_console"))
        ] = False,
    ) -> None:
        serve_or_chat(cli_context(ctx), config, console=not no_console)

    @cli.command(help=t("cli.chat_help"))
    def chat(
        ctx: typer.Context,
        as_: Annotated[str, typer.Option("--as", help=t("cli.chat_as"))],
        name: Annotated[str | None, typer.Option("--name", help=t("cli.chat_name"))] = None,
        config: Config = None,
    ) -> None:
        if not 1 <= len(as_.strip()) <= MAX_ADDRESS:
            raise Failure(t("cli.chat_bad_id", limit=MAX_ADDRESS))
        state = cli_context(ctx)
        chat_loop(state, state.open_app(config), as_.strip(), name)

    @db.command("upgrade", help=t("cli.db_upgrade_help"))
    def db_upgrade(ctx: typer.Context, config: Config = None) -> None:
        url = cli_context(ctx).upgrade_database(config)
        typer.echo(t("cli.db_upgraded", url=url))

    backup.register(db, t)


def serve_or_chat(state: CliContext, config: str | None, *, console: bool = True) -> None:
    """Serve the enabled channels and the web desk; with no channel, serve the desk beside the
    console chat, so that one can write as a citizen and watch the case arrive in the browser
    (without the chat when `console` is false: the desk alone, until stopped, as a service
    manager runs it with no terminal)."""
    # The HTTP service (uvicorn, starlette, the channel clients) is imported only here:
    # the other commands start without it.
    from bot.serve import PortInUse, serve, serve_beside

    t = state.texts
    app = state.open_app(config, serving=True)
    if app.settings.channels_enabled or not console:
        server = app.settings.server
        try:
            serve(app)
        except PortInUse as exc:
            raise Failure(
                t("cli.port_in_use", host=server.host, port=server.port, reason=exc)
            ) from exc
        return
    typer.echo(t("cli.run_no_channels"), err=True)
    stop = None
    if app.settings.desk.enabled:
        server = app.settings.server
        try:
            stop = serve_beside(app)
        except PortInUse as exc:
            typer.echo(
                t("desk_cli.desk_not_served", host=server.host, port=server.port, reason=exc),
                err=True,
            )
        else:
            url = f"http://{server.host}:{server.port}/mesa/"
            typer.echo(t("desk_cli.desk_served", url=url), err=True)
    try:
        chat_loop(state, app, "consola", None)
    finally:
        if stop is not None:
            stop()


def chat_loop(state: CliContext, app: "App", address: str, name: str | None) -> None:
    """Talk to the bot on standard input and output until it ends."""
    from bot.channels.console import ConsoleChat

    # Bytes that are not UTF-8 must not end the conversation.
    sys.stdin.reconfigure(errors="replace")
    console = ConsoleChat(app, address, sys.stdout, name=name, clock=state.clock)
    try:
        console.run(sys.stdin, interactive=sys.stdin.isatty())
    except KeyboardInterrupt:
        typer.echo("")
