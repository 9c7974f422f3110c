"""Row ids that are times, for the tables whose rows can leave for an anonymous case.

When a conversation becomes an anonymous denuncia, its messages, attachments, outbox rows and
case events are deleted and written again apart (negative ids: `repositories.detached_id`).
Counted ids would leave a hole where they stood, between other people's rows with exact times,
and those times would date what is missing. So these tables number a row by the microsecond it
is written: the ids around a moved row show how much time passed, never how many rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TIMED_TABLES = ("messages", "attachments", "outbox", "case_events")


class IdClock:
    """Strictly increasing ids, each the microsecond it was drawn (since 1970; below 2**53, safe
    in JavaScript, until the year 2255).

    When the wall clock is not ahead of the last id given (two ids in one microsecond, the clock
    set back, or ids taken over from a process whose clock is ahead), the next id is the last one
    plus the time really elapsed since it was drawn (at least one): the ids go on measuring time,
    never become a count in which a missing row would show.
    """

    def __init__(
        self,
        clock_ns: Callable[[], int] = time.time_ns,
        elapsed_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._clock_ns, self._elapsed_ns = clock_ns, elapsed_ns
        self._last = 0
        self._last_at = 0  # the elapsed-time clock when the last id was drawn, in microseconds
        self._lock = threading.Lock()

    def next(self) -> int:
        """A new id: now, or the last one plus the time elapsed since."""
        now, at = self._clock_ns() // 1000, self._elapsed_ns() // 1000
        with self._lock:
            if self._last:
                now = max(now, self._last + max(1, at - self._last_at))
            self._last, self._last_at = now, at
            return now

    def taken(self, row_id: int) -> None:
        """Another process wrote a row with this id, or a row that must come before the next
        ones: the next ids are drawn above it."""
        at = self._elapsed_ns() // 1000
        with self._lock:
            if row_id > self._last:
                self._last, self._last_at = row_id, at


# One per process: the ids of a process increase whatever the unit of work or engine that
# writes them, so rows keep the order they were written in (the outbox sends in that order).
PROCESS_IDS = IdClock()


def timed_id() -> int:
    """An id from this process's clock: the columns' default, for rows written without one."""
    return PROCESS_IDS.next()
