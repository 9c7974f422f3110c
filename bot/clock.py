"""The clock used everywhere outside tests (its own module: the command line starts with it)."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)
