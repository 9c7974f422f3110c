"""Rows that can leave for an anonymous case are numbered by time, not counted: what happens when
two processes write in the same microsecond, when several write at once, and to a database
upgraded with rows already numbered the old way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.app import create_app
from bot.cli import main
from handlers.casework.cases import open_case
from handlers.core.messages import Incoming
from handlers.dialogue.intake import receive
from storage.engine import make_engine
from storage.ids import TIMED_TABLES, IdClock
from storage.migrate import upgrade
from storage.models import Attachment, CaseEvent, Contact, Message, OutboxItem, row_values
from storage.uow import UnitOfWork
from tests.conftest import is_postgres
from tests.helpers import make_settings
from tests.integration.workers import greet, run_together

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
SAME = 1_795_000_000_123_456  # the microsecond every clock below reads
DRAFT = {"type": "solicitud", "topic": "calles_caminos", "parts": ["hay un hoyo en la calle"]}


def same_microsecond() -> IdClock:
    """The ids of a process whose clock reads the same microsecond as every other's."""
    return IdClock(lambda: SAME * 1000)


def test_two_processes_writing_in_the_same_microsecond_keep_every_row(app):
    # Each person's message is received by a process of its own, and both clocks read the same
    # microsecond: both would number their rows alike. The second finds its ids taken, takes
    # others, and loses nothing.
    for number in ("+50370000001", "+50370000002"):
        with UnitOfWork(app.engine, same_microsecond()) as uow:
            said = Incoming("whatsapp", number, f"SM{number}", NOW, text="hola")
            assert receive(said, uow, app.dialogue, NOW)
    # So do a case opened by each (its first event), a photo each sent, and a row each queued
    # (to a chat of its own).
    for number in ("+50370000001", "+50370000002"):
        with UnitOfWork(app.engine, same_microsecond()) as uow:
            contact = uow.contacts.get_or_create("whatsapp", number, NOW)
            open_case(uow, app.policy, contact=contact, draft=dict(DRAFT), now=NOW)
            uow.commit()
        with UnitOfWork(app.engine, same_microsecond()) as uow:
            first = uow.session.exec(
                select(Message).where(Message.contact_id == contact.id).order_by(col(Message.id))
            ).first()
            uow.messages.add_attachment(
                Attachment(message_id=first.id, kind="photo", provider_ref=number, created_at=NOW)
            )
            uow.commit()
        with UnitOfWork(app.engine, same_microsecond()) as uow:
            uow.outbox.add(  # for the staff chat, where nothing was queued before
                OutboxItem(
                    channel="telegram",
                    address=f"-100{number[-1]}",
                    body="",
                    next_attempt_at=NOW + timedelta(days=1),
                    created_at=NOW,
                )
            )
            uow.commit()

    with app.uow() as uow:
        incoming = uow.session.exec(select(Message).where(Message.direction == "in")).all()
        photos = uow.session.exec(select(Attachment)).all()
        events = uow.session.exec(select(CaseEvent)).all()
        later = uow.session.exec(select(OutboxItem).where(OutboxItem.body == "")).all()
        greeted = uow.session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    for rows in (incoming, photos, events, later):
        assert len(rows) == 2 and len({row.id for row in rows}) == 2
        assert SAME in {row.id for row in rows}  # the first writer kept the microsecond's id
    # Each was greeted, then told the privacy notice, in that order.
    for number in ("+50370000001", "+50370000002"):
        theirs = [item.body for item in greeted if item.address == number and item.body]
        assert theirs[0].startswith("¡Hola!") and theirs[1].startswith("Aviso de privacidad")


def ticking() -> IdClock:
    """A clock at `SAME` whose ids follow one another by one microsecond each."""
    return IdClock(lambda: SAME * 1000, lambda: 0)


def reply_message(channel: str, body: str, **more: object) -> dict:
    return row_values(Message, direction="out", channel=channel, body=body, created_at=NOW, **more)


def reply_row(channel: str, address: str, body: str) -> dict:
    return row_values(
        OutboxItem,
        channel=channel,
        address=address,
        body=body,
        options={},
        next_attempt_at=NOW,
        created_at=NOW,
    )


@pytest.mark.parametrize("taken", ["messages", "outbox"])
def test_a_reply_whose_id_another_process_took_is_numbered_again_and_keeps_its_message(app, taken):
    # Another process wrote a message with the id this reply's message would get (the clock's
    # first), or queued a row with the id its outbox row would get (the second).
    other = {
        "messages": (SAME, reply_message("telegram", "otro")),
        "outbox": (SAME + 1, reply_row("telegram", "-1009", "otro")),
    }
    with app.uow() as uow:
        other_id, values = other[taken]
        table = (Message if taken == "messages" else OutboxItem).__table__
        uow.session.execute(table.insert(), {**values, "id": other_id})
        uow.commit()
    with UnitOfWork(app.engine, ticking()) as uow:
        message = reply_message("whatsapp", "Gracias", status="pending")
        item = reply_row("whatsapp", "+50370000009", "Gracias")
        queued = uow.outbox.enqueue(message, item)
        uow.commit()
    with app.uow() as uow:
        row = uow.outbox.get(queued)
        written = uow.session.get(Message, row.message_id)
    # Numbered after the id taken, the row pointing at its own message; nothing else changed.
    if taken == "messages":
        assert SAME < row.message_id < row.id
    else:
        assert row.message_id == SAME and row.id > SAME + 1
    assert (written.body, row.body) == ("Gracias", "Gracias")
    with app.uow() as uow:
        kept = uow.session.get(Message if taken == "messages" else OutboxItem, other_id)
    assert kept.body == "otro"


def test_a_process_whose_clock_is_behind_numbers_a_persons_next_turn_after_the_last(app):
    # Ana's greeting is handled by a process whose clock runs a second ahead, her consent by
    # one whose clock is right: her messages and the replies still come in the order written.
    ahead = IdClock(lambda: (SAME + 1_000_000) * 1000)
    for clock, said in ((ahead, "hola"), (same_microsecond(), "si")):
        with UnitOfWork(app.engine, clock) as uow:
            incoming = Incoming("whatsapp", "+50370000003", f"SM{said}", NOW, text=said)
            assert receive(incoming, uow, app.dialogue, NOW)
    with app.uow() as uow:
        (contact,) = uow.session.exec(select(Contact)).all()
        written = [m.body for m in uow.messages.for_contact(contact.id) if m.direction == "in"]
        queued = uow.session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    assert written == ["hola", "si"]
    assert queued[0].body.startswith("¡Hola!") and queued[1].body.startswith("Aviso de")
    assert queued[2].body.startswith("Gracias por aceptar")


def test_two_processes_greeting_people_at_once_lose_no_message_and_keep_each_ones_order(
    app, database_url
):
    received = run_together(greet, database_url, ["+503700", "+503710"], 40)
    assert received == [True] * 80
    with app.uow() as uow:
        incoming = uow.session.exec(select(Message).where(Message.direction == "in")).all()
        queued = uow.session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    assert len(incoming) == 80 and len({m.id for m in incoming}) == 80
    assert len(queued) == 160 and len({item.id for item in queued}) == 160
    for address in {item.address for item in queued}:
        first, second = [item.body for item in queued if item.address == address]
        assert first.startswith("¡Hola!") and second.startswith("Aviso de privacidad")


# -- upgrading a database with rows ---------------------------------------------------------

AS_0012_WROTE = [
    "INSERT INTO contacts (channel, address, created_at, folio_misses)"
    " VALUES ('whatsapp', '+50370001234', :now, 0)",
    "INSERT INTO cases (folio, contact_id, channel, type, topic, urgency, status, description,"
    " anonymous, gender, deadline_days, created_at, due_at, prioritised, extension_days)"
    " VALUES ('TA-2026-000001', 1, 'whatsapp', 'solicitud', 'calles_caminos', 'normal',"
    " 'recibido', 'hay un hoyo en la calle', false, 'sin_dato', 15, :now, :due, false, 0)",
    "INSERT INTO case_events (case_id, at, actor, kind, public)"
    " VALUES (1, :now, 'ciudadano', 'created', true)",
]
MESSAGE = (
    "INSERT INTO messages (direction, channel, provider_id, contact_id, case_id, body, status,"
    " created_at) VALUES (:direction, 'whatsapp', NULL, 1, 1, :body, :status, :now)"
)
ATTACHMENT = (
    "INSERT INTO attachments (message_id, case_id, kind, provider_ref, status, created_at,"
    " attempts) VALUES (1, 1, 'photo', '', 'stored', :now, 0)"
)
OUTBOX = (
    "INSERT INTO outbox (message_id, channel, address, body, options, confidential, status,"
    " attempts, next_attempt_at, created_at) VALUES (:message, 'whatsapp', '+50370001234',"
    " :body, '{}', false, :status, 0, :now, :now)"
)


def test_db_upgrade_keeps_the_rows_and_numbers_of_a_database_in_use_and_numbers_new_rows_by_time(
    database_url, monkeypatch, capsys
):
    engine = make_engine(database_url)
    upgrade(engine, "0012_desk")
    times = {"now": NOW, "due": NOW + timedelta(days=21)}
    with engine.begin() as connection:  # a day's work, numbered as 0012 numbered it
        for statement in AS_0012_WROTE:
            connection.execute(text(statement), times)
        said = [
            ("in", "hola", "received"),
            ("out", "Recibido", "sent"),
            ("out", "Folio", "pending"),
        ]
        for direction, body, status in said:
            connection.execute(
                text(MESSAGE), {**times, "direction": direction, "body": body, "status": status}
            )
        connection.execute(text(ATTACHMENT), times)
        for message, body, status in ((2, "Recibido", "sent"), (3, "Folio", "pending")):
            connection.execute(
                text(OUTBOX), {**times, "message": message, "body": body, "status": status}
            )
    monkeypatch.setenv("TA_DATABASE__URL", database_url)
    monkeypatch.setenv("TA_CONFIG", "")
    with pytest.raises(SystemExit) as ended:
        main(["db", "upgrade"])
    assert ended.value.code in (0, None), capsys.readouterr()

    # Every row is still there, with its number.
    with engine.connect() as connection:
        for table, expected in (
            ("messages", 3),
            ("attachments", 1),
            ("outbox", 2),
            ("case_events", 1),
        ):
            ids = connection.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
            assert ids == list(range(1, expected + 1)), table
    # She writes again: her message and its answer are numbered by the time they are written,
    # after everything written before; the answer waits behind the one still to send.
    app_now = datetime.now(UTC)
    app = create_app(make_settings(database={"url": database_url}))
    with app.uow() as uow:
        stored = receive(
            Incoming("whatsapp", "+50370001234", "SM-again", app_now, text="hola otra vez"),
            uow,
            app.dialogue,
            app_now,
        )
    assert stored
    with app.uow() as uow:
        messages = uow.session.exec(select(Message).order_by(col(Message.id))).all()
        assert [m.body for m in messages][:4] == ["hola", "Recibido", "Folio", "hola otra vez"]
        assert messages[3].id > 10**15  # microseconds since 1970
        claimed = uow.outbox.claim(
            "whatsapp", app_now + timedelta(minutes=1), app_now + timedelta(minutes=2), 10
        )
        assert [item.body for item in claimed] == ["Folio"]
    # No count is left beside the ids to tell how many rows were ever written; on PostgreSQL
    # the ids, and what refers to a message, are 64 bits wide.
    kind = (
        "SELECT data_type FROM information_schema.columns WHERE table_name = :t"
        " AND column_name = :c AND table_schema = current_schema()"
    )
    with engine.connect() as connection:
        for table in TIMED_TABLES:
            if is_postgres(database_url):
                sequence = f"SELECT pg_get_serial_sequence('{table}', 'id')"
                assert connection.execute(text(sequence)).scalar() is None, table
                assert connection.execute(text(kind), {"t": table, "c": "id"}).scalar() == "bigint"
            else:
                counted = "SELECT count(*) FROM sqlite_sequence WHERE name = :t"
                assert connection.execute(text(counted), {"t": table}).scalar() == 0, table
        if is_postgres(database_url):
            for table in ("attachments", "outbox"):
                wide = connection.execute(text(kind), {"t": table, "c": "message_id"}).scalar()
                assert wide == "bigint", table
    app.engine.dispose()
    engine.dispose()


def test_db_upgrade_keeps_only_the_clock_hour_of_the_lookups_a_number_missed(database_url):
    """Before 0021 a number's row kept the instant of its first mistyped folio or code and the
    instant its refusal ended; the upgrade keeps their hours only (the later one rounded up)."""
    engine = make_engine(database_url)
    upgrade(engine, "0020_backlog")
    first_miss = datetime(2026, 11, 17, 15, 17, 23, 456789, tzinfo=UTC)
    blocked = datetime(2026, 11, 17, 16, 42, 5, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contacts (channel, address, created_at, folio_misses,"
                " folio_misses_since, folio_blocked_until)"
                " VALUES ('whatsapp', '+50370001234', :day, 3, :since, :until),"
                " ('whatsapp', '+50370005678', :day, 0, NULL, NULL)"
            ),
            {
                "day": datetime(2026, 11, 17, tzinfo=UTC),
                "since": first_miss
                if is_postgres(database_url)
                else first_miss.replace(tzinfo=None),
                "until": blocked if is_postgres(database_url) else blocked.replace(tzinfo=None),
            },
        )
    upgrade(engine)
    with UnitOfWork(engine) as uow:
        missed = uow.contacts.find("whatsapp", "+50370001234")
        other = uow.contacts.find("whatsapp", "+50370005678")
    assert missed.folio_misses_since == datetime(2026, 11, 17, 15, tzinfo=UTC)
    assert missed.folio_blocked_until == datetime(2026, 11, 17, 17, tzinfo=UTC)
    assert (other.folio_misses_since, other.folio_blocked_until) == (None, None)
    engine.dispose()
