"""Per-sender message limits: past `limits.messages_per_minute` a person is told once to slow
down, and what they send until the minute is over is stored but not answered.

The counts live in the process's memory only. Stored on the person's row they would keep the
times of their last messages, and, after an anonymous report, a count that no longer matches the
messages linked to them: a mark of having made one. Each service process counts on its own, and
a restart starts every count again, which is enough to slow a flood.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from enum import Enum

from storage.models import Contact, day_start

WINDOW = timedelta(minutes=1)
SENDERS = 100_000  # senders remembered at most; the least recent are forgotten first


class Admission(Enum):
    ANSWER = "answer"  # within the limit: the dialogue answers
    WARN = "warn"  # the first message over it: one "más despacio" reply
    QUIET = "quiet"  # the rest of the minute: stored, not answered


class Bursts:
    """Each sender's messages in their current minute."""

    def __init__(self, capacity: int = SENDERS) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._bursts: OrderedDict[tuple[str, str], tuple[datetime, int]] = OrderedDict()

    def admit(self, sender: tuple[str, str], now: datetime, per_minute: int) -> Admission:
        """Count one message in the sender's current minute; 0 disables the limit."""
        if per_minute <= 0:
            return Admission.ANSWER
        with self._lock:
            started, count = self._bursts.pop(sender, (None, 0))
            if started is None or not started <= now < started + WINDOW:
                started, count = now, 0
            count += 1
            self._bursts[sender] = (started, count)
            if len(self._bursts) > self._capacity:
                self._bursts.popitem(last=False)
        if count <= per_minute:
            return Admission.ANSWER
        return Admission.WARN if count == per_minute + 1 else Admission.QUIET


class Strangers:
    """Numbers with no contact row that ask about an anonymous code: a row made for the
    question would tell that the number asked about one (only an anonymous reporter holds a
    code), so none is made. They stand for such a number in its turn, with the count of the
    folios and codes it mistyped (casework/cases.py count_miss), in this process's memory only."""

    def __init__(self, capacity: int = SENDERS) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, str], Contact] = OrderedDict()

    def contact(self, channel: str, address: str, now: datetime) -> Contact:
        """The number's stand-in, never stored (its misses kept from earlier turns)."""
        with self._lock:
            contact = self._known.pop((channel, address), None)
            if contact is None:
                contact = Contact(channel=channel, address=address, created_at=day_start(now))
            self._known[(channel, address)] = contact
            if len(self._known) > self._capacity:
                self._known.popitem(last=False)
        return contact

    def forget(self, channel: str, address: str) -> None:
        """The number has a row of its own now."""
        with self._lock:
            self._known.pop((channel, address), None)


# How long after a piece of a code ("N9DX-8QAB") the groups that complete it are awaited.
PIECE_WINDOW = timedelta(minutes=10)


class CodePieces:
    """Who just sent a piece of a code, and how many of its groups: their next message, if it
    is only the groups that complete it ("TTTT", "8888"), is a piece too, however plain. In
    this process's memory only: stored, it would tell that the number asked about a code."""

    def __init__(self, capacity: int = SENDERS) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._pieces: OrderedDict[tuple[str, str], tuple[datetime, int]] = OrderedDict()

    def before(self, sender: tuple[str, str], now: datetime) -> int:
        """The groups of a code the sender's last message held, when it was a piece of one
        sent lately (0 otherwise)."""
        with self._lock:
            at, groups = self._pieces.get(sender, (None, 0))
        return groups if at is not None and at <= now < at + PIECE_WINDOW else 0

    def note(self, sender: tuple[str, str], now: datetime, groups: int, before: int) -> None:
        """What the sender's message just handled was: `groups` of a code (0: no piece)."""
        total = before + groups if groups else 0
        with self._lock:
            self._pieces.pop(sender, None)
            if 0 < total < 3:
                self._pieces[sender] = (now, total)
                if len(self._pieces) > self._capacity:
                    self._pieces.popitem(last=False)
