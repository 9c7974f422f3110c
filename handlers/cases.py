"""Opening a case from a finished draft, and telling a citizen how their cases are going."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.classifier import Classifier
from handlers.deadlines import BusinessCalendar
from handlers.texts import Texts
from storage.models import Case, CaseEvent, Contact

MAX_DESCRIPTION = 4000
FOLIO_PATTERN = re.compile(r"\b([A-Za-z]{1,6})-(\d{4})-(\d{1,8})\b")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_PATTERN = re.compile(r"\b([A-Za-z2-9]{4})-([A-Za-z2-9]{4})-([A-Za-z2-9]{4})\b")


@dataclass(frozen=True)
class Institution:
    """What the dialogue says about the institution, from `institution.*`."""

    name: str
    short_name: str
    folio_prefix: str
    emergency_numbers: str


@dataclass(frozen=True)
class CasePolicy:
    """Everything that decides how a case is opened and shown; built once from the settings."""

    institution: Institution
    calendar: BusinessCalendar
    deadline_days: dict[str, int]
    classifier: Classifier
    confidence_threshold: float
    topics: tuple[str, ...]
    hash_secret: str
    retention_days: int
    texts: Texts

    def identity_hash(self, channel: str, address: str) -> str:
        """A keyed hash of a sender, kept instead of their identity on anonymous cases."""
        key = self.hash_secret.encode()
        return hmac.new(key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def code_hash(self, code: str) -> str:
        """A keyed hash of an anonymous case's secret code."""
        key = self.hash_secret.encode()
        return hmac.new(key, f"code:{code.upper()}".encode(), hashlib.sha256).hexdigest()

    def format_folio(self, year: int, number: int) -> str:
        return f"{self.institution.folio_prefix}-{year}-{number:06d}"

    def example_folio(self, now: datetime) -> str:
        return self.format_folio(self.calendar.local_date(now).year, 123)

    def local_time(self, instant: datetime) -> str:
        """Date and hour as a person in the institution reads them."""
        return instant.astimezone(self.calendar.tz).strftime("%d/%m/%Y %H:%M")

    def local_day(self, instant: datetime) -> str:
        """The local date with its weekday, for deadlines."""
        local = self.calendar.local_date(instant)
        weekday = self.texts("dates.weekdays").split(",")[local.weekday()]
        return f"{weekday} {local.strftime('%d/%m/%Y')}"


@dataclass(frozen=True)
class OpenedCase:
    case: Case
    secret_code: str | None


def new_secret_code() -> str:
    """A follow-up code for an anonymous case, easy to read aloud: XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def open_case(
    uow: Any,
    policy: CasePolicy,
    *,
    contact: Contact,
    draft: dict,
    now: datetime,
    actor: str = "ciudadano",
) -> OpenedCase:
    """Create the case of a finished draft: folio, deadline, audit event, linked messages."""
    year = policy.calendar.local_date(now).year
    folio = policy.format_folio(
        year, uow.cases.next_folio_number(policy.institution.folio_prefix, year)
    )
    days = policy.deadline_days[draft["type"]]
    anonymous = bool(draft.get("anonymous"))
    secret_code = new_secret_code() if anonymous else None
    location = draft.get("location") or {}
    case = uow.cases.add(
        Case(
            folio=folio,
            contact_id=None if anonymous else contact.id,
            channel=contact.channel,
            type=draft["type"],
            topic=draft["topic"],
            urgency=draft.get("urgency", "normal"),
            confidence=draft.get("confidence"),
            description=describe(draft, policy.texts),
            location_text=draft.get("location_text") or location.get("address"),
            municipality=draft.get("municipality"),
            latitude=location.get("latitude"),
            longitude=location.get("longitude"),
            anonymous=anonymous,
            reporter_hash=policy.identity_hash(contact.channel, contact.address)
            if anonymous
            else None,
            secret_code_hash=policy.code_hash(secret_code) if secret_code else None,
            gender="sin_dato" if anonymous else (contact.gender or "sin_dato"),
            age=None if anonymous else contact.age,
            deadline_days=days,
            created_at=now,
            due_at=policy.calendar.due_at(now, days),
        )
    )
    uow.messages.attach_to_case(draft.get("message_ids", []), case.id, forget_sender=anonymous)
    record_event(
        uow,
        case,
        now,
        actor="ciudadano" if anonymous else actor,
        kind="created",
        to_status=case.status,
    )
    return OpenedCase(case, secret_code)


def describe(draft: dict, texts: Texts) -> str:
    """The case description: everything the person wrote, in order, within a sane length."""
    text = "\n".join(draft.get("parts", [])).strip()
    if not text:
        return texts("dialogue.description_media_only", count=draft.get("media", 0))
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def record_event(
    uow: Any,
    case: Case,
    now: datetime,
    *,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    public: bool = True,
) -> None:
    """Append to the case's audit trail."""
    uow.cases.add_event(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public=public,
        )
    )


def mentions_case(text: str) -> bool:
    """Whether a text carries something shaped like a folio or an anonymous code."""
    return bool(FOLIO_PATTERN.search(text) or CODE_PATTERN.search(text))


def find_own_case(
    uow: Any, policy: CasePolicy, contact: Contact, text: str
) -> tuple[Case, str] | None:
    """The case a person refers to by folio (only their own) or by anonymous code (any holder)."""
    folio_match = FOLIO_PATTERN.search(text)
    if folio_match:
        prefix, year, number = folio_match.groups()
        folio = f"{prefix.upper()}-{year}-{int(number):06d}"
        case = uow.cases.by_folio(folio)
        if case is not None and case.contact_id == contact.id and not case.anonymous:
            return case, folio
    code_match = CODE_PATTERN.search(text)
    if code_match:
        code = "-".join(code_match.groups()).upper()
        case = uow.cases.by_secret_code_hash(policy.code_hash(code))
        if case is not None:
            return case, code
    return None


def render_status(uow: Any, policy: CasePolicy, case: Case, reference: str) -> str:
    """Status, deadline and public history of a case, for the citizen."""
    t = policy.texts
    lines = [
        t(
            "dialogue.status_detail",
            reference=reference,
            type=t(f"labels.type.{case.type}"),
            topic=t(f"labels.topic.{case.topic}"),
            status=t(f"labels.status.{case.status}"),
            received=policy.local_time(case.created_at),
            due=policy.local_day(case.due_at),
        )
    ]
    for event in uow.cases.events(case.id, public_only=True):
        lines.append(
            t(
                "dialogue.status_event_line",
                at=policy.local_time(event.at),
                what=event_summary(t, event),
            )
        )
    return "\n".join(lines)


def event_summary(t: Texts, event: CaseEvent) -> str:
    """One line saying what an event did, in words a person understands."""
    if event.kind == "created":
        return t("events.created")
    if event.kind == "emergency_alert":
        return t("events.emergency_alert")
    if event.to_status:
        return t("events.status_changed", status=t(f"labels.status.{event.to_status}"))
    return event.kind
