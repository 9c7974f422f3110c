"""Bulk writes for synthetic data (`demo-data`): executemany, one transaction per chunk.

On SQLite the rows go straight to the driver, with timestamps already in the text form
SQLAlchemy stores there (UTC, microseconds): per-value type processing would cost more than
the insert itself. PostgreSQL goes through SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC as _UTC
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import Case, Commitment, Contact, FolioCounter, Staff, Visit
from storage.types import UTCDateTime


def reserve_folios(connection: Connection, prefix: str, year: int, count: int) -> int:
    """Take `count` folio numbers of a year at once; the first of them."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    counter = FolioCounter.__table__
    statement = (
        dialect.insert(counter)
        .values(prefix=prefix, year=year, last_value=count)
        .on_conflict_do_update(
            index_elements=["prefix", "year"],
            set_={"last_value": counter.c.last_value + count},
        )
        .returning(counter.c.last_value)
    )
    return int(connection.execute(statement).scalar_one()) - count + 1


def _sqlite_time(value: datetime) -> str:
    if value.tzinfo is not _UTC:
        value = value.astimezone(_UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"


def _raw_insert(connection: Connection, table, rows: Sequence[dict]) -> None:
    names = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    # Only the time columns need converting: the rest go to the driver as they are.
    times = [i for i, name in enumerate(names) if isinstance(table.c[name].type, UTCDateTime)]
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i in times:
            if value[i] is not None:
                value[i] = _sqlite_time(value[i])
        values.append(tuple(value))
    connection.exec_driver_sql(sql, values)


def insert_contacts(connection: Connection, rows: Sequence[dict]) -> list[int]:
    """Insert contacts; their ids, in the order given."""
    if not rows:
        return []
    table = Contact.__table__
    if connection.dialect.name == "sqlite":
        # One writer holds SQLite's lock: the next ids are ours to give.
        last: int = connection.execute(select(func.max(table.c.id))).scalar_one() or 0
        ids = list(range(last + 1, last + 1 + len(rows)))
        _raw_insert(connection, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in connection.execute(statement, list(rows))]


def insert_cases(connection: Connection, rows: Sequence[dict]) -> None:
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        _raw_insert(connection, Case.__table__, rows)
    else:
        connection.execute(insert(Case.__table__), list(rows))


def case_ids(connection: Connection, folios: Sequence[str]) -> dict[str, int]:
    """The ids of the cases with these folios."""
    if not folios:
        return {}
    table = Case.__table__
    statement = select(table.c.folio, table.c.id).where(table.c.folio.in_(folios))
    return {row.folio: row.id for row in connection.execute(statement)}


def active_staff(connection: Connection) -> list[int]:
    """The ids of the active staff: the demo's pending commitments are theirs in turn."""
    table = Staff.__table__
    statement = select(table.c.id).where(table.c.active.is_(True)).order_by(table.c.id)
    return [row.id for row in connection.execute(statement)]


def insert_commitments(connection: Connection, rows: Sequence[dict]) -> None:
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        # Dates as SQLAlchemy stores them there (ISO text).
        values = [
            {
                **row,
                "due_date": row["due_date"].isoformat(),
                "original_due_date": row["original_due_date"].isoformat(),
            }
            for row in rows
        ]
        _raw_insert(connection, Commitment.__table__, values)
    else:
        connection.execute(insert(Commitment.__table__), list(rows))


def insert_visits(connection: Connection, rows: Sequence[dict], folios: Sequence[str]) -> None:
    """Insert field visits, each given the id of the case whose folio is `folios[row["case"]]`
    (the cases were inserted just before)."""
    if not rows:
        return
    cases = Case.__table__.c
    wanted = sorted({folios[row["case"]] for row in rows})
    found = connection.execute(select(cases.folio, cases.id).where(cases.folio.in_(wanted)))
    ids: dict[Any, Any] = dict(found.tuples().all())
    visits = [
        {**{k: v for k, v in row.items() if k != "case"}, "case_id": ids[folios[row["case"]]]}
        for row in rows
    ]
    connection.execute(insert(Visit.__table__), visits)
