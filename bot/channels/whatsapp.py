"""WhatsApp through Twilio: verify and translate webhooks, send through the Twilio REST client."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from starlette.datastructures import Headers
from starlette.responses import Response as HttpResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import Record, Store, Webhook
from bot.channels.common import CHARTS_PATH, Malformed, NotOurs, media_kind, media_limit
from bot.config import WhatsAppSettings
from bot.documents import DocumentLinks, document_links
from bot.media import TwilioMedia
from bot.outbox import Delivery, Held, Outcome, Permanent, RetryLater, Sent, Transient
from handlers.core.messages import Incoming, Location, Media, Reply

if TYPE_CHECKING:
    from bot.app import App
    from bot.channels.base import Host

CHANNEL = "whatsapp"
MESSAGE_PATH = "/webhooks/whatsapp"
STATUS_PATH = "/webhooks/whatsapp/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PREFIX = "whatsapp:"
MAX_BODY = 1600  # characters Twilio accepts in one WhatsApp message
MAX_MEDIA = 10  # files Twilio attaches to one message
OUTSIDE_WINDOW = 63016  # Twilio: free-form message outside the 24-hour window
TOO_MANY_REQUESTS = 20429
AUTHENTICATION_FAILED = 20003
CREDENTIALS_PAUSE = 60.0  # seconds between tries while Twilio refuses our credentials
_PHONE = re.compile(r"\+[1-9]\d{6,14}")
_SID = re.compile(r"[A-Za-z0-9]{2,64}")

log = logging.getLogger(__name__)
# Twilio's client logs every request it makes, with the recipient; ours stay quiet.
_quiet = logging.getLogger("bot.channels.whatsapp.http")
_quiet.setLevel(logging.WARNING)


class Form:
    """A form-encoded body as Twilio sent it (a field may repeat)."""

    def __init__(self, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=500)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Malformed("not a form") from exc
        # Each field's values, in the order they came: read once, not searched for each field.
        self._fields: dict[str, list[str]] = {}
        for key, value in pairs:
            self._fields.setdefault(key, []).append(value)

    def getall(self, name: str) -> list[str]:
        """Every value of a field (what Twilio's RequestValidator signs: it asks for `getall`
        first)."""
        return self._fields.get(name, [])

    def __iter__(self):
        return iter(self._fields)

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[0] if values else default


@dataclass(frozen=True)
class DeliveryReport:
    sid: str
    status: str
    failure: Held | Permanent | None  # what it means for the outbox row, if it failed


class WhatsAppChannel:
    """Twilio's webhooks in, as Incoming messages and delivery reports."""

    def __init__(self, settings: WhatsAppSettings, public_url: str) -> None:
        self.validator = RequestValidator(settings.auth_token)
        self.public_url = public_url.rstrip("/")
        self.number = settings.from_number

    def verify(self, path: str, form: Form, signature: str | None) -> bool:
        """Whether Twilio signed this request for our public URL (so it works behind a proxy)."""
        if not signature:
            return False
        return self.validator.validate(self.public_url + path, form, signature)

    def translate(self, form: Form, received_at: datetime) -> Incoming:
        """The message as the dialogue sees it; Malformed or NotOurs when it cannot be one."""
        sid = form.get("MessageSid") or form.get("SmsMessageSid")
        sender = form.get("From").removeprefix(PREFIX)
        if not _SID.fullmatch(sid) or not _PHONE.fullmatch(sender):
            raise Malformed("MessageSid or From")
        if form.get("To").removeprefix(PREFIX) != self.number:
            raise NotOurs("To")
        # A button (quick reply) answers with its payload, which is one of our option keys.
        text = form.get("ButtonPayload") or form.get("Body")
        return Incoming(
            channel=CHANNEL,
            address=sender,
            provider_id=sid,
            received_at=received_at,
            text=text,
            name=form.get("ProfileName") or None,
            media=self._media(form),
            location=self._location(form),
        )

    def delivery_report(self, form: Form) -> DeliveryReport:
        """What a status callback says about one of our messages."""
        sid, status = form.get("MessageSid"), form.get("MessageStatus").lower()
        code = form.get("ErrorCode")
        if not _SID.fullmatch(sid) or not re.fullmatch(r"[a-z_]{1,20}", status):
            raise Malformed("MessageSid or MessageStatus")
        if code and not code.isdigit():
            raise Malformed("ErrorCode")
        failure = None
        if status in ("failed", "undelivered"):
            reason = f"Twilio {status} código {code or '-'}"
            failure = Held(reason) if code == str(OUTSIDE_WINDOW) else Permanent(reason)
        return DeliveryReport(sid, status, failure)

    def _media(self, form: Form) -> tuple[Media, ...]:
        try:
            count = int(form.get("NumMedia") or 0)
        except ValueError as exc:
            raise Malformed("NumMedia") from exc
        media = []
        for index in range(max(0, min(count, MAX_MEDIA))):
            url = form.get(f"MediaUrl{index}")
            if not url.startswith(("https://", "http://")) or len(url) > 1000:
                raise Malformed("MediaUrl")
            content_type = form.get(f"MediaContentType{index}").lower()[:100] or None
            media.append(Media(media_kind(content_type), url, content_type))
        return tuple(media)

    def _location(self, form: Form) -> Location | None:
        if not form.get("Latitude") and not form.get("Longitude"):
            return None
        try:
            latitude, longitude = float(form.get("Latitude")), float(form.get("Longitude"))
        except ValueError as exc:
            raise Malformed("Latitude or Longitude") from exc
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise Malformed("Latitude or Longitude")
        address = form.get("Address")[:300] or None
        label = form.get("Label")[:300] or None
        return Location(latitude, longitude, address, label)


class TwilioHttp(AsyncHttpClient):
    """Twilio's asynchronous HTTP client contract over aiohttp (a dependency of `twilio`): no
    thread per send. One session per event loop; `base_url` (`whatsapp.api_base_url`) sends
    somewhere else than Twilio."""

    def __init__(self, base_url: str = "", timeout: float = 15.0) -> None:
        super().__init__(_quiet, True, timeout)
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def request(
        self,
        method: str,
        uri: str,
        params: dict | None = None,
        data: dict | None = None,
        headers: dict | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.base_url:
            parts = urlsplit(uri)
            uri = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if auth:
            user_password = base64.b64encode(":".join(auth).encode()).decode()
            headers["Authorization"] = f"Basic {user_password}"
        async with self._open().request(
            method.upper(),
            uri,
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            allow_redirects=allow_redirects,
        ) as response:
            return Response(response.status, await response.text(), response.headers)

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session, self._loop = aiohttp.ClientSession(), loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class TwilioSender:
    """Sends outbox rows as WhatsApp messages from `whatsapp.from_number`."""

    channel = CHANNEL
    needs_window = True
    reports_delivery = True  # status callbacks, possibly before the send's own answer

    @staticmethod
    def per_chat_interval(address: str) -> float:
        return 0.0  # Twilio paces per sender number only

    def __init__(
        self,
        settings: WhatsAppSettings,
        status_callback: str | None,
        announce: Callable[[str | None], str],
        charts_url: str | None = None,
        documents: DocumentLinks | None = None,
    ) -> None:
        self.http = TwilioHttp(settings.api_base_url)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=self.http)
        self.sender = PREFIX + settings.from_number
        self.template_sid = settings.template_sid
        self.messages_per_second = settings.messages_per_second
        self.status_callback = status_callback
        self.announce = announce  # the template's variable, from the folio
        self.charts_url = charts_url  # where the service serves the summary's charts, by name
        self.documents = documents  # where it serves the documents, for a while

    async def send(self, delivery: Delivery) -> Outcome:
        if not delivery.window_open:
            return await self._outside_window(delivery)
        # Rows are cut to fit one message when queued (handlers.dialogue.intake.queue).
        text = Reply(CHANNEL, delivery.address, delivery.text, delivery.options).rendered()
        if delivery.document is not None and self.documents is not None:
            # Twilio fetches the PDF from the service; a document on WhatsApp shows no caption
            # (the text before it says what it is), so none is sent.
            url = await asyncio.to_thread(self.documents.publish, delivery.document)
            outcome = await self._create(delivery.address, media_url=[url])
            if isinstance(outcome, Sent):
                # The row keeps where the file is: an erasure deletes it before its link expires.
                file = self.documents.directory / url.rsplit("/", 1)[-1]
                return dataclasses.replace(outcome, file=str(file))
            return outcome
        chart = Path(delivery.photo) if delivery.photo and self.charts_url else None
        if chart is not None and chart.is_file():
            # A media message: Twilio fetches the image from the service (bot/server.py).
            return await self._create(
                delivery.address, body=text[:MAX_BODY], media_url=[self.charts_url + chart.name]
            )
        return await self._create(delivery.address, body=text[:MAX_BODY])

    async def _outside_window(self, delivery: Delivery) -> Outcome:
        if not self.template_sid:
            return Held("fuera de la ventana de 24 horas; sin plantilla")
        variables = json.dumps({"1": self.announce(delivery.folio)}, ensure_ascii=False)
        outcome = await self._create(
            delivery.address, content_sid=self.template_sid, content_variables=variables
        )
        if isinstance(outcome, Sent):
            return Held("fuera de la ventana de 24 horas; aviso enviado", announced=True)
        return outcome

    async def _create(self, address: str, **content: str | list[str]) -> Outcome:
        if self.status_callback:
            content["status_callback"] = self.status_callback
        try:
            message = await self.client.messages.create_async(
                from_=self.sender, to=PREFIX + address, **content
            )
        except TwilioRestException as exc:
            return self._failure(exc)
        except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
            return Transient(type(exc).__name__)
        return Sent(message.sid)

    async def close(self) -> None:
        await self.http.close()

    @staticmethod
    def _failure(exc: TwilioRestException) -> Outcome:
        # Only the status and Twilio's error code are kept: the message may name the recipient.
        reason = f"Twilio HTTP {exc.status} código {exc.code}"
        if exc.status == 429 or exc.code == TOO_MANY_REQUESTS:
            return RetryLater(5.0, reason)
        if exc.status in (401, 403) or exc.code == AUTHENTICATION_FAILED:
            # Our credentials, not the message, are wrong: keep it until they are fixed.
            log.error("whatsapp: Twilio refused the credentials; replies wait until fixed")
            return RetryLater(CREDENTIALS_PAUSE, reason)
        if exc.code == OUTSIDE_WINDOW:
            return Held(reason)
        if exc.status >= 500:
            return Transient(reason)
        return Permanent(reason)


class WhatsApp:
    """WhatsApp through Twilio as one channel of the service: messages and delivery reports in,
    replies out through the REST client, media fetched with the account's credentials."""

    name = CHANNEL

    def __init__(
        self,
        settings: WhatsAppSettings,
        public_url: str,
        short_name: str,
        media_bytes: int,
        documents: DocumentLinks | None = None,
    ) -> None:
        base = public_url.rstrip("/")
        self.channel = WhatsAppChannel(settings, base)
        self.sender = TwilioSender(
            settings,
            base + STATUS_PATH,
            lambda folio: folio or short_name,
            charts_url=base + CHARTS_PATH + "/",
            documents=documents,
        )
        self.media = TwilioMedia(
            settings.account_sid, settings.auth_token, settings.api_base_url, media_bytes
        )

    def webhooks(self) -> tuple[Webhook, ...]:
        return (
            Webhook(MESSAGE_PATH, self._signed(MESSAGE_PATH), self._message, parse=Form),
            Webhook(STATUS_PATH, self._signed(STATUS_PATH), self._status, parse=Form),
        )

    def _signed(self, path: str) -> Callable[[Headers, Form], bool]:
        def verify(headers: Headers, form: Form) -> bool:
            return self.channel.verify(path, form, headers.get("x-twilio-signature"))

        return verify

    def _message(self, form: Form, received_at: datetime) -> Store:
        incoming = self.channel.translate(form, received_at)
        return Store(incoming, HttpResponse(EMPTY_TWIML, media_type="text/xml"))

    def _status(self, form: Form, received_at: datetime) -> Record:
        report = self.channel.delivery_report(form)

        def record(host: Host) -> None:
            with host.app.uow() as uow:
                if not uow.messages.set_delivery_status(CHANNEL, report.sid, report.status):
                    # Before the dispatcher recorded the sid (the callback beat the send's own
                    # answer): kept, and applied when the sid is recorded.
                    failure = None
                    if report.failure is not None:
                        kind = "held" if isinstance(report.failure, Held) else "permanent"
                        failure = (kind, report.failure.reason)
                    kept = host.app.policy.delivery_hash(report.sid)
                    uow.outbox.keep_early_report(
                        CHANNEL, kept, report.status, failure, host.clock()
                    )
                    uow.commit()
                    return
                uow.commit()
            if report.failure is not None:
                host.delivery_failed(CHANNEL, report.sid, report.failure)

        return Record("whatsapp status", record, HttpResponse(status_code=204))

    async def start(self, host: Host) -> None:
        return None  # Twilio is told the webhooks' URLs in its console

    async def stop(self) -> None:
        return None  # the sender and the fetcher are closed with the outbox and the media


def from_app(app: App) -> WhatsApp | None:
    """The channel, when `whatsapp.enabled`."""
    settings = app.settings
    if not settings.whatsapp.enabled:
        return None
    return WhatsApp(
        settings.whatsapp,
        settings.server.public_url,
        settings.institution.short_name,
        media_limit(settings),
        document_links(settings),
    )
