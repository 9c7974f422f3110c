"""What every chat channel shares: the ways a payload can be refused, and splitting texts."""

from __future__ import annotations


class Malformed(Exception):
    """The payload is not what the provider sends (answered 400)."""


class NotOurs(Exception):
    """A genuine payload meant for another number or bot (answered 403)."""


def media_kind(content_type: str | None) -> str:
    """photo, video, audio or document, from a MIME type."""
    major = (content_type or "").partition("/")[0]
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "document")


def chunks(text: str, limit: int) -> list[str]:
    """Split a text into pieces of at most `limit` characters, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    pieces.append(current)
    return pieces
