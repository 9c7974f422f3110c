"""Field visits as conversations against an in-memory unit of work: how staff write a date and a
window, the status rules, the citizen's answers, the day-before reminder sent once, the
women's priority and the iCalendar export."""

# ruff: noqa: F811 (the staff work tests' fixtures, imported as arguments)
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.visit_calendar import visits_ics
from handlers.casework import visits
from handlers.casework.documents import solicitud
from handlers.casework.lifecycle import Actor, NotAllowed
from handlers.core.messages import Media
from storage.models import Attachment, Case, CaseEvent, OutboxItem, Visit
from tests.unit.test_staff_work import (  # noqa: F401 (fixtures)
    AGENT_NUMBER,
    CITIZEN_NUMBER,
    agent,
    citizen,
)

FOLIO = "TA-2026-000001"
STAFF = Actor("Ana", "agent", 1)


@pytest.fixture
def policy(dialogue):
    return dialogue.policy


def told_citizen(uow) -> list[str]:
    return [i.body for i in uow.rows[OutboxItem] if i.address == CITIZEN_NUMBER]


def the_visit(uow) -> Visit:
    return uow.rows[Visit][-1]


# The clock starts on Tuesday 17/11/2026, 09:00 in San Salvador.
@pytest.mark.parametrize(
    ("day", "window", "start", "end"),
    [
        ("19/11/2026", "09:00-11:00", "2026-11-19 15:00", "2026-11-19 17:00"),
        ("19/11", "9-11", "2026-11-19 15:00", "2026-11-19 17:00"),
        ("2026-11-19", "14:30 - 16:00", "2026-11-19 20:30", "2026-11-19 22:00"),
        ("mañana", "08:00-09:00", "2026-11-18 14:00", "2026-11-18 15:00"),
        ("10/01", "08:00-09:00", "2027-01-10 14:00", "2027-01-10 15:00"),  # the next 10 January
    ],
)
def test_how_staff_write_a_visits_date_and_window(policy, day, window, start, end):
    now = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    slot = visits.parse_slot(policy, day, window, now)
    assert slot.starts_at.strftime("%Y-%m-%d %H:%M") == start
    assert slot.ends_at.strftime("%Y-%m-%d %H:%M") == end


@pytest.mark.parametrize(
    ("day", "window", "message"),
    [
        ("32/11", "09:00-11:00", "No entiendo la fecha «32/11»"),
        ("el jueves", "09:00-11:00", "No entiendo la fecha «el jueves»"),
        ("19/11", "11:00-09:00", "termina antes de empezar"),
        ("19/11", "25:00-26:00", "No entiendo el horario «25:00-26:00»"),
        ("16/11/2026", "09:00-11:00", "La visita del 16/11/2026 ya habría pasado"),
    ],
)
def test_a_date_or_window_that_cannot_be_is_refused_in_spanish(policy, day, window, message):
    now = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    with pytest.raises(NotAllowed, match=message):
        visits.parse_slot(policy, day, window, now)


def test_the_citizen_asks_for_another_day_and_then_confirms_the_new_proposal(uow, citizen, agent):
    answer = agent.send(f"/visita {FOLIO} 19/11 09:00-11:00 Ing. Pérez")
    assert "Visita #1 propuesta en el caso TA-2026-000001: jueves 19/11/2026 de 09:00 a 11:00" in (
        answer
    )
    assert told_citizen(uow)[-1] == (
        "📅 Caso TA-2026-000001: le proponemos una visita técnica al lugar (San Miguel, colonia "
        "Las Brisas, San Miguel Centro) el jueves 19/11/2026 de 09:00 a 11:00.\n"
        "Responda SÍ para confirmarla, u OTRO DÍA y cuándo le conviene."
    )
    answer = citizen.send("otro día, mejor el viernes en la tarde")
    assert "le propondrán otro día para la visita del caso TA-2026-000001" in answer
    # Ana proposed it: she hears what the citizen said.
    assert "pide otro día para la visita #1" in answer and "mejor el viernes" in answer
    assert the_visit(uow).status == "reschedule_asked"

    agent.send(f"/visita {FOLIO} 20/11 14:00-16:00 Ing. Pérez")
    answer = citizen.send("confirmo")
    assert "quedó confirmada para el viernes 20/11/2026 de 14:00 a 16:00" in answer
    assert [v.status for v in uow.rows[Visit]] == ["reschedule_asked", "confirmed"]
    # A bare "sí" with nothing left to confirm is not read as an answer to the visit.
    assert "confirmada" not in citizen.send("si")


def test_a_visit_answer_is_not_taken_for_the_information_staff_asked_for(uow, citizen, agent):
    agent.send(f"/pedir_info {FOLIO} ¿Cuál es el número de la casa?")
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    assert "le propondrán otro día" in citizen.send("otro día, el viernes en la tarde")
    assert uow.rows[Case][0].status == "esperando_ciudadano"
    assert the_visit(uow).citizen_answer == "otro día, el viernes en la tarde"


def test_a_second_visit_waits_for_the_first_to_be_done_or_cancelled(uow, citizen, agent):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    answer = agent.send(f"/visita {FOLIO} 20/11 09:00-11:00")
    assert "ya tiene la visita #1 pendiente" in answer
    assert len(uow.rows[Visit]) == 1


def test_a_visit_done_cannot_be_cancelled_and_a_cancelled_one_is_told_to_the_citizen(
    uow, citizen, agent, clock
):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    clock.now = the_visit(uow).starts_at
    assert "registrada como realizada" in agent.send("/visita_hecha 1 Se midió el hoyo")
    assert "La visita #1 está realizada: no puede pasar a cancelada" in agent.send(
        "/visita_cancelar 1 lluvia"
    )
    agent.send(f"/visita {FOLIO} 24/11 09:00-11:00")
    answer = agent.send("/visita_cancelar 2 Lluvias fuertes en la zona")
    assert "cancelada; se avisó al ciudadano" in answer
    assert told_citizen(uow)[-1].endswith(
        "📅 Caso TA-2026-000001: la visita del martes 24/11/2026 de 09:00 a 11:00 se canceló. "
        "Motivo: Lluvias fuertes en la zona"
    )
    agent.send(f"/visita {FOLIO} 25/11 09:00-11:00")
    clock.now = the_visit(uow).ends_at
    assert "no realizada" in agent.send("/visita_fallida 3 nadie en casa")
    assert [v.status for v in uow.rows[Visit]] == ["done", "cancelled", "missed"]
    kinds = [e.kind for e in uow.rows[CaseEvent] if e.kind.startswith("visit")]
    assert kinds == [
        "visit_proposed",
        "visit_done",
        "visit_proposed",
        "visit_cancelled",
        "visit_proposed",
        "visit_missed",
    ]


def test_every_status_but_the_open_ones_is_final():
    for status in visits.CLOSED:
        assert visits.TRANSITIONS[status] == frozenset()
    assert set(visits.TRANSITIONS) == set(visits.STATUSES)


def test_tomorrows_visit_is_reminded_once_to_both_sides(uow, citizen, agent, policy, clock):
    agent.send(f"/visita {FOLIO} mañana 09:00-11:00 Ing. Pérez")
    citizen.send("sí")
    replies = visits.due_reminders(uow, policy, clock())
    texts = {(r.address, r.text.splitlines()[0]) for r in replies}
    assert texts == {
        (
            CITIZEN_NUMBER,
            "⏰ Recordatorio: mañana, miércoles 18/11/2026 de 09:00 a 11:00, es la visita "
            "técnica del caso TA-2026-000001.",
        ),
        (AGENT_NUMBER, "⏰ Visita de mañana #1 · TA-2026-000001"),
    }
    assert the_visit(uow).reminded_at is not None
    assert visits.due_reminders(uow, policy, clock()) == []


def test_a_visit_later_than_tomorrow_is_not_reminded_yet(uow, citizen, agent, policy, clock):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    assert visits.due_reminders(uow, policy, clock()) == []
    clock.now += timedelta(days=1)
    assert len(visits.due_reminders(uow, policy, clock())) == 2


def test_an_anonymous_denuncia_gets_no_visit_offered(uow, policy, clock):
    case = uow.cases.add(
        Case(
            folio="TA-2026-000009",
            channel="whatsapp",
            type="denuncia",
            topic="obras",
            description="Usan la maquinaria para trabajos privados",
            anonymous=True,
            deadline_days=15,
            created_at=clock(),
            due_at=clock() + timedelta(days=20),
        )
    )
    slot = visits.parse_slot(policy, "19/11", "09:00-11:00", clock())
    with pytest.raises(NotAllowed, match="denuncia anónima: no hay a quién proponerle una visita"):
        visits.propose(uow, policy, case, slot, "", STAFF, clock())
    assert uow.rows[Visit] == []


def test_a_photo_sent_right_after_the_visit_joins_the_case(uow, citizen, agent, clock):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    clock.now = the_visit(uow).starts_at
    agent.send("/visita_hecha 1 Se midió el hoyo | Bacheo la próxima semana")
    answer = agent.send(media=(Media("image", "https://api.twilio.com/m/1", "image/jpeg"),))
    assert answer == "📎 Foto agregada al caso TA-2026-000001."
    case = uow.rows[Case][0]
    assert [a.case_id for a in uow.rows[Attachment]] == [case.id]
    assert any(e.kind == "visit_photo" for e in uow.rows[CaseEvent] if e.case_id == case.id)
    # It is the staff's: the citizen's written filing does not print it as their annex.
    (photo,) = uow.rows[Attachment]
    photo.status, photo.local_path = "stored", "visita.jpg"
    assert solicitud(uow, agent.dialogue.policy, case, clock()).annexes == ()
    # Long after, a photo from the same phone is a message like any other.
    clock.now += timedelta(hours=2)
    assert "Foto agregada" not in agent.send(
        media=(Media("image", "https://api.twilio.com/m/2", "image/jpeg"),)
    )


def test_a_case_without_a_place_is_proposed_a_visit_without_a_blank_where_the_place_goes(
    uow, citizen, agent
):
    case = uow.rows[Case][0]
    case.location_text = case.municipality = None
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    assert told_citizen(uow)[-1] == (
        "📅 Caso TA-2026-000001: le proponemos una visita técnica el jueves 19/11/2026 de 09:00 "
        "a 11:00.\n"
        "Responda SÍ para confirmarla, u OTRO DÍA y cuándo le conviene."
    )
    assert agent.send("/visitas").splitlines()[1] == (
        "• #1 TA-2026-000001 · jueves 19/11/2026 de 09:00 a 11:00 · lugar sin indicar · "
        "van: por definir · propuesta"
    )


def test_cases_affecting_women_are_listed_first(uow, make_citizen, agent, policy):
    other = make_citizen("+50370002222", channel="whatsapp")
    other.converse(
        "hola",
        "si",
        "1",
        "el puente de la colonia Santa Lucía está quebrado y pasan niñas solas",
        "listo",
        "si",
        "Mejicanos, colonia Santa Lucía",
        "omitir",
    )
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    agent.send("/visita TA-2026-000002 20/11 09:00-11:00")
    assert "situación que afecta a mujeres" in agent.send("/prioridad TA-2026-000002 mujeres")
    listing = agent.send("/visitas").splitlines()
    assert listing[1].startswith("♀ #2 TA-2026-000002")
    assert listing[2].startswith("• #1 TA-2026-000001")


def test_the_calendar_names_folio_place_window_and_who_goes_never_the_citizen(
    uow, citizen, agent, policy, clock
):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00 Ing. Pérez")
    content = visits_ics(policy, uow.visits.listing(), clock()).decode()
    unfolded = content.replace("\r\n ", "")
    assert "BEGIN:VEVENT" in content and "SUMMARY:Visita TA-2026-000001 (#1)" in unfolded
    assert "DTSTART:20261119T150000Z" in content and "DTEND:20261119T170000Z" in content
    assert "LOCATION:San Miguel\\, colonia Las Brisas" in unfolded
    assert "Van: Ing. Pérez" in unfolded and "STATUS:TENTATIVE" in content
    assert "70009999" not in content


def test_a_visit_the_citizen_asked_to_move_is_closed_once_another_is_proposed(uow, citizen, agent):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    assert "le propondrán otro día" in citizen.send("otro día, mejor el sábado")
    assert "Visita #2 propuesta" in agent.send(f"/visita {FOLIO} 21/11 09:00-11:00")
    refused = agent.send("/visita_confirmar 1")
    assert "La visita #1 se cambió de día por la visita #2" in refused
    assert "se cambió de día" in agent.send("/visita_cancelar 1 ya no")
    answer = citizen.send("sí")
    assert "sábado 21/11/2026" in answer and "19/11" not in answer
    assert [v.status for v in uow.rows[Visit]] == ["reschedule_asked", "confirmed"]


def test_a_visit_is_recorded_done_or_missed_only_once_it_starts(uow, citizen, agent, clock):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    early = agent.send("/visita_hecha 1 Se midió el hoyo")
    assert early == "La visita #1 es el jueves 19/11/2026 de 09:00 a 11:00: regístrela después."
    assert "regístrela después" in agent.send("/visita_fallida 1 nadie en casa")
    assert the_visit(uow).status == "proposed"
    clock.now = the_visit(uow).starts_at
    assert "registrada como realizada" in agent.send("/visita_hecha 1 Se midió el hoyo")


def test_a_day_without_a_year_just_past_is_refused_and_an_older_one_is_next_year(
    uow, citizen, agent, policy, clock
):
    # Today is 17/11/2026: 10/11 is a typo, not November 2027; 15/01 is January 2027.
    assert "ya habría pasado" in agent.send(f"/visita {FOLIO} 10/11 09:00-11:00")
    assert not uow.rows[Visit]
    today = clock.now.date()
    assert visits.day_without_year(today, 1, 15) == date(2027, 1, 15)
    assert visits.day_without_year(today, 9, 20) == date(2026, 9, 20)
    assert visits.day_without_year(today, 9, 10) == date(2027, 9, 10)
    assert "Visita #1 propuesta" in agent.send(f"/visita {FOLIO} 15/01 09:00-11:00")


def test_the_citizens_status_names_the_visits_day(uow, citizen, agent):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    citizen.send("sí")
    status = citizen.send(f"estado {FOLIO}")
    assert "Visita de campo propuesta: jueves 19/11/2026 de 09:00 a 11:00" in status
    assert "Visita de campo confirmada: jueves 19/11/2026 de 09:00 a 11:00" in status


def test_a_visit_already_done_says_so(uow, citizen, agent, clock):
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    clock.now = the_visit(uow).starts_at
    agent.send("/visita_hecha 1 Se midió el hoyo")
    assert agent.send("/visita_hecha 1 otra vez") == "La visita #1 ya está realizada."
