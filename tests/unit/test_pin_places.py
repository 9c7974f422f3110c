"""A case whose only place is a shared pin (no words): every text that names the case's place
says it is a shared location, with its coordinates, never "sin lugar" beside a pin."""

from __future__ import annotations

import pytest

from handlers.casework.documents import place_of
from handlers.core.messages import Location
from storage.models import Case, OutboxItem, Staff
from tests.helpers import Citizen, add_staff, make_dialogue, make_settings
from tests.unit.fakes import FakeClassifier

CITIZEN_NUMBER = "+50370009999"
AGENT_NUMBER = "+50370001111"
FOLIO = "TA-2026-000001"
# Out at sea off the coast: no municipality is near enough to name it.
AT_SEA = Location(13.0, -90.5)
IN_TOWN = Location(13.69294, -89.21819)  # San Salvador Centro
BLEEDING = "hay un señor sangrando en la calle del puente, vengan rapido"


@pytest.fixture
def citizen(make_citizen) -> Citizen:
    return make_citizen(CITIZEN_NUMBER, channel="whatsapp")


def report_with_a_pin(citizen: Citizen, pin: Location) -> None:
    citizen.converse("hola", "si", "1", "la calle principal tiene un hoyo enorme")
    citizen.send(location=pin)
    citizen.converse("listo", "si", "omitir")  # the pin answers where: no place question


def the_case(uow) -> Case:
    (case,) = uow.rows[Case]
    return case


def test_the_emergency_alert_names_the_pin_shared_before_it_not_sin_ubicacion(citizen, uow, clock):
    uow.insert(Staff(name="Turno", role="agent", telegram_id=555, created_at=clock.now))
    citizen.converse("hola", "si", "1")
    citizen.send(location=AT_SEA)
    citizen.converse(BLEEDING, "si")  # people in danger: an emergency, staff alerted at once
    (alert,) = [o.body for o in uow.rows[OutboxItem] if o.address == "555"]
    assert alert.splitlines()[0] == (
        f"🚨 EMERGENCIA {FOLIO} (puentes): ubicación compartida (13.00000, -90.50000)"
        " https://www.openstreetmap.org/?mlat=13.00000&mlon=-90.50000"
    )


def test_a_staff_card_shows_the_pin_when_it_names_no_municipality(citizen, uow, make_citizen):
    report_with_a_pin(citizen, AT_SEA)
    assert the_case(uow).location_text is None and the_case(uow).municipality is None
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    card = make_citizen(AGENT_NUMBER, channel="whatsapp").send(f"/caso {FOLIO}")
    assert "📍 ubicación compartida (13.00000, -90.50000)" in card


def test_a_staff_card_shows_the_pins_municipality_and_the_pin(citizen, uow, make_citizen):
    report_with_a_pin(citizen, IN_TOWN)
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    card = make_citizen(AGENT_NUMBER, channel="whatsapp").send(f"/caso {FOLIO}")
    assert (
        "📍 ubicación compartida (13.69294, -89.21819) · San Salvador Centro (San Salvador)"
    ) in card


def test_a_visit_to_a_pin_names_it_to_the_citizen_and_the_staff(citizen, uow, make_citizen):
    report_with_a_pin(citizen, AT_SEA)
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    agent = make_citizen(AGENT_NUMBER, channel="whatsapp")
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    told = [o.body for o in uow.rows[OutboxItem] if o.address == CITIZEN_NUMBER]
    assert told[-1].startswith(
        f"📅 Caso {FOLIO}: le proponemos una visita técnica a la ubicación que nos compartió"
        " (13.00000, -90.50000) el jueves 19/11/2026 de 09:00 a 11:00."
    )
    assert "· ubicación compartida (13.00000, -90.50000) ·" in agent.send("/visitas")
    assert "lugar sin indicar" not in agent.send("/visitas")


def test_what_the_citizen_reads_of_their_data_and_documents_names_the_pin(citizen, uow):
    report_with_a_pin(citizen, AT_SEA)
    assert "• Lugar: 13.0, -90.5" in citizen.send("mis datos")
    dialogue = make_dialogue(make_settings(), FakeClassifier())
    assert place_of(dialogue.policy, the_case(uow)) == ("Ubicación compartida: 13.00000, -90.50000")
