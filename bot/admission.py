"""Admission control for the webhooks: a bounded number of requests at work, a short bounded
line for the next ones, and 503 at once for the rest, so that overload never piles up in memory.

A provider that gets 503 delivers the message again later (Telegram always; Twilio as its
webhook is configured), so refusing early loses nothing and keeps the answers fast.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Engine

WAIT_SECONDS = 2.0  # the longest a request waits in line for a free slot
LINE_FACTOR = 4  # the line holds this many times the slots


def default_limit(engine: Engine) -> int:
    """Four times the database pool's size (20 on SQLite, 40 on PostgreSQL): more at once would only
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
