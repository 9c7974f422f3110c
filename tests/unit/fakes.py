"""Small in-memory stand-ins for the unit of work, so the dialogue can be tested without I/O."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from handlers.classification.classifier import decide_urgency
from handlers.core.normalise import fold
from handlers.core.ports import Classification, UnitOfWork
from storage.community import ProjectCounts
from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    Commitment,
    CommunityProject,
    CommunitySubscription,
    CommunityUpdate,
    Contact,
    DialogueState,
    LabelledExample,
    Message,
    OutboxItem,
    Staff,
    Visit,
)
from storage.repositories import without_paragraph

TABLES = (
    Case,
    CaseEvent,
    Contact,
    Message,
    OutboxItem,
    Staff,
    Attachment,
    LabelledExample,
    CommunityProject,
    CommunitySubscription,
    CommunityUpdate,
    Commitment,
    Visit,
)


class FakeRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow


class FakeContacts(FakeRepository):
    def get_or_create(self, channel: str, address: str, now: datetime) -> Contact:
        for contact in self.uow.rows[Contact]:
            if (contact.channel, contact.address) == (channel, address):
                return contact
        return self.uow.insert(Contact(channel=channel, address=address, created_at=now))

    def find(self, channel: str, address: str) -> Contact | None:
        found = (c for c in self.uow.rows[Contact] if (c.channel, c.address) == (channel, address))
        return next(found, None)

    def erase(self, contact: Contact) -> None:
        contact.address = f"borrado:{next(self.uow._ids)}"
        contact.name = contact.gender = contact.age = contact.consented_at = None

    def get(self, contact_id: int) -> Contact | None:
        return next((c for c in self.uow.rows[Contact] if c.id == contact_id), None)

    def erase_all(self, contact_ids: list[int]) -> None:
        for contact in self.uow.rows[Contact]:
            if contact.id in contact_ids:
                self.erase(contact)

    def inactive(self, since: datetime) -> list[int]:
        rows = self.uow.rows
        busy = {c.contact_id for c in rows[Case]}
        busy |= {m.contact_id for m in rows[Message] if m.created_at >= since}
        busy |= {i for i, state in self.uow.states.items() if state.updated_at >= since}
        return [
            c.id
            for c in rows[Contact]
            if c.id is not None
            and not c.address.startswith("borrado:")
            and c.created_at < since
            and c.id not in busy
        ]


class FakeConversations(FakeRepository):
    def get(self, contact_id: int) -> DialogueState | None:
        return self.uow.states.get(contact_id)

    def save(self, contact_id: int, step: str, data: dict, now: datetime) -> None:
        self.uow.states[contact_id] = DialogueState(contact_id, step, dict(data), now)

    def delete(self, contact_id: int) -> None:
        self.uow.states.pop(contact_id, None)

    def delete_all(self, contact_ids: list[int]) -> None:
        for contact_id in contact_ids:
            self.delete(contact_id)


class FakeCases(FakeRepository):
    def next_folio_number(self, prefix: str, year: int) -> int:
        key = (prefix, year)
        self.uow.counters[key] = self.uow.counters.get(key, 0) + 1
        return self.uow.counters[key]

    def add(self, case: Case, *, detached: bool = False) -> Case:
        if case not in self.uow.rows[Case]:
            self.uow.insert(case)
        return case

    def get(self, case_id: int) -> Case | None:
        return next((c for c in self.uow.rows[Case] if c.id == case_id), None)

    def by_folio(self, folio: str, *, lock: bool = False) -> Case | None:
        return next((c for c in self.uow.rows[Case] if c.folio == folio), None)

    def by_secret_code_hash(self, code_hash: str) -> Case | None:
        return next((c for c in self.uow.rows[Case] if c.secret_code_hash == code_hash), None)

    def for_contact(self, contact_id: int | None) -> list[Case]:
        if contact_id is None:
            return []
        return [c for c in self.uow.rows[Case] if c.contact_id == contact_id]

    def append_details(self, case_id: int, text: str, location: dict | None) -> None:
        case = next(c for c in self.uow.rows[Case] if c.id == case_id)
        if text:
            case.description += "\n" + text
        if location and case.latitude is None:
            case.latitude, case.longitude = location["latitude"], location["longitude"]
            case.location_text = case.location_text or location.get("address")

    def anonymise(self, case_ids: list[int], placeholder: str) -> None:
        for case in self.uow.rows[Case]:
            if case.id in case_ids:
                case.contact_id, case.description, case.resolution = None, placeholder, None
                case.location_text = case.latitude = case.longitude = None
                case.secret_code_hash = None
        for event in self.uow.rows[CaseEvent]:
            if event.case_id in case_ids:
                event.note = None

    def queue(
        self,
        statuses: Sequence[str],
        *,
        case_type: str | None = None,
        topic: str | None = None,
        municipality: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        limit: int | None = None,
    ) -> list[Case]:
        rank = {"emergencia": 0, "urgente": 1}
        found = [c for c in self.uow.rows[Case] if c.status in statuses]
        found.sort(key=lambda c: (rank.get(c.urgency, 2), not c.prioritised, c.due_at, c.id))
        return found[:limit]

    def waiting_for(self, contact_id: int) -> Case | None:
        waiting = [c for c in self.for_contact(contact_id) if c.status == "esperando_ciudadano"]
        return waiting[-1] if waiting else None

    def expired(self, statuses: Sequence[str], closed_before: datetime) -> list[tuple[int, str]]:
        done = {e.case_id for e in self.uow.rows[CaseEvent] if e.kind == "retention_anonymised"}
        return [
            (c.id, c.folio)
            for c in self.uow.rows[Case]
            if c.status in statuses
            and c.closed_at is not None
            and c.closed_at < closed_before
            and c.id is not None
            and c.id not in done
        ]

    def add_event(self, event: CaseEvent, *, detached: bool = False) -> None:
        self.uow.insert(event)

    def add_events(
        self, case_ids: list[int], at: datetime, *, actor: str, kind: str, public: bool
    ) -> None:
        for case_id in case_ids:
            self.add_event(CaseEvent(case_id=case_id, at=at, actor=actor, kind=kind, public=public))

    def events(self, case_id: int, *, public_only: bool = False) -> list[CaseEvent]:
        return [
            e
            for e in self.uow.rows[CaseEvent]
            if e.case_id == case_id and (e.public or not public_only)
        ]

    def latest_events(self, kind: str) -> list[tuple[Case, CaseEvent]]:
        latest: dict[int, tuple[Case, CaseEvent]] = {}
        for event in self.uow.rows[CaseEvent]:
            case = self.get(event.case_id) if event.kind == kind else None
            if case is not None:
                latest[event.case_id] = (case, event)
        return [latest[case_id] for case_id in sorted(latest)]


class FakeMessages(FakeRepository):
    def add_incoming(self, message: dict[str, Any]) -> int | None:
        key = (message["channel"], message["direction"], message["provider_id"])
        if any((m.channel, m.direction, m.provider_id) == key for m in self.uow.rows[Message]):
            return None
        return self.uow.insert(Message(**message)).id

    def attach_to_case(self, message_ids: Iterable[int], case_id: int) -> None:
        message_ids = list(message_ids)
        for message in self.uow.rows[Message]:
            if message.id in message_ids:
                message.case_id = case_id
        for attachment in self.uow.rows[Attachment]:
            if attachment.message_id in message_ids:
                attachment.case_id = case_id

    def after_last_filed(self, contact_id: int, *, before: int, since: datetime) -> int:
        mine = [m for m in self.uow.rows[Message] if m.contact_id == contact_id and (m.id or 0) > 0]
        filed = [m.id or 0 for m in mine if m.case_id is not None and (m.id or 0) < before]
        recent = [m.id or 0 for m in mine if m.created_at >= since]
        return max(max(filed, default=0) + 1, min(recent, default=before))

    def unfiled(self, contact_id: int, *, from_id: int, also: Iterable[int]) -> list[Message]:
        also = list(also)
        return [
            m
            for m in self.uow.rows[Message]
            if (m.contact_id == contact_id and m.case_id is None and (m.id or 0) >= from_id)
            or m.id in also
        ]

    def answers_about_cases(
        self, contact_id: int, *, from_id: int, at: Iterable[datetime]
    ) -> list[Message]:
        instants = set(at)
        return [
            m
            for m in self.uow.rows[Message]
            if m.contact_id == contact_id
            and m.direction == "out"
            and m.case_id is not None
            and (m.id or 0) >= from_id
            and m.created_at in instants
        ]

    def detach(
        self,
        message_ids: list[int],
        case_id: int | None,
        day: datetime,
        key: Callable[[int, str], str] | None = None,
    ) -> None:
        for message in self.uow.rows[Message]:
            if message.id in message_ids:
                message.contact_id = message.provider_id = None
                message.created_at = day
                message.case_id = case_id if case_id is not None else message.case_id

    def clear_repeats(
        self, contact_id: int, message_ids: list[int], *, min_length: int, placeholder: str
    ) -> None:
        rows = self.uow.rows[Message]
        said = {m.body for m in rows if m.id in message_ids and m.direction == "in"}
        bodies = {body for body in said if len(body.strip()) >= min_length}
        digests = {a.sha256 for a in self.uow.rows[Attachment] if a.message_id in message_ids}
        others = {
            m.id
            for m in rows
            if m.contact_id == contact_id and m.case_id is None and m.id not in message_ids
        }
        for message in rows:
            if message.id in others and message.direction == "in" and message.body in bodies:
                message.body = placeholder
        self.uow.rows[Attachment][:] = [
            a
            for a in self.uow.rows[Attachment]
            if not (a.message_id in others and a.sha256 is not None and a.sha256 in digests)
        ]

    def delete(self, message_ids: list[int]) -> None:
        rows = self.uow.rows[Message]
        rows[:] = [m for m in rows if m.id not in message_ids]

    def replace_body(self, message_id: int, body: str) -> None:
        for message in self.uow.rows[Message]:
            if message.id == message_id:
                message.body = body

    def erase_conversation(
        self, contact_ids: list[int], case_ids: list[int], placeholder: str
    ) -> None:
        ids = set()
        for message in self.uow.rows[Message]:
            if message.contact_id in contact_ids or message.case_id in case_ids:
                message.body, message.contact_id, message.provider_id = placeholder, None, None
                ids.add(message.id)
        for item in list(self.uow.rows[OutboxItem]):
            if item.message_id in ids:
                if item.status == "pending":
                    item.body, item.message_id, item.confidential = placeholder, None, True
                else:
                    self.uow.rows[OutboxItem].remove(item)

    def erase_mentions(self, folios: list[str], placeholder: str) -> None:
        for message in self.uow.rows[Message]:
            if any(folio in message.body for folio in folios):
                message.body = placeholder

    def for_contact(self, contact_id: int, *, last: int | None = None) -> list[Message]:
        mine = [m for m in self.uow.rows[Message] if m.contact_id == contact_id]
        return mine[-last:] if last else mine

    def count_for_contact(self, contact_id: int) -> int:
        return sum(m.contact_id == contact_id for m in self.uow.rows[Message])

    def add_attachment(self, attachment: Attachment) -> None:
        self.uow.insert(attachment)

    def for_case(self, case_id: int) -> list[Message]:
        return [m for m in self.uow.rows[Message] if m.case_id == case_id]

    def attachments_for_case(
        self, case_id: int, *, citizens_only: bool = False
    ) -> list[Attachment]:
        staff = {m.id for m in self.uow.rows[Message] if m.to_staff} if citizens_only else set()
        return [
            a
            for a in self.uow.rows[Attachment]
            if a.case_id == case_id and a.message_id not in staff
        ]


class FakeOutbox(FakeRepository):
    def enqueue(
        self,
        message: dict[str, Any],
        item: dict[str, Any],
        *,
        detached: bool = False,
    ) -> int:
        message_id = self.uow.insert(Message(**message)).id
        row = OutboxItem(**{**item, "message_id": message_id})
        return self.uow.insert(row).id

    def release_waiting(self, channel: str, address: str, now: datetime, window: datetime) -> None:
        for item in self.uow.rows[OutboxItem]:
            if (item.channel, item.address, item.status) == (channel, address, "waiting"):
                item.status, item.next_attempt_at, item.window_until = "pending", now, window

    def forget_address(self, channel: str, address: str) -> None:
        for item in list(self.uow.rows[OutboxItem]):
            if (item.channel, item.address) == (channel, address):
                if item.status == "pending":
                    item.confidential, item.message_id = True, None
                else:
                    self.uow.rows[OutboxItem].remove(item)

    def forget_contacts(self, contact_ids: list[int]) -> None:
        for contact in self.uow.rows[Contact]:
            if contact.id in contact_ids:
                self.forget_address(contact.channel, contact.address)

    def add(self, item: OutboxItem) -> None:
        self.uow.insert(item)

    def with_option(self, case_id: int, key: str) -> list[OutboxItem]:
        messages = {m.id: m for m in self.uow.rows.get(Message, [])}
        return [
            item
            for item in self.uow.rows.get(OutboxItem, [])
            if item.message_id in messages
            and messages[item.message_id].case_id == case_id
            and item.status in ("pending", "sent")
            and any(o.get("key") == key for o in item.options.get("options", []))
        ]

    def withdraw(self, case_id: int, body: str) -> int:
        messages = {m.id: m for m in self.uow.rows[Message] if m.case_id == case_id}
        withdrawn = 0
        for item in self.uow.rows[OutboxItem]:
            if item.message_id not in messages or item.status not in ("pending", "waiting"):
                continue
            rest = without_paragraph(item.body, body)
            if rest is None:
                continue
            if rest == "":
                item.status = "withdrawn"
            else:
                if item.body.endswith(body):
                    item.options = {**item.options, "options": []}
                item.body = messages[item.message_id].body = rest
            withdrawn += 1
        return withdrawn

    def released_to_the_day(
        self, channel: str, address: str, since: datetime, day: datetime, window: timedelta
    ) -> None:
        for item in self.uow.rows[OutboxItem]:
            if (item.channel, item.address) != (channel, address) or item.created_at >= since:
                continue
            if item.confidential:
                continue
            if item.next_attempt_at and item.next_attempt_at >= since:
                item.next_attempt_at = day
            if item.sent_at and item.sent_at >= since:
                item.sent_at = day
            if item.window_until and item.window_until >= since + window:
                item.window_until = day + window

    def drop_early_reports(self, provider_hashes: Sequence[str]) -> None:
        return None  # the fake keeps no delivery reports

    def make_confidential(self, message_ids: list[int], day: datetime) -> None:
        for item in list(self.uow.rows[OutboxItem]):
            if item.message_id in message_ids:
                if item.status in ("sent", "failed"):
                    self.uow.rows[OutboxItem].remove(item)
                else:
                    item.message_id, item.confidential, item.created_at = None, True, day

    def gathering(
        self, channel: str, address: str, case_id: int, now: datetime
    ) -> OutboxItem | None:
        held = [
            item
            for item in self.uow.rows[OutboxItem]
            if (item.channel, item.address, item.status) == (channel, address, "pending")
            and item.options.get("gather") == case_id
            and not item.options.get("options")
            and item.last_error is None
            and item.claimed_until is None
            and item.next_attempt_at > now
        ]
        return held[-1] if held else None

    def add_to_gathering(
        self, item: OutboxItem, body: str, options: dict, message_body: str, due: datetime, now
    ) -> bool:
        item.body, item.options, item.next_attempt_at = body, options, due
        for message in self.uow.rows[Message]:
            if message.id == item.message_id:
                message.body = message_body
        return True


class FakeStaff(FakeRepository):
    def active(self) -> list[Staff]:
        return [s for s in self.uow.rows[Staff] if s.active]

    def add(self, member: Staff) -> Staff:
        return self.uow.insert(member)

    def get(self, staff_id: int) -> Staff | None:
        return next((s for s in self.uow.rows[Staff] if s.id == staff_id), None)

    def by_id_or_name(self, who: str) -> Staff | None:
        if who.isdigit() and self.get(int(who)):
            return self.get(int(who))
        return next((s for s in self.uow.rows[Staff] if s.name == who), None)

    def all(self) -> list[Staff]:
        return sorted(self.uow.rows[Staff], key=lambda s: s.id or 0)

    def by_address(self, channel: str, address: str) -> Staff | None:
        for member in self.uow.rows[Staff]:
            if channel == "telegram" and str(member.telegram_id) == address:
                return member
            if channel == "whatsapp" and member.whatsapp == address:
                return member
        return None

    def with_role(self, *roles: str) -> list[Staff]:
        return [s for s in self.active() if s.role in roles]


class FakeJobRuns(FakeRepository):
    def claim(self, job: str, run_date: str, now: datetime) -> bool:
        if (job, run_date) in self.uow.job_claims:
            return False
        self.uow.job_claims.add((job, run_date))
        return True


class FakeExamples(FakeRepository):
    def record(self, example: LabelledExample) -> None:
        rows = self.uow.rows[LabelledExample]
        if example.case_id is not None:
            rows[:] = [row for row in rows if row.case_id != example.case_id]
        self.uow.insert(example)

    def all(self) -> list[LabelledExample]:
        return list(self.uow.rows[LabelledExample])

    def erase(self, case_ids: list[int], contact_ids: list[int]) -> None:
        rows = self.uow.rows[LabelledExample]
        rows[:] = [
            row for row in rows if row.case_id not in case_ids and row.contact_id not in contact_ids
        ]


class FakeCommunity(FakeRepository):
    """Projects and subscriptions in lists (updates are sent through the real storage only)."""

    def add_project(self, project: CommunityProject) -> CommunityProject:
        return self.uow.insert(project)

    def projects(self) -> list[CommunityProject]:
        return list(self.uow.rows[CommunityProject])

    def keywords(self) -> list[str]:
        return [p.keyword for p in self.uow.rows[CommunityProject]]

    def by_keyword(self, keyword: str) -> CommunityProject | None:
        return next((p for p in self.uow.rows[CommunityProject] if p.keyword == keyword), None)

    def _find(self, project_id: int, contact_id: int) -> CommunitySubscription | None:
        rows = self.uow.rows[CommunitySubscription]
        wanted = (project_id, contact_id)
        return next((s for s in rows if (s.project_id, s.contact_id) == wanted), None)

    def subscribe(self, project_id: int, contact_id: int, day: datetime) -> bool:
        if self._find(project_id, contact_id) is not None:
            return False
        row = CommunitySubscription(project_id=project_id, contact_id=contact_id, created_at=day)
        self.uow.insert(row)
        return True

    def unsubscribe(self, project_id: int, contact_id: int) -> bool:
        row = self._find(project_id, contact_id)
        if row is not None:
            self.uow.rows[CommunitySubscription].remove(row)
        return row is not None

    def followed_by(self, contact_id: int) -> list[CommunityProject]:
        ids = [
            s.project_id for s in self.uow.rows[CommunitySubscription] if s.contact_id == contact_id
        ]
        return [p for i in ids for p in self.uow.rows[CommunityProject] if p.id == i]

    def subscribers(self, project_id: int) -> list[Contact]:
        ids = [
            s.contact_id for s in self.uow.rows[CommunitySubscription] if s.project_id == project_id
        ]
        return [c for i in ids for c in self.uow.rows[Contact] if c.id == i]

    def add_update(self, update: CommunityUpdate) -> CommunityUpdate:
        return self.uow.insert(update)

    def add_deliveries(self, update_id: int, copies: Sequence[tuple[int, int | None]]) -> None:
        raise NotImplementedError("updates are tested on the real storage")

    def counts(self, project_id: int) -> ProjectCounts:
        raise NotImplementedError("counts are tested on the real storage")

    def forget_contacts(self, contact_ids: list[int]) -> None:
        rows = self.uow.rows[CommunitySubscription]
        rows[:] = [s for s in rows if s.contact_id not in contact_ids]


class FakeCommitments(FakeRepository):
    """Commitments in a list, in the real repository's orders."""

    def add(self, commitment: Commitment) -> Commitment:
        if commitment.id is None:
            # Numbered on their own, as the table's sequence does: staff write these numbers.
            commitment.id = len(self.uow.rows[Commitment]) + 1
            self.uow.insert(commitment)
        return commitment

    def get(self, commitment_id: int, *, lock: bool = False) -> Commitment | None:
        return next((c for c in self.uow.rows[Commitment] if c.id == commitment_id), None)

    def for_case(self, case_id: int) -> list[Commitment]:
        mine = [c for c in self.uow.rows[Commitment] if c.case_id == case_id]
        pending = sorted((c for c in mine if c.status == "pending"), key=lambda c: c.due_date)
        return pending + sorted((c for c in mine if c.status != "pending"), key=lambda c: -c.id)

    def _with_folio(self, rows: list[Commitment]) -> list[tuple[Commitment, str]]:
        folios = {case.id: case.folio for case in self.uow.rows[Case]}
        ordered = sorted(rows, key=lambda c: (c.due_date, c.id))
        return [(c, folios[c.case_id]) for c in ordered]

    def pending(self, limit: int | None = None) -> list[tuple[Commitment, str]]:
        rows = [c for c in self.uow.rows[Commitment] if c.status == "pending"]
        return self._with_folio(rows)[:limit]

    def overdue_untold(self, today: date, since: datetime) -> list[tuple[Commitment, str]]:
        rows = [
            c
            for c in self.uow.rows[Commitment]
            if c.status == "pending"
            and c.due_date < today
            and (c.overdue_notified_at is None or c.overdue_notified_at < since)
        ]
        return self._with_folio(rows)

    def anonymise(self, case_ids: list[int], placeholder: str) -> None:
        for commitment in self.uow.rows[Commitment]:
            if commitment.case_id in case_ids:
                commitment.what, commitment.moved_reason = placeholder, None


class FakeVisits(FakeRepository):
    """Visits in a list, with their cases."""

    def add(self, visit: Visit) -> Visit:
        if visit not in self.uow.rows[Visit]:
            visit.id = len(self.uow.rows[Visit]) + 1  # numbered on their own, as in a table
            self.uow.insert(visit)
        return visit

    def get(self, visit_id: int, *, lock: bool = False) -> Visit | None:
        return next((v for v in self.uow.rows[Visit] if v.id == visit_id), None)

    def for_case(self, case_id: int) -> list[Visit]:
        return [v for v in self.uow.rows[Visit] if v.case_id == case_id]

    def _with_cases(self, visits: Iterable[Visit]) -> list[tuple[Visit, Case]]:
        cases = {c.id: c for c in self.uow.rows[Case]}
        return [(v, cases[v.case_id]) for v in visits if v.case_id in cases]

    def awaiting_answer(self, contact_id: int) -> Visit | None:
        rows = [
            v
            for v, c in self._with_cases(self.uow.rows[Visit])
            if c.contact_id == contact_id
            and not c.anonymous
            and v.status in ("proposed", "confirmed")
        ]
        return rows[-1] if rows else None

    def listing(self, *, since=None, statuses=None, who=None, limit=500):
        rows = [
            (v, c)
            for v, c in self._with_cases(self.uow.rows[Visit])
            if (since is None or v.ends_at >= since)
            and (not statuses or v.status in statuses)
            and (not who or who.lower() in v.who.lower() or who.lower() == v.proposed_by.lower())
        ]
        rows.sort(key=lambda row: (not row[1].affects_women, row[0].starts_at, row[0].id))
        return rows[:limit]

    def to_remind(self, start: datetime, end: datetime) -> list[tuple[Visit, Case]]:
        return [
            (v, c)
            for v, c in self._with_cases(sorted(self.uow.rows[Visit], key=lambda v: v.starts_at))
            if v.status in ("proposed", "confirmed")
            and v.reminded_at is None
            and start <= v.starts_at < end
        ]

    def done_by(self, staff_id: int, since: datetime) -> Visit | None:
        rows = [
            v
            for v in self.uow.rows[Visit]
            if v.done_by_id == staff_id and v.done_at is not None and v.done_at >= since
        ]
        return max(rows, key=lambda v: v.done_at) if rows else None

    def forget_cases(self, case_ids: list[int]) -> None:
        for visit in self.uow.rows[Visit]:
            if visit.case_id in case_ids:
                visit.citizen_answer = visit.outcome = visit.next_step = visit.reason = None


class FakeUnitOfWork:
    """Keeps rows in lists; `committed` counts commits, as a test may want to know."""

    def __init__(self) -> None:
        self.rows: dict[type, list] = {table: [] for table in TABLES}
        self.states: dict[int, DialogueState] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.job_claims: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self.committed = 0
        self.contacts = FakeContacts(self)
        self.conversations = FakeConversations(self)
        self.cases = FakeCases(self)
        self.messages = FakeMessages(self)
        self.outbox = FakeOutbox(self)
        self.staff = FakeStaff(self)
        self.job_runs = FakeJobRuns(self)
        self.examples = FakeExamples(self)
        self.community = FakeCommunity(self)
        self.commitments = FakeCommitments(self)
        self.visits = FakeVisits(self)

    def insert(self, row):
        if getattr(row, "id", 0) is None:
            row.id = next(self._ids)
        self.rows.setdefault(type(row), []).append(row)
        return row

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def purge_after_commit(self) -> None:
        self.purged = True

    def commit(self) -> None:
        self.committed += 1

    def rollback(self) -> None:
        pass


class FakeClassifier:
    """Labels from a few words, urgency from the real emergency rules; no model, no I/O."""

    TYPES = (
        ("denunci", "denuncia"),
        ("quiero saber", "consulta"),
        ("queja", "queja"),
        ("reclam", "reclamo"),
    )
    TOPICS = (
        ("tragante", "drenaje"),
        ("puente", "puentes"),
        ("rotulo", "senalizacion_seguridad_vial"),
        ("semaforo", "senalizacion_seguridad_vial"),
        ("maquinaria", "obras_en_ejecucion"),
        ("constructora", "obras_en_ejecucion"),
        ("contratista", "obras_en_ejecucion"),
        ("hoyo", "calles_caminos"),
        ("bache", "calles_caminos"),
        ("calle", "calles_caminos"),
    )

    def classify(self, text: str) -> Classification:
        folded = fold(text)
        topic = next((topic for word, topic in self.TOPICS if word in folded), None)
        case_type = next((kind for word, kind in self.TYPES if word in folded), "solicitud")
        confidence = 0.9 if topic or case_type != "solicitud" else 0.3
        urgency = decide_urgency(text, "normal")
        return Classification(case_type, topic or "otro", urgency, confidence)


def _satisfies(fake: FakeUnitOfWork) -> UnitOfWork:
    """Never called: mypy fails here when the fake drifts from the handlers' port."""
    return fake
