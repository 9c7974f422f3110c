"""Reaching a case's reporter outside the chat: whether they have one, the number a caller left,
and the sentence telling staff how to reach them (by phone, else in person)."""

from __future__ import annotations

import re

from handlers.casework.lifecycle import reachable_contact
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case

PHONE = re.compile(r"\+?[0-9]{7,15}")


def has_chat(uow: UnitOfWork, case: Case) -> bool:
    """Whether what staff say reaches the reporter by chat (else: a call, or the secret code)."""
    return reachable_contact(uow, case) is not None


def callback_number(uow: UnitOfWork, case: Case) -> str | None:
    """The number a phone or walk-in case's reporter left to be called back on."""
    contact = uow.contacts.get(case.contact_id) if case.contact_id else None
    if contact is None or contact.channel != "telefono" or not PHONE.fullmatch(contact.address):
        return None
    return contact.address


def reach_reporter(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    by_phone: str,
    in_person: str,
    **values: object,
) -> str:
    """A sentence on reaching a case's reporter outside the chat: the catalogue's `by_phone`
    (with {number} to call) when they left a number, else `in_person`; both name them as
    {person}, with the name they gave staff or as the person who filed the case."""
    t = policy.texts
    contact = uow.contacts.get(case.contact_id) if case.contact_id else None
    # A name given to staff who logged the call; a chat's profile name is not one.
    given = contact.name if contact is not None and contact.channel == "telefono" else None
    person = given or t("staff.callback_person")
    number = callback_number(uow, case)
    if number is None:
        return t(in_person, folio=case.folio, person=person, **values)
    return t(by_phone, folio=case.folio, person=person, number=number, **values)
