"""CasePolicy: what the settings decide about cases, built once and passed to the handlers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.core.deadlines import BusinessCalendar
from handlers.core.places import Gazetteer, built_in_gazetteer
from handlers.core.ports import Classifier
from handlers.core.texts import Texts


@dataclass(frozen=True)
class Institution:
    """What the dialogue says about the institution, from `institution.*`."""

    name: str
    short_name: str
    folio_prefix: str
    emergency_numbers: str
    logo: str = ""  # a PNG or JPEG printed on the case's documents ("": none)


@dataclass(frozen=True)
class CasePolicy:
    """Institution, calendar, deadlines, classifier, topics, keys and texts."""

    institution: Institution
    calendar: BusinessCalendar
    deadline_days: dict[str, int]
    classifier: Classifier
    confidence_threshold: float
    topics: tuple[str, ...]
    hash_secret: str
    retention_days: int
    texts: Texts
    staff_chat_id: int = 0  # Telegram group where new cases are posted (0: none)
    messages_per_minute: int = 30  # per sender; beyond it they are told once to slow down
    emergency_deadline_days: int = 0  # business days for an emergency, whatever its type
    # Office that handles another service's matters, by service or topic name ([referrals]).
    referrals: Mapping[str, str] = field(default_factory=dict)
    # Notices to a citizen about one case within this time of each other go as one message.
    notice_gather: timedelta = timedelta(0)
    # The institution asks for cases in writing: a prefilled solicitud follows each receipt.
    written_filing: bool = False

    # The administrative units places are matched against (`institution.country` or
    # `institution.gazetteer`).
    places: Gazetteer = field(default_factory=lambda: built_in_gazetteer("SV"))

    def case_deadline_days(self, case_type: str, urgency: str | None = None) -> int:
        """Business days to answer a case: the emergency deadline for an emergency (0: the day
        it is received), else its type's."""
        if urgency == "emergencia":
            return self.emergency_deadline_days
        return self.deadline_days[case_type]

    def referral(self, *names: str | None) -> str | None:
        """The office configured for the first of these service or topic names that has one."""
        return next((self.referrals[n] for n in names if n and n in self.referrals), None)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """An HMAC of a value with `privacy.hash_secret`, so the value itself is not kept."""
        message = f"{purpose}:{value}".encode()
        return hmac.new(self.hash_secret.encode(), message, hashlib.sha256).hexdigest()

    def media_hash(self, case_id: int, digest: str) -> str:
        """What an anonymous case keeps of a file's content hash, and names it by: keyed per
        case, so the same photo sent in a named case does not link the two."""
        return self.keyed_hash(f"media:{case_id}", digest)

    def delivery_hash(self, provider_id: str) -> str:
        """What a delivery report kept before its message's provider id is recorded holds of
        that id (a confidential message's is never recorded: the report must not name it)."""
        return self.keyed_hash("delivery", provider_id)

    def day_of(self, instant: datetime) -> datetime:
        """The start of the instant's local day, in UTC: how finely anything about an anonymous
        case is dated, so that no time of it can be matched with the sender's activity."""
        return self.calendar.start_of_day(self.calendar.local_date(instant))

    def code_hash(self, code: str) -> str:
        """What an anonymous case keeps of its secret follow-up code."""
        return self.keyed_hash("code", code.upper())

    def format_folio(self, year: int, number: int) -> str:
        return f"{self.institution.folio_prefix}-{year}-{number:06d}"

    def example_folio(self, now: datetime) -> str:
        return self.format_folio(self.calendar.local_date(now).year, 123)

    def local_time(self, instant: datetime, *, anonymous: bool = False) -> str:
        """Date and hour as a person at the institution reads them. `anonymous`: a time of an
        anonymous case, which is kept to the day on purpose (docs/privacy.md), reads as the date
        alone rather than as a misleading 00:00."""
        local = instant.astimezone(self.calendar.tz)
        if anonymous and (local.hour, local.minute, local.second, local.microsecond) == (
            0,
            0,
            0,
            0,
        ):
            return local.strftime("%d/%m/%Y")
        return local.strftime("%d/%m/%Y %H:%M")

    def local_day(self, instant: datetime) -> str:
        """The local date with its weekday, for deadlines."""
        local = self.calendar.local_date(instant)
        weekday = self.texts("dates.weekdays").split(",")[local.weekday()]
        return f"{weekday} {local.strftime('%d/%m/%Y')}"

    def topic_label(self, topic: str) -> str:
        """A topic's Spanish name; configured topics without one read as their words."""
        key = f"labels.topic.{topic}"
        return self.texts(key) if self.texts.has(key) else topic.replace("_", " ")

    def known_topic(self, topic: str) -> str:
        """The topic if it is configured, else "otro"."""
        return topic if topic in self.topics else "otro"
