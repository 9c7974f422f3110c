"""A citizen's rights over their data: see what is stored, and have it erased."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from handlers.casework.cases import record_event
from handlers.casework.lifecycle import FINAL
from handlers.casework.reach import PHONE
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case, Contact

# What MIS DATOS shows in the chat (the terminal's `privacy show` shows everything, uncut): the
# latest cases and messages, each text cut, so the answer stays a few chat messages long.
CHAT_CASES = 10
CHAT_MESSAGES = 20
CHAT_TEXT = 300


def personal_data(
    uow: UnitOfWork,
    policy: CasePolicy,
    contact: Contact,
    *,
    whole: bool = False,
    erase_option: str | None = None,
) -> str:
    """Everything stored about a contact, in words, for "mis datos": who they are, each case
    (description, place, status, dates, resolution, the gender and age kept for the counts) and
    the text of their messages; in the chat the latest ones only (`whole` for all). With
    `erase_option` (how the terminal named them: "--folio TA-…") it is written for staff,
    about the person, and ends with the command that erases it."""
    t = policy.texts
    cases = list(uow.cases.for_contact(contact.id))
    count = uow.messages.count_for_contact(contact.id)
    messages = uow.messages.for_contact(contact.id, last=None if whole else CHAT_MESSAGES)
    staff = erase_option is not None
    lines = [
        t("privacy.staff_data_header" if staff else "privacy.data_header"),
        t("privacy.data_channel", channel=channel_of(policy, contact, cases)),
        t("privacy.data_address", address=address_of(policy, contact)),
        t("privacy.data_name", name=contact.name or t("privacy.no_data")),
    ]
    # Gender and age given in the chat; a call or a walk-in keeps them on each case only.
    if not staff or contact.gender is not None or contact.age is not None:
        age = contact.age if contact.age is not None else t("privacy.no_data")
        lines += [
            t("privacy.data_gender", gender=t(f"labels.gender.{contact.gender or 'sin_dato'}")),
            t("privacy.data_age", age=age),
        ]
    lines.append(
        t("privacy.data_cases", folios=", ".join(c.folio for c in cases) or t("privacy.none"))
    )
    shown_cases = cases if whole else cases[-CHAT_CASES:]
    if len(shown_cases) < len(cases):
        lines.append(t.plural("privacy.data_cases_left_out", len(cases) - len(shown_cases)))
    for case in shown_cases:
        lines += _case_lines(policy, case, whole)
    followed = uow.community.followed_by(contact.id or 0)
    projects = ", ".join(f"{p.name} ({p.keyword.upper()})" for p in followed)
    lines.append(t("privacy.data_subscriptions", projects=projects or t("privacy.none")))
    lines.append(t("privacy.data_messages", count=count))
    if len(messages) < count:
        lines.append(t.plural("privacy.data_messages_left_out", count - len(messages)))
    prefix = "privacy.staff_data_message" if staff else "privacy.data_message"
    for message in messages:
        key = f"{prefix}_in" if message.direction == "in" else f"{prefix}_out"
        at = policy.local_time(message.created_at)
        lines.append(t(key, at=at, text=_cut(message.body, whole)))
    days = t.plural("amounts.days", policy.retention_days)
    if staff:
        lines.append(t("privacy.staff_data_retention", days=days, option=erase_option))
    else:
        lines.append(t("privacy.data_retention", days=days))
    return "\n".join(lines)


def has_number(contact: Contact) -> bool:
    """Whether the contact's address is one (a chat's, or a number a caller left), not the
    placeholder of a caller or walk-in who left only a name."""
    return contact.channel != "telefono" or PHONE.fullmatch(contact.address) is not None


def address_of(policy: CasePolicy, contact: Contact) -> str:
    return contact.address if has_number(contact) else policy.texts("privacy.staff_no_number")


def channel_of(policy: CasePolicy, contact: Contact, cases: Sequence[Case]) -> str:
    """The channel a person came by: their chat's, or for someone logged by staff the cases'
    (Teléfono, Presencial), which the contact does not tell apart."""
    t = policy.texts
    if contact.channel != "telefono" or not cases:
        return t(f"labels.channel.{contact.channel}")
    seen = dict.fromkeys(t(f"labels.channel.{case.channel}") for case in cases)
    return ", ".join(seen)


def case_figures(policy: CasePolicy, case: Case) -> str | None:
    """The gender and age a case keeps for the counts, in words; None when it keeps neither."""
    t = policy.texts
    if case.gender == "sin_dato" and case.age is None:
        return None
    age = t.plural("privacy.data_case_age", case.age) if case.age is not None else None
    return f"{t(f'labels.gender.{case.gender}')}, {age or t('privacy.data_case_no_age')}"


def _case_lines(policy: CasePolicy, case: Case, whole: bool) -> list[str]:
    t = policy.texts
    parts = [case.location_text or ""]
    if case.municipality and case.municipality not in parts[0]:
        parts.append(case.municipality)
    if case.latitude is not None and case.longitude is not None:
        parts.append(f"{case.latitude}, {case.longitude}")
    place = ", ".join(part for part in parts if part)
    lines = [
        "",
        t(
            "privacy.data_case",
            folio=case.folio,
            type=t(f"labels.type.{case.type}"),
            topic=policy.topic_label(case.topic),
        ),
        t("privacy.data_case_status", status=t(f"labels.status.{case.status}")),
        t(
            "privacy.data_case_dates",
            received=policy.local_time(case.created_at),
            due=policy.local_day(case.due_at),
        ),
    ]
    if case.closed_at is not None:
        lines.append(t("privacy.data_case_closed", closed=policy.local_time(case.closed_at)))
    lines.append(t("privacy.data_case_place", place=place or t("privacy.none")))
    if case.gender != "sin_dato" or case.age is not None:
        # Kept on the case for the counts: given in the chat, or to staff who logged a call.
        age = t.plural("privacy.data_case_age", case.age) if case.age is not None else None
        lines.append(
            t(
                "privacy.data_case_figures",
                gender=t(f"labels.gender.{case.gender}"),
                age=age or t("privacy.data_case_no_age"),
            )
        )
    lines.append(t("privacy.data_case_description", description=_cut(case.description, whole)))
    if case.resolution:
        lines.append(t("privacy.data_case_resolution", resolution=_cut(case.resolution, whole)))
    lines.append("")
    return lines


def _cut(text: str, whole: bool) -> str:
    """A stored text on one line, cut in the chat."""
    flat = " ".join(text.split())
    return flat if whole or len(flat) <= CHAT_TEXT else flat[: CHAT_TEXT - 1] + "…"


def erasure_summary(uow: UnitOfWork, policy: CasePolicy, contact: Contact) -> str:
    """What an erasure of this contact clears and what it keeps, in words, for the staff member
    who confirms it: only what is there to erase."""
    t = policy.texts
    cases = list(uow.cases.for_contact(contact.id))
    folios = ", ".join(case.folio for case in cases) or t("privacy.none")
    channel, address = channel_of(policy, contact, cases), address_of(policy, contact)
    name = contact.name or t("privacy.none")
    key = "privacy.staff_erase_who" if contact.name else "privacy.staff_erase_who_unnamed"
    who = t(key, name=name, channel=channel, address=address)
    if contact.name and not has_number(contact):
        who = f"{contact.name} ({channel})"
    lines = [
        t("privacy.staff_erase_header", who=who),
        t("privacy.staff_erase_identity", name=name),
    ]
    if contact.gender is not None or contact.age is not None:
        lines.append(t("privacy.staff_erase_profile"))
    count = uow.messages.count_for_contact(contact.id)
    if count:
        lines.append(
            t("privacy.staff_erase_messages", messages=t.plural("amounts.messages", count))
        )
    lines += [t("privacy.staff_erase_cases", folios=folios), t("privacy.staff_erase_kept")]
    return "\n".join(lines)


def erase_personal_data(
    uow: UnitOfWork, policy: CasePolicy, contact: Contact, now: datetime
) -> None:
    """Delete what identifies a person and what they wrote; keep the cases' anonymous figures
    (type, topic, dates, municipality) for the statistics."""
    placeholder = policy.texts("privacy.erased_placeholder")
    # First: the updates sent to them are found by their outbox rows, which the next steps clear.
    uow.community.forget_contacts([contact.id or 0])
    cases = uow.cases.for_contact(contact.id)
    forget_cases(uow, cases, contact.id, placeholder)
    for case in cases:
        record_event(uow, case, now, actor="ciudadano", kind="personal_data_erased", public=False)
    forget_contact(uow, contact)


def forget_contact(uow: UnitOfWork, contact: Contact) -> None:
    """Clear who the person is and their address from the outbox (their messages' text, the
    projects they follow and the updates sent to them are cleared before)."""
    uow.outbox.forget_address(contact.channel, contact.address)
    uow.contacts.erase(contact)
    uow.purge_after_commit()


def forget_cases(
    uow: UnitOfWork, cases: Sequence[Case], contact_id: int | None, placeholder: str
) -> None:
    """What an erasure and the retention run both clear: the text of every message of the contact
    or about these cases, staff commands naming their folios, and the cases' sender, text, place,
    resolution, codes and event notes, and the labelled examples taken from them."""
    contacts = [] if contact_id is None else [contact_id]
    _forget(
        uow, [(case.id, case.folio) for case in cases if case.id is not None], contacts, placeholder
    )


def _forget(
    uow: UnitOfWork, cases: list[tuple[int, str]], contact_ids: list[int], placeholder: str
) -> None:
    """forget_cases() for cases given as (id, folio) and any number of contacts: each step is
    one statement over all of them (the messages are read once for the folios named)."""
    ids = [case_id for case_id, _ in cases]
    uow.messages.erase_conversation(contact_ids, ids, placeholder)
    uow.messages.erase_mentions([folio for _, folio in cases], placeholder)
    uow.cases.anonymise(ids, placeholder)
    uow.visits.forget_cases(ids)  # what was written of their field visits
    uow.examples.erase(ids, contact_ids)  # what the classifier would have learned from them
    uow.commitments.anonymise(ids, placeholder)  # what was promised can name people
    uow.purge_after_commit()


def anonymise_expired(uow: UnitOfWork, policy: CasePolicy, now: datetime) -> list[str]:
    """Anonymise every case closed or discarded more than `privacy.retention_days` ago, as an
    erasure does for one person, keeping the figures; the folios it anonymised."""
    cutoff = now - timedelta(days=policy.retention_days)
    cases = uow.cases.expired(sorted(FINAL), cutoff)
    _forget(uow, cases, [], policy.texts("privacy.expired_placeholder"))
    ids = [case_id for case_id, _ in cases]
    uow.cases.add_events(ids, now, actor="sistema", kind="retention_anonymised", public=False)
    return [folio for _, folio in cases]


def erase_inactive_contacts(uow: UnitOfWork, policy: CasePolicy, now: datetime) -> int:
    """Erase, as the retention run's second step, every person with no case left linked to them
    (their expired cases were just anonymised) who has written nothing, been sent nothing and
    been in no conversation for `privacy.retention_days`; how many. What erase_personal_data
    does for one person, each step one statement over all of them."""
    cutoff = now - timedelta(days=policy.retention_days)
    contact_ids = uow.contacts.inactive(cutoff)
    if not contact_ids:
        return 0
    uow.conversations.delete_all(contact_ids)
    uow.community.forget_contacts(contact_ids)  # before their messages and outbox rows
    _forget(uow, [], contact_ids, policy.texts("privacy.expired_placeholder"))
    uow.outbox.forget_contacts(contact_ids)
    uow.contacts.erase_all(contact_ids)
    return len(contact_ids)
