"""The citizen dialogue, as conversations, against an in-memory unit of work."""

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.core.messages import MAX_MESSAGE, Location, Media, Option, Reply
from handlers.dialogue.intake import queue
from storage.models import Case, CaseEvent, Contact, Message, OutboxItem, Staff
from tests.helpers import (
    DENUNCIA,
    POTHOLE,
    TUESDAY,
    Citizen,
    assert_transcript,
    make_dialogue,
    make_settings,
)
from tests.unit.fakes import FakeClassifier, FakeUnitOfWork

# What the bot says, to the letter, at the steps most conversations go through.
# The first answer: who we are, what is stored, why, for how long, and how to see or delete it.
GREETING = (
    "¡Hola! Le atiende Teléfono Abierto — Ministerio de Obras Públicas (MOPT). Por aquí puede"
    " reportar problemas, hacer consultas, quejas, reclamos, sugerencias y denuncias, y darles"
    " seguimiento.\n"
    "Aviso de privacidad: guardamos lo que nos escriba (mensajes, fotos, ubicación) y su número o"
    " usuario del chat, solo para atender y dar seguimiento a su caso y para estadísticas sin"
    " nombres. Se conservan 730 días después de cerrado el caso (si no tiene casos, 730 días"
    " después de su último mensaje). Puede pedir ver o borrar sus datos cuando quiera escribiendo"
    " MIS DATOS o BORRAR MIS DATOS.\n"
    "¿Está de acuerdo?\n"
    "1. Sí, acepto\n"
    "2. No"
)
MENU = (
    "Gracias por aceptar.\n"
    "¿En qué le podemos ayudar? Responda con el número o la palabra:\n"
    "1. Reportar un problema\n"
    "2. Consultar un caso\n"
    "3. Hablar con una persona\n"
    "4. Información"
)
DESCRIBE = (
    "Cuéntenos qué pasa y dónde. Puede enviar varios mensajes, fotos, videos, notas de voz o su"
    " ubicación. Cuando termine, escriba LISTO."
)
MORE = "Recibido. Puede enviar más detalles, fotos o su ubicación. Cuando termine, escriba LISTO."
WHERE = (
    "¿Dónde ocurre? Comparta su ubicación desde el chat, o escriba el municipio y la colonia, por"
    " ejemplo: San Miguel, colonia Las Brisas. Si no desea indicarlo, escriba OMITIR."
)
NOT_FOUND = (
    "No encontramos ese caso entre los suyos. Revise el número: los folios se ven así:"
    " TA-2026-000123."
)

# A denuncia up to the question about anonymity.


def only_case(uow: FakeUnitOfWork) -> Case:
    (case,) = uow.rows[Case]
    return case


def test_first_contact_greets_and_asks_consent_before_anything_else(citizen, uow):
    assert_transcript(
        citizen,
        [
            ("hola", GREETING),
            (
                "el puente de la colonia se está cayendo, necesitamos ayuda",
                "🚨 Si hay personas en peligro, llame ahora al 911.\n"
                "Para continuar necesitamos su autorización. Responda SI para aceptar o NO.\n"
                "1. Sí, acepto\n"
                "2. No",
            ),
        ],
    )
    assert uow.rows[Case] == []  # still no case before consent


@pytest.mark.parametrize(
    "name", ["Alcaldía Mayor de Bogotá", "Secretaría General", "Ministerio de Obras Públicas"]
)
def test_the_institution_is_named_correctly_whatever_its_gender_or_number(uow, name):
    settings = make_settings(institution={"name": name, "short_name": "TA"})
    citizen = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    greeting = citizen.send("hola")
    information = citizen.converse("si", "4")
    assert greeting.startswith(f"¡Hola! Le atiende Teléfono Abierto — {name} (TA). Por aquí")
    assert information.startswith(
        f"Teléfono Abierto ({name}) recibe solicitudes, consultas, quejas, reclamos,"
    )
    for said in (greeting, information):  # no article the name may not take
        assert not re.search(rf"\b(del|de la|de los|de las|al|el|la) {name}", said)


def test_a_pothole_report_ends_with_a_receipt_and_a_stored_case(citizen, uow):
    hello, consent, menu, description, done, confirm, place, skip = POTHOLE
    assert_transcript(
        citizen,
        [
            (hello, GREETING),
            (consent, MENU),
            (menu, DESCRIBE),
            (description, MORE),
            (
                done,
                "Entendemos que es una *solicitud* sobre *calles y caminos*. ¿Es correcto?\n"
                "1. Sí, es correcto\n"
                "2. No, quiero cambiarlo",
            ),
            (confirm, WHERE),
            (
                place,
                "Solo para estadísticas, y es opcional: ¿con qué género se identifica, y qué edad"
                " tiene? Por ejemplo: mujer 34. Si prefiere no decirlo, escriba OMITIR.\n"
                "1. Mujer\n"
                "2. Hombre\n"
                "3. Otro",
            ),
            (
                skip,
                "✅ Su caso quedó registrado.\n"
                "Folio: TA-2026-000001\n"
                "Fecha y hora: 17/11/2026 09:08\n"
                "Canal: Consola de prueba\n"
                "Tipo: solicitud (calles y caminos)\n"
                # Received Tuesday 17 November: 15 business days from Wednesday 18 is Tuesday 8/12.
                "Fecha límite de respuesta: martes 08/12/2026 (15 días hábiles)\n"
                "Para saber cómo va, escriba: estado TA-2026-000001",
            ),
        ],
    )
    case = only_case(uow)
    assert (case.type, case.topic, case.status, case.channel) == (
        "solicitud",
        "calles_caminos",
        "recibido",
        "console",
    )
    assert case.description == "la calle principal de la colonia Las Brisas tiene un hoyo enorme"
    assert (case.department, case.municipality, case.district) == (
        "San Miguel",
        "San Miguel Centro",
        "San Miguel",
    )
    assert case.location_text == "San Miguel, colonia Las Brisas"
    assert [e.kind for e in uow.rows[CaseEvent]] == ["created"]


def test_consent_accepts_si_with_accent_and_acepto(dialogue):
    for answer in ("sí", "Acepto", "SI"):
        uow = FakeUnitOfWork()
        person = Citizen(dialogue, lambda u=uow: u)
        person.send("hola")
        assert "En qué le podemos ayudar" in person.send(answer)


def test_refusing_consent_erases_what_was_written_and_who_wrote_it(citizen, uow):
    citizen.send("hay un hoyo enorme frente a mi casa en la colonia Miramonte")
    answer = citizen.send("no")
    assert "sin su autorización no registramos casos" in answer and "911" in answer
    assert all(m.contact_id is None and "hoyo" not in m.body for m in uow.rows[Message])
    assert "7001" not in [c.address for c in uow.rows[Contact]]
    assert "Aviso de privacidad" in citizen.send("hola otra vez")
    assert uow.rows[Case] == []


def test_a_first_message_that_already_describes_the_problem_is_kept_after_consent(citizen, uow):
    citizen.send("buenas, el puente de la colonia tiene grietas desde hace semanas")
    assert "Puede enviar más detalles" in citizen.send("si")
    assert "puente" in citizen.send("listo")


def test_menu_accepts_the_word_as_well_as_the_number(citizen):
    citizen.converse("hola", "si")
    assert "Cuéntenos qué pasa" in citizen.send("reportar")


def test_free_text_at_the_menu_starts_a_report(citizen):
    citizen.converse("hola", "si")
    assert "Puede enviar más detalles" in citizen.send("hay un hoyo grande frente a la escuela")


@pytest.mark.parametrize("nonsense", ["asdf", "", "😀😀😀", "x" * 10_000, "!!!???", "\x00\x01"])
def test_nonsense_at_every_step_gets_help_and_the_dialogue_goes_on(dialogue, nonsense):
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
        person = Citizen(dialogue, lambda u=uow: u)
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
    # Asked «solo para estadísticas»: the answer is a figure, not a line staff read in the case.
    said = [m.body for m in uow.rows[Message] if m.direction == "in"]
    assert "mujer 34" not in said and "(respuesta para estadísticas: no se muestra)" in said
    receipt = citizen.converse(
        "1", "se cayo el rotulo de pare en la esquina", "listo", "si", "omitir"
    )
    assert "Folio: TA-2026-000002" in receipt


def test_an_anonymous_denuncia_gets_a_secret_code_and_keeps_no_link_to_the_sender(citizen, uow):
    assert_transcript(
        citizen,
        [
            ("hola", GREETING),
            ("si", MENU),
            ("1", DESCRIBE),
            ("quiero denunciar que la constructora bota ripio ilegal en el rio", MORE),
            (
                "listo",
                "Entendemos que es una *denuncia* sobre *obras en ejecución*. ¿Es correcto?\n"
                "1. Sí, es correcto\n"
                "2. No, quiero cambiarlo",
            ),
            ("si", WHERE),
            (
                "Soyapango",
                "Puede hacer esta denuncia de forma anónima: no guardaremos su número ni su nombre"
                " junto al caso, y recibirá un código secreto para darle seguimiento. ¿Desea que"
                " sea anónima?\n"
                "1. Sí, anónima\n"
                "2. No, con mis datos",
            ),
        ],
    )
    receipt = citizen.send("1")
    code = re.search(r"Código secreto de seguimiento: (\S+)", receipt).group(1)  # random
    # No folio: the code is the only way back to the case. The person is told the hour; the
    # case keeps only the day (below).
    assert receipt == (
        "✅ Su denuncia anónima quedó registrada.\n"
        f"Código secreto de seguimiento: {code}\n"
        "Guárdelo: es la única forma de consultarla y no lo volveremos a mostrar.\n"
        "Fecha y hora: 17/11/2026 09:08\n"
        "Canal: Consola de prueba\n"
        "Tipo: denuncia (obras en ejecución)\n"
        "Fecha límite de respuesta: martes 08/12/2026 (15 días hábiles)\n"
        f"Para saber cómo va, escriba: estado {code}"
    )
    case = only_case(uow)
    assert case.anonymous and case.contact_id is None and case.gender == "sin_dato"
    (contact,) = uow.rows[Contact]
    # Every message of the report, both ways, from the menu choice on, is unlinked from the
    # sender and goes with the case; the greeting and consent before it stay theirs, as they
    # do for anyone who consents and writes no more.
    of_case = [m for m in uow.rows[Message] if m.case_id == case.id]
    assert {m.direction for m in of_case} == {"in", "out"}
    assert all(m.contact_id is None for m in of_case)
    assert not any(m.body.startswith("Gracias por aceptar") for m in of_case)
    theirs = [m for m in uow.rows[Message] if m.contact_id == contact.id]
    assert [m.body for m in theirs if m.direction == "in"] == ["hola", "si"]
    status = (
        "Su denuncia anónima: denuncia sobre obras en ejecución\n"
        "Estado: Recibido\n"
        "Recibido: 17/11/2026\n"
        "Fecha límite de respuesta: martes 08/12/2026\n"
        "Historial:\n"
        "• 17/11/2026: Caso recibido"
    )
    assert_transcript(
        citizen, [(f"estado {code.lower()}", status), (f"estado {code.replace('-', ' ')}", status)]
    )
    # Asking with the code links nothing more to the sender.
    assert [m for m in uow.rows[Message] if m.contact_id == contact.id] == theirs
    assert all(code not in m.body and code.lower() not in m.body for m in uow.rows[Message])


def test_estado_shows_ones_own_case_and_the_same_answer_for_others_and_missing_ones(
    citizen, make_citizen, case
):
    ana, ben = citizen, make_citizen("7002")
    mine = (
        "Caso TA-2026-000001: solicitud sobre calles y caminos\n"
        "Estado: Recibido\n"
        "Recibido: 17/11/2026 09:08\n"
        "Fecha límite de respuesta: martes 08/12/2026\n"
        "Historial:\n"
        "• 17/11/2026 09:08: Caso recibido"
    )
    assert_transcript(ana, [("estado TA-2026-000001", mine)])
    assert_transcript(
        ben,
        [
            ("hola", GREETING),
            ("si", MENU),
            ("estado TA-2026-000001", NOT_FOUND),  # someone else's
            ("estado TA-2026-000999", NOT_FOUND),  # missing
        ],
    )


def test_estado_without_a_folio_lists_ones_cases(citizen, case):
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
    assert "¿Dónde es?" in answer
    assert "enviamos el lugar al equipo de turno" in citizen.send("es en la colonia El Carmen")
    # The answer to where is the case's place, not more of its description.
    assert case.description == "se derrumbo el cerro sobre las casas y hay gente atrapada"
    assert case.location_text == "es en la colonia El Carmen"


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


def test_an_emergency_in_the_first_message_gets_the_numbers_before_consent(citizen, uow):
    first = citizen.send("auxilio se derrumbo el cerro sobre las casas y hay gente atrapada")
    assert "llame ahora al 911" in first and "Aviso de privacidad" in first
    assert uow.rows[Case] == []
    after_consent = citizen.send("si")
    assert "Folio: TA-2026-000001" in after_consent
    assert only_case(uow).urgency == "emergencia"


def test_an_emergency_denuncia_is_filed_at_once_and_anonymously(citizen, uow):
    uow.insert(Staff(name="Turno", role="agent", telegram_id=555, created_at=citizen.clock.now))
    citizen.converse("hola", "si", "1")
    answer = citizen.send("denuncio que el contratista tiene gente atrapada en la mina ilegal")
    assert "llame ahora al 911" in answer and "Código secreto" in answer
    case = only_case(uow)
    assert case.anonymous and case.urgency == "emergencia" and case.contact_id is None
    assert any(o.address == "555" and case.folio in o.body for o in uow.rows[OutboxItem])
    (contact,) = uow.rows[Contact]
    theirs = [m for m in uow.rows[Message] if m.contact_id == contact.id]
    assert [m.body for m in theirs if m.direction == "in"] == ["hola", "si"]  # no part of it


def test_saying_it_is_not_an_emergency_is_heard(citizen, uow):
    citizen.converse("hola", "si", "1")
    answer = citizen.send("no es una emergencia pero hay gente atrapada en el trafico por un hoyo")
    assert "Recibido" in answer and uow.rows[Case] == []


@pytest.mark.parametrize("greeting", ["Hola, buenas tardes", "buenos dias", "hola buenas noches"])
def test_a_greeting_is_not_taken_as_a_report(citizen, greeting):
    citizen.send(greeting)
    assert "1. Reportar un problema" in citizen.send("si")
    assert "1. Reportar un problema" in citizen.send(greeting)


def test_thanks_after_a_receipt_gets_a_kind_word_not_a_new_report(citizen, uow, case):
    assert "Con gusto" in citizen.send("muchas gracias")
    assert len(uow.rows[Case]) == 1


@pytest.mark.parametrize("refusal", ["claro que no", "bueno, no", "no gracias"])
def test_a_no_anywhere_in_the_answer_refuses_consent(citizen, refusal):
    citizen.send("hola")
    assert "sin su autorización" in citizen.send(refusal)


def test_asking_for_a_status_in_the_middle_of_a_report_keeps_the_report(citizen, uow, case):
    citizen.converse("1", "hay un hoyo enorme en la calle del mercado")
    answer = citizen.send("estado TA-2026-000001")
    assert "Estado: Recibido" in answer and "Seguimos con su reporte" in answer
    assert "Entendemos que es una" in citizen.send("listo")


def test_the_cases_listed_in_the_middle_of_a_report_are_not_numbered_as_answers(citizen, case):
    citizen.converse("1", "hay un hoyo enorme en la calle del mercado")
    answer = citizen.send("estado")
    # The report's question comes next: a "1." there would read as an answer to choose.
    assert "• TA-2026-000001: solicitud, Recibido" in answer
    assert "1. TA-2026-000001" not in answer and "número de la lista" not in answer
    assert "Seguimos con su reporte" in answer


def test_a_bare_folio_number_finds_ones_own_case(citizen, case):
    citizen.send("2")
    assert "Caso TA-2026-000001" in citizen.send("000001")


def test_at_the_folio_question_numbers_past_the_list_are_menu_choices(citizen, case):
    citizen.send("2")
    assert "Teléfono Abierto (Ministerio de Obras Públicas) recibe" in citizen.send("4")


def test_ayuda_explains_and_asks_the_pending_question_again(citizen):
    citizen.converse("hola", "si", "1", "la calle principal tiene un hoyo enorme", "listo")
    answer = citizen.send("ayuda")
    assert "MENU" in answer and "Es correcto?" in answer and "1. Sí, es correcto" in answer


def test_mis_datos_shows_what_is_stored(citizen):
    citizen.converse(*POTHOLE[:-1], "hombre 52")
    answer = citizen.send("mis datos")
    assert "Número o usuario: 7001" in answer and "Género: hombre" in answer
    assert "Edad: 52" in answer and "TA-2026-000001" in answer


def test_mis_datos_shows_each_case_and_the_messages_themselves(citizen):
    citizen.converse(*POTHOLE[:-1], "hombre 52")
    answer = citizen.send("mis datos")
    assert "Caso TA-2026-000001 (solicitud, calles y caminos)\n• Estado: Recibido" in answer
    assert "Recibido el 17/11/2026 09:08; plazo: martes 08/12/2026" in answer
    assert "Lugar: San Miguel, colonia Las Brisas" in answer
    assert "Descripción: la calle principal de la colonia Las Brisas tiene un hoyo" in answer
    assert "usted: la calle principal de la colonia Las Brisas tiene un hoyo enorme" in answer
    assert "nosotros: ✅ Su caso quedó registrado. Folio: TA-2026-000001" in answer


def test_mis_datos_shows_a_shared_pin_and_the_municipality_it_falls_in(citizen):
    citizen.converse("hola", "si", "1", "se tapo el tragante de la esquina")
    citizen.send(location=Location(13.48, -88.17))
    citizen.converse("listo", "si", "omitir")
    citizen.send("omitir")
    assert "Lugar: San Miguel Centro, 13.48, -88.17" in citizen.send("mis datos")


def test_a_long_history_comes_as_several_chat_messages_and_says_what_it_leaves_out(citizen, uow):
    citizen.converse(*POTHOLE[:-1], "hombre 52")
    for n in range(60):
        citizen.send(f"otra cosa más sobre el hoyo número {n}: " + "sigue igual " * 40)
    answer = citizen.send("mis datos")
    assert "número 59" in answer and "número 1:" not in answer
    assert "mensajes más antiguos que no mostramos aquí" in answer
    sent = [o.body for o in uow.rows[OutboxItem] if o.confidential]
    assert len(sent) > 1 and all(len(body) <= MAX_MESSAGE for body in sent)


def test_borrar_mis_datos_erases_the_person_and_keeps_the_figures(citizen, uow):
    citizen.converse(*POTHOLE[:-1], "mujer 30")
    assert_transcript(
        citizen,
        [
            (
                "borrar mis datos",
                "¿Seguro que quiere borrar sus datos? Borraremos su número, su nombre, lo que nos"
                " escribió y la descripción de sus casos; solo quedarán cifras sin nombre para"
                " estadísticas. Ya no podrá consultar sus casos por este chat. Las denuncias"
                " anónimas no están ligadas a su número: no se borran, y su código secreto sigue"
                " sirviendo para consultarlas.\n"
                "1. Sí, borrar\n"
                "2. No",
            ),
            ("si", "Listo: borramos sus datos. Si vuelve a escribirnos, empezaremos de nuevo."),
        ],
    )
    case = only_case(uow)
    assert case.contact_id is None and case.description == "[borrado a pedido del ciudadano]"
    assert (case.type, case.gender) == ("solicitud", "mujer")
    assert case.municipality == "San Miguel Centro"
    assert all(m.contact_id is None for m in uow.rows[Message])
    assert all("hoyo" not in m.body for m in uow.rows[Message])
    assert "7001" not in [c.address for c in uow.rows[Contact]]
    assert_transcript(citizen, [("hola", GREETING)])  # a stranger again


def test_asking_for_a_person_alerts_the_staff_or_says_nobody_is_there(citizen, uow):
    citizen.converse("hola", "si")
    assert "no hay personal conectado" in citizen.send("3")
    uow.insert(
        Staff(name="Ana", role="agent", whatsapp="+50370000000", created_at=citizen.clock.now)
    )
    assert "Avisamos al equipo" in citizen.send("3")
    (alert,) = [o for o in uow.rows[OutboxItem] if o.address == "+50370000000"]
    assert "pide hablar con una persona" in alert.body


def test_an_emergency_without_staff_does_not_claim_anyone_was_alerted(citizen, uow):
    citizen.converse("hola", "si", "1")
    answer = citizen.send("se derrumbo el cerro sobre las casas y hay gente atrapada")
    assert "llame ahora al 911" in answer and "alertamos" not in answer
    assert [e.kind for e in uow.rows[CaseEvent]] == ["created", "emergency_unalerted"]


def test_after_an_emergency_the_follow_up_window_closes(citizen, uow):
    citizen.converse("hola", "si", "1", "se cayo el puente y hay gente atrapada")
    assert "guardamos el lugar" in citizen.send("es en la colonia El Carmen")  # nobody on duty
    assert "Agregamos esta información" in citizen.send("el agua sigue subiendo")
    citizen.clock.now += timedelta(hours=3)
    assert "Puede enviar más detalles" in citizen.send(
        "otro problema, hay un bache enorme en la calle"
    )
    assert "bache" not in only_case(uow).description


def test_coming_back_after_a_pause_completes_the_description(citizen):
    citizen.converse("hola", "si", "1", "la calle principal tiene un hoyo enorme")
    citizen.clock.now += timedelta(hours=1)
    answer = citizen.send("y es frente a la escuela")
    assert "Entendemos que es una *solicitud*" in answer


def test_a_pin_shared_while_describing_answers_the_location_question(citizen, uow):
    citizen.converse("hola", "si", "1", "la calle principal tiene un hoyo enorme")
    citizen.send(location=Location(13.7, -89.2, address="Calle Arce, San Salvador"))
    citizen.send("listo")
    assert "género" in citizen.send("si")
    citizen.send("omitir")
    assert only_case(uow).location_text == "Calle Arce, San Salvador"


def test_listo_with_thanks_finishes_the_description_and_is_not_part_of_it(citizen, uow):
    citizen.converse("hola", "si", "1", POTHOLE[3])
    assert "Entendemos que es una *solicitud*" in citizen.send("Listo, gracias")
    citizen.converse("si", "San Miguel, colonia Las Brisas", "omitir")
    assert only_case(uow).description == POTHOLE[3]


@pytest.mark.parametrize("nothing_more", ["omitir", "no gracias", "No"])
def test_nothing_more_to_add_finishes_the_description_and_is_not_part_of_it(
    citizen, uow, nothing_more
):
    citizen.converse("hola", "si", "1", POTHOLE[3])
    assert "Entendemos que es una *solicitud*" in citizen.send(nothing_more)
    citizen.converse("si", "San Miguel, colonia Las Brisas", "omitir")
    assert only_case(uow).description == POTHOLE[3]


def test_an_ok_while_describing_hears_the_reminder_and_adds_nothing(citizen, uow):
    citizen.converse("hola", "si", "1", POTHOLE[3])
    assert "Escriba LISTO cuando termine" in citizen.send("ok")
    citizen.converse("y huele muy mal desde hace semanas", "listo", "si")
    citizen.converse("San Miguel, colonia Las Brisas", "omitir")
    assert only_case(uow).description == f"{POTHOLE[3]}\ny huele muy mal desde hace semanas"


def test_omitir_before_any_description_asks_for_one(citizen, uow):
    citizen.converse("hola", "si", "1")
    assert "Todavía no nos ha contado qué pasa" in citizen.send("omitir")


@pytest.mark.parametrize("skip", ["omitir", "OMITIR", "no gracias", "no", "saltar"])
def test_skipping_the_description_is_told_it_cannot_be_and_how_to_cancel(citizen, uow, skip):
    citizen.converse("hola", "si", "1")
    assert_transcript(
        citizen,
        [
            (
                skip,
                "Todavía no nos ha contado qué pasa, y sin eso no podemos registrar su caso: este"
                " paso no se puede omitir. Escriba qué ocurre y dónde, o envíe una foto; luego"
                " escriba LISTO. Si prefiere no reportar nada, escriba CANCELAR.",
            ),
            ("cancelar", MENU.removeprefix("Gracias por aceptar.\n")),
        ],
    )
    assert uow.rows[Case] == []


def test_listo_before_any_description_asks_for_one_without_speaking_of_skipping(citizen):
    citizen.converse("hola", "si", "1")
    assert citizen.send("listo") == (
        "Todavía no nos ha contado qué pasa. Escriba qué ocurre y dónde, o envíe una foto; luego"
        " escriba LISTO."
    )


@pytest.mark.parametrize(
    "skip", ["omitir", "listo", "ya, gracias", "no sé", "No lo sé.", "ni idea"]
)
def test_skipping_or_not_knowing_at_the_location_question_is_no_place(citizen, uow, skip):
    citizen.converse(*POTHOLE[:6])
    assert "género" in citizen.send(skip)
    citizen.send("omitir")
    case = only_case(uow)
    assert (case.location_text, case.municipality) == (None, None)
    assert case.description == POTHOLE[3]


@pytest.mark.parametrize(
    "unsure",
    [
        "no sé, creo que por la escuela de la colonia Las Brisas",
        "No sé. Creo que por la escuela de la colonia Las Brisas",
        "ni idea, tal vez por la escuela de la colonia Las Brisas",
    ],
)
def test_a_place_said_unsure_is_kept_in_the_citizens_words_and_names_no_municipality(
    citizen, uow, unsure
):
    citizen.converse(*POTHOLE[:6])
    citizen.converse(unsure, "omitir")
    case = only_case(uow)
    assert case.location_text == unsure  # what the case worker reads: all they said
    # Counted by municipality in the reports: "no sé" or "creo que..." is no town's name.
    assert case.municipality is None


@pytest.mark.parametrize(
    "vague",
    [
        "no sé bien, por la escuela",
        "aquí en mi casa",
        "allá por donde vive mi tía",
        "a la par de la alcaldía",
        "pues aquí nomás, enfrente de la tienda…",
        "donde siempre se inunda",
        "acá a la vuelta, donde venden pupusas",
        "ahí donde está el palo de mango",
        "no me acuerdo cómo se llama, pero es por el puente",
        "Santa Tecla o Colón",
    ],
)
def test_words_that_name_no_place_stay_the_place_but_are_no_municipality(citizen, uow, vague):
    citizen.converse(*POTHOLE[:6])
    citizen.converse(vague, "omitir")
    case = only_case(uow)
    assert (case.location_text, case.municipality) == (vague, None)


@pytest.mark.parametrize(
    "bare", ["no le sé decir", "la verdad no sé", "no me acuerdo", "No sé bien.", "quién sabe"]
)
def test_not_knowing_where_said_any_common_way_is_no_place_like_no_se(citizen, uow, bare):
    citizen.converse(*POTHOLE[:6])
    assert "género" in citizen.send(bare)
    citizen.send("omitir")
    case = only_case(uow)
    assert (case.location_text, case.municipality) == (None, None)


@pytest.mark.parametrize(
    ("said", "municipality", "district"),
    [
        ("cerca del mercado de Apopa tal vez", "San Salvador Oeste", "Apopa"),
        ("por el parque de Santa Ana", "Santa Ana Centro", "Santa Ana"),
        ("a la par de la escuela de soyapango", "San Salvador Este", "Soyapango"),
        ("Villa Galicia, pasaje 3", "Villa Galicia", None),
    ],
)
def test_a_town_named_beside_a_landmark_is_the_cases_municipality(
    citizen, uow, said, municipality, district
):
    citizen.converse(*POTHOLE[:6])
    citizen.converse(said, "omitir")
    case = only_case(uow)
    assert (case.location_text, case.municipality, case.district) == (said, municipality, district)


def test_a_colombian_institution_asks_for_the_localidad_and_the_barrio(uow):
    settings = make_settings(institution={"country": "CO", "timezone": "America/Bogota"})
    person = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    person.converse(*POTHOLE[:5])
    asked = person.send("si")
    assert "escriba la localidad y el barrio, por ejemplo: Kennedy, barrio Timiza." in asked, asked
    assert "San Miguel" not in asked and "colonia" not in asked
    again = person.send("😡😡😡")
    assert "Kennedy, barrio Timiza" in again and "San Miguel" not in again, again
    person.converse("kenedy, barrio Timiza", "omitir")
    assert only_case(uow).municipality == "Kennedy"


def test_a_place_that_uses_those_words_is_kept_as_written(citizen, uow):
    citizen.converse(*POTHOLE[:6])
    citizen.converse("ya casi llegando a San Miguel, listo el desvio", "omitir")
    assert only_case(uow).location_text == "ya casi llegando a San Miguel, listo el desvio"


def test_an_impossible_age_is_asked_again(citizen):
    citizen.converse(*POTHOLE[:-1])
    assert "entre 10 y 110" in citizen.send("mujer 250")
    assert "Folio" in citizen.send("mujer 25")


def test_configured_topics_are_offered_and_shown(uow):
    settings = make_settings(classifier={"topics": ["agua_potable", "otro"]})
    person = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    person.converse("hola", "si", "1", "quiero decirles algo sobre mi comunidad", "listo")
    assert "1. agua potable\n2. otro tema" in person.send("1")
    person.converse("agua potable", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert case.topic == "agua_potable"
    assert "agua potable" in person.send(f"estado {case.folio}")


def test_a_secret_code_typed_with_spaces_or_none_is_found_and_never_stored(citizen, uow):
    citizen.converse(*DENUNCIA)
    code = re.search(r"Código secreto de seguimiento: (\S+)", citizen.send("1")).group(1)
    for typed in (code.replace("-", " ").lower(), code.replace("-", "")):
        assert "Su denuncia anónima" in citizen.send(f"estado {typed}")
    bodies = " ".join(m.body for m in uow.rows[Message])
    assert code.replace("-", "") not in bodies.replace(" ", "").replace("-", "").upper()


def test_ordinary_words_are_not_taken_for_a_code(citizen, uow):
    citizen.converse("hola", "si", "1")
    citizen.send("para esta casa nadie vino")
    assert any(m.body == "para esta casa nadie vino" for m in uow.rows[Message])


def test_answering_no_to_erasure_keeps_the_report_in_progress(citizen):
    citizen.converse("hola", "si", "1", "hay un hoyo enorme en la calle del mercado", "listo")
    citizen.send("borrar mis datos")
    answer = citizen.send("no")
    assert "No borramos nada" in answer and "Es correcto?" in answer
    assert "Dónde ocurre" in citizen.send("si")


def test_mis_datos_during_an_anonymous_report_is_not_linked_to_it(citizen, uow):
    citizen.converse(*DENUNCIA)
    citizen.send("mis datos")
    citizen.send("1")
    case = only_case(uow)
    assert case.anonymous
    assert all("Número o usuario" not in m.body for m in uow.rows[Message])
    of_case = [m for m in uow.rows[Message] if m.case_id == case.id]
    assert of_case and all(m.contact_id is None and m.provider_id is None for m in of_case)


@pytest.mark.parametrize("unclear", ["sí, no quiero que sepan mi nombre", "si pero no se"])
def test_an_unclear_answer_about_anonymity_is_asked_again(citizen, uow, unclear):
    citizen.converse(*DENUNCIA)
    assert "Responda 1 para que sea anónima" in citizen.send(unclear)
    assert "Código secreto" in citizen.send("anónima")


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ("consultar mi caso", "No tiene casos registrados"),
        ("quiero hablar con un humano", "no hay personal conectado"),
        ("información por favor", "Teléfono Abierto (Ministerio de Obras Públicas) recibe"),
        ("ayuda por favor", "Puede escribir MENU"),
        ("buenos días, cómo está usted", "1. Reportar un problema"),
    ],
)
def test_short_requests_reach_the_option_they_name(citizen, request_, expected):
    citizen.converse("hola", "si")
    assert expected in citizen.send(request_)


def test_estado_with_just_the_number_finds_ones_own_case(citizen, case):
    assert "Caso TA-2026-000001" in citizen.send("estado 1")


def test_greetings_after_an_emergency_are_not_added_to_the_case(citizen, uow):
    citizen.converse("hola", "si", "1", "se cayo el puente y hay gente atrapada")
    assert "Seguimos atendiendo su caso" in citizen.send("hola")
    assert "hola" not in only_case(uow).description
    assert "Sus casos:" in citizen.send("2")


def test_an_anonymous_case_keeps_its_day_and_no_trace_of_the_sender(citizen, uow):
    citizen.converse(*DENUNCIA, "1")
    (case,) = uow.rows[Case]
    assert case.anonymous and case.contact_id is None
    assert case.created_at.astimezone(ZoneInfo("America/El_Salvador")).time() == time(0)
    conversation = [m for m in uow.rows[Message] if m.case_id == case.id]
    assert {m.direction for m in conversation} == {"in", "out"}
    assert all(m.created_at == case.created_at for m in conversation)
    assert all(m.contact_id is None and m.provider_id is None for m in conversation)


def test_a_reply_too_long_for_one_chat_message_is_queued_as_several_with_the_options_last(uow):
    long_text = "\n".join(f"Línea {n}: " + "x" * 90 for n in range(40))
    options = (Option("1", "Sí"), Option("2", "No"))
    queue(uow, [Reply("whatsapp", "+50370001234", long_text, options)], TUESDAY)
    rows = uow.rows[OutboxItem]
    assert len(rows) > 1
    assert all(len(Reply("w", "a", r.body, ()).rendered()) <= MAX_MESSAGE for r in rows)
    assert "\n".join(r.body for r in rows) == long_text
    assert [len(r.options["options"]) for r in rows] == [0] * (len(rows) - 1) + [2]


def test_a_long_paragraph_is_split_between_words_not_inside_one():
    from handlers.core.messages import split_text

    sentence = "La ventanilla estuvo cerrada toda la semana"
    paragraph = " ".join([sentence] * 100)
    pieces = split_text(paragraph, 1600)
    assert len(pieces) > 1 and all(len(piece) <= 1600 for piece in pieces)
    assert " ".join(pieces) == paragraph  # nothing lost
    words = set(sentence.split())
    assert all({piece.split()[0], piece.split()[-1]} <= words for piece in pieces)  # none cut
    assert split_text("x" * 4000, 1600) == ["x" * 1600, "x" * 1600, "x" * 800]


@pytest.mark.parametrize("separator", ["_", ".", "–", "—"])
def test_a_secret_code_typed_with_other_separators_finds_the_case_and_is_never_stored(
    citizen, uow, separator
):
    citizen.converse(*DENUNCIA)
    code = re.search(r"Código secreto de seguimiento: (\S+)", citizen.send("1")).group(1)
    typed = code.replace("-", separator).lower()
    assert "Su denuncia anónima" in citizen.send(f"estado {typed}")
    assert len(uow.rows[Case]) == 1 and uow.rows[Case][0].anonymous
    for message in uow.rows[Message]:
        flat = "".join(c for c in message.body.upper() if c.isalnum())
        assert code.replace("-", "") not in flat
