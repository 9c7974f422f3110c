"""The HTTP service (spec section 4): webhooks in, the outbox and media fetcher running beside.

A webhook answers 200 only after the message, its effect on the case and the replies (as
outbox rows) are committed in one transaction; 503 when the database cannot take it (the
provider delivers again), 403 for a forged request, 400 for a malformed one, 413 for a body
over 64 KiB, 408 for a body that does not arrive in time, 429 for a forged request from an
address that sent many lately. Nothing a caller sends produces a 500.

Order matters: the body is read under a time limit and the signature checked before the
request takes an admission slot, so that slow or forged requests never hold up real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.admission import PENALTY_DELAY, Admission, Penalties, address_key, default_limit
from bot.app import App
from bot.channels.common import Malformed, NotOurs
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.whatsapp import Form, TwilioSender, WhatsAppChannel
from bot.media import MediaFetcher, TelegramMedia, TwilioMedia
from bot.outbox import Dispatcher
from bot.reporting import chart_file
from bot.scheduler import Scheduler
from handlers.core.messages import Incoming
from handlers.dialogue.intake import receive

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
WHATSAPP_PATH = "/webhooks/whatsapp"
STATUS_PATH = "/webhooks/whatsapp/status"
TELEGRAM_PATH = "/webhooks/telegram"
CHARTS_PATH = "/reports/charts"  # the weekly summary's charts, for Twilio to fetch
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TooLarge(Exception):
    pass


class TooSlow(Exception):
    pass


class Refusals:
    """Counts refusals and logs them at most once a minute, so that a flood does not flood the
    log; nothing about the request is logged."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self._counts: Counter[str] = Counter()
        self._logged = -every

    def count(self, what: str) -> None:
        self._counts[what] += 1
        now = self.clock()
        if now - self._logged >= self.every:
            summary = ", ".join(f"{n} {what}" for what, n in sorted(self._counts.items()))
            log.warning("webhooks refused since the last report: %s", summary)
            self._counts.clear()
            self._logged = now


class Service:
    """The running service: channels, the dispatcher and the media fetcher, wired."""

    def __init__(
        self,
        app: App,
        clock: Callable[[], datetime],
        *,
        whatsapp: WhatsAppChannel | None,
        telegram: TelegramChannel | None,
        dispatcher: Dispatcher,
        media: MediaFetcher,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.whatsapp = whatsapp
        self.telegram = telegram
        self.dispatcher = dispatcher
        self.media = media
        self.scheduler = scheduler
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Start sending, fetching, the scheduled jobs and (for Telegram) registering the
        webhook or polling."""
        if self.scheduler is not None:
            self.scheduler.start()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))
        self._tasks.append(asyncio.create_task(self.media.run(), name="media"))
        if self.telegram is not None:
            self._tasks.append(asyncio.create_task(self._start_telegram(), name="telegram"))
        self._tasks.append(asyncio.create_task(self._warm_up(), name="warm-up"))

    async def _warm_up(self) -> None:
        """Load (or train, the first time) the classifier now, not in the first citizen's
        request; then set aside what is loaded for good (modules, the model) from the garbage
        collector's full passes, which otherwise pause every request for over 100 ms."""
        await asyncio.to_thread(self.app.policy.classifier.classify, "hola")
        gc.collect()
        gc.freeze()

    async def _start_telegram(self) -> None:
        telegram, settings = self.telegram, self.app.settings
        delay = 1.0
        while True:
            try:
                await telegram.start()
                break
            except Exception as exc:  # Telegram unreachable: the webhook still stores updates
                log.warning("telegram: cannot start the bot (%s)", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)
        if settings.telegram.mode == "polling":
            await telegram.poll(self.receive_telegram_update)
        else:
            await telegram.register_webhook(settings.server.public_url.rstrip("/") + TELEGRAM_PATH)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work; replies being sent are finished and recorded (within `grace`
        seconds), so that a restart does not send them again."""
        if self.scheduler is not None:
            self.scheduler.stop()
        self.dispatcher.stop()
        outbox = self._tasks[0] if self._tasks else None
        if outbox is not None:
            await asyncio.wait([outbox], timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.media.close()
        await self.dispatcher.close()
        if self.telegram is not None:
            with contextlib.suppress(Exception):
                await self.telegram.stop()

    async def store(self, incoming: Incoming) -> None:
        """Receive one message in one transaction; raises when the database fails."""

        def work() -> None:
            with self.app.uow() as uow:
                receive(incoming, uow, self.app.dialogue, self.clock())

        await run_in_threadpool(work)
        self.dispatcher.wake()
        if incoming.media:
            self.media.wake()

    async def receive_telegram_update(self, payload: dict) -> bool:
        """Polling mode: store one update; False when it must be fetched again (the database
        is away). An update that fails for another reason is skipped, not retried forever."""
        try:
            message = self.telegram.translate(payload, self.clock())
        except (Malformed, RecursionError):
            return True
        if message is None:
            return True
        try:
            await self.store(message.incoming)
        except (SQLAlchemyError, OSError) as exc:
            _log_failure("telegram polling", exc)
            return False
        except Exception as exc:
            _log_failure("telegram polling (skipped)", exc)
            return True
        if message.callback_query_id:
            self.telegram.acknowledge_button(message.callback_query_id)
        return True


def build_service(app: App, clock: Callable[[], datetime]) -> Service:
    """Wire the enabled channels to the dispatcher and the media fetcher."""
    settings = app.settings
    public_url = settings.server.public_url.rstrip("/")
    limit = int(settings.media.max_mb * 1024 * 1024)
    senders, fetchers = [], {}
    whatsapp = telegram = None
    if settings.whatsapp.enabled:
        wa = settings.whatsapp
        whatsapp = WhatsAppChannel(wa, public_url)
        short_name = settings.institution.short_name
        senders.append(
            TwilioSender(
                wa,
                public_url + STATUS_PATH,
                lambda folio: folio or short_name,
                charts_url=public_url + CHARTS_PATH + "/",
            )
        )
        fetchers["whatsapp"] = TwilioMedia(wa.account_sid, wa.auth_token, wa.api_base_url, limit)
    if settings.telegram.enabled:
        telegram = TelegramChannel(settings.telegram)
        senders.append(TelegramSender(telegram))
        fetchers["telegram"] = TelegramMedia(telegram.bot, limit)
    staff_chat = ("telegram", str(app.policy.staff_chat_id)) if app.policy.staff_chat_id else None
    lease = timedelta(seconds=settings.server.outbox_lease_seconds)
    dispatcher = Dispatcher(app, senders, clock, staff_chat=staff_chat, lease=lease)
    media = MediaFetcher(app, fetchers, settings.media)
    return Service(
        app,
        clock,
        whatsapp=whatsapp,
        telegram=telegram,
        dispatcher=dispatcher,
        media=media,
        scheduler=Scheduler(app, clock, dispatcher.wake),
    )


def build_asgi(service: Service) -> Starlette:
    """The ASGI application of spec section 4."""
    server = service.app.settings.server
    admission = Admission(server.max_inflight or default_limit(service.app.engine))
    penalties = Penalties()
    refusals = Refusals()

    async def admitted(work: Callable[[], Awaitable[Response]]) -> Response:
        """The work's answer, or 503 at once when more requests are at work than can be
        committed. Only verified requests get here."""
        async with admission.slot() as admitted:
            if not admitted:
                return Response(status_code=503, headers={"Retry-After": "5"})
            return await work()

    async def body(request: Request) -> bytes | Response:
        """The request body, or the answer when it is too large or too slow to arrive."""
        try:
            return await _body(request, server.body_timeout_seconds)
        except TooLarge:
            refusals.count("413 too large")
            return _refuse(413)
        except TooSlow:
            refusals.count("408 body too slow")
            return _refuse(408)
        except Malformed:
            return Response(status_code=400)

    async def forged(request: Request) -> Response:
        """403 for a forged request; 429, a little later, once its address sent many lately."""
        address = address_key(request.client.host if request.client else None)
        slowed = penalties.slowed_for(address)
        if penalties.failed(address):
            log.warning(
                "webhooks: %d forged requests within a minute from %s; its refusals are "
                "slowed for %.0f s",
                penalties.failures,
                address or "an unknown address",
                penalties.penalty,
            )
        if not slowed:
            refusals.count("403 forged")
            return _refuse(403)
        refusals.count("429 forged from a slowed address")
        await asyncio.sleep(PENALTY_DELAY)
        return _refuse(429, {"Retry-After": str(max(1, round(slowed)))})

    async def signed_form(request: Request, path: str) -> Form | Response:
        """The form Twilio posted, or the answer to give when it is not one we accept."""
        if service.whatsapp is None:
            return Response(status_code=404)
        content = await body(request)
        if isinstance(content, Response):
            return content
        try:
            form = Form(content)
        except Malformed:
            return Response(status_code=400)
        if not service.whatsapp.verify(path, form, request.headers.get("x-twilio-signature")):
            return await forged(request)
        return form

    async def whatsapp_message(request: Request) -> Response:
        form = await signed_form(request, WHATSAPP_PATH)
        if not isinstance(form, Form):
            return form
        try:
            incoming = service.whatsapp.translate(form, service.clock())
        except Malformed:
            return Response(status_code=400)
        except NotOurs:
            return Response(status_code=403)

        async def work() -> Response:
            failure = await _store(service, incoming)
            return failure or Response(EMPTY_TWIML, media_type="text/xml")

        return await admitted(work)

    async def whatsapp_status(request: Request) -> Response:
        form = await signed_form(request, STATUS_PATH)
        if not isinstance(form, Form):
            return form
        try:
            report = service.whatsapp.delivery_report(form)
        except Malformed:
            return Response(status_code=400)

        def record() -> None:
            with service.app.uow() as uow:
                if uow.messages.set_delivery_status("whatsapp", report.sid, report.status):
                    uow.commit()
            if report.failure is not None:
                service.dispatcher.delivery_failed("whatsapp", report.sid, report.failure)

        async def work() -> Response:
            try:
                await run_in_threadpool(record)
            except Exception as exc:
                return _failure_response("whatsapp status", exc)
            return Response(status_code=204)

        return await admitted(work)

    async def telegram_update(request: Request) -> Response:
        channel = service.telegram
        if channel is None or service.app.settings.telegram.mode != "webhook":
            return Response(status_code=404)
        if not channel.verify(request.headers.get("x-telegram-bot-api-secret-token")):
            return await forged(request)  # the body is not even read
        content = await body(request)
        if isinstance(content, Response):
            return content
        try:
            message = channel.translate(json.loads(content), service.clock())
        except (ValueError, RecursionError, Malformed):  # bad JSON, bad UTF-8, too deep
            return Response(status_code=400)
        if message is None:
            return Response(status_code=200)  # an update we do not handle

        async def work() -> Response:
            failure = await _store(service, message.incoming)
            if failure is not None:
                return failure
            if message.callback_query_id:
                channel.acknowledge_button(message.callback_query_id)
            return Response(status_code=200)

        return await admitted(work)

    async def healthz(request: Request) -> Response:
        def probe() -> None:
            with service.app.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(run_in_threadpool(probe), timeout=5)
        except Exception as exc:
            log.warning("healthz: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def chart(request: Request) -> Response:
        """A chart of the weekly summary, by its unguessable name; 404 for anything else."""
        path = chart_file(service.app, request.path_params["name"])
        if path is None:
            return Response(status_code=404)
        try:
            content = await run_in_threadpool(path.read_bytes)
        except OSError:
            return Response(status_code=404)
        return Response(content, media_type="image/png", headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    return Starlette(
        routes=[
            Route(WHATSAPP_PATH, whatsapp_message, methods=["POST"]),
            Route(STATUS_PATH, whatsapp_status, methods=["POST"]),
            Route(TELEGRAM_PATH, telegram_update, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route(CHARTS_PATH + "/{name}", chart, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


async def _body(request: Request, timeout: float) -> bytes:
    """The request body, refused past MAX_BODY bytes without reading it all, and when all of it
    has not arrived within `timeout` seconds."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    raise TooLarge
    except TimeoutError as exc:
        raise TooSlow from exc
    except ClientDisconnect as exc:  # nobody is left to answer; nothing was stored
        raise Malformed("disconnected") from exc
    return bytes(body)


def _refuse(status: int, headers: dict[str, str] | None = None) -> Response:
    """A refusal that closes the connection: what is left of the body is not waited for."""
    return Response(status_code=status, headers={**(headers or {}), "Connection": "close"})


async def _store(service: Service, incoming: Incoming) -> Response | None:
    """Store a message; a response to give instead of 200 when that failed."""
    try:
        await service.store(incoming)
    except Exception as exc:
        return _failure_response(incoming.channel, exc)
    return None


def _failure_response(what: str, exc: Exception) -> Response:
    """Nothing was stored: 503, so that the provider delivers the message again."""
    _log_failure(what, exc)
    return Response(status_code=503, headers={"Retry-After": "5"})


def _log_failure(what: str, exc: BaseException) -> None:
    """Log where in our code it failed, not what it said: database and library messages may
    quote a number or a message body."""
    frames = [
        f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno} "
        f"in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in frame.filename
    ]
    log.error("%s: not stored (%s) at %s", what, type(exc).__name__, " < ".join(frames[::-1][:4]))
