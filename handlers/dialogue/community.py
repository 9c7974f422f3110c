"""Community updates in the chat: following a project or watched place by writing its keyword,
and leaving with BAJA (the staff's side is handlers/dialogue/broadcast.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from handlers.casework.cases import DELETE, KEEP, Aside
from handlers.core.normalise import words
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from storage.models import Contact, Message, day_start

# One plain word: what Telegram's deep links carry (`start=`) and anyone types as it is printed.
KEYWORD = re.compile(r"(?=[a-z0-9]*[a-z])[a-z0-9]{3,30}")  # a letter: "123" is a case number
# Telegram opens a deep link's chat with "/start <keyword>"; its words are these.
START = "start"


@dataclass(frozen=True)
class Request:
    """What a citizen's message asks of the community updates: follow or leave a project."""

    leave: bool
    keyword: str  # "" for BAJA alone: every project they follow


def reserved_words(texts: Texts) -> frozenset[str]:
    """Words the dialogue already reads (SI, MENU, ESTADO...): never a project's keyword."""
    reserved = {START}
    for key, phrases in texts.entries.items():
        if key.startswith("vocabulary."):
            reserved |= {p.strip() for p in phrases.split(",") if p.strip()}
    return frozenset(reserved)


def read_request(folded: str, leave_words: list[str]) -> Request | None:
    """A keyword alone ("puentenorte", "/start puentenorte"), or BAJA alone or before one
    keyword; None for anything else (the dialogue goes on as usual)."""
    for phrase in leave_words:  # longest first: "darme de baja" before "baja"
        if folded == phrase:
            return Request(leave=True, keyword="")
        rest = folded[len(phrase) + 1 :] if folded.startswith(phrase + " ") else None
        if rest is not None and KEYWORD.fullmatch(rest):
            return Request(leave=True, keyword=rest)
    tokens = folded.split()
    if len(tokens) == 2 and tokens[0] == START:
        tokens = tokens[1:]
    if len(tokens) == 1 and KEYWORD.fullmatch(tokens[0]):
        return Request(leave=False, keyword=tokens[0])
    return None


def follow(uow: UnitOfWork, t: Texts, contact: Contact, keyword: str, now: datetime) -> str | None:
    """Subscribe a person to the project of this keyword; what to answer, or None when no
    project has it (the message is then read as any other)."""
    project = uow.community.by_keyword(keyword)
    if project is None or project.id is None or contact.id is None:
        return None
    if not uow.community.subscribe(project.id, contact.id, day_start(now)):
        return t("community.already", name=project.name, keyword=keyword.upper())
    return t("community.joined", name=project.name, keyword=keyword.upper())


def leave(uow: UnitOfWork, t: Texts, contact: Contact, keyword: str) -> str | None:
    """Unsubscribe a person from one project (BAJA <keyword>) or from all (BAJA); what to
    answer, or None for "baja <word>" naming no project they follow (read as any other)."""
    followed = uow.community.followed_by(contact.id or 0)
    if keyword:
        followed = [p for p in followed if p.keyword == keyword]
        if not followed:
            return None
    elif not followed:
        return t("community.left_none")
    for project in followed:
        uow.community.unsubscribe(project.id or 0, contact.id or 0)
    names = ", ".join(project.name for project in followed)
    return t("community.left", names=names)


# The answers to following and leaving, and an update's copy, as the catalogue words them.
ANSWERS = ("joined", "already", "left", "left_none")
PLACEHOLDER = re.compile(r"\{\w+\}")


def _shape(template: str) -> re.Pattern[str]:
    """A catalogue text as a pattern that any values fill in."""
    pieces = (re.escape(piece) for piece in PLACEHOLDER.split(template))
    return re.compile("(?s:.+?)".join(pieces))


def aside(uow: UnitOfWork, t: Texts, leave_words: list[str], reserved: frozenset[str]) -> Aside:
    """How a conversation that becomes an anonymous denuncia sorts out its community messages:
    following or leaving a project and the answer to it are deleted (who follows what is kept
    by name; those words in an anonymous case would point at its sender), an update's copy
    stays the person's (see handlers/casework/cases.py)."""
    keywords = set(uow.community.keywords())
    answers = [_shape(t.entries[f"community.{key}"]) for key in ANSWERS]
    update = _shape(t.entries["community.update"])

    def sort_out(message: Message) -> str | None:
        if message.direction == "in":
            request = read_request(" ".join(words(message.body)), leave_words)
            if request is None or request.keyword in reserved:
                return None
            if request.keyword in keywords or (request.leave and not request.keyword):
                return DELETE
            return None
        if message.to_staff:
            return None
        if update.fullmatch(message.body):
            return KEEP
        return DELETE if any(answer.fullmatch(message.body) for answer in answers) else None

    return sort_out
