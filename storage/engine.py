"""make_engine(url): the one place that knows how SQLite and PostgreSQL differ."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5


def normalise_url(url: str | URL) -> URL:
    """Plain postgresql:// URLs use psycopg 3, the driver this project installs."""
    url = make_url(url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(url: str | URL, *, pool_size: int = 5) -> Engine:
    """WAL, a busy timeout and immediate write locks on SQLite; a checked pool and a connect
    timeout on PostgreSQL."""
    url = normalise_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # A server that stops answering must not hold a request for minutes: give up connecting
    # after a few seconds (the webhook answers 503 and the provider delivers again).
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        # Take the write lock at the start: a deferred transaction that reads and then writes
        # can fail at once with SQLITE_BUSY when another process wrote in between.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
