"""The ports the handlers work through: the unit of work, its repositories and the classifier.

Only what the handlers call is here, with the signatures of storage.repositories; the real unit
of work (storage.uow) and the unit tests' fake both satisfy these Protocols, as mypy checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Self

from storage.community import ProjectCounts
from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    Commitment,
    CommunityProject,
    CommunityUpdate,
    Contact,
    DialogueState,
    LabelledExample,
    Message,
    OutboxItem,
    Staff,
    Visit,
)


@dataclass(frozen=True)
class Classification:
    """The labels proposed for a description, and how sure the classifier is (0 to 1)."""

    type: str
    topic: str
    urgency: str
    confidence: float


class Classifier(Protocol):
    """Anything that proposes labels for a text."""

    def classify(self, text: str) -> Classification: ...


class Contacts(Protocol):
    """The people who write, one per channel and address."""

    def get_or_create(self, channel: str, address: str, now: datetime) -> Contact: ...

    def find(self, channel: str, address: str) -> Contact | None: ...

    def get(self, contact_id: int) -> Contact | None: ...

    def erase(self, contact: Contact) -> None: ...

    def erase_all(self, contact_ids: list[int]) -> None: ...

    def inactive(self, since: datetime) -> list[int]: ...


class Conversations(Protocol):
    """Where each contact is in the dialogue."""

    def get(self, contact_id: int) -> DialogueState | None: ...

    def save(self, contact_id: int, step: str, data: dict, now: datetime) -> None: ...

    def delete(self, contact_id: int) -> None: ...

    def delete_all(self, contact_ids: list[int]) -> None: ...


class Cases(Protocol):
    """Cases, their folios and their events."""

    def next_folio_number(self, prefix: str, year: int) -> int: ...

    def add(self, case: Case, *, detached: bool = False) -> Case: ...

    def get(self, case_id: int) -> Case | None: ...

    def by_folio(self, folio: str, *, lock: bool = False) -> Case | None: ...

    def by_secret_code_hash(self, code_hash: str) -> Case | None: ...

    def for_contact(self, contact_id: int | None) -> Sequence[Case]: ...

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
    ) -> Sequence[Case]: ...

    def waiting_for(self, contact_id: int) -> Case | None: ...

    def append_details(self, case_id: int, text: str, location: dict | None) -> None: ...

    def expired(
        self, statuses: Sequence[str], closed_before: datetime
    ) -> list[tuple[int, str]]: ...

    def anonymise(self, case_ids: list[int], placeholder: str) -> None: ...

    def add_event(self, event: CaseEvent, *, detached: bool = False) -> None: ...

    def add_events(
        self, case_ids: list[int], at: datetime, *, actor: str, kind: str, public: bool
    ) -> None: ...

    def events(self, case_id: int, *, public_only: bool = False) -> Sequence[CaseEvent]: ...

    def latest_events(self, kind: str) -> list[tuple[Case, CaseEvent]]: ...


class Messages(Protocol):
    """Messages both ways and their attachments."""

    def add_incoming(self, message: dict[str, Any]) -> int | None: ...

    def attach_to_case(self, message_ids: Iterable[int], case_id: int) -> None: ...

    def after_last_filed(self, contact_id: int, *, before: int, since: datetime) -> int: ...

    def unfiled(self, contact_id: int, *, from_id: int, also: Iterable[int]) -> list[Message]: ...

    def answers_about_cases(
        self, contact_id: int, *, from_id: int, at: Iterable[datetime]
    ) -> list[Message]: ...

    def detach(
        self,
        message_ids: list[int],
        case_id: int | None,
        day: datetime,
        key: Callable[[int, str], str] | None = None,
    ) -> None: ...

    def clear_repeats(
        self, contact_id: int, message_ids: list[int], *, min_length: int, placeholder: str
    ) -> None: ...

    def delete(self, message_ids: list[int]) -> None: ...

    def replace_body(self, message_id: int, body: str) -> None: ...

    def erase_conversation(
        self, contact_ids: list[int], case_ids: list[int], placeholder: str
    ) -> None: ...

    def erase_mentions(self, folios: list[str], placeholder: str) -> None: ...

    def count_for_contact(self, contact_id: int) -> int: ...

    def for_contact(self, contact_id: int, *, last: int | None = None) -> list[Message]: ...

    def for_case(self, case_id: int) -> Sequence[Message]: ...

    def add_attachment(self, attachment: Attachment) -> None: ...

    def attachments_for_case(
        self, case_id: int, *, citizens_only: bool = False
    ) -> Sequence[Attachment]: ...


class Outbox(Protocol):
    """What is to be sent, written in the same transaction as what caused it."""

    def enqueue(
        self,
        message: dict[str, Any],
        item: dict[str, Any],
        *,
        detached: bool = False,
    ) -> int: ...

    def release_waiting(
        self, channel: str, address: str, now: datetime, window: datetime
    ) -> None: ...

    def forget_address(self, channel: str, address: str) -> None: ...

    def forget_contacts(self, contact_ids: list[int]) -> None: ...

    def make_confidential(self, message_ids: list[int], day: datetime) -> None: ...

    def drop_early_reports(self, provider_hashes: Sequence[str]) -> None: ...

    def released_to_the_day(
        self, channel: str, address: str, since: datetime, day: datetime, window: timedelta
    ) -> None: ...

    def gathering(
        self, channel: str, address: str, case_id: int, now: datetime
    ) -> OutboxItem | None: ...

    def add_to_gathering(
        self, item: OutboxItem, body: str, options: dict, message_body: str, due: datetime, now
    ) -> bool: ...

    def add(self, item: OutboxItem) -> None: ...

    def with_option(self, case_id: int, key: str) -> Sequence[OutboxItem]: ...

    def withdraw(self, case_id: int, body: str) -> int:
        """Rows about this case with this text that are not sent yet are not sent at all."""
        ...


class StaffMembers(Protocol):
    """The institution's staff."""

    def active(self) -> Sequence[Staff]: ...

    def all(self) -> Sequence[Staff]: ...

    def get(self, staff_id: int) -> Staff | None: ...

    def by_id_or_name(self, who: str) -> Staff | None: ...

    def by_address(self, channel: str, address: str) -> Staff | None: ...

    def with_role(self, *roles: str) -> Sequence[Staff]: ...


class JobRuns(Protocol):
    """Which scheduled job ran for which date, so that only one process runs it."""

    def claim(self, job: str, run_date: str, now: datetime) -> bool: ...


class Examples(Protocol):
    """Descriptions with the labels a person confirmed, for the classifier to learn from."""

    def record(self, example: LabelledExample) -> None: ...

    def all(self) -> Sequence[LabelledExample]: ...

    def erase(self, case_ids: list[int], contact_ids: list[int]) -> None: ...


class Community(Protocol):
    """Projects people follow by keyword, their subscriptions and the updates sent."""

    def add_project(self, project: CommunityProject) -> CommunityProject: ...

    def projects(self) -> Sequence[CommunityProject]: ...

    def by_keyword(self, keyword: str) -> CommunityProject | None: ...

    def keywords(self) -> list[str]: ...

    def subscribe(self, project_id: int, contact_id: int, day: datetime) -> bool: ...

    def unsubscribe(self, project_id: int, contact_id: int) -> bool: ...

    def followed_by(self, contact_id: int) -> list[CommunityProject]: ...

    def subscribers(self, project_id: int) -> list[Contact]: ...

    def add_update(self, update: CommunityUpdate) -> CommunityUpdate: ...

    def add_deliveries(self, update_id: int, copies: Sequence[tuple[int, int | None]]) -> None: ...

    def counts(self, project_id: int) -> ProjectCounts: ...

    def forget_contacts(self, contact_ids: list[int]) -> None: ...


class Commitments(Protocol):
    """What the institution promised citizens on their cases."""

    def add(self, commitment: Commitment) -> Commitment: ...

    def get(self, commitment_id: int, *, lock: bool = False) -> Commitment | None: ...

    def for_case(self, case_id: int) -> list[Commitment]: ...

    def pending(self, limit: int | None = None) -> list[tuple[Commitment, str]]: ...

    def overdue_untold(self, today: date, since: datetime) -> list[tuple[Commitment, str]]: ...

    def anonymise(self, case_ids: list[int], placeholder: str) -> None: ...


class Visits(Protocol):
    """Field visits on cases."""

    def add(self, visit: Visit) -> Visit: ...

    def get(self, visit_id: int, *, lock: bool = False) -> Visit | None: ...

    def for_case(self, case_id: int) -> Sequence[Visit]: ...

    def awaiting_answer(self, contact_id: int) -> Visit | None: ...

    def listing(
        self,
        *,
        since: datetime | None = None,
        statuses: Sequence[str] | None = None,
        who: str | None = None,
        limit: int = 500,
    ) -> list[tuple[Visit, Case]]: ...

    def to_remind(self, start: datetime, end: datetime) -> list[tuple[Visit, Case]]: ...

    def done_by(self, staff_id: int, since: datetime) -> Visit | None: ...

    def forget_cases(self, case_ids: list[int]) -> None: ...


class UnitOfWork(Protocol):
    """One transaction and its repositories; what is not committed rolls back."""

    # Read-only here, so that an implementation may hold a more precise repository.
    @property
    def contacts(self) -> Contacts: ...

    @property
    def conversations(self) -> Conversations: ...

    @property
    def cases(self) -> Cases: ...

    @property
    def messages(self) -> Messages: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def staff(self) -> StaffMembers: ...

    @property
    def job_runs(self) -> JobRuns: ...

    @property
    def examples(self) -> Examples: ...

    @property
    def community(self) -> Community: ...

    @property
    def commitments(self) -> Commitments: ...

    @property
    def visits(self) -> Visits: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def purge_after_commit(self) -> None: ...
