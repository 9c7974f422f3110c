"""Keeping citizens' data only as long as the law asks: the retention run, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, text

from bot.scheduler import Scheduler
from handlers.casework.privacy import CHAT_MESSAGES
from tests.helpers import POTHOLE, TUESDAY, Citizen, Clock, add_staff

CITIZEN = "+50370001234"
AGENT = "+50370009999"


def test_the_retention_run_anonymises_cases_closed_long_ago_and_keeps_the_figures(app):
    clock = Clock()
    ana = Citizen(app.dialogue, app.uow, address=CITIZEN, channel="whatsapp", clock=clock)
    ana.converse(*POTHOLE)  # TA-2026-000001
    add_staff(app.uow, "Beto", whatsapp=AGENT)
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="whatsapp", clock=clock)
    agent.send("/cerrar TA-2026-000001 Se rellenó el hoyo frente a la casa de Ana")
    ana.converse(*POTHOLE)  # TA-2026-000002, still open
    ana.send("hola")

    days = app.policy.retention_days
    too_soon = Scheduler(app, lambda: TUESDAY + timedelta(days=days - 1), lambda: None)
    assert too_soon.anonymise_expired_cases() == []
    later = Scheduler(app, lambda: TUESDAY + timedelta(days=days + 1), lambda: None)
    assert later.anonymise_expired_cases() == ["TA-2026-000001"]
    assert later.anonymise_expired_cases() is None  # once a day, whichever process claims it

    with app.uow() as uow:
        old, current = uow.cases.by_folio("TA-2026-000001"), uow.cases.by_folio("TA-2026-000002")
        old_messages = uow.messages.for_case(old.id)
        events = uow.cases.events(old.id)
    assert (old.type, old.topic, old.channel, old.municipality) == (
        "solicitud",
        "calles_caminos",
        "whatsapp",
        "San Miguel Centro",
    )
    assert old.created_at and old.closed_at and old.status == "cerrado"
    assert old.contact_id is None and old.latitude is None and old.resolution is None
    assert "hoyo" not in old.description and all("hoyo" not in m.body for m in old_messages)
    assert all(event.note is None for event in events)
    assert events[-1].kind == "retention_anonymised"
    assert current.contact_id is not None and "hoyo enorme" in current.description

    # Nothing of the old case's words or of its closing note is left in any table.
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in ("cases", "messages", "outbox", "case_events"):
                rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
                assert "frente a la casa de Ana" not in " ".join(map(str, rows)), table


def test_the_retention_run_erases_people_with_no_open_case_who_wrote_nothing_for_that_long(app):
    days = app.policy.retention_days
    clock = Clock()
    ana = Citizen(app.dialogue, app.uow, address=CITIZEN, channel="whatsapp", clock=clock)
    ana.converse(*POTHOLE)  # TA-2026-000001, closed below
    add_staff(app.uow, "Beto", whatsapp=AGENT)
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="whatsapp", clock=clock)
    agent.send("/cerrar TA-2026-000001 Listo")
    # Luis said hello, gave his name in the chat and never reported anything.
    luis = Citizen(app.dialogue, app.uow, address="+50370005555", channel="whatsapp", clock=clock)
    luis.converse("hola", "si", "me llamo Luis Alberto Menjívar")
    # Rosa has an open case from the same day; Pedro first wrote then, and again lately.
    rosa = Citizen(app.dialogue, app.uow, address="+50370006666", channel="whatsapp", clock=clock)
    rosa.converse(*POTHOLE)  # TA-2026-000002, open
    pedro = Citizen(app.dialogue, app.uow, address="+50370007777", channel="whatsapp", clock=clock)
    pedro.converse("hola", "si")
    pedro.clock = Clock(TUESDAY + timedelta(days=days - 10))
    pedro.send("menu")
    with app.uow() as uow:  # the dispatcher sent every reply long ago
        for item in uow.outbox.pending("whatsapp"):
            uow.outbox.mark_sent(item, f"SM{item.id}", item.created_at)
        uow.commit()

    too_soon = Scheduler(app, lambda: TUESDAY + timedelta(days=days - 1), lambda: None)
    too_soon.anonymise_expired_cases()
    with app.uow() as uow:
        assert uow.contacts.find("whatsapp", "+50370005555") is not None

    later = Scheduler(app, lambda: TUESDAY + timedelta(days=days + 1), lambda: None)
    assert later.anonymise_expired_cases() == ["TA-2026-000001"]
    with app.uow() as uow:
        assert uow.contacts.find("whatsapp", CITIZEN) is None
        assert uow.contacts.find("whatsapp", "+50370005555") is None
        assert uow.contacts.find("whatsapp", "+50370006666") is not None
        assert uow.contacts.find("whatsapp", "+50370007777") is not None
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            dump = " ".join(map(str, connection.execute(text(f"SELECT * FROM {table}")).all()))
            for gone in (CITIZEN, "+50370005555", "Luis Alberto Menjívar"):
                assert gone not in dump, f"{gone!r} is still in {table}"


def test_a_first_retention_run_over_thousands_of_cases_leaves_nothing_of_anyone(app):
    # A year of cases before the service kept any: more expired cases and idle people than a
    # statement lists one by one (storage.repositories.LISTED_IDS), so the run binds them as one
    # value, as it does on a real first run.
    from bot.reporting import fill_demo_data
    from storage.repositories import LISTED_IDS

    days = app.policy.retention_days
    fill_demo_data(app, 3 * LISTED_IDS, 7, TUESDAY)
    clock = Clock()
    ana = Citizen(app.dialogue, app.uow, address=CITIZEN, channel="whatsapp", clock=clock)
    ana.converse(*POTHOLE)
    add_staff(app.uow, "Beto", whatsapp=AGENT)
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="whatsapp", clock=clock)
    with app.uow() as uow:
        folio = uow.cases.for_contact(uow.contacts.find("whatsapp", CITIZEN).id)[0].folio
    agent.send(f"/cerrar {folio} Se rellenó el hoyo frente a la casa de Ana")
    with app.uow() as uow:  # the dispatcher sent every reply long ago
        for item in uow.outbox.pending("whatsapp"):
            uow.outbox.mark_sent(item, f"SM{item.id}", item.created_at)
        uow.commit()

    later = Scheduler(app, lambda: TUESDAY + timedelta(days=days + 1), lambda: None)
    folios = later.anonymise_expired_cases()
    assert folios is not None and folio in folios and len(folios) > LISTED_IDS

    with app.engine.connect() as connection:
        left = connection.execute(
            text(
                "SELECT count(*) FROM cases WHERE status IN ('cerrado', 'descartado') "
                "AND (contact_id IS NOT NULL OR description NOT LIKE '[%')"
            )
        ).scalar_one()
        anonymised = connection.execute(
            text("SELECT count(*) FROM case_events WHERE kind = 'retention_anonymised'")
        ).scalar_one()
        erased, idle = connection.execute(
            text(
                "SELECT sum(CASE WHEN address LIKE 'borrado:%' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN address NOT LIKE 'borrado:%' AND id NOT IN "
                "(SELECT contact_id FROM cases WHERE contact_id IS NOT NULL) THEN 1 ELSE 0 END) "
                "FROM contacts"
            )
        ).one()
        dump = " ".join(
            " ".join(map(str, connection.execute(text(f"SELECT * FROM {table}")).all()))
            for table in ("cases", "messages", "outbox", "case_events", "contacts")
        )
    assert left == 0 and anonymised == len(folios)
    # Everyone left with no case, who has written nothing since, is erased (the agent too: the
    # staff account stays, the chat contact goes).
    assert erased > LISTED_IDS and idle == 0
    assert CITIZEN not in dump and "frente a la casa de Ana" not in dump


def test_mis_datos_counts_the_one_message_it_leaves_out_in_the_singular(app):
    ana = Citizen(app.dialogue, app.uow, address=CITIZEN, channel="whatsapp", clock=Clock())
    ana.converse(*POTHOLE)

    def stored() -> int:
        with app.uow() as uow:
            contact = uow.contacts.get_or_create("whatsapp", CITIZEN, ana.clock())
            return uow.messages.count_for_contact(contact.id)

    while stored() < CHAT_MESSAGES:
        ana.send("gracias")
    assert stored() == CHAT_MESSAGES  # "mis datos" is the one more
    answer = ana.send("mis datos")
    assert f"Mensajes guardados: {CHAT_MESSAGES + 1}" in answer
    assert "(y 1 mensaje más antiguo que no mostramos aquí; pida la copia" in answer
    answer = ana.send("mis datos")
    assert "(y 2 mensajes más antiguos que no mostramos aquí; pida la copia" in answer
