"""Issue 19's commitments through the real channels: an agent makes one from Telegram and the
citizen hears of it on WhatsApp; its date passes and the agent is told; the weekly summary and
the period tally show it overdue; met, the citizen hears of that too and the tally counts it
late."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from tests.e2e.channels import TelegramCitizen, WhatsAppCitizen
from tests.helpers import POTHOLE


def said(replies: list[str], words: str) -> bool:
    return any(words in reply for reply in replies)


def days_pass(database_url: str, days: int) -> None:
    """As if `days` went by: the commitments' dates move that far into the past."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for row in connection.execute(text("SELECT id, due_date FROM commitments")).all():
            due = row.due_date
            if isinstance(due, str):  # SQLite keeps dates as text
                due = date.fromisoformat(due)
            connection.execute(
                text("UPDATE commitments SET due_date = :due WHERE id = :id"),
                {"due": due - timedelta(days=days), "id": row.id},
            )
    engine.dispose()


def test_a_commitment_is_told_to_the_citizen_reminded_when_overdue_and_reported(
    service, provider, database_url
):
    for member in (
        ["--name", "Rosa Pérez", "--role", "agent", "--telegram-id", "4242"],
        ["--name", "Marta Ruiz", "--role", "supervisor", "--telegram-id", "4343"],
    ):
        added = service.cli("staff", "add", *member)
        assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    for line in POTHOLE:
        ana.send(line)
    folio = provider.wait_for(
        lambda: next((m[0] for r in ana.replies() if (m := re.findall(r"TA-\d{4}-\d{6}", r))), None)
    )

    rosa = TelegramCitizen(service, 4242, "Rosa")
    rosa_says = lambda: [r.get("text", "") for r in rosa.replies()]  # noqa: E731
    rosa.send(f"/compromiso {folio} mañana limpiar el tragante de la esquina")
    provider.wait_for(lambda: said(rosa_says(), f"Compromiso #1 en el caso {folio}"))
    provider.wait_for(lambda: said(ana.replies(), "nos comprometemos a: limpiar el tragante"))

    days_pass(database_url, 10)
    reminded = service.cli("commitments", "remind")
    assert reminded.returncode == 0, reminded.stderr
    assert reminded.stdout == "Avisos de compromisos vencidos en cola: 1.\n"
    provider.wait_for(lambda: said(rosa_says(), "⏰ Compromisos vencidos (1)"))
    overdue = next(r for r in rosa_says() if r.startswith("⏰ Compromisos vencidos"))
    assert f"⏰ VENCIDO #1 {folio}" in overdue and "limpiar el tragante" in overdue
    # Once a day at most.
    assert service.cli("commitments", "remind").stdout.endswith("en cola: 0.\n")

    today = datetime.now(ZoneInfo("America/El_Salvador")).date()
    year, week, _ = today.isocalendar()
    sent = service.cli("summary", "--week", f"{year}-W{week:02d}", "--send")
    assert sent.returncode == 0, sent.stderr
    assert f"Compromisos vencidos: 1 ({folio} #1, Rosa Pérez, vencía" in sent.stdout
    marta = TelegramCitizen(service, 4343, "Marta")
    provider.wait_for(
        lambda: said([r.get("text", "") for r in marta.replies()], "Compromisos vencidos: 1")
    )

    def figures() -> dict:
        period = ["--from", (today - timedelta(days=30)).isoformat(), "--to", today.isoformat()]
        report = service.cli("tally", *period, "--format", "json")
        assert report.returncode == 0, report.stderr
        return json.loads(report.stdout)

    report = figures()
    assert report["commitments"]["made"] == 1
    assert report["commitments"]["pending"] == report["commitments"]["overdue"] == 1
    assert "Al cierre quedaba 1 pendiente (1 vencido)" in report["narrative"]

    rosa.send("/compromiso_cumplido 1 quedó limpio")
    provider.wait_for(lambda: said(rosa_says(), "cumplido con retraso"))
    provider.wait_for(lambda: said(ana.replies(), "✅ Cumplimos el compromiso de su caso"))
    assert figures()["commitments"] | {"due": 0} == {
        "made": 1,
        "due": 0,
        "met_on_time": 0,
        "met_late": 1,
        "pending": 0,
        "overdue": 0,
        "moved": 0,
        "cancelled": 0,
    }
