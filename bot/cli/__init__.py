"""The `telefono-abierto` command line (spec section 5), one module per command group.

Commands import what only they need (the HTTP service, the console chat, scikit-learn,
openpyxl, matplotlib) inside their functions, so that each command starts quickly."""

import gc
import sys
from collections.abc import Callable
from datetime import datetime

import typer

from bot.cli import (
    cases,
    classifier,
    commitments,
    community,
    privacy,
    reports,
    run,
    staff,
    visits,
)
from bot.cli.context import (
    CliContext,
    Failure,
    cli_context,
    config_option,
    first_paragraph,
    one_line,
    starting,
)
from bot.cli.spanish import RootGroup, SpanishTyper
from bot.clock import utc_now
from handlers.core.texts import Texts, load_texts

__all__ = ["CliContext", "Failure", "build_cli", "main"]


def main(argv: list[str] | None = None, *, clock: Callable[[], datetime] = utc_now) -> None:
    """Entry point of the console script; `argv` and `clock` are for tests."""
    if argv is None:
        starting()
    texts = load_texts("es")
    cli = build_cli(texts)
    try:
        cli(args=argv, obj=CliContext(clock=clock, texts=texts), prog_name="telefono-abierto")
    except Failure as exc:
        typer.echo(str(exc), err=True)
        sys.exit(1)
    except Exception as exc:
        # The settings and the database are imported only by the commands that use them: an
        # error of theirs can come only from a command that has imported them.
        config, database = sys.modules.get("bot.config"), sys.modules.get("sqlalchemy.exc")
        if config is not None and isinstance(exc, config.ConfigError):
            typer.echo(str(exc), err=True)
            sys.exit(2)
        if database is not None and isinstance(exc, database.SQLAlchemyError):
            typer.echo(texts("cli.db_failed", reason=one_line(exc)), err=True)
            sys.exit(1)
        raise
    finally:
        if argv is None:
            # The process ends with the command. The interpreter's teardown would collect every
            # object the command made, one by one (a sixth of a second after a tally): frozen,
            # they are left to the operating system, which frees them at once. Files, database
            # connections and exit handlers are closed and run as always.
            gc.freeze()


def build_cli(t: Texts) -> typer.Typer:
    """Build the command tree; texts come from the catalogue."""
    cli = SpanishTyper(
        cls=RootGroup,
        help=t("cli.help"),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help and errors: rich's formatting imports rich and markdown-it, which took
        # most of the time of `--help`; and titles its boxes in English.
        rich_markup_mode=None,
    )
    Config = config_option(t)

    @cli.callback()
    def _root(ctx: typer.Context, config: Config = None) -> None:
        state = cli_context(ctx)
        state.begin(config)
        ctx.call_on_close(state.close)

    # This order keeps `--help` listing commands and groups as it always has.
    for group in (run, cases, staff, classifier, reports, privacy, community, commitments, visits):
        group.register(cli, t)
    whole_first_paragraphs(cli)
    return cli


def whole_first_paragraphs(cli: typer.Typer) -> None:
    """Lists of commands show the whole first paragraph of each one's help, as rich's help
    did (plain help would cut it at the width of the terminal)."""
    for command in cli.registered_commands:
        if command.short_help is None and isinstance(command.help, str):
            command.short_help = first_paragraph(command.help)
    for group in cli.registered_groups:
        if isinstance(group.typer_instance, typer.Typer):
            whole_first_paragraphs(group.typer_instance)
