"""The tables. No queries here: those live in the repositories."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from storage.ids import timed_id
from storage.types import UTCDateTime

MAX_DESCRIPTION = 4000  # characters of a case description; the messages keep everything
# Tables that hold what people wrote or who they are: vacuumed after erasures (PostgreSQL).
PERSONAL_TABLES = (
    "contacts",
    "conversation_states",
    "cases",
    "case_events",
    "messages",
    "attachments",
    "outbox",
    "labelled_examples",
    "community_subscriptions",
    "community_deliveries",
    "commitments",
    "visits",
)
REDACTED = "[confidencial]"  # stands in for a confidential text once it has been sent
# The open statuses (handlers.core.labels.OPEN_STATUSES) as SQL, for the desk's partial index.
OPEN_CONDITION = (
    "status IN ('recibido', 'en_revision', 'asignado', 'en_proceso', 'esperando_ciudadano', "
    "'remitido')"
)
UNATTENDED_CONDITION = "attended_at IS NULL"  # the cases of ix_cases_unattended


def day_start(instant: datetime) -> datetime:
    """The instant cut to its UTC day: contacts' times are kept no finer, so that they cannot be
    matched with the time of an anonymous report."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    """A UTC timestamp field."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


# A timed id (storage/ids.py) needs 64 bits: BIGINT on PostgreSQL; on SQLite an INTEGER primary
# key, which is already 64 bits and is the row's rowid (a BIGINT one would leave a hidden rowid
# beside it, counted one by one).
TIMED_ID = BigInteger().with_variant(Integer(), "sqlite")


def timed_id_column() -> Any:
    """The id of a row that can leave for an anonymous case: the time it was written, never a
    count (drawn by the application; no sequence in the database)."""
    return Field(
        default=None,
        sa_column=Column(TIMED_ID, primary_key=True, autoincrement=False, default=timed_id),
    )


def random_id_column() -> Any:
    """The id of a row whose place among the others must not tell when it was written (who
    follows a project): drawn at random by the application (storage/community.py)."""
    return Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=False))


def message_column(*, nullable: bool, index: bool = False) -> Any:
    """A reference to a message (a timed id)."""
    column = Column(TIMED_ID, ForeignKey("messages.id"), nullable=nullable, index=index)
    return Field(default=None, sa_column=column)


def json_column() -> Any:
    """A JSON document field (dialogue drafts, reply options)."""
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Contact(SQLModel, table=True):
    """A citizen as seen on one channel and address."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contacts_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=120)
    gender: str | None = Field(default=None, max_length=16)
    age: int | None = None
    consented_at: datetime | None = utc_column()  # to the day (see day_start)
    created_at: datetime = utc_column(nullable=False)  # to the day
    # Folios or codes asked about that were not theirs or did not exist (casework/cases.py).
    folio_misses: int = 0
    folio_misses_since: datetime | None = utc_column()
    folio_blocked_until: datetime | None = utc_column()


class Case(SQLModel, table=True):
    """One citizen matter, with its folio, whatever the number of messages."""

    __tablename__ = "cases"
    __table_args__ = (
        # Covers the report's received figures (breakdowns, people, first responses, backlog):
        # no table reads for them. Also serves searches by created_at alone (its first column).
        Index(
            "ix_cases_received",
            "created_at",
            "channel",
            "type",
            "topic",
            "municipality",
            "urgency",
            "contact_id",
            "gender",
            "age",
            "first_response_at",
            "attended_at",
            "closed_at",
            "due_at",
        ),
        # Covers the report's attended figures and its backlog: no table reads for them.
        Index(
            "ix_cases_attended",
            "attended_at",
            "channel",
            "type",
            "due_at",
            "created_at",
            "survey_rating",
            "survey_resolved",
            "closed_at",
        ),
        # Also serves searches by contact_id alone, as the next one does by status and due_at.
        Index("ix_cases_contact_created", "contact_id", "created_at"),
        # Searches by status and deadline.
        Index("ix_cases_open_due", "status", "due_at", "channel", "assignee_id"),
        # The summary's open and overdue cases (never attended), read from this index alone.
        Index(
            "ix_cases_unattended",
            "attended_at",
            "status",
            "due_at",
            "channel",
            "assignee_id",
            "folio",
            sqlite_where=text(UNATTENDED_CONDITION),
            postgresql_where=text(UNATTENDED_CONDITION),
        ),
        # The web desk's Bandeja: open cases of one urgency in deadline order, read a page at a
        # time without sorting (the WHERE of a query must repeat OPEN_CONDITION to use it).
        Index(
            "ix_cases_desk_queue",
            "urgency",
            "due_at",
            "id",
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
        # The same, per assignee (the folders Mías and Sin asignar).
        Index(
            "ix_cases_desk_assignee",
            "assignee_id",
            "urgency",
            "due_at",
            "id",
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    folio: str = Field(max_length=32, unique=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    channel: str = Field(max_length=16)
    type: str = Field(max_length=16)
    topic: str = Field(max_length=40)
    urgency: str = Field(default="normal", max_length=16)
    confidence: float | None = None
    status: str = Field(default="recibido", max_length=24)
    description: str = Field(sa_column=Column(Text, nullable=False))
    location_text: str | None = Field(default=None, max_length=300)
    municipality: str | None = Field(default=None, max_length=120, index=True)
    # Beside the gazetteer's municipality: the district (El Salvador's former municipality) and
    # the department, when the place was matched (docs/places.md).
    district: str | None = Field(default=None, max_length=120)
    department: str | None = Field(default=None, max_length=120)
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    secret_code_hash: str | None = Field(default=None, max_length=64, unique=True)
    gender: str = Field(default="sin_dato", max_length=16)
    age: int | None = None
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    deadline_days: int
    created_at: datetime = utc_column(nullable=False)  # an anonymous case's: its day only
    first_response_at: datetime | None = utc_column()
    due_at: datetime = utc_column(nullable=False)
    closed_at: datetime | None = utc_column()
    # First time the case reached resuelto, cerrado or remitido (the report's "attended").
    attended_at: datetime | None = utc_column()
    # Staff work (see handlers/casework/lifecycle.py and staff.py).
    prioritised: bool = False
    referred_to: str | None = Field(default=None, max_length=200)
    resolution: str | None = Field(default=None, sa_column=Column(Text))
    paused_at: datetime | None = utc_column()  # waiting for the citizen since then
    extension_days: int = 0  # business days added by the one extension allowed
    survey_resolved: bool | None = None
    survey_rating: int | None = None
    # "Situaciones que afectan a mujeres": its visits come first, and the tally counts them.
    affects_women: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Message(SQLModel, table=True):
    """Every message in or out; the provider id is unique per channel, for deduplication."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "provider_id", name="uq_messages_provider"),
        # A person's messages in order, and the last of them (read when a new one comes).
        Index("ix_messages_contact_id", "contact_id", "id"),
    )

    id: int | None = timed_id_column()
    direction: str = Field(max_length=3)  # "in" or "out"
    channel: str = Field(max_length=16)
    provider_id: str | None = Field(default=None, max_length=80)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="received", max_length=16)
    created_at: datetime = utc_column(nullable=False)
    # An outgoing message to staff (a card, an alert, an answer to a command), not the citizen;
    # an incoming one from a staff member (a command, a field visit's photo), not the citizen.
    to_staff: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Attachment(SQLModel, table=True):
    """A photo, video, voice note, document or file a citizen sent."""

    __tablename__ = "attachments"

    id: int | None = timed_id_column()
    message_id: int = message_column(nullable=False, index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    kind: str = Field(max_length=16)
    provider_ref: str = Field(max_length=1000)
    content_type: str | None = Field(default=None, max_length=100)
    local_path: str | None = Field(default=None, max_length=300)
    sha256: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending, stored, failed
    attempts: int = 0
    created_at: datetime = utc_column(nullable=False)


class CaseEvent(SQLModel, table=True):
    """Append-only audit trail: who changed what on a case, and when."""

    __tablename__ = "case_events"

    id: int | None = timed_id_column()
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = utc_column(nullable=False)
    actor: str = Field(max_length=80)
    kind: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    note: str | None = Field(default=None, sa_column=Column(Text))
    public: bool = True


class ConversationState(SQLModel, table=True):
    """Where each contact is in the dialogue, so a restart loses nothing."""

    __tablename__ = "conversation_states"

    contact_id: int = Field(foreign_key="contacts.id", primary_key=True)
    step: str = Field(max_length=32)
    data: dict = json_column()
    updated_at: datetime = utc_column(nullable=False)


@dataclass(frozen=True)
class DialogueState:
    """A contact's ConversationState as read, or as last saved in this transaction: a plain
    value, not the session's object (`ConversationRepository` writes it by statements)."""

    contact_id: int
    step: str
    data: dict
    updated_at: datetime


class OutboxItem(SQLModel, table=True):
    """A reply waiting to be sent, written in the same transaction as what caused it.

    A confidential row (a turn about an anonymous case, an erasure's confirmation) has no
    message linked and is deleted once sent: its recipient is kept only until then.

    Status: `pending` (to send when `next_attempt_at` comes, by whoever claims it first),
    `waiting` (held until the citizen writes again: WhatsApp's 24-hour window), `sent`, `failed`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_recipient", "channel", "address", "id"),
        Index("ix_outbox_provider_id", "channel", "provider_message_id"),
    )

    id: int | None = timed_id_column()
    message_id: int | None = message_column(nullable=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    options: dict = json_column()
    confidential: bool = False
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = utc_column(nullable=False)
    created_at: datetime = utc_column(nullable=False)
    sent_at: datetime | None = utc_column()
    provider_message_id: str | None = Field(default=None, max_length=80)
    last_error: str | None = Field(default=None, max_length=300)
    claimed_until: datetime | None = utc_column()  # a dispatcher is sending it until then
    claimed_by: str | None = Field(default=None, max_length=36)  # that dispatcher (its heartbeat)
    window_until: datetime | None = utc_column()  # free-form replies allowed until then
    notified_at: datetime | None = utc_column()  # when a template told the citizen it waits


class Staff(SQLModel, table=True):
    """A person of the institution who works the queue."""

    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_username", "username", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    role: str = Field(max_length=16)
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))
    whatsapp: str | None = Field(default=None, max_length=32, unique=True)
    active: bool = True
    created_at: datetime = utc_column(nullable=False)
    # The web desk's sign-in (bot/desk/): unique user name, Argon2 hash, TOTP secret.
    username: str | None = Field(default=None, max_length=64)
    password_hash: str | None = Field(default=None, max_length=200)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = None  # a code is accepted once
    failed_sign_ins: int = 0
    locked_until: datetime | None = utc_column()


class FolioCounter(SQLModel, table=True):
    """The last folio number given, per prefix and year; incremented under a row lock."""

    __tablename__ = "folio_counters"

    prefix: str = Field(max_length=8, primary_key=True)
    year: int = Field(primary_key=True)
    last_value: int = 0


class JobRun(SQLModel, table=True):
    """A scheduled job's claim for one date: whoever inserts it first runs the job."""

    __tablename__ = "job_runs"

    job: str = Field(max_length=40, primary_key=True)
    run_date: str = Field(max_length=16, primary_key=True)
    claimed_at: datetime = utc_column(nullable=False)


class LabelledExample(SQLModel, table=True):
    """A description and the labels a person confirmed for it (a staff reclassification, or the
    citizen's own correction), which the classifier learns from at its next retraining. It is
    what someone wrote: erased with their data, and never kept for an anonymous case."""

    __tablename__ = "labelled_examples"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    source: str = Field(max_length=16)  # "personal" (staff) or "ciudadano"
    text: str = Field(sa_column=Column(Text, nullable=False))
    type: str = Field(max_length=16)
    topic: str = Field(max_length=40)
    urgency: str = Field(max_length=16)
    created_at: datetime = utc_column(nullable=False)  # to the day (see day_start)


class DispatcherHeartbeat(SQLModel, table=True):
    """A running process that sends the outbox, with its heartbeat: the rows a process claimed
    are taken over by another once its heartbeat stops (it crashed), not when the lease ends."""

    __tablename__ = "dispatchers"

    id: str = Field(max_length=36, primary_key=True)
    started_at: datetime = utc_column(nullable=False)
    heartbeat_at: datetime = utc_column(nullable=False)


class Pacing(SQLModel, table=True):
    """A channel's next free sending slot, shared by every process on the database, so that
    the provider's overall rate holds however many instances send (updated under a row lock)."""

    __tablename__ = "pacing"

    channel: str = Field(max_length=16, primary_key=True)
    next_slot_at: datetime = utc_column(nullable=False)


class EarlyDeliveryReport(SQLModel, table=True):
    """A provider's delivery report that arrived before the provider's id of the message was
    recorded (the callback can beat the send's own answer): applied when it is."""

    __tablename__ = "early_delivery_reports"
    __table_args__ = (Index("ix_early_reports_provider", "channel", "provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=80)
    status: str = Field(max_length=20)
    failure: str | None = Field(default=None, max_length=16)  # held or permanent
    reason: str | None = Field(default=None, max_length=300)
    received_at: datetime = utc_column(nullable=False)


class ChatMigration(SQLModel, table=True):
    """A Telegram group that became a supergroup, with a new chat id: the staff chat named by
    its old id in the settings is followed to the new one."""

    __tablename__ = "chat_migrations"

    channel: str = Field(max_length=16, primary_key=True)
    old_address: str = Field(max_length=64, primary_key=True)
    new_address: str = Field(max_length=64)
    migrated_at: datetime = utc_column(nullable=False)


class DeskSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds an opaque token, the table only its hash."""

    __tablename__ = "desk_sessions"

    token_hash: str = Field(max_length=64, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = utc_column(nullable=False)
    last_seen_at: datetime = utc_column(nullable=False)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins from one network address: five slow it down for a while."""

    __tablename__ = "desk_sign_in_throttle"

    address: str = Field(max_length=64, primary_key=True)
    failures: int = 0
    first_failure_at: datetime | None = utc_column()
    slowed_until: datetime | None = utc_column()


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the authenticator; only its hash is kept."""

    __tablename__ = "staff_recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = utc_column()


class AuditEntry(SQLModel, table=True):
    """What a staff member did or opened in the desk (sign-ins, anonymous cases, downloads)."""

    __tablename__ = "staff_audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(nullable=False, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    action: str = Field(max_length=40)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    detail: str | None = Field(default=None, max_length=300)


class SavedReply(SQLModel, table=True):
    """A reply kept by supervisors, with {folio}, {fecha_limite} and {institucion}."""

    __tablename__ = "saved_replies"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120, unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_column(nullable=False)


class Team(SQLModel, table=True):
    """Staff who work one part of the cases: some topics and/or some municipalities (a regional
    office). Empty lists mean any."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    topics: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    municipalities: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)


class CommunityProject(SQLModel, table=True):
    """A public work or a watched place that people follow by writing its keyword."""

    __tablename__ = "community_projects"

    id: int | None = Field(default=None, primary_key=True)
    keyword: str = Field(max_length=30, unique=True)  # folded: lower case, no accents
    name: str = Field(max_length=120)
    place: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_column(nullable=False)


class CommunitySubscription(SQLModel, table=True):
    """A person following a project: personal data (shown by MIS DATOS, erased by BORRAR)."""

    __tablename__ = "community_subscriptions"
    __table_args__ = (UniqueConstraint("project_id", "contact_id", name="uq_subscription"),)

    id: int | None = random_id_column()
    project_id: int = Field(foreign_key="community_projects.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    created_at: datetime = utc_column(nullable=False)  # to the day (see day_start)


class CommunityUpdate(SQLModel, table=True):
    """A message staff sent to every subscriber of a project."""

    __tablename__ = "community_updates"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="community_projects.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_column(nullable=False)


class CommunityDelivery(SQLModel, table=True):
    """One subscriber's copy of an update: its outbox row tells whether it reached them. The
    person is unlinked when their data are erased; the row stays for the counts."""

    __tablename__ = "community_deliveries"

    id: int | None = random_id_column()
    update_id: int = Field(foreign_key="community_updates.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    outbox_id: int | None = Field(default=None, sa_column=Column(TIMED_ID, nullable=True))
    # How the copy fared, kept once its person was erased and its outbox row deleted with them:
    # "sent", "failed" or "withdrawn" (never sent); None while the outbox row tells.
    status: str | None = Field(default=None, max_length=16)


class Commitment(SQLModel, table=True):
    """What the institution promised a citizen on a case (or a visit): what, who answers for it
    and by when; met, moved (the new date and why) or cancelled. Dates are local days."""

    __tablename__ = "commitments"
    __table_args__ = (Index("ix_commitments_status_due", "status", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    # A commitment made on a field visit (the visit's case is the commitment's).
    visit_id: int | None = Field(default=None, foreign_key="visits.id")
    what: str = Field(sa_column=Column(Text, nullable=False))
    responsible_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    responsible_name: str | None = Field(default=None, max_length=120)  # someone not on the staff
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    original_due_date: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, met, cancelled
    met_at: datetime | None = utc_column()
    met_on_time: bool | None = None  # on or before its date (as it stood), in local days
    moved_count: int = 0
    moved_reason: str | None = Field(default=None, sa_column=Column(Text))  # the last one
    created_by: str = Field(max_length=80)
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    overdue_notified_at: datetime | None = utc_column()  # the responsible was told it is late


class Visit(SQLModel, table=True):
    """A field visit ("Visita Técnica Social") on a case: proposed by staff, confirmed by the
    citizen or moved, reminded the day before, and then done, cancelled or missed."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_status", "status", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    starts_at: datetime = utc_column(nullable=False, index=True)  # the window, in UTC
    ends_at: datetime = utc_column(nullable=False)
    who: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # proposed, confirmed, reschedule_asked, done, cancelled, missed
    status: str = Field(max_length=20)
    proposed_by: str = Field(max_length=80)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # who proposed it
    citizen_answer: str | None = Field(default=None, sa_column=Column(Text))  # "otro día ..."
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    next_step: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = Field(default=None, sa_column=Column(Text))  # of a cancellation
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    confirmed_at: datetime | None = utc_column()
    done_at: datetime | None = utc_column()
    # Who recorded it done: the photos they send right after join the case.
    done_by_id: int | None = Field(default=None, foreign_key="staff.id")
    reminded_at: datetime | None = utc_column()  # the day-before reminder, sent once


def row_values(model: Any, **values: Any) -> dict[str, Any]:
    """The column values of a new row of `model` (a table's SQLModel class): those given, the
    fields' defaults for the rest: what `model(**values)` would hold, without building and
    instrumenting the object (for rows written with a plain INSERT and never read back in the
    transaction, such as a turn's replies)."""
    missing = _required(model) - values.keys()
    if missing:
        raise TypeError(f"{model.__name__}: no value for {', '.join(sorted(missing))}")
    return {**_defaults(model), **values}


@functools.cache
def _defaults(model: Any) -> dict[str, Any]:
    fields = model.model_fields
    return {
        name: field.get_default(call_default_factory=False)
        for name, field in fields.items()
        if name != "id" and not field.is_required() and field.default_factory is None
    }


@functools.cache
def _required(model: Any) -> frozenset[str]:
    fields = model.model_fields
    return frozenset(
        name
        for name, field in fields.items()
        if name != "id" and (field.is_required() or field.default_factory is not None)
    )
