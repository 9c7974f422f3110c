"""Staff work on a case, as conversations against an in-memory unit of work: the lifecycle,
its audit trail, what the citizen is told, and who may do what."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from handlers.casework.lifecycle import TRANSITIONS, Actor, NotAllowed, check_transition
from handlers.casework.staff import parse_command
from storage.models import Case, CaseEvent, OutboxItem
from tests.helpers import POTHOLE, Citizen, add_staff, make_dialogue, make_settings
from tests.unit.fakes import FakeClassifier

CITIZEN_NUMBER = "+50370009999"
AGENT_NUMBER = "+50370001111"
FOLIO = "TA-2026-000001"


@pytest.fixture
def citizen(make_citizen) -> Citizen:
    """A citizen on WhatsApp; the `case` fixture files their pothole report (FOLIO)."""
    return make_citizen(CITIZEN_NUMBER, channel="whatsapp")


@pytest.fixture
def agent(uow, make_citizen, case) -> Citizen:
    """Ana, an agent on WhatsApp, registered once the case is filed."""
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    return make_citizen(AGENT_NUMBER, channel="whatsapp")


def the_case(uow) -> Case:
    (case,) = uow.rows[Case]
    return case


def told_citizen(uow) -> list[str]:
    return [i.body for i in uow.rows[OutboxItem] if i.address == CITIZEN_NUMBER]


def test_an_agent_takes_a_case_from_whatsapp_and_the_citizen_hears_nothing_internal(
    uow, citizen, agent
):
    before = told_citizen(uow)
    answer = agent.send(f"/tomar {FOLIO}")
    assert f"Ana tomó el caso {FOLIO}" in answer and f"Asignar: asignar:{FOLIO}" in answer
    assert "tomar:" not in answer  # taken: the card offers no [Tomar] any more
    case = the_case(uow)
    assert case.status == "asignado" and case.assignee_id is not None
    assert told_citizen(uow) == before  # "asignado" is the institution's own business
    assert "Cambio de estado a Asignado" not in citizen.send(f"estado {FOLIO}")


def test_an_internal_note_never_reaches_the_citizen(uow, citizen, agent):
    before = told_citizen(uow)
    assert "Nota interna guardada" in agent.send(f"/nota {FOLIO} vecino conflictivo, ir con dos")
    assert told_citizen(uow) == before
    assert "vecino conflictivo" not in citizen.send(f"estado {FOLIO}")


def test_a_staff_reply_reaches_the_citizen_with_the_folio(uow, citizen, agent):
    agent.send(f"/responder {FOLIO} Mañana pasa la cuadrilla")
    assert told_citizen(uow)[-1] == f"Respuesta sobre su caso {FOLIO}:\nMañana pasa la cuadrilla"
    assert the_case(uow).first_response_at is not None


def test_taking_a_case_is_not_its_first_response_the_first_message_from_staff_is(
    uow, citizen, agent, clock
):
    agent.send(f"/tomar {FOLIO}")
    assert the_case(uow).status == "asignado"
    assert the_case(uow).first_response_at is None
    clock.now += timedelta(hours=2)
    agent.send(f"/responder {FOLIO} Mañana pasa la cuadrilla")
    assert the_case(uow).first_response_at > clock.now - timedelta(minutes=5)


def test_a_survey_still_waiting_when_the_case_is_reopened_is_not_sent(
    uow, make_citizen, citizen, agent
):
    agent.send(f"/cerrar {FOLIO} Bache reparado el lunes")
    survey = next(i for i in uow.rows[OutboxItem] if "¿Se resolvió" in i.body)
    assert survey.status == "pending"
    add_staff(lambda: uow, "Sara", "supervisor", telegram_id=555)
    make_citizen("555", channel="telegram").send(f"/estado {FOLIO} en_proceso volvió a hundirse")
    # The question is taken out of what is still to send (held with the closure's notice, it
    # leaves that message; alone, its row is withdrawn).
    waiting = [i for i in uow.rows[OutboxItem] if i.status in ("pending", "waiting")]
    assert not any("¿Se resolvió" in i.body for i in waiting)
    assert survey.status == "withdrawn" or "fue cerrado" in survey.body
    # The citizen's next words are not taken as the survey's answer.
    citizen.send("1")
    assert the_case(uow).survey_resolved is None


def test_discarding_needs_a_reason_and_says_so(uow, citizen, agent):
    assert "motivo" in agent.send(f"/estado {FOLIO} descartado")
    assert the_case(uow).status == "recibido"
    agent.send(f"/descartar {FOLIO} reporte duplicado de TA-2025-000001")
    assert the_case(uow).status == "descartado"
    assert "Motivo: reporte duplicado" in told_citizen(uow)[-1]


def test_only_a_supervisor_reopens_a_closed_case(uow, make_citizen, citizen, agent):
    agent.send(f"/cerrar {FOLIO} Bache reparado el lunes")
    assert "Resolución: Bache reparado el lunes" in told_citizen(uow)[-1]
    assert "Solo un supervisor" in agent.send(f"/estado {FOLIO} en_proceso")
    assert the_case(uow).status == "cerrado"
    add_staff(lambda: uow, "Sara", "supervisor", telegram_id=555)
    supervisor = make_citizen("555", channel="telegram")
    supervisor.send(f"/estado {FOLIO} en_proceso volvió a hundirse")
    assert the_case(uow).status == "en_proceso" and the_case(uow).closed_at is None


def test_every_status_change_leaves_an_audit_event_with_actor_and_note(uow, citizen, agent):
    for command in (
        f"/tomar {FOLIO}",
        f"/estado {FOLIO} en_proceso inspección programada",
        f"/pedir_info {FOLIO} ¿Frente a qué número de casa está?",
        f"/estado {FOLIO} resuelto",
        f"/cerrar {FOLIO} Reparado",
    ):
        agent.send(command)
    events = [
        (e.actor, e.from_status, e.to_status, e.note)
        for e in uow.rows[CaseEvent]
        if e.kind == "status_changed"
    ]
    assert events == [
        ("Ana", "recibido", "asignado", None),
        ("Ana", "asignado", "en_proceso", "inspección programada"),
        ("Ana", "en_proceso", "esperando_ciudadano", "¿Frente a qué número de casa está?"),
        ("Ana", "esperando_ciudadano", "resuelto", None),
        ("Ana", "resuelto", "cerrado", "Reparado"),
    ]


def test_a_citizen_typing_staff_commands_changes_nothing(uow, citizen, case):
    answer = citizen.send(f"/cerrar {FOLIO} ya está")
    assert the_case(uow).status == "recibido"
    assert [e.kind for e in uow.rows[CaseEvent]] == ["created"]
    assert "Folio" not in answer or "cerrado" not in answer


def test_asking_for_information_pauses_the_clock_until_the_citizen_answers(
    uow, citizen, agent, clock
):
    due_before = the_case(uow).due_at  # Tuesday 8 December 2026
    agent.send(f"/pedir_info {FOLIO} ¿Frente a qué número de casa está el hoyo?")
    assert "¿Frente a qué número de casa" in told_citizen(uow)[-1]
    clock.now += timedelta(days=3)  # Friday 20 November: Wednesday to Friday waited
    answer = citizen.send("frente a la casa 24, pasaje 3")
    case = the_case(uow)
    assert case.status == "en_proceso" and case.paused_at is None
    assert case.due_at - due_before == timedelta(days=3)  # three business days later
    assert "agregamos su respuesta al caso" in answer and "viernes 11/12/2026" in answer
    assert "pasaje 3" in case.description


def test_the_one_extension_tells_the_citizen_the_reason_and_the_new_date(uow, citizen, agent):
    assert "de 1 a 15 días" in agent.send(f"/prorroga {FOLIO} 16 falta presupuesto")
    agent.send(f"/prorroga {FOLIO} 5 la obra requiere estudio de suelos")
    assert told_citizen(uow)[-1] == (
        f"El plazo de respuesta de su caso {FOLIO} se prorrogó hasta el martes 15/12/2026. "
        "Motivo: la obra requiere estudio de suelos"
    )
    assert "única prórroga" in agent.send(f"/prorroga {FOLIO} 2 otra vez")


def test_an_extension_after_the_deadline_is_refused(uow, citizen, agent, clock):
    clock.now = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)  # the day after the deadline
    assert "ya venció" in agent.send(f"/prorroga {FOLIO} 5 tarde")
    assert the_case(uow).extension_days == 0


def test_a_referral_names_the_institution_to_the_citizen(uow, citizen, agent):
    agent.send(f"/remitir {FOLIO} Alcaldía de San Miguel")
    # Named as staff typed it, with or without its article: no article of ours before it.
    assert told_citizen(uow)[-1] == (
        f"Su caso {FOLIO} fue remitido a la institución competente: Alcaldía de San Miguel."
        " Desde allí continuarán con su atención."
    )
    assert the_case(uow).referred_to == "Alcaldía de San Miguel"


def test_reclassifying_leaves_the_event_the_classifier_learns_from(uow, citizen, agent):
    agent.send(f"/reclasificar {FOLIO} queja drenaje urgente")
    case = the_case(uow)
    assert (case.type, case.topic, case.urgency) == ("queja", "drenaje", "urgente")
    (event,) = [e for e in uow.rows[CaseEvent] if e.kind == "reclassified"]
    assert not event.public
    assert event.note.startswith('{"type": "queja", "topic": "drenaje", "urgency": "urgente", ')
    assert '"previous": {"type": "solicitud", "topic": "calles_caminos"' in event.note


def test_the_queue_puts_emergencies_then_urgent_then_prioritised_first(uow, citizen, agent):
    agent.send(f"/prioridad {FOLIO} afecta a una madre sola")
    answer = agent.send("/cola")
    assert f"⭐ {FOLIO}" in answer
    assert "Filtro no válido" in agent.send("/cola color=rojo")


def test_new_cases_are_posted_to_the_staff_chat_as_cards_with_buttons(uow):
    settings = make_settings(telegram={"enabled": True, "staff_chat_id": -100123})
    dialogue = make_dialogue(settings, FakeClassifier())
    Citizen(dialogue, lambda: uow, address=CITIZEN_NUMBER, channel="whatsapp").converse(*POTHOLE)
    (card,) = [i for i in uow.rows[OutboxItem] if i.address == "-100123"]
    assert card.body.startswith(
        f"🆕 Caso nuevo\n📋 {FOLIO} · solicitud · calles y caminos\n"
        "Estado: Recibido · Urgencia: normal\n"
    )
    keys = [o["key"] for o in card.options["options"]]
    assert keys == [f"tomar:{FOLIO}", f"asignar:{FOLIO}", f"urgente:{FOLIO}", f"descartar:{FOLIO}"]
    assert CITIZEN_NUMBER not in card.body


def test_staff_read_labels_not_codes_in_cards_the_queue_and_answers(uow, make_citizen):
    settings = make_settings(telegram={"enabled": True, "staff_chat_id": -100123})
    dialogue = make_dialogue(settings, FakeClassifier())
    Citizen(dialogue, lambda: uow, address=CITIZEN_NUMBER, channel="whatsapp").converse(*POTHOLE)
    add_staff(lambda: uow, "Ana", telegram_id=111)
    ana = Citizen(dialogue, lambda: uow, address="111", channel="telegram")
    asked = ana.send(f"/pedir_info {FOLIO} ¿Qué número de casa?")
    assert f"✅ Caso {FOLIO}: estado Esperando al ciudadano" in asked
    assert "Estado: Esperando al ciudadano · Urgencia: normal" in asked
    queue = ana.send("/cola estado=esperando_ciudadano")
    assert f"{FOLIO} · solicitud · calles y caminos · Esperando al ciudadano" in queue
    for code in ("calles_caminos", "esperando_ciudadano"):
        assert code not in asked and code not in queue


def test_a_card_still_to_send_loses_its_take_button_when_the_case_is_taken(uow):
    settings = make_settings(telegram={"enabled": True, "staff_chat_id": -100123})
    dialogue = make_dialogue(settings, FakeClassifier())
    Citizen(dialogue, lambda: uow, address=CITIZEN_NUMBER, channel="whatsapp").converse(*POTHOLE)
    add_staff(lambda: uow, "Ana", telegram_id=111)
    Citizen(dialogue, lambda: uow, address="111", channel="telegram").send(f"/tomar {FOLIO}")
    (card,) = [i for i in uow.rows[OutboxItem] if i.address == "-100123"]
    keys = [o["key"] for o in card.options["options"]]
    assert keys == [f"asignar:{FOLIO}", f"urgente:{FOLIO}", f"descartar:{FOLIO}"]


def test_in_the_staff_chat_only_staff_commands_are_answered(uow, make_citizen):
    add_staff(lambda: uow, "Ana", telegram_id=111)
    chat = "-100123"
    stranger = make_citizen(chat, channel="telegram", sender_id="999")
    staff = make_citizen(chat, channel="telegram", sender_id="111")
    assert stranger.send("/cola") == "" and staff.send("buenos días equipo") == ""
    assert staff.send("/cola") == "No hay casos abiertos con esos filtros."


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/tomar TA-2026-000001", "tomar", "TA-2026-000001"),
        ("/cola@TelefonoAbiertoBot estado=recibido", "cola", "estado=recibido"),
        ("tomar:TA-2026-000001", "tomar", "TA-2026-000001"),
        ("/responder TA-2026-1 Hola,\nsaludos", "responder", "TA-2026-1 Hola,\nsaludos"),
        ("/Cola", "cola", ""),
    ],
)
def test_staff_commands_are_parsed_from_text_and_buttons(text, name, args):
    command = parse_command(text)
    assert (command.name, command.args) == (name, args)


@pytest.mark.parametrize("text", ["hola", "", "/", "tomar TA-2026-000001", "estado TA-2026-1"])
def test_ordinary_messages_are_not_staff_commands(text):
    assert parse_command(text) is None


def test_the_transition_table_is_enforced_in_one_place(dialogue):
    policy = dialogue.policy
    agent, supervisor = Actor("Ana", "agent"), Actor("Sara", "supervisor")
    case = Case(folio=FOLIO, status="remitido", description="", deadline_days=15, type="queja")
    with pytest.raises(NotAllowed, match="no puede pasar de «Remitido» a «Asignado»"):
        check_transition(policy, case, "asignado", agent, "")
    case.status = "descartado"
    with pytest.raises(NotAllowed, match="Solo un supervisor"):
        check_transition(policy, case, "en_revision", agent, "")
    check_transition(policy, case, "en_revision", supervisor, "")
    assert set(TRANSITIONS) == set(TRANSITIONS["recibido"]) | {"recibido"}


def test_a_refused_transition_names_the_statuses_as_staff_read_them_elsewhere(agent):
    agent.send(f"/pedir_info {FOLIO} ¿Frente a qué número de casa está el hoyo?")
    assert agent.send(f"/remitir {FOLIO} Alcaldía de San Miguel") == (
        f"El caso {FOLIO} no puede pasar de «Esperando al ciudadano» a «Remitido». Desde "
        "«Esperando al ciudadano» puede pasar a: «En proceso», «Resuelto», «Cerrado» o "
        "«Descartado»."
    )


def test_after_closure_the_citizen_says_whether_it_was_resolved_and_rates_it(uow, citizen, agent):
    agent.send(f"/cerrar {FOLIO} Bache reparado")
    assert told_citizen(uow)[-1] == (
        f"Su caso {FOLIO} fue cerrado.\nResolución: Bache reparado\n\n¿Se resolvió su caso {FOLIO}?"
    )
    assert "de 1 (muy mala) a 5 (muy buena)" in citizen.send("sí")
    assert "¡Gracias por su respuesta!" in citizen.send("4")
    case = the_case(uow)
    assert (case.survey_resolved, case.survey_rating) == (True, 4)
    assert "1. Reportar un problema" in citizen.send("hola")


def test_a_survey_answer_that_is_not_one_leaves_the_survey(uow, citizen, agent):
    agent.send(f"/cerrar {FOLIO} Bache reparado")
    citizen.send("no")
    answer = citizen.send(f"estado {FOLIO}")
    assert "Cerrado" in answer
    assert (the_case(uow).survey_resolved, the_case(uow).survey_rating) == (False, None)


def test_more_than_ten_wrong_folios_in_an_hour_are_refused_for_an_hour(citizen, case, clock):
    for number in range(2, 12):
        assert "No encontramos ese caso" in citizen.send(f"estado TA-2026-{number:06d}")
    assert "No encontramos ese caso" in citizen.send("estado TA-2026-000099")  # the eleventh
    assert "intente de nuevo en dos horas" in citizen.send(f"estado {FOLIO}")
    # Until the end of the hour after the eleventh miss: only clock hours are kept.
    clock.now += timedelta(hours=1)
    assert "intente de nuevo en dos horas" in citizen.send(f"estado {FOLIO}")
    clock.now += timedelta(hours=1)
    assert "Estado: Recibido" in citizen.send(f"estado {FOLIO}")


def test_another_persons_folio_gets_the_same_answer_as_a_missing_one(make_citizen, case):
    other = make_citizen("+50370002222", channel="whatsapp")
    other.converse("hola", "si")
    assert other.send(f"estado {FOLIO}") == other.send("estado TA-2026-000777")


def test_an_anonymous_reporter_reads_staff_replies_with_the_secret_code(uow, citizen, make_citizen):
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    citizen.converse("hola", "si", "1", "denuncio que el alcalde usa la maquinaria del estado")
    citizen.converse("listo", "si", "omitir")
    receipt = citizen.send("1")
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", receipt)[0]
    (case,) = uow.rows[Case]
    assert case.folio.startswith("TA-2026-9")  # drawn at random, out of the sequence
    agent = make_citizen(AGENT_NUMBER, channel="whatsapp")
    assert "código secreto" in agent.send(f"/responder {case.folio} Abrimos una investigación")
    card = agent.send(f"/caso {case.folio}")
    assert "Denuncia anónima" in card and CITIZEN_NUMBER not in card
    assert "Abrimos una investigación" in citizen.send(f"estado {code}")


def file_anonymous_denuncia(uow, citizen) -> tuple[Case, str]:
    """The citizen's anonymous denuncia, filed: the case and its secret code."""
    citizen.converse("hola", "si", "1", "denuncio que el alcalde usa la maquinaria del estado")
    citizen.converse("listo", "si", "omitir")
    receipt = citizen.send("1")
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", receipt)[0]
    (case,) = uow.rows[Case]
    return case, code


def test_an_anonymous_reporter_reads_the_outcome_they_would_have_been_sent(
    uow, citizen, make_citizen
):
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    case, code = file_anonymous_denuncia(uow, citizen)
    agent = make_citizen(AGENT_NUMBER, channel="whatsapp")
    extended = agent.send(
        f"/prorroga {case.folio} 5 hay que revisar los registros de la maquinaria"
    )
    closed = agent.send(
        f"/cerrar {case.folio} Se sancionó al responsable y se recuperó la maquinaria"
    )
    # Staff are not told the reporter was told: nobody can be; they read it with their code.
    assert extended.splitlines()[0] == (
        f"✅ Plazo del caso {case.folio} prorrogado hasta martes 15/12/2026; la persona lo leerá"
        " al consultar con su código (denuncia anónima)"
    )
    assert closed == (
        f"✅ Caso {case.folio} cerrado; la persona leerá la resolución al consultar con su código"
        " (denuncia anónima)."
    )
    history = citizen.send(f"estado {code}").split("Historial:\n")[1].splitlines()
    # A named reporter is sent the new date and its reason, and the resolution; the anonymous
    # one, reached by nobody, reads them here with the code.
    assert [line.split(": ", 1)[1] for line in history[1:]] == [
        "Plazo prorrogado: hay que revisar los registros de la maquinaria (martes 15/12/2026)",
        "Cambio de estado a Cerrado: Se sancionó al responsable y se recuperó la maquinaria",
    ]


def test_a_mistyped_code_is_answered_about_codes_not_about_ones_own_cases(uow, citizen):
    case, code = file_anonymous_denuncia(uow, citizen)
    # One letter changed for another: still shaped like a code (its digits kept), not this one.
    at = next(i for i, c in enumerate(code) if c.isalpha())
    wrong = code[:at] + ("B" if code[at] == "A" else "A") + code[at + 1 :]
    answer = (
        "No encontramos una denuncia anónima con ese código. Revise que esté completo y tal como"
        " lo recibió: son tres grupos de cuatro letras y números (XXXX-XXXX-XXXX)."
    )
    assert citizen.send(f"estado {wrong}") == answer
    assert citizen.send(f"constancia {wrong}") == answer
    assert "Su denuncia anónima" in citizen.send(f"estado {code}")


def test_too_many_wrong_codes_are_refused_without_speaking_of_ones_own_cases(uow, citizen):
    case, code = file_anonymous_denuncia(uow, citizen)
    for n in range(11):
        citizen.send(f"estado ABCD-EFGH-{n:04d}")
    assert citizen.send(f"estado {code}") == (
        "Recibimos demasiadas consultas de folios o códigos que no encontramos. Por seguridad,"
        " intente de nuevo en dos horas."
    )


def test_an_inactive_staff_member_is_just_a_citizen(uow, make_citizen, case):
    add_staff(lambda: uow, "Luis", whatsapp="+50370003333", active=False)
    former = make_citizen("+50370003333", channel="whatsapp")
    assert "No conozco esa orden" not in former.send(f"/tomar {FOLIO}")
    assert the_case(uow).assignee_id is None


def test_while_a_case_waits_a_request_to_the_bot_is_not_taken_as_the_answer(uow, citizen, agent):
    agent.send(f"/pedir_info {FOLIO} ¿Frente a qué número de casa está el hoyo?")
    answer = citizen.send("borrar mis datos")
    assert "agregamos su respuesta" not in answer and "borrar" in answer.lower()
    assert the_case(uow).status == "esperando_ciudadano"


def test_an_extension_while_the_clock_is_stopped_counts_the_days_waited(uow, citizen, agent, clock):
    agent.send(f"/pedir_info {FOLIO} ¿Frente a qué número de casa está el hoyo?")
    clock.now = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # past the 8/12 deadline, paused since
    agent.send(f"/prorroga {FOLIO} 5 la obra requiere estudio de suelos")
    assert the_case(uow).extension_days == 5


def test_an_agent_cannot_take_a_colleagues_case_but_a_supervisor_can(uow, make_citizen, agent):
    add_staff(lambda: uow, "Beto", whatsapp="+50370002222")
    add_staff(lambda: uow, "Sara", role="supervisor", whatsapp="+50370003333")
    beto = make_citizen("+50370002222", channel="whatsapp")
    sara = make_citizen("+50370003333", channel="whatsapp")
    agent.send(f"/tomar {FOLIO}")
    assert "ya lo lleva Ana" in beto.send(f"/tomar {FOLIO}")
    assert "Sara tomó el caso" in sara.send(f"/tomar {FOLIO}")


def test_numbers_a_database_cannot_take_get_an_answer_not_a_failure(uow, citizen, agent):
    for command in (
        f"/prorroga {FOLIO} ² x",
        f"/asignar {FOLIO} ²",
        f"/asignar {FOLIO} " + "9" * 30,
    ):
        assert agent.send(command)  # answered; the message is stored, not retried
    assert the_case(uow).extension_days == 0 and the_case(uow).assignee_id is None


def test_a_case_worked_to_its_closure_reaches_the_citizen_as_one_message(uow, citizen, agent):
    before = len(told_citizen(uow))
    for command in (
        f"/tomar {FOLIO}",
        f"/estado {FOLIO} en_proceso",
        f"/responder {FOLIO} Mañana pasa la cuadrilla",
        f"/estado {FOLIO} resuelto",
        f"/cerrar {FOLIO} Bache reparado",
    ):
        agent.send(command)
    assert told_citizen(uow)[before:] == [
        f"Su caso {FOLIO} cambió de estado: En proceso.\n\n"
        f"Respuesta sobre su caso {FOLIO}:\nMañana pasa la cuadrilla\n\n"
        f"Su caso {FOLIO} cambió de estado: Resuelto.\n\n"
        f"Su caso {FOLIO} fue cerrado.\nResolución: Bache reparado\n\n"
        f"¿Se resolvió su caso {FOLIO}?"
    ]
    (row,) = [i for i in uow.rows[OutboxItem] if i.address == CITIZEN_NUMBER][before:]
    assert [o["key"] for o in row.options["options"]] == ["1", "2"]
    # Held two minutes after the last notice, for the next one to join.
    assert row.next_attempt_at == citizen.clock.now + timedelta(minutes=2)


def test_notices_further_apart_than_the_gathering_time_go_on_their_own(uow, citizen, agent):
    before = len(told_citizen(uow))
    agent.send(f"/estado {FOLIO} en_proceso")
    citizen.clock.now += timedelta(minutes=3)
    agent.send(f"/responder {FOLIO} Mañana pasa la cuadrilla")
    assert told_citizen(uow)[before:] == [
        f"Su caso {FOLIO} cambió de estado: En proceso.",
        f"Respuesta sobre su caso {FOLIO}:\nMañana pasa la cuadrilla",
    ]


def test_with_no_gathering_time_each_notice_goes_at_once(uow, make_citizen):
    settings = make_settings(limits={"notice_gather_seconds": 0})
    dialogue = make_dialogue(settings, FakeClassifier())
    citizen = Citizen(dialogue, lambda: uow, address=CITIZEN_NUMBER, channel="whatsapp")
    citizen.converse(*POTHOLE)
    add_staff(lambda: uow, "Ana", whatsapp=AGENT_NUMBER)
    agent = Citizen(dialogue, lambda: uow, address=AGENT_NUMBER, channel="whatsapp")
    before = len(told_citizen(uow))
    agent.send(f"/estado {FOLIO} en_proceso")
    agent.send(f"/responder {FOLIO} Mañana pasa la cuadrilla")
    assert len(told_citizen(uow)[before:]) == 2
    assert all(i.next_attempt_at == i.created_at for i in uow.rows[OutboxItem])
