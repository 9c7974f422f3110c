"""What staff do to a case, the same from the chat and the terminal; each returns the replies
the citizen gets (the caller queues them in its transaction)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from handlers.casework.cases import mentions_case, normalise_folio, record_event
from handlers.casework.lifecycle import (
    CITIZEN,
    FINAL,
    Actor,
    NotAllowed,
    change_status,
    effective_due,
    notify_citizen,
    reachable_contact,
)
from handlers.casework.notifications import Event, staff_replies
from handlers.casework.reach import PHONE, callback_number, has_chat, reach_reporter
from handlers.casework.reclassify import reclassify
from handlers.casework.visits import cancel_pending
from handlers.core.labels import CASE_TYPES, GENDERS, STATUSES, URGENCIES, staff_label
from handlers.core.messages import Incoming, Location, Option, Reply
from handlers.core.normalise import strip_controls
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import MAX_DESCRIPTION, Case, Contact, OutboxItem, Staff

MAX_NOTE = 2000


def find_case(uow: UnitOfWork, policy: CasePolicy, folio: str) -> Case:
    """The case with this folio, in any spelling, locked until the transaction ends (two staff
    acting at once act one after the other, each on the other's result); NotAllowed when there
    is none."""
    case = uow.cases.by_folio(normalise_folio(folio) or folio.strip().upper(), lock=True)
    if case is None:
        raise NotAllowed(policy.texts("staff.error_unknown_folio", folio=folio))
    return case


def find_staff(uow: UnitOfWork, policy: CasePolicy, who: str) -> Staff:
    """An active staff member by id or exact name; NotAllowed when there is none."""
    member = uow.staff.by_id_or_name(who.strip())
    if member is None:
        raise NotAllowed(policy.texts("staff.error_unknown_staff", who=who))
    if not member.active:
        raise NotAllowed(policy.texts("staff.error_inactive_staff", name=member.name))
    return member


def _text(policy: CasePolicy, text: str, key: str = "staff.error_needs_text") -> str:
    text = strip_controls(text).strip()
    if not text:
        raise NotAllowed(policy.texts(key))
    return within_length(policy, text)


def within_length(policy: CasePolicy, text: str) -> str:
    """The text, or NotAllowed saying its length when it is over the limit: refused whole,
    not cut (what was cut would be lost without anyone knowing)."""
    if len(text) > MAX_NOTE:
        raise NotAllowed(policy.texts("staff.error_too_long", count=len(text), most=MAX_NOTE))
    return text


def _open(policy: CasePolicy, case: Case) -> None:
    if case.status in FINAL:
        raise NotAllowed(policy.texts("staff.error_closed", folio=case.folio))


def assign(
    uow: UnitOfWork, policy: CasePolicy, case: Case, member: Staff, actor: Actor, now: datetime
) -> list[Reply]:
    """Give the case to a staff member; a case nobody worked on yet becomes `asignado`."""
    _open(policy, case)
    if case.assignee_id == member.id:
        return []
    case.assignee_id = member.id
    uow.cases.add(case)
    record_event(uow, case, now, actor=actor.name, kind="assigned", note=member.name, public=False)
    withdraw_button(uow, case, f"tomar:{case.folio}", now)
    if case.status in ("recibido", "en_revision"):
        return change_status(uow, policy, case, "asignado", actor, now)
    return []


# Where options are buttons that stay on a sent message and can be edited (WhatsApp shows them
# as lines of text, which stay as they were).
EDITABLE_BUTTONS = ("telegram",)


def withdraw_button(uow: UnitOfWork, case: Case, key: str, now: datetime) -> None:
    """A button of the case's cards that no longer applies ([Tomar] once the case is taken)
    leaves every copy: dropped from those still to send, edited out of those already sent.
    A copy being sent right now keeps it on the way out: see `buttons_left_behind`."""
    for item in uow.outbox.with_option(case.id, key):
        if item.channel not in EDITABLE_BUTTONS:
            continue
        options = [o for o in item.options.get("options", []) if o.get("key") != key]
        if item.status == "pending":
            item.options = {**item.options, "options": options}
        elif item.status == "sent" and item.provider_message_id:
            uow.outbox.add(_buttons_edit(item, options, item.provider_message_id, now))


def buttons_left_behind(
    item: OutboxItem, sent: tuple[str, ...], provider_message_id: str, now: datetime
) -> OutboxItem | None:
    """The edit that takes away buttons withdrawn while their message was being sent (a case
    taken while its card was on its way): `sent` are the keys the message went out with."""
    if not buttons_withdrawn(item.channel, item.options, sent):
        return None
    return _buttons_edit(item, item.options.get("options", []), provider_message_id, now)


def buttons_withdrawn(channel: str, options: dict, sent: tuple[str, ...]) -> bool:
    """Whether buttons a message went out with (`sent`, their keys) were withdrawn from its
    row meanwhile (`options`, the row's), on a channel whose buttons can be taken back."""
    if channel not in EDITABLE_BUTTONS:
        return False
    return not set(sent) <= {o.get("key") for o in options.get("options", [])}


def _buttons_edit(
    item: OutboxItem, options: list[dict], provider_message_id: str, now: datetime
) -> OutboxItem:
    return OutboxItem(
        channel=item.channel,
        address=item.address,
        body="",
        options={"options": options, "edit": provider_message_id},
        next_attempt_at=now,
        created_at=now,
    )


class ClosedCase(NotAllowed):
    """A reply to a closed or discarded case, not confirmed: the message says so; each surface
    adds how to confirm it."""


def reply_allowed(uow: UnitOfWork, policy: CasePolicy, case: Case) -> None:
    """Refuse an unconfirmed reply to a closed or discarded case (ClosedCase), saying so: what
    would become of it depends on whether the reporter has a chat, a code or neither."""
    if case.status in FINAL:
        status = staff_label(policy.texts, "status", case.status).lower()
        if case.anonymous:
            key = "staff.reply_closed_anonymous"
        elif not has_chat(uow, case):
            key = "staff.reply_closed_no_chat"
        else:
            key = "staff.reply_closed"
        raise ClosedCase(policy.texts(key, folio=case.folio, status=status))


def reply(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    text: str,
    actor: Actor,
    now: datetime,
    *,
    closed_ok: bool = False,
):
    """An answer from staff to the citizen; kept in the public history (anonymous reporters
    read it there, with their secret code). To a closed or discarded case only when the staff
    member confirmed it (`closed_ok`): it is sent, and the case stays as it is (reopening is a
    supervisor's decision, not a side effect of a message)."""
    text = _text(policy, text)
    if not closed_ok:
        reply_allowed(uow, policy, case)
    record_event(uow, case, now, actor=actor.name, kind="staff_reply", note=text)
    if case.first_response_at is None:
        case.first_response_at = now
        uow.cases.add(case)
    t = policy.texts
    replies = notify_citizen(uow, policy, case, t("notify.reply", folio=case.folio, text=text))
    if not replies and not case.anonymous:
        # No chat to send it to (a phone call, a walk-in, an erased contact): someone must call.
        replies = call_back(uow, policy, case, text, actor, now)
    return replies


def call_back(
    uow: UnitOfWork, policy: CasePolicy, case: Case, text: str, actor: Actor, now: datetime
) -> list[Reply]:
    """A reply nobody can receive by chat becomes a call to make (or, with no number left, an
    answer to give in person): an event in the case's history and a message to whoever works
    the case (the assignee, else the staff chat)."""
    kind = "callback_due" if callback_number(uow, case) else "reply_in_person"
    record_event(uow, case, now, actor=actor.name, kind=kind, note=text, public=False)
    alert = reach_reporter(
        uow, policy, case, "staff.callback_alert", "staff.callback_alert_no_number", text=text
    )
    assignee = uow.staff.get(case.assignee_id) if case.assignee_id else None
    return staff_replies(Event.CALLBACK, uow, policy, alert, assignee=assignee, case_id=case.id)


def add_note(
    uow: UnitOfWork, policy: CasePolicy, case: Case, text: str, actor: Actor, now: datetime
):
    """An internal note: in the case's history for staff, never shown to the citizen."""
    text = _text(policy, text)
    record_event(uow, case, now, actor=actor.name, kind="note", note=text, public=False)
    return []


def request_info(uow: UnitOfWork, policy: CasePolicy, case: Case, question: str, actor: Actor, now):
    """Ask the citizen for what is missing; the deadline pauses until they answer. Not for
    anonymous denuncias: nobody can be asked, and the clock would stay stopped."""
    if case.anonymous:
        raise NotAllowed(policy.texts("staff.error_anonymous_request", folio=case.folio))
    question = _text(policy, question)
    text = policy.texts("notify.request_info", folio=case.folio, question=question)
    return change_status(
        uow, policy, case, "esperando_ciudadano", actor, now, note=question, tell_citizen=text
    )


def refer(uow: UnitOfWork, policy: CasePolicy, case: Case, institution: str, actor: Actor, now):
    """Transfer the case to the competent institution, telling the citizen which one."""
    institution = _text(policy, institution, "staff.error_needs_institution")[:200]
    text = policy.texts("notify.referred", folio=case.folio, institution=institution)
    replies = change_status(
        uow, policy, case, "remitido", actor, now, note=institution, tell_citizen=text
    )
    case.referred_to = institution
    uow.cases.add(case)
    return replies


def close(uow: UnitOfWork, policy: CasePolicy, case: Case, resolution: str, actor: Actor, now):
    """Close with a resolution; the citizen is told it and asked about the result. Visits still
    pending are cancelled (the closing tells why); with no chat to tell the person, the
    resolution becomes a call to make (or an answer to give in person), as a reply does."""
    resolution = _text(policy, resolution, "staff.error_needs_note_cerrado")
    text = policy.texts("notify.closed", folio=case.folio, resolution=resolution)
    replies = change_status(
        uow, policy, case, "cerrado", actor, now, note=resolution, tell_citizen=text
    )
    case.resolution = resolution
    uow.cases.add(case)
    reason = policy.texts("visits.cancelled_case_closed")
    cancel_pending(uow, policy, case, reason, actor, now)
    if not replies and not case.anonymous and not has_chat(uow, case):
        replies = call_back(uow, policy, case, resolution, actor, now)
    return replies + ask_survey(uow, policy, case, now)


def ask_survey(uow: UnitOfWork, policy: CasePolicy, case: Case, now: datetime) -> list[Reply]:
    """After closure: "¿Se resolvió su caso?" and then a 1-5 rating (the dialogue takes the
    answers). Not asked of someone in the middle of another conversation, nor of anyone the
    case cannot reach."""
    contact = reachable_contact(uow, case)
    if contact is None or case.survey_rating is not None:
        return []
    if uow.conversations.get(contact.id) is not None:
        return []
    t = policy.texts
    options = (Option("1", t("survey.yes")), Option("2", t("survey.no")))
    question = t("survey.resolved", folio=case.folio)
    asked = {"text": question, "options": [[o.key, o.label] for o in options]}
    data = {"case_id": case.id, "folio": case.folio, "asked": asked}
    uow.conversations.save(contact.id, "survey_resolved", data, now)
    gather = policy.notice_gather or None
    return [Reply(contact.channel, contact.address, question, options, case.id, gather=gather)]


def discard(uow: UnitOfWork, policy: CasePolicy, case: Case, reason: str, actor: Actor, now):
    """Discard with a reason (spam, duplicate, not a case), which the citizen is told."""
    reason = _text(policy, reason, "staff.error_needs_note_descartado")
    text = policy.texts("notify.discarded", folio=case.folio, reason=reason)
    replies = change_status(
        uow, policy, case, "descartado", actor, now, note=reason, tell_citizen=text
    )
    cancel_pending(uow, policy, case, policy.texts("visits.cancelled_case_discarded"), actor, now)
    return replies


def set_status(
    uow: UnitOfWork, policy: CasePolicy, case: Case, to: str, note: str, actor: Actor, now
):
    """Any allowed status change; those with their own rules go through their own function."""
    if to not in STATUSES:
        raise NotAllowed(policy.texts("staff.error_unknown_status", value=to))
    if to == "cerrado":
        return close(uow, policy, case, note, actor, now)
    if to == "descartado":
        return discard(uow, policy, case, note, actor, now)
    if to == "remitido":
        return refer(uow, policy, case, note, actor, now)
    if to == "esperando_ciudadano":
        return request_info(uow, policy, case, note, actor, now)
    return change_status(uow, policy, case, to, actor, now, note=strip_controls(note))


def prioritise(
    uow: UnitOfWork, policy: CasePolicy, case: Case, on: bool, reason: str, actor: Actor, now
):
    """Mark (or unmark) a case as prioritised, e.g. a situation affecting women."""
    _open(policy, case)
    reason = strip_controls(reason).strip()
    case.prioritised = on
    uow.cases.add(case)
    kind = "prioritised" if on else "unprioritised"
    record_event(uow, case, now, actor=actor.name, kind=kind, note=reason or None, public=False)
    return []


def reclassify_case(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    actor: Actor,
    now: datetime,
    *,
    case_type: str | None = None,
    topic: str | None = None,
    urgency: str | None = None,
) -> list[Reply]:
    """Correct type, topic or urgency (see handlers.casework.reclassify: the event the classifier
    learns from, and a new type's own deadline)."""
    reclassify(
        uow,
        policy,
        case,
        type=case_type or case.type,
        topic=topic or case.topic,
        urgency=urgency or case.urgency,
        actor=actor.name,
        now=now,
    )
    return []


def extend(
    uow: UnitOfWork, policy: CasePolicy, case: Case, days: int, reason: str, actor: Actor, now
):
    """The one extension: at most the original length, before the deadline passes, with the
    reason and the new date told to the citizen."""
    t = policy.texts
    _open(policy, case)
    if case.deadline_days == 0:
        # An emergency's deadline is the day it came in: days cannot be added to "today".
        raise NotAllowed(t("staff.error_extension_same_day", folio=case.folio))
    reason = _text(policy, reason, "staff.error_needs_reason")
    if case.extension_days:
        raise NotAllowed(t("staff.error_already_extended", folio=case.folio))
    if not 1 <= days <= case.deadline_days:
        raise NotAllowed(t("staff.error_extension_days", most=case.deadline_days))
    if now > effective_due(policy, case, now):
        raise NotAllowed(t("staff.error_extension_late", folio=case.folio))
    calendar = policy.calendar
    case.due_at = calendar.end_of_day(
        calendar.add_business_days(calendar.local_date(case.due_at), days)
    )
    case.extension_days = days
    uow.cases.add(case)
    due = policy.local_day(case.due_at)
    record_event(uow, case, now, actor=actor.name, kind="extended", note=f"{reason} ({due})")
    text = t("notify.extended", folio=case.folio, reason=reason, due=due)
    return notify_citizen(uow, policy, case, text)


def register_case(
    uow: UnitOfWork,
    policy: CasePolicy,
    *,
    channel: str,
    case_type: str,
    text: str,
    actor: Actor,
    now: datetime,
    gender: str | None = None,
    age: int | None = None,
    topic: str | None = None,
    municipality: str | None = None,
    urgency: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    answered: str | None = None,
) -> Case:
    """Log a phone call or a walk-in as a case, with the deadline of its type. Topic and urgency
    not given are the classifier's; the caller's name and number to call back are kept as a
    contact's (personal data, erased like any other); `answered`: the answer given on the
    spot, which closes the case as attended (a phone consultation is an "orientación
    telefónica")."""
    t = policy.texts
    if channel not in ("telefono", "presencial"):
        raise NotAllowed(t("staff.error_register_channel", channel=channel))
    if case_type not in CASE_TYPES:
        raise NotAllowed(t("staff.error_unknown_type", value=case_type))
    if gender is not None and gender not in GENDERS:
        raise NotAllowed(t("staff.error_unknown_gender", value=gender))
    if age is not None and not 0 < age < 130:
        raise NotAllowed(t("staff.error_bad_age", value=age))
    if topic is not None and topic not in policy.topics:
        raise NotAllowed(
            t("staff.error_unknown_topic", value=topic, valid=", ".join(policy.topics))
        )
    if urgency is not None and urgency not in URGENCIES:
        raise NotAllowed(t("staff.error_unknown_urgency", value=urgency))
    text = _text(policy, text)
    answer = _text(policy, answered, "staff.error_needs_answer") if answered is not None else None
    written = strip_controls(municipality or "").strip()[:120] or None
    # The gazetteer's unit when the place given names one, else the place as given.
    found = policy.places.match(written) if written else None
    place = found if found is not None and found.matched else None
    contact = caller(uow, policy, name, phone, now)
    result = policy.classifier.classify(text)
    year = policy.calendar.local_date(now).year
    number = uow.cases.next_folio_number(policy.institution.folio_prefix, year)
    urgency = urgency or (result.urgency if result.urgency in URGENCIES else "normal")
    # An emergency logged by phone has the emergency's deadline, as one from the chat.
    days = policy.case_deadline_days(case_type, urgency)
    case = uow.cases.add(
        Case(
            folio=policy.format_folio(year, number),
            contact_id=contact.id if contact else None,
            channel=channel,
            type=case_type,
            topic=topic or policy.known_topic(result.topic),
            urgency=urgency,
            description=text[:MAX_DESCRIPTION],
            municipality=place.municipality if place else written,
            district=place.district if place else None,
            department=place.department if place else None,
            gender=gender or "sin_dato",
            age=age,
            deadline_days=days,
            created_at=now,
            due_at=policy.calendar.due_at(now, days),
        )
    )
    record_event(uow, case, now, actor=actor.name, kind="created", to_status=case.status)
    if answer is not None:
        close(uow, policy, case, answer, actor, now)
    return case


def caller(
    uow: UnitOfWork, policy: CasePolicy, name: str | None, phone: str | None, now: datetime
) -> Contact | None:
    """The person who called or came in, as a contact on the `telefono` channel: by the number to
    call back (a second call from it joins the same person), else by name alone."""
    t = policy.texts
    name = " ".join(strip_controls(name or "").split())[:120] or None
    if phone is None and name is None:
        return None
    address = None
    if phone is not None:
        address = re.sub(r"[\s().-]", "", phone)
        if not PHONE.fullmatch(address):
            raise NotAllowed(t("staff.error_bad_phone", value=phone))
    else:
        # Nobody can write from here: the name is kept, erasable like any contact's.
        address = f"sin-numero:{secrets.token_hex(8)}"
    contact = uow.contacts.get_or_create("telefono", address, now)
    if name:
        contact.name = name
    return contact


def answers_request(incoming: Incoming) -> bool:
    """Whether a message can be the information staff asked for (not a menu number or a bare
    word such as "hola" or "estado")."""
    if incoming.media or incoming.location:
        return True
    text = incoming.text.strip()
    return len(text.split()) >= 2 and not mentions_case(text)


def receive_requested_info(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    text: str,
    message_id: int,
    location: Location | None,
    now: datetime,
) -> list[Reply]:
    """The citizen answered: the message joins the case, the clock restarts (the deadline moves
    by the business days it waited) and whoever works the case is told."""
    uow.messages.attach_to_case([message_id], case.id)
    place = None
    if location is not None:
        place = {
            "latitude": location.latitude,
            "longitude": location.longitude,
            "address": location.address,
        }
    uow.cases.append_details(case.id, text.strip(), place)
    t = policy.texts
    change_status(
        uow,
        policy,
        case,
        "en_proceso",
        CITIZEN,
        now,
        tell_citizen="",
        note=t("events.citizen_answered"),
    )
    replies = notify_citizen(
        uow,
        policy,
        case,
        t("notify.info_received", folio=case.folio, due=policy.local_day(case.due_at)),
    )
    heading = t("staff.citizen_answered", folio=case.folio)
    replies += staff_alerts(uow, policy, case, f"{heading}\n{text.strip()[:500]}")
    return replies


def staff_alerts(uow: UnitOfWork, policy: CasePolicy, case: Case, text: str) -> list[Reply]:
    """A message for whoever works the case (see notifications: the assignee, else the staff
    chat)."""
    assignee = uow.staff.get(case.assignee_id) if case.assignee_id else None
    return staff_replies(
        Event.CITIZEN_ANSWERED, uow, policy, text, assignee=assignee, case_id=case.id
    )
