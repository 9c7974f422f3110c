"""Incoming and Reply: the only contract between the channels and the logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Some channels (WhatsApp) accept free-form replies only this long after the person last wrote;
# later messages wait for them to write again, or are announced with an approved template.
REPLY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Media:
    """A file the person sent, by the provider's reference (downloaded later, elsewhere)."""

    kind: str  # photo, video, audio, document
    ref: str
    content_type: str | None = None


@dataclass(frozen=True)
class Location:
    """A shared pin, with whatever the provider says about the place."""

    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One message from a person, already verified and translated by its channel."""

    channel: str
    address: str
    provider_id: str
    received_at: datetime
    text: str = ""
    name: str | None = None
    media: tuple[Media, ...] = ()
    location: Location | None = None
    # Set only for messages in a group chat (the Telegram staff chat): who wrote it. `address`
    # is then the chat, where answers go; staff are recognised by `sender_id`.
    sender_id: str | None = None


@dataclass(frozen=True)
class Option:
    """One choice offered: what to type (or what a button sends) and what it says."""

    key: str
    label: str

    def shown(self, *, typed: bool) -> str:
        """How the option reads: numbered when its key is a number; with the key to type when
        it is typed rather than pressed."""
        if self.key.isdigit():
            return f"{self.key}. {self.label}"
        return f"{self.label}: {self.key}" if typed else self.label


@dataclass(frozen=True)
class DocumentRef:
    """A PDF to send with a reply: which document of which case (handlers.casework.documents);
    it is built and rendered when the reply is sent."""

    kind: str  # "constancia" or "solicitud"
    case_id: int


@dataclass(frozen=True)
class Reply:
    """One message to send to a person; channels render the options their own way."""

    channel: str
    address: str
    text: str
    options: tuple[Option, ...] = field(default=())
    case_id: int | None = None
    confidential: bool = False  # forgotten once sent: an anonymous case's secret code
    # A notice about a case held this long, so that the next ones about it within that time
    # go in the same message (see `queue`); None: sent at once.
    gather: timedelta | None = None
    # A document sent as a file, the text as its caption where the channel shows one.
    document: DocumentRef | None = None
    # To staff (a card, an alert, an answer to a command) rather than to the citizen: the case's
    # history tells the two apart.
    to_staff: bool = False

    def rendered(self) -> str:
        """The text with its options as lines, for channels without buttons: "1. Sí" for a
        number to type, "Tomar: tomar:TA-2026-000001" when what to type is longer."""
        lines = [self.text, *(o.shown(typed=True) for o in self.options)]
        return "\n".join(lines)


# The longest message every chat channel accepts (WhatsApp through Twilio: 1,600 characters).
MAX_MESSAGE = 1600


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a text into pieces of at most `limit` characters, at line breaks where possible,
    else between words (a word is cut only when it alone is longer than half the limit)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            space = line.rfind(" ", limit // 2, limit + 1)
            if space > 0:
                pieces.append(line[:space])
                line = line[space + 1 :]
            else:
                pieces.append(line[:limit])
                line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    pieces.append(current)
    return pieces
