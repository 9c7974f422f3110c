"""What every chat channel shares: the ways a payload can be refused, media kinds, and logging
a failure without what the message said."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from bot.config import Settings

# The weekly summary's charts, served by bot/server.py for Twilio to fetch (WhatsApp takes an
# image only by URL).
CHARTS_PATH = "/reports/charts"


class Malformed(Exception):
    """The payload is not what the provider sends (answered 400)."""


class NotOurs(Exception):
    """A genuine payload meant for another number or bot (answered 403)."""


def media_kind(content_type: str | None) -> str:
    """photo, video, audio or document, from a MIME type."""
    major = (content_type or "").partition("/")[0]
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "document")


def media_limit(settings: Settings) -> int:
    """The largest file a channel's media fetcher downloads, in bytes."""
    return int(settings.media.max_mb * 1024 * 1024)


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log where in our code storing failed, not what it said: database and library messages may
    quote a number or a message body."""
    frames = [
        f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno} "
        f"in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in frame.filename
    ]
    log.error("%s: not stored (%s) at %s", what, type(exc).__name__, " < ".join(frames[::-1][:4]))
