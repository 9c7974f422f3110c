"""Issue 17's citizen findings through the real channels: a status question in the person's
words on WhatsApp, picking a listed case on Telegram, and staff work that reaches the citizen as
one message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlmodel import Session

from storage.engine import normalise_url
from storage.models import Case
from tests.e2e.channels import Service, TelegramCitizen, TelegramStaff, WhatsAppCitizen
from tests.helpers import POTHOLE

SECOND = POTHOLE[2:7]  # another report from someone who already answered the optional question


def cases(database_url: str) -> int:
    engine = create_engine(normalise_url(database_url))
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Case)).one()[0]
    engine.dispose()
    return total


def containing(texts: list[str], part: str) -> str | None:
    return next((text for text in texts if part in text), None)


def test_a_question_about_an_earlier_case_on_whatsapp_gets_its_status(
    service, provider, database_url
):
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    for line in POTHOLE:
        ana.send(line)
    provider.wait_for(lambda: containing(ana.replies(), "Folio: TA-2026-"))
    ana.send("ya arreglaron lo del hoyo?")
    status = provider.wait_for(lambda: containing(ana.replies(), "Historial:"))
    assert status.startswith("Caso TA-2026-000001: solicitud sobre calles y caminos")
    assert cases(database_url) == 1


def test_after_estado_on_telegram_the_second_listed_case_is_picked(service, provider):
    luis = TelegramCitizen(service, 5150, "Luis")
    for line in (*POTHOLE, *SECOND):
        luis.send(line)
    texts = lambda: [r["text"] for r in luis.replies()]  # noqa: E731
    provider.wait_for(lambda: containing(texts(), "Folio: TA-2026-000002"))
    luis.send("estado")
    provider.wait_for(lambda: containing(texts(), "Responda con el número de la lista"))
    luis.send("el 2")
    status = provider.wait_for(lambda: containing(texts(), "Caso TA-2026-000002: "))
    assert "Estado: Recibido" in status


@pytest.fixture
def gathering_service(tmp_path, database_url, provider) -> Iterator[Service]:
    """The service holding each notice twenty seconds for the next: the staff's four commands
    below follow each other well within that, however busy the machine."""
    running = Service(tmp_path, database_url, provider, notice_gather_seconds=20).start()
    yield running
    running.stop()


def test_staff_work_to_closure_reaches_the_whatsapp_citizen_as_one_message(
    gathering_service, provider
):
    service = gathering_service
    added = service.cli(
        "staff", "add", "--name", "Marta Ruiz", "--role", "agent", "--telegram-id", "4242"
    )
    assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    marta = TelegramStaff(service, 4242, "Marta")
    for line in POTHOLE:
        ana.send(line)
    receipt = provider.wait_for(lambda: containing(ana.replies(), "Folio: "))
    folio = receipt.split("Folio: ")[1].split()[0]
    before = len(ana.replies())

    marta.press(f"tomar:{folio}")
    for command in (
        f"/estado {folio} en_proceso",
        f"/responder {folio} La cuadrilla llega el jueves",
        f"/estado {folio} resuelto",
        f"/cerrar {folio} Bache reparado el jueves",
    ):
        marta.send(command)
    provider.wait_for(lambda: containing(ana.replies(), "¿Se resolvió su caso "), timeout=180)
    assert ana.replies()[before:] == [
        f"Su caso {folio} cambió de estado: En proceso.\n\n"
        f"Respuesta sobre su caso {folio}:\nLa cuadrilla llega el jueves\n\n"
        f"Su caso {folio} cambió de estado: Resuelto.\n\n"
        f"Su caso {folio} fue cerrado.\nResolución: Bache reparado el jueves\n\n"
        f"¿Se resolvió su caso {folio}?\n1. Sí\n2. No"
    ]
