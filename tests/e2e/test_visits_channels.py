"""Issue 19's field visits through the real channels: staff propose a visit from the Telegram
staff chat, the citizen confirms it on WhatsApp, both are reminded the day before (once), the
visit is recorded done with a photo sent from the staff member's phone, and the tally counts
it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine
from sqlmodel import Session

from storage.engine import normalise_url
from storage.models import Visit
from tests.e2e.channels import TelegramStaff, WhatsAppCitizen
from tests.helpers import POTHOLE, visit_counts

FOLIO = "TA-2026-000001"
PHOTO = {"file_id": "VISITA1", "file_unique_id": "V1", "width": 90, "height": 90}


def said(replies: list[str], words: str) -> bool:
    return any(words in reply for reply in replies)


def the_day_comes(database_url: str, visit_id: int) -> None:
    """As if the visit's day came: its window began a minute ago (a visit is recorded done
    once it started)."""
    engine = create_engine(normalise_url(database_url))
    with Session(engine) as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None
        length = visit.ends_at - visit.starts_at
        visit.starts_at = datetime.now(UTC) - timedelta(minutes=1)
        visit.ends_at = visit.starts_at + length
        session.add(visit)
        session.commit()
    engine.dispose()


def test_a_visit_is_proposed_confirmed_reminded_once_done_with_a_photo_and_counted(
    service, provider, database_url
):
    added = service.cli(
        "staff", "add", "--name", "Marta Ruiz", "--role", "agente", "--telegram-id", "4242"
    )
    assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    for line in POTHOLE:
        ana.send(line)
    provider.wait_for(lambda: said(ana.replies(), f"Folio: {FOLIO}"))
    marta = TelegramStaff(service, 4242, "Marta")
    marta_chat = lambda: [c.get("text", "") for c in marta.chat()]  # noqa: E731

    marta.send(f"/visita {FOLIO} mañana 09:00-11:00 Ing. Pérez y promotora social")
    provider.wait_for(lambda: said(marta_chat(), "Visita #1 propuesta"))
    provider.wait_for(lambda: said(ana.replies(), "le proponemos una visita técnica"))
    proposal = next(r for r in ana.replies() if "le proponemos una visita" in r)
    assert "de 09:00 a 11:00" in proposal and "Responda SÍ" in proposal

    ana.send("sí")
    provider.wait_for(lambda: said(ana.replies(), "quedó confirmada"))
    # Marta proposed it: she hears the answer in her own chat.
    marta_own = lambda: [c.get("text", "") for c in marta.replies()]  # noqa: E731
    provider.wait_for(lambda: said(marta_own(), "El ciudadano confirmó la visita #1"))

    reminded = service.cli("visits", "remind")
    assert reminded.returncode == 0, reminded.stderr
    assert reminded.stdout == "Recordatorios en cola: 2.\n"
    provider.wait_for(lambda: said(ana.replies(), "Recordatorio: mañana"))
    provider.wait_for(lambda: said(marta_own(), "Visita de mañana #1"))
    # A second run (a restart, another process) reminds nobody again.
    again = service.cli("visits", "remind")
    assert again.stdout == "Recordatorios en cola: 0.\n"

    the_day_comes(database_url, 1)
    marta.send("/visita_hecha 1 El hoyo mide 2 m; hay que bachear | Cuadrilla el lunes")
    provider.wait_for(lambda: said(marta_chat(), "registrada como realizada"))
    marta.send(photo=[PHOTO])
    provider.wait_for(lambda: said(marta_chat(), f"Foto agregada al caso {FOLIO}"))
    provider.wait_for(lambda: said(ana.replies(), "se realizó la visita técnica"))
    done = next(r for r in ana.replies() if "se realizó la visita" in r)
    assert "Próximo paso: Cuadrilla el lunes" in done

    shown = service.cli("cases", "show", FOLIO)
    assert "Visita de campo realizada" in shown.stdout
    assert "Foto de la visita de campo" in shown.stdout
    assert len([r for r in ana.replies() if "Recordatorio" in r]) == 1

    today = datetime.now(ZoneInfo("America/El_Salvador")).date()
    tally = service.cli(
        "tally",
        "--from",
        (today - timedelta(days=1)).isoformat(),  # the visit now began a minute ago
        "--to",
        (today + timedelta(days=2)).isoformat(),
        "--format",
        "json",
    )
    assert tally.returncode == 0, tally.stderr
    figures = json.loads(tally.stdout)
    assert figures["visits"] == visit_counts(proposed=1, confirmed=1, done=1)
    assert "Se realizó la visita técnica social programada" in figures["narrative"]
