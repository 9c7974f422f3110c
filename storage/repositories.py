"""Queries, one repository per kind of record; each works inside the unit of work's session."""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    text,
    tuple_,
    update,
)
from sqlalchemy import any_ as sql_any
from sqlalchemy import case as sql_case
from sqlalchemy import cast as sql_cast
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.deferred import connection as connection_of
from storage.deferred import defer, take
from storage.folios import next_number
from storage.ids import PROCESS_IDS, IdClock
from storage.models import (
    MAX_DESCRIPTION,
    REDACTED,
    Attachment,
    Case,
    CaseEvent,
    ChatMigration,
    Contact,
    ConversationState,
    DialogueState,
    DispatcherHeartbeat,
    EarlyDeliveryReport,
    JobRun,
    LabelledExample,
    Message,
    OutboxItem,
    Pacing,
    Staff,
    day_start,
)

# Delivery reports may arrive out of order; a later stage never goes back to an earlier one.
# An erased contact's address starts so; the rest of it is random.
ERASED = "borrado:"

DELIVERY_RANK = {
    "pending": 0,
    "waiting": 0,
    "queued": 1,
    "accepted": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "undelivered": 5,
    "failed": 5,
}


# Rows about an anonymous case are numbered out of sequence: negative ids drawn at random,
# consecutive within one transaction, so that their place among other rows (whose times are
# exact) tells nothing of when they were written.
DETACHED_BLOCK = 256


def detached_id(session: Session, table: Any) -> int:
    """The next id for a row about an anonymous case, in this transaction's block of `table`."""
    blocks = session.info.setdefault("detached_blocks", {})
    start, end = blocks.get(table.name, (0, 0))
    if start >= end:
        start = _free_block(session, table)
        end = start + DETACHED_BLOCK
    blocks[table.name] = (start + 1, end)
    return start


def _free_block(session: Session, table: Any) -> int:
    for _ in range(50):
        start = -DETACHED_BLOCK - 1 - secrets.randbelow(2**31 - 2 * DETACHED_BLOCK)
        taken: int = session.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.id.between(start, start + DETACHED_BLOCK - 1))
        ).scalar_one()
        if not taken:
            return start
    raise RuntimeError("no free block of ids")


# Ids written out in a statement's IN (...); more are bound as one value (see `among`).
LISTED_IDS = 5000


def among(session: Session, column: Any, ids: Sequence[int]) -> Any:
    """`column IN ids`. Up to LISTED_IDS the ids are listed in the statement; more (the
    retention run's hundreds of thousands) are bound as one value, a PostgreSQL array or a
    JSON array that SQLite reads with json_each: no statement grows with their number, and
    nothing is done per id in Python. Statements using the latter go through `execute_many`."""
    if len(ids) <= LISTED_IDS:
        return column.in_(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == sql_any(literal(list(ids), postgresql.ARRAY(BigInteger)))
    values = func.json_each(literal(json.dumps(list(ids)), String)).table_valued("value")
    return column.in_(select(values.c.value))


def execute_many(session: Session, statement: Any, count: int) -> None:
    """Run an UPDATE or DELETE whose WHERE uses `among` over `count` ids. With the ids listed,
    as any ORM statement (the objects the session holds are updated to match); bound as one
    value, the WHERE cannot be evaluated in Python, so the session's objects of that table are
    expired instead (read again if used)."""
    if count <= LISTED_IDS:
        session.exec(statement)
        return
    session.execute(statement.execution_options(synchronize_session=False))
    entity = statement.entity_description["entity"]
    for held in list(session.identity_map.values()):
        if isinstance(held, entity):
            session.expire(held)


# How many ids a row may be given before giving up: another process writing a row in the same
# microsecond happens rarely, twice in a row for one row only if something else is wrong.
MAX_DRAWS = 20


def insert_timed(session: Session, ids: IdClock, table: Any, values: dict) -> int:
    """Insert a row of a table numbered by time (storage/ids.py); its id. When another process
    wrote a row with the same id (in the same microsecond) the row is numbered again: nothing
    is lost, and the transaction goes on."""
    session.flush()  # what the ORM holds goes first: the row may refer to it
    connection = connection_of(session)
    statement = _INSERT_TIMED[connection.dialect.name][table.name]
    for _ in range(MAX_DRAWS):
        row_id = ids.next()
        if connection.execute(statement, {**values, "id": row_id}).first() is not None:
            return row_id
        ids.taken(row_id)
    raise RuntimeError(f"no free id for a row of {table.name}")


# Where a sent row keeps the file published for the provider to fetch (a document).
SENT_FILE = "file"


def forget_rows(session: Session, rows: Any, count: int = 1, **values: Any) -> None:
    """Outbox rows whose recipient must be forgotten: marked confidential, those already sent,
    held or given up deleted (with the document files published for them), the rest unlinked
    from their messages (and deleted once sent). Marking first takes the rows' locks, so a
    dispatcher recording a send finishes first and what it recorded is then seen and deleted.
    `count`: the ids `rows` names (`among`)."""
    execute_many(session, update(OutboxItem).where(rows).values(confidential=True, **values), count)
    done = col(OutboxItem.status).in_(("sent", "waiting", "failed"))
    published = select(OutboxItem.options).where(
        rows, done, sql_cast(OutboxItem.options, String).like(f'%"{SENT_FILE}"%')
    )
    forget_files(session, [options.get(SENT_FILE) for options in session.exec(published).all()])
    execute_many(session, delete(OutboxItem).where(rows, done), count)
    execute_many(session, update(OutboxItem).where(rows).values(message_id=None), count)


def _insert(session: Session, table: type):
    """INSERT with ON CONFLICT support, for the session's dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _row(entity, table) -> dict:
    """An unsaved entity's column values, for a plain INSERT."""
    return {c.name: getattr(entity, c.name) for c in table.columns if c.name != "id"}


def _filtered(query, case_type, topic, municipality, assignee_id):
    """A case query narrowed by the filters staff use (those given)."""
    if case_type:
        query = query.where(Case.type == case_type)
    if topic:
        query = query.where(Case.topic == topic)
    if municipality:
        query = query.where(func.lower(Case.municipality) == municipality.lower())
    if assignee_id is not None:
        query = query.where(Case.assignee_id == assignee_id)
    return query


_FOLIO = re.compile(r"[A-Z]{1,6}-\d{4}-\d+")

# The statements of every message's transaction and of the outbox, built once: building one
# (and its cache key) costs more than its compiled form is worth to look up.
_OUTBOX = OutboxItem.__table__
# A person who writes, with what their turn needs next, in one statement: their place in the
# dialogue, their last message and the last row queued for them (what is written now is
# numbered after both, see `after_contact`), and whether replies wait for them to write (see
# `release_waiting`).
_STATE = ConversationState.__table__
_CONTACT_ARRIVING = (
    sql_select(
        Contact,
        _STATE.c.step,
        _STATE.c.data,
        _STATE.c.updated_at,
        sql_select(func.max(Message.__table__.c.id))
        .where(Message.__table__.c.contact_id == Contact.__table__.c.id)
        .scalar_subquery(),
        sql_select(func.max(_OUTBOX.c.id))
        .where(
            _OUTBOX.c.channel == Contact.__table__.c.channel,
            _OUTBOX.c.address == Contact.__table__.c.address,
        )
        .scalar_subquery(),
        exists()
        .where(
            _OUTBOX.c.channel == Contact.__table__.c.channel,
            _OUTBOX.c.address == Contact.__table__.c.address,
            _OUTBOX.c.status == "waiting",
        )
        .label("waiting"),
    )
    .outerjoin(_STATE, _STATE.c.contact_id == Contact.id)
    .where(Contact.channel == bindparam("channel"), Contact.address == bindparam("address"))
)
# A contact's place in the dialogue, read and written by plain statements
# (`ConversationRepository`).
_READ_STATE = sql_select(_STATE.c.step, _STATE.c.data, _STATE.c.updated_at).where(
    _STATE.c.contact_id == bindparam("contact_id")
)
_STATE_VALUES = {
    "step": bindparam("s_step", type_=_STATE.c.step.type),
    "data": bindparam("s_data", type_=_STATE.c.data.type),
    "updated_at": bindparam("s_updated_at", type_=_STATE.c.updated_at.type),
}
_OF_CONTACT = _STATE.c.contact_id == bindparam("s_contact_id", type_=_STATE.c.contact_id.type)
_WRITE_STATE = {
    "insert": _STATE.insert().values(contact_id=_OF_CONTACT.right, **_STATE_VALUES),
    "update": _STATE.update().where(_OF_CONTACT).values(**_STATE_VALUES),
    "delete": _STATE.delete().where(_OF_CONTACT),
}
# A person's most recent case that waits for them to answer (`CaseRepository.waiting_for`).
_WAITING_FOR = (
    select(Case)
    .where(Case.contact_id == bindparam("contact_id"), Case.status == "esperando_ciudadano")
    .order_by(col(Case.id).desc())
    .limit(1)
)
# Their turns come one at a time: the contact's row lock (PostgreSQL; SQLite's write
# transactions are serial already).
_CONTACT_LOCK = (
    sql_select(Contact.__table__.c.id)
    .where(Contact.channel == bindparam("channel"), Contact.address == bindparam("address"))
    .with_for_update()
)
# Recipients this transaction knows have no reply waiting for them (`release_waiting`).
_NONE_WAITING = "none_waiting"
# Each contact's last message or queued row, read with the contact (`after_contact`).
_NUMBERED = "numbered_contacts"
# Each contact's place in the dialogue, read once per transaction (`ConversationRepository`).
_STATES = "conversation_states"


_RELEASE_WAITING = (
    OutboxItem.__table__.update()
    .where(
        OutboxItem.__table__.c.channel == bindparam("of_channel"),
        OutboxItem.__table__.c.address == bindparam("of_address"),
        OutboxItem.__table__.c.status == "waiting",
    )
    .values(status="pending", next_attempt_at=bindparam("now"), window_until=bindparam("window"))
)
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}
_MESSAGES = Message.__table__
_ATTACHMENTS = Attachment.__table__
# A draft's messages and their attachments joining the case opened from it.
_ATTACH_MESSAGES = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
    .values(case_id=bindparam("case_id"))
)
_ATTACH_ATTACHMENTS = (
    update(_ATTACHMENTS)
    .where(_ATTACHMENTS.c.message_id.in_(bindparam("ids", expanding=True)))
    .values(case_id=bindparam("case_id"))
)
# An incoming message, or nothing when the provider delivered it already, or when its id was
# taken (by another process, in the same microsecond): with no conflict target, either.
_INSERT_INCOMING = {
    name: dialect.insert(_MESSAGES).on_conflict_do_nothing().returning(_MESSAGES.c.id)
    for name, dialect in _DIALECTS.items()
}
# A row of a table numbered by time, or nothing when its id was taken.
_INSERT_TIMED = {
    name: {
        table.name: dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
        for table in (
            Message.__table__,
            Attachment.__table__,
            OutboxItem.__table__,
            CaseEvent.__table__,
        )
    }
    for name, dialect in _DIALECTS.items()
}
_INSERT_MESSAGE = Message.__table__.insert()


def _reply_statement(state: str | None = None) -> Any:
    """A reply's message and its outbox row in one statement (PostgreSQL): the row is written
    only if its message was. Each is numbered by time, and either id may have been taken by
    another process's row: the statement gives back the ids written (None for one that was
    not). Parameters: the columns' names prefixed with "m_" and "o_". With `state`, the
    person's place in the dialogue is written in it too (`_WRITE_STATE`, storage/deferred.py)."""
    message = (
        postgresql.insert(_MESSAGES)
        .values({c.name: bindparam(f"m_{c.name}", type_=c.type) for c in _MESSAGES.c})
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_MESSAGES.c.id)
        .cte("message")
    )
    row = sql_select(*(bindparam(f"o_{c.name}", type_=c.type) for c in _OUTBOX.c)).select_from(
        message
    )
    queued = (
        postgresql.insert(_OUTBOX)
        .from_select([c.name for c in _OUTBOX.c], row)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_OUTBOX.c.id)
        .cte("queued")
    )
    statement = sql_select(
        sql_select(message.c.id).scalar_subquery(), sql_select(queued.c.id).scalar_subquery()
    )
    return statement if state is None else statement.add_cte(_WRITE_STATE[state].cte("state"))


_INSERT_REPLY = {state: _reply_statement(state) for state in (None, *_WRITE_STATE)}
# The last row queued for a recipient (read from ix_outbox_recipient alone).
_LAST_FOR_RECIPIENT = text(
    "SELECT max(id) FROM outbox WHERE channel = :channel AND address = :address"
)
# A person's address, their last message and the last row queued for them, in one statement
# (read from ix_messages_contact_id and ix_outbox_recipient alone).
_LAST_OF_CONTACT = text(
    "SELECT c.channel, c.address, (SELECT max(m.id) FROM messages m WHERE m.contact_id = c.id),"
    " (SELECT max(o.id) FROM outbox o WHERE o.channel = c.channel AND o.address = c.address)"
    " FROM contacts c WHERE c.id = :contact_id"
)


def after_contact(session: Session, ids: IdClock, contact_id: int) -> None:
    """Number what comes now from or for a person after every message of theirs and every row
    queued for them, even those numbered by a process whose clock runs ahead of this one's (the
    contact is locked: their turns come one at a time). Rows go out, and are listed, by id."""
    known = session.info.get(_NUMBERED, {}).get(contact_id)
    if known is None:
        found = connection_of(session).execute(_LAST_OF_CONTACT, {"contact_id": contact_id}).first()
        if found is None:
            return
        channel, address, message, queued = cast(tuple[str, str, int | None, int | None], found)
        known = (channel, address, max(message or 0, queued or 0))
    channel, address, last = known
    _in_line(session).add((channel, address))
    ids.taken(last)


def after_recipient(session: Session, ids: IdClock, channel: str, address: str) -> None:
    """Number what is queued now for a recipient after every row queued for them before
    (looked up once per transaction; see `after_contact`)."""
    if (channel, address) in _in_line(session):
        return
    _in_line(session).add((channel, address))
    at = {"channel": channel, "address": address}
    ids.taken(connection_of(session).execute(_LAST_FOR_RECIPIENT, at).scalar() or 0)


def _in_line(session: Session) -> set[tuple[str, str]]:
    """The recipients this transaction numbers after their earlier rows already."""
    return session.info.setdefault("in_line", set())


def _state(
    contact_id: int, step: str | None, data: dict | None, updated_at: datetime | None
) -> DialogueState | None:
    """A contact's place in the dialogue as read (None: no row)."""
    if step is None or data is None or updated_at is None:
        return None
    return DialogueState(contact_id, step, data, updated_at)


def transaction_ended(session: Session) -> None:
    """Forget what was known only for the transaction that ended (what `get_or_create` read)."""
    session.info.pop(_NONE_WAITING, None)
    session.info.pop(_NUMBERED, None)


class ContactRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_or_create(self, channel: str, address: str, now: datetime) -> Contact:
        """The contact for this channel and address, created on first sight, and locked until
        the transaction ends, so that two messages from one person are handled one at a time.
        What the turn reads next about them comes in the same statement (`_CONTACT_ARRIVING`)."""
        at = {"channel": channel, "address": address}
        found = self._arriving(at)
        if found is None:
            statement = (
                _insert(self.session, Contact)
                .values(channel=channel, address=address, created_at=day_start(now))
                .on_conflict_do_nothing(index_elements=["channel", "address"])
            )
            self.session.exec(statement)
            found = self._arriving(at)
            assert found is not None, "a contact just written or found is there"
        contact, step, data, updated_at, message, queued, waiting = tuple(found)
        info = self.session.info
        info.setdefault(_STATES, {})[contact.id] = _state(contact.id, step, data, updated_at)
        info.setdefault(_NUMBERED, {})[contact.id] = (
            channel,
            address,
            max(message or 0, queued or 0),
        )
        if not waiting:
            info.setdefault(_NONE_WAITING, set()).add((channel, address))
        return contact

    def _arriving(self, at: dict[str, str]) -> Any:
        """The contact's row of `_CONTACT_ARRIVING`, locked first on PostgreSQL by a statement of
        its own. A statement reads every table as it was when the statement began, whenever it
        gets its lock: one that waited reads the dialogue's step as it was before the turn it
        waited for saved it, and so does one that takes the lock in the same statement even
        without waiting (NOWAIT), when that turn commits between the statement's start and its
        lock (found under load by an outside test: a reply made from the step before). The read
        after the lock is a new statement, which sees what that turn committed."""
        locking = self.session.get_bind().dialect.name == "postgresql"
        if locking and self.session.execute(_CONTACT_LOCK, at).first() is None:
            return None
        return self.session.execute(_CONTACT_ARRIVING, at).first()

    def find(self, channel: str, address: str) -> Contact | None:
        """The contact at this channel and address, if there is one (nothing is created)."""
        return self.session.exec(
            select(Contact).where(Contact.channel == channel, Contact.address == address)
        ).first()

    def erase(self, contact: Contact) -> None:
        """Forget who the contact is: the address becomes a random token, the rest is cleared."""
        contact.address = f"{ERASED}{secrets.token_hex(16)}"
        contact.name = contact.gender = contact.age = contact.consented_at = None
        contact.folio_misses_since = contact.folio_blocked_until = None
        contact.folio_misses = 0
        self.session.add(contact)

    def get(self, contact_id: int) -> Contact | None:
        return self.session.get(Contact, contact_id)

    def erase_all(self, contact_ids: list[int]) -> None:
        """erase() for many contacts in one statement: each address becomes a random token
        made by the database."""
        if not contact_ids:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            token: Any = func.replace(sql_cast(func.gen_random_uuid(), String), "-", "")
        else:
            token = func.lower(func.hex(func.randomblob(16)))
        execute_many(
            self.session,
            update(Contact)
            .where(among(self.session, Contact.id, contact_ids))
            .values(
                address=literal(ERASED, String) + token,
                name=None,
                gender=None,
                age=None,
                consented_at=None,
                folio_misses_since=None,
                folio_blocked_until=None,
                folio_misses=0,
            ),
            len(contact_ids),
        )

    def inactive(self, since: datetime) -> list[int]:
        """The ids of the contacts not erased yet, first seen before the instant, with no case
        linked to them and no message or conversation step since; locked, skipping any being
        written to now."""
        case = exists().where(Case.contact_id == Contact.id)
        message = exists().where(Message.contact_id == Contact.id, col(Message.created_at) >= since)
        step = exists().where(
            ConversationState.contact_id == Contact.id, col(ConversationState.updated_at) >= since
        )
        query = select(Contact.id).where(
            ~col(Contact.address).startswith(ERASED),
            col(Contact.created_at) < since,
            ~case,
            ~message,
            ~step,
        )
        query = query.order_by(col(Contact.id)).with_for_update(skip_locked=True)
        return [contact_id for contact_id in self.session.exec(query) if contact_id is not None]


class ConversationRepository:
    """Where each contact is in the dialogue: read once per transaction (a contact arriving
    brings it along, see `ContactRepository.get_or_create`) and written by plain statements
    (every message's turn saves one, and the ORM's flush costs more than the statement); on
    PostgreSQL in the statement of the turn's reply (storage/deferred.py)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._states: dict[int, DialogueState | None] = session.info.setdefault(_STATES, {})

    def get(self, contact_id: int) -> DialogueState | None:
        if contact_id not in self._states:
            found = (
                connection_of(self.session).execute(_READ_STATE, {"contact_id": contact_id}).first()
            )
            self._states[contact_id] = _state(contact_id, *found) if found else None
        return self._states[contact_id]

    def save(self, contact_id: int, step: str, data: dict, now: datetime) -> None:
        """Store where the contact is in the dialogue."""
        known = self.get(contact_id)
        self.session.flush()  # the contact's row first, when it is new to the session
        values = {"s_step": step, "s_data": dict(data), "s_updated_at": now}
        self._write("insert" if known is None else "update", contact_id, values)
        self._states[contact_id] = DialogueState(contact_id, step, values["s_data"], now)

    def delete(self, contact_id: int) -> None:
        if self.get(contact_id) is not None:
            self._write("delete", contact_id, {})
        self._states[contact_id] = None

    def _write(self, kind: str, contact_id: int, values: dict[str, Any]) -> None:
        """On PostgreSQL the write waits for the turn's reply, to go in its statement
        (storage/deferred.py); on SQLite, where a statement is no round trip, it goes now."""
        params = {"s_contact_id": contact_id, **values}
        if self.session.get_bind().dialect.name == "postgresql":
            defer(self.session, kind, _WRITE_STATE[kind], params)
        else:
            connection_of(self.session).execute(_WRITE_STATE[kind], params)

    def delete_all(self, contact_ids: list[int]) -> None:
        """delete() for many contacts in one statement."""
        if not contact_ids:
            return
        state = ConversationState.contact_id
        statement = delete(ConversationState).where(among(self.session, state, contact_ids))
        execute_many(self.session, statement, len(contact_ids))
        self._states.update(dict.fromkeys(contact_ids))


class CaseRepository:
    def __init__(self, session: Session, ids: IdClock = PROCESS_IDS) -> None:
        self.session = session
        self.ids = ids

    def next_folio_number(self, prefix: str, year: int) -> int:
        """The year's next number, never shared by concurrent writers (storage/folios.py)."""
        return next_number(self.session, prefix, year)

    def add(self, case: Case, *, detached: bool = False) -> Case:
        """Insert the case; a detached one (anonymous) is numbered out of sequence."""
        if detached:
            case.id = detached_id(self.session, Case.__table__)
        self.session.add(case)
        self.session.flush()
        return case

    def get(self, case_id: int) -> Case | None:
        return self.session.get(Case, case_id)

    def by_folio(self, folio: str, *, lock: bool = False) -> Case | None:
        """The case with this folio; `lock` takes its row lock (FOR UPDATE on PostgreSQL;
        SQLite's write transactions are serial already)."""
        query = select(Case).where(Case.folio == folio)
        if lock:
            query = query.with_for_update()
        return self.session.exec(query).first()

    def by_secret_code_hash(self, code_hash: str) -> Case | None:
        return self.session.exec(select(Case).where(Case.secret_code_hash == code_hash)).first()

    def for_contact(self, contact_id: int | None) -> Sequence[Case]:
        if contact_id is None:
            return []  # a number with no row has no case (not those no one's any more)
        return self.session.exec(
            select(Case).where(Case.contact_id == contact_id).order_by(col(Case.id))
        ).all()

    def search(
        self,
        *,
        status: str | None = None,
        case_type: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        topic: str | None = None,
        municipality: str | None = None,
        assignee_id: int | None = None,
    ) -> Sequence[Case]:
        """Cases matching every filter given, oldest first."""
        query = _filtered(select(Case), case_type, topic, municipality, assignee_id)
        if status:
            query = query.where(Case.status == status)
        if created_from:
            query = query.where(Case.created_at >= created_from)
        if created_to:
            query = query.where(Case.created_at < created_to)
        return self.session.exec(query.order_by(col(Case.id))).all()

    def queue(
        self,
        statuses: Sequence[str],
        *,
        case_type: str | None = None,
        topic: str | None = None,
        municipality: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        limit: int | None = None,
    ) -> Sequence[Case]:
        """Cases in these statuses, emergencias first, then urgentes, then prioritised ones,
        then by nearest deadline."""
        rank = sql_case(
            (col(Case.urgency) == "emergencia", 0), (col(Case.urgency) == "urgente", 1), else_=2
        )
        query = _filtered(select(Case), case_type, topic, municipality, assignee_id)
        query = query.where(col(Case.status).in_(statuses))
        if unassigned:
            query = query.where(col(Case.assignee_id).is_(None))
        query = query.order_by(rank, col(Case.prioritised).desc(), col(Case.due_at), col(Case.id))
        return self.session.exec(query.limit(limit)).all()

    def waiting_for(self, contact_id: int) -> Case | None:
        """The person's most recent case that waits for them to answer."""
        return self.session.exec(_WAITING_FOR, params={"contact_id": contact_id}).first()

    def append_details(self, case_id: int, text: str, location: dict | None) -> None:
        """Add what a person sent after the case was opened to its description and place."""
        case = self.session.get(Case, case_id)
        if case is None:
            return
        if text and len(case.description) + len(text) < MAX_DESCRIPTION:
            case.description = f"{case.description}\n{text}"
        if location and case.latitude is None:
            case.latitude, case.longitude = location["latitude"], location["longitude"]
            case.location_text = case.location_text or location.get("address")
        self.session.add(case)

    def expired(self, statuses: Sequence[str], closed_before: datetime) -> list[tuple[int, str]]:
        """(id, folio) of the cases in these statuses closed before the instant and not
        anonymised yet, in id order (tuples: a first run reads most of the table)."""
        done = exists().where(
            CaseEvent.case_id == Case.id, CaseEvent.kind == "retention_anonymised"
        )
        query = select(Case.id, Case.folio).where(
            col(Case.status).in_(statuses), col(Case.closed_at) < closed_before, ~done
        )
        rows = self.session.exec(query.order_by(col(Case.id)))
        return [(case_id, folio) for case_id, folio in rows if case_id is not None]

    def add_events(
        self, case_ids: list[int], at: datetime, *, actor: str, kind: str, public: bool
    ) -> None:
        """The same event on many cases, in one statement. The events are numbered by time
        from this instant on, one microsecond apart (they are no one's conversation: nothing
        moves out from among them), and the process's ids go on after the last of them."""
        if not case_ids:
            return
        events = CaseEvent.__table__
        first = self.ids.next()
        self.ids.taken(first + len(case_ids))
        position = func.row_number().over(order_by=Case.__table__.c.id)
        values = sql_select(
            literal(first, events.c.id.type) + position,
            Case.__table__.c.id,
            literal(at, events.c.at.type),
            literal(actor, String),
            literal(kind, String),
            literal(public, events.c.public.type),
        ).where(among(self.session, Case.id, case_ids))
        columns = ["id", "case_id", "at", "actor", "kind", "public"]
        self.session.execute(insert(events).from_select(columns, values))

    def anonymise(self, case_ids: list[int], placeholder: str) -> None:
        """Clear what identifies anyone in these cases (sender, text, place, codes, notes); the
        figures the reports count stay: type, topic, channel, dates, municipality, gender, age."""
        if not case_ids:
            return
        many = len(case_ids)
        execute_many(
            self.session,
            update(Case)
            .where(among(self.session, Case.id, case_ids))
            .values(
                contact_id=None,
                description=placeholder,
                location_text=None,
                latitude=None,
                longitude=None,
                resolution=None,
                secret_code_hash=None,
            ),
            many,
        )
        events = among(self.session, CaseEvent.case_id, case_ids)
        execute_many(self.session, update(CaseEvent).where(events).values(note=None), many)

    def folio_of_message(self, message_id: int) -> str | None:
        """The folio of the case a message belongs to, if it belongs to one."""
        query = select(Case.folio).join(Message, col(Message.case_id) == col(Case.id))
        return self.session.exec(query.where(Message.id == message_id)).first()

    def add_event(self, event: CaseEvent, *, detached: bool = False) -> None:
        """Append to a case's trail, numbered by time (`detached`: out of sequence, see
        `detached_id`)."""
        table = CaseEvent.__table__
        values = _row(event, table)
        if detached:
            event.id = detached_id(self.session, table)
            self.session.execute(table.insert(), {**values, "id": event.id})
        else:
            event.id = insert_timed(self.session, self.ids, table, values)

    def events(self, case_id: int, *, public_only: bool = False) -> Sequence[CaseEvent]:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id)
        if public_only:
            query = query.where(CaseEvent.public == True)  # noqa: E712
        return self.session.exec(query.order_by(col(CaseEvent.id))).all()

    def count(self) -> int:
        return int(self.session.exec(select(func.count()).select_from(Case)).one())

    def latest_events(self, kind: str) -> list[tuple[Case, CaseEvent]]:
        """Every case with an event of this kind, paired with its latest such event."""
        rows = self.session.exec(
            select(Case, CaseEvent)
            .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
            .where(CaseEvent.kind == kind)
            .order_by(col(Case.id), col(CaseEvent.id))
        ).all()
        return list({case.id: (case, event) for case, event in rows}.values())


class MessageRepository:
    def __init__(self, session: Session, ids: IdClock = PROCESS_IDS) -> None:
        self.session = session
        self.ids = ids

    def add_incoming(self, message: dict[str, Any]) -> int | None:
        """Store an incoming message (its column values, `row_values`), numbered by time; its
        id, or None when the provider already delivered it."""
        statement = _INSERT_INCOMING[self.session.get_bind().dialect.name]
        if message["contact_id"] is not None:
            after_contact(self.session, self.ids, message["contact_id"])
        self.session.flush()  # what the ORM holds goes first: the row may refer to it
        connection = connection_of(self.session)
        for _ in range(MAX_DRAWS):
            row_id = self.ids.next()
            if connection.execute(statement, {**message, "id": row_id}).first() is not None:
                return row_id
            if self._delivered(message):
                return None
            self.ids.taken(row_id)  # another process's row, written in the same microsecond
        raise RuntimeError("no free id for a message")

    def _delivered(self, message: dict[str, Any]) -> bool:
        """Whether a message with this one's provider id is stored already."""
        if message["provider_id"] is None:
            return False
        query = select(Message.id).where(
            Message.channel == message["channel"],
            Message.direction == message["direction"],
            Message.provider_id == message["provider_id"],
        )
        return self.session.exec(query).first() is not None

    def attach_to_case(self, message_ids: Iterable[int], case_id: int) -> None:
        """Link messages (a draft's, a follow-up) and their attachments to the case."""
        ids = list(message_ids)
        if not ids:
            return
        # Two plain UPDATEs built once (the ORM's bulk update was most of opening a case); the
        # session's copies of these rows, if any, read their case again when used.
        self.session.flush()
        connection = connection_of(self.session)
        connection.execute(_ATTACH_MESSAGES, {"ids": ids, "case_id": case_id})
        connection.execute(_ATTACH_ATTACHMENTS, {"ids": ids, "case_id": case_id})
        wanted = set(ids)
        for held in list(self.session.identity_map.values()):
            if (isinstance(held, Message) and held.id in wanted) or (
                isinstance(held, Attachment) and held.message_id in wanted
            ):
                self.session.expire(held, ["case_id"])

    def after_last_filed(self, contact_id: int, *, before: int, since: datetime) -> int:
        """The id from which the contact's conversation before message `before` runs: after
        their last message filed with a case, and not before the instant."""
        filed = select(func.max(Message.id)).where(
            Message.contact_id == contact_id,
            col(Message.case_id).is_not(None),
            col(Message.id) < before,
            col(Message.id) > 0,
        )
        recent = select(func.min(Message.id)).where(
            Message.contact_id == contact_id,
            col(Message.created_at) >= since,
            col(Message.id) > 0,
        )
        last_filed = self.session.exec(filed).one() or 0
        first_recent = self.session.exec(recent).one() or before
        return max(last_filed + 1, first_recent)

    def unfiled(self, contact_id: int, *, from_id: int, also: Iterable[int]) -> list[Message]:
        """The contact's messages, both ways, that belong to no case, from this one on, with
        these others; oldest first."""
        mine = (
            (col(Message.contact_id) == contact_id)
            & col(Message.case_id).is_(None)
            & (col(Message.id) >= from_id)
        )
        also = list(also)
        if also:
            mine = mine | col(Message.id).in_(also)
        return list(self.session.exec(select(Message).where(mine).order_by(col(Message.id))))

    def answers_about_cases(
        self, contact_id: int, *, from_id: int, at: Iterable[datetime]
    ) -> list[Message]:
        """The contact's replies, from this message on, that belong to a case and were written
        at one of these instants (the answers to questions asked then about a case)."""
        instants = list(at)
        if not instants:
            return []
        query = select(Message).where(
            Message.contact_id == contact_id,
            Message.direction == "out",
            col(Message.case_id).is_not(None),
            col(Message.id) >= from_id,
            col(Message.created_at).in_(instants),
        )
        return list(self.session.exec(query.order_by(col(Message.id))))

    def detach(
        self,
        message_ids: list[int],
        case_id: int | None,
        day: datetime,
        key: Callable[[int, str], str] | None = None,
    ) -> None:
        """Keep these messages (and their attachments) with no sender, no provider id and only
        their day, as new rows numbered out of sequence (see `detached_id`); with a case, they
        join it, and `key` (the case's id and a file's hash: its keyed hash) keeps their stored
        files apart (see `file_apart`). Their outbox rows must be unlinked first."""
        if not message_ids:
            return
        self.session.flush()  # what the ORM holds of them goes first
        messages, attachments = Message.__table__, Attachment.__table__
        for old in sorted(message_ids):
            row = dict(
                self.session.execute(select(messages).where(messages.c.id == old)).mappings().one()
            )
            new = detached_id(self.session, messages)
            kept_case = row["case_id"] if case_id is None else case_id
            moved = {
                "contact_id": None,
                "provider_id": None,
                "created_at": day,
                "case_id": kept_case,
            }
            self.session.execute(messages.insert().values(**{**row, **moved, "id": new}))
            files = self.session.execute(
                select(attachments).where(attachments.c.message_id == old)
            ).mappings()
            for file in [dict(file) for file in files]:
                values: dict[str, Any] = {"id": detached_id(self.session, attachments)}
                values |= {"message_id": new, "case_id": kept_case, "created_at": day}
                if key is not None and kept_case is not None and file["local_path"]:
                    by_case = functools.partial(key, kept_case)
                    path, digest = file_apart(
                        self.session, file["local_path"], file["sha256"] or "", by_case
                    )
                    values |= {"local_path": path, "sha256": digest}
                self.session.execute(attachments.insert().values(**{**file, **values}))
            self.session.execute(attachments.delete().where(attachments.c.message_id == old))
            self.session.execute(messages.delete().where(messages.c.id == old))
        gone = set(message_ids)
        for held in list(self.session.identity_map.values()):
            if (
                isinstance(held, Message)
                and held.id in gone
                or (isinstance(held, Attachment) and held.message_id in gone)
            ):
                self.session.expunge(held)

    def clear_repeats(
        self, contact_id: int, message_ids: list[int], *, min_length: int, placeholder: str
    ) -> None:
        """Of the contact's other messages in no case, clear the text of those that said what
        one of these (incoming, of at least `min_length` characters) says, and delete their
        attachments whose content is one of these' (each file once no other row uses it, after
        the commit): what a draft dropped earlier left that would match an anonymous case's
        words or photo.
        Call it before these messages are detached (their hashes are still the content's)."""
        if not message_ids:
            return
        self.session.flush()
        connection = connection_of(self.session)
        said = connection.execute(
            select(Message.body).where(col(Message.id).in_(message_ids), Message.direction == "in")
        ).scalars()
        bodies = sorted({body for body in said if len(body.strip()) >= min_length})
        digests: list[str] = sorted(
            connection.execute(
                select(Attachment.sha256).where(
                    col(Attachment.message_id).in_(message_ids),
                    col(Attachment.sha256).is_not(None),
                )
            ).scalars()
        )
        # Outside any case (a draft dropped, words said at the menu): a named case keeps its
        # evidence, which staff work with.
        others = (
            (col(Message.contact_id) == contact_id)
            & col(Message.case_id).is_(None)
            & col(Message.id).not_in(message_ids)
        )
        cleared: list[int] = []
        if bodies:
            repeated = select(Message.id).where(
                others, Message.direction == "in", col(Message.body).in_(bodies)
            )
            cleared = list(connection.execute(repeated).scalars())
            if cleared:
                connection.execute(
                    update(Message).where(col(Message.id).in_(cleared)).values(body=placeholder)
                )
        dropped: list[int] = []
        if digests:
            theirs = select(Message.id).where(others)
            same = col(Attachment.message_id).in_(theirs) & col(Attachment.sha256).in_(digests)
            found = connection.execute(select(Attachment.id, Attachment.local_path).where(same))
            rows = cast(list[tuple[int, str | None]], list(found))
            dropped = [row_id for row_id, _ in rows]
            forget_files(self.session, [path for _, path in rows])
            if dropped:
                connection.execute(delete(Attachment).where(col(Attachment.id).in_(dropped)))
        for held in list(self.session.identity_map.values()):
            if isinstance(held, Message) and held.id in cleared:
                self.session.expire(held, ["body"])
            elif isinstance(held, Attachment) and held.id in dropped:
                self.session.expunge(held)

    def delete(self, message_ids: list[int]) -> None:
        """Delete these messages and their attachments (their outbox rows must be unlinked
        first): what must not be kept at all."""
        if not message_ids:
            return
        self.session.flush()
        gone = set(message_ids)
        for held in list(self.session.identity_map.values()):
            if isinstance(held, Message) and held.id in gone:
                self.session.expunge(held)
        many = len(message_ids)
        files = select(Attachment.local_path).where(
            among(self.session, Attachment.message_id, message_ids),
            col(Attachment.local_path).is_not(None),
        )
        forget_files(self.session, self.session.exec(files).all())
        attachments = delete(Attachment).where(
            among(self.session, Attachment.message_id, message_ids)
        )
        execute_many(self.session, attachments, many)
        execute_many(
            self.session, delete(Message).where(among(self.session, Message.id, message_ids)), many
        )

    def replace_body(self, message_id: int, body: str) -> None:
        """Keep a message (a redelivery is still recognised) but not what it said."""
        self.session.execute(update(Message).where(col(Message.id) == message_id).values(body=body))

    def erase_conversation(
        self, contact_ids: list[int], case_ids: list[int], placeholder: str
    ) -> None:
        """Clear the text of every message to or from these contacts or about these cases
        (staff alerts included), their attachments' references and their outbox copies."""
        if not (contact_ids or case_ids):
            return
        many = max(len(contact_ids), len(case_ids))
        mine: Any = among(self.session, Message.contact_id, contact_ids) if contact_ids else false()
        if case_ids:
            mine = mine | among(self.session, Message.case_id, case_ids)
        ids = select(Message.id).where(mine).scalar_subquery()
        files = select(Attachment.local_path).where(
            col(Attachment.message_id).in_(ids), col(Attachment.local_path).is_not(None)
        )
        forget_files(self.session, self.session.exec(files).all())
        execute_many(
            self.session,
            update(Attachment)
            .where(col(Attachment.message_id).in_(ids))
            .values(provider_ref=placeholder, local_path=None, sha256=None),
            many,
        )
        # Replies already sent or given up leave the outbox; one still to send (the answer to
        # the erasure itself) keeps its recipient until it is sent, and is then deleted.
        forget_rows(self.session, col(OutboxItem.message_id).in_(ids), many, body=placeholder)
        execute_many(
            self.session,
            update(Message).where(mine).values(body=placeholder, contact_id=None, provider_id=None),
            many,
        )

    def erase_mentions(self, folios: list[str], placeholder: str) -> None:
        """Clear the text of messages that name these folios (staff commands about the cases,
        which may quote the citizen)."""
        if not folios:
            return
        # One pass over the messages for all the folios (not one per folio): those that may
        # name a folio (they hold "-<year>-"), then which of them name one of these.
        wanted = set(folios)
        years = {folio.split("-")[1] for folio in folios if folio.count("-") >= 2}
        maybe: Any = false()
        for year in years:
            maybe = maybe | col(Message.body).contains(f"-{year}-")
        # Read as plain rows (the ORM's handling of each of a million rows cost more than the
        # reading), after the session's pending changes are written.
        self.session.flush()
        rows: Any = connection_of(self.session).execute(
            select(Message.id, Message.body).where(maybe)
        )
        naming = [
            message_id for message_id, body in rows if wanted.intersection(_FOLIO.findall(body))
        ]
        if naming:
            statement = update(Message).where(among(self.session, Message.id, naming))
            execute_many(self.session, statement.values(body=placeholder), len(naming))

    def last_incoming_at(self, channel: str, address: str) -> datetime | None:
        """When the person at this address last wrote (in a conversation linked to them)."""
        query = (
            select(func.max(Message.created_at))
            .join(Contact, col(Contact.id) == col(Message.contact_id))
            .where(
                Contact.channel == channel,
                Contact.address == address,
                Message.direction == "in",
            )
        )
        return self.session.exec(query).one()

    def set_delivery_status(self, channel: str, provider_id: str, status: str) -> bool:
        """Record a provider's delivery report for an outgoing message; False if unknown."""
        message = self.session.exec(
            select(Message).where(
                Message.channel == channel,
                Message.direction == "out",
                Message.provider_id == provider_id,
            )
        ).first()
        if message is None:
            return False
        if DELIVERY_RANK.get(status, 0) >= DELIVERY_RANK.get(message.status, 0):
            message.status = status
            self.session.add(message)
        return True

    def pending_downloads(
        self, channels: Sequence[str], limit: int
    ) -> Sequence[tuple[Attachment, str]]:
        """Attachments of these channels whose file has not been fetched yet, oldest first."""
        query = (
            select(Attachment, Message.channel)
            .join(Message, col(Message.id) == col(Attachment.message_id))
            .where(Attachment.status == "pending", col(Message.channel).in_(channels))
            .order_by(col(Attachment.id))
            .limit(limit)
        )
        return self.session.exec(query).all()

    def keep_apart(self, attachment: Attachment, key: Callable[[int, str], str]) -> None:
        """A file just stored for an anonymous case (negative ids: see `detached_id`) is kept
        apart from the same content sent elsewhere, as `detach` does (`file_apart`)."""
        case_id = attachment.case_id
        if case_id is None or case_id >= 0 or not attachment.local_path:
            return
        attachment.local_path, attachment.sha256 = file_apart(
            self.session,
            attachment.local_path,
            attachment.sha256 or "",
            functools.partial(key, case_id),
        )

    def stored_media_paths(self) -> set[str]:
        """Every downloaded file some attachment still refers to."""
        query = select(Attachment.local_path).where(col(Attachment.local_path).is_not(None))
        return set(self.session.exec(query).all())

    def get_attachment(self, attachment_id: int) -> Attachment | None:
        return self.session.get(Attachment, attachment_id)

    def count_for_contact(self, contact_id: int) -> int:
        query = select(func.count()).select_from(Message).where(Message.contact_id == contact_id)
        return int(self.session.exec(query).one())

    def for_contact(self, contact_id: int, *, last: int | None = None) -> list[Message]:
        """A contact's messages, oldest first; only the latest `last` when given."""
        query = select(Message).where(Message.contact_id == contact_id)
        rows = self.session.exec(query.order_by(col(Message.id).desc()).limit(last)).all()
        return list(reversed(rows))

    def for_case(self, case_id: int) -> Sequence[Message]:
        return self.session.exec(
            select(Message).where(Message.case_id == case_id).order_by(col(Message.id))
        ).all()

    def add_attachment(self, attachment: Attachment) -> None:
        """Keep an attachment of a message, numbered by time."""
        table = Attachment.__table__
        attachment.id = insert_timed(self.session, self.ids, table, _row(attachment, table))

    def attachments_for_case(
        self, case_id: int, *, citizens_only: bool = False
    ) -> Sequence[Attachment]:
        """A case's files in order; `citizens_only`: not those staff sent (a visit's photos)."""
        query = select(Attachment).where(Attachment.case_id == case_id)
        if citizens_only:
            sent_by_staff = select(Message.id).where(
                col(Message.case_id) == case_id, col(Message.to_staff)
            )
            query = query.where(col(Attachment.message_id).not_in(sent_by_staff))
        return self.session.exec(query.order_by(col(Attachment.id))).all()


# Where a session notes the stored files whose attachments it erased (see UnitOfWork.commit).
FILES_TO_FORGET = "files_to_forget"


def forget_files(session: Session, paths: Iterable[str | None]) -> None:
    """These downloaded files lose their attachment in this transaction: once it commits, each
    that no other attachment still uses is deleted (UnitOfWork.commit)."""
    session.info.setdefault(FILES_TO_FORGET, set()).update(path for path in paths if path)


def file_apart(
    session: Session, path: str, digest: str, key: Callable[[str], str]
) -> tuple[str, str]:
    """An anonymous case's copy of a stored file: named and hashed by `key` of its content's
    hash (keyed per case), so that no join on the hash or the name links it to the same photo
    sent in a named case; the copy and its folder get the file's time (its day). The file
    named by the content goes after the commit, unless another attachment uses it."""
    keyed = key(digest)
    source = Path(path)
    target = source.parent.parent / keyed[:2] / f"{keyed}{source.suffix}"
    try:
        # The file's day, read before the copy: when both names share a folder, the folder's
        # time read after it would be the copy's.
        day = source.stat().st_mtime
        target.parent.mkdir(parents=True, exist_ok=True)
        # The service's own, as every file it downloads (bot/media.py): not readable by the
        # machine's other users (it was 0644, found by the outside attack of 2026-12-05, night).
        with _unseen(source) as original, _own(target) as copy:
            shutil.copyfileobj(original, copy)
        for copied in (target, target.parent):
            os.utime(copied, (day, day))
    except OSError:
        return path, digest  # the file is gone (or unreadable): the row stays as it was
    forget_files(session, [path])
    return str(target), keyed


def _own(path: Path) -> IO[bytes]:
    """The file opened for writing, readable and writable by the service's user only."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(handle, 0o600)  # a file that was there keeps its mode otherwise
    except OSError:
        os.close(handle)
        raise
    return os.fdopen(handle, "wb")


def _unseen(path: Path) -> IO[bytes]:
    """The file opened for reading without updating its access time where the system allows
    it (Linux, the service's own files): read for an anonymous case's copy, a named case's
    photo would otherwise keep, as its access time, when the anonymous report was made (found
    by the outside attack of 2026-12-05; setting the time back would date it as a change)."""
    try:
        return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0)), "rb")
    except PermissionError:  # O_NOATIME on a file of another user
        return open(path, "rb")  # noqa: SIM115


def files_in_use(session: Session, paths: Iterable[str]) -> set[str]:
    """Which of these files some attachment still refers to."""
    query = select(Attachment.local_path).where(col(Attachment.local_path).in_(list(paths)))
    return {path for path in session.exec(query).all() if path}


# How long a delivery report that beat its send's recording is kept (see keep_early_report).
EARLY_REPORT_MINUTES = 5


def report_block(instant: datetime) -> datetime:
    """The start of the EARLY_REPORT_MINUTES block an instant falls in."""
    minute = instant.minute - instant.minute % EARLY_REPORT_MINUTES
    return instant.replace(minute=minute, second=0, microsecond=0)


def without_paragraph(text: str, paragraph: str) -> str | None:
    """`text` without one of its paragraphs (notices gathered into one message are joined by a
    blank line); "" when it was the whole text, None when it is not one of them."""
    parts = text.split("\n\n")
    if text == paragraph:
        return ""
    if paragraph not in parts:
        return None
    parts.remove(paragraph)
    return "\n\n".join(parts)


# The rows `OutboxRepository.load` reads (the outbox's locked), built once.
_LOAD_OUTBOX = (
    select(OutboxItem)
    .where(col(OutboxItem.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(OutboxItem.id))
    .with_for_update()
)
_LOAD_MESSAGES = select(Message).where(col(Message.id).in_(bindparam("ids", expanding=True)))
_LOCK_OUTBOX = (
    sql_select(
        *(
            OutboxItem.__table__.c[name]
            for name in ("id", "status", "confidential", "message_id", "channel", "options")
        )
    )
    .where(OutboxItem.__table__.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(OutboxItem.__table__.c.id)
    .with_for_update()
)
_SENT_ROW = (
    update(OutboxItem.__table__)
    .where(OutboxItem.__table__.c.id == bindparam("b_id"))
    .values(
        status="sent",
        sent_at=bindparam("b_now"),
        provider_message_id=bindparam("b_provider_id"),
        attempts=OutboxItem.__table__.c.attempts + 1,
        claimed_until=None,
    )
)
_SENT_MESSAGE = (
    update(Message.__table__)
    .where(Message.__table__.c.id == bindparam("b_id"))
    .values(status="sent", provider_id=bindparam("b_provider_id"))
)


@functools.cache
def _claim_query(dead_owners: bool, again: bool, limit: int) -> Any:
    """The claim's query (see `OutboxRepository.claim`), built once per shape: its values are
    bound parameters (channel, now, dead_since, owner, again)."""
    now = bindparam("now", type_=OutboxItem.__table__.c.next_attempt_at.type)
    earlier = aliased(OutboxItem)
    # A notice held for the next ones about its case (never tried, not due yet) lets what
    # follows it go first; anything else keeps its place in line.
    held = and_(
        col(earlier.status) == "pending",
        col(earlier.last_error).is_(None),
        col(earlier.next_attempt_at) > now,
    )
    blocked = exists().where(
        earlier.channel == OutboxItem.channel,
        earlier.address == OutboxItem.address,
        col(earlier.status).in_(("pending", "waiting")),
        col(earlier.id) < col(OutboxItem.id),
        ~held,
    )
    free = col(OutboxItem.claimed_until).is_(None) | (col(OutboxItem.claimed_until) < now)
    if dead_owners:
        dead_since = bindparam("dead_since", type_=now.type)
        dead = select(DispatcherHeartbeat.id).where(
            col(DispatcherHeartbeat.heartbeat_at) < dead_since
        )
        free = free | col(OutboxItem.claimed_by).in_(dead)
    if again:  # its own claims it did not send after all
        mine = col(OutboxItem.id).in_(bindparam("again", expanding=True))
        free = free | (mine & (OutboxItem.claimed_by == bindparam("owner")))
    return (
        select(OutboxItem)
        .where(
            OutboxItem.channel == bindparam("channel"),
            OutboxItem.status == "pending",
            col(OutboxItem.next_attempt_at) <= now,
            free,
            ~blocked,
        )
        .order_by(col(OutboxItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


class OutboxRepository:
    def __init__(self, session: Session, ids: IdClock = PROCESS_IDS) -> None:
        self.session = session
        self.ids = ids
        self._loaded: list[Any] = []

    def add(self, item: OutboxItem) -> None:
        """A row with no message of its own (the weekly summary's chart, a card's edit)."""
        table = OutboxItem.__table__
        after_recipient(self.session, self.ids, item.channel, item.address)
        item.id = insert_timed(self.session, self.ids, table, _row(item, table))

    def enqueue(
        self,
        message: dict[str, Any],
        item: dict[str, Any],
        *,
        detached: bool = False,
    ) -> int:
        """Write an outgoing message and its outbox row, both numbered by time (two plain
        INSERTs of the column values `row_values` gives: nothing of them is read back in the
        transaction that queues them); the row points to its message until it is sent (so that
        the send is recorded on it, a confidential reply's too: it then leaves the outbox) or
        given up, and a detached message is numbered out of sequence (see `detached_id`); the
        outbox row's id."""
        messages, outbox = Message.__table__, OutboxItem.__table__
        after_recipient(self.session, self.ids, item["channel"], item["address"])
        if not detached and self.session.get_bind().dialect.name == "postgresql":
            return self._enqueue_together(message, item)
        if detached:  # about an anonymous case: numbered out of sequence
            self.session.flush()  # what the ORM holds goes first, for the foreign keys
            message_id = detached_id(self.session, messages)
            connection_of(self.session).execute(_INSERT_MESSAGE, {**message, "id": message_id})
        else:
            message_id = insert_timed(self.session, self.ids, messages, message)
        return insert_timed(self.session, self.ids, outbox, {**item, "message_id": message_id})

    def _enqueue_together(self, message: dict[str, Any], item: dict[str, Any]) -> int:
        """`enqueue` in one statement (`_INSERT_REPLY`): one round trip to the server, not two.
        Only for a message numbered by time: the two ids are drawn together, a microsecond
        apart (a detached message is numbered out of sequence, apart from its row)."""
        self.session.flush()  # what the ORM holds goes first, for the foreign keys
        state = take(self.session)  # the dialogue's place, written with the reply
        kind, state_params = state if state else (None, {})
        for _ in range(MAX_DRAWS):
            message_id, item_id = self.ids.next(), self.ids.next()
            params = {f"m_{name}": value for name, value in message.items()}
            params.update({f"o_{name}": value for name, value in item.items()})
            params.update(m_id=message_id, o_id=item_id, o_message_id=message_id, **state_params)
            statement = _INSERT_REPLY[kind]
            written, queued = connection_of(self.session).execute(statement, params).one()
            if written is None:  # the message's id was taken: neither was written
                self.ids.taken(message_id)
                if kind is not None:  # but the state was: not again
                    kind, state_params = None, {}
                continue
            if queued is None:  # the row's id was taken: it is numbered again
                self.ids.taken(item_id)
                values = {**item, "message_id": message_id}
                return insert_timed(self.session, self.ids, OutboxItem.__table__, values)
            return item_id
        raise RuntimeError("no free id for a reply")

    def get(self, item_id: int) -> OutboxItem | None:
        return self.session.get(OutboxItem, item_id)

    def load(self, item_ids: Sequence[int]) -> None:
        """Read and lock these rows, and read their messages, in two queries, so that `get` and
        the status updates that follow find them in the session."""
        # Locked: an erasure that forgets these rows' recipient waits for the outcome to be
        # written, or the outcome is written after it and finds the rows already forgotten.
        items = self.session.exec(_LOAD_OUTBOX, params={"ids": list(item_ids)}).all()
        message_ids = [item.message_id for item in items if item.message_id is not None]
        messages: Sequence[Message] = []
        if message_ids:
            messages = self.session.exec(_LOAD_MESSAGES, params={"ids": message_ids}).all()
        # The session's identity map holds its objects weakly: kept here until the transaction
        # ends, `get` finds them without asking the database again (and without a flush).
        self._loaded = [*items, *messages]

    def lock(self, item_ids: Sequence[int]) -> dict[int, Any]:
        """Read and lock these rows as plain values (id, status, confidential, message_id,
        channel, options), without making objects of them; by id."""
        rows = connection_of(self.session).execute(_LOCK_OUTBOX, {"ids": list(item_ids)})
        return {row.id: row for row in rows}

    def mark_many_sent(self, sent: Sequence[tuple[Any, str]], now: datetime) -> None:
        """`mark_sent` for rows read by `lock` that are neither confidential nor carry a file:
        (row, the provider's id) each, in two statements for all of them."""
        if not sent:
            return
        connection = connection_of(self.session)
        connection.execute(
            _SENT_ROW, [{"b_id": row.id, "b_now": now, "b_provider_id": pid} for row, pid in sent]
        )
        # The messages in the order of their ids, as `lock` takes the rows': one order always.
        linked = sorted(
            ({"b_id": row.message_id, "b_provider_id": pid} for row, pid in sent if row.message_id),
            key=lambda values: values["b_id"],
        )
        if linked:
            connection.execute(_SENT_MESSAGE, linked)

    def by_provider_id(self, channel: str, provider_id: str) -> OutboxItem | None:
        query = select(OutboxItem).where(
            OutboxItem.channel == channel, OutboxItem.provider_message_id == provider_id
        )
        return self.session.exec(query).first()

    def reserve_slots(self, channel: str, count: int, step: float, now: datetime) -> datetime:
        """Reserve `count` sending slots `step` seconds apart on a channel, shared by every
        process on the database (the row is locked until the caller commits): when the first
        one starts."""
        table = Pacing.__table__
        row = self.session.execute(
            select(table.c.next_slot_at).where(table.c.channel == channel).with_for_update()
        ).first()
        if row is None:
            insert = _insert(self.session, Pacing).values(channel=channel, next_slot_at=now)
            self.session.execute(insert.on_conflict_do_nothing())
            row = self.session.execute(
                select(table.c.next_slot_at).where(table.c.channel == channel).with_for_update()
            ).one()
        start = max(now, row[0])
        self.session.execute(
            table.update()
            .where(table.c.channel == channel)
            .values(next_slot_at=start + timedelta(seconds=count * step))
        )
        return start

    def record_migration(self, channel: str, old: str, new: str, now: datetime) -> None:
        """A chat moved to a new address: remembered (the settings may still name the old
        one), and what is still to be sent to it goes to the new one."""
        table = ChatMigration.__table__
        self.session.execute(
            table.update()
            .where(table.c.channel == channel, table.c.new_address == old)
            .values(new_address=new)
        )
        insert = _insert(self.session, ChatMigration).values(
            channel=channel, old_address=old, new_address=new, migrated_at=now
        )
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["channel", "old_address"],
                set_={"new_address": new, "migrated_at": now},
            )
        )
        for item in self.session.exec(
            select(OutboxItem).where(
                OutboxItem.channel == channel,
                OutboxItem.address == old,
                col(OutboxItem.status).in_(("pending", "waiting")),
            )
        ).all():
            item.address = new
            self.session.add(item)

    def migrated(self, channel: str, address: str) -> str | None:
        """Where a chat that moved is now (None when it did not)."""
        return self.session.exec(
            select(ChatMigration.new_address).where(
                ChatMigration.channel == channel, ChatMigration.old_address == address
            )
        ).first()

    def heartbeat(self, instance: str, now: datetime, dead_after: timedelta) -> None:
        """A dispatcher says it is alive; those silent for an hour are forgotten."""
        table = DispatcherHeartbeat.__table__
        updated = self.session.execute(
            table.update().where(table.c.id == instance).values(heartbeat_at=now)
        ).rowcount
        if not updated:
            self.session.execute(
                table.insert().values(id=instance, started_at=now, heartbeat_at=now)
            )
        self.session.execute(
            table.delete().where(table.c.heartbeat_at < now - max(dead_after, timedelta(hours=1)))
        )

    def claim(
        self,
        channel: str,
        now: datetime,
        until: datetime,
        limit: int,
        *,
        owner: str | None = None,
        dead_since: datetime | None = None,
        again: Sequence[int] = (),
    ) -> Sequence[OutboxItem]:
        """Take the due rows that are first in line for their recipient, for sending until
        `until`, as `owner`. Rows another process is sending are skipped (FOR UPDATE SKIP LOCKED
        on PostgreSQL; SQLite's write lock serialises claims), unless their lease ran out or
        their owner's heartbeat stopped before `dead_since`. The caller commits."""
        query = _claim_query(dead_since is not None, bool(again) and owner is not None, limit)
        params = {"channel": channel, "now": now, "dead_since": dead_since, "owner": owner}
        if again and owner is not None:
            params["again"] = list(again)
        items = self.session.exec(query, params=params).all()
        for item in items:
            item.claimed_until, item.claimed_by = until, owner
            self.session.add(item)
        return items

    def gathering(
        self, channel: str, address: str, case_id: int, now: datetime
    ) -> OutboxItem | None:
        """The latest notice about a case still held for its recipient (see `queue`), with no
        options yet: the one a new notice about the case joins."""
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.channel == channel,
                OutboxItem.address == address,
                OutboxItem.status == "pending",
                col(OutboxItem.last_error).is_(None),
                col(OutboxItem.claimed_until).is_(None),
                col(OutboxItem.next_attempt_at) > now,
                OutboxItem.confidential == False,  # noqa: E712
            )
            .order_by(col(OutboxItem.id).desc())
            .limit(5)
        )
        for item in self.session.exec(query).all():
            if item.options.get("gather") == case_id and not item.options.get("options"):
                return item
        return None

    def add_to_gathering(
        self, item: OutboxItem, body: str, options: dict, message_body: str, due: datetime, now
    ) -> bool:
        """Give a held notice its new text, options and time to go, unless a dispatcher took
        it meanwhile (one conditional UPDATE: a row being sent is never changed under it)."""
        outbox = OutboxItem.__table__
        changed = self.session.execute(
            outbox.update()
            .where(
                outbox.c.id == item.id,
                outbox.c.status == "pending",
                outbox.c.claimed_until.is_(None),
                outbox.c.next_attempt_at > now,
            )
            .values(body=body, options=options, next_attempt_at=due)
        )
        if changed.rowcount != 1:
            return False
        if item.message_id is not None:
            messages = Message.__table__
            self.session.execute(
                messages.update().where(messages.c.id == item.message_id).values(body=message_body)
            )
        self.session.expire(item)
        return True

    def retry(self, item: OutboxItem, at: datetime, error: str, *, counted: bool) -> None:
        """Send again at `at`; a counted failure uses up one of the row's attempts."""
        item.next_attempt_at, item.last_error, item.claimed_until = at, error[:300], None
        item.attempts += 1 if counted else 0
        self.session.add(item)

    def fail(self, item: OutboxItem, error: str) -> None:
        """Give up on a row: it stays, marked failed, for staff to see (a confidential one
        without its text or recipient)."""
        item.status, item.last_error, item.claimed_until = "failed", error[:300], None
        self._set_message_status(item, "failed")
        if item.confidential:
            # Nothing of it leads anywhere: no recipient, no text, no message (a confidential
            # reply's is numbered with the anonymous case's rows it was sent about).
            item.body, item.address, item.message_id = REDACTED, "", None
            item.next_attempt_at, item.window_until = item.created_at, None
        self.session.add(item)

    def hold(self, item: OutboxItem, reason: str, notified_at: datetime | None) -> None:
        """Keep a row until the citizen writes again (see `release_waiting`)."""
        item.status, item.last_error, item.claimed_until = "waiting", reason[:300], None
        item.notified_at = item.notified_at or notified_at
        self.session.add(item)
        self._set_message_status(item, "waiting")

    def release_waiting(self, channel: str, address: str, now: datetime, window: datetime) -> None:
        """The citizen wrote: what was held for them can be sent now, inside the new window."""
        if (channel, address) in self.session.info.get(_NONE_WAITING, ()):
            self.session.info[_NONE_WAITING].discard((channel, address))
            return  # nothing was, when they arrived in this transaction
        # A plain UPDATE: this runs before anything of the outbox is read in the transaction,
        # so no loaded row needs refreshing.
        connection_of(self.session).execute(
            _RELEASE_WAITING,
            {"of_channel": channel, "of_address": address, "now": now, "window": window},
        )

    def _set_message_status(self, item: OutboxItem, status: str) -> None:
        if item.message_id is not None:
            message = self.session.get(Message, item.message_id)
            if message is not None:
                message.status = status
                self.session.add(message)

    def pending(self, channel: str, *, address: str | None = None, limit: int = 100):
        """Pending rows of a channel in the order they were written."""
        query = select(OutboxItem).where(
            OutboxItem.channel == channel, OutboxItem.status == "pending"
        )
        if address is not None:
            query = query.where(OutboxItem.address == address)
        return self.session.exec(query.order_by(col(OutboxItem.id)).limit(limit)).all()

    def backlog(self) -> tuple[dict[tuple[str, str], int], dict[str, datetime]]:
        """Rows not yet sent per (status, channel), and per channel when the oldest pending one
        was written (read through the pending index; sent rows are not counted)."""
        rows = self.session.exec(
            select(
                OutboxItem.status, OutboxItem.channel, func.count(), func.min(OutboxItem.created_at)
            )
            .where(col(OutboxItem.status).in_(("pending", "waiting", "failed")))
            .group_by(OutboxItem.status, OutboxItem.channel)
        ).all()
        counts = {(status, channel): int(count) for status, channel, count, _ in rows}
        oldest = {channel: first for status, channel, _, first in rows if status == "pending"}
        return counts, oldest

    def forget_address(self, channel: str, address: str) -> None:
        """A person's data is erased: what was sent, held or given up for them leaves the
        outbox (what is still to send keeps their address until it is sent, then goes too)."""
        forget_rows(self.session, (OutboxItem.channel == channel) & (OutboxItem.address == address))

    def forget_contacts(self, contact_ids: list[int]) -> None:
        """forget_address() for the addresses of many contacts (before they are erased)."""
        if not contact_ids:
            return
        addresses = select(Contact.channel, Contact.address).where(
            among(self.session, Contact.id, contact_ids)
        )
        recipient = tuple_(OutboxItem.channel, OutboxItem.address)
        forget_rows(self.session, recipient.in_(addresses), len(contact_ids))

    def with_option(self, case_id: int, key: str) -> Sequence[OutboxItem]:
        """The rows about a case, still to send or sent, that offer the option `key` (a card's
        button), locked: the dispatcher records their sending first, or after this is done."""
        query = (
            select(OutboxItem)
            .join(Message, col(Message.id) == col(OutboxItem.message_id))
            .where(Message.case_id == case_id, col(OutboxItem.status).in_(("pending", "sent")))
            .order_by(col(OutboxItem.id))
            .with_for_update(of=OutboxItem)
        )
        return [
            item
            for item in self.session.exec(query).all()
            if any(option.get("key") == key for option in item.options.get("options", []))
        ]

    def withdraw(self, case_id: int, body: str) -> int:
        """Rows about this case with this text that are not sent yet are not sent at all (a
        survey queued before the case was reopened): marked `withdrawn`, as their messages; a
        held notice that gathered this text with others loses that paragraph (and its buttons,
        when it was the last)."""
        linked = select(Message.id).where(Message.case_id == case_id)
        rows = self.session.exec(
            select(OutboxItem)
            .where(
                col(OutboxItem.message_id).in_(linked),
                col(OutboxItem.status).in_(("pending", "waiting")),
                col(OutboxItem.claimed_until).is_(None),
                col(OutboxItem.body).contains(body),
            )
            .with_for_update()
        ).all()
        withdrawn = 0
        for item in rows:
            rest = without_paragraph(item.body, body)
            if rest is None:
                continue
            if rest == "":
                item.status = "withdrawn"
                self._set_message_status(item, "withdrawn")
            else:
                if item.body.endswith(body):
                    item.options = {**item.options, "options": []}
                item.body = rest
                if item.message_id is not None:
                    message = self.session.get(Message, item.message_id)
                    if message is not None:
                        message.body = rest
                        self.session.add(message)
            self.session.add(item)
            withdrawn += 1
        return withdrawn

    def keep_early_report(
        self,
        channel: str,
        provider_hash: str,
        status: str,
        failure: tuple[str, str] | None,
        now: datetime,
    ) -> None:
        """A delivery report for a provider id not recorded yet: kept to apply once it is, for
        a few minutes only (`prune_early_reports`). A report about a confidential message,
        whose provider id is never recorded, lands here too: so the provider's id is kept only
        as a keyed hash (`CasePolicy.delivery_hash`), and the time only to its block of
        EARLY_REPORT_MINUTES."""
        self.prune_early_reports(now)
        kind, reason = failure if failure else (None, None)
        self.session.add(
            EarlyDeliveryReport(
                channel=channel,
                provider_id=provider_hash,
                status=status,
                failure=kind,
                reason=reason,
                received_at=report_block(now),
            )
        )

    def prune_early_reports(self, now: datetime) -> None:
        """Reports whose message did not turn up within EARLY_REPORT_MINUTES (one to two
        blocks) are dropped (the send they beat is recorded within seconds; the rest were
        about confidential sends)."""
        self.session.execute(
            delete(EarlyDeliveryReport).where(
                col(EarlyDeliveryReport.received_at)
                < report_block(now) - timedelta(minutes=EARLY_REPORT_MINUTES)
            )
        )

    def take_early_reports(
        self, channel: str, provider_hashes: Sequence[str]
    ) -> list[EarlyDeliveryReport]:
        """The reports kept for these providers' ids (as keyed hashes), in the order they
        came; removed."""
        if not provider_hashes:
            return []
        reports = self.session.exec(
            select(EarlyDeliveryReport)
            .where(
                EarlyDeliveryReport.channel == channel,
                col(EarlyDeliveryReport.provider_id).in_(list(provider_hashes)),
            )
            .order_by(col(EarlyDeliveryReport.id))
        ).all()
        for report in reports:
            self.session.delete(report)
        return list(reports)

    def drop_early_reports(self, provider_hashes: Sequence[str]) -> None:
        """Reports kept for these providers' ids (keyed hashes) are deleted: those of a
        confidential send, or of messages that joined an anonymous case."""
        if provider_hashes:
            self.session.execute(
                delete(EarlyDeliveryReport).where(
                    col(EarlyDeliveryReport.provider_id).in_(list(provider_hashes))
                )
            )

    def make_confidential(self, message_ids: list[int], day: datetime) -> None:
        """These messages joined an anonymous case: their rows already sent or given up are
        deleted, and those still to send are unlinked from them and deleted once sent."""
        if not message_ids:
            return
        forget_rows(self.session, col(OutboxItem.message_id).in_(message_ids), created_at=day)

    def released_to_the_day(
        self, channel: str, address: str, since: datetime, day: datetime, window: timedelta
    ) -> None:
        """Rows held for this person before `since` (outside WhatsApp's window) that their
        writing released since then keep only the day as the times it set: when to send, when
        sent, and the window's end (from the day: it closes earlier, never later). Their exact
        values would say when the person wrote, under their number."""
        self.session.flush()
        table = OutboxItem.__table__
        mine = (
            (table.c.channel == channel)
            & (table.c.address == address)
            & (table.c.created_at < since)
            & (table.c.confidential == false())
        )
        for column in ("next_attempt_at", "sent_at"):
            self.session.execute(
                table.update().where(mine, table.c[column] >= since).values({column: day})
            )
        self.session.execute(
            table.update()
            .where(mine, table.c.window_until >= since + window)
            .values(window_until=day + window)
        )
        for held in list(self.session.identity_map.values()):
            if isinstance(held, OutboxItem):
                self.session.expire(held)

    def mark_sent(
        self,
        item: OutboxItem,
        provider_message_id: str,
        now: datetime,
        *,
        file: str | None = None,
    ) -> None:
        """Record a successful send, and the provider's id for the outgoing message; a
        confidential row is deleted instead, and no provider id is kept (the provider can
        resolve it to the recipient)."""
        if item.message_id is not None:
            message = self.session.get(Message, item.message_id)
            if message is not None:
                message.status = "sent"
                message.provider_id = None if item.confidential else provider_message_id
                self.session.add(message)
        if item.confidential:
            self.session.delete(item)
            return
        item.status, item.sent_at, item.provider_message_id = "sent", now, provider_message_id
        if file is not None:
            # A document published for the provider: erasing the row deletes it (forget_rows).
            item.options = {**item.options, SENT_FILE: file}
        item.attempts += 1
        item.claimed_until = None
        self.session.add(item)


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def active(self) -> Sequence[Staff]:
        return self.session.exec(
            select(Staff).where(Staff.active == True).order_by(col(Staff.id))  # noqa: E712
        ).all()

    def get(self, staff_id: int) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def add(self, member: Staff) -> Staff:
        self.session.add(member)
        self.session.flush()
        return member

    def by_id_or_name(self, who: str) -> Staff | None:
        """A staff member by numeric id or exact name."""
        if re.fullmatch(r"[0-9]{1,9}", who):
            member = self.session.get(Staff, int(who))
            if member is not None:
                return member
        return self.session.exec(select(Staff).where(Staff.name == who)).first()

    def all(self) -> Sequence[Staff]:
        """Every staff member, active or not, in the order they were registered."""
        return self.session.exec(select(Staff).order_by(col(Staff.id))).all()

    def by_address(self, channel: str, address: str) -> Staff | None:
        """The staff member, active or not, who writes from this Telegram user id or WhatsApp
        number (a deactivated one is answered that they are)."""
        if channel == "telegram" and re.fullmatch(r"-?[0-9]{1,18}", address):
            query = select(Staff).where(Staff.telegram_id == int(address))
        elif channel == "whatsapp":
            query = select(Staff).where(Staff.whatsapp == address)
        else:
            return None
        return self.session.exec(query).first()

    def with_role(self, *roles: str) -> Sequence[Staff]:
        query = select(Staff).where(Staff.active == True, col(Staff.role).in_(roles))  # noqa: E712
        return self.session.exec(query.order_by(col(Staff.id))).all()


class JobRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, job: str, run_date: str, now: datetime) -> bool:
        """Whether this process is the first to run `job` for `run_date` (a claim row inserted
        with ON CONFLICT DO NOTHING; the loser sees nothing inserted)."""
        statement = (
            _insert(self.session, JobRun)
            .values(job=job, run_date=run_date, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["job", "run_date"])
            .returning(JobRun.__table__.c.job)
        )
        return self.session.exec(statement).scalar_one_or_none() is not None


class ExampleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, example: LabelledExample) -> None:
        """Keep the example; a case has one, the latest labels confirmed for it."""
        if example.case_id is not None:
            self.session.exec(
                delete(LabelledExample).where(col(LabelledExample.case_id) == example.case_id)
            )
        self.session.add(example)

    def all(self) -> Sequence[LabelledExample]:
        return self.session.exec(select(LabelledExample).order_by(col(LabelledExample.id))).all()

    def erase(self, case_ids: list[int], contact_ids: list[int]) -> None:
        """Delete the examples taken from these cases or written by these people."""
        session, example = self.session, LabelledExample
        about: list[Any] = [among(session, example.case_id, case_ids)] if case_ids else []
        if contact_ids:
            about.append(among(session, example.contact_id, contact_ids))
        if about:
            many = max(len(case_ids), len(contact_ids))
            execute_many(session, delete(example).where(or_(*about)), many)
