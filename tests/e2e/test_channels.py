"""WhatsApp and Telegram end to end: the real service under uvicorn, the real Twilio and
Telegram clients, and a local stand-in for the providers that records what they were asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlmodel import Session

from storage.engine import normalise_url
from storage.models import Attachment, Case, Message, OutboxItem
from tests.e2e.channels import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    OUR_NUMBER,
    SECRET_TOKEN,
    Service,
    TelegramCitizen,
    WhatsAppCitizen,
    sign,
)
from tests.helpers import POTHOLE
from tests.provider import JPEG, telegram_error, twilio_error


@pytest.fixture
def db(database_url) -> Iterator[Session]:
    engine = create_engine(normalise_url(database_url))
    with Session(engine) as session:
        yield session
    engine.dispose()


def count(session: Session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()[0]


def stored(session: Session, attachment_id: int) -> Attachment | None:
    """The attachment once its file has been downloaded."""
    session.expire_all()
    row = session.get(Attachment, attachment_id)
    return row if row.status == "stored" else None


def folio_in(texts: list[str]) -> str | None:
    for text in texts:
        for line in text.splitlines():
            if line.startswith("Folio: "):
                return line.removeprefix("Folio: ").strip()
    return None


def test_a_whatsapp_conversation_with_a_photo_and_a_pin_ends_with_a_case_and_a_receipt(
    service, provider, db
):
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    photo = provider.add_media("ME1", JPEG, "image/jpeg")
    hello, consent, menu, description, done, confirm, place, skip = POTHOLE
    for body in (hello, consent, menu, description):
        ana.send(body)
    ana.send("", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    ana.send("", Latitude="13.4833", Longitude="-88.1833", Address="Las Brisas", Label="Casa")
    for body in (done, confirm, skip):
        ana.send(body)

    folio = provider.wait_for(lambda: folio_in(ana.replies()))
    assert folio.startswith("TA-")
    sent = provider.sent("twilio")
    assert all(call.params["From"] == f"whatsapp:{OUR_NUMBER}" for call in sent)
    assert all(call.params["StatusCallback"].endswith("/webhooks/whatsapp/status") for call in sent)

    case = db.exec(select(Case).where(Case.folio == folio)).one()[0]
    assert (case.channel, case.latitude, case.longitude) == ("whatsapp", 13.4833, -88.1833)
    assert "hoyo enorme" in case.description
    (photo_row,) = db.exec(select(Attachment).where(Attachment.case_id == case.id)).one()
    assert photo_row.kind == "photo"

    # The photo is fetched in the background with the account's credentials; once it is kept,
    # Twilio's URL (which holds the message's sid) is forgotten.
    row = provider.wait_for(lambda: stored(db, photo_row.id))
    assert (service.tmp_path / "media" / row.sha256[:2]).is_dir()
    assert Path(row.local_path).read_bytes() == JPEG
    assert row.provider_ref == ""

    # The service's log holds neither the number, nor what Ana wrote, nor any secret.
    log = service.log_text()
    for secret in ("50370001234", "hoyo enorme", "Las Brisas", "Ana", AUTH_TOKEN, BOT_TOKEN):
        assert secret not in log


def test_a_telegram_conversation_with_a_photo_a_pin_and_buttons(service, provider, db):
    luis = TelegramCitizen(service, 555001, "Luis")
    provider.media["PHOTO1"] = (JPEG, "image/jpeg")
    hello, consent, menu, description, done, confirm, place, skip = POTHOLE
    luis.send(hello)
    luis.press("1")  # the consent button
    luis.send(menu)
    luis.send(description)
    luis.send(photo=[{"file_id": "PHOTO1", "file_unique_id": "P1", "width": 90, "height": 90}])
    luis.send(location={"latitude": 13.69, "longitude": -89.19})
    luis.send(done)
    luis.press("1")  # "yes, that is the type"
    luis.send(skip)

    folio = provider.wait_for(lambda: folio_in([r.get("text", "") for r in luis.replies()]))
    assert provider.calls_to("setWebhook")[0].params["secret_token"] == SECRET_TOKEN
    assert len(provider.calls_to("answerCallbackQuery")) == 2
    keyboards = [json.loads(r["reply_markup"]) for r in luis.replies() if "reply_markup" in r]
    assert any(
        button["callback_data"] == "1"
        for keyboard in keyboards
        for row in keyboard["inline_keyboard"]
        for button in row
    )
    # The one-per-second pace per chat is checked where it is decided, on a clock the test
    # controls (tests/unit/test_pacing.py): arrival times here move with the machine's load.
    case = db.exec(select(Case).where(Case.folio == folio)).one()[0]
    assert (case.channel, case.latitude) == ("telegram", 13.69)
    (photo,) = db.exec(select(Attachment).where(Attachment.case_id == case.id)).one()
    row = provider.wait_for(lambda: stored(db, photo.id))
    assert Path(row.local_path).read_bytes() == JPEG


def test_the_same_message_sid_posted_three_times_at_once_is_stored_and_answered_once(
    service, provider, db
):
    ana = WhatsAppCitizen(service, "+50370005555")
    form = ana.form("hola")
    barrier = threading.Barrier(3)
    statuses = []

    def deliver():
        barrier.wait()
        statuses.append(ana.post(form).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200, 200]
    assert count(db, Message, Message.direction == "in") == 1
    expected = count(db, OutboxItem)  # the replies to one "hola", queued once
    provider.wait_for(lambda: count(db, OutboxItem, OutboxItem.status == "sent") == expected)
    replies = ana.replies()
    assert len(replies) == expected and len(set(replies)) == expected


def test_the_same_telegram_update_twice_is_answered_once(service, provider, db):
    luis = TelegramCitizen(service, 555002)
    update = luis.message(text="hola")
    assert luis.post(update).status_code == 200
    assert luis.post(update).status_code == 200
    assert count(db, Message, Message.direction == "in") == 1
    expected = count(db, OutboxItem)
    provider.wait_for(lambda: count(db, OutboxItem, OutboxItem.status == "sent") == expected)
    assert len(luis.replies()) == expected


def test_replies_survive_rate_limits_and_errors_arriving_once_and_in_order(service, provider, db):
    provider.fail_next(
        "telegram",
        telegram_error(429, retry_after=1),
        telegram_error(429, retry_after=1),
        telegram_error(500),
        telegram_error(500),
    )
    provider.fail_next("twilio", twilio_error(429, 20429), twilio_error(500, 20500))
    luis, marta = TelegramCitizen(service, 555003), TelegramCitizen(service, 555004)
    ana = WhatsAppCitizen(service, "+50370006666")
    for text in ("hola", "si", "3"):
        luis.send(text)
        marta.send(text)
        ana.send(text)

    def queued(channel: str, address: str) -> list[str]:
        db.expire_all()
        rows = db.exec(
            select(OutboxItem)
            .where(OutboxItem.channel == channel, OutboxItem.address == address)
            .order_by(OutboxItem.id)
        ).all()
        return [row[0].body for row in rows]

    for citizen in (luis, marta):
        expected = queued("telegram", str(citizen.user_id))
        provider.wait_for(lambda c=citizen, e=expected: len(c.replies()) >= len(e), timeout=120)
        assert [r["text"].split("\n")[0] for r in citizen.replies()] == [
            text.split("\n")[0] for text in expected
        ]
    expected = queued("whatsapp", ana.number)
    provider.wait_for(lambda: len(ana.replies()) >= len(expected), timeout=120)
    assert [body.split("\n")[0] for body in ana.replies()] == [t.split("\n")[0] for t in expected]
    provider.wait_for(lambda: count(db, OutboxItem, OutboxItem.status != "sent") == 0)
    refused = [c for c in provider.calls if c.answered >= 400]
    assert len(refused) == 6  # every planned failure was met, and retried past
    calls = [c for c in provider.calls if c.api == "telegram" and c.method == "sendMessage"]
    refused = next(c for c in calls if c.answered == 429)
    # That message was tried again, and accepted, after it was refused (that it waited the
    # seconds Telegram asked for is checked with the dispatcher's own clock, in
    # tests/integration/test_outbox.py).
    assert any(
        c.answered < 300 for c in calls[calls.index(refused) + 1 :] if c.params == refused.params
    )


def test_forged_or_malformed_webhooks_are_refused_and_store_nothing(service, db):
    ana = WhatsAppCitizen(service, "+50370007777")
    form = ana.form("hola")
    assert ana.post(form, signature="").status_code == 403
    assert (
        ana.post(form, signature=sign(service.url + "/webhooks/whatsapp", form, "x")).status_code
        == 403
    )
    tampered = {**form, "Body": "otra cosa"}
    assert (
        ana.post(tampered, signature=sign(service.url + "/webhooks/whatsapp", form)).status_code
        == 403
    )
    assert ana.post({**form, "To": "whatsapp:+50399990000"}).status_code == 403
    assert ana.post({k: v for k, v in form.items() if k != "From"}).status_code == 400
    assert ana.post({**form, "NumMedia": "muchas"}).status_code == 400
    assert ana.post({**form, "Latitude": "91", "Longitude": "0"}).status_code == 400
    huge = {**form, "Body": "x" * (65 * 1024)}
    assert ana.post(huge).status_code == 413

    luis = TelegramCitizen(service, 555005)
    update = luis.message(text="hola")
    assert luis.post(update, secret=None).status_code == 403
    assert luis.post(update, secret="adivinado").status_code == 403
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}
    bad_json = service.http.post("/webhooks/telegram", content=b"{no es json", headers=headers)
    assert bad_json.status_code == 400
    assert luis.post({"update_id": "uno"}).status_code == 400
    assert luis.post({"update_id": 7, "message": {"text": 5}}).status_code == 400
    edited = {"update_id": 99, "edited_message": update["message"]}
    assert luis.post(edited).status_code == 200
    poll = {"update_id": 100, "poll": {"id": "1", "question": "?", "options": []}}
    assert luis.post(poll).status_code == 200

    assert count(db, Message) == 0
    assert "Traceback" not in service.log_text()


def test_delivery_reports_update_the_outgoing_message(service, provider, db):
    ana = WhatsAppCitizen(service, "+50370008888")
    ana.send("hola")
    call = provider.wait_for(lambda: provider.sent("twilio"))[0]
    sid = next(  # the provider's id, recorded once the dispatcher has settled the row
        iter(provider.wait_for(lambda: sent_ids(db))),
    )
    report = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert ana.post(report, path="/webhooks/whatsapp/status").status_code == 204
    db.expire_all()
    assert db.exec(select(Message).where(Message.provider_id == sid)).one()[0].status == "delivered"
    late = {**report, "MessageStatus": "sent"}  # reports may arrive out of order
    assert ana.post(late, path="/webhooks/whatsapp/status").status_code == 204
    db.expire_all()
    assert db.exec(select(Message).where(Message.provider_id == sid)).one()[0].status == "delivered"
    forged = ana.post(report, signature="AAAA", path="/webhooks/whatsapp/status")
    assert forged.status_code == 403
    assert call.params["To"] == f"whatsapp:{ana.number}"

    # Twilio accepted another reply and says later that WhatsApp refused it: the row is
    # failed and the staff group is told; outside the 24-hour window (63016) it waits instead.
    first, second = provider.wait_for(lambda: len(sent_ids(db)) >= 2 and sent_ids(db))[:2]
    failed = {"MessageSid": first, "MessageStatus": "undelivered", "ErrorCode": "63003"}
    assert ana.post(failed, path="/webhooks/whatsapp/status").status_code == 204
    db.expire_all()
    row = db.exec(select(OutboxItem).where(OutboxItem.provider_message_id == first)).one()[0]
    assert row.status == "failed" and "63003" in row.last_error
    staff_alert = provider.wait_for(
        lambda: [c for c in provider.sent("telegram") if c.params["chat_id"] == "-1000"]
    )
    assert "WhatsApp" in staff_alert[0].params["text"]
    window = {"MessageSid": second, "MessageStatus": "failed", "ErrorCode": "63016"}
    assert ana.post(window, path="/webhooks/whatsapp/status").status_code == 204
    db.expire_all()
    held = db.exec(select(OutboxItem).where(OutboxItem.provider_message_id == second)).one()
    assert held[0].status == "waiting"


def sent_ids(session: Session) -> list[str]:
    session.expire_all()
    query = (
        select(Message.provider_id)
        .where(
            Message.direction == "out",
            Message.channel == "whatsapp",
            Message.status.in_(("sent", "delivered")),
        )
        .order_by(Message.id)
    )
    return [row[0] for row in session.exec(query).all() if row[0]]


def test_health_reports_the_database(service):
    response = service.http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", "ok")


def test_polling_mode_answers_without_a_public_url(tmp_path, database_url, provider, db):
    running = Service(tmp_path, database_url, provider, telegram={"mode": "polling"}).start()
    try:
        luis = TelegramCitizen(running, 555006)
        provider.push_update(luis.message(text="hola"))
        provider.wait_for(lambda: luis.replies())
        provider.push_update(luis.message(text="si"))
        provider.wait_for(lambda: count(db, Message, Message.direction == "in") == 2)
        assert provider.calls_to("deleteWebhook") and not provider.calls_to("setWebhook")
        # Without a webhook there is no secret, so nothing may be posted in Telegram's name.
        assert luis.post(luis.message(text="falso"), secret="").status_code == 404
    finally:
        running.stop()
    assert count(db, Message, Message.direction == "in") == 2


def test_a_second_service_on_the_same_port_stops_with_one_line_and_sends_nothing(service):
    second = service.cli("run")
    assert second.returncode == 1
    assert second.stderr.strip().count("\n") == 0 and "server.port" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout


def test_an_emergency_on_whatsapp_reaches_the_staff_group_at_once(service, provider):
    ana = WhatsAppCitizen(service, "+50370009999")
    for body in ("hola", "si", "1", "el rio se llevo el puente y hay una familia atrapada"):
        ana.send(body)
    alert = provider.wait_for(
        lambda: [c for c in provider.sent("telegram") if c.params["chat_id"] == "-1000"]
    )
    assert "EMERGENCIA" in alert[0].params["text"]
    provider.wait_for(lambda: any("911" in reply for reply in ana.replies()))
