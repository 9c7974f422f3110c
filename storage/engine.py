"""make_engine(url): the one place that knows how SQLite and PostgreSQL differ."""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
PURGE_BUSY_TIMEOUT_MS = 1_000
# Connections kept; one writes at a time, the others wait for it. Ten rather than five: at five,
# with the webhooks' admission limit at four times the pool (see bot/admission.py), the intake
# benchmark acknowledged 300 messages/s; at ten 330 (2026-12-05, 32 citizens at once).
SQLITE_POOL = 10
POSTGRES_POOL = 10  # connections kept; each new one is a server process to start
CONNECT_TIMEOUT_S = 5
_HOLDS_WRITER = "ta_holds_writer"


def normalise_url(url: str | URL) -> URL:
    """Plain postgresql:// URLs use psycopg 3, the driver this project installs."""
    url = make_url(url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(url: str | URL) -> Engine:
    """WAL, a busy timeout and immediate write locks on SQLite; a kept pool and a connect
    timeout on PostgreSQL."""
    url = normalise_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # A server that stops answering must not hold a request for minutes: give up connecting
    # after a few seconds (the webhook answers 503 and the provider delivers again).
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    # Connections are kept, not opened per burst. They are not pinged before each use (a round
    # trip per transaction): a connection found broken fails that one transaction (a webhook
    # answers 503 and is delivered again), and SQLAlchemy then replaces every connection of the
    # pool.
    return create_engine(
        url,
        pool_size=POSTGRES_POOL,
        max_overflow=0,
        pool_recycle=1800,
        connect_args=connect_args,
    )


# Databases whose last rebuild after an erasure could not be done (busy): retried by the service
# until it is (see `retry_purge`), and at shutdown.
_UNPURGED: weakref.WeakSet[Engine] = weakref.WeakSet()


def purge_pending(engine: Engine) -> bool:
    """Whether an erasure's rebuild is still to be done on this database."""
    return engine in _UNPURGED


def retry_purge(engine: Engine) -> bool:
    """Do the rebuild left undone, if any; True when nothing is left to do."""
    return engine not in _UNPURGED or purge_old_versions(engine)


def purge_old_versions(engine: Engine) -> bool:
    """After an erasure or an anonymous report, on SQLite: rebuild the file (VACUUM), so that
    nothing of the rows as they were survives in free space (secure_delete zeroes what is
    deleted, but a page SQLite rebuilds keeps fragments of earlier cells in its unused part),
    and truncate the write-ahead log, with this process's writers held back meanwhile.
    PostgreSQL keeps old row versions until VACUUM: see `vacuum`. False when it could not be
    done now (readers in the way): it is then retried (`retry_purge`)."""
    if engine.dialect.name != "sqlite":
        return True
    _UNPURGED.add(engine)  # until it is done
    with engine.connect().execution_options(checkpoint=True) as connection:
        # Webhooks wait meanwhile: give up soon if a reader is in the way (the service tries
        # again within seconds, see `retry_purge`, and at shutdown).
        connection.exec_driver_sql(f"PRAGMA busy_timeout={PURGE_BUSY_TIMEOUT_MS}")
        try:
            return _rebuild(connection, engine)
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _rebuild(connection, engine: Engine) -> bool:
    """VACUUM, then truncate the write-ahead log, each tried a few times with a short wait."""
    for _ in range(3):
        try:
            connection.exec_driver_sql("VACUUM")
            break
        except sqlite3.OperationalError:
            continue
    else:
        log.warning("database: not rebuilt after an erasure (busy); will try again")
        return False
    for _ in range(3):
        busy, *_ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if not busy:
            _UNPURGED.discard(engine)
            return True
    log.warning("database: the write-ahead log could not be truncated (busy); will try again")
    return False


def vacuum(engine: Engine, tables: tuple[str, ...]) -> None:
    """Let PostgreSQL reclaim the old versions of these tables' rows (the nightly retention run
    does it after erasing); on SQLite, finish the rebuild of `purge_old_versions` if the commit
    of the erasure could not (rebuilding a large file twice took as long as the erasure)."""
    if engine.dialect.name != "postgresql":
        retry_purge(engine)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM {', '.join(tables)}")


def _driver(connection) -> sqlite3.Connection:  # noqa: ANN001
    """The sqlite3 connection under SQLAlchemy's: BEGIN, COMMIT and ROLLBACK go to it directly
    (a statement through SQLAlchemy costs more than SQLite's own work for these)."""
    return connection.connection.dbapi_connection


# The writer locks (one per SQLite database, by its pool) that this thread took for a session's
# transaction before the session took a connection (see `_writer_first`).
_TAKEN = threading.local()
_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TURN = "ta_writer_turn"


def _taken() -> set[threading.Lock]:
    if not hasattr(_TAKEN, "locks"):
        _TAKEN.locks = set()
    return _TAKEN.locks


def _writer_first(session, transaction) -> None:  # noqa: ANN001
    """A session's transaction on SQLite takes this process's writer lock before its connection,
    and the pool lends the connection given back last: so the connection the last writer used
    serves the next, its page cache still good. A connection that begins after another one
    committed finds its cache stale and reads every page again (a message's transaction cost
    a tenth more so, measured in process). Reports (read-only) take no lock."""
    bind = session.bind
    if transaction.parent is not None or not isinstance(bind, Engine):
        return
    writer = _WRITERS.get(bind.pool)
    if writer is None or writer in _taken() or bind.get_execution_options().get("read_only"):
        return  # not SQLite, taken by this thread's outer transaction, or a report
    if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise sqlite3.OperationalError("database is locked")
    _taken().add(writer)
    session.info[_TURN] = writer


def _writer_back(session, transaction) -> None:  # noqa: ANN001
    """The lock goes back once the transaction's connection is back in the pool."""
    if transaction.parent is not None:
        return
    writer = session.info.pop(_TURN, None)
    if writer is not None:
        _taken().discard(writer)
        writer.release()


def _listen_to_sessions() -> None:
    """Once per process: every session's transactions go through `_writer_first`."""
    if not event.contains(Session, "after_transaction_create", _writer_first):
        event.listen(Session, "after_transaction_create", _writer_first)
        event.listen(Session, "after_transaction_end", _writer_back)


def _sqlite_engine(url: URL) -> Engine:
    pool: dict = {}
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Kept, not opened under load; the one given back last is lent first (`_writer_first`).
        pool = {"pool_size": SQLITE_POOL, "max_overflow": 0, "pool_use_lifo": True}
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # What is deleted or overwritten is zeroed in the file, not left in free space.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # SQLite has one writer at a time, and a writer that finds the database locked polls with
    # sleeps of up to 100 ms. The threads of this process queue on a lock of their own instead,
    # so each transaction starts the moment the previous one ends; other processes (the command
    # line) still meet the busy timeout.
    writer = threading.Lock()
    _WRITERS[engine.pool] = writer
    _listen_to_sessions()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        if connection.get_execution_options().get("checkpoint"):
            # A checkpoint runs outside any transaction, with this process's writers waiting.
            if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise sqlite3.OperationalError("database is locked")
            connection.info[_HOLDS_WRITER] = True
            return
        if connection.get_execution_options().get("read_only"):
            # Reports: a reader needs no write lock, and in WAL mode never blocks a writer.
            _driver(connection).execute("BEGIN")
            return
        # A session's transaction took it already, and gives it back (`_writer_first`).
        if writer not in _taken():
            if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise sqlite3.OperationalError("database is locked")
            connection.info[_HOLDS_WRITER] = True
        try:
            # Take the write lock at the start: a deferred transaction that reads and then
            # writes can fail at once with SQLITE_BUSY when another process wrote in between.
            _driver(connection).execute("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection) -> None:  # noqa: ANN001
        if connection.info.pop(_HOLDS_WRITER, False):
            writer.release()

    @event.listens_for(engine, "commit")
    def _on_commit(connection):  # noqa: ANN001
        # The event comes before the driver commits: commit here, so that the lock is released
        # after the transaction really ended (the driver's own commit then has nothing to do).
        try:
            if _driver(connection).in_transaction:
                _driver(connection).execute("COMMIT")
        finally:
            _release(connection)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection):  # noqa: ANN001
        try:
            if _driver(connection).in_transaction:
                _driver(connection).execute("ROLLBACK")
        finally:
            _release(connection)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, record):  # noqa: ANN001
        # A connection given back without commit or rollback (it broke) frees the lock too.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    return engine
