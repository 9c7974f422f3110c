"""Community updates, the staff's side: projects people can follow, updates sent to everyone
following one (through the outbox, as any reply), and the counts staff see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from handlers.core.messages import MAX_MESSAGE, Reply
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from handlers.dialogue.community import KEYWORD, reserved_words
from handlers.dialogue.intake import queue
from storage.community import ProjectCounts
from storage.models import CommunityProject, CommunityUpdate

MAX_NAME, MAX_PLACE = 120, 300


class CommunityError(Exception):
    """Staff asked for something that cannot be done; the message says why, in Spanish."""


def add_project(
    uow: UnitOfWork,
    t: Texts,
    *,
    keyword: str,
    name: str,
    place: str,
    description: str,
    now: datetime,
) -> CommunityProject:
    """Create a project people can follow by its keyword; CommunityError when the keyword is
    not one plain word, is a word the dialogue already reads, or is taken."""
    keyword = keyword.strip().lower()
    if not KEYWORD.fullmatch(keyword):
        raise CommunityError(t("community.bad_keyword", keyword=keyword))
    if keyword in reserved_words(t):
        raise CommunityError(t("community.reserved_keyword", keyword=keyword))
    if uow.community.by_keyword(keyword) is not None:
        raise CommunityError(t("community.taken_keyword", keyword=keyword))
    if not name.strip():
        raise CommunityError(t("community.no_name"))
    project = CommunityProject(
        keyword=keyword,
        name=name.strip()[:MAX_NAME],
        place=place.strip()[:MAX_PLACE],
        description=description.strip(),
        created_at=now,
    )
    return uow.community.add_project(project)


@dataclass(frozen=True)
class Sent:
    """An update queued: to how many people."""

    project: CommunityProject
    recipients: int


def send_update(uow: UnitOfWork, t: Texts, keyword: str, text: str, now: datetime) -> Sent:
    """Queue an update to every subscriber of a project, once each, in the order they first wrote;
    each copy's outbox row is recorded, to count later who it reached. The outbox paces it per
    channel, and on WhatsApp outside the 24-hour window announces it with the approved template
    and holds it until the person writes (bot/outbox.py)."""
    project = uow.community.by_keyword(keyword.strip().lower())
    if project is None or project.id is None:
        raise CommunityError(t("community.unknown_keyword", keyword=keyword))
    body = t(
        "community.update", name=project.name, text=text.strip(), keyword=project.keyword.upper()
    )
    if not text.strip():
        raise CommunityError(t("community.no_text"))
    if len(body) > MAX_MESSAGE:
        raise CommunityError(t("community.too_long", limit=MAX_MESSAGE - len(body) + len(text)))
    update = uow.community.add_update(
        CommunityUpdate(project_id=project.id, body=text.strip(), created_at=now)
    )
    copies: list[tuple[int, int | None]] = []
    for contact in uow.community.subscribers(project.id):
        rows = queue(uow, [Reply(contact.channel, contact.address, body)], now)
        copies.append((contact.id or 0, rows[0] if rows else None))
    uow.community.add_deliveries(update.id or 0, copies)
    return Sent(project, len(copies))


@dataclass(frozen=True)
class ProjectView:
    """One line of `community list`: the project, its links and its counts (no one's number)."""

    project: CommunityProject
    counts: ProjectCounts
    telegram_link: str | None
    whatsapp_link: str | None


def project_views(uow: UnitOfWork, *, telegram_bot: str, whatsapp_number: str) -> list[ProjectView]:
    """Every project with its counts and the links that open the chat with its keyword."""
    views = []
    for project in uow.community.projects():
        keyword = project.keyword
        telegram = (
            f"https://t.me/{telegram_bot.lstrip('@')}?start={keyword}" if telegram_bot else None
        )
        number = re.sub(r"\D", "", whatsapp_number)
        whatsapp = f"https://wa.me/{number}?text={quote(keyword.upper())}" if number else None
        views.append(
            ProjectView(project, uow.community.counts(project.id or 0), telegram, whatsapp)
        )
    return views
