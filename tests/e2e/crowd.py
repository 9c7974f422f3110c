"""Many citizens at once for the fault tests: each one's messages built once (signed Twilio
forms, Telegram updates with the secret header), so that a message is re-sent exactly as the
providers re-send it, and what the database holds afterwards, read directly."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import create_engine, text

from storage.engine import normalise_url
from tests.builders import (
    TWILIO_SIGNATURE,
    telegram_headers,
    telegram_update,
    telegram_user,
    twilio_form,
)
from tests.e2e.channels import ACCOUNT_SID, OUR_NUMBER, SECRET_TOKEN, Service, sign

DIALOGUE = (
    "hola",
    "si",
    "1",
    "hay un hoyo enorme en la calle principal de la colonia, ya se cayeron dos motos",
    "listo",
    "si",
)
WHATSAPP_PATH = "/webhooks/whatsapp"
TELEGRAM_PATH = "/webhooks/telegram"


@dataclass(frozen=True)
class Delivery:
    """One message as the provider posts it: the same bytes every time it is re-sent."""

    path: str
    headers: dict
    content: bytes


@dataclass
class Citizen:
    channel: str  # "whatsapp" or "telegram"
    address: str  # as the service stores it (E.164 number, Telegram user id)
    deliveries: list[Delivery] = field(default_factory=list)


def crowd(service: Service, whatsapp: int, telegram: int, dialogue=DIALOGUE) -> list[Citizen]:
    """`whatsapp` + `telegram` citizens, each going through `dialogue`."""
    update_ids = itertools.count(1)
    people = []
    for n in range(whatsapp):
        number = f"+5037{n:07d}"
        citizen = Citizen("whatsapp", number)
        for body in dialogue:
            form = twilio_form(
                body, sender=number, to=OUR_NUMBER, account_sid=ACCOUNT_SID, profile_name="Prueba"
            )
            headers = {
                TWILIO_SIGNATURE: sign(service.url + WHATSAPP_PATH, form),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            content = str(httpx.QueryParams(form)).encode()
            citizen.deliveries.append(Delivery(WHATSAPP_PATH, headers, content))
        people.append(citizen)
    for n in range(telegram):
        user_id = 800_000 + n
        citizen = Citizen("telegram", str(user_id))
        user = telegram_user(user_id)
        for body in dialogue:
            update = telegram_update(
                body,
                user=user,
                update_id=next(update_ids),
                message_id=next(update_ids),
                date=int(time.time()),
            )
            headers = telegram_headers(SECRET_TOKEN, json=True)
            citizen.deliveries.append(Delivery(TELEGRAM_PATH, headers, json.dumps(update).encode()))
        people.append(citizen)
    return people


def post(client: httpx.Client, delivery: Delivery) -> int:
    """The status the service answered, or 0 when it could not be reached."""
    try:
        response = client.post(delivery.path, content=delivery.content, headers=delivery.headers)
    except httpx.TransportError:
        return 0
    return response.status_code


class Outcomes:
    """What the senders saw, shared between their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.acknowledged = 0

    def record(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.acknowledged += status == 200


def send_until_acknowledged(service: Service, people: list[Citizen], outcomes: Outcomes) -> None:
    """One sender: each citizen's messages in order, each re-sent until it gets a 200, as
    Twilio (with retries configured) and Telegram do."""
    with httpx.Client(base_url=service.url, timeout=15) as client:
        for citizen in people:
            for delivery in citizen.deliveries:
                while True:
                    status = post(client, delivery)
                    outcomes.record(status)
                    if status == 200:
                        break
                    time.sleep(0.2)


def senders(service: Service, people: list[Citizen], count: int, outcomes: Outcomes):
    """`count` threads sharing the citizens out between them, started."""
    threads = [
        threading.Thread(
            target=send_until_acknowledged, args=(service, people[i::count], outcomes), daemon=True
        )
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads


class Database:
    """Reads the service's database directly, as an auditor would."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(normalise_url(url))

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def incoming_per_citizen(self) -> Counter:
        rows = self.rows(
            "SELECT c.channel, c.address FROM messages m JOIN contacts c ON c.id = m.contact_id"
            " WHERE m.direction = 'in'"
        )
        return Counter((channel, address) for channel, address in rows)

    def replies_per_message(self) -> dict[int, list[tuple[str, str]]]:
        """Every incoming message's reply rows, as (address, body): the rows queued to its
        sender in the same transaction (so with the same timestamp)."""
        replies: dict[int, list[tuple[str, str]]] = {}
        for message_id, address, body in self.rows(
            "SELECT m.id, o.address, o.body FROM messages m"
            " JOIN contacts c ON c.id = m.contact_id"
            " LEFT JOIN outbox o ON o.channel = m.channel AND o.address = c.address"
            " AND o.created_at = m.created_at"
            " WHERE m.direction = 'in'"
        ):
            replies.setdefault(message_id, [])
            if address is not None:
                replies[message_id].append((address, body))
        return replies

    def unsent(self) -> int:
        return self.rows("SELECT count(*) FROM outbox WHERE status <> 'sent'")[0][0]

    def sent_per_chat(self) -> dict[tuple[str, str], list[str]]:
        """Bodies of the sent rows per (channel, address), in the order they were queued."""
        chats: dict[tuple[str, str], list[str]] = {}
        for channel, address, body in self.rows(
            "SELECT channel, address, body FROM outbox WHERE status = 'sent' ORDER BY id"
        ):
            chats.setdefault((channel, address), []).append(body)
        return chats

    def close(self) -> None:
        self.engine.dispose()
