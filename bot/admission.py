"""Admission control for the webhooks: a bounded number of requests at work, a short bounded
line for the next ones, and 503 at once for the rest, so that overload never piles up in memory;
and the addresses whose forged requests are slowed.

A provider that gets 503 delivers the message again later (Telegram always; Twilio as its
webhook is configured), so refusing early loses nothing and keeps the answers fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from sqlalchemy import Engine

WAIT_SECONDS = 2.0  # the longest a request waits in line for a free slot
LINE_FACTOR = 4  # the line holds this many times the slots


def default_limit(engine: Engine) -> int:
    """Four times the database pool's size (40 on either database): more at once would only
    wait for a connection, holding memory and threads."""
    size = getattr(engine.pool, "size", None)
    return 4 * size() if callable(size) else 20


class Admission:
    """At most `limit` requests at work, at most `line` more waiting up to `wait` seconds."""

    def __init__(self, limit: int, *, line: int | None = None, wait: float = WAIT_SECONDS):
        self.limit = limit
        self.line = LINE_FACTOR * limit if line is None else line
        self.wait = wait
        self._slots = asyncio.Semaphore(limit)
        self._waiting = 0

    @property
    def inflight(self) -> int:
        """Requests at work now."""
        return self.limit - self._slots._value

    @property
    def waiting(self) -> int:
        """Requests waiting in line now."""
        return self._waiting

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """Yields whether the request may go on; the slot is freed when it is done."""
        admitted = await self._acquire()
        try:
            yield admitted
        finally:
            if admitted:
                self._slots.release()

    async def _acquire(self) -> bool:
        if not self._slots.locked():
            await self._slots.acquire()  # a slot is free: returns at once
            return True
        if self._waiting >= self.line:
            return False
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1
        return True


FAILURES = 20  # refused signatures from one address within WINDOW before it is slowed
WINDOW = 60.0
PENALTY_SECONDS = 60.0  # how long its refusals are then slowed
PENALTY_DELAY = 1.0  # a refused request from a slowed address waits this long for its 429
ADDRESSES = 10_000  # addresses remembered at most; the least recently refused are forgotten


def address_key(host: str | None) -> str:
    """The address failures are counted by: the host, or its /64 for IPv6, since one client
    usually holds a whole /64."""
    if not host:
        return ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class Penalties:
    """Addresses that sent too many forged webhooks lately, in bounded memory.

    Only refusals are slowed: a correctly signed request is served at once from any address,
    because the providers send from shared addresses that someone else's Twilio account or
    Telegram bot, pointed at this service, can make send forged requests too."""

    def __init__(
        self,
        *,
        failures: int = FAILURES,
        window: float = WINDOW,
        penalty: float = PENALTY_SECONDS,
        capacity: int = ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures, self.window, self.penalty = failures, window, penalty
        self.capacity, self.clock = capacity, clock
        # address -> [start of its window, failures in it, slowed until]
        self._records: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def slowed_for(self, address: str) -> float:
        """Seconds the address's refusals are still slowed for (0 when they are not)."""
        record = self._records.get(address)
        return max(0.0, record[2] - self.clock()) if record else 0.0

    def failed(self, address: str) -> bool:
        """Count a refused signature; True when this one starts the address's penalty."""
        now = self.clock()
        record = self._records.get(address)
        if record is None or now - record[0] >= self.window:
            record = [now, 0.0, record[2] if record else 0.0]
            self._records[address] = record
        self._records.move_to_end(address)
        while len(self._records) > self.capacity:
            self._records.popitem(last=False)
        record[1] += 1
        if record[1] >= self.failures and record[2] <= now:
            record[2] = now + self.penalty
            return True
        return False
