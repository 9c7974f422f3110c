"""What a chat channel gives the service, and what the service gives it back.

A channel describes its webhooks (path, verification, translation); the server (bot/server.py)
does for every one of them what they share: reading the body under the time limit, refusing
forged requests (and slowing an address that sends many) before they take an admission slot,
storing the message through intake in a thread, and the 400/403/408/413/429/503 answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from starlette.datastructures import Headers
from starlette.responses import Response

from handlers.core.messages import Incoming

if TYPE_CHECKING:
    from bot.app import App
    from bot.media import Fetch
    from bot.outbox import Held, Permanent, Sender


class Host(Protocol):
    """What the running service offers its channels."""

    app: App

    def clock(self) -> datetime: ...

    async def store(self, incoming: Incoming) -> None:
        """Receive one message in one transaction (in a thread); raises when that failed."""
        ...

    def delivery_failed(self, channel: str, sid: str, failure: Held | Permanent) -> None:
        """The provider reported later that a message it accepted was not delivered."""
        ...


@dataclass(frozen=True)
class Store:
    """A message for intake: `answer` once it is committed, then `then` (stop a spinner...)."""

    incoming: Incoming
    answer: Response
    then: Callable[[], None] | None = None


@dataclass(frozen=True)
class Record:
    """Work other than a message (a delivery report), run in a thread: `answer` once done."""

    what: str  # named in the log when it fails
    work: Callable[[Host], None]
    answer: Response


@dataclass(frozen=True)
class Ignore:
    """A genuine payload we do not handle: answered at once, nothing stored."""

    answer: Response


Accepted = Store | Record | Ignore


def _raw(body: bytes) -> bytes:
    return body


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Webhook:
    """One POST endpoint of a channel: how its payloads are parsed, verified and translated.

    `parse` and `accept` raise `Malformed` (or ValueError) for 400 and `NotOurs` for 403.
    """

    path: str
    # Whether the request is the provider's: headers and the parsed payload, or None when
    # `secret_in_header` (then it is checked before the body is even read).
    verify: Callable[[Headers, Any], bool]
    accept: Callable[[Any, datetime], Accepted]
    parse: Callable[[bytes], Any] = _raw
    secret_in_header: bool = False
    active: Callable[[], bool] = _always  # 404 when not (Telegram in polling mode)


class Channel(Protocol):
    """A chat channel: its webhooks, its way out, its media, and what runs beside it."""

    name: str  # as in Incoming.channel and the outbox rows
    sender: Sender | None  # sends outbox rows; None when the channel only receives
    media: Fetch | None  # downloads a message's files; None when it has none

    def webhooks(self) -> Sequence[Webhook]:
        """The endpoints the server mounts for this channel."""
        ...

    async def start(self, host: Host) -> None:
        """Runs beside the service once it starts (register a webhook, poll...)."""
        ...

    async def stop(self) -> None:
        """Let go of what `start` took (the service is stopping)."""
        ...
