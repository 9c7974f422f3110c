"""The outbox dispatcher on a real database, sending with the real clients to the provider
stand-in: the 24-hour window, templates, failures that reach the staff, and claims."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.app import create_app
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.whatsapp import TwilioSender
from bot.config import TelegramSettings, WhatsAppSettings
from bot.outbox import Dispatcher, Sent
from handlers.core.messages import Incoming, Reply
from handlers.dialogue.intake import queue, receive
from storage.models import Message, OutboxItem, Staff
from tests.helpers import TUESDAY
from tests.provider import Provider, telegram_error, twilio_error

ACCOUNT_SID = "AC" + "1" * 32
BOT_TOKEN = "4242:outbox-tests"
ANA = "+50370001111"
STAFF_CHAT = "-500"


class ManualClock:
    def __init__(self) -> None:
        self.now = TUESDAY

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def provider() -> Iterator[Provider]:
    stand_in = Provider(BOT_TOKEN, ACCOUNT_SID).start()
    yield stand_in
    stand_in.stop()


def whatsapp(provider: Provider, template_sid: str = "", rate: float = 10.0) -> TwilioSender:
    settings = WhatsAppSettings(
        enabled=True,
        account_sid=ACCOUNT_SID,
        auth_token="token",
        from_number="+50322220000",
        api_base_url=provider.url,
        template_sid=template_sid,
        messages_per_second=rate,
    )
    return TwilioSender(settings, None, lambda folio: folio or "MOPT")


def telegram(provider: Provider) -> TelegramSender:
    settings = TelegramSettings(
        enabled=True, token=BOT_TOKEN, secret_token="s", api_base_url=f"{provider.url}/bot"
    )
    return TelegramSender(TelegramChannel(settings))


def dispatcher(app, provider, clock, template_sid: str = "", **options) -> Dispatcher:
    senders = [whatsapp(provider, template_sid), telegram(provider)]
    return Dispatcher(app, senders, clock, staff_chat=("telegram", STAFF_CHAT), **options)


def add_agent_on_telegram(app, clock, telegram_id: int) -> None:
    with app.uow() as uow:
        uow.session.add(
            Staff(name="Rosa", role="agent", telegram_id=telegram_id, created_at=clock.now)
        )
        uow.commit()


def citizen_writes(app, clock, text: str) -> None:
    incoming = Incoming("whatsapp", ANA, f"SM{clock.now.timestamp()}", clock.now, text=text)
    with app.uow() as uow:
        receive(incoming, uow, app.dialogue, clock.now)


def notify(app, clock, text: str) -> None:
    """What staff will send later (a reply, a status change): not an answer to a message."""
    with app.uow() as uow:
        queue(uow, [Reply("whatsapp", ANA, text)], clock.now)
        uow.commit()


def send_all(outbox: Dispatcher, channel: str = "whatsapp") -> None:
    async def flush():
        while await outbox.send_due(channel):
            pass
        await outbox.close()  # as the service does when it stops

    asyncio.run(flush())


def rows(app, **where) -> list[OutboxItem]:
    query = select(OutboxItem).filter_by(**where).order_by(OutboxItem.id)
    with app.uow() as uow:
        return list(uow.session.exec(query).all())


def bodies(provider: Provider) -> list[str]:
    return [call.params.get("Body", "") for call in provider.sent("twilio")]


def test_a_notification_after_the_24_hour_window_waits_for_the_citizen_to_write(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    greeted = len(bodies(provider))

    clock.advance(days=2)
    notify(app, clock, "Su caso fue atendido.")
    send_all(outbox)
    assert len(bodies(provider)) == greeted  # nothing may be sent outside the window
    (held,) = rows(app, status="waiting")
    assert held.body == "Su caso fue atendido."

    citizen_writes(app, clock, "hola de nuevo")
    send_all(outbox)
    after = bodies(provider)[greeted:]
    assert after[0] == "Su caso fue atendido."  # first what waited, then the new answers
    assert len(after) > 1 and not rows(app, status="waiting")


def test_with_a_template_the_citizen_is_told_once_that_something_waits(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock, template_sid="HX" + "2" * 32)
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    clock.advance(hours=25)
    notify(app, clock, "Primera novedad.")
    notify(app, clock, "Segunda novedad.")
    send_all(outbox)

    templates = [c.params for c in provider.sent("twilio") if "ContentSid" in c.params]
    assert len(templates) == 1
    assert templates[0]["ContentSid"] == "HX" + "2" * 32
    assert json.loads(templates[0]["ContentVariables"]) == {"1": "MOPT"}
    unsent = [r.body for r in rows(app) if r.status != "sent"]
    assert unsent == ["Primera novedad.", "Segunda novedad."]  # the second waits behind the first


def test_an_undeliverable_reply_is_marked_failed_and_the_staff_are_told(app, provider):
    clock = ManualClock()
    add_agent_on_telegram(app, clock, 777)
    outbox = dispatcher(app, provider, clock)
    provider.fail_next("twilio", twilio_error(400, 21211))  # not a WhatsApp number
    citizen_writes(app, clock, "hola")
    send_all(outbox)

    failed = rows(app, channel="whatsapp", status="failed")
    assert failed and "21211" in failed[0].last_error and ANA not in failed[0].last_error
    alerts = rows(app, channel="telegram")
    assert {a.address for a in alerts} == {STAFF_CHAT, "777"}
    assert all("WhatsApp" in a.body and ANA not in a.body for a in alerts)
    send_all(outbox, "telegram")
    assert {c.params["chat_id"] for c in provider.sent("telegram")} == {STAFF_CHAT, "777"}


def test_transient_failures_are_retried_with_backoff_then_given_up(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock, max_attempts=3)
    provider.fail_next("twilio", *[twilio_error(500, 20500)] * 3)
    notify_now = Reply("whatsapp", ANA, "Aviso.")
    with app.uow() as uow:
        queue(uow, [notify_now], clock.now)
        uow.commit()
    citizen_window = rows(app)[0]
    with app.uow() as uow:  # inside the window, so only the failures matter
        item = uow.outbox.get(citizen_window.id)
        item.window_until = clock.now + timedelta(hours=1)
        uow.commit()

    send_all(outbox)
    (row,) = rows(app, channel="whatsapp")
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > clock.now
    send_all(outbox)
    assert len(provider.calls) == 1  # not yet due
    for _ in range(2):
        clock.advance(minutes=10)
        send_all(outbox)
    (row,) = rows(app, channel="whatsapp")
    assert (row.status, row.attempts) == ("failed", 3)
    assert rows(app, channel="telegram", address=STAFF_CHAT)


def test_a_message_telegram_asked_to_wait_for_is_sent_again_only_after_that_wait(app, provider):
    """Measured with the clock the dispatcher is given, where the wait is decided (the pacer's
    own pause is tests/unit/test_pacing.py's)."""
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    provider.fail_next("telegram", telegram_error(429, retry_after=1))
    with app.uow() as uow:
        queue(uow, [Reply("telegram", "555001", "Aviso.")], clock.now)
        uow.commit()

    send_all(outbox, "telegram")
    (row,) = rows(app, channel="telegram")
    assert row.status == "pending" and row.next_attempt_at == clock.now + timedelta(seconds=1)
    send_all(outbox, "telegram")
    clock.advance(milliseconds=999)
    send_all(outbox, "telegram")
    assert provider.sent("telegram") == []  # not before the second Telegram asked for
    clock.advance(milliseconds=1)
    send_all(outbox, "telegram")
    assert [c.params["text"] for c in provider.sent("telegram")] == ["Aviso."]


def test_a_row_being_sent_is_claimed_once_and_holds_back_the_next_for_that_chat(app, provider):
    clock = ManualClock()
    first, second = dispatcher(app, provider, clock), dispatcher(app, provider, clock)
    with app.uow() as uow:
        queue(uow, [Reply("telegram", "1", "a"), Reply("telegram", "1", "b")], clock.now)
        queue(uow, [Reply("telegram", "2", "c")], clock.now)
        uow.commit()
    sender = first.senders["telegram"]
    claimed = first.claim(sender)
    assert [d.text for d in claimed] == ["a", "c"]  # "b" waits for "a"
    assert second.claim(sender) == []  # leased to the first dispatcher
    clock.advance(minutes=5)  # the first one died: its lease runs out
    assert [d.text for d in second.claim(sender)] == ["a", "c"]


def test_refused_credentials_keep_the_replies_until_they_are_fixed(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    provider.fail_next("telegram", telegram_error(401))
    provider.fail_next("twilio", twilio_error(401, 20003))
    with app.uow() as uow:
        queue(uow, [Reply("telegram", "9", "hola")], clock.now)
        uow.commit()
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    send_all(outbox, "telegram")
    assert not rows(app, status="failed")
    clock.advance(minutes=2)
    outbox = dispatcher(app, provider, clock)  # restarted with the right token
    send_all(outbox)
    send_all(outbox, "telegram")
    assert {row.status for row in rows(app)} == {"sent"}
    assert [c.params["text"] for c in provider.sent("telegram")] == ["hola"]


def test_when_the_staff_cannot_be_reached_either_the_alerts_do_not_multiply(app, provider):
    clock = ManualClock()
    add_agent_on_telegram(app, clock, 777)
    outbox = dispatcher(app, provider, clock)
    provider.fail_next("twilio", twilio_error(400, 21211))
    provider.fail_next("telegram", *[telegram_error(403)] * 10)  # the bot was blocked
    citizen_writes(app, clock, "hola")
    for _ in range(4):
        send_all(outbox)
        send_all(outbox, "telegram")
    alerts = rows(app, channel="telegram")
    assert len(alerts) == 2 and {a.status for a in alerts} == {"failed"}


def test_a_status_callback_that_beats_the_sends_answer_is_kept_and_applied_once_recorded(
    app, provider
):
    from types import SimpleNamespace
    from urllib.parse import urlencode

    from bot.channels.whatsapp import Form as TwilioForm
    from bot.channels.whatsapp import WhatsApp, WhatsAppSettings

    clock = ManualClock()
    settings = WhatsAppSettings(
        enabled=True, account_sid=ACCOUNT_SID, auth_token="token", from_number="+50322220000"
    )
    channel = WhatsApp(settings, "http://127.0.0.1", "MOPT", 1024)
    outbox = dispatcher(app, provider, clock)
    host = SimpleNamespace(app=app, clock=clock, delivery_failed=outbox.delivery_failed)
    sender = outbox.senders["whatsapp"]
    send = sender.send

    async def callback_first(delivery):
        """Twilio posts the status callback before the send's own answer is recorded."""
        outcome = await send(delivery)
        form = {"MessageSid": outcome.provider_id, "MessageStatus": "undelivered"}
        form["ErrorCode"] = "63003"
        report = channel._status(TwilioForm(urlencode(form).encode()), clock.now)
        await asyncio.to_thread(report.work, host)
        return outcome

    sender.send = callback_first
    citizen_writes(app, clock, "hola")
    send_all(outbox)

    (row, *_) = rows(app, channel="whatsapp", address=ANA)
    assert row.status == "failed" and "63003" in row.last_error
    with app.uow() as uow:
        from storage.models import EarlyDeliveryReport, Message

        message = uow.session.get(Message, row.message_id)
        assert message.status in ("undelivered", "failed")
        assert uow.session.exec(select(EarlyDeliveryReport)).all() == []


def test_a_report_no_send_claims_is_kept_minutes_only_with_no_provider_id_and_no_exact_time(app):
    """A report about a confidential send (its id is never recorded, or was cleared when the
    conversation became an anonymous case) must keep neither the Twilio id nor its time."""
    from storage.models import EarlyDeliveryReport

    at = datetime(2026, 12, 3, 15, 7, 42, 123456, tzinfo=UTC)
    hashed = app.policy.delivery_hash("SM0123456789")
    with app.uow() as uow:
        uow.outbox.keep_early_report("whatsapp", hashed, "delivered", None, at)
        uow.commit()
    with app.engine.connect() as connection:
        dump = " ".join(map(str, connection.execute(select(EarlyDeliveryReport)).all()))
    assert "SM0123456789" not in dump and "15:07" not in dump
    with app.uow() as uow:
        (kept,) = uow.session.exec(select(EarlyDeliveryReport)).all()
        assert kept.received_at.replace(tzinfo=UTC) == at.replace(minute=5, second=0, microsecond=0)
        uow.outbox.prune_early_reports(at + timedelta(minutes=4))
        uow.commit()
    with app.uow() as uow:
        assert len(uow.session.exec(select(EarlyDeliveryReport)).all()) == 1
        uow.outbox.prune_early_reports(at + timedelta(minutes=10))
        uow.commit()
    with app.uow() as uow:
        assert uow.session.exec(select(EarlyDeliveryReport)).all() == []


def test_a_dead_dispatchers_claims_are_taken_over_within_seconds_a_live_ones_never(app, provider):
    clock = ManualClock()
    first = dispatcher(app, provider, clock, lease=timedelta(minutes=2), dead_after=5)
    second = dispatcher(app, provider, clock, lease=timedelta(minutes=2), dead_after=5)
    for n in range(3):
        with app.uow() as uow:
            queue(uow, [Reply("telegram", str(7000 + n), f"aviso {n}")], clock.now)
            uow.commit()
    first._record_beat()
    claimed = first.claim(first.senders["telegram"])
    assert len(claimed) == 3

    # The first still beats: nothing of it is taken, long as its lease has to run.
    clock.advance(seconds=4)
    first._record_beat()
    second._record_beat()
    clock.advance(seconds=4)
    assert second.claim(second.senders["telegram"]) == []

    # Its heartbeat stopped (killed): past `dead_after` the rows are the second's, long
    # before the two-minute lease ends.
    clock.advance(seconds=2)
    second._record_beat()
    taken = second.claim(second.senders["telegram"])
    assert sorted(d.id for d in taken) == sorted(d.id for d in claimed)
    assert {row.claimed_by for row in rows(app, channel="telegram")} == {second.instance}


def test_a_dispatcher_whose_heartbeat_is_late_sends_nothing_it_claimed(app, provider):
    clock = ManualClock()
    late = dispatcher(app, provider, clock, dead_after=5)
    with app.uow() as uow:
        queue(uow, [Reply("telegram", "7100", "aviso")], clock.now)
        uow.commit()

    async def scenario() -> None:
        await late._beat()
        late._fenced_after = 0.0  # as if its last beat were long ago (the database was away)
        await late.send_due("telegram")

    asyncio.run(scenario())
    assert provider.sent("telegram") == []
    (row,) = rows(app, channel="telegram")
    assert row.status == "pending"


@pytest.mark.postgres
def test_on_postgresql_the_pace_is_shared_by_every_process(postgres_url, provider):
    """Two processes, two threads each, reserve their batches' sending slots in one locked
    row: no two blocks overlap, so the provider's overall rate holds however many send."""
    import threading

    from tests.helpers import make_settings

    apps = [create_app(make_settings(database={"url": postgres_url})) for _ in range(2)]
    apps[0].migrate()
    assert all(dispatcher(app, provider, ManualClock()).shared_pacing for app in apps)
    now = TUESDAY
    starts: list[float] = []

    def reserve(app) -> None:
        for _ in range(5):
            with app.uow() as uow:
                start = uow.outbox.reserve_slots("telegram", 3, 0.1, now)
                uow.commit()
            starts.append(round((start - now).total_seconds(), 6))

    threads = [threading.Thread(target=reserve, args=(app,)) for app in apps * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 20 blocks of three slots 0.1 s apart, one after the other.
    assert sorted(starts) == [round(n * 0.3, 6) for n in range(20)]
    for app in apps:
        app.engine.dispose()


def test_a_staff_group_that_became_a_supergroup_is_followed_and_its_new_id_kept(app, provider):
    from bot.server import build_service
    from storage.models import ChatMigration
    from tests.helpers import make_settings

    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    upgraded = {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1001234},
    }
    provider.fail_next("telegram", (400, upgraded))
    with app.uow() as uow:
        queue(uow, [Reply("telegram", STAFF_CHAT, "Caso nuevo 1")], clock.now)
        queue(uow, [Reply("telegram", STAFF_CHAT, "Caso nuevo 2")], clock.now)
        uow.commit()
    send_all(outbox, "telegram")

    delivered = [(c.params["chat_id"], c.params["text"]) for c in provider.sent("telegram")]
    assert delivered == [("-1001234", "Caso nuevo 1"), ("-1001234", "Caso nuevo 2")]
    assert outbox.staff_chat == ("telegram", "-1001234")
    with app.uow() as uow:
        (moved,) = uow.session.exec(select(ChatMigration)).all()
    assert (moved.old_address, moved.new_address) == (STAFF_CHAT, "-1001234")

    # A restarted service, whose settings still name the old group, follows it too.
    settings = make_settings(
        database={"url": app.settings.database.url},
        telegram={"enabled": False, "staff_chat_id": int(STAFF_CHAT)},
    )
    restarted = create_app(settings)
    restarted.policy = dataclasses.replace(restarted.policy, staff_chat_id=int(STAFF_CHAT))
    service = build_service(restarted, clock, channels=[])
    service._follow_staff_chat()
    assert restarted.policy.staff_chat_id == -1001234
    assert service.dispatcher.staff_chat == ("telegram", "-1001234")
    restarted.engine.dispose()


def test_recording_a_batch_of_sends_reads_each_row_once_and_writes_them_together(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    with app.uow() as uow:
        queue(
            uow, [Reply("telegram", str(chat), "Aviso.") for chat in range(4001, 4005)], clock.now
        )
        uow.commit()
    deliveries = outbox.claim(outbox.senders["telegram"])
    assert len(deliveries) == 4
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(app.engine, "before_cursor_execute", seen)
    try:  # four sends recorded at once, as the dispatcher does under load
        outbox.settle_many([(delivery, Sent(f"{delivery.id}")) for delivery in deliveries])
    finally:
        event.remove(app.engine, "before_cursor_execute", seen)
    assert statements.count("SELECT") == 1  # the rows, once; their messages are not read
    assert statements.count("UPDATE") == 2  # the rows together, then their messages together
    assert [row.status for row in rows(app, channel="telegram")] == ["sent"] * 4
    with app.uow() as uow:
        sent = [uow.session.get(Message, row.message_id) for row in rows(app, channel="telegram")]
    assert [(m.status, m.provider_id) for m in sent] == [("sent", f"{d.id}") for d in deliveries]


def test_a_case_taken_while_its_card_is_on_its_way_loses_the_take_button_once_it_lands(
    app, provider
):
    from handlers.dialogue.conversation import Dialogue
    from tests.helpers import POTHOLE, Citizen, add_staff

    app.policy = dataclasses.replace(app.policy, staff_chat_id=int(STAFF_CHAT))
    app.dialogue = Dialogue(app.policy)
    clock = ManualClock()
    Citizen(app.dialogue, app.uow, address=ANA, channel="whatsapp", clock=clock).converse(*POTHOLE)
    outbox = dispatcher(app, provider, clock)
    sender = outbox.senders["telegram"]
    (card,) = outbox.claim(sender)
    assert "tomar:TA-2026-000001" in [option.key for option in card.options]

    # Rosa presses [Tomar] on another copy while this one is being sent.
    add_staff(app.uow, "Rosa", telegram_id=777)
    rosa = Citizen(app.dialogue, app.uow, address="777", channel="telegram", clock=clock)
    assert "Rosa tomó el caso" in rosa.send("tomar:TA-2026-000001")
    outbox.settle(card, asyncio.run(sender.send(card)))
    send_all(outbox, "telegram")

    (sent,) = [c for c in provider.sent("telegram") if c.params["chat_id"] == STAFF_CHAT]
    assert "tomar:" in sent.params["reply_markup"]  # it left with the button...
    (edit,) = provider.calls_to("editMessageReplyMarkup")
    assert (edit.params["chat_id"], edit.params["message_id"]) == (STAFF_CHAT, sent.result_id)
    assert "tomar:" not in edit.params.get("reply_markup", "")  # ...which is then taken away
