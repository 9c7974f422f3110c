"""Commitments as conversations against the in-memory unit of work: the dates staff write, what
the citizen is told when one is made, met or moved, on time against late, and who hears of the
overdue ones."""

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.casework.commitments import BadDate, overdue_reminders, parse_due
from handlers.core.texts import load_texts
from storage.models import Case, Commitment, OutboxItem
from tests.helpers import DENUNCIA, Citizen, add_staff

t = load_texts()
CITIZEN_NUMBER = "+50370009999"
AGENT_NUMBER = "+50370001111"
FOLIO = "TA-2026-000001"
TUESDAY = date(2026, 11, 17)  # the tests' clock starts that morning (tests/helpers.py)


@pytest.mark.parametrize(
    ("written", "today", "day"),
    [
        ("15/12", TUESDAY, date(2026, 12, 15)),
        ("15/09", TUESDAY, date(2027, 9, 15)),  # past 60 days ago or more: next year's
        ("15/12/2026", TUESDAY, date(2026, 12, 15)),
        ("15-12-26", TUESDAY, date(2026, 12, 15)),
        ("2026-12-15", TUESDAY, date(2026, 12, 15)),
        ("viernes", TUESDAY, date(2026, 11, 20)),
        ("Viernes", date(2026, 11, 20), date(2026, 11, 27)),  # said on a Friday: the next one
        ("miércoles", TUESDAY, date(2026, 11, 18)),
        ("miercoles", TUESDAY, date(2026, 11, 18)),
        ("hoy", TUESDAY, TUESDAY),
        ("mañana", TUESDAY, date(2026, 11, 18)),
    ],
)
def test_the_dates_staff_write_name_a_day_from_today_on(written, today, day):
    assert parse_due(t, written, today) == day


@pytest.mark.parametrize(
    "written", ["31/02", "2026-13-01", "pronto", "16/11/2026", "ayer", "01/11", "20/09"]
)
def test_a_date_that_names_no_day_or_a_past_one_is_refused_in_one_line(written):
    with pytest.raises(BadDate) as refused:
        parse_due(t, written, TUESDAY)
    assert written in str(refused.value) and "\n" not in str(refused.value)


@pytest.fixture
def citizen(make_citizen) -> Citizen:
    return make_citizen(CITIZEN_NUMBER, channel="whatsapp")


@pytest.fixture
def agent(uow, make_citizen, case) -> Citizen:
    """Ana, an agent on WhatsApp, once the pothole case (FOLIO) is filed."""
    add_staff(lambda: uow, "Ana Gómez", whatsapp=AGENT_NUMBER)
    return make_citizen(AGENT_NUMBER, channel="whatsapp")


def told_citizen(uow) -> list[str]:
    return [i.body for i in uow.rows[OutboxItem] if i.address == CITIZEN_NUMBER]


def test_a_commitment_made_moved_and_met_late_is_told_to_the_citizen_each_time(
    uow, citizen, agent, clock
):
    answer = agent.send(f"/compromiso {FOLIO} viernes limpiar el tragante de la esquina")
    assert "Compromiso #1 en el caso TA-2026-000001, para el viernes 20/11/2026" in answer
    assert "responsable: Ana Gómez" in answer and "recibe el aviso en su chat" in answer
    assert told_citizen(uow)[-1] == (
        "📌 Sobre su caso TA-2026-000001 nos comprometemos a: limpiar el tragante de la esquina\n"
        "Fecha: viernes 20/11/2026. Le avisaremos cuando se cumpla."
    )
    answer = agent.send("/compromiso_mover 1 25/11 la cuadrilla está en una emergencia")
    assert "nueva fecha miércoles 25/11/2026 (cambio n.º 1)" in answer
    assert "ahora es el miércoles 25/11/2026" in told_citizen(uow)[-1]
    assert "Motivo: la cuadrilla está en una emergencia" in told_citizen(uow)[-1]

    clock.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # the day after the new date
    answer = agent.send("/compromisos")
    assert "⏰ VENCIDO #1 TA-2026-000001 · miércoles 25/11/2026" in answer
    assert "cambios de fecha: 1" in answer and "Ana Gómez" in answer
    answer = agent.send("/compromiso_cumplido 1 quedó limpio")
    assert "cumplido con retraso (era para el miércoles 25/11/2026)" in answer
    assert told_citizen(uow)[-1] == (
        "✅ Cumplimos el compromiso de su caso TA-2026-000001: limpiar el tragante de la esquina\n"
        "Nota: quedó limpio"
    )
    (commitment,) = uow.rows[Commitment]
    assert commitment.status == "met" and commitment.met_on_time is False
    assert commitment.original_due_date == date(2026, 11, 20) and commitment.moved_count == 1
    assert "ya está cumplido" in agent.send("/compromiso_mover 1 30/11 otra vez")
    # The case's history, as the citizen reads it, carries each step.
    status = citizen.send(f"estado {FOLIO}")
    assert "Compromiso adquirido: limpiar el tragante de la esquina (fecha: viernes" in status
    assert "Compromiso cumplido: limpiar el tragante de la esquina Nota: quedó limpio" in status


def test_a_commitment_cancelled_with_its_reason_is_told_to_the_citizen(uow, citizen, agent):
    agent.send(f"/compromiso {FOLIO} viernes limpiar el tragante de la esquina")
    assert "/compromiso_cancelar N motivo" in agent.send("/compromiso_cancelar 1")
    answer = agent.send("/compromiso_cancelar 1 la alcaldía ya lo limpió")
    assert "Compromiso #1 del caso TA-2026-000001 cancelado" in answer
    assert told_citizen(uow)[-1] == (
        "✖️ El compromiso de su caso TA-2026-000001 («limpiar el tragante de la esquina») "
        "se canceló.\nMotivo: la alcaldía ya lo limpió"
    )
    assert uow.rows[Commitment][0].status == "cancelled"
    assert "ya está cancelado" in agent.send("/compromiso_cumplido 1")
    status = citizen.send(f"estado {FOLIO}")
    assert "Compromiso cancelado: limpiar el tragante de la esquina: cancelado." in status


def test_met_on_its_day_is_on_time(uow, agent, clock):
    agent.send(f"/compromiso {FOLIO} hoy visitar el lugar")
    assert "cumplido a tiempo" in agent.send("/compromiso_cumplido 1")
    assert uow.rows[Commitment][0].met_on_time is True


def test_a_named_responsible_and_the_mistakes_staff_make_are_answered_in_spanish(
    uow, agent, citizen
):
    add_staff(lambda: uow, "Rosa Pérez", telegram_id=4242)
    answer = agent.send(f"/compromiso {FOLIO} 15/12 @Rosa reponer la tapadera")
    assert "responsable: Rosa Pérez" in answer
    answer = agent.send(f"/compromiso {FOLIO} 15/12 @Alcaldía_de_San_Miguel poda del árbol")
    assert "responsable: Alcaldía de San Miguel (no es del personal" in answer
    assert "Fecha no válida: «31/02»" in agent.send(f"/compromiso {FOLIO} 31/02 algo")
    assert "ya pasó" in agent.send(f"/compromiso {FOLIO} 01/01/2026 algo")
    assert "Escriba /compromiso FOLIO FECHA" in agent.send(f"/compromiso {FOLIO} 15/12")
    assert "No hay un compromiso número 9" in agent.send("/compromiso_cumplido 9")
    assert "/compromiso_mover N FECHA motivo" in agent.send("/compromiso_mover 1 20/12")
    assert "ya tiene esa fecha" in agent.send("/compromiso_mover 1 15/12 nada")
    assert len(uow.rows[Commitment]) == 2
    listed = agent.send(f"/compromisos {FOLIO}")
    assert listed.index("#1") < listed.index("#2") and "⏰" not in listed


def test_an_anonymous_reporter_reads_the_commitment_with_their_code_and_is_sent_nothing(
    uow, make_citizen
):
    reporter = make_citizen("7005")
    reporter.converse(*DENUNCIA)
    code = re.search(r"Código secreto de seguimiento: (\S+)", reporter.send("1")).group(1)
    add_staff(lambda: uow, "Ana Gómez", whatsapp=AGENT_NUMBER)
    agent = make_citizen(AGENT_NUMBER, channel="whatsapp")
    sent_before = len(uow.rows[OutboxItem])
    (case,) = uow.rows[Case]
    answer = agent.send(f"/compromiso {case.folio} 15/12 revisar la bitácora de la maquinaria")
    assert "Denuncia anónima: la persona lo verá al consultar con su código" in answer
    assert all(i.address == AGENT_NUMBER for i in uow.rows[OutboxItem][sent_before:])
    assert "revisar la bitácora de la maquinaria" in reporter.send(f"estado {code}")


def test_overdue_commitments_reach_their_responsible_once_a_day_else_the_staff_chat(
    uow, agent, dialogue
):
    agent.send(f"/compromiso {FOLIO} viernes limpiar el tragante")
    agent.send(f"/compromiso {FOLIO} viernes @Alcaldía podar el árbol")
    agent.send(f"/compromiso {FOLIO} 15/12 reponer la tapadera")
    policy = dataclasses.replace(dialogue.policy, staff_chat_id=-100123)  # the staff group
    saturday = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    replies = {(r.channel, r.address): r.text for r in overdue_reminders(uow, policy, saturday)}
    to_ana, to_chat = replies[("whatsapp", AGENT_NUMBER)], replies[("telegram", "-100123")]
    assert to_ana.startswith("⏰ Compromisos vencidos (1)") and "limpiar el tragante" in to_ana
    assert "podar el árbol" in to_chat and "Alcaldía" in to_chat and "tapadera" not in to_chat
    assert overdue_reminders(uow, policy, saturday + timedelta(hours=3)) == []
    sunday = overdue_reminders(uow, policy, saturday + timedelta(days=1))
    assert len(sunday) == 2
