"""What the tests share: a fixed clock, a policy built from settings, and a citizen who chats."""

from __future__ import annotations

import difflib
import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import build_policy
from bot.config import Settings
from handlers.classification.classifier import Classifier
from handlers.core.messages import Incoming, Location, Media
from handlers.dialogue.conversation import Dialogue
from handlers.dialogue.intake import receive

# Long enough and no example value, as start-up demands of privacy.hash_secret.
HASH_SECRET = "tests-only-hash-secret-7Qm2vX9kLp4RtZ8w"

# A Tuesday morning in San Salvador (15:00 UTC is 09:00 there).
TUESDAY = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


class Clock:
    """Starts at a fixed instant and moves one minute each time it is read."""

    def __init__(self, start: datetime = TUESDAY) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def make_settings(**sections: dict[str, Any]) -> Settings:
    """Settings from explicit values only (the environment of the test run does not leak in)."""
    values = {"privacy": {"hash_secret": HASH_SECRET}, **sections}
    return Settings.model_validate(values)


def make_dialogue(
    settings: Settings | None = None, classifier: Classifier | None = None
) -> Dialogue:
    return Dialogue(build_policy(settings or make_settings(), classifier))


class Citizen:
    """A person writing to the bot; `send` returns everything the bot answered, as one text."""

    _numbers = itertools.count(1)

    def __init__(
        self,
        dialogue: Dialogue,
        uow: Callable[[], Any],
        *,
        address: str = "7001",
        channel: str = "console",
        clock: Clock | None = None,
        sender_id: str | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.uow = uow
        self.address = address
        self.channel = channel
        self.clock = clock or Clock()
        self.sender_id = sender_id  # someone writing in a group chat (the staff chat)

    def send(
        self,
        text: str = "",
        *,
        media: tuple[Media, ...] = (),
        location: Location | None = None,
        provider_id: str | None = None,
    ) -> str:
        now = self.clock()
        incoming = Incoming(
            self.channel,
            self.address,
            provider_id or uuid.uuid4().hex,
            now,
            text=text,
            media=media,
            location=location,
            sender_id=self.sender_id,
        )
        with self.uow() as uow:
            replies = receive(incoming, uow, self.dialogue, now)
        return "\n".join(reply.rendered() for reply in replies or [])

    def converse(self, *lines: str) -> str:
        """Send each line in turn; the bot's last answer."""
        answer = ""
        for line in lines:
            answer = self.send(line)
        return answer


def assert_transcript(citizen: Citizen, exchange: Sequence[tuple[str, str]]) -> None:
    """Say each line in turn and compare the whole exchange, every answer to the letter.

    No normalisation: an answer is the text `Citizen.send` returns (the bot's replies joined by
    a line break, options included). On a difference, fails with a diff of the whole exchange.
    """
    __tracebackhide__ = True
    expected = [(said, answer) for said, answer in exchange]
    actual = [(said, citizen.send(said)) for said, _ in exchange]
    if actual != expected:
        wanted, got = _as_lines(expected), _as_lines(actual)
        # All of the exchange as context, so that a difference is read where it happened.
        diff = difflib.unified_diff(
            wanted, got, "expected", "actual", n=max(len(wanted), len(got)), lineterm=""
        )
        raise AssertionError("the exchange differs:\n" + "\n".join(diff))


def _as_lines(exchange: list[tuple[str, str]]) -> list[str]:
    lines = []
    for said, answer in exchange:
        lines.append(f"> {said}")
        lines.extend(f"< {line}" for line in answer.split("\n"))
    return lines


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF, its lines joined as one run of words."""
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() or "" for page in pages).split())


# An anonymous denuncia, up to the question whether to keep it anonymous (answer "1": yes).
DENUNCIA = (
    "hola",
    "si",
    "1",
    "denuncio que el alcalde usa la maquinaria del estado",
    "listo",
    "si",
    "omitir",
)

POTHOLE = (
    "hola",
    "si",
    "1",
    "la calle principal de la colonia Las Brisas tiene un hoyo enorme",
    "listo",
    "si",
    "San Miguel, colonia Las Brisas",
    "omitir",
)


def visit_counts(**counts: int) -> dict[str, int]:
    """The tally's `visits` section: zero but for the counts given."""
    keys = ("proposed", "confirmed", "rescheduled", "done", "cancelled", "missed")
    return {key: counts.get(key, 0) for key in (*keys, "women_priority")}


def add_staff(uow_factory: Callable[[], Any], name: str, role: str = "agent", **addresses: Any):
    """Register a staff member (telegram_id=..., whatsapp=...), as `staff add` does."""
    from storage.models import Staff

    with uow_factory() as uow:
        member = uow.staff.add(Staff(name=name, role=role, created_at=TUESDAY, **addresses))
        uow.commit()
    return member
