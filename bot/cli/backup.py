"""`db backup` and `db restore`: a copy of the database to keep, and putting it back."""

import os
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.context import Failure, cli_context, config_option, shown_url
from handlers.core.texts import Texts


def register(db: typer.Typer, t: Texts) -> None:
    """Add `backup` and `restore` to the `db` group."""
    Config = config_option(t)

    def _refusal(file: Path, why: str) -> str:
        if why == "missing":
            return t("cli.db_backup_missing", file=file)
        return t("cli.db_not_a_backup", file=file, reason=t(f"cli.db_not_a_backup_{why}"))

    def _cases(count: int) -> str:
        return t.plural("amounts.cases", count, count=f"{count:,}")

    @db.command("backup", help=t("cli.db_backup_help"))
    def db_backup(ctx: typer.Context, file: Path, config: Config = None) -> None:
        from sqlalchemy.engine import make_url

        from storage.backup import backup_sqlite

        state = cli_context(ctx)
        url = make_url(state.settings(config).database.url)
        if url.get_backend_name() != "sqlite":
            # pg_dump reads the password from PGPASSWORD (or ~/.pgpass): on its command line,
            # `ps` would show it to every user of the machine.
            password = url.password is not None or "password" in url.query
            shown = shown_url(url.set(drivername="postgresql", password=None))
            key = "cli.db_backup_postgres_password" if password else "cli.db_backup_postgres"
            raise Failure(t(key, url=shown, file=file))
        app = state.open_app(config, migrate=False)
        import sqlite3

        try:
            cases = backup_sqlite(app.engine, file)
        except (OSError, sqlite3.Error) as exc:
            reason = t("cli.not_a_writable_file")
            raise Failure(t("cli.cannot_write", path=file, reason=reason)) from exc
        typer.echo(t("cli.db_backup_done", file=file, cases=_cases(cases)))

    @db.command("restore", help=t("cli.db_restore_help"))
    def db_restore(
        ctx: typer.Context,
        file: Path,
        yes: Annotated[bool, typer.Option("--yes", help=t("cli.db_restore_yes"))] = False,
        config: Config = None,
    ) -> None:
        from sqlalchemy.engine import make_url

        from storage.backup import NotABackup, check_backup, restore_sqlite

        state = cli_context(ctx)
        settings = state.settings(config)
        if not settings.database.url.startswith("sqlite"):
            raise Failure(t("cli.db_restore_postgres"))
        database = Path(make_url(settings.database.url).database or "")
        # The live file itself (by its path or another name): copying it onto itself would
        # wait for ever on the lock the restore holds, and everyone else with it.
        if file.exists() and database.exists() and os.path.samefile(file, database):
            raise Failure(t("cli.db_restore_same", file=file))
        try:
            cases = check_backup(file)
        except NotABackup as exc:
            raise Failure(_refusal(file, exc.why)) from None
        if not yes:
            raise Failure(t("cli.db_restore_confirm", file=file, cases=_cases(cases)))
        # A file with other names (hard links): each name has its own write-ahead log, and the
        # one beside another name would be replayed over the restored pages the next time the
        # file is opened by that name. Refused before anything opens it, so that the attempt
        # leaves no log of its own beside the name it was given.
        if database.exists() and database.stat().st_nlink > 1:
            raise Failure(t("cli.db_restore_other_names", database=database))
        from bot.clock import utc_now
        from storage.backup import DatabaseInUse, last_heartbeat
        from storage.engine import make_engine

        # A service still running on the database would go on working with the file replaced
        # under it: it must be stopped first. Its dispatcher beats every second while it runs,
        # and stops when it stops.
        engine = make_engine(settings.database.url)
        beat = last_heartbeat(engine)
        engine.dispose()
        alive = settings.server.dispatcher_dead_after_seconds
        if beat is not None and (utc_now() - beat).total_seconds() < alive:
            raise Failure(t("cli.db_restore_running", seconds=f"{alive:g}"))
        # What the database says is not all: a process with the file open without beating (a
        # console chat) is seen by SQLite's lock on the file.
        try:
            restore_sqlite(database, file)
        except DatabaseInUse:
            raise Failure(t("cli.db_restore_in_use")) from None
        # The restored copy may be older than the code: bring its schema up to date.
        state.open_app(config, migrate=True)
        typer.echo(t("cli.db_restore_done", file=file, cases=_cases(cases)))
