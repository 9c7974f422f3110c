"""The citizen dialogue, as conversations, against an in-memory unit of work."""

import re

import pytest

from handlers.messages import Location, Media
from storage.models import Case, CaseEvent, Contact, Message, OutboxItem, Staff
from tests.helpers import POTHOLE, Citizen, make_dialogue
from tests.unit.fakes import FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def citizen(uow: FakeUnitOfWork) -> Citizen:
    return Citizen(make_dialogue(), lambda: uow)


def only_case(uow: FakeUnitOfWork) -> Case:
    (case,) = uow.rows[Case]
    return case


def test_first_contact_greets_and_asks_consent_before_anything_else(citizen, uow):
    answer = citizen.send("hola")
    assert "Ministerio de Obras Públicas" in answer
    assert "Aviso de privacidad" in answer and "BORRAR MIS DATOS" in answer
    assert "1. Sí, acepto" in answer
    assert uow.rows[Case] == []


def test_a_pothole_report_ends_with_a_receipt_and_a_stored_case(citizen, uow):
    receipt = citizen.converse(*POTHOLE)
    assert "Folio: TA-2026-000001" in receipt
    assert "Fecha y hora: 17/11/2026 09:" in receipt
    assert "Canal: Consola de prueba" in receipt
    assert "Tipo: solicitud (calles y caminos)" in receipt
    # Received Tuesday 17 November: 15 business days from Wednesday 18 is Tuesday 8 December.
    assert "Fecha límite de respuesta: martes 08/12/2026 (15 días hábiles)" in receipt
    case = only_case(uow)
    assert (case.type, case.topic, case.status, case.channel) == (
        "solicitud",
        "calles_caminos",
        "recibido",
        "console",
    )
    assert case.description == "la calle principal de la colonia Las Brisas tiene un hoyo enorme"
    assert case.municipality == "San Miguel"
    assert case.location_text == "San Miguel, colonia Las Brisas"
    assert [e.kind for e in uow.rows[CaseEvent]] == ["created"]


def test_every_reply_is_queued_in_the_outbox(citizen, uow):
    citizen.converse(*POTHOLE)
    assert len(uow.rows[OutboxItem]) == len([m for m in uow.rows[Message] if m.direction == "out"])
    assert any("Folio: TA-2026-000001" in item.body for item in uow.rows[OutboxItem])


def test_consent_accepts_si_with_accent_and_acepto():
    for answer in ("sí", "Acepto", "SI"):
        uow = FakeUnitOfWork()
        person = Citizen(make_dialogue(), lambda u=uow: u)
        person.send("hola")
        assert "En qué le podemos ayudar" in person.send(answer)


def test_refusing_consent_stores_no_case_and_says_how_to_change_ones_mind(citizen, uow):
    citizen.send("hola")
    answer = citizen.send("no")
    assert "sin su autorización no guardamos" in answer and "911" in answer
    assert "Para continuar necesitamos su autorización" in citizen.send("hay un hoyo en mi calle")
    assert uow.rows[Case] == []


def test_a_first_message_that_already_describes_the_problem_is_kept_after_consent(citizen, uow):
    citizen.send("buenas, el puente de la colonia se esta cayendo a pedazos hace semanas")
    assert "Puede enviar más detalles" in citizen.send("si")
    assert "puente" in citizen.send("listo")


def test_menu_accepts_the_word_as_well_as_the_number(citizen):
    citizen.converse("hola", "si")
    assert "Cuéntenos qué pasa" in citizen.send("reportar")


def test_free_text_at_the_menu_starts_a_report(citizen):
    citizen.converse("hola", "si")
    assert "Puede enviar más detalles" in citizen.send("hay un hoyo grande frente a la escuela")


@pytest.mark.parametrize("nonsense", ["asdf", "", "😀😀😀", "x" * 10_000, "!!!???", "\x00\x01"])
def test_nonsense_at_every_step_gets_help_and_the_dialogue_goes_on(nonsense):
    steps = [
        "hola",
        "si",
        "1",
        "la calle principal tiene un hoyo enorme",
        "listo",
        "si",
        "San Miguel, colonia Las Brisas",
        "omitir",
    ]
    for position in range(len(steps)):
        uow = FakeUnitOfWork()
        person = Citizen(make_dialogue(), lambda u=uow: u)
        person.converse(*steps[:position])
        answer = person.send(nonsense)
        assert answer.strip(), f"no answer to nonsense at step {position}"
        receipt = person.converse(*steps[position:])
        assert "Folio: TA-2026-000001" in receipt, f"no recovery after nonsense at step {position}"


def test_several_messages_photos_and_a_pin_make_one_description(citizen, uow):
    citizen.converse("hola", "si", "1")
    citizen.send("se tapo el tragante de la esquina")
    assert "Recibimos su archivo" in citizen.send(
        media=(Media("photo", "https://example.invalid/1.jpg", "image/jpeg"),)
    )
    assert "Recibimos su ubicación" in citizen.send(location=Location(13.48, -88.17))
    citizen.send("y cuando llueve se inunda toda la calle")
    citizen.send("listo")
    citizen.converse("si", "omitir", "omitir")
    case = only_case(uow)
    assert case.description == (
        "se tapo el tragante de la esquina\ny cuando llueve se inunda toda la calle"
    )
    assert (case.latitude, case.longitude) == (13.48, -88.17)
    assert case.topic == "drenaje"


def test_the_classification_can_be_corrected_by_number(citizen, uow):
    citizen.converse("hola", "si", "1", "la calle principal tiene un hoyo enorme", "listo")
    assert "Qué tipo de caso es" in citizen.send("no")
    assert "Sobre qué tema" in citizen.send("2")
    assert "Dónde ocurre" in citizen.send("1")
    citizen.converse("omitir", "omitir")
    case = only_case(uow)
    assert (case.type, case.topic, case.confidence) == ("consulta", "calles_caminos", 1.0)


def test_a_vague_description_lets_the_person_choose_the_type(citizen):
    citizen.converse("hola", "si", "1", "quiero decirles algo sobre mi comunidad")
    assert "Qué tipo de caso es" in citizen.send("listo")


def test_gender_and_age_are_optional_and_asked_once(citizen, uow):
    citizen.converse(*POTHOLE[:-1])
    citizen.send("mujer 34")
    contact = uow.rows[Contact][0]
    assert (contact.gender, contact.age) == ("mujer", 34)
    assert (only_case(uow).gender, only_case(uow).age) == ("mujer", 34)
    receipt = citizen.converse(
        "1", "se cayo el rotulo de pare en la esquina", "listo", "si", "omitir"
    )
    assert "Folio: TA-2026-000002" in receipt


def test_an_anonymous_denuncia_gets_a_secret_code_and_keeps_no_link_to_the_sender(citizen, uow):
    citizen.converse(
        "hola",
        "si",
        "1",
        "quiero denunciar que la constructora bota ripio ilegal en el rio",
        "listo",
    )
    assert "Desea que sea anónima" in citizen.converse("si", "Soyapango")
    receipt = citizen.send("1")
    code = re.search(r"Código secreto de seguimiento: (\S+)", receipt).group(1)
    assert "Folio" not in receipt
    case = only_case(uow)
    assert case.anonymous and case.contact_id is None and case.gender == "sin_dato"
    assert case.reporter_hash and citizen.address not in case.reporter_hash
    assert all(m.contact_id is None for m in uow.rows[Message] if m.case_id == case.id)
    assert all(code not in m.body for m in uow.rows[Message])
    assert "Estado: Recibido" in citizen.send(f"estado {code}")


def test_estado_shows_ones_own_case_and_the_same_answer_for_others_and_missing_ones(uow):
    dialogue = make_dialogue()
    ana = Citizen(dialogue, lambda: uow, address="7001")
    ben = Citizen(dialogue, lambda: uow, address="7002")
    ana.converse(*POTHOLE)
    mine = ana.send("estado TA-2026-000001")
    assert "Caso TA-2026-000001: solicitud sobre calles y caminos" in mine
    assert "Estado: Recibido" in mine and "Caso recibido" in mine
    ben.converse("hola", "si")
    someone_elses = ben.send("estado TA-2026-000001")
    missing = ben.send("estado TA-2026-000999")
    assert someone_elses == missing and "No encontramos ese caso" in missing


def test_estado_without_a_folio_lists_ones_cases(citizen):
    citizen.converse(*POTHOLE)
    assert "TA-2026-000001: solicitud, Recibido" in citizen.send("estado")


def test_an_emergency_skips_the_questions_tells_the_numbers_and_alerts_staff(citizen, uow):
    uow.insert(Staff(name="Turno", role="agent", telegram_id=555, created_at=citizen.clock.now))
    citizen.converse("hola", "si", "1")
    answer = citizen.send("se derrumbo el cerro sobre las casas y hay gente atrapada")
    assert "llame ahora al 911" in answer and "Folio: TA-2026-000001" in answer
    case = only_case(uow)
    assert case.urgency == "emergencia"
    alerts = [o for o in uow.rows[OutboxItem] if o.channel == "telegram" and o.address == "555"]
    assert len(alerts) == 1 and "EMERGENCIA TA-2026-000001" in alerts[0].body
    assert "Agregamos esta información a su caso TA-2026-000001" in citizen.send(
        "es en la colonia El Carmen"
    )
    assert "colonia El Carmen" in case.description


def test_a_redelivered_message_is_acknowledged_and_changes_nothing(citizen, uow):
    citizen.send("hola", provider_id="SM1")
    assert citizen.send("hola", provider_id="SM1") == ""
    assert len([m for m in uow.rows[Message] if m.direction == "in"]) == 1


def test_menu_cancels_a_report_in_progress(citizen, uow):
    citizen.converse("hola", "si", "1", "hay un hoyo en la calle de mi casa")
    answer = citizen.send("menu")
    assert "Dejamos sin registrar" in answer and "1. Reportar un problema" in answer
    assert citizen.send("listo").startswith("No entendimos")
    assert uow.rows[Case] == []
