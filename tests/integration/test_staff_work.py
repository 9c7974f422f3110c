"""Staff work through the real unit of work, on SQLite and PostgreSQL."""

from sqlmodel import select

from handlers.casework.lifecycle import TRANSITIONS
from storage.models import CaseEvent
from tests.helpers import POTHOLE, Citizen, Clock, add_staff

CITIZEN_NUMBER = "+50370009999"
FOLIO = "TA-2026-000001"


def outbox_to(app, address: str) -> list[str]:
    with app.uow() as uow:
        return [item.body for item in uow.outbox.pending("whatsapp", address=address, limit=500)]


def test_a_case_worked_from_a_private_telegram_chat_keeps_its_audit_trail(app):
    clock = Clock()
    citizen = Citizen(
        app.dialogue, app.uow, address=CITIZEN_NUMBER, channel="whatsapp", clock=clock
    )
    citizen.converse(*POTHOLE)
    add_staff(app.uow, "Ana", telegram_id=111)
    agent = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=clock)
    assert "Ana tomó el caso" in agent.send(f"tomar:{FOLIO}")
    agent.send(f"/nota {FOLIO} llevar la retroexcavadora")
    agent.send(f"/pedir_info {FOLIO} ¿Hay un número de casa cerca?")
    assert "agregamos su respuesta" in citizen.send("frente a la casa 24")
    agent.send(f"/responder {FOLIO} La cuadrilla llega el jueves")
    assert "cerrado" in agent.send(f"/cerrar {FOLIO} Bache reparado")

    told = outbox_to(app, CITIZEN_NUMBER)
    assert not any("retroexcavadora" in body for body in told)
    assert any("La cuadrilla llega el jueves" in body for body in told)
    # Closed and asked about in one message: the notices were gathered.
    assert "Resolución: Bache reparado" in told[-1] and "¿Se resolvió" in told[-1]
    with app.uow() as uow:
        case = uow.cases.by_folio(FOLIO)
        events = [(e.actor, e.kind, e.to_status) for e in uow.cases.events(case.id)]
        answer = [m.body for m in uow.messages.for_case(case.id) if m.direction == "in"][-1]
    assert case.status == "cerrado" and case.resolution == "Bache reparado"
    assert events == [
        ("ciudadano", "created", "recibido"),
        ("Ana", "assigned", None),
        ("Ana", "status_changed", "asignado"),
        ("Ana", "note", None),
        ("Ana", "status_changed", "esperando_ciudadano"),
        ("ciudadano", "status_changed", "en_proceso"),
        ("Ana", "staff_reply", None),
        ("Ana", "status_changed", "cerrado"),
    ]
    assert answer == "frente a la casa 24"


def test_staff_commands_from_a_citizens_address_change_nothing(app):
    citizen = Citizen(app.dialogue, app.uow, address=CITIZEN_NUMBER, channel="whatsapp")
    citizen.converse(*POTHOLE)
    add_staff(app.uow, "Ana", whatsapp="+50370001111")
    for command in (f"/cerrar {FOLIO} listo", f"/tomar {FOLIO}", f"descartar:{FOLIO}", "/cola"):
        citizen.send(command)
    with app.uow() as uow:
        case = uow.cases.by_folio(FOLIO)
        kinds = [e.kind for e in uow.session.exec(select(CaseEvent)).all()]
    assert (case.status, case.assignee_id, case.closed_at) == ("recibido", None, None)
    assert kinds == ["created"]


def test_the_queue_orders_by_urgency_priority_and_deadline_and_filters(app):
    clock = Clock()
    for number in range(3):
        Citizen(
            app.dialogue, app.uow, address=f"+5037000000{number}", channel="whatsapp", clock=clock
        ).converse(*POTHOLE)
    add_staff(app.uow, "Ana", whatsapp="+50370001111")
    agent = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp", clock=clock)
    agent.send("/prioridad TA-2026-000002 afecta a una mujer embarazada")
    agent.send("/reclasificar TA-2026-000003 urgente")
    agent.send("/tomar TA-2026-000001")
    queue = agent.send("/cola")
    order = [line.split()[1] for line in queue.splitlines()[1:4]]
    assert order == ["TA-2026-000003", "TA-2026-000002", "TA-2026-000001"]
    mine = agent.send("/cola asignado=yo municipio=san_miguel")
    assert "TA-2026-000001" in mine and "TA-2026-000002 ·" not in mine
    assert "TA-2026-000003" in agent.send("/cola asignado=nadie tema=calles_caminos")
    assert "No hay casos" in agent.send("/cola estado=cerrado")


def test_every_status_in_the_transition_table_is_a_spec_label():
    from handlers.core.labels import STATUSES

    assert set(TRANSITIONS) == set(STATUSES)
