"""What an IT office watches: /metrics behind its token, counters that move with traffic and
hold no personal data, and /healthz telling the outbox's backlog and when replies are late."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from storage.engine import normalise_url
from storage.models import OutboxItem
from tests.e2e.channels import Service, TelegramCitizen, WhatsAppCitizen

TOKEN = "metrics-token-for-the-tests-0123456789"
NUMBER, DIGITS = "+50370004321", "50370004321"
TELEGRAM_ID = 987654321
WORDS = "un bache enorme frente a la escuela"


@pytest.fixture
def watched(tmp_path, database_url, provider) -> Iterator[Service]:
    service = Service(tmp_path, database_url, provider)
    service.env["TA_SERVER__METRICS_TOKEN"] = TOKEN
    yield service.start()
    service.stop()


def scrape(service: Service) -> str:
    response = service.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def value(exposition: str, name: str, **labels: str) -> float:
    """The sample's value (0 when it is not there yet)."""
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, number = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(number)
    return 0.0


def test_metrics_are_off_without_a_token(service):
    assert service.http.get("/metrics").status_code == 404
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert service.http.get("/metrics", headers=bearer).status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token_and_answer_the_right_one(watched):
    assert watched.http.get("/metrics").status_code == 401
    assert watched.http.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert watched.http.get("/metrics", headers=wrong).status_code == 403
    assert "ta_messages_received" in scrape(watched)


def test_counters_move_with_traffic_and_no_label_holds_a_number_an_id_or_a_text(watched, provider):
    before = scrape(watched)
    ana = WhatsAppCitizen(watched, NUMBER, "Ana")
    luis = TelegramCitizen(watched, TELEGRAM_ID, "Luis")
    ana.send("hola")
    luis.send("hola")
    provider.wait_for(lambda: ana.replies() and luis.replies())
    ana.send("si")
    ana.send(WORDS)
    assert ana.post(ana.form("falso"), signature="bm8=").status_code == 403
    too_large = watched.http.post(
        "/webhooks/whatsapp", content=b"x" * 70_000, headers={"X-Twilio-Signature": "x"}
    )
    assert too_large.status_code == 413
    provider.wait_for(lambda: len(ana.replies()) >= 3)
    watched.http.get("/healthz")
    after = scrape(watched)

    for channel, sent in (("whatsapp", 3), ("telegram", 1)):
        received = value(after, "ta_messages_received_total", channel=channel)
        assert received - value(before, "ta_messages_received_total", channel=channel) >= sent
        assert value(after, "ta_messages_acknowledged_total", channel=channel) >= sent
        assert value(after, "ta_send_attempts_total", channel=channel) >= 1
        assert value(after, "ta_last_sent_timestamp_seconds", channel=channel) > 0
    for status in ("200", "403", "413"):
        assert value(after, "ta_webhook_responses_total", channel="whatsapp", status=status) >= 1
    assert value(after, "ta_admission_limit") > 0
    assert (
        value(after, "ta_request_duration_seconds_count", route="/webhooks/whatsapp", method="POST")
        >= 5
    )
    assert 'ta_outbox_rows{channel="whatsapp",status="pending"}' in after or (
        "ta_outbox_rows" in after
    )

    # Nothing a person sent or is, in any label of the whole exposition.
    folios = re.findall(r"TA-\d{4}-\d+", "\n".join(ana.replies()))
    labels = " ".join(
        re.findall(
            r"\{([^}]*)\}", "\n".join(x for x in after.splitlines() if not x.startswith("#"))
        )
    )
    for secret in (DIGITS, str(TELEGRAM_ID), "bache", "hola", "Ana", "Luis", *folios):
        assert secret not in after
    assert not re.search(r"\d{6,}", labels)  # no number, chat id or message id
    assert not re.search(r"(SM|MM)[0-9a-f]{6,}", after)  # no Twilio message sid


def test_health_reports_the_outbox_and_is_degraded_when_a_reply_waits_too_long(
    tmp_path, database_url, provider
):
    service = Service(tmp_path, database_url, provider)
    service.env["TA_SERVER__DEGRADED_AFTER_SECONDS"] = "60"
    service.env["TA_SERVER__METRICS_TOKEN"] = TOKEN
    service.start()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    try:
        health = service.http.get("/healthz", headers=bearer)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert set(health.json()["outbox"]) >= {"whatsapp", "telegram"}

        luis = TelegramCitizen(service, TELEGRAM_ID)
        luis.send("hola")
        provider.wait_for(lambda: luis.replies())
        telegram = service.http.get("/healthz", headers=bearer).json()["outbox"]["telegram"]
        assert telegram["last_sent_at"] is not None
        # Without the token, or with another, only whether it works: the outbox's counts and
        # send times, polled, would time the replies of which no row is left (an anonymous
        # denuncia's receipt), as an outside test did (2026-12-05, night).
        for headers in ({}, {"Authorization": "Bearer another"}):
            open_health = service.http.get("/healthz", headers=headers)
            assert open_health.status_code == 200
            assert open_health.json() == {"status": "ok", "database": "ok", "purge_pending": False}

        # A reply queued an hour ago and still not sent (it is due only tomorrow).
        engine = create_engine(normalise_url(database_url))
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        with Session(engine) as session:
            session.add(
                OutboxItem(
                    channel="whatsapp",
                    address=NUMBER,
                    body="tarde",
                    next_attempt_at=datetime.now(UTC) + timedelta(days=1),
                    created_at=long_ago,
                )
            )
            session.commit()
        engine.dispose()
        health = service.http.get("/healthz", headers=bearer)
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded" and body["database"] == "ok"
        assert service.http.get("/healthz").json()["status"] == "degraded"
        assert body["outbox"]["whatsapp"]["pending"] == 1
        assert body["outbox"]["whatsapp"]["oldest_pending_seconds"] >= 3600
    finally:
        service.stop()


def test_a_console_reply_waiting_for_its_citizen_to_come_back_is_not_a_late_reply(
    tmp_path, database_url, provider
):
    """Staff answered a citizen who tried the service at the terminal and left: the reply is
    printed when they open `chat` again, days later perhaps. The service is not late."""
    service = Service(tmp_path, database_url, provider)
    service.env["TA_SERVER__DEGRADED_AFTER_SECONDS"] = "60"
    service.env["TA_SERVER__METRICS_TOKEN"] = TOKEN
    service.start()
    try:
        engine = create_engine(normalise_url(database_url))
        with Session(engine) as session:
            session.add(
                OutboxItem(
                    channel="console",
                    address="7001",
                    body="Respuesta del personal",
                    next_attempt_at=datetime.now(UTC) - timedelta(days=2),
                    created_at=datetime.now(UTC) - timedelta(days=2),
                )
            )
            session.commit()
        engine.dispose()
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        health = service.http.get("/healthz", headers=bearer).json()
        assert health["status"] == "ok"
        assert health["outbox"]["console"]["pending"] == 1  # still listed
        exposition = scrape(service)
        assert value(exposition, "ta_outbox_rows", status="pending", channel="console") == 1
        assert 'ta_outbox_oldest_pending_seconds{channel="console"}' not in exposition
    finally:
        service.stop()
