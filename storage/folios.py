"""Folio numbers: a counter per prefix and year (`folio_counters`), one row that every new case
increments.

On PostgreSQL that row's lock would be held from the increment to the end of the message's
transaction, so every case opened meanwhile would wait for the one before it to commit: a
burst of emergencies queued behind each other, hundreds of milliseconds each (seen in the
intake benchmark, `pg_stat_activity` showing them waiting on the counter). There the number is
taken in a transaction of its own, on connections kept for it, and the lock is held for that
one statement. Folios stay unique and increasing; a message whose transaction fails after
taking one leaves that number unused, as a sequence would. SQLite has one writer at a time
anyway: there the number is taken in the message's own transaction, and a case rolled back
gives its number back.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Engine, Table, bindparam, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import Pool
from sqlmodel import Session

from storage.engine import CONNECT_TIMEOUT_S
from storage.models import FolioCounter

_TABLE: Table = FolioCounter.__table__  # type: ignore[attr-defined]


def _next(dialect):  # noqa: ANN001
    """The year's counter incremented (created at 1), returning the new value."""
    return (
        dialect.insert(_TABLE)
        .values(prefix=bindparam("prefix"), year=bindparam("year"), last_value=1)
        .on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last_value": _TABLE.c.last_value + 1}
        )
        .returning(_TABLE.c.last_value)
    )


_NEXT = {"postgresql": _next(postgresql), "sqlite": _next(sqlite)}

# PostgreSQL: per database (its connection pool), an engine of its own for the numbers.
_OWN: weakref.WeakKeyDictionary[Pool, Engine] = weakref.WeakKeyDictionary()
_OWN_LOCK = threading.Lock()


def next_number(session: Session, prefix: str, year: int) -> int:
    """The next folio number of `prefix` and `year`, unique among every process's."""
    bind = session.get_bind()
    params = {"prefix": prefix, "year": year}
    if bind.dialect.name != "postgresql":
        return int(session.execute(_NEXT["sqlite"], params).scalar_one())
    with _numbers_engine(bind.engine).begin() as connection:
        return int(connection.execute(_NEXT["postgresql"], params).scalar_one())


def _numbers_engine(main: Engine) -> Engine:
    """Two connections of their own beside the database's pool (taking one from that pool
    while holding another could wait forever, once every connection is held that way), closed
    when the database's are."""
    with _OWN_LOCK:
        engine = _OWN.get(main.pool)
        if engine is None:
            url = main.url
            timeout = (
                {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
            )
            engine = create_engine(
                url, pool_size=2, max_overflow=0, pool_recycle=1800, connect_args=timeout
            )
            _OWN[main.pool] = engine
            event.listen(main, "engine_disposed", lambda _: engine.dispose())
        return engine
