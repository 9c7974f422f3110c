"""Emergencies that do not hang on one classifier decision, and texts that are not reports
(issue 15): the danger question, asking where, what follows an emergency, thanks and praise."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.classification.danger import needs_danger_check
from handlers.classification.scope import in_scope, other_service
from handlers.core.messages import Location, Media
from handlers.core.ports import Classification
from storage.models import Case, Message, OutboxItem, Staff
from tests.helpers import Citizen, assert_transcript, make_dialogue, make_settings
from tests.unit.fakes import FakeClassifier

DEV_SET = Path(__file__).parent / "danger" / "danger_dev.txt"
# Signs of danger the explicit emergency rules do not recognise: the fake model says "normal".
BLEEDING = "hay un señor sangrando en la calle del puente, vengan rapido"
QUESTION = "¿Hay personas en peligro en este momento?\n1. Sí, hay peligro\n2. No"
MORE = "Recibido. Puede enviar más detalles, fotos o su ubicación. Cuando termine, escriba LISTO."
PHOTO = Media("photo", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")


def staff_alerts(uow, address="555"):
    return [o.body for o in uow.rows[OutboxItem] if o.address == address]


@pytest.fixture
def on_duty(uow, citizen):
    uow.insert(Staff(name="Turno", role="agent", telegram_id=555, created_at=citizen.clock.now))


def test_signs_of_danger_get_one_question_before_anything_else(citizen, uow):
    citizen.converse("hola", "si", "1")
    assert_transcript(citizen, [(BLEEDING, QUESTION)])
    assert uow.rows[Case] == []


def test_yes_to_the_danger_question_is_an_emergency_that_asks_where(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert_transcript(
        citizen,
        [
            (
                "si",
                "🚨 Si hay personas en peligro, llame ahora al 911.\n"
                # (to the staff on duty, in the same turn)
                "🚨 EMERGENCIA TA-2026-000001 (puentes): sin ubicación\n"
                f"{BLEEDING}\n"
                "✅ Su emergencia quedó registrada y ya alertamos al equipo de turno.\n"
                "Folio: TA-2026-000001\n"
                "Fecha y hora: 17/11/2026 09:05\n"
                "Canal: Consola de prueba\n"
                "Para saber cómo va, escriba: estado TA-2026-000001\n"
                "¿Dónde es? Comparta su ubicación desde el chat, o escriba el lugar en una línea"
                " (municipio, colonia y una referencia).",
            )
        ],
    )
    (case,) = uow.rows[Case]
    assert case.urgency == "emergencia" and BLEEDING in case.description
    (alert,) = staff_alerts(uow)
    assert alert.startswith("🚨 EMERGENCIA TA-2026-000001")


def test_the_emergency_receipt_promises_no_days_and_the_deadline_is_the_same_day(citizen, uow):
    answer = citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "días hábiles" not in answer and "Fecha límite" not in answer
    (case,) = uow.rows[Case]
    local = ZoneInfo("America/El_Salvador")
    assert case.deadline_days == 0
    assert case.due_at.astimezone(local).date() == case.created_at.astimezone(local).date()


def test_the_emergency_deadline_is_configurable(uow):
    settings = make_settings(deadlines={"emergency_business_days": 1})
    citizen = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    citizen.converse("hola", "si", "1", "se derrumbo el cerro sobre las casas y hay gente atrapada")
    (case,) = uow.rows[Case]
    assert case.deadline_days == 1
    assert case.due_at - case.created_at > timedelta(hours=20)


def test_a_pin_and_a_photo_after_an_emergency_join_the_case_and_reach_the_alerted_staff(
    citizen, uow, on_duty
):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    pin = Location(13.69294, -89.21819, address="Puente de la colonia Las Brisas")
    assert "enviamos el lugar al equipo de turno" in citizen.send(location=pin)
    assert "Agregamos esta información a su caso TA-2026-000001" in citizen.send(media=(PHOTO,))
    (case,) = uow.rows[Case]
    assert (case.latitude, case.longitude) == (13.69294, -89.21819)
    assert case.location_text == "Puente de la colonia Las Brisas"
    assert case.department == "San Salvador" and case.municipality  # from the pin
    in_case = [m for m in uow.rows[Message] if m.case_id == case.id and m.direction == "in"]
    assert len(in_case) == 4  # the description, the yes, the pin and the photo
    first, pin_alert, photo_alert = staff_alerts(uow)
    assert pin_alert == (
        "🚨 EMERGENCIA TA-2026-000001: el ciudadano agregó su ubicación\n"
        "Puente de la colonia Las Brisas\n"
        "13.69294, -89.21819 https://www.openstreetmap.org/?mlat=13.69294&mlon=-89.21819"
    )
    assert photo_alert == (
        "🚨 EMERGENCIA TA-2026-000001: el ciudadano agregó 1 archivo: photo\n"
        "Véalo con /caso TA-2026-000001"
    )


def test_a_place_written_in_one_line_becomes_the_case_location(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    citizen.send("San Miguel, colonia Las Brisas, frente a la iglesia")
    (case,) = uow.rows[Case]
    assert case.location_text == "San Miguel, colonia Las Brisas, frente a la iglesia"
    # Counted where it happened in the reports, as a case opened with its place is.
    assert (case.municipality, case.department) == ("San Miguel Centro", "San Miguel")
    assert staff_alerts(uow)[-1] == (
        "🚨 EMERGENCIA TA-2026-000001: el ciudadano agregó el lugar\n"
        "San Miguel, colonia Las Brisas, frente a la iglesia"
    )


def test_not_knowing_where_is_not_a_place_and_the_place_given_next_is(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "comparta su ubicación desde el chat, o escriba una referencia" in citizen.send("No sé")
    (case,) = uow.rows[Case]
    assert (case.location_text, case.municipality) == (None, None)
    assert "enviamos el lugar" in citizen.send("Soyapango, calle principal")
    assert case.location_text == "Soyapango, calle principal"
    assert (case.municipality, case.district) == ("San Salvador Este", "Soyapango")
    in_case = [m.body for m in uow.rows[Message] if m.case_id == case.id and m.direction == "in"]
    assert "No sé" in in_case  # kept with the case, as everything the person sent


@pytest.mark.parametrize("unsure", ["la verdad no sé", "no le sé decir", "no me acuerdo"])
def test_not_knowing_where_said_another_way_asks_for_a_pin_or_a_landmark(
    citizen, uow, on_duty, unsure
):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "o escriba una referencia cercana" in citizen.send(unsure)
    (case,) = uow.rows[Case]
    assert (case.location_text, case.municipality) == (None, None)


def test_a_colombian_emergency_is_asked_for_the_localidad_and_the_barrio(uow):
    settings = make_settings(institution={"country": "CO", "timezone": "America/Bogota"})
    person = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    person.converse("hola", "si", "1", BLEEDING)
    asked = person.send("si")
    assert "escriba el lugar en una línea (localidad, barrio y una referencia)." in asked, asked
    unknown = person.send("no sé")
    assert "barrio, calle o carrera, o un lugar conocido" in unknown, unknown
    assert "colonia" not in asked + unknown and "municipio" not in asked + unknown
    person.send("kenedy, barrio Timiza, frente al parque")
    assert uow.rows[Case][0].municipality == "Kennedy"


def test_a_place_the_gazetteer_does_not_know_gives_way_to_a_pin(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "enviamos el lugar" in citizen.send("Macondo")
    (case,) = uow.rows[Case]
    # Kept for the staff, but a landmark is no municipality for the reports to count.
    assert (case.location_text, case.municipality) == ("Macondo", None)
    citizen.send(location=Location(13.4833, -88.1833))
    assert (case.municipality, case.department) == ("San Miguel Centro", "San Miguel")
    assert case.location_text == "Macondo"
    # Once placed, words are details, not a new place.
    assert "Agregamos esta información" in citizen.send("Soyapango, calle principal")
    assert case.municipality == "San Miguel Centro"


@pytest.mark.parametrize(
    ("answer", "place"),
    [
        ("no sé, cerca del río Acelhuate", "cerca del río Acelhuate"),
        (
            "cerca de la gasolinera, por el puente negro",
            "cerca de la gasolinera, por el puente negro",
        ),
        ("NO SE. frente al kinder, casa celeste", "frente al kinder, casa celeste"),
        ("no estoy seguro, cerca del río Acelhuate", "cerca del río Acelhuate"),
    ],
)
def test_a_landmark_is_the_place_for_the_staff_but_no_municipality(
    citizen, uow, on_duty, answer, place
):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "enviamos el lugar" in citizen.send(answer)
    (case,) = uow.rows[Case]
    assert (case.location_text, case.municipality) == (place, None)
    assert staff_alerts(uow)[-1].endswith(answer)  # the staff read what the person wrote


@pytest.mark.parametrize("text", ["asdf", "ok", "gracias", "   "])
def test_an_answer_to_where_that_says_no_place_asks_again(citizen, uow, on_duty, text):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "díganos dónde es" in citizen.send(text)
    (case,) = uow.rows[Case]
    assert (case.location_text, case.municipality) == (None, None)
    assert "enviamos el lugar" in citizen.send("San Miguel, colonia Las Brisas")
    assert case.municipality == "San Miguel Centro"


def test_with_nobody_on_duty_the_place_is_kept_not_sent(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    answer = citizen.send("San Miguel, colonia Las Brisas")
    assert "guardamos el lugar en su caso TA-2026-000001" in answer
    assert "equipo de turno" not in answer


def test_with_nobody_on_duty_the_receipt_says_nobody_was_alerted_and_whom_to_call(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING)
    answer = citizen.send("si")
    assert (
        "✅ Su emergencia quedó registrada, pero no pudimos avisarle de inmediato a nadie del "
        "equipo de turno: si hay peligro, llame al 911.\nFolio: TA-2026-000001"
    ) in answer
    assert "alertamos" not in answer


@pytest.mark.parametrize("unsure", ["no sé", "No se.", "no sabemos", "creo que sí", "tal vez"])
def test_not_knowing_whether_people_are_in_danger_is_taken_as_yes(citizen, uow, unsure):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert "Su emergencia quedó registrada" in citizen.send(unsure)
    (case,) = uow.rows[Case]
    assert case.urgency == "emergencia"


def test_no_to_the_danger_question_goes_on_with_the_report_as_written(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert_transcript(citizen, [("no", MORE)])
    assert "Entendemos que es una" in citizen.send("listo")
    citizen.converse("si", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert case.urgency == "normal" and case.description == BLEEDING
    assert case.deadline_days == 15


def test_the_danger_question_is_asked_once_per_report(citizen):
    citizen.converse("hola", "si", "1", BLEEDING, "no")
    assert (
        citizen.send("y tambien hay humo saliendo del tragante")
        == "Anotado. Escriba LISTO cuando termine."
    )


def test_an_unclear_answer_is_kept_and_the_question_asked_again(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING)
    answer = citizen.send("es frente a la tienda")
    assert answer.startswith("Responda SI si hay personas en peligro ahora mismo, o NO.")
    citizen.converse("no", "listo", "si", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert "frente a la tienda" in case.description


def test_an_answer_that_tells_the_emergency_is_taken_as_yes(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert "Su emergencia quedó registrada" in citizen.send("hay un niño atrapado debajo del carro")


def test_signs_of_danger_at_listo_are_asked_about_before_the_classification(citizen):
    citizen.converse("hola", "si", "1", "la calle esta mal")
    citizen.send("y ahorita hay humo negro saliendo de la obra")
    # The first piece said nothing of danger; the second is asked about as it arrives.
    assert citizen.send("no") == MORE


def test_one_word_of_danger_at_the_menu_gets_the_question(citizen):
    citizen.converse("hola", "si")
    assert citizen.send("AUXILIOOO") == QUESTION


def test_signs_of_danger_before_consent_get_the_emergency_numbers(citizen):
    first = citizen.send("hay un señor sangrando en la calle, vengan rapido")
    assert "llame ahora al 911" in first and "Aviso de privacidad" in first
    assert citizen.send("si").startswith("Gracias por aceptar.\n" + QUESTION)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Gracias", "¡Con gusto! Si necesita algo más, escriba MENU."),
        (
            "muchas gracias por todo, excelente servicio",
            "¡Con gusto! Si necesita algo más, escriba MENU.",
        ),
        ("Excelente", "¡Muchas gracias por sus palabras! Si necesita algo más, escriba MENU."),
        (
            "muy buen trabajo señores, felicidades",
            "¡Muchas gracias por sus palabras! Si necesita algo más, escriba MENU.",
        ),
    ],
)
def test_thanks_and_praise_are_answered_as_such_and_never_become_a_case(citizen, uow, text, answer):
    citizen.converse("hola", "si")
    assert_transcript(citizen, [(text, answer)])
    citizen.send("listo")
    assert uow.rows[Case] == []


def test_a_report_of_only_thanks_is_not_filed(citizen, uow):
    citizen.converse("hola", "si", "1", "ok gracias")
    assert citizen.send("listo").startswith("Todavía no nos ha contado qué pasa.")
    assert uow.rows[Case] == []


def test_a_matter_of_another_service_is_told_the_office_that_handles_it(uow):
    settings = make_settings(referrals={"agua": "ANDA, teléfono 915"})
    citizen = Citizen(make_dialogue(settings, FakeClassifier()), lambda: uow)
    citizen.converse("hola", "si", "1", "no hay agua desde hace tres dias en la colonia")
    answer = citizen.send("listo")
    assert answer.startswith("Esto lo atiende ANDA, teléfono 915. Igual lo registramos")
    assert uow.rows[Case] == []


def test_without_a_referral_another_service_is_only_filed_as_otro(citizen, uow):
    citizen.converse("hola", "si", "1", "no hay agua desde hace tres dias en la colonia")
    assert "Esto lo atiende" not in citizen.send("listo")


# -- what is an answer, and what is the description ----------------------------------------

AGAIN = "Responda SI si hay personas en peligro ahora mismo, o NO.\n1. Sí, hay peligro\n2. No"
WHERE = (
    "¿Dónde es? Comparta su ubicación desde el chat, o escriba el lugar en una línea"
    " (municipio, colonia y una referencia)."
)
THANKS = "¡Con gusto! Si necesita algo más, escriba MENU."


def test_listo_at_the_danger_question_asks_it_again_and_is_not_part_of_the_description(
    citizen, uow
):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert_transcript(citizen, [("listo", AGAIN), ("Listo, gracias", AGAIN)])
    assert "Su emergencia quedó registrada" in citizen.send("si")
    (case,) = uow.rows[Case]
    assert case.description == BLEEDING


def test_after_listo_at_the_danger_question_a_no_goes_straight_to_the_classification(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING, "ya esta")
    # They said they had finished: the report is not opened for more words again.
    assert_transcript(
        citizen,
        [
            (
                "no",
                "Entendemos que es una *solicitud* sobre *puentes*. ¿Es correcto?\n"
                "1. Sí, es correcto\n2. No, quiero cambiarlo",
            )
        ],
    )
    citizen.converse("si", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert (case.description, case.urgency) == (BLEEDING, "normal")


@pytest.mark.parametrize("skip", ["omitir", "paso", "gracias", "hola"])
def test_skipping_or_courtesy_at_the_danger_question_is_not_part_of_the_description(
    citizen, uow, skip
):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert citizen.send(skip) == AGAIN
    citizen.send("si")
    (case,) = uow.rows[Case]
    assert case.description == BLEEDING


@pytest.mark.parametrize("nobody", ["nadie", "Ninguno"])
def test_nobody_at_the_danger_question_is_a_no(citizen, uow, nobody):
    citizen.converse("hola", "si", "1", BLEEDING)
    assert_transcript(citizen, [(nobody, MORE)])
    citizen.converse("listo", "si", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert (case.description, case.urgency) == (BLEEDING, "normal")


def test_a_sentence_at_the_danger_question_that_uses_those_words_is_kept(citizen, uow):
    citizen.converse("hola", "si", "1", BLEEDING)
    said = "el carro ya esta listo para llevarlo, solo eso falta, omitir la ambulancia"
    assert citizen.send(said) == AGAIN
    citizen.send("si")
    (case,) = uow.rows[Case]
    assert case.description == f"{BLEEDING}\n{said}"


def test_the_answer_to_where_is_the_place_and_omitir_after_it_is_no_detail(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "listo", "si")
    assert_transcript(
        citizen,
        [
            (
                "cerca del parque central",
                "🚨 EMERGENCIA TA-2026-000001: el ciudadano agregó el lugar\n"
                "cerca del parque central\n"
                "Gracias, enviamos el lugar al equipo de turno. Puede seguir enviando fotos,"
                " videos o notas de voz aquí.",
            ),
            ("omitir", THANKS),
            ("Listo", THANKS),
            ("si", THANKS),
            ("no gracias", THANKS),
        ],
    )
    (case,) = uow.rows[Case]
    assert case.description == BLEEDING
    assert case.location_text == "cerca del parque central"
    in_case = [m.body for m in uow.rows[Message] if m.case_id == case.id and m.direction == "in"]
    assert "cerca del parque central" in in_case  # the place's message stays with the case


@pytest.mark.parametrize("skip", ["omitir", "Listo", "si", "no"])
def test_a_control_word_is_no_answer_to_where(citizen, uow, on_duty, skip):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    assert "díganos dónde es" in citizen.send(skip)
    (case,) = uow.rows[Case]
    assert (case.description, case.location_text) == (BLEEDING, None)


def test_an_answer_to_where_that_also_tells_of_danger_is_kept_in_the_description(
    citizen, uow, on_duty
):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    said = "en la colonia El Carmen, y hay otra persona atrapada"
    assert "enviamos el lugar" in citizen.send(said)
    (case,) = uow.rows[Case]
    assert (case.location_text, case.description) == (said, f"{BLEEDING}\n{said}")


def test_a_place_known_after_a_landmark_keeps_the_landmark_as_its_reference(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si", "frente al kinder")
    assert "enviamos el lugar" in citizen.send("San Miguel, colonia Las Brisas")
    (case,) = uow.rows[Case]
    # The known place names the municipality; the landmark is what finds the spot in it.
    assert case.location_text == "San Miguel, colonia Las Brisas (referencia: frente al kinder)"
    assert case.municipality == "San Miguel Centro"
    assert case.description == BLEEDING


def test_what_the_citizen_said_of_the_place_while_unsure_is_kept_with_the_place_named_later(
    citizen, uow, on_duty
):
    citizen.converse("hola", "si", "1", BLEEDING, "si")
    unsure = "no sé, creo que por la escuela de la colonia El Carmen"
    assert "enviamos el lugar" in citizen.send(unsure)
    assert "enviamos el lugar" in citizen.send("Soyapango")
    (case,) = uow.rows[Case]
    assert case.location_text == (
        "Soyapango (referencia: creo que por la escuela de la colonia El Carmen)"
    )
    assert (case.municipality, case.district) == ("San Salvador Este", "Soyapango")
    # Once placed, more words are details of the case, not another place.
    assert "Agregamos esta información" in citizen.send("San Miguel, colonia Las Brisas")
    assert case.location_text.startswith("Soyapango (referencia:")


def test_a_long_landmark_is_shortened_to_fit_the_place_not_the_place_named(citizen, uow, on_duty):
    landmark = "frente a la casa celeste " + "de portón negro " * 20
    citizen.converse("hola", "si", "1", BLEEDING, "si", landmark)
    citizen.send("Soyapango, calle principal")
    (case,) = uow.rows[Case]
    assert len(case.location_text) <= 300
    assert case.location_text.startswith("Soyapango, calle principal (referencia: frente a la")
    assert case.location_text.endswith("…)")


def test_a_place_that_already_holds_the_landmark_does_not_repeat_it(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si", "frente al kinder")
    citizen.send("San Miguel, colonia Las Brisas, frente al kinder")
    (case,) = uow.rows[Case]
    assert case.location_text == "San Miguel, colonia Las Brisas, frente al kinder"


def test_details_after_the_place_that_use_those_words_are_kept(citizen, uow, on_duty):
    citizen.converse("hola", "si", "1", BLEEDING, "si", "San Miguel, colonia Las Brisas")
    said = "ya esta listo el paso por la otra calle, no quiero omitir que sigue sangrando"
    assert "Agregamos esta información" in citizen.send(said)
    (case,) = uow.rows[Case]
    assert case.description == f"{BLEEDING}\n{said}"


def test_omitir_after_an_emergency_told_at_once_is_no_detail(citizen, uow):
    citizen.converse("hola", "si", "1", "se derrumbo el cerro sobre las casas y hay gente atrapada")
    citizen.converse("Soyapango, calle principal", "omitir", "ya", "ok")
    (case,) = uow.rows[Case]
    assert case.description == "se derrumbo el cerro sobre las casas y hay gente atrapada"


# -- the rules on their own ------------------------------------------------------------------


def dev_set():
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("|", 1)
            yield label == "E", text


def test_on_its_development_set_the_danger_check_catches_emergencies_and_rarely_asks():
    normal = Classification("solicitud", "calles_caminos", "normal", 0.9)
    emergencies = [needs_danger_check(t, normal) for emergency, t in dev_set() if emergency]
    others = [needs_danger_check(t, normal) for emergency, t in dev_set() if not emergency]
    assert len(emergencies) >= 60 and len(others) >= 90
    # Even when the model marks none of them as an emergency.
    assert sum(emergencies) / len(emergencies) >= 0.98
    assert sum(others) / len(others) <= 0.15


def test_a_text_marked_emergencia_or_denied_is_not_asked_about():
    text = "hay un señor sangrando en la calle"
    marked = Classification("solicitud", "calles_caminos", "emergencia", 0.4)
    assert not needs_danger_check(text, marked)
    denied = Classification("solicitud", "calles_caminos", "normal", 0.9)
    assert not needs_danger_check("no es una emergencia, " + text, denied)


@pytest.mark.parametrize(
    "text", ["Gracias", "Nada", "Excelente", "ok", "jajaja", "asdf", "😀👍", "Hola, buenas", "?"]
)
def test_courtesy_and_noise_are_out_of_scope(text):
    assert not in_scope(text)


@pytest.mark.parametrize(
    "text",
    [
        "hay un bache en la calle",
        "buenos dias, quisiera saber como va mi caso del tragante",
        "gracias por arreglar la calle, pero el puente sigue roto",
    ],
)
def test_what_may_be_a_report_is_in_scope(text):
    assert in_scope(text)


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("no hay agua desde hace tres dias", "agua"),
        ("se fue la luz en todo el barrio", "electricidad"),
        ("el tren de aseo no pasa por la colonia", "basura"),
        ("me robaron el celular en la parada", "policia"),
        ("en la unidad de salud no hay medicinas", "salud"),
        ("el maestro de mi hijo no llega a dar clases", "educacion"),
        ("la basura tapa el tragante de la esquina", None),
        ("hay un bache frente al hospital", None),
    ],
)
def test_other_services_are_named_unless_the_text_is_about_public_works(text, service):
    assert other_service(text) == service


def test_staff_reading_the_case_see_that_the_pin_had_no_text_not_an_empty_line(
    citizen, uow, on_duty, make_citizen
):
    from tests.helpers import add_staff

    citizen.converse("hola", "si", "1", BLEEDING, "si")
    citizen.send(location=Location(13.69294, -89.21819))
    add_staff(lambda: uow, "Ana", whatsapp="+50370001111")
    card = make_citizen("+50370001111", channel="whatsapp").send("/caso TA-2026-000001")
    (pin_line,) = [line for line in card.splitlines() if "(sin texto" in line]
    assert pin_line.endswith("← (sin texto: una ubicación, un archivo u otro contenido)")
    assert not any(line.rstrip().endswith("←") for line in card.splitlines())


def test_an_answer_to_staff_within_the_emergency_window_restarts_the_case(
    citizen, uow, on_duty, make_citizen
):
    from tests.helpers import add_staff

    citizen.converse("hola", "si", "1", BLEEDING, "si")
    add_staff(lambda: uow, "Ana", whatsapp="+50370001111")
    agent = make_citizen("+50370001111", channel="whatsapp")
    agent.send("/pedir_info TA-2026-000001 ¿Puede enviar una foto del lugar?")
    (case,) = uow.rows[Case]
    assert case.status == "esperando_ciudadano"
    answer = citizen.send("aqui va la foto del vado, esta junto a la escuela")
    assert case.status == "en_proceso" and case.paused_at is None
    assert "Nuevo plazo" in answer


def test_someone_trapped_now_is_asked_about_even_in_a_follow_up_of_days_ago():
    normal = Classification("consulta", "drenaje", "urgente", 0.9)
    text = (
        "lo de la zanja que les reporté hace 3 días, un cipote se cayó adentro y no lo pueden sacar"
    )
    assert needs_danger_check(text, normal)
    # Said outright, it is not asked about, trapped or not.
    assert not needs_danger_check("no hay personas atrapadas, solo el carro", normal)


def test_a_danger_already_attended_or_a_joke_is_not_asked_about():
    normal = Classification("consulta", "deslizamientos", "normal", 0.9)
    attended = (
        "ya vinieron los tecnicos por lo del derrumbe, muchas gracias, solo queremos saber cuando"
        " empiezan el muro"
    )
    assert not needs_danger_check(attended, normal)
    joke = '"emergencia" dijo mi mamá cuando vio la cocina jajaja, no hagan caso'
    assert not needs_danger_check(joke, normal)
    assert needs_danger_check("se está deslizando la ladera y hay gente adentro", normal)


@pytest.mark.parametrize(
    "text",
    [
        "el puente peatonal se está doblando y hay gente encima",
        "agua adentro, cipotes en el techo",
        "huele fuertísimo a gas en el pasaje y hay gente adentro",
        "la señal elevada quedó colgando sobre los carriles mientras pasan los vehículos",
    ],
)
def test_structures_giving_way_and_people_cut_off_are_asked_about(text):
    normal = Classification("solicitud", "puentes", "normal", 0.9)
    assert needs_danger_check(text, normal)
