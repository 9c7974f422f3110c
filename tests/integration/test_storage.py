"""The real unit of work on SQLite and PostgreSQL: schema, folios, deduplication, rollback."""

import threading
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.app import create_app
from handlers.casework.cases import open_case
from handlers.core.messages import Incoming
from handlers.dialogue.intake import receive
from storage.models import Case, Message
from tests.helpers import Citizen, make_settings
from tests.integration.workers import open_cases, run_together

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
DRAFT = {"type": "consulta", "topic": "drenaje", "parts": ["cuando limpian los tragantes"]}


def test_the_migrations_build_exactly_the_schema_the_models_describe(app):
    with app.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrating_twice_changes_nothing(app):
    app.migrate()
    with app.uow() as uow:
        assert uow.cases.count() == 0


def test_folios_are_sequential_per_year_and_start_again_in_january(app):
    january = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
    folios = []
    for now in (NOW, NOW, january, NOW):
        with app.uow() as uow:
            contact = uow.contacts.get_or_create("console", "7001", now)
            folios.append(
                open_case(uow, app.policy, contact=contact, draft=DRAFT, now=now).case.folio
            )
            uow.commit()
    assert folios == ["TA-2026-000001", "TA-2026-000002", "TA-2027-000001", "TA-2026-000003"]


def test_work_that_is_not_committed_leaves_nothing_behind(app):
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("console", "7001", NOW)
        open_case(uow, app.policy, contact=contact, draft=DRAFT, now=NOW)
    with app.uow() as uow:
        assert uow.cases.count() == 0
        contact = uow.contacts.get_or_create("console", "7001", NOW)
        case = open_case(uow, app.policy, contact=contact, draft=DRAFT, now=NOW).case
        uow.commit()
    # SQLite gives the number back; PostgreSQL took it apart (storage/folios.py) and leaves it
    # unused, as a sequence does.
    postgres = app.engine.dialect.name == "postgresql"
    assert case.folio == ("TA-2026-000002" if postgres else "TA-2026-000001")


def test_on_postgresql_a_case_being_opened_does_not_hold_up_the_next_one(postgres_url):
    """The folio counter's lock lasts one statement, not the whole message: a second case is
    numbered while the first one's transaction is still open (a lock wait would fail it)."""
    app = create_app(make_settings(database={"url": postgres_url}))
    app.migrate()
    try:
        with app.uow() as first:
            contact = first.contacts.get_or_create("console", "7001", NOW)
            slow = open_case(first, app.policy, contact=contact, draft=DRAFT, now=NOW).case
            with app.uow() as second:
                second.session.execute(text("SET LOCAL lock_timeout = '3s'"))
                other = second.contacts.get_or_create("console", "7002", NOW)
                quick = open_case(second, app.policy, contact=other, draft=DRAFT, now=NOW).case
                second.commit()
            first.commit()
        assert (slow.folio, quick.folio) == ("TA-2026-000001", "TA-2026-000002")
    finally:
        app.engine.dispose()


def test_timestamps_come_back_in_utc_and_due_dates_in_local_time(app):
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("console", "7001", NOW)
        open_case(uow, app.policy, contact=contact, draft=DRAFT, now=NOW)
        uow.commit()
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
    assert case.created_at == NOW and case.created_at.tzinfo is not None
    # Consultas have 10 business days: from Wednesday 18 November to Tuesday 1 December.
    assert app.policy.calendar.local_date(case.due_at).isoformat() == "2026-12-01"


def test_the_same_provider_message_delivered_concurrently_is_stored_once(app):
    incoming = Incoming("console", "7001", "SM-same", NOW, text="hola")
    barrier = threading.Barrier(3)
    outcomes = []

    def deliver():
        barrier.wait()
        with app.uow() as uow:
            outcomes.append(receive(incoming, uow, app.dialogue, NOW))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o is None for o in outcomes) == [False, True, True]
    with app.uow() as uow:
        incoming_rows = uow.session.exec(select(Message).where(Message.direction == "in")).all()
        outgoing_rows = uow.session.exec(select(Message).where(Message.direction == "out")).all()
    assert len(incoming_rows) == 1
    assert len(outgoing_rows) == 2  # greeting and privacy notice, once


def test_a_message_that_arrives_while_the_persons_last_is_handled_waits_and_reads_what_it_saved(
    app,
):
    """Two turns of one person never interleave: the second waits for the first to commit and
    then reads the conversation as the first left it (on PostgreSQL it waits for the person's
    lock in a statement of its own, and reads in the next)."""
    citizen = Citizen(app.dialogue, app.uow, address="7001")
    greeting = citizen.send("hola")  # and the consent is asked
    answers = []
    with app.uow() as first:
        contact = first.contacts.get_or_create("console", "7001", NOW)
        first.conversations.delete(contact.id)  # this turn ends the conversation
        second = threading.Thread(target=lambda: answers.append(citizen.send("si")))
        second.start()
        if app.engine.dialect.name == "postgresql":
            pid = first.session.execute(text("SELECT pg_backend_pid()"))
            _wait_until_blocked_by(app, pid, second)
        first.commit()
    second.join()
    # Greeted again, as a person outside any conversation: not taken as consenting.
    assert answers == [greeting]


def _wait_until_blocked_by(app, backend, second: threading.Thread) -> None:
    """Until another connection waits for a lock that `backend`'s transaction holds; a second
    turn that finishes instead never waited."""
    pid = backend.scalar_one()
    blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        while not watcher.execute(blocked, {"pid": pid}).scalar_one():
            assert second.is_alive(), "the second turn never waited for the first"


def test_a_turns_place_in_the_dialogue_is_kept_with_or_without_a_reply_and_not_if_rolled_back(
    app,
):
    """On PostgreSQL the place is written with the turn's reply (storage/deferred.py): it is
    written all the same when no reply follows, before any other statement, and not at all
    when the turn is rolled back."""

    def saved(step: str, then) -> None:  # noqa: ANN001
        with app.uow() as uow:
            contact = uow.contacts.get_or_create("console", "7001", NOW)
            uow.conversations.save(contact.id, step, {"n": step}, NOW)
            then(uow, contact)

    def place() -> tuple[str, dict] | None:
        with app.uow() as uow:
            contact = uow.contacts.find("console", "7001")
            found = uow.conversations.get(contact.id)
        return (found.step, found.data) if found else None

    saved("menu", lambda uow, contact: uow.commit())  # no reply
    assert place() == ("menu", {"n": "menu"})
    saved("details", lambda uow, contact: uow.rollback())
    assert place() == ("menu", {"n": "menu"})

    # Read by another statement of the same turn before its reply: written first.
    def then_read(uow, contact):  # noqa: ANN001, ANN202
        row = uow.session.execute(text("SELECT step FROM conversation_states")).one()
        assert row.step == "type"
        uow.commit()

    saved("type", then_read)

    # Saved twice, then left, in one turn.
    def twice_then_gone(uow, contact):  # noqa: ANN001, ANN202
        uow.conversations.save(contact.id, "again", {}, NOW)
        uow.conversations.delete(contact.id)
        uow.commit()

    saved("once", twice_then_gone)
    assert place() is None


def test_two_processes_creating_fifty_cases_each_get_a_hundred_distinct_folios(app, database_url):
    folios = run_together(open_cases, database_url, ["700", "701"], 50)
    assert len(folios) == len(set(folios)) == 100
    assert sorted(int(folio.rsplit("-", 1)[1]) for folio in folios) == list(range(1, 101))
    with app.uow() as uow:
        assert len(uow.session.exec(select(Case)).all()) == 100


def test_on_sqlite_no_migration_brings_back_a_count_beside_the_anonymous_rows(app):
    """Anonymous cases' rows have negative ids. Cases are counted, with AUTOINCREMENT, so no
    ordinary case is numbered next to them (0007_anonymity); the tables numbered by time
    (storage/ids.py) keep no largest id at all (0014_anonids). A later migration that rebuilds
    one of them must keep it so."""
    if app.engine.dialect.name != "sqlite":
        return
    from sqlalchemy import text

    with app.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE name IN "
                "('cases', 'case_events', 'messages', 'attachments')"
            )
        ).all()
    assert {name: "AUTOINCREMENT" in sql for name, sql in found} == {
        "cases": True,
        "case_events": False,
        "messages": False,
        "attachments": False,
    }
