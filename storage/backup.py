"""Copies of a SQLite database taken while the service runs, and putting one back."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from storage.models import DispatcherHeartbeat

PAGES_PER_STEP = 1024  # copied between pauses, so that the service's writers are not held long


def _driver(connection) -> sqlite3.Connection:
    """The sqlite3 connection under SQLAlchemy's."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


class NotABackup(ValueError):
    """The file is not a readable Teléfono Abierto database; `why` says in one word what it
    is instead, for the caller to put into words: missing, unreadable, not_sqlite, damaged or
    foreign (a SQLite database of something else)."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(detail or why)
        self.why = why


def _why(exc: sqlite3.Error) -> str:
    """What a SQLite error says about the file it was reading."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
        return "not_sqlite"
    if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
        return "foreign"
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
        return "damaged"
    return "unreadable"


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the live database into `target` with SQLite's online backup (a consistent copy
    while the service goes on writing); return the number of cases copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with engine.connect() as connection:
        source = _driver(connection)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=PAGES_PER_STEP)
            # One file, without a write-ahead log beside it: what is copied is what is kept.
            copy.execute("PRAGMA journal_mode=DELETE")
            (cases,) = copy.execute("SELECT count(*) FROM cases").fetchone()
        finally:
            copy.close()
    partial.replace(target)  # never a half-written file under the chosen name
    return int(cases)


def check_backup(source: Path) -> int:
    """The number of cases in a backup file; NotABackup when it is not a sound database of
    this service."""
    if not source.exists():
        raise NotABackup("missing")
    try:
        copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise NotABackup(_why(exc), str(exc)) from exc
    try:
        (ok,) = copy.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise NotABackup("damaged", ok)
        copy.execute("SELECT version_num FROM alembic_version").fetchone()
        (cases,) = copy.execute("SELECT count(*) FROM cases").fetchone()
    except sqlite3.Error as exc:
        raise NotABackup(_why(exc), str(exc)) from exc
    finally:
        copy.close()
    return int(cases)


class DatabaseInUse(RuntimeError):
    """Another connection, of this process or another, has the database file open."""


# How long to wait for a connection that is only passing (a command reading the database) to
# let go of the file; a running service never does.
IN_USE_WAIT_S = 2.0


def restore_sqlite(database: Path, source: Path) -> int:
    """Replace the content of the database file at `database` with the backup in `source`
    (checked first); return the number of cases restored. DatabaseInUse when any connection has
    the file open, whatever path it was opened by.

    The file is taken with SQLite's own exclusive lock, held until the copy is in: every
    connection to a database in WAL mode holds a shared lock on the file itself for as long as
    it is open, and that lock is on the file (its inode), not on the name it was opened by. A
    check of what the database says (the service's heartbeat) is not enough: another name of the
    same file (a hard link) has a write-ahead log of its own, and does not see what the service
    wrote in its log. Holding the lock through the copy also keeps a service that starts
    meanwhile from opening the file half-restored."""
    cases = check_backup(source)
    database.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(database, timeout=IN_USE_WAIT_S, isolation_level=None)
    try:
        # In WAL mode, the exclusive locking mode takes an exclusive lock on the file at the
        # first transaction (and does without the shared-memory index other names would share);
        # in rollback mode BEGIN EXCLUSIVE takes it. Either way it is kept until close.
        target.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            target.execute("BEGIN EXCLUSIVE")
            target.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                raise DatabaseInUse(str(database)) from exc
            raise
        # A write-ahead log left beside the file (by a process killed while it had it open) is
        # put into the file now, and emptied, while no one else can open it: what the copy
        # writes next is all there is to replay.
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            copy.backup(target, pages=PAGES_PER_STEP)
        finally:
            copy.close()
    finally:
        target.close()  # the last connection: the write-ahead log goes into the file
    return cases


def last_heartbeat(engine: Engine) -> datetime | None:
    """When a service running on this database last said it was alive (its outbox dispatcher
    beats every second); None when none ever did, or the database has no tables yet."""
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.max(DispatcherHeartbeat.heartbeat_at))).scalar()
    except SQLAlchemyError:
        return None
