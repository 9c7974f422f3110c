"""The web desk's queries: accounts, sessions, the sign-in throttle, the audit log, saved replies,
teams, and the Bandeja's page of open cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, text, update
from sqlmodel import Session, col, select

from storage.models import (
    OPEN_CONDITION,
    AuditEntry,
    Case,
    DeskSession,
    Message,
    RecoveryCode,
    SavedReply,
    SignInThrottle,
    Staff,
    Team,
    TeamMember,
)

TIERS = ("emergencia", "urgente", "normal")  # the Bandeja's order: emergencies first


@dataclass(frozen=True)
class Scope:
    """What part of the cases a staff member sees: everything, or those assigned to them and
    those of their teams (each team: some topics and/or municipalities; empty means any)."""

    everything: bool
    staff_id: int | None = None
    teams: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    def allows(self, case: Case) -> bool:
        if self.everything or case.assignee_id == self.staff_id:
            return True
        municipality = (case.municipality or "").lower()
        return any(
            (not topics or case.topic in topics)
            and (not places or municipality in {p.lower() for p in places})
            for topics, places in self.teams
        )


@dataclass(frozen=True)
class QueueFilter:
    """The Bandeja's folder, filters and search, as the URL holds them."""

    folder: str = "todas"  # mias, sin_asignar, todas
    me: int | None = None
    case_type: str | None = None
    topic: str | None = None
    urgency: str | None = None
    status: str | None = None
    channel: str | None = None
    municipality: str | None = None
    text: str | None = None
    extra: dict = field(default_factory=dict)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DeskRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- accounts ------------------------------------------------------------------------------

    def staff_by_username(self, username: str) -> Staff | None:
        return self.session.exec(select(Staff).where(Staff.username == username)).first()

    def lock_staff(self, staff_id: int) -> Staff | None:
        """The staff row, locked until the transaction ends (sign-in counts failures)."""
        query = select(Staff).where(Staff.id == staff_id).with_for_update()
        return self.session.exec(query).first()

    def staff_names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.exec(select(Staff.id, Staff.name).where(col(Staff.id).in_(ids)))
        return dict(rows.all())

    def replace_recovery_codes(self, staff_id: int, hashes: Sequence[str]) -> None:
        self.session.exec(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
        for code_hash in hashes:
            self.session.add(RecoveryCode(staff_id=staff_id, code_hash=code_hash))
        self.session.flush()

    def use_recovery_code(self, staff_id: int, code_hash: str, now: datetime) -> bool:
        """Spend one unused recovery code; whether there was one."""
        result = self.session.exec(
            update(RecoveryCode)
            .where(
                RecoveryCode.staff_id == staff_id,
                RecoveryCode.code_hash == code_hash,
                col(RecoveryCode.used_at).is_(None),
            )
            .values(used_at=now)
        )
        return bool(result.rowcount)

    def recovery_codes_left(self, staff_id: int) -> int:
        query = select(func.count()).where(
            RecoveryCode.staff_id == staff_id, col(RecoveryCode.used_at).is_(None)
        )
        return int(self.session.exec(query).one())

    # -- sessions ------------------------------------------------------------------------------

    def add_session(self, session: DeskSession) -> None:
        self.session.add(session)
        self.session.flush()

    def get_session(self, token_hash: str) -> DeskSession | None:
        return self.session.get(DeskSession, token_hash)

    def end_session(self, token_hash: str) -> None:
        self.session.exec(delete(DeskSession).where(DeskSession.token_hash == token_hash))

    def end_sessions_of(self, staff_id: int) -> None:
        self.session.exec(delete(DeskSession).where(DeskSession.staff_id == staff_id))

    def end_idle_sessions(self, before: datetime) -> None:
        self.session.exec(delete(DeskSession).where(col(DeskSession.last_seen_at) < before))

    # -- sign-in throttle ----------------------------------------------------------------------

    def throttle(self, address: str) -> SignInThrottle:
        row = self.session.get(SignInThrottle, address, with_for_update=True)
        if row is None:
            row = SignInThrottle(address=address)
            self.session.add(row)
        return row

    # -- audit log -----------------------------------------------------------------------------

    def audit(
        self,
        at: datetime,
        staff_id: int | None,
        action: str,
        *,
        case_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=at,
                staff_id=staff_id,
                action=action,
                case_id=case_id,
                detail=detail[:300] if detail else None,
            )
        )
        self.session.flush()

    def audit_entries(self, *, case_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        query = select(AuditEntry)
        if case_id is not None:
            query = query.where(AuditEntry.case_id == case_id)
        return list(self.session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)))

    # -- saved replies -------------------------------------------------------------------------

    def saved_replies(self) -> list[SavedReply]:
        return list(self.session.exec(select(SavedReply).order_by(col(SavedReply.title))))

    def add_saved_reply(self, reply: SavedReply) -> None:
        self.session.add(reply)
        self.session.flush()

    def delete_saved_reply(self, reply_id: int) -> None:
        self.session.exec(delete(SavedReply).where(SavedReply.id == reply_id))

    # -- teams ---------------------------------------------------------------------------------

    def teams_of(self, staff_id: int) -> list[Team]:
        query = (
            select(Team)
            .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
            .where(TeamMember.staff_id == staff_id)
        )
        return list(self.session.exec(query))

    def team_by_name(self, name: str) -> Team | None:
        return self.session.exec(select(Team).where(Team.name == name)).first()

    def add_team(self, team: Team) -> Team:
        self.session.add(team)
        self.session.flush()
        return team

    def join_team(self, team_id: int, staff_id: int) -> None:
        if self.session.get(TeamMember, (team_id, staff_id)) is None:
            self.session.add(TeamMember(team_id=team_id, staff_id=staff_id))
            self.session.flush()

    # -- the Bandeja ---------------------------------------------------------------------------

    def _queue_query(self, scope: Scope, filters: QueueFilter, urgency: str):
        # The literal OPEN_CONDITION lets both databases read the partial index
        # ix_cases_desk_queue, already in (urgency, due_at, id) order.
        query = select(Case).where(text(OPEN_CONDITION), Case.urgency == urgency)
        if filters.folder == "mias":
            query = query.where(Case.assignee_id == filters.me)
        elif filters.folder == "sin_asignar":
            query = query.where(col(Case.assignee_id).is_(None))
        for column, value in (
            (Case.type, filters.case_type),
            (Case.topic, filters.topic),
            (Case.status, filters.status),
            (Case.channel, filters.channel),
        ):
            if value:
                query = query.where(column == value)
        if filters.municipality:
            query = query.where(
                func.lower(Case.municipality) == filters.municipality.strip().lower()
            )
        if filters.text:
            pattern = f"%{_escape_like(filters.text.strip())}%"
            query = query.where(col(Case.description).ilike(pattern, escape="\\"))
        if not scope.everything:
            allowed = [Case.assignee_id == scope.staff_id]
            for topics, places in scope.teams:
                terms = []
                if topics:
                    terms.append(col(Case.topic).in_(topics))
                if places:
                    terms.append(func.lower(Case.municipality).in_([p.lower() for p in places]))
                if not terms:
                    return query  # a team of every case
                allowed.append(terms[0] if len(terms) == 1 else (terms[0] & terms[1]))
            query = query.where(or_(*allowed))
        return query

    def queue_page(
        self, scope: Scope, filters: QueueFilter, offset: int, limit: int
    ) -> tuple[list[Case], bool]:
        """One page of open cases, emergencies first, then urgent ones, then the rest, each in
        deadline order; and whether more follow. No full count: the page is read from the
        index, however many cases there are."""
        tiers = [filters.urgency] if filters.urgency in TIERS else list(TIERS)
        page: list[Case] = []
        skip = offset
        for position, urgency in enumerate(tiers):
            query = self._queue_query(scope, filters, urgency)
            last = position == len(tiers) - 1
            if skip and not last:
                # The first tiers are short (emergencies, urgent cases): counting them is cheap.
                count = self.session.exec(select(func.count()).select_from(query.subquery())).one()
                if skip >= count:
                    skip -= count
                    continue
            wanted = limit + 1 - len(page)
            ordered = query.order_by(col(Case.due_at), col(Case.id))
            rows = list(self.session.exec(ordered.offset(skip).limit(wanted)))
            skip = 0
            page += rows
            if len(page) > limit:
                break
        return page[:limit], len(page) > limit

    def map_points(self, scope: Scope, filters: QueueFilter, limit: int) -> list[Case]:
        """Open cases with a pin, filtered like the Bandeja, emergencies first."""
        tiers = [filters.urgency] if filters.urgency in TIERS else list(TIERS)
        found: list[Case] = []
        for urgency in tiers:
            query = self._queue_query(scope, filters, urgency).where(
                col(Case.latitude).is_not(None), col(Case.longitude).is_not(None)
            )
            query = query.order_by(col(Case.due_at), col(Case.id)).limit(limit - len(found))
            found += list(self.session.exec(query))
            if len(found) >= limit:
                break
        return found

    def last_citizen_message(self, case_ids: Sequence[int]) -> dict[int, datetime]:
        """When the citizen last wrote, per case."""
        if not case_ids:
            return {}
        query = (
            select(Message.case_id, func.max(Message.created_at))
            .where(col(Message.case_id).in_(case_ids), Message.direction == "in")
            .group_by(col(Message.case_id))
        )
        found: dict[int, datetime] = {}
        for case_id, at in self.session.exec(query):
            if case_id is not None and at is not None:
                found[case_id] = at
        return found
