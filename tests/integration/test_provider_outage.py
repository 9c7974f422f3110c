"""Twilio down for a minute, then answering 500, then 429, then well again, while replies keep
being queued: none is lost or sent twice, each chat gets them in order, and the rows that use up
their attempts are marked failed and the staff told (on Telegram, which stayed up).

SQLite and PostgreSQL go through the same outage at the same time, so the minute is waited once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.app import create_app, utc_now
from bot.outbox import Dispatcher
from handlers.core.messages import Reply
from handlers.dialogue.intake import queue
from storage.models import OutboxItem, Staff
from tests.helpers import make_settings
from tests.integration.test_outbox import ACCOUNT_SID, BOT_TOKEN, STAFF_CHAT, telegram, whatsapp
from tests.provider import Provider, twilio_error

pytestmark = pytest.mark.slow

OUTAGE = 60.0  # seconds of refused connections, as the issue asks
LATE = 48.0  # when the second group of replies is queued, during the outage
EARLY_CHATS, LATE_CHATS, PER_CHAT = 6, 10, 3
AGENT = 777


@pytest.fixture
def apps(tmp_path, request):
    """The same service on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
    urls = {"sqlite": f"sqlite:///{tmp_path / 'outage.db'}"}
    with contextlib.suppress(pytest.skip.Exception):
        urls["postgres"] = request.getfixturevalue("postgres_url")
    running = {}
    for name, url in urls.items():
        app = create_app(make_settings(database={"url": url}))
        app.migrate()
        with app.uow() as uow:
            uow.session.add(
                Staff(name="Rosa", role="agent", telegram_id=AGENT, created_at=datetime.now(UTC))
            )
            uow.commit()
        running[name] = app
    yield running
    for app in running.values():
        app.engine.dispose()


def chat(database: int, n: int) -> str:
    return f"+5037{database}{n:06d}"


def queue_replies(app, database: int, chats: range, label: str, per_chat: int) -> None:
    """`per_chat` replies to each chat, interleaved, inside the 24-hour window."""
    now = datetime.now(UTC)
    with app.uow() as uow:
        for i in range(per_chat):
            replies = [Reply("whatsapp", chat(database, n), f"{label} {n}.{i}") for n in chats]
            queue(uow, replies, now)
        uow.session.execute(update(OutboxItem).values(window_until=now + timedelta(hours=1)))
        uow.commit()


def test_a_minute_of_provider_outage_loses_no_reply_and_sends_none_twice(apps):
    down = Provider(BOT_TOKEN, ACCOUNT_SID).start()  # Twilio's side
    up = Provider(BOT_TOKEN, ACCOUNT_SID).start()  # Telegram's side, where the staff are told
    dispatchers = {
        name: Dispatcher(
            app,
            [whatsapp(down), telegram(up)],
            utc_now,
            staff_chat=("telegram", STAFF_CHAT),
            max_attempts=12,
            backoff=0.5,  # 0.5 s doubling to 4 s: twelve attempts take 33 to 50 s
            max_backoff=4.0,
        )
        for name, app in apps.items()
    }
    early, late = range(EARLY_CHATS), range(EARLY_CHATS, EARLY_CHATS + LATE_CHATS)
    for n, app in enumerate(apps.values()):
        # One early reply per chat: it waits longer than its attempts last.
        queue_replies(app, n, early, "antes", 1)

    async def scenario() -> None:
        down.refuse()
        started = time.monotonic()
        tasks = [asyncio.create_task(d.run()) for d in dispatchers.values()]
        await asyncio.sleep(LATE)
        for n, app in enumerate(apps.values()):
            await asyncio.to_thread(queue_replies, app, n, early, "durante", PER_CHAT)
            await asyncio.to_thread(queue_replies, app, n, late, "durante", PER_CHAT)
        await asyncio.sleep(OUTAGE - (time.monotonic() - started))
        errors = 4 * len(apps)  # a few of each: the rows that get them wait and go on
        down.fail_next("twilio", *[twilio_error(500, 20500)] * errors)
        down.fail_next("twilio", *[twilio_error(429, 20429)] * errors)
        down.accept()
        deadline = time.monotonic() + 180  # bounds a hang only
        while await asyncio.to_thread(lambda: any(unsettled(app) for app in apps.values())):
            assert time.monotonic() < deadline, "replies still pending a minute after recovery"
            await asyncio.sleep(0.5)
        for dispatcher in dispatchers.values():
            dispatcher.stop()
        await asyncio.wait(tasks, timeout=60)  # bounds a hang only
        for dispatcher in dispatchers.values():
            await dispatcher.close()

    try:
        asyncio.run(scenario())
    finally:
        down.stop()
        up.stop()

    answered = {c.answered for c in down.calls if c.method == "Messages.json"}
    assert {500, 429} <= answered  # the stand-in went through every phase
    accepted = [c.params for c in down.sent("twilio")]
    for n, app in enumerate(apps.values()):
        rows = outbox(app)
        # Nothing is left pending: each row was sent, or failed and the staff were told.
        failed = [r for r in rows if r.channel == "whatsapp" and r.status == "failed"]
        sent = [r for r in rows if r.channel == "whatsapp" and r.status == "sent"]
        assert len(failed) + len(sent) == len([r for r in rows if r.channel == "whatsapp"])
        assert {r.body.split()[0] for r in failed} == {"antes"}  # attempts ran out in the outage
        assert {r.body for r in sent} == {
            f"durante {c}.{i}" for c in range(EARLY_CHATS + LATE_CHATS) for i in range(PER_CHAT)
        }
        alerts = [r for r in rows if r.channel == "telegram"]
        assert {r.status for r in alerts} == {"sent"}
        assert sorted(r.address for r in alerts) == sorted([STAFF_CHAT, str(AGENT)] * len(failed))
        # Each sent once, and each chat's in the order they were queued.
        for c in range(EARLY_CHATS + LATE_CHATS):
            to = f"whatsapp:{chat(n, c)}"
            got = [p["Body"] for p in accepted if p["To"] == to]
            assert got == [f"durante {c}.{i}" for i in range(PER_CHAT)]


def unsettled(app) -> int:
    return len([r for r in outbox(app) if r.status in ("pending", "waiting")])


def outbox(app) -> list[OutboxItem]:
    with app.uow() as uow:
        return list(uow.session.exec(select(OutboxItem).order_by(OutboxItem.id)).all())
