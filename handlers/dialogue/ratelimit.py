"""Per-sender message limits: past `limits.messages_per_minute` a person is told once to slow
down, and what they send until the minute is over is stored but not answered.

The count lives on the contact row, which intake has already loaded and locked, so the limit
costs no query of its own and holds across service processes and restarts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from storage.models import Contact

WINDOW = timedelta(minutes=1)


class Admission(Enum):
    ANSWER = "answer"  # within the limit: the dialogue answers
    WARN = "warn"  # the first message over it: one "más despacio" reply
    QUIET = "quiet"  # the rest of the minute: stored, not answered


def admit(contact: Contact, now: datetime, per_minute: int) -> Admission:
    """Count one message in the sender's current minute; 0 disables the limit."""
    if per_minute <= 0:
        return Admission.ANSWER
    started = contact.burst_started_at
    if started is None or not started <= now < started + WINDOW:
        contact.burst_started_at, contact.burst_count = now, 1
        return Admission.ANSWER
    contact.burst_count += 1
    if contact.burst_count <= per_minute:
        return Admission.ANSWER
    return Admission.WARN if contact.burst_count == per_minute + 1 else Admission.QUIET
