"""What every chat channel shares: the ways a payload can be refused, and media kinds."""

from __future__ import annotations


class Malformed(Exception):
    """The payload is not what the provider sends (answered 400)."""


class NotOurs(Exception):
    """A genuine payload meant for another number or bot (answered 403)."""


def media_kind(content_type: str | None) -> str:
    """photo, video, audio or document, from a MIME type."""
    major = (content_type or "").partition("/")[0]
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "document")
