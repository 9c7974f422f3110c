"""The outbox dispatcher: sends what the handlers queued, in order per recipient, paced per
channel, retried with backoff, and never twice except in one documented window.

Every reply is first an outbox row, committed with what caused it. The dispatcher claims rows
(a lease, so that several service processes can share the work), sends them through the
channel's sender, and records the provider's message id. The one window for a duplicate is a
crash (or a lost connection to the database) after the provider accepted a message and before
the row is marked sent: when the lease expires the row is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.documents import document_links
from handlers.casework import actions as casework
from handlers.casework import documents, notifications
from handlers.casework.notifications import Event
from handlers.core.messages import Option, Reply
from handlers.dialogue.intake import REPLY_WINDOW, queue
from storage.engine import purge_pending, retry_purge
from storage.models import OutboxItem

log = logging.getLogger(__name__)

PURGE_RETRY_SECONDS = 5  # how soon a rebuild that readers got in the way of is tried again
# A document whose photos are still being downloaded waits for them this long at most, looking
# again every few seconds (what follows it to the same person waits too).
ANNEX_WAIT_SECONDS = 60.0
ANNEX_RETRY_SECONDS = 3.0


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a sender sees it."""

    id: int
    channel: str
    address: str
    text: str
    options: tuple[Option, ...]
    folio: str | None  # of the case it is about, when a template may need it
    window_open: bool  # the citizen wrote in the last 24 hours
    photo: str | None = None  # an image file to send, the text as its caption (staff only)
    # The provider's id of a message sent earlier whose buttons become `options` (no new message).
    edit: str | None = None
    # A document of the case to send as a file (rendered by the sender), the text its caption.
    document: documents.Document | None = None


@dataclass(frozen=True)
class Sent:
    provider_id: str
    # A file published for the provider to fetch (a document on WhatsApp): kept with the row,
    # so that an erasure deletes it with the row before its link expires.
    file: str | None = None


@dataclass(frozen=True)
class RetryLater:
    """The provider asked us to slow down: wait, without using up an attempt."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class Transient:
    """A failure that may pass (network, provider error 5xx): retried with backoff."""

    reason: str


@dataclass(frozen=True)
class Permanent:
    """A failure that will not pass (blocked bot, invalid number): given up at once."""

    reason: str


@dataclass(frozen=True)
class Held:
    """Not sendable now (outside the messaging window): kept until the citizen writes."""

    reason: str
    announced: bool = False  # a template telling the citizen was just sent


@dataclass(frozen=True)
class Moved:
    """The chat has a new address (a Telegram group became a supergroup): sent there instead,
    with everything else still queued for it."""

    address: str
    reason: str = "chat migrated"


Outcome = Sent | RetryLater | Transient | Permanent | Held | Moved


class Sender(Protocol):
    """A channel's way out."""

    channel: str
    messages_per_second: float  # overall pace for the channel
    needs_window: bool  # whether free-form messages need the citizen to have written lately

    def per_chat_interval(self, address: str) -> float:
        """Seconds between two messages to the same chat."""
        ...

    async def send(self, delivery: Delivery) -> Outcome: ...

    async def close(self) -> None:
        """Let go of connections (the service is stopping)."""
        ...


class Pacer:
    """Spaces sends: at most `rate` per second overall and one per `interval(address)` seconds
    per chat. The times it decides are kept (the last `KEPT`), so that the pace can be checked
    where it is decided rather than where the messages happen to arrive."""

    KEPT = 1000

    def __init__(
        self,
        rate: float,
        interval: Callable[[str], float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.step = 1.0 / rate
        self.interval = interval
        self.clock, self.sleep = clock, sleep
        self.next_slot = 0.0
        self.last_to: dict[str, float] = {}
        self.paused_until = 0.0
        self.decided: deque[tuple[str, float]] = deque(maxlen=self.KEPT)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self, address: str) -> None:
        now = self.clock()
        slot = max(now, self.next_slot, self.paused_until)
        slot = max(slot, self.last_to.get(address, 0.0) + self.interval(address))
        self.next_slot = max(self.next_slot, slot) + self.step
        self.last_to[address] = slot
        if slot > now:
            await self.sleep(slot - now)
        self.last_to[address] = max(slot, self.clock())
        self.decided.append((address, self.last_to[address]))
        if len(self.last_to) > 10_000:
            horizon = self.clock() - 10
            self.last_to = {a: t for a, t in self.last_to.items() if t >= horizon}


class Recorder:
    """Records outcomes in shared transactions: what finished while one batch was being
    written goes into the next, so under load one commit covers many sends and, when it is
    quiet, each is written at once."""

    def __init__(self, write: Callable[[list[tuple[Delivery, Outcome]]], None]) -> None:
        self._write = write
        self._waiting: list[tuple[Delivery, Outcome, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def record(self, delivery: Delivery, outcome: Outcome) -> None:
        """Return once the outcome is committed; raise if it could not be."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, outcome, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self._write, [(d, o) for d, o, _ in batch])
            except BaseException as exc:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError())
                if not isinstance(exc, Exception):
                    raise
            else:
                for *_, done in batch:
                    if not done.done():
                        done.set_result(None)


class Dispatcher:
    """Sends pending outbox rows for every channel that has a sender."""

    def __init__(
        self,
        app,
        senders: list[Sender],
        clock: Callable[[], datetime],
        *,
        staff_chat: tuple[str, str] | None = None,
        max_attempts: int = 8,
        backoff: float = 2.0,
        max_backoff: float = 600.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 50,
        concurrency: int = 8,
        poll_interval: float = 1.0,
        dead_after: float = 5.0,
    ) -> None:
        self.app = app
        self.senders = {sender.channel: sender for sender in senders}
        self.clock = clock
        self.staff_chat = staff_chat
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self._wakeups: dict[str, asyncio.Event] = {}
        self._pacers: dict[str, Pacer] = {}
        self._records = Recorder(self.settle_many)
        # Channels whose provider reports deliveries later (Twilio's status callbacks).
        # Told (after the commit) when a chat moved: the service follows the staff group.
        self.chat_moved: Callable[[str, str, str], None] | None = None
        self.reporting_channels = {
            s.channel for s in senders if getattr(s, "reports_delivery", False)
        }
        self._stopping = False
        self._stopped: asyncio.Event | None = None  # made in `run`, inside its event loop
        # This process's claims are its own: once its heartbeat stops for `dead_after` seconds
        # (it crashed), another process, or this one restarted, takes them over.
        self.instance = str(uuid.uuid4())
        self.dead_after = timedelta(seconds=dead_after)
        self._fenced_after: float | None = None  # monotonic time past which it must not send
        self._unsent: set[int] = set()  # claimed, then not sent while its heartbeat was late
        self._beat_thread = ThreadPoolExecutor(1, thread_name_prefix="outbox-heartbeat")
        self._annex_waits: dict[int, float] = {}  # row id: when it first waited for photos
        # With several processes possible (PostgreSQL), the providers' overall rate is kept in
        # the database; SQLite is served by one process, whose own pace is the whole of it.
        engine = getattr(app, "engine", None)
        self.shared_pacing = engine is not None and engine.dialect.name == "postgresql"

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        for event in self._wakeups.values():
            event.set()

    def stop(self) -> None:
        """Claim nothing more; what is being sent is finished and recorded."""
        self._stopping = True
        if self._stopped is not None:
            self._stopped.set()
        self.wake()

    async def close(self) -> None:
        """Let the senders go of their connections (after `stop`, once sending is over); a
        rebuild still owed after an erasure is done now, with nothing else reading."""
        self._beat_thread.shutdown(wait=False)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(retry_purge, self.app.engine)
        for sender in self.senders.values():
            with contextlib.suppress(Exception):
                await sender.close()

    async def run(self) -> None:
        """Serve every channel until cancelled, with this process's heartbeat beside."""
        self._stopped = asyncio.Event()
        if self._stopping:
            self._stopped.set()
        log.debug("outbox: sending for %s", ", ".join(sorted(self.senders)) or "no channel")
        await self._beat()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._heartbeat())
            group.create_task(self._purges())
            for sender in self.senders.values():
                group.create_task(self._serve(sender))

    async def _heartbeat(self) -> None:
        every = self.dead_after.total_seconds() / 5
        while not self._stopping:
            await self._rest(every)
            await self._beat()

    async def _purges(self) -> None:
        """An erasure's rebuild of the database that readers got in the way of is tried again
        every few seconds until it is done: what was erased must not wait for the night. Expired
        documents are deleted on the same beat."""
        while not self._stopping:
            await self._rest(PURGE_RETRY_SECONDS)
            if self._stopping:
                break
            await asyncio.get_running_loop().run_in_executor(
                self._beat_thread, self._prune_early_reports
            )
            await asyncio.get_running_loop().run_in_executor(
                self._beat_thread, self.prune_documents
            )
            if purge_pending(self.app.engine):
                await asyncio.get_running_loop().run_in_executor(
                    self._beat_thread, retry_purge, self.app.engine
                )

    async def _rest(self, seconds: float) -> None:
        """Wait `seconds`, or less when the dispatcher is stopped meanwhile (a stopping service
        does not wait out a pause of these loops)."""
        if self._stopped is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _prune_early_reports(self) -> None:
        """Delivery reports kept for sends not recorded are dropped after a few minutes: those
        about confidential sends, which are never recorded, must not keep their time."""
        try:
            with self.app.uow() as uow:
                uow.outbox.prune_early_reports(self.clock())
                uow.commit()
        except Exception as exc:
            log.warning("outbox: early delivery reports not pruned (%s)", _kind(exc))

    def prune_documents(self) -> int:
        """Documents whose links expired are deleted within seconds: a file left in the folder
        would date when it was sent (an anonymous denuncia's constancia, for one); how many."""
        try:
            return document_links(self.app.settings).prune()
        except Exception as exc:
            log.warning("outbox: documents not pruned (%s)", _kind(exc))
            return 0

    async def _beat(self) -> None:
        """Say this process is alive. Until the next beat succeeds it sends only within half
        the time after which the others take its claims over: a process cut off from the
        database (or frozen) stops sending before its rows can be sent by another."""
        started = time.monotonic()
        try:
            # In a thread of its own: not queued behind the claims and records of a busy
            # moment in the shared pool, which would make it late for no reason.
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._beat_thread, self._record_beat)
        except Exception as exc:
            log.warning("outbox: heartbeat not recorded (%s)", _kind(exc))
            self.app.metrics.database_errors.labels("heartbeat").inc()
            if self._fenced_after is None:
                self._fenced_after = started  # never beat: sends nothing until it does
            return
        self._fenced_after = started + self.dead_after.total_seconds() * 0.6

    def _record_beat(self) -> None:
        with self.app.uow() as uow:
            uow.outbox.heartbeat(self.instance, self.clock(), self.dead_after)
            uow.commit()

    def _take_unsent(self) -> list[int]:
        unsent, self._unsent = list(self._unsent), set()
        return unsent

    def _may_send(self) -> bool:
        return self._fenced_after is None or time.monotonic() < self._fenced_after

    async def _serve(self, sender: Sender) -> None:
        wakeup = self._wakeups.setdefault(sender.channel, asyncio.Event())
        while not self._stopping:
            wakeup.clear()
            try:
                claimed = await self.send_due(sender.channel)
            except Exception as exc:  # a defect must not stop the channel's sending for good
                log.error("outbox: %s dispatcher error (%s)", sender.channel, _kind(exc))
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), self.poll_interval)

    async def send_due(self, channel: str) -> int:
        """Claim and send one batch of due rows of a channel; how many were claimed."""
        sender = self.senders[channel]
        pacer = self._pacers.setdefault(
            channel, Pacer(sender.messages_per_second, sender.per_chat_interval)
        )
        try:
            deliveries = await asyncio.to_thread(self.claim, sender)
        except Exception as exc:  # the database is away: try again later
            log.warning("outbox: cannot claim %s rows (%s)", channel, _kind(exc))
            self.app.metrics.database_errors.labels("claim").inc()
            return 0
        if deliveries and self.shared_pacing:
            try:
                delay = await asyncio.to_thread(self._reserve, channel, len(deliveries), pacer.step)
            except Exception as exc:  # the database is away: the local pace still holds
                log.warning("outbox: cannot reserve %s slots (%s)", channel, _kind(exc))
            else:
                pacer.next_slot = max(pacer.next_slot, pacer.clock() + delay)
        limit, claimed_at = asyncio.Semaphore(self.concurrency), time.monotonic()
        async with asyncio.TaskGroup() as group:
            for delivery in deliveries:
                group.create_task(self._deliver(sender, delivery, pacer, limit, claimed_at))
        return len(deliveries)

    def _reserve(self, channel: str, count: int, step: float) -> float:
        """Reserve this batch's sending slots in the channel's shared pace (PostgreSQL, where
        several processes send for one provider account): seconds until the first. Real time,
        whatever the dispatcher's clock: it is the provider's rate that is kept."""
        now = datetime.now(UTC)
        with self.app.uow() as uow:
            start = uow.outbox.reserve_slots(channel, count, step, now)
            uow.commit()
        return max(0.0, (start - now).total_seconds())

    def claim(self, sender: Sender) -> list[Delivery]:
        """Lease the rows that are due and first in line for their recipient."""
        now = self.clock()
        with self.app.uow() as uow:
            items = uow.outbox.claim(
                sender.channel,
                now,
                now + self.lease,
                self.batch,
                owner=self.instance,
                dead_since=now - self.dead_after,
                again=self._take_unsent(),
            )
            deliveries = [self._delivery(uow, sender, item, now) for item in items]
            uow.commit()
        return deliveries

    def _delivery(self, uow, sender: Sender, item: OutboxItem, now: datetime) -> Delivery:
        options = tuple(Option(o["key"], o["label"]) for o in item.options.get("options", []))
        window_open = not sender.needs_window or self._window_open(uow, item, now)
        return Delivery(
            id=item.id,
            channel=item.channel,
            address=item.address,
            text=item.body,
            options=options,
            folio=None if window_open else self._folio(uow, item),
            window_open=window_open,
            photo=item.options.get("photo"),
            edit=item.options.get("edit"),
            document=self._document(uow, item, now),
        )

    def _document(self, uow, item: OutboxItem, now: datetime) -> documents.Document | None:
        """The document a row carries, built as the case now stands (None: none, or its case
        is gone, and the text goes alone)."""
        wanted = item.options.get("document")
        if not wanted:
            return None
        return documents.build(uow, self.app.policy, wanted["kind"], wanted["case_id"], now)

    def _waits_for_annexes(self, delivery: Delivery) -> bool:
        """Whether a document should wait a little for photos still being downloaded."""
        if delivery.document is None or not delivery.document.waiting:
            self._annex_waits.pop(delivery.id, None)
            return False
        first = self._annex_waits.setdefault(delivery.id, time.monotonic())
        if time.monotonic() - first < ANNEX_WAIT_SECONDS:
            return True
        self._annex_waits.pop(delivery.id, None)  # sent with the photos it has
        return False

    @staticmethod
    def _folio(uow, item: OutboxItem) -> str | None:
        return uow.cases.folio_of_message(item.message_id) if item.message_id else None

    @staticmethod
    def _window_open(uow, item: OutboxItem, now: datetime) -> bool:
        """Whether the recipient wrote in the last 24 hours (replies carry their window)."""
        if item.window_until is not None and now < item.window_until:
            return True
        last = uow.messages.last_incoming_at(item.channel, item.address)
        return last is not None and now < last + REPLY_WINDOW

    async def _deliver(
        self,
        sender: Sender,
        delivery: Delivery,
        pacer: Pacer,
        limit: asyncio.Semaphore,
        claimed_at: float,
    ) -> None:
        async with limit:
            if self._waits_for_annexes(delivery):
                later = RetryLater(ANNEX_RETRY_SECONDS, "anexos por descargar")
                with contextlib.suppress(Exception):  # else its lease expires: tried again
                    await self._records.record(delivery, later)
                return
            await pacer.wait(delivery.address)
            if time.monotonic() - claimed_at > self.lease.total_seconds() * 0.75:
                return  # waited too long: the lease may pass to another process, which sends it
            if not self._may_send():
                # Its heartbeat is late: the row may be another process's by now. Claimed
                # again at the next round (if still this process's), not left to its lease.
                self._unsent.add(delivery.id)
                return
            try:
                outcome = await sender.send(delivery)
            except Exception as exc:  # an unexpected error in a client library
                outcome = Transient(_kind(exc))
            self._count(delivery.channel, outcome)
            if isinstance(outcome, RetryLater):
                pacer.pause(outcome.seconds)
            # The slot is kept until the outcome is recorded: sends the provider accepted but
            # we have not written down (sent again after a crash) stay at most `concurrency`.
            try:
                await self._records.record(delivery, outcome)
            except Exception as exc:  # the lease expires and the row is tried again
                log.warning("outbox: cannot record a send (%s)", _kind(exc))
                self.app.metrics.database_errors.labels("record").inc()

    def _count(self, channel: str, outcome: Outcome) -> None:
        metrics = self.app.metrics
        metrics.send_attempts.labels(channel).inc()
        if isinstance(outcome, Sent):
            metrics.sent(channel)
        elif not isinstance(outcome, Held) or not outcome.announced:
            metrics.send_failed(channel, type(outcome).__name__.lower(), outcome.reason)

    def settle_many(self, results: list[tuple[Delivery, Outcome]]) -> None:
        """Record what happened to several rows in one transaction; if that fails, each row in
        its own, so that one row's trouble does not leave the others to be sent again."""
        try:
            with self.app.uow() as uow:
                self._settle_all(uow, results)
                uow.commit()
        except Exception:
            if len(results) == 1:
                raise
            for delivery, outcome in results:
                try:
                    self.settle(delivery, outcome)
                except Exception as exc:  # the lease expires and the row is tried again
                    log.warning("outbox: cannot record a send (%s)", _kind(exc))

    def settle(self, delivery: Delivery, outcome: Outcome) -> None:
        """Record what happened to one row."""
        with self.app.uow() as uow:
            self._settle_all(uow, [(delivery, outcome)])
            uow.commit()

    def _settle_all(self, uow, results: list[tuple[Delivery, Outcome]]) -> None:
        """The rows are read and locked as plain values; those simply sent (most of them) are
        marked in two statements for all, the others go through `_settle` as objects (the ORM's
        objects made recording a send cost about three times as much)."""
        now = self.clock()
        rows = uow.outbox.lock([delivery.id for delivery, _ in results])
        sent, others = [], []
        for delivery, outcome in results:
            row = rows.get(delivery.id)
            if row is None or row.status != "pending":
                continue  # sent, failed or forgotten meanwhile (as `_settle` finds it)
            if self._simply_sent(row, delivery, outcome):
                sent.append((row, outcome.provider_id))
            else:
                others.append((delivery, outcome))
        uow.outbox.mark_many_sent(sent, now)
        if others:
            uow.outbox.load([delivery.id for delivery, _ in others])
            for delivery, outcome in others:
                self._settle(uow, delivery, outcome, now)
        self._apply_early_reports(uow, results)

    @staticmethod
    def _simply_sent(row, delivery: Delivery, outcome: Outcome) -> bool:
        """Sent, not confidential, no file to keep and no buttons to take back afterwards."""
        if not isinstance(outcome, Sent) or outcome.file is not None or row.confidential:
            return False
        sent = tuple(option.key for option in delivery.options)
        return not casework.buttons_withdrawn(row.channel, row.options, sent)

    def _settle(self, uow, delivery: Delivery, outcome: Outcome, now: datetime) -> None:
        item = uow.outbox.get(delivery.id)
        if item is None or item.status != "pending":
            return
        match outcome:
            case Sent(provider_id) if item.confidential:
                # Deleted once sent; SQLite's log and free space keep nothing of it either. Not
                # logged: the time of a confidential send is itself a clue.
                uow.outbox.mark_sent(item, provider_id, now)
                uow.purge_after_commit()
            case Sent(provider_id, file):
                uow.outbox.mark_sent(item, provider_id, now, file=file)
                sent = tuple(option.key for option in delivery.options)
                edit = casework.buttons_left_behind(item, sent, provider_id, now)
                if edit is not None:
                    uow.outbox.add(edit)
                # Nothing in the log per send, at any level: a line's time is the send's, and
                # the replies of a conversation that became an anonymous report leave the
                # table (ids are times too). The sends are counted in the metrics instead.
            case RetryLater(seconds, reason):
                at = now + timedelta(seconds=seconds)
                uow.outbox.retry(item, at, reason, counted=False)
            case Transient(reason) if item.attempts + 1 < self.max_attempts:
                delay = min(self.max_backoff, self.backoff * 2**item.attempts)
                at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
                uow.outbox.retry(item, at, reason, counted=True)
                if not item.confidential:  # its id and time would date an anonymous reply
                    log.info("outbox: a row will be retried (%s)", reason)
            case Transient(reason) | Permanent(reason):
                item.attempts += 1
                self._alert(uow, item, now)
                if item.confidential:
                    uow.purge_after_commit()  # its recipient and text are wiped
                row = "a confidential row" if item.confidential else "a row"
                uow.outbox.fail(item, reason)
                log.warning("outbox: %s failed after %s attempts (%s)", row, item.attempts, reason)
            case Held(reason, announced) if self._window_open(uow, item, now):
                # The citizen wrote while this was being tried: it can go now.
                uow.outbox.retry(item, now, reason, counted=False)
            case Held(reason, announced):
                uow.outbox.hold(item, reason, now if announced else None)
            case Moved(address):
                old = item.address
                uow.outbox.record_migration(item.channel, old, address, now)
                log.warning(
                    "outbox: %s chat %s moved to %s; followed (update the settings to the new id)",
                    item.channel,
                    old,
                    address,
                )
                if self.staff_chat == (item.channel, old):
                    self.staff_chat = (item.channel, address)
                uow.outbox.retry(item, now, "chat migrated", counted=False)
                if self.chat_moved is not None:
                    self.chat_moved(item.channel, old, address)

    def delivery_failed(self, channel: str, provider_id: str, failure: Held | Permanent) -> None:
        """The provider accepted a message and reported later that it could not deliver it:
        held for the citizen's next message (outside the window), or failed and the staff told."""
        now = self.clock()
        with self.app.uow() as uow:
            item = uow.outbox.by_provider_id(channel, provider_id)
            if item is None or item.status != "sent":
                return
            self._undelivered(uow, item, failure, now)
            uow.commit()

    def _undelivered(self, uow, item: OutboxItem, failure: Held | Permanent, now) -> None:
        if isinstance(failure, Held):
            uow.outbox.hold(item, failure.reason, None)
        else:
            self._alert(uow, item, now)
            uow.outbox.fail(item, failure.reason)
            log.warning("outbox: a row was not delivered (%s)", failure.reason)

    def _apply_early_reports(self, uow, results: list[tuple[Delivery, Outcome]]) -> None:
        """Delivery reports that arrived before these sends were recorded are applied now
        (only channels whose provider reports later, i.e. with status callbacks)."""
        # Reports are kept by a keyed hash of the provider's id (see keep_early_report).
        hashed = self.app.policy.delivery_hash
        by_channel: dict[str, dict[str, tuple[str, int]]] = {}
        for delivery, outcome in results:
            if isinstance(outcome, Sent) and delivery.channel in self.reporting_channels:
                sent = (outcome.provider_id, delivery.id)
                by_channel.setdefault(delivery.channel, {})[hashed(outcome.provider_id)] = sent
        now = self.clock()
        for channel, ids in by_channel.items():
            for report in uow.outbox.take_early_reports(channel, list(ids)):
                provider_id, row_id = ids[report.provider_id]
                uow.messages.set_delivery_status(channel, provider_id, report.status)
                item = uow.outbox.get(row_id)
                if report.failure is None or item is None or item.status != "sent":
                    continue
                reason = report.reason or report.status
                failure = Held(reason) if report.failure == "held" else Permanent(reason)
                self._undelivered(uow, item, failure, now)

    def _alert(self, uow, item: OutboxItem, now: datetime) -> None:
        """Tell the staff the notification rules name that a message was not delivered (the
        staff group and every active member, on the channels that can send; nobody when the
        message was for one of them). Called before the row is marked failed, which forgets
        a confidential row's recipient."""
        texts = self.app.policy.texts
        text = texts(
            "staff.delivery_failed",
            folio=self._folio(uow, item) or "-",
            channel=texts(f"labels.channel.{item.channel}"),
            attempts=texts.plural("amounts.attempts", max(item.attempts, 1)),
        )
        recipients = notifications.recipients(
            Event.DELIVERY_FAILED,
            notifications.staff_for(Event.DELIVERY_FAILED, uow),
            staff_chat_id=self.staff_chat[1] if self.staff_chat else 0,
            channels=self.senders,
            failed=(item.channel, item.address),
        )
        alerts = [Reply(channel, address, text, to_staff=True) for channel, address in recipients]
        queue(uow, alerts, now)


def _kind(exc: BaseException) -> str:
    """What went wrong, without the message (which may hold a number or a text)."""
    return type(exc).__name__
