"""Two service processes on one PostgreSQL database share the outbox: each reply is sent by
exactly one of them, and each chat still gets its replies in order."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.app import create_app
from handlers.core.messages import Reply
from handlers.dialogue.intake import queue
from tests.e2e.channels import ACCOUNT_SID, BOT_TOKEN, Service
from tests.e2e.crowd import Database
from tests.helpers import make_settings
from tests.provider import Provider

pytestmark = pytest.mark.slow

CHATS, PER_CHAT = 80, 5


def test_two_processes_send_each_reply_once_and_in_order_per_chat(tmp_path, postgres_url):
    app = create_app(make_settings(database={"url": postgres_url}))
    app.migrate()
    # Each process talks to its own stand-in, so the records say who sent what.
    providers = [Provider(BOT_TOKEN, ACCOUNT_SID).start() for _ in range(2)]
    services = []
    try:
        for n, provider in enumerate(providers):
            (tmp_path / str(n)).mkdir()
            services.append(Service(tmp_path / str(n), postgres_url, provider).start())
        expected = {
            str(1000 + c): [f"aviso {c}.{i}" for i in range(PER_CHAT)] for c in range(CHATS)
        }
        with app.uow() as uow:
            for i in range(PER_CHAT):  # interleaved, as replies arrive from many conversations
                replies = [Reply("telegram", chat, texts[i]) for chat, texts in expected.items()]
                queue(uow, replies, datetime.now(UTC))
            uow.commit()
        database = Database(postgres_url)
        deadline = time.monotonic() + 180  # bounds a hang only
        while database.unsent() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert database.unsent() == 0
        database.close()
    finally:
        for service in services:
            service.stop()
        for provider in providers:
            provider.stop()
        app.engine.dispose()

    by_process = [
        [(c.at, str(c.params["chat_id"]), c.params["text"]) for c in p.sent("telegram")]
        for p in providers
    ]
    print(f"sent by each process: {[len(sent) for sent in by_process]}")
    assert all(by_process), "both processes took part"
    every = sorted(by_process[0] + by_process[1])
    texts = [text for _, _, text in every]
    assert len(texts) == len(set(texts)) == CHATS * PER_CHAT  # each sent once, by one process
    for chat, texts in expected.items():
        assert [text for _, to, text in every if to == chat] == texts
