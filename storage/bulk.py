"""Bulk writes for synthetic data (`demo-data`): Core executemany, one transaction per chunk."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import Case, Contact, FolioCounter


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


def insert_contacts(connection: Connection, rows: Sequence[dict]) -> list[int]:
    """Insert contacts; their ids, in the order given."""
    if not rows:
        return []
    table = Contact.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in connection.execute(statement, list(rows))]


def insert_cases(connection: Connection, rows: Sequence[dict]) -> None:
    if rows:
        connection.execute(insert(Case.__table__), list(rows))
