"""Reading a Telegram update as the Bot API sends it (JSON objects), without building
python-telegram-bot's objects: only the fields a case needs are read, each checked for its type.
Building the library's objects cost 82.8 µs of CPU per update against 3.6 µs here (about 1 %
of a message in the intake benchmark, docs/performance.md); sending still goes through the
library.

Every function raises `Malformed` when a field it reads has the wrong type."""

from __future__ import annotations

import re
from typing import Any

from bot.channels.common import Malformed
from handlers.core.messages import Location, Media

# The parts of a message that carry a file, in the order they are looked for: the attribute,
# the kind of media, and the content type assumed when none is declared.
FILE_PARTS = (
    ("video", "video", "video/mp4"),
    ("video_note", "video", "video/mp4"),
    ("voice", "audio", "audio/ogg"),
    ("audio", "audio", "audio/mpeg"),
    ("document", "document", "application/octet-stream"),
)


def obj(value: object, what: str) -> dict[str, Any]:
    """A JSON object, required."""
    if not isinstance(value, dict):
        raise Malformed(what)
    return value


def optional_obj(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A JSON object that may be absent (or null)."""
    value = parent.get(key)
    return None if value is None else obj(value, key)


def integer(value: object, what: str) -> int:
    """A whole number (true and false are not numbers, though Python says they are)."""
    if type(value) is not int:
        raise Malformed(what)
    return value


# Half of a UTF-16 pair alone: valid JSON ("\ud800"), but no character; no database stores it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text(value: object, what: str = "text") -> str:
    """A string, or "" when absent; half a character (a lone surrogate) becomes U+FFFD, so the
    rest of the message is kept rather than refused each time the update is delivered again."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(what)
    return _LONE_SURROGATE.sub("\ufffd", value)


def is_bot(user: dict[str, Any]) -> bool:
    flag = user.get("is_bot", False)
    if not isinstance(flag, bool):
        raise Malformed("is_bot")
    return flag


def full_name(user: dict[str, Any]) -> str:
    """First and last name, as Telegram shows them."""
    first = text(user.get("first_name"), "first_name")
    last = text(user.get("last_name"), "last_name")
    return f"{first} {last}" if last else first


def message_text(message: dict[str, Any]) -> str:
    """The words of a message: its text, a file's caption, or a shared contact card."""
    return (
        text(message.get("text"))
        or text(message.get("caption"), "caption")
        or contact_text(message)
    )


def contact_text(message: dict[str, Any]) -> str:
    """A shared contact card becomes a line of the case: the name and the number given."""
    card = optional_obj(message, "contact")
    if card is None:
        return ""
    names = (text(card.get("first_name"), "contact"), text(card.get("last_name"), "contact"))
    name = " ".join(part for part in names if part)
    return f"{name} {text(card.get('phone_number'), 'contact')}".strip()


def media(message: dict[str, Any]) -> tuple[Media, ...]:
    """The message's file, if it carries one (of a photo, its largest size)."""
    photo = message.get("photo")
    if photo:
        if not isinstance(photo, list):
            raise Malformed("photo")
        largest = obj(photo[-1], "photo")
        return (Media("photo", text(largest.get("file_id"), "file_id"), "image/jpeg"),)
    for attribute, kind, default_type in FILE_PARTS:
        item = optional_obj(message, attribute)
        if item is not None:
            content_type = text(item.get("mime_type"), "mime_type") or default_type
            return (Media(kind, text(item.get("file_id"), "file_id"), content_type[:100]),)
    return ()


def location(message: dict[str, Any]) -> Location | None:
    """A pin, or a place picked from the map (a venue, with its name and address)."""
    venue = optional_obj(message, "venue")
    place = optional_obj(venue, "location") if venue is not None else None
    if place is None:
        place = optional_obj(message, "location")
    if place is None:
        return None
    latitude, longitude = degrees(place.get("latitude")), degrees(place.get("longitude"))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Malformed("coordinates")
    if venue is None:
        return Location(latitude, longitude)
    return Location(
        latitude,
        longitude,
        text(venue.get("address"), "address") or None,
        text(venue.get("title"), "title") or None,
    )


def degrees(value: object) -> float:
    if type(value) not in (int, float):
        raise Malformed("coordinates")
    return float(value)  # type: ignore[arg-type]
