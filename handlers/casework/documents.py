"""The written documents of a case: the constancia de recepción and the solicitud escrita.

Here they are decided, as a model of fields and texts from the catalogue; bot/documents.py
turns a model into PDF bytes. An anonymous denuncia's documents name no one, carry no folio
and no time finer than the day: the case keeps only its day, and so does what is written about
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from handlers.casework.reach import callback_number, has_chat
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case

CONSTANCIA = "constancia"
SOLICITUD = "solicitud"
KINDS = (CONSTANCIA, SOLICITUD)
# Files a PDF can show as an annex page (anything else is listed, not printed).
PRINTABLE = ("image/jpeg", "image/png", "image/webp", "image/gif")


class Field(NamedTuple):
    """A label and its value: a line of the document's table, a section, an annex."""

    label: str
    value: str


@dataclass(frozen=True)
class Document:
    """Everything a document says, ready to be laid out; nothing in it is looked up later."""

    kind: str
    title: str
    filename: str
    institution: str
    logo: str  # a PNG or JPEG file, or "" for none
    issued: datetime  # the PDF's own date: an anonymous case's day only
    intro: str
    fields: tuple[Field, ...]
    sections: tuple[Field, ...]  # a heading (its label) and its paragraph (its value)
    footer: tuple[str, ...]
    # The case's files: a caption (its label) and the image printed on a page of its own (its
    # value: a file's path, or "" for a file that is only named).
    annexes: tuple[Field, ...] = ()
    annexes_heading: str = ""
    # The lines of the place to sign (the solicitud); empty: none.
    signature: tuple[str, ...] = ()
    # Some of the case's photos are still being downloaded from the provider.
    waiting: bool = False


def build(
    uow: UnitOfWork, policy: CasePolicy, kind: str, case_id: int, now: datetime
) -> Document | None:
    """The document `kind` of a case as of `now`; None when there is no such case or kind."""
    case = uow.cases.get(case_id)
    if case is None or kind not in KINDS:
        return None
    if kind == CONSTANCIA:
        return constancia(uow, policy, case, now)
    return solicitud(uow, policy, case, now)


def constancia(uow: UnitOfWork, policy: CasePolicy, case: Case, now: datetime) -> Document:
    """The constancia de recepción: who received what, when, its deadline and how to follow it."""
    t = policy.texts
    fields = (
        *_folio(policy, case),
        _received(policy, case),
        Field(t("documents.field_channel"), t(f"labels.channel.{case.channel}")),
        Field(t("documents.field_type"), _type(policy, case)),
        Field(t("documents.field_person"), _person(uow, policy, case)),
        Field(t("documents.field_place"), place_of(policy, case)),
        Field(t("documents.field_deadline"), _deadline(policy, case)),
        Field(t("documents.field_status"), t(f"labels.status.{case.status}")),
    )
    if case.anonymous:
        follow = t("documents.follow_anonymous")
    elif has_chat(uow, case):
        follow = t("documents.follow", folio=case.folio)
    else:
        # A call or a walk-in: the case is followed the way it came in (the chat does not know
        # it), and answers come by phone when a number was left.
        key = (
            "documents.follow_offline_callback"
            if callback_number(uow, case)
            else "documents.follow_offline"
        )
        follow = t(key, folio=case.folio)
    sections = (
        Field(t("documents.description"), case.description),
        Field(t("documents.follow_heading"), follow),
    )
    intro = t("documents.constancia_intro")
    return _document(policy, case, now, CONSTANCIA, intro, fields, sections)


def solicitud(uow: UnitOfWork, policy: CasePolicy, case: Case, now: datetime) -> Document:
    """The solicitud escrita, filled in from the conversation: the person's name if they gave
    it, what they described, where and when, the photos as annexes and a place to sign."""
    t = policy.texts
    values = {
        "type": t(f"labels.type.{case.type}"),
        "topic": policy.topic_label(case.topic),
        "channel": t(f"documents.received_via.{case.channel}"),
    }
    if case.anonymous:
        intro = t("documents.solicitud_intro_anonymous", **values)
        signature: tuple[str, ...] = (t("documents.signature_anonymous"),)
    else:
        name = _name(uow, case) or t("documents.blank_name")
        intro = t("documents.solicitud_intro", name=name, **values)
        signature = (
            t("documents.signature_line"),
            t("documents.signature_name", name=name),
            t("documents.signature_id"),
        )
    fields = (
        *_folio(policy, case),
        Field(
            t("documents.field_date"),
            policy.calendar.local_date(_issued(policy, case, now)).strftime("%d/%m/%Y"),
        ),
        _received(policy, case),
        Field(t("documents.field_type"), _type(policy, case)),
        Field(t("documents.field_place"), place_of(policy, case)),
    )
    annexes, waiting = _annexes(uow, policy, case)
    intro = t("documents.solicitud_to", institution=policy.institution.name) + "\n\n" + intro
    sections = (Field(t("documents.description"), case.description),)
    return _document(
        policy,
        case,
        now,
        SOLICITUD,
        intro,
        fields,
        sections,
        annexes=annexes,
        annexes_heading=t("documents.annexes_heading"),
        signature=signature,
        waiting=waiting,
    )


def _document(
    policy: CasePolicy,
    case: Case,
    now: datetime,
    kind: str,
    intro: str,
    fields: tuple[Field, ...],
    sections: tuple[Field, ...],
    **more: Any,
) -> Document:
    """A document of the case with what every document has: title, file name, institution,
    date of issue and footer."""
    t = policy.texts
    return Document(
        kind=kind,
        title=t(f"documents.{kind}_title"),
        filename=t(
            f"documents.filename_{kind}{'_anonymous' if case.anonymous else ''}", folio=case.folio
        ),
        institution=policy.institution.name,
        logo=policy.institution.logo,
        issued=_issued(policy, case, now),
        intro=intro,
        fields=fields,
        sections=sections,
        footer=_footer(policy, case, now),
        **more,
    )


def caption(policy: CasePolicy, kind: str, case: Case) -> str:
    """What the chat message carrying the document says (its caption on Telegram)."""
    suffix = "_anonymous" if case.anonymous else ""
    return policy.texts(f"documents.caption_{kind}{suffix}", folio=case.folio)


def place_of(policy: CasePolicy, case: Case) -> str:
    """Where the case happened, in words: the place as written and its municipality and
    department, else the shared pin."""
    parts = [case.location_text, case.municipality, case.department]
    seen: list[str] = []
    for part in parts:
        if part and part.strip() and part.strip().lower() not in (s.lower() for s in seen):
            seen.append(part.strip())
    if seen:
        return ", ".join(seen)
    if case.latitude is not None and case.longitude is not None:
        return policy.texts(
            "documents.pin", latitude=f"{case.latitude:.5f}", longitude=f"{case.longitude:.5f}"
        )
    return policy.texts("documents.no_place")


def _folio(policy: CasePolicy, case: Case) -> tuple[Field, ...]:
    """The folio's line; none for an anonymous denuncia. Its sender follows it by the code: a
    folio in their hands (a PDF kept, a file name the provider saw, the folio typed later to ask
    about it) would be one more thing that ties them to the case."""
    return () if case.anonymous else (Field(policy.texts("documents.field_folio"), case.folio),)


def _received(policy: CasePolicy, case: Case) -> Field:
    t = policy.texts
    if case.anonymous:
        day = policy.calendar.local_date(case.created_at).strftime("%d/%m/%Y")
        return Field(t("documents.field_received_day"), day)
    return Field(t("documents.field_received"), policy.local_time(case.created_at))


def _type(policy: CasePolicy, case: Case) -> str:
    t = policy.texts
    return t(
        "documents.type_value",
        type=t(f"labels.type.{case.type}"),
        topic=policy.topic_label(case.topic),
    )


def _deadline(policy: CasePolicy, case: Case) -> str:
    t = policy.texts
    due = policy.local_day(case.due_at)
    if case.urgency == "emergencia":
        return t("documents.deadline_emergency", due=due)
    return t(
        "documents.deadline_value",
        due=due,
        days=t.plural("amounts.business_days", case.deadline_days),
    )


# Contacts whose name the person gave: to staff logging their call or visit (a chat's contact
# is named by the chat's profile, which the person never gave as theirs for the case).
GIVEN_NAMES = ("telefono",)


def _name(uow: UnitOfWork, case: Case) -> str | None:
    """The name the person gave, if any: never a WhatsApp or Telegram profile's."""
    if case.anonymous or case.contact_id is None:
        return None
    contact = uow.contacts.get(case.contact_id)
    if contact is None or contact.channel not in GIVEN_NAMES:
        return None
    return contact.name or None


def _person(uow: UnitOfWork, policy: CasePolicy, case: Case) -> str:
    if case.anonymous:
        return policy.texts("documents.anonymous_person")
    return _name(uow, case) or policy.texts("documents.no_name")


def _issued(policy: CasePolicy, case: Case, now: datetime) -> datetime:
    return policy.day_of(now) if case.anonymous else now


def _footer(policy: CasePolicy, case: Case, now: datetime) -> tuple[str, ...]:
    t = policy.texts
    if case.anonymous:
        at = policy.calendar.local_date(now).strftime("%d/%m/%Y")
        lines = [t("documents.day_only_note"), t("documents.issued", at=at)]
    else:
        lines = [t("documents.issued", at=policy.local_time(now))]
    lines.append(t("documents.issued_by", institution=policy.institution.name))
    return tuple(lines)


def _annexes(uow: UnitOfWork, policy: CasePolicy, case: Case) -> tuple[tuple[Field, ...], bool]:
    """The case's files as annexes (photos printed, the rest named), and whether some photo is
    still being downloaded."""
    t = policy.texts
    annexes: list[Field] = []
    waiting = False
    # The citizen's files only: a field visit's photos are the staff's, not part of the filing.
    for attachment in uow.messages.attachments_for_case(case.id, citizens_only=True):
        if attachment.status == "pending":
            waiting = waiting or attachment.kind == "photo"
            continue
        if attachment.status != "stored" or not attachment.local_path:
            continue
        number = len(annexes) + 1
        day = policy.calendar.local_date(attachment.created_at).strftime("%d/%m/%Y")
        if (attachment.content_type or "") in PRINTABLE:
            annexes.append(
                Field(t("documents.annex_photo", number=number, day=day), attachment.local_path)
            )
        else:
            kind = attachment.content_type or attachment.kind
            caption = t("documents.annex_unprintable", number=number, day=day, kind=kind)
            annexes.append(Field(caption, ""))
    return tuple(annexes), waiting
