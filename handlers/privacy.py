"""A citizen's rights over their data: see what is stored, and have it erased."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from handlers.cases import record_event
from handlers.lifecycle import FINAL
from handlers.policy import CasePolicy
from storage.models import Case, Contact


def personal_data(uow: Any, policy: CasePolicy, contact: Contact) -> str:
    """Everything stored about a contact, in words, for "mis datos"."""
    t = policy.texts
    cases = uow.cases.for_contact(contact.id)
    lines = [
        t("privacy.data_header"),
        t("privacy.data_channel", channel=t(f"labels.channel.{contact.channel}")),
        t("privacy.data_address", address=contact.address),
        t("privacy.data_name", name=contact.name or t("privacy.none")),
        t("privacy.data_gender", gender=t(f"labels.gender.{contact.gender or 'sin_dato'}")),
        t("privacy.data_age", age=contact.age if contact.age is not None else t("privacy.none")),
        t("privacy.data_messages", count=uow.messages.count_for_contact(contact.id)),
        t("privacy.data_cases", folios=", ".join(c.folio for c in cases) or t("privacy.none")),
        t("privacy.data_retention", days=policy.retention_days),
    ]
    return "\n".join(lines)


def erase_personal_data(uow: Any, policy: CasePolicy, contact: Contact, now: datetime) -> None:
    """Delete what identifies a person and what they wrote; keep the cases' anonymous figures
    (type, topic, dates, municipality) for the statistics."""
    placeholder = policy.texts("privacy.erased_placeholder")
    cases = uow.cases.for_contact(contact.id)
    forget_cases(uow, cases, contact.id, placeholder)
    for case in cases:
        record_event(uow, case, now, actor="ciudadano", kind="personal_data_erased", public=False)
    uow.outbox.forget_address(contact.channel, contact.address, placeholder)
    uow.contacts.erase(contact)


def forget_cases(uow: Any, cases: Sequence[Case], contact_id: int | None, placeholder: str) -> None:
    """What an erasure and the retention run both clear: the text of every message of the contact
    or about these cases, staff commands naming their folios, and the cases' sender, text, place,
    resolution, codes and event notes."""
    ids = [case.id for case in cases]
    uow.messages.erase_conversation(contact_id, ids, placeholder)
    uow.messages.erase_mentions([case.folio for case in cases], placeholder)
    uow.cases.anonymise(ids, placeholder)


def anonymise_expired(uow: Any, policy: CasePolicy, now: datetime) -> list[str]:
    """Anonymise every case closed or discarded more than `privacy.retention_days` ago, as an
    erasure does for one person, keeping the figures; the folios it anonymised."""
    cutoff = now - timedelta(days=policy.retention_days)
    cases = uow.cases.expired(sorted(FINAL), cutoff)
    forget_cases(uow, cases, None, policy.texts("privacy.expired_placeholder"))
    for case in cases:
        record_event(uow, case, now, actor="sistema", kind="retention_anonymised", public=False)
    return [case.folio for case in cases]
