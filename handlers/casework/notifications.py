"""Who among the staff hears about what, and on which channel: one rule per event, and one
function that turns a rule and the staff into recipients."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from handlers.core.messages import Option, Reply
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Staff

log = logging.getLogger(__name__)

SUPERVISOR_ROLES = ("supervisor", "admin")
Recipient = tuple[str, str]  # (channel, address)


class Event(StrEnum):
    """What the staff are told about."""

    NEW_CASE = "new_case"  # a case was opened (or registered): its card
    EMERGENCY = "emergency"  # a citizen reported an emergency
    EMERGENCY_ADDITION = "emergency_addition"  # what they sent next (place, photo, more words)
    HANDOFF = "handoff"  # a citizen asks to talk to a person
    CITIZEN_ANSWERED = "citizen_answered"  # the information staff asked for arrived
    CALLBACK = "callback"  # a reply to a case without a chat: someone must call the person
    DELIVERY_FAILED = "delivery_failed"  # a message could not be delivered
    REMINDER = "reminder"  # a staff member's own overdue and due-soon cases, each morning
    ESCALATION = "escalation"  # every overdue and stale unassigned case, each morning
    WEEKLY_SUMMARY = "weekly_summary"  # the week's figures
    COMMITMENT_OVERDUE = "commitment_overdue"  # a commitment's date passed, each morning
    VISIT = "visit"  # a field visit's news: the citizen's answer, tomorrow's reminder


class Audience(StrEnum):
    """Who a rule speaks to."""

    STAFF_CHAT = "staff_chat"  # the Telegram group `telegram.staff_chat_id` (0: none)
    ACTIVE_STAFF = "active_staff"  # every active staff member
    ASSIGNEE = "assignee"  # the active member the case (or the reminder) is for
    SUPERVISORS = "supervisors"  # active supervisors and administrators


class Reach(StrEnum):
    """Which of a staff member's chat addresses a rule uses."""

    EVERY = "every"  # Telegram and WhatsApp, whichever they have
    FIRST = "first"  # Telegram, else WhatsApp


@dataclass(frozen=True)
class Rule:
    """Who hears about an event, and how."""

    audiences: tuple[Audience, ...]
    reach: Reach = Reach.EVERY
    # Only the first audience that has anyone to reach (the assignee, else the staff chat).
    first_reachable: bool = False
    # Each address once.
    once: bool = False
    # When the failed message was itself for one of the recipients, nobody is told: a message
    # to them could fail the same way, and so on.
    not_about_themselves: bool = False


RULES: dict[Event, Rule] = {
    Event.NEW_CASE: Rule((Audience.STAFF_CHAT,)),
    Event.EMERGENCY: Rule((Audience.STAFF_CHAT, Audience.ACTIVE_STAFF)),
    # Those who were alerted hear what follows.
    Event.EMERGENCY_ADDITION: Rule((Audience.STAFF_CHAT, Audience.ACTIVE_STAFF)),
    Event.HANDOFF: Rule((Audience.STAFF_CHAT, Audience.ACTIVE_STAFF)),
    Event.CITIZEN_ANSWERED: Rule(
        (Audience.ASSIGNEE, Audience.STAFF_CHAT), Reach.FIRST, first_reachable=True
    ),
    Event.CALLBACK: Rule(
        (Audience.ASSIGNEE, Audience.STAFF_CHAT), Reach.FIRST, first_reachable=True
    ),
    Event.DELIVERY_FAILED: Rule(
        (Audience.STAFF_CHAT, Audience.ACTIVE_STAFF), once=True, not_about_themselves=True
    ),
    Event.REMINDER: Rule((Audience.ASSIGNEE,), Reach.FIRST),
    Event.ESCALATION: Rule((Audience.SUPERVISORS,), Reach.FIRST),
    Event.WEEKLY_SUMMARY: Rule((Audience.SUPERVISORS,), Reach.FIRST),
    # The responsible staff member; nobody on the staff (or unreachable): the staff chat.
    Event.COMMITMENT_OVERDUE: Rule(
        (Audience.ASSIGNEE, Audience.STAFF_CHAT), Reach.FIRST, first_reachable=True
    ),
    # The staff member who proposed the visit (else whoever works the case), else the staff chat.
    Event.VISIT: Rule((Audience.ASSIGNEE, Audience.STAFF_CHAT), Reach.FIRST, first_reachable=True),
}


def member_addresses(member: Staff, reach: Reach) -> list[Recipient]:
    """A staff member's chat addresses, Telegram first."""
    addresses = []
    if member.telegram_id:
        addresses.append(("telegram", str(member.telegram_id)))
    if member.whatsapp:
        addresses.append(("whatsapp", member.whatsapp))
    return addresses[:1] if reach is Reach.FIRST else addresses


def recipients(
    event: Event,
    staff: Sequence[Staff],
    *,
    staff_chat_id: int | str = 0,
    assignee: Staff | None = None,
    channels: Collection[str] | None = None,
    failed: Recipient | None = None,
) -> list[Recipient]:
    """Who hears about `event`, as (channel, address) in order. `staff` is the staff list
    (inactive members are left out), `staff_chat_id` the Telegram staff group (0: none),
    `channels` the channels that can send (None: not filtered), `failed` the address a failed
    message was for."""
    rule = RULES[event]
    found: list[Recipient] = []
    for audience in rule.audiences:
        found += _addresses(audience, rule.reach, staff, staff_chat_id, assignee)
        if rule.first_reachable and found:
            break
    if rule.once:
        found = list(dict.fromkeys(found))
    if channels is not None:
        found = [r for r in found if r[0] in channels]
    if rule.not_about_themselves and failed in found:
        log.warning("notifications: a message to staff was not delivered; nobody else is told")
        return []
    return found


def _addresses(
    audience: Audience,
    reach: Reach,
    staff: Sequence[Staff],
    staff_chat_id: int | str,
    assignee: Staff | None,
) -> list[Recipient]:
    if audience is Audience.STAFF_CHAT:
        return [("telegram", str(staff_chat_id))] if staff_chat_id else []
    if audience is Audience.ASSIGNEE:
        members = [assignee] if assignee is not None else []
    elif audience is Audience.SUPERVISORS:
        members = [m for m in staff if m.role in SUPERVISOR_ROLES]
    else:
        members = list(staff)
    return [a for m in members if m.active for a in member_addresses(m, reach)]


def staff_for(event: Event, uow: UnitOfWork) -> Sequence[Staff]:
    """The staff list an event's rule looks at: the active staff, read only when needed."""
    wanted = {Audience.ACTIVE_STAFF, Audience.SUPERVISORS}
    return uow.staff.active() if wanted & set(RULES[event].audiences) else ()


def staff_replies(
    event: Event,
    uow: UnitOfWork,
    policy: CasePolicy,
    text: str,
    *,
    assignee: Staff | None = None,
    case_id: int | None = None,
    options: tuple[Option, ...] = (),
) -> list[Reply]:
    """The replies that tell the staff about `event`, by its rule."""
    to = recipients(
        event, staff_for(event, uow), staff_chat_id=policy.staff_chat_id, assignee=assignee
    )
    return [
        Reply(channel, address, text, options, case_id, to_staff=True) for channel, address in to
    ]
