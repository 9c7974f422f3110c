"""Whole conversations through the real unit of work, on SQLite and PostgreSQL."""

import re

from sqlalchemy import inspect, text

from tests.helpers import POTHOLE, Citizen


def test_a_pothole_report_is_stored_with_its_messages_deadline_and_audit_trail(app):
    citizen = Citizen(app.dialogue, app.uow)
    receipt = citizen.converse(*POTHOLE)
    assert "Folio: TA-2026-000001" in receipt
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        messages = uow.messages.for_case(case.id)
        events = uow.cases.events(case.id)
        pending = uow.outbox.pending("console", address="7001")
    assert case.municipality == "San Miguel" and case.status == "recibido"
    assert app.policy.calendar.local_date(case.due_at).isoformat() == "2026-12-08"
    assert [m.body for m in messages if m.direction == "in"] == list(POTHOLE[3:])
    assert any("Folio: TA-2026-000001" in m.body for m in messages if m.direction == "out")
    assert [e.kind for e in events] == ["created"]
    assert len(pending) == 10 and "Folio: TA-2026-000001" in pending[-1].body


def test_the_conversation_survives_a_restart_of_the_service(app):
    from bot.app import create_app

    first = Citizen(app.dialogue, app.uow)
    first.converse(*POTHOLE[:5])
    restarted = create_app(app.settings)
    again = Citizen(restarted.dialogue, restarted.uow, clock=first.clock)
    assert "Folio: TA-2026-000001" in again.converse(*POTHOLE[5:])
    restarted.engine.dispose()


def test_an_anonymous_denuncia_leaves_the_senders_address_nowhere_near_the_case(app):
    citizen = Citizen(app.dialogue, app.uow, address="50370001234")
    citizen.converse(
        "hola",
        "si",
        "1",
        "denuncio que el contratista vende el asfalto de la obra",
        "listo",
        "si",
        "Apopa, colonia Popotlán",
    )
    receipt = citizen.send("1")
    code = re.search(r"Código secreto de seguimiento: (\S+)", receipt).group(1)
    with app.uow() as uow:
        (case,) = uow.cases.search()
        case_messages = uow.messages.for_case(case.id)
        assert "50370001234" not in repr(case.model_dump())
        assert case.contact_id is None and case.anonymous
        assert case_messages and all(m.contact_id is None for m in case_messages)
        # No row anywhere keeps the secret code in clear once it has been delivered.
        for item in uow.outbox.pending("console", address="50370001234"):
            uow.outbox.mark_sent(item, f"console-{item.id}", item.created_at)
        uow.commit()
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            dump = " ".join(map(str, connection.execute(text(f"SELECT * FROM {table}")).all()))
            assert code not in dump, f"the secret code is stored in {table}"
