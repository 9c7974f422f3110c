"""A write that waits for the statement after it (PostgreSQL): a turn saves the person's place
in the dialogue, then queues its reply, and the two go to the server in one statement, one
round trip instead of two (`OutboxRepository.enqueue`). Whatever else the transaction runs
first (a statement, a flush of the ORM, the commit) writes it before; a rollback forgets it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

_WAITING = "deferred_write"


def defer(session: Session, kind: str, statement: Any, params: dict[str, Any]) -> None:
    """Keep a write of this `kind` until the next statement; one waits at a time."""
    write_deferred(session)
    _listen()
    session.info[_WAITING] = (kind, statement, params)


def take(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The write waiting, for the caller to send with its own statement: its kind and
    parameters (None: none waits)."""
    waiting = session.info.pop(_WAITING, None)
    return None if waiting is None else (waiting[0], waiting[2])


def write_deferred(session: Session) -> None:
    """Send the write waiting, if any, now."""
    waiting = session.info.pop(_WAITING, None)
    if waiting is not None:
        session.connection().execute(waiting[1], waiting[2])


def connection(session: Session) -> Connection:
    """The session's connection, for a statement of its own: what waits is written first."""
    write_deferred(session)
    return session.connection()


def _before_orm_statement(state: Any) -> None:
    write_deferred(state.session)


def _before_flush(session: Session, *_: Any) -> None:
    write_deferred(session)


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WAITING, None)


def _listen() -> None:
    """Once per process: every session writes what waits before its other work."""
    if not event.contains(Session, "before_commit", write_deferred):
        event.listen(Session, "do_orm_execute", _before_orm_statement)
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "before_commit", write_deferred)
        event.listen(Session, "after_transaction_end", _forget)
