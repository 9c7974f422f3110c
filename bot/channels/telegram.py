"""Telegram through python-telegram-bot: verify and translate updates, send with the Bot."""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.responses import Response
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application

from bot.channels.base import Ignore, Store, Webhook
from bot.channels.common import Malformed, log_failure, media_limit
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_update import (
    full_name,
    integer,
    is_bot,
    location,
    media,
    message_text,
    obj,
    optional_obj,
    text,
)
from bot.config import TelegramSettings
from bot.documents import render_pdf
from bot.media import TelegramMedia
from bot.outbox import Delivery, Moved, Outcome, Permanent, RetryLater, Sent, Transient
from handlers.core.messages import Incoming

if TYPE_CHECKING:
    from bot.app import App
    from bot.channels.base import Host

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
MAX_TEXT = 4096  # characters in one Telegram message
MAX_CAPTION = 1024  # characters under a photo
MAX_CALLBACK_DATA = 64  # bytes of a button's callback data
ALLOWED_UPDATES = ["message", "callback_query"]
CREDENTIALS_PAUSE = 60.0  # seconds between tries while the provider refuses our credentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelegramMessage:
    """A translated update: the message, and the button press to acknowledge, if any."""

    incoming: Incoming
    callback_query_id: str | None = None


def file_base_url(api_base_url: str) -> str:
    """The file download base that goes with a Bot API base URL ("…/bot" → "…/file/bot")."""
    head, _, _ = api_base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot"


class TelegramChannel:
    """One bot: its Application (with no Updater: our endpoint or poller feeds it)."""

    def __init__(self, settings: TelegramSettings) -> None:
        builder = (
            Application.builder()
            .token(settings.token)
            .updater(None)
            .request(AiohttpRequest())
            .get_updates_request(AiohttpRequest())
        )
        if settings.api_base_url:
            builder = builder.base_url(settings.api_base_url).base_file_url(
                file_base_url(settings.api_base_url)
            )
        self.application = builder.build()
        self.bot = self.application.bot
        self.secret = settings.secret_token.encode()
        # Update ids are counted per bot; the token's first part is the bot's id.
        self.bot_id = settings.token.partition(":")[0]
        self.staff_chat_id = settings.staff_chat_id
        self._pending: set[asyncio.Task] = set()

    def verify(self, header: str | None) -> bool:
        """Whether the secret header is ours (constant-time comparison)."""
        if not self.secret or header is None:
            return False  # polling mode has no secret: nothing may be posted to us then
        return hmac.compare_digest(header.encode(), self.secret)

    def translate(self, payload: object, received_at: datetime) -> TelegramMessage | None:
        """The update as a message from a citizen, or from someone in the staff chat (with their
        user id as `sender_id`); None for updates we do not handle."""
        if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
            raise Malformed("update_id")
        provider_id = f"{self.bot_id}:{payload['update_id']}"
        query = optional_obj(payload, "callback_query")
        if query is not None:
            return self._button(query, provider_id, received_at)
        message = optional_obj(payload, "message")
        if message is None:
            return None  # edited messages, channel posts, polls...: not citizens' cases
        chat = obj(message.get("chat"), "chat")  # every message is in a chat
        sender = optional_obj(message, "from")
        if sender is None or is_bot(sender):
            return None  # messages without a (human) sender
        if message.get("via_bot") is not None:
            return None  # written by another bot in the person's name (inline mode)
        in_staff_chat = self._is_staff_chat(chat)
        if chat.get("type") != "private" and not in_staff_chat:
            return None  # other groups
        incoming = Incoming(
            channel=CHANNEL,
            address=str(integer(chat.get("id"), "chat")),
            provider_id=provider_id,
            received_at=received_at,
            text=message_text(message),
            name=full_name(sender) or None,
            media=media(message),
            location=location(message),
            sender_id=str(integer(sender.get("id"), "from")) if in_staff_chat else None,
        )
        return TelegramMessage(incoming)

    def _button(self, query: dict, provider_id: str, received_at: datetime):
        sender = obj(query.get("from"), "from")
        if is_bot(sender):
            return None  # only people press buttons
        pressed_on = optional_obj(query, "message")
        chat = obj(pressed_on.get("chat"), "chat") if pressed_on is not None else None
        in_staff_chat = chat is not None and self._is_staff_chat(chat)
        if chat is not None and chat.get("type") != "private" and not in_staff_chat:
            return None
        incoming = Incoming(
            channel=CHANNEL,
            address=str(integer((chat or sender).get("id"), "chat")),
            provider_id=provider_id,
            received_at=received_at,
            text=text(query.get("data"), "data"),
            name=full_name(sender) or None,
            sender_id=str(integer(sender.get("id"), "from")) if in_staff_chat else None,
        )
        query_id = query.get("id")
        if not isinstance(query_id, str) or not query_id:
            raise Malformed("callback_query")
        return TelegramMessage(incoming, callback_query_id=query_id)

    def _is_staff_chat(self, chat: dict) -> bool:
        """Whether a chat is the staff group, where messages say who wrote them."""
        return (
            bool(self.staff_chat_id)
            and chat.get("type") != "private"
            and chat.get("id") == self.staff_chat_id
        )

    def acknowledge_button(self, callback_query_id: str) -> None:
        """Stop the button's spinner; in the background, as nothing depends on it."""
        task = asyncio.create_task(self._answer(callback_query_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _answer(self, callback_query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as exc:
            log.info("telegram: button not acknowledged (%s)", type(exc).__name__)

    async def start(self) -> None:
        await self.application.initialize()

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self.application.shutdown()

    async def register_webhook(self, url: str) -> None:
        """Tell Telegram where to deliver updates, with our secret; retried until it works."""
        delay = 1.0
        while True:
            try:
                await self.bot.set_webhook(
                    url, secret_token=self.secret.decode(), allowed_updates=ALLOWED_UPDATES
                )
                log.info("telegram: webhook registered")
                return
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except TelegramError as exc:
                log.warning("telegram: cannot register the webhook (%s)", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)

    async def poll(self, handle: Callable[[dict], Awaitable[bool]], timeout: int = 25) -> None:
        """Polling mode: fetch updates and acknowledge each (the next offset) only after
        `handle` has stored it, so that a crash loses nothing."""
        delay = 1.0
        while True:
            try:
                await self.bot.delete_webhook()
                break
            except TelegramError as exc:
                log.warning("telegram: cannot remove the webhook (%s)", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)
        offset: int | None = None
        network_delay = storing_delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
                )
                network_delay = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                log.warning("telegram: polling failed (%s)", type(exc).__name__)
                await asyncio.sleep(network_delay)
                network_delay = min(network_delay * 2, 60)
                continue
            for update in updates:
                if not await handle(update.to_dict()):
                    await asyncio.sleep(storing_delay)  # not stored: fetch it again
                    storing_delay = min(storing_delay * 2, 60)
                    break
                storing_delay = 1.0
                offset = update.update_id + 1


class TelegramSender:
    """Sends outbox rows as Telegram messages, with options as inline buttons."""

    channel = CHANNEL
    messages_per_second = 30.0
    needs_window = False

    @staticmethod
    def per_chat_interval(address: str) -> float:
        """About one message a second to a person; groups (negative ids) allow 20 a minute."""
        return 3.0 if address.startswith("-") else 1.0

    def __init__(self, channel: TelegramChannel) -> None:
        self.bot = channel.bot

    async def close(self) -> None:
        # The connections are the bot's (its Application's): closed here as the dispatcher
        # stops, they open again on the next send.
        await self.bot.request.shutdown()

    async def send(self, delivery: Delivery) -> Outcome:
        try:
            chat_id = int(delivery.address)
        except ValueError:
            return Permanent("chat inválido")
        markup = None
        if delivery.options:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(o.shown(typed=False), callback_data=_data(o.key))]
                    for o in delivery.options
                ]
            )
        photo = _photo(delivery.photo)
        try:
            if delivery.edit is not None:
                return await self._edit_buttons(delivery.edit, markup)
            if delivery.document is not None:
                pdf = await asyncio.to_thread(render_pdf, delivery.document)
                message = await self.bot.send_document(
                    chat_id,
                    pdf,
                    filename=delivery.document.filename,
                    caption=delivery.text[:MAX_CAPTION],
                )
            elif photo is not None:
                message = await self.bot.send_photo(
                    chat_id, photo, caption=delivery.text[:MAX_CAPTION]
                )
            else:
                # Rows are cut to fit one message when queued (handlers.dialogue.intake.queue).
                message = await self.bot.send_message(
                    chat_id, delivery.text[:MAX_TEXT], reply_markup=markup
                )
        except ChatMigrated as exc:
            # The group became a supergroup: same people, a new id (followed by the outbox).
            return Moved(str(int(exc.new_chat_id)))
        except RetryAfter as exc:
            return RetryLater(_seconds(exc.retry_after), "Telegram RetryAfter")
        except InvalidToken:
            # Our configuration, not the message, is wrong: keep it until the token is fixed.
            log.error("telegram: the bot token was refused; replies wait until it is fixed")
            return RetryLater(CREDENTIALS_PAUSE, "Telegram InvalidToken")
        except (BadRequest, Forbidden) as exc:
            return Permanent(f"Telegram {type(exc).__name__}")
        except TelegramError as exc:
            return Transient(f"Telegram {type(exc).__name__}")
        return Sent(f"{chat_id}:{message.message_id}")

    async def _edit_buttons(self, sent: str, markup: InlineKeyboardMarkup | None) -> Outcome:
        """Replace the buttons of a message sent earlier (`chat:message` as `send` recorded it):
        a card's [Tomar] once the case is taken."""
        chat, _, message_id = sent.partition(":")
        try:
            chat_id, message = int(chat), int(message_id)
        except ValueError:
            return Permanent("mensaje inválido")
        try:
            await self.bot.edit_message_reply_markup(chat_id, message, reply_markup=markup)
        except (BadRequest, Forbidden) as exc:
            # The message is gone, too old or already so: nothing to retry, nobody to alert.
            log.info("telegram: buttons not edited (%s)", type(exc).__name__)
        return Sent(sent)


class Telegram:
    """Telegram as one channel of the service: updates in through the webhook or by polling,
    replies out through the Bot, files fetched through the Bot API."""

    name = CHANNEL

    def __init__(self, settings: TelegramSettings, public_url: str, media_bytes: int) -> None:
        self.channel = TelegramChannel(settings)
        self.mode = settings.mode
        self.webhook_url = public_url.rstrip("/") + WEBHOOK_PATH
        self.sender = TelegramSender(self.channel)
        self.media = TelegramMedia(self.channel.bot, media_bytes)

    def webhooks(self) -> tuple[Webhook, ...]:
        return (
            Webhook(
                WEBHOOK_PATH,
                self._verify,
                self._update,
                parse=json.loads,
                secret_in_header=True,
                active=lambda: self.mode == "webhook",  # 404 in polling mode
            ),
        )

    def _verify(self, headers: Headers, payload: None) -> bool:
        return self.channel.verify(headers.get("x-telegram-bot-api-secret-token"))

    def _update(self, payload: object, received_at: datetime) -> Store | Ignore:
        message = self.channel.translate(payload, received_at)
        if message is None:
            return Ignore(Response(status_code=200))  # an update we do not handle
        then = None
        if message.callback_query_id:  # once stored, stop the button's spinner
            then = functools.partial(self.channel.acknowledge_button, message.callback_query_id)
        return Store(message.incoming, Response(status_code=200), then)

    async def start(self, host: Host) -> None:
        """Start the bot (retried while Telegram is unreachable: the webhook still stores
        updates), then register the webhook or poll."""
        delay = 1.0
        while True:
            try:
                await self.channel.start()
                break
            except Exception as exc:
                log.warning("telegram: cannot start the bot (%s)", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)
        if self.mode == "polling":
            await self.channel.poll(lambda payload: self._receive(host, payload))
        else:
            await self.channel.register_webhook(self.webhook_url)

    async def _receive(self, host: Host, payload: dict) -> bool:
        """Polling mode: store one update; False when it must be fetched again (the database
        is away). An update that fails for another reason is skipped, not retried forever."""
        try:
            message = self.channel.translate(payload, host.clock())
        except (Malformed, RecursionError):
            return True
        if message is None:
            return True
        try:
            await host.store(message.incoming)
        except (SQLAlchemyError, OSError) as exc:
            log_failure(log, "telegram polling", exc)
            return False
        except Exception as exc:
            log_failure(log, "telegram polling (skipped)", exc)
            return True
        if message.callback_query_id:
            self.channel.acknowledge_button(message.callback_query_id)
        return True

    async def stop(self) -> None:
        await self.channel.stop()


def from_app(app: App) -> Telegram | None:
    """The channel, when `telegram.enabled`."""
    settings = app.settings
    if not settings.telegram.enabled:
        return None
    return Telegram(settings.telegram, settings.server.public_url, media_limit(settings))


def _photo(path: str | None) -> bytes | None:
    """The image of a row that carries one; None (send the text alone) when it is gone."""
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def _data(key: str) -> str:
    return key.encode()[:MAX_CALLBACK_DATA].decode(errors="ignore")


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
