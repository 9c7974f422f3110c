"""The HTTP service (spec section 4): webhooks in, the outbox and media fetcher running beside.

A webhook answers 200 only after the message, its effect on the case and the replies (as
outbox rows) are committed in one transaction; 503 when the database cannot take it (the
provider delivers again), 403 for a forged request, 400 for a malformed one, 413 for a body
over 64 KiB, 408 for a body that does not arrive in time, 429 for a forged request from an
address that sent many lately. Nothing a caller sends produces a 500.

Order matters: the body is read under a time limit and the signature checked before the
request takes an admission slot, so that slow or forged requests never hold up real ones.

The routes come from the channels (bot/channels/): each gives its webhooks' paths, verification
and translation; what they share is done here, once, for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hmac
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.admission import PENALTY_DELAY, Admission, Penalties, address_key, default_limit
from bot.app import App
from bot.channels import enabled_channels
from bot.channels.base import Channel, Ignore, Record, Store, Webhook
from bot.channels.common import CHARTS_PATH, Malformed, NotOurs, log_failure
from bot.documents import DOCUMENTS_PATH, document_links
from bot.media import MediaFetcher
from bot.metrics import CONTENT_TYPE_LATEST, OutboxState
from bot.outbox import Dispatcher, Held, Permanent
from bot.reporting import chart_file
from bot.scheduler import Scheduler
from handlers.core.messages import Incoming
from handlers.dialogue.conversation import Dialogue
from handlers.dialogue.intake import receive
from storage.engine import purge_pending

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
WRITERS = 40  # threads writing arrived messages at once; the admission line bounds the rest
T = TypeVar("T")


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
    """The running service: channels, the dispatcher and the media fetcher, wired. It is the
    `Host` (bot/channels/base.py) its channels store messages through."""

    def __init__(
        self,
        app: App,
        clock: Callable[[], datetime],
        *,
        channels: Sequence[Channel],
        dispatcher: Dispatcher,
        media: MediaFetcher,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.channels = list(channels)
        self.dispatcher = dispatcher
        self.media = media
        self.scheduler = scheduler
        self._tasks: list[asyncio.Task] = []
        # The threads that write what arrives (a message's transaction): as many as anyio's
        # default for Starlette's thread pool, which costs three times as much to hand work to.
        self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="store")
        # Set once the warm-up has loaded the classifier (None: no warm-up, e.g. not started).
        self._warmed: asyncio.Event | None = None

    async def start(self) -> None:
        """Start sending, fetching, the scheduled jobs and what each channel runs beside
        (Telegram registers its webhook or polls)."""
        self.dispatcher.chat_moved = self.chat_moved
        with contextlib.suppress(Exception):  # the database is away: followed when it moves
            await asyncio.to_thread(self._follow_staff_chat)
        if self.scheduler is not None:
            self.scheduler.start()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))
        self._tasks.append(asyncio.create_task(self.media.run(), name="media"))
        for channel in self.channels:
            self._tasks.append(asyncio.create_task(channel.start(self), name=channel.name))
        self._warmed = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._warm_up(), name="warm-up"))

    def _follow_staff_chat(self) -> None:
        """The staff group named in the settings may have become a supergroup since (its new
        id was recorded when a send was refused): follow it."""
        configured = self.app.policy.staff_chat_id
        if not configured:
            return
        with self.app.uow() as uow:
            new = uow.outbox.migrated("telegram", str(configured))
        if new is not None:
            self.chat_moved("telegram", str(configured), new)

    def chat_moved(self, channel: str, old: str, new: str) -> None:
        """A chat moved (Telegram group → supergroup): when it is the staff group, its new id
        is the staff chat's from now on, for what is queued and for whose messages are
        staff's."""
        policy = self.app.policy
        if channel != "telegram" or str(policy.staff_chat_id) != old:
            return
        self.app.policy = dataclasses.replace(policy, staff_chat_id=int(new))
        self.app.dialogue = Dialogue(self.app.policy)
        self.dispatcher.staff_chat = ("telegram", new)
        for chat in self.channels:
            inner = getattr(chat, "channel", None)
            if getattr(inner, "staff_chat_id", None) == int(old):
                inner.staff_chat_id = int(new)

    async def _warm_up(self) -> None:
        """Load (or train, the first time) the classifier now, not in the first citizen's
        request; then set aside what is loaded for good (modules, the model) from the garbage
        collector's full passes, which otherwise pause every request for over 100 ms."""
        try:
            await asyncio.to_thread(self.app.policy.classifier.classify, "hola")
        finally:
            if self._warmed is not None:
                self._warmed.set()
        gc.collect()
        gc.freeze()
        log.info("warm-up done: the classifier is loaded")

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
        for channel in self.channels:
            with contextlib.suppress(Exception):
                await channel.stop()
        self._writers.shutdown(wait=False)  # what a writer is at ends; its thread exits after

    async def store(self, incoming: Incoming) -> None:
        """Receive one message in one transaction; raises when the database fails."""

        def work() -> None:
            with self.app.uow() as uow:
                receive(incoming, uow, self.app.dialogue, self.clock())

        metrics = self.app.metrics
        metrics.received.labels(incoming.channel).inc()
        if self._warmed is not None and not self._warmed.is_set():
            # The dialogue classifies inside the message's transaction: loading the model there
            # would hold SQLite's one writer while every other message waits for it.
            await self._warmed.wait()
        try:
            await self.in_writer(work)
        except Exception:
            metrics.database_errors.labels("store").inc()
            raise
        metrics.acknowledged.labels(incoming.channel).inc()
        self.dispatcher.wake()
        if incoming.media:
            self.media.wake()

    async def in_writer(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in one of the writers' threads."""
        return await asyncio.get_running_loop().run_in_executor(self._writers, work, *args)

    def delivery_failed(self, channel: str, sid: str, failure: Held | Permanent) -> None:
        """The provider reported later that a message it accepted was not delivered."""
        self.dispatcher.delivery_failed(channel, sid, failure)

    def outbox_state(self) -> OutboxState:
        """The outbox's backlog now (in a thread: it reads the database)."""
        now = self.clock()
        with self.app.reading_uow() as uow:
            counts, oldest = uow.outbox.backlog()
        ages = {
            channel: max(0.0, (now - first).total_seconds()) for channel, first in oldest.items()
        }
        return OutboxState(counts, ages)


def build_service(
    app: App, clock: Callable[[], datetime], channels: Sequence[Channel] | None = None
) -> Service:
    """Wire the channels (by default those the settings enable, bot/channels/__init__.py) to the
    dispatcher and the media fetcher."""
    settings = app.settings
    channels = enabled_channels(app) if channels is None else list(channels)
    senders = [channel.sender for channel in channels if channel.sender is not None]
    fetchers = {channel.name: channel.media for channel in channels if channel.media is not None}
    staff_chat = ("telegram", str(app.policy.staff_chat_id)) if app.policy.staff_chat_id else None
    lease = timedelta(seconds=settings.server.outbox_lease_seconds)
    dispatcher = Dispatcher(
        app,
        senders,
        clock,
        staff_chat=staff_chat,
        lease=lease,
        dead_after=settings.server.dispatcher_dead_after_seconds,
    )
    media = MediaFetcher(app, fetchers, settings.media)
    return Service(
        app,
        clock,
        channels=channels,
        dispatcher=dispatcher,
        media=media,
        scheduler=Scheduler(app, clock, dispatcher.wake),
    )


def build_asgi(service: Service) -> Starlette:
    """The ASGI application of spec section 4: every channel's webhooks, /healthz, the
    summary's charts, and the web desk under /mesa/ (bot/desk/)."""
    server = service.app.settings.server
    metrics = service.app.metrics
    admission = Admission(server.max_inflight or default_limit(service.app.engine))
    metrics.admission_limit.set(admission.limit)
    metrics.admission_inflight.set_function(lambda: admission.inflight)
    metrics.admission_waiting.set_function(lambda: admission.waiting)
    penalties = Penalties()
    refusals = Refusals()

    async def admitted(work: Callable[[], Awaitable[Response]]) -> Response:
        """The work's answer, or 503 at once when more requests are at work than can be
        committed. Only verified requests get here."""
        async with admission.slot() as admitted:
            if not admitted:
                refusals.count("503 admission line full")
                metrics.admission_refusals.inc()
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

    def endpoint(channel: str, hook: Webhook) -> Callable[[Request], Awaitable[Response]]:
        """One channel's webhook: verified, read, translated, then admitted and stored; its
        answers counted by status."""

        async def counted(request: Request) -> Response:
            response = await webhook(request)
            metrics.webhook_responses.labels(channel, str(response.status_code)).inc()
            return response

        async def webhook(request: Request) -> Response:
            if not hook.active():
                return Response(status_code=404)
            if hook.secret_in_header and not hook.verify(request.headers, None):
                return await forged(request)  # the body is not even read
            content = await body(request)
            if isinstance(content, Response):
                return content
            try:
                payload = hook.parse(content)
            except (ValueError, RecursionError, Malformed):  # bad JSON or form, bad UTF-8
                return Response(status_code=400)
            if not hook.secret_in_header and not hook.verify(request.headers, payload):
                return await forged(request)
            try:
                accepted = hook.accept(payload, service.clock())
            except NotOurs:
                return Response(status_code=403)
            except (ValueError, RecursionError, Malformed):
                return Response(status_code=400)
            if isinstance(accepted, Ignore):
                return accepted.answer
            return await admitted(lambda: _settle(service, accepted))

        return counted

    async def healthz(request: Request) -> Response:
        def probe() -> None:
            with service.app.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(run_in_threadpool(probe), timeout=5)
            state = await asyncio.wait_for(run_in_threadpool(service.outbox_state), timeout=5)
        except Exception as exc:
            log.warning("healthz: database unreachable (%s)", type(exc).__name__)
            metrics.database_errors.labels("health").inc()
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        metrics.outbox(state)
        body = health(state)
        if not shows_details(request):
            # The outbox's counts and send times, read every second by anyone, would time the
            # replies no row is left of (an anonymous denuncia's): they are the metrics' own.
            del body["outbox"]
        return JSONResponse(body)

    def shows_details(request: Request) -> bool:
        """Whether the request bears the metrics token (`server.metrics_token`, when set)."""
        token = server.metrics_token
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer" or not given:
            return False
        return hmac.compare_digest(given.strip().encode(), token.encode())

    def health(state: OutboxState) -> dict:
        """ok, or degraded (still 200: the service works, replies are late) once the oldest
        reply waiting to be sent is older than `server.degraded_after_seconds` (the console's
        replies, waiting for the citizen to open the chat again, are listed but never late)."""
        oldest = max(state.late.values(), default=0.0)
        last_sent = metrics.last_sent_at()
        channels = {channel.name for channel in service.channels}
        channels |= {channel for _, channel in state.rows}
        outbox = {
            channel: {
                "pending": state.rows.get(("pending", channel), 0),
                "waiting": state.rows.get(("waiting", channel), 0),
                "failed": state.rows.get(("failed", channel), 0),
                "oldest_pending_seconds": round(state.oldest_pending.get(channel, 0.0), 1),
                "last_sent_at": _iso(last_sent.get(channel)),
            }
            for channel in sorted(channels)
        }
        degraded = oldest > server.degraded_after_seconds
        return {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "outbox": outbox,
            # An erasure's rebuild of the file (SQLite) still to be done: retried every few
            # seconds; what was erased may survive in the file's free space until then.
            "purge_pending": purge_pending(service.app.engine),
        }

    async def metrics_page(request: Request) -> Response:
        """Prometheus' text format; 404 unless `server.metrics_token` is set, then only with
        `Authorization: Bearer <token>` (401 without one, 403 with another)."""
        if not server.metrics_token:
            return Response(status_code=404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if not shows_details(request):
            return Response(status_code=403)
        try:
            state = await asyncio.wait_for(run_in_threadpool(service.outbox_state), timeout=5)
        except Exception as exc:
            log.warning("metrics: cannot read the outbox (%s)", type(exc).__name__)
            metrics.database_errors.labels("metrics").inc()
        else:
            metrics.outbox(state)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    def timed(route: str, handler: Callable[[Request], Awaitable[Response]]):
        """The handler, its answers' latency observed under the route's template (never the
        path itself, which may hold a parameter)."""

        async def observed(request: Request) -> Response:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                metrics.request_seconds.labels(route, request.method).observe(
                    time.perf_counter() - started
                )

        return observed

    async def chart(request: Request) -> Response:
        """A chart of the weekly summary, by its unguessable name; 404 for anything else."""
        path = chart_file(service.app, request.path_params["name"])
        return await _file(path, "image/png")

    links = document_links(service.app.settings)

    async def document(request: Request) -> Response:
        """A case's document while its link is valid (for Twilio); 404 for anything else."""
        return await _file(links.find(request.path_params["name"]), "application/pdf")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    webhooks = [
        Route(hook.path, timed(hook.path, endpoint(channel.name, hook)), methods=["POST"])
        for channel in service.channels
        for hook in channel.webhooks()
    ]
    desk: list = []
    if service.app.settings.desk.enabled:
        from bot.desk.routes import desk_routes  # the web desk (jinja2, argon2) only when served

        desk = desk_routes(service.app, service.clock)
    charts = CHARTS_PATH + "/{name}"
    documents = DOCUMENTS_PATH + "/{name}"
    return Starlette(
        routes=[
            *webhooks,
            Route("/healthz", timed("/healthz", healthz), methods=["GET"]),
            Route("/metrics", timed("/metrics", metrics_page), methods=["GET"]),
            Route(charts, timed(charts, chart), methods=["GET"]),
            Route(documents, timed(documents, document), methods=["GET"]),
            *desk,
        ],
        lifespan=lifespan,
    )


async def _file(path, media_type: str) -> Response:
    """A file served to the provider by its unguessable name (never cached); 404 without one."""
    if path is None:
        return Response(status_code=404)
    try:
        content = await run_in_threadpool(path.read_bytes)
    except OSError:
        return Response(status_code=404)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return Response(content, media_type=media_type, headers=headers)


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


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _refuse(status: int, headers: dict[str, str] | None = None) -> Response:
    """A refusal that closes the connection: what is left of the body is not waited for."""
    return Response(status_code=status, headers={**(headers or {}), "Connection": "close"})


async def _settle(service: Service, accepted: Store | Record) -> Response:
    """Store the message (or do the channel's other work) in a thread: the channel's answer,
    or 503 when that failed."""
    if isinstance(accepted, Store):
        try:
            await service.store(accepted.incoming)
        except Exception as exc:
            return _failure_response(accepted.incoming.channel, exc)
        if accepted.then is not None:
            accepted.then()
        return accepted.answer
    try:
        await service.in_writer(accepted.work, service)
    except Exception as exc:
        return _failure_response(accepted.what, exc)
    return accepted.answer


def _failure_response(what: str, exc: Exception) -> Response:
    """Nothing was stored: 503, so that the provider delivers the message again."""
    log_failure(log, what, exc)
    return Response(status_code=503, headers={"Retry-After": "5"})
