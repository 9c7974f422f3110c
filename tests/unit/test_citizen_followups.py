"""What new users wrote that went wrong (issue 17, citizens): status questions in their own words,
picking a listed case, two problems in one message, a person, a cancel, a correction, the
article of a type, and MIS DATOS and AYUDA before consent."""

from storage.models import Case, CaseEvent, OutboxItem, Staff
from tests.helpers import assert_transcript
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_dialogue import GREETING

BRIDGE = (
    "hola",
    "si",
    "1",
    "el puente de la colonia tiene una grieta grande",
    "listo",
    "si",
    "San Miguel, centro",
    "omitir",
)
POTHOLE = ("1", "hay un bache enorme en la calle del mercado", "listo", "si", "Santa Ana, centro")


def status_of(folio: str, kind: str, topic: str, at: str) -> str:
    return (
        f"Caso {folio}: solicitud sobre {topic}\n"
        "Estado: Recibido\n"
        f"Recibido: {at}\n"
        "Fecha límite de respuesta: martes 08/12/2026\n"
        "Historial:\n"
        f"• {at}: {kind}"
    )


def test_a_question_about_the_only_case_gets_its_status_and_opens_no_duplicate(citizen, uow):
    citizen.converse(*BRIDGE)
    assert_transcript(
        citizen,
        [
            (
                "como va lo del puente?",
                status_of("TA-2026-000001", "Caso recibido", "puentes", "17/11/2026 09:08"),
            )
        ],
    )
    assert len(uow.rows[Case]) == 1
    assert uow.conversations.get(1) is None  # back at the menu, no report started


def test_a_question_names_the_case_it_is_about_among_several(citizen, uow):
    citizen.converse(*BRIDGE, *POTHOLE)
    assert_transcript(
        citizen,
        [
            (
                "ya arreglaron lo del bache?",
                status_of(
                    "TA-2026-000002", "Caso recibido", "calles y caminos", "17/11/2026 09:13"
                ),
            ),
            (
                "qué pasó con mi reporte",
                "¿Sobre cuál de sus casos pregunta?\n"
                "1. TA-2026-000001: solicitud, Recibido\n"
                "2. TA-2026-000002: solicitud, Recibido\n"
                "Responda con el número de la lista (1, 2…) o con el folio.",
            ),
            (
                "1",
                status_of("TA-2026-000001", "Caso recibido", "puentes", "17/11/2026 09:08"),
            ),
        ],
    )
    assert len(uow.rows[Case]) == 2


def test_a_status_question_never_shows_someone_elses_case(make_citizen, uow):
    other = make_citizen("7002")
    other.converse(*BRIDGE)
    citizen = make_citizen("7001")
    citizen.converse("hola", "si")
    answer = citizen.send("como va lo del puente?")
    assert "TA-2026-000001" not in answer  # no case of theirs: a new report starts
    assert answer.startswith("Recibido.")


def test_after_estado_the_listed_cases_are_picked_by_position_ordinal_or_number(citizen, uow):
    citizen.converse(*BRIDGE, *POTHOLE)
    listing = (
        "Sus casos:\n"
        "1. TA-2026-000001: solicitud, Recibido\n"
        "2. TA-2026-000002: solicitud, Recibido\n"
        "Responda con el número de la lista (1, 2…) o con el folio."
    )
    first = status_of("TA-2026-000001", "Caso recibido", "puentes", "17/11/2026 09:08")
    second = status_of("TA-2026-000002", "Caso recibido", "calles y caminos", "17/11/2026 09:13")
    assert_transcript(
        citizen,
        [
            ("estado", listing),
            ("1", first),
            ("estado", listing),
            ("2", second),
            ("estado", listing),
            ("el 2", second),
            ("estado", listing),
            ("el segundo", second),
            ("estado", listing),
            ("000001", first),
        ],
    )


def test_two_problems_in_one_message_make_one_case_and_an_offer_to_file_the_other(citizen, uow):
    citizen.converse("hola", "si", "1")
    citizen.converse("el semaforo de la esquina no funciona y el tragante esta rebalsando")
    citizen.converse("listo", "si", "Santa Ana, centro")
    answer = citizen.send("omitir")
    assert answer.endswith(
        "También nos contó: «el semaforo de la esquina no funciona» (solicitud sobre"
        " señalización y seguridad vial). ¿Quiere que lo registremos como otro caso, en el mismo"
        " lugar?\n"
        "1. Sí, registrarlo\n"
        "2. No, gracias"
    )
    assert len(uow.rows[Case]) == 1
    filed = citizen.send("1")  # one answer files it
    assert filed.startswith("✅ Su caso quedó registrado.\nFolio: TA-2026-000002")
    first, second = uow.rows[Case]
    assert (first.topic, second.topic) == ("drenaje", "senalizacion_seguridad_vial")
    assert second.description == "el semaforo de la esquina no funciona"
    assert second.location_text == "Santa Ana, centro"


def test_the_other_problem_can_be_declined(citizen, uow):
    citizen.converse("hola", "si", "1", "omitir")
    citizen.converse(
        "el semaforo de la esquina no funciona y el tragante esta rebalsando", "listo", "si"
    )
    citizen.converse("Santa Ana, centro", "omitir")
    assert citizen.send("no") == "Entendido, no lo registramos. Si necesita algo más, escriba MENU."
    assert len(uow.rows[Case]) == 1


def test_asking_for_someone_real_hands_over_to_staff_and_flags_the_open_case(citizen, uow):
    citizen.converse(*BRIDGE)
    uow.insert(
        Staff(name="Ana", role="agent", whatsapp="+50370000000", created_at=citizen.clock.now)
    )
    assert_transcript(
        citizen,
        [
            (
                "quiero hablar con alguien de verdad",
                "🙋 Un ciudadano pide hablar con una persona sobre el caso TA-2026-000001: contacto"
                " #1 por Consola de prueba.\n"
                "Avisamos al equipo: una persona le responderá por este mismo chat en horario de"
                " oficina. Si quiere adelantar, cuéntenos su situación en un mensaje.",
            )
        ],
    )
    assert len(uow.rows[Case]) == 1
    (alert,) = [o for o in uow.rows[OutboxItem] if o.address == "+50370000000"]
    assert "sobre el caso TA-2026-000001" in alert.body
    flagged = [e for e in uow.rows[CaseEvent] if e.kind == "handoff_requested"]
    assert [e.public for e in flagged] == [False]


def test_a_greeting_in_the_emergency_follow_up_window_is_answered_as_a_greeting(citizen):
    citizen.converse("hola", "si", "1", "se cayo el puente y hay gente atrapada")
    assert citizen.send("buenas tardes") == (
        "¡Hola! Seguimos atendiendo su caso TA-2026-000001. Puede enviar más detalles, fotos o"
        " su ubicación; para otra cosa, escriba MENU."
    )


def test_no_mejor_olvidelo_cancels_the_report_being_written(citizen, uow):
    citizen.converse("hola", "si", "1", "hay un bache enorme en la calle del mercado")
    assert citizen.send("no mejor olvidelo") == (
        "Dejamos sin registrar el reporte que estaba escribiendo.\n"
        "¿En qué le podemos ayudar? Responda con el número o la palabra:\n"
        "1. Reportar un problema\n"
        "2. Consultar un caso\n"
        "3. Hablar con una persona\n"
        "4. Información"
    )
    assert uow.rows[Case] == []


def test_mejor_no_still_answers_a_yes_or_no_question(citizen, uow):
    citizen.converse("hola", "si", "1", "denuncio que el contratista cobra de mas", "listo", "si")
    citizen.converse("omitir")
    assert citizen.send("mejor no").startswith("Solo para estadísticas")


def test_a_correction_is_noted_as_one_in_the_description(citizen, uow):
    citizen.converse("hola", "si", "1", "hay un hoyo en la calle junto al rio por la escuela")
    assert citizen.send("ah no perdón, era la quebrada") == (
        "Anotamos la corrección. Escriba LISTO cuando termine."
    )
    citizen.converse("listo", "si", "omitir", "omitir")
    (case,) = uow.rows[Case]
    assert case.description == (
        "hay un hoyo en la calle junto al rio por la escuela\n"
        "Corrección del ciudadano: era la quebrada"
    )


def test_a_reclamo_is_un_reclamo(citizen):
    citizen.converse("hola", "si", "1")
    citizen.send("hago un reclamo porque el camion del ministerio daño mi carro en la calle")
    assert citizen.send("listo") == (
        "Entendemos que es un *reclamo* sobre *calles y caminos*. ¿Es correcto?\n"
        "1. Sí, es correcto\n"
        "2. No, quiero cambiarlo"
    )


CONSENT_AGAIN = (
    "Para continuar necesitamos su autorización. Responda SI para aceptar o NO.\n"
    "1. Sí, acepto\n"
    "2. No"
)
HELP = (
    "Puede escribir MENU para volver al inicio, ESTADO y su folio para consultar un caso,"
    " CONSTANCIA y su folio para recibir la constancia en PDF, MIS DATOS para ver lo que"
    " guardamos de usted, o BORRAR MIS DATOS."
)


def test_ayuda_and_mis_datos_work_before_consent(citizen):
    assert_transcript(
        citizen,
        [("ayuda", f"{HELP}\n{GREETING}"), ("ayuda", f"{HELP}\n{CONSENT_AGAIN}")],
    )
    data = citizen.send("mis datos")
    assert data.startswith("Estos son los datos que guardamos de usted:")
    assert data.endswith(CONSENT_AGAIN)


def test_ayuda_and_mis_datos_work_after_an_erasure(citizen, uow: FakeUnitOfWork):
    citizen.converse(*BRIDGE, "borrar mis datos", "si")
    assert citizen.send("ayuda") == f"{HELP}\n{GREETING}"
    data = citizen.send("mis datos")
    assert "• Casos: ninguno" in data and data.endswith(CONSENT_AGAIN)


def test_an_emergency_worded_like_a_request_is_still_an_emergency(citizen, uow):
    citizen.converse(*BRIDGE)
    answer = citizen.send("como va el derrumbe, hay gente atrapada con un humano")
    assert answer.startswith("🚨 Si hay personas en peligro, llame ahora al 911.")
    assert len(uow.rows[Case]) == 2
