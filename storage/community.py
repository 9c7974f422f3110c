"""Community updates' queries: projects, who follows them, the updates sent and their copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage.models import (
    CommunityDelivery,
    CommunityProject,
    CommunitySubscription,
    CommunityUpdate,
    Contact,
    OutboxItem,
)
from storage.repositories import among, execute_many


@dataclass(frozen=True)
class ProjectCounts:
    """What staff see of a project: how many, never who."""

    subscribers: int
    updates: int
    sent: int  # copies the provider accepted
    waiting: int  # held until the person writes (WhatsApp's 24-hour window; a template told them)
    unreachable: int  # copies that failed


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
        row = CommunitySubscription(project_id=project_id, contact_id=contact_id, created_at=day)
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
        """The projects a person follows, in the order they began."""
        query = (
            select(CommunityProject)
            .join(
                CommunitySubscription, col(CommunitySubscription.project_id) == CommunityProject.id
            )
            .where(CommunitySubscription.contact_id == contact_id)
            .order_by(col(CommunitySubscription.id))
        )
        return list(self.session.exec(query).all())

    def subscribers(self, project_id: int) -> list[Contact]:
        """Who follows a project, in the order they began."""
        query = (
            select(Contact)
            .join(CommunitySubscription, col(CommunitySubscription.contact_id) == Contact.id)
            .where(CommunitySubscription.project_id == project_id)
            .order_by(col(CommunitySubscription.id))
        )
        return list(self.session.exec(query).all())

    def add_update(self, update: CommunityUpdate) -> CommunityUpdate:
        self.session.add(update)
        self.session.flush()
        return update

    def add_deliveries(self, update_id: int, copies: Sequence[tuple[int, int | None]]) -> None:
        """Record each subscriber's copy (contact id, outbox row id) of an update."""
        self.session.add_all(
            CommunityDelivery(update_id=update_id, contact_id=contact, outbox_id=outbox)
            for contact, outbox in copies
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
        query = (
            select(OutboxItem.status, func.count())
            .select_from(CommunityDelivery)
            .join(CommunityUpdate, col(CommunityUpdate.id) == CommunityDelivery.update_id)
            .join(OutboxItem, col(OutboxItem.id) == CommunityDelivery.outbox_id)
            .where(CommunityUpdate.project_id == project_id)
            .group_by(OutboxItem.status)
        )
        by_status = {status: count for status, count in session.exec(query).all()}
        return ProjectCounts(
            subscribers=subscribers,
            updates=updates,
            sent=by_status.get("sent", 0),
            waiting=by_status.get("waiting", 0),
            unreachable=by_status.get("failed", 0),
        )

    def forget_contacts(self, contact_ids: list[int]) -> None:
        """A person's subscriptions go with their data; their copies of updates stay, unlinked,
        for the counts."""
        if not contact_ids:
            return
        session, many = self.session, len(contact_ids)
        subscription, copy = CommunitySubscription, CommunityDelivery
        execute_many(
            session,
            delete(subscription).where(among(session, subscription.contact_id, contact_ids)),
            many,
        )
        execute_many(
            session,
            update(copy)
            .where(among(session, copy.contact_id, contact_ids))
            .values(contact_id=None),
            many,
        )
