"""A third channel is one object given to the server: it mounts its webhook, checks it before
admission and hands what it translates to intake, with no edit to bot/server.py."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.testclient import TestClient

from bot.app import App, build_policy
from bot.channels.base import Channel, Host, Ignore, Store, Webhook
from bot.channels.common import Malformed
from bot.server import build_asgi, build_service
from handlers.core.messages import Incoming
from handlers.dialogue.conversation import Dialogue
from storage.models import Message, OutboxItem
from tests.helpers import Clock, make_settings
from tests.unit.fakes import FakeClassifier, FakeUnitOfWork

PATH = "/webhooks/pigeon"
KEY = "coo-coo"


class Pigeon:
    """Carrier pigeons: a JSON note with the loft's key in a header."""

    name = "pigeon"
    sender = None
    media = None

    def webhooks(self) -> tuple[Webhook, ...]:
        return (Webhook(PATH, self.verify, self.accept, parse=json.loads),)

    def verify(self, headers: Headers, note: object) -> bool:
        return headers.get("x-loft-key") == KEY

    def accept(self, note: object, received_at: datetime) -> Store | Ignore:
        if not isinstance(note, dict) or not isinstance(note.get("ring"), str):
            raise Malformed("ring")
        if "text" not in note:
            return Ignore(Response(status_code=200))  # a pigeon with nothing tied to its leg
        incoming = Incoming(self.name, note["ring"], note["id"], received_at, text=note["text"])
        return Store(incoming, Response(status_code=202))

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def client(uow: FakeUnitOfWork) -> TestClient:
    """The service with the pigeon as its only channel; no lifespan, so nothing is started."""
    settings = make_settings(server={"max_inflight": 2})
    policy = build_policy(settings, FakeClassifier())
    app = App(settings, None, policy, Dialogue(policy))  # type: ignore[arg-type]
    app.uow = lambda: uow  # type: ignore[method-assign]
    pigeon: Channel = Pigeon()
    return TestClient(build_asgi(build_service(app, Clock(), channels=[pigeon])))


def post(client: TestClient, note: object, key: str = KEY) -> int:
    headers = {"x-loft-key": key, "content-type": "application/json"}
    return client.post(PATH, content=json.dumps(note), headers=headers).status_code


def test_a_channel_given_to_the_server_has_its_webhook_mounted_and_its_messages_taken_in(
    client, uow
):
    note = {"ring": "P-17", "id": "n1", "text": "hola"}
    assert post(client, note) == 202
    [message] = [m for m in uow.rows[Message] if m.direction == "in"]
    assert (message.channel, message.body) == ("pigeon", "hola")
    replies = uow.rows[OutboxItem]
    assert replies and {(r.channel, r.address) for r in replies} == {("pigeon", "P-17")}
    assert post(client, note) == 202  # delivered again: taken in once
    assert len([m for m in uow.rows[Message] if m.direction == "in"]) == 1
    assert len(uow.rows[OutboxItem]) == len(replies)


def test_the_shared_refusals_apply_to_a_new_channel_and_store_nothing(client, uow):
    assert post(client, {"ring": "P-17", "id": "n1", "text": "hola"}, key="hawk") == 403
    assert post(client, {"ring": 17}) == 400
    assert client.post(PATH, content=b"{not json", headers={"x-loft-key": KEY}).status_code == 400
    big = {"ring": "P-17", "id": "n2", "text": "x" * 70_000}
    assert post(client, big) == 413
    assert post(client, {"ring": "P-17"}) == 200  # ignored by the channel
    assert uow.rows[Message] == [] and uow.rows[OutboxItem] == []


def test_only_the_given_channels_are_mounted(client):
    assert client.post("/webhooks/whatsapp", content=b"").status_code == 404
    assert client.post("/webhooks/telegram", content=b"{}").status_code == 404
