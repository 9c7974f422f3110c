"""The database goes away under the running service: webhooks and /healthz answer 503 at once
(so the providers deliver again), and the service recovers by itself when it is back."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy.engine import make_url

from tests.dbproxy import TcpProxy
from tests.e2e.channels import Service, TelegramCitizen, WhatsAppCitizen

pytestmark = pytest.mark.slow
TOKEN = "outages-metrics-token"


def all_recorded(service: Service) -> bool:
    """Whether every reply queued so far is sent and recorded as such (/healthz's backlog).
    A reply the provider has but the service has not yet recorded when the database goes is
    kept for its lease (two minutes), and the person's later replies wait behind it: that is
    the crash test's subject, not this one's."""
    bearer = {"Authorization": f"Bearer {TOKEN}"}  # the backlog is shown to the token only
    outbox = service.http.get("/healthz", headers=bearer).json()["outbox"]
    return all(channel["pending"] == 0 for channel in outbox.values())


# The client gives up after 120 s (Service.http): a 503 at all, rather than a read timeout, is
# what shows that the service did not hang on the database. How fast it came is not asserted:
# that moves with the machine's load.


def test_with_postgresql_unreachable_webhooks_answer_503_and_the_service_recovers_alone(
    tmp_path, postgres_url, provider
):
    real = make_url(postgres_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    through_proxy = real.set(host="127.0.0.1", port=proxy.port)
    service = Service(tmp_path, through_proxy.render_as_string(hide_password=False), provider)
    service.env["TA_SERVER__METRICS_TOKEN"] = TOKEN
    service.start()
    try:
        ana = WhatsAppCitizen(service, "+50370001234")
        luis = TelegramCitizen(service, 4242)
        ana.send("hola")
        luis.send("hola")
        # Everything sent first: a reply being sent at the cut goes out only when its lease
        # runs out (the documented duplicate window), which is the crash test's subject.
        provider.wait_for(lambda: any("acuerdo" in r for r in ana.replies()))
        provider.wait_for(lambda: any("acuerdo" in r.get("text", "") for r in luis.replies()))
        # Seen by the provider is not yet written down by the service (it failed once this way
        # on a busy machine: Luis's next reply then waited out the first one's lease).
        provider.wait_for(lambda: all_recorded(service))
        pid = service.process.pid

        proxy.cut()
        form, update = ana.form("si"), luis.message(text="si")
        for post in (lambda: ana.post(form), lambda: luis.post(update)):
            response = post()
            assert response.status_code == 503
            assert response.headers["retry-after"]
        health = service.http.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "error", "database": "unreachable"}

        proxy.restore()
        deadline = time.monotonic() + 120  # bounds a hang only
        while service.http.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the service did not see the database again"
            time.sleep(0.2)
        # The providers deliver again what got 503, and now it is stored and answered.
        assert ana.post(form).status_code == 200
        assert luis.post(update).status_code == 200
        provider.wait_for(lambda: any("Gracias por aceptar" in r for r in ana.replies()))
        provider.wait_for(
            lambda: any("Gracias por aceptar" in r.get("text", "") for r in luis.replies())
        )
        assert service.process.pid == pid and service.process.poll() is None
        assert "Traceback" not in service.log_text()
    finally:
        service.stop()
        proxy.stop()


def test_with_postgresql_no_longer_answering_webhooks_answer_503_within_seconds(
    tmp_path, postgres_url, provider
):
    real = make_url(postgres_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    through_proxy = real.set(host="127.0.0.1", port=proxy.port)
    service = Service(tmp_path, through_proxy.render_as_string(hide_password=False), provider)
    service.env["TA_SERVER__METRICS_TOKEN"] = TOKEN
    service.start()
    try:
        ana = WhatsAppCitizen(service, "+50370001234")
        ana.send("hola")
        provider.wait_for(lambda: any("acuerdo" in r for r in ana.replies()))
        provider.wait_for(lambda: all_recorded(service))

        proxy.hold()  # connections are accepted and never answered
        form = ana.form("si")
        # The connect timeout answers, not minutes of waiting (the client gives up at 120 s).
        assert ana.post(form).status_code == 503
        assert service.http.get("/healthz").status_code == 503

        proxy.restore()
        deadline = time.monotonic() + 120  # bounds a hang only
        while service.http.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the service did not see the database again"
            time.sleep(0.2)
        assert ana.post(form).status_code == 200
        provider.wait_for(lambda: any("Gracias por aceptar" in r for r in ana.replies()))
    finally:
        service.stop()
        proxy.stop()


def test_with_the_sqlite_file_locked_by_another_program_webhooks_answer_503_not_500(
    tmp_path, provider
):
    database = tmp_path / "telefono_abierto.db"
    service = Service(tmp_path, f"sqlite:///{database}", provider).start()
    try:
        ana = WhatsAppCitizen(service, "+50370001234")
        ana.send("hola")
        provider.wait_for(lambda: any("acuerdo" in r for r in ana.replies()))
        other_program = sqlite3.connect(database, isolation_level=None)
        other_program.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool holding the write lock
        form = ana.form("si")
        # After the 10 s busy timeout: the provider is told to try again, nothing half-stored.
        assert ana.post(form).status_code == 503
        other_program.execute("ROLLBACK")
        other_program.close()
        assert ana.post(form).status_code == 200
        provider.wait_for(lambda: any("Gracias por aceptar" in r for r in ana.replies()))
        assert "Traceback" not in service.log_text()
    finally:
        service.stop()
