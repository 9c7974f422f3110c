"""What every command shares: the texts, the clock, and the application opened on first use."""

from __future__ import annotations

import errno
import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.clock import utc_now
from handlers.core.texts import Texts, load_texts

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import App
    from bot.config import Settings

# The application, the settings and the database are imported when a command first asks for
# them, so that `--help` and the commands that need no database start at once.


# Why a file could not be written, in the catalogue's Spanish rather than the system's English.
_WRITE_REASONS = {
    errno.ENOENT: "cli.write_no_folder",
    errno.ENOTDIR: "cli.write_no_folder",
    errno.EACCES: "cli.write_no_permission",
    errno.EPERM: "cli.write_no_permission",
    errno.EROFS: "cli.write_no_permission",
    errno.EISDIR: "cli.write_is_folder",
    errno.ENOSPC: "cli.write_no_space",
}


def cannot_write(t: Texts, path: object, exc: OSError) -> str:
    """ "No se pudo escribir c.pdf: la carpeta no existe", one Spanish line for any OSError."""
    key = _WRITE_REASONS.get(exc.errno or 0)
    reason = t(key) if key else t("cli.write_other", number=exc.errno or 0)
    return t("cli.cannot_write", path=path, reason=reason)


class Failure(Exception):
    """A command cannot do what was asked; the message is the one line the user sees."""


def starting() -> None:
    """The console script starts: the commands import what they use (SQLAlchemy, the models,
    pydantic) as they begin, and the collector's passes over so many new objects find nothing
    to free (a tenth of the import time): it waits until the command has its settings."""
    gc.disable()


def started() -> None:
    """The command has imported what it uses and reads its settings: what start-up made is
    kept for the process's life out of the collector's way (gc.freeze), which runs again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


@dataclass
class CliContext:
    """The state of one invocation, passed as Typer's `obj`: tests give their own clock here."""

    clock: Callable[[], datetime] = utc_now
    texts: Texts = field(default_factory=lambda: load_texts("es"))
    config: str | None = None
    # Whether a person is at the terminal to answer a question (tests say so themselves).
    interactive: Callable[[], bool] = field(default=lambda: sys.stdin.isatty())
    _app: App | None = field(default=None, repr=False)

    def begin(self, config: str | None) -> None:
        """A new invocation: the root `--config`, and no application opened yet."""
        self.config = config
        self._app = None

    def settings(self, config: str | None = None, *, serving: bool = False) -> Settings:
        """The settings of the command's `--config`, else the root one, else TA_CONFIG; the
        channels' credentials are required only for `serving` them (the `run` command)."""
        from bot.config import load_settings

        started()
        return load_settings(config or self.config, serving=serving)

    def open_app(
        self, config: str | None = None, *, migrate: bool = True, serving: bool = False
    ) -> App:
        """The application; `migrate` brings the schema up to date, else it must already be.
        `serving`: the channels will be served (their credentials are checked)."""
        from sqlalchemy.exc import SQLAlchemyError

        from bot.app import create_app
        from storage.migrate import is_current

        if self._app is None:
            self._app = create_app(self.settings(config, serving=serving))
        app, t = self._app, self.texts
        try:
            if migrate:
                app.migrate()
            elif not is_current(app.engine):
                raise Failure(t("cli.db_not_current"))
        except SQLAlchemyError as exc:
            url = shown_url(app.engine.url)
            raise Failure(t("cli.db_unreachable", url=url, reason=one_line(exc))) from exc
        return app

    def upgrade_database(self, config: str | None = None) -> str:
        """Apply the migrations with the database settings alone (a migration needs no channel's
        secrets); the database's URL without its password."""
        from sqlalchemy.exc import SQLAlchemyError

        from bot.config import load_database_settings
        from storage.engine import make_engine
        from storage.migrate import upgrade

        started()
        engine = make_engine(load_database_settings(config or self.config).url)
        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            url = shown_url(engine.url)
            raise Failure(self.texts("cli.db_unreachable", url=url, reason=one_line(exc))) from exc
        finally:
            engine.dispose()
        return shown_url(engine.url)

    def close(self) -> None:
        """Release the database connections of the application, when one was opened."""
        if self._app is not None:
            self._app.engine.dispose()
            self._app = None


def command_group(help: str) -> typer.Typer:
    """A group of commands (`cases`, `staff`...), with help as plain as the root's, in Spanish."""
    from bot.cli.spanish import SpanishTyper

    return SpanishTyper(
        help=help, short_help=first_paragraph(help), no_args_is_help=True, rich_markup_mode=None
    )


def first_paragraph(help: str) -> str:
    """What lists of commands show of a command's help."""
    return " ".join(help.split("\n\n")[0].split())


def cli_context(ctx: typer.Context) -> CliContext:
    """The shared state of the running command."""
    return ctx.ensure_object(CliContext)


def config_option(t: Texts) -> Any:
    """The `--config PATH` option every command takes."""
    return Annotated[str | None, typer.Option("--config", help=t("cli.config_option"))]


SECRET_PARAMETERS = ("password", "secret", "key", "token")


def shown_url(url: URL) -> str:
    """A database URL to print, wherever one is shown: its password hidden in the user part,
    and left out with any parameter whose name speaks of a secret (password, sslpassword,
    *secret*, *key*, *token*). With an unencoded '@' in the password, its rest is read as part
    of the host's name: everything up to the last '@' before the host is hidden then, the
    user's name too."""
    from sqlalchemy.engine import URL

    secrets = [name for name in url.query if any(s in name.lower() for s in SECRET_PARAMETERS)]
    url = url.difference_update_query(secrets)
    host = url.host or ""
    if "@" not in host:
        return url.render_as_string(hide_password=True)
    host = host.rsplit("@", 1)[1]
    bare = URL.create(url.drivername, host=host, port=url.port, database=url.database)
    scheme, rest = bare.update_query_dict(dict(url.query)).render_as_string().split("://", 1)
    return f"{scheme}://***@{rest}"


def one_line(exc: SQLAlchemyError) -> str:
    """The first line of what the database driver said."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def check_label(t: Texts, key: str, value: str | None, valid: tuple[str, ...]) -> None:
    """Refuse a label outside `valid`, naming the valid ones."""
    if value is not None and value not in valid:
        raise Failure(t(key, value=value, valid=", ".join(valid)))


def parse_day(t: Texts, value: str) -> date:
    """An ISO date given on the command line."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Failure(t("cli.bad_date", value=value)) from exc


def confirm(state: CliContext, question: str, yes: bool, *, refused: str = "cli.confirm_") -> None:
    """Go on only when `--yes` was given or the person at the terminal answers yes; refuse
    without a terminal to ask at. `refused` prefixes the keys saying that nothing was done
    (`needs_yes`, `declined`): by default, nothing was erased."""
    t = state.texts
    if yes:
        return
    if not state.interactive():
        raise Failure(t(f"{refused}needs_yes"))
    typer.echo(question)
    typer.echo(f"{t('cli.confirm_question')} ", nl=False)
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("s", "si", "sí", "y", "yes"):
        raise Failure(t(f"{refused}declined"))
