"""Receiving one message: store it, let the dialogue answer, queue the replies; one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from handlers.casework.actions import answers_request, receive_requested_info
from handlers.casework.cases import detach_message, mask_codes, piece_groups
from handlers.casework.staff import StaffDesk, is_staff_command
from handlers.casework.visits import add_photo, recent_visit_done
from handlers.core.messages import MAX_MESSAGE, REPLY_WINDOW, Incoming, Reply, split_text
from handlers.core.normalise import fold, strip_controls, words
from handlers.core.ports import UnitOfWork
from handlers.dialogue.community import read_request
from handlers.dialogue.conversation import Dialogue
from handlers.dialogue.ratelimit import Admission
from storage.models import REDACTED, Attachment, Contact, Message, OutboxItem, row_values

MAX_TEXT = 64 * 1024


def clean(incoming: Incoming) -> Incoming:
    """Drop control characters (PostgreSQL refuses NUL) from everything that is stored, and
    bound the length of what is kept."""
    text = strip_controls(incoming.text)[:MAX_TEXT]
    name = _stripped(incoming.name, 120)
    media = tuple(
        replace(m, ref=strip_controls(m.ref), content_type=_stripped(m.content_type, 100))
        for m in incoming.media
    )
    location = incoming.location
    if location is not None:
        location = replace(
            location,
            address=_stripped(location.address, 300),
            label=_stripped(location.label, 300),
        )
    return replace(incoming, text=text, name=name, media=media, location=location)


def _stripped(value: str | None, limit: int) -> str | None:
    return strip_controls(value)[:limit] or None if value else None


def receive(
    incoming: Incoming,
    uow: UnitOfWork,
    dialogue: Dialogue,
    now: datetime,
    *,
    desk: StaffDesk | None = None,
) -> list[Reply] | None:
    """Handle one incoming message inside `uow` and commit; None when it was a redelivery.

    A command ("/cola", a card's button) from an active staff member's Telegram user id or
    WhatsApp number goes to the staff desk; anything else is a citizen's message. In the staff
    chat only staff commands are answered; the rest of the conversation there is not stored.
    """
    incoming = clean(incoming)
    # Only a message that reads as a command can be one, so most messages skip the staff lookup.
    member = None
    if is_staff_command(incoming.text) or incoming.media:
        member = uow.staff.by_address(incoming.channel, incoming.sender_id or incoming.address)
    command = member is not None and is_staff_command(incoming.text)
    # A photo a staff member sends right after recording a field visit done joins its case.
    visit = None
    if member is not None and not command:
        visit = recent_visit_done(uow, member, now)
    if incoming.sender_id is not None and not command and visit is None:
        return []
    citizen = not command and visit is None
    contact = _contact(incoming, uow, dialogue, now, citizen=citizen)
    if incoming.name and not contact.name:
        contact.name = incoming.name
    uow.outbox.release_waiting(incoming.channel, incoming.address, now, now + REPLY_WINDOW)
    # The provider's id is kept only as a keyed hash: enough to recognise a redelivery, not to
    # ask the provider who sent it. A secret code is never stored as it was typed.
    provider_key = f"{incoming.channel}:{incoming.provider_id}"
    before = dialogue.code_groups_before(incoming, now)  # of a code sent in pieces just before
    message_id = uow.messages.add_incoming(
        row_values(
            Message,
            direction="in",
            channel=incoming.channel,
            provider_id=dialogue.policy.keyed_hash("provider", provider_key),
            contact_id=contact.id,
            body=mask_codes(incoming.text, before if citizen else 0),
            created_at=now,
            # A staff member's own message (a command, a visit's photo), not a citizen's.
            to_staff=command or visit is not None,
        ),
    )
    if message_id is None:
        uow.rollback()
        return None
    for media in incoming.media:
        uow.messages.add_attachment(
            Attachment(
                message_id=message_id,
                kind=media.kind,
                provider_ref=media.ref[:1000],
                content_type=media.content_type,
                created_at=now,
            )
        )
    if command:
        staff_desk = desk or StaffDesk(dialogue.policy)
        replies = staff_desk.handle(incoming, member, uow, now, message_id)
    elif visit is not None and member is not None:
        replies = add_photo(uow, dialogue.policy, member, visit, incoming, message_id, now)
    else:
        replies = limited_answer(incoming, contact, message_id, uow, dialogue, now)
        if dialogue.kept_apart(incoming, now):
            # One rule for every step and channel: a message naming a code asks about an
            # anonymous case, so neither it nor its answers may stay with the person.
            detach_message(uow, dialogue.policy, message_id, now)
            replies = [_in_confidence(reply, incoming) for reply in replies]
        groups = piece_groups(incoming.text, before)
        dialogue.pieces.note((incoming.channel, incoming.address), now, groups, before)
    # A turn about an anonymous case (its filing, its code asked about) and an erasure's answer
    # are written with their day only, and leave the outbox once sent (see OutboxItem).
    confidential = any(reply.confidential for reply in replies)
    at = dialogue.policy.day_of(now) if confidential else now
    sender = Sender(incoming.channel, incoming.address, contact.id)
    queue(uow, replies, at, sender=sender, confidential=confidential, send_at=now)
    uow.commit()
    return replies


def _contact(
    incoming: Incoming, uow: UnitOfWork, dialogue: Dialogue, now: datetime, *, citizen: bool
) -> Contact:
    """Who wrote: their contact, made on first sight; but a number never seen whose message
    asks about an anonymous code is answered with no row made for it (one would tell that the
    number asked about such a case: only its reporter holds the code), as a stand-in that keeps
    in memory the codes it mistyped (see `Strangers`)."""
    channel, address = incoming.channel, incoming.address
    if (
        citizen
        and dialogue.kept_apart(incoming, now)
        and uow.contacts.find(channel, address) is None
    ):
        return dialogue.strangers.contact(channel, address, now)
    dialogue.strangers.forget(channel, address)
    return uow.contacts.get_or_create(channel, address, now)


def _in_confidence(reply: Reply, incoming: Incoming) -> Reply:
    """A reply to the sender as one about an anonymous case: kept as a placeholder, with no
    case and no contact (the dialogue's are already; "slow down" is not)."""
    if (reply.channel, reply.address) != (incoming.channel, incoming.address):
        return reply
    return replace(reply, confidential=True, case_id=None)


def limited_answer(
    incoming: Incoming, contact: Contact, message_id: int, uow: UnitOfWork, dialogue: Dialogue, now
) -> list[Reply]:
    """The citizen's answer within `limits.messages_per_minute`; past it, one request to slow
    down and then silence for the rest of the minute, the messages kept all the same."""
    sender = (incoming.channel, incoming.address)
    admission = dialogue.bursts.admit(sender, now, dialogue.policy.messages_per_minute)
    if admission is not Admission.ANSWER and _is_emergency(incoming.text, dialogue):
        admission = Admission.ANSWER  # an emergency is never silenced by the limit
    if admission is Admission.ANSWER:
        return citizen_answer(incoming, contact, message_id, uow, dialogue, now)
    dialogue.absorb(incoming, contact, message_id, uow, now)
    if admission is Admission.QUIET:
        return []
    text = dialogue.policy.texts("limits.slow_down")
    return [Reply(incoming.channel, incoming.address, text)]


def _is_emergency(text: str, dialogue: Dialogue) -> bool:
    return bool(text.strip()) and dialogue.policy.classifier.classify(text).urgency == "emergencia"


def citizen_answer(
    incoming: Incoming, contact: Contact, message_id: int, uow: UnitOfWork, dialogue: Dialogue, now
) -> list[Reply]:
    """The dialogue's answer; a person outside any conversation (or only adding to an
    emergency) whose case waits for them is answering what staff asked, which goes to that case
    and restarts its clock."""
    waiting = None
    state = uow.conversations.get(contact.id)
    # After an emergency the conversation stays open a while for what the person adds; staff
    # asking them something meanwhile is answered all the same.
    if contact.consented_at and (state is None or state.step == "followup"):
        waiting = uow.cases.waiting_for(contact.id)
    if (
        waiting is not None
        and not dialogue.kept_apart(
            incoming, now
        )  # a code asks about another case, an anonymous one
        and answers_request(incoming)
        and not dialogue.vocab.is_request(fold(incoming.text))
        # "/start <keyword>" (Telegram's deep link) and "BAJA <keyword>" are for the dialogue.
        and read_request(" ".join(words(incoming.text)), dialogue.vocab.leave) is None
        # So is "otro día ..." answering a field visit proposed meanwhile.
        and not _answers_visit(incoming, contact, uow, dialogue)
    ):
        return receive_requested_info(
            uow, dialogue.policy, waiting, incoming.text, message_id, incoming.location, now
        )
    return dialogue.handle(incoming, contact, message_id, uow, now)


def _answers_visit(
    incoming: Incoming, contact: Contact, uow: UnitOfWork, dialogue: Dialogue
) -> bool:
    """Whether the message answers a field visit that waits for the person's answer."""
    folded = " ".join(words(incoming.text))
    if dialogue.vocab.visit_answer(folded) is None:
        return False
    return uow.visits.awaiting_answer(contact.id or 0) is not None


@dataclass(frozen=True)
class Sender:
    """Who a turn answers: replies to this channel and address open their messaging window,
    even when the contact's own address was just erased."""

    channel: str
    address: str
    contact_id: int | None


def queue(
    uow: UnitOfWork,
    replies: list[Reply],
    now: datetime,
    *,
    sender: Sender | None = None,
    confidential: bool = False,
    send_at: datetime | None = None,
) -> list[int]:
    """Write each reply as outgoing messages and outbox rows, in the caller's transaction; a
    reply too long for one chat message becomes several, its options on the last. The ids of
    the outbox rows written (a notice joined to one already held writes none).

    `now` dates the messages and `send_at` (default `now`) is when they may go. A confidential
    reply (an anonymous case's code, an erasure's answer) is kept in the message history as a
    placeholder; with `confidential`, every row of the turn leaves the outbox once sent.
    """
    written = []
    for reply in replies:
        if reply.gather and _gathered(uow, reply, send_at or now, confidential):
            continue
        for part in _parts(reply):
            written.append(_queue_one(uow, part, now, send_at or now, sender, confidential))
    return written


# However often notices follow each other, the first waits no longer than this many windows.
MAX_GATHER_WINDOWS = 4


def _gathered(uow: UnitOfWork, reply: Reply, now: datetime, confidential: bool) -> bool:
    """Add a notice to the one about the same case still held for its recipient, which then
    waits `reply.gather` again for the next (never past a few windows in all); False when there
    is none to join, or the two would not fit one message."""
    if confidential or reply.confidential or reply.case_id is None or reply.gather is None:
        return False
    item = uow.outbox.gathering(reply.channel, reply.address, reply.case_id, now)
    if item is None:
        return False
    body = f"{item.body}\n\n{reply.text}"
    joined = replace(reply, text=body)
    if len(joined.rendered()) > MAX_MESSAGE:
        return False
    options = {
        "options": [{"key": o.key, "label": o.label} for o in reply.options],
        "gather": reply.case_id,
    }
    due = min(now + reply.gather, item.created_at + MAX_GATHER_WINDOWS * reply.gather)
    return uow.outbox.add_to_gathering(item, body, options, joined.rendered(), due, now)


def _parts(reply: Reply) -> list[Reply]:
    rendered_options = len(reply.rendered()) - len(reply.text)
    pieces = split_text(reply.text, max(MAX_MESSAGE // 2, MAX_MESSAGE - rendered_options))
    return [
        replace(
            reply,
            text=piece,
            options=reply.options if last else (),
            document=reply.document if last else None,
        )
        for last, piece in ((i == len(pieces) - 1, piece) for i, piece in enumerate(pieces))
    ]


def _queue_one(
    uow: UnitOfWork,
    reply: Reply,
    now: datetime,
    send_at: datetime,
    sender: Sender | None,
    confidential: bool,
) -> int:
    answers_sender = sender is not None and (reply.channel, reply.address) == (
        sender.channel,
        sender.address,
    )
    to_sender = answers_sender and not reply.confidential
    message = row_values(
        Message,
        direction="out",
        channel=reply.channel,
        contact_id=sender.contact_id if to_sender and sender else None,
        case_id=reply.case_id,
        body=REDACTED if reply.confidential else reply.rendered(),
        status="pending",
        created_at=now,
        to_staff=reply.to_staff,
    )
    options: dict = {"options": [{"key": o.key, "label": o.label} for o in reply.options]}
    if reply.document is not None:
        # Built and rendered when sent (bot/outbox.py): the photos may still be downloading.
        options["document"] = {"kind": reply.document.kind, "case_id": reply.document.case_id}
    if reply.gather and reply.case_id is not None and not (confidential or reply.confidential):
        options["gather"] = reply.case_id  # held, for the next notices about the case to join
        send_at += reply.gather
    return uow.outbox.enqueue(
        message,
        row_values(
            OutboxItem,
            channel=reply.channel,
            address=reply.address,
            body=reply.text,
            options=options,
            confidential=confidential or reply.confidential,
            next_attempt_at=send_at,
            window_until=send_at + REPLY_WINDOW if answers_sender else None,
            created_at=now,
        ),
        # Rows of a confidential turn are numbered apart, but for what stays the person's own
        # (the rest of a MIS DATOS answer), which goes with a report they are writing.
        detached=confidential and message["contact_id"] is None,
    )
