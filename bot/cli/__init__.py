"""The `telefono-abierto` command line (spec section 5), one module per command group.

Commands import what only they need (the HTTP service, the console chat, scikit-learn,
openpyxl, matplotlib) inside their functions, so that each command starts quickly."""

import sys
from collections.abc import Callable
from datetime import datetime

import typer
from sqlalchemy.exc import SQLAlchemyError

from bot.app import utc_now
from bot.cli import cases, classifier, privacy, reports, run, staff
from bot.cli.context import CliContext, Failure, cli_context, config_option, one_line
from bot.config import ConfigError
from handlers.core.texts import Texts, load_texts

__all__ = ["CliContext", "Failure", "build_cli", "main"]


def main(argv: list[str] | None = None, *, clock: Callable[[], datetime] = utc_now) -> None:
    """Entry point of the console script; `argv` and `clock` are for tests."""
    texts = load_texts("es")
    cli = build_cli(texts)
    try:
        cli(args=argv, obj=CliContext(clock=clock, texts=texts), prog_name="telefono-abierto")
    except Failure as exc:
        typer.echo(str(exc), err=True)
        sys.exit(1)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        typer.echo(texts("cli.db_failed", reason=one_line(exc)), err=True)
        sys.exit(1)


def build_cli(t: Texts) -> typer.Typer:
    """Build the command tree; texts come from the catalogue."""
    cli = typer.Typer(
        help=t("cli.help"),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    Config = config_option(t)

    @cli.callback()
    def _root(ctx: typer.Context, config: Config = None) -> None:
        state = cli_context(ctx)
        state.begin(config)
        ctx.call_on_close(state.close)

    # This order keeps `--help` listing commands and groups as it always has.
    for group in (run, cases, staff, classifier, reports, privacy):
        group.register(cli, t)
    return cli
