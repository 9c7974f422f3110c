"""Community updates' queries: projects, who follows them, the updates sent and their copies."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage.models import (
    CommunityDelivery,
    CommunityProject,
    CommunitySubscription,
    CommunityUpdate,
    Contact,
    Message,
    OutboxItem,
)
from storage.repositories import among, execute_many, forget_rows

# Subscriptions and update copies are numbered at random in 1..2**31-1 (an INTEGER column): an
# id counted in order would tell who joined, or was sent an update, right before whom.
RANDOM_IDS = 2**31 - 1
# What a copy's outbox row said, kept as its outcome once the row goes with its person: a copy
# not sent by then never will be.
OUTCOME = {"sent": "sent", "failed": "failed"}
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ProjectCounts:
    """What staff see of a project: how many, never who."""

    subscribers: int
    updates: int
    sent: int  # copies the provider accepted
    waiting: int  # held until the person writes (WhatsApp's 24-hour window; a template told them)
    unreachable: int  # copies that failed
    unheard: int  # updates sent when nobody followed the project: no copy at all


class CommunityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_project(self, project: CommunityProject) -> CommunityProject:
        self.session.add(project)
        self.session.flush()
        return project

    def projects(self) -> Sequence[CommunityProject]:
        return self.session.exec(select(CommunityProject).order_by(col(CommunityProject.id))).all()

    def by_keyword(self, keyword: str) -> CommunityProject | None:
        query = select(CommunityProject).where(CommunityProject.keyword == keyword)
        return self.session.exec(query).first()

    def keywords(self) -> list[str]:
        return list(self.session.exec(select(CommunityProject.keyword)).all())

    def subscribe(self, project_id: int, contact_id: int, day: datetime) -> bool:
        """Follow a project; False when already following it."""
        if self._subscription(project_id, contact_id) is not None:
            return False
        (number,) = random_ids(self.session, CommunitySubscription, 1)
        row = CommunitySubscription(
            id=number, project_id=project_id, contact_id=contact_id, created_at=day
        )
        self.session.add(row)
        self.session.flush()
        return True

    def unsubscribe(self, project_id: int, contact_id: int) -> bool:
        """Stop following a project; False when not following it."""
        row = self._subscription(project_id, contact_id)
        if row is None:
            return False
        self.session.delete(row)
        self.session.flush()
        return True

    def _subscription(self, project_id: int, contact_id: int) -> CommunitySubscription | None:
        query = select(CommunitySubscription).where(
            CommunitySubscription.project_id == project_id,
            CommunitySubscription.contact_id == contact_id,
        )
        return self.session.exec(query).first()

    def followed_by(self, contact_id: int) -> list[CommunityProject]:
        """The projects a person follows, in the order the projects were made (subscriptions
        are numbered at random: when each began is not kept)."""
        query = (
            select(CommunityProject)
            .join(
                CommunitySubscription, col(CommunitySubscription.project_id) == CommunityProject.id
            )
            .where(CommunitySubscription.contact_id == contact_id)
            .order_by(col(CommunityProject.id))
        )
        return list(self.session.exec(query).all())

    def subscribers(self, project_id: int) -> list[Contact]:
        """Who follows a project, in the order they first wrote (not the order they began
        following, which is not kept)."""
        query = (
            select(Contact)
            .join(CommunitySubscription, col(CommunitySubscription.contact_id) == Contact.id)
            .where(CommunitySubscription.project_id == project_id)
            .order_by(col(Contact.id))
        )
        return list(self.session.exec(query).all())

    def add_update(self, update: CommunityUpdate) -> CommunityUpdate:
        self.session.add(update)
        self.session.flush()
        return update

    def add_deliveries(self, update_id: int, copies: Sequence[tuple[int, int | None]]) -> None:
        """Record each subscriber's copy (contact id, outbox row id) of an update."""
        numbers = random_ids(self.session, CommunityDelivery, len(copies))
        self.session.add_all(
            CommunityDelivery(id=number, update_id=update_id, contact_id=contact, outbox_id=outbox)
            for number, (contact, outbox) in zip(numbers, copies, strict=True)
        )
        self.session.flush()

    def counts(self, project_id: int) -> ProjectCounts:
        """Subscribers, updates sent, and how their copies fared (from their outbox rows)."""
        session = self.session
        subscribers = session.exec(
            select(func.count()).where(CommunitySubscription.project_id == project_id)
        ).one()
        updates = session.exec(
            select(func.count()).where(CommunityUpdate.project_id == project_id)
        ).one()
        copied = select(CommunityDelivery.update_id).where(
            CommunityDelivery.update_id == CommunityUpdate.id
        )
        unheard = session.exec(
            select(func.count()).where(CommunityUpdate.project_id == project_id, ~copied.exists())
        ).one()
        # A copy's outcome is its outbox row's status, or what it kept once that row went.
        outcome = func.coalesce(CommunityDelivery.status, OutboxItem.status)
        query = (
            select(outcome, func.count())
            .select_from(CommunityDelivery)
            .join(CommunityUpdate, col(CommunityUpdate.id) == CommunityDelivery.update_id)
            .outerjoin(OutboxItem, col(OutboxItem.id) == CommunityDelivery.outbox_id)
            .where(CommunityUpdate.project_id == project_id)
            .group_by(outcome)
        )
        by_status = {status: count for status, count in session.exec(query).all()}
        return ProjectCounts(
            subscribers=subscribers,
            updates=updates,
            sent=by_status.get("sent", 0),
            waiting=by_status.get("waiting", 0),
            unreachable=by_status.get("failed", 0),
            unheard=unheard,
        )

    def forget_contacts(self, contact_ids: list[int]) -> None:
        """A person's subscriptions go with their data, and so do the message and outbox rows of
        the updates sent to them (which hold the provider's ids, and the address while still to
        send): each copy keeps only how it fared, for the counts. Done before their messages
        are cleared and their outbox rows forgotten, which would leave the copies' outcome
        unknown."""
        if not contact_ids:
            return
        session, many = self.session, len(contact_ids)
        subscription, copy = CommunitySubscription, CommunityDelivery
        execute_many(
            session,
            delete(subscription).where(among(session, subscription.contact_id, contact_ids)),
            many,
        )
        rows = session.exec(
            select(copy.id, OutboxItem.id, OutboxItem.status, OutboxItem.message_id)
            .select_from(copy)
            .outerjoin(OutboxItem, col(OutboxItem.id) == copy.outbox_id)
            .where(among(session, copy.contact_id, contact_ids))
        ).all()
        by_outcome: dict[str, list[int]] = {}
        for copy_id, outbox_id, status, _ in rows:
            if outbox_id is not None:
                by_outcome.setdefault(OUTCOME.get(status, WITHDRAWN), []).append(copy_id or 0)
        for outcome, ids in by_outcome.items():
            execute_many(
                session,
                update(copy).where(among(session, copy.id, ids)).values(status=outcome),
                len(ids),
            )
        outbox_ids = [outbox_id for _, outbox_id, _, _ in rows if outbox_id is not None]
        message_ids = [message for _, _, _, message in rows if message is not None]
        if outbox_ids:
            # One being sent right now keeps its address until the provider has it, unlinked.
            forget_rows(session, among(session, OutboxItem.id, outbox_ids), len(outbox_ids))
        if message_ids:
            execute_many(
                session,
                delete(Message).where(among(session, Message.id, message_ids)),
                len(message_ids),
            )
        execute_many(
            session,
            update(copy)
            .where(among(session, copy.contact_id, contact_ids))
            .values(contact_id=None, outbox_id=None),
            many,
        )


def random_ids(session: Session, table: Any, count: int) -> list[int]:
    """`count` ids that no row of `table` has, drawn at random (see RANDOM_IDS)."""
    chosen: set[int] = set()
    while len(chosen) < count:
        drawn = {1 + secrets.randbelow(RANDOM_IDS) for _ in range(count - len(chosen))} - chosen
        query = select(table.id).where(among(session, table.id, list(drawn)))
        taken = set(session.exec(query).all())
        chosen |= drawn - taken
    return list(chosen)
