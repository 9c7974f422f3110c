"""Notices to a citizen on a real database, sent by the real dispatcher to the provider stand-in:
internal states are not announced, and notices close together go as one message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.casework import actions
from handlers.casework.cases import open_case
from handlers.casework.lifecycle import Actor
from handlers.core.messages import Reply
from handlers.dialogue.intake import queue
from storage.models import Case, Message, Staff
from tests.integration.test_outbox import (
    ACCOUNT_SID,
    ANA,
    BOT_TOKEN,
    ManualClock,
    bodies,
    citizen_writes,
    dispatcher,
    rows,
    send_all,
)
from tests.provider import Provider

AGENT = Actor("Rosa", "agent")


@pytest.fixture
def provider() -> Iterator[Provider]:
    stand_in = Provider(BOT_TOKEN, ACCOUNT_SID).start()
    yield stand_in
    stand_in.stop()


def filed_case(app, clock) -> int:
    """Ana's pothole, filed the way the dialogue files it (no model needed)."""
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", ANA, clock.now)
        contact.consented_at = clock.now
        draft = {"type": "solicitud", "topic": "calles_caminos", "parts": ["hay un bache enorme"]}
        case = open_case(uow, app.policy, contact=contact, draft=draft, now=clock.now).case
        uow.conversations.delete(contact.id)  # the report is filed: back at the menu
        uow.commit()
        assert case.id is not None
        return case.id


WORK = (
    lambda uow, case, m, app, now: actions.assign(uow, app.policy, case, m, AGENT, now),
    lambda uow, case, m, app, now: actions.set_status(
        uow, app.policy, case, "en_proceso", "", AGENT, now
    ),
    lambda uow, case, m, app, now: actions.reply(
        uow, app.policy, case, "Mañana pasa la cuadrilla", AGENT, now
    ),
    lambda uow, case, m, app, now: actions.set_status(
        uow, app.policy, case, "resuelto", "", AGENT, now
    ),
    lambda uow, case, m, app, now: actions.close(
        uow, app.policy, case, "Bache reparado", AGENT, now
    ),
)


def work_the_case(app, clock, case_id: int, minutes_between: int = 1) -> None:
    with app.uow() as uow:
        member = uow.staff.add(Staff(name="Rosa", role="agent", created_at=clock.now))
        uow.commit()
        member_id = member.id
    for step in WORK:
        clock.advance(minutes=minutes_between)
        with app.uow() as uow:
            case = uow.cases.get(case_id)
            member = uow.staff.get(member_id)
            queue(uow, step(uow, case, member, app, clock.now), clock.now)
            uow.commit()


def test_a_case_worked_to_its_closure_is_one_message_to_the_citizen(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    citizen_writes(app, clock, "hola")  # the 24-hour window is open
    send_all(outbox)
    before = len(bodies(provider))
    case_id = filed_case(app, clock)

    work_the_case(app, clock, case_id)
    send_all(outbox)
    assert bodies(provider)[before:] == []  # held for the next notice
    clock.advance(minutes=2)
    send_all(outbox)
    with app.uow() as uow:
        folio = uow.session.exec(select(Case.folio)).one()
    assert bodies(provider)[before:] == [
        f"Su caso {folio} cambió de estado: En proceso.\n\n"
        f"Respuesta sobre su caso {folio}:\nMañana pasa la cuadrilla\n\n"
        f"Su caso {folio} cambió de estado: Resuelto.\n\n"
        f"Su caso {folio} fue cerrado.\nResolución: Bache reparado\n\n"
        f"¿Se resolvió su caso {folio}?\n1. Sí\n2. No"
    ]
    # Nothing lost: the one row is sent, and the history holds the message as it went.
    (sent,) = [r for r in rows(app) if r.options.get("gather") == case_id]
    assert sent.status == "sent"
    with app.uow() as uow:
        message = uow.session.get(Message, sent.message_id)
        assert message is not None and message.body.endswith("2. No")
        assert message.status == "sent"


def test_notices_further_apart_than_the_gathering_time_go_one_by_one(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    before = len(bodies(provider))
    case_id = filed_case(app, clock)
    work_the_case(app, clock, case_id, minutes_between=3)
    clock.advance(minutes=3)
    send_all(outbox)
    # Each was due before the next came; the dispatcher here runs once at the end.
    assert len(bodies(provider)[before:]) == 4  # en_proceso, reply, resuelto, closure + survey


def test_a_held_notice_does_not_hold_back_the_answers_to_the_citizen(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    case_id = filed_case(app, clock)
    with app.uow() as uow:
        case = uow.cases.get(case_id)
        queue(uow, actions.reply(uow, app.policy, case, "Ya vamos", AGENT, clock.now), clock.now)
        uow.commit()
    before = len(bodies(provider))
    clock.advance(seconds=10)
    citizen_writes(app, clock, "ayuda")
    send_all(outbox)
    assert bodies(provider)[before:][0].startswith("Puede escribir MENU")
    clock.advance(minutes=2)
    send_all(outbox)
    assert bodies(provider)[-1].startswith("Respuesta sobre su caso")


def test_a_confidential_reply_is_never_held_and_still_leaves_the_outbox(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    citizen_writes(app, clock, "hola")
    send_all(outbox)
    case_id = filed_case(app, clock)
    gather = timedelta(minutes=2)
    with app.uow() as uow:
        reply = Reply("whatsapp", ANA, "Código", case_id=case_id, confidential=True, gather=gather)
        queue(uow, [reply], clock.now, confidential=True)
        uow.commit()
    (held,) = [r for r in rows(app) if r.confidential]
    assert held.next_attempt_at == clock.now and "gather" not in held.options
    send_all(outbox)
    assert not [r for r in rows(app) if r.confidential]  # sent, then deleted
    assert bodies(provider)[-1] == "Código"


def test_a_notice_never_joins_one_a_dispatcher_has_taken(app, provider):
    clock = ManualClock()
    outbox = dispatcher(app, provider, clock)
    case_id = filed_case(app, clock)
    with app.uow() as uow:
        case = uow.cases.get(case_id)
        queue(uow, actions.reply(uow, app.policy, case, "Uno", AGENT, clock.now), clock.now)
        uow.commit()
    clock.advance(minutes=2)
    assert [d.text for d in outbox.claim(outbox.senders["whatsapp"])] != []  # leased now
    with app.uow() as uow:
        case = uow.cases.get(case_id)
        queue(uow, actions.reply(uow, app.policy, case, "Dos", AGENT, clock.now), clock.now)
        uow.commit()
    texts = [r.body for r in rows(app, channel="whatsapp")]
    assert [t.rsplit("\n", 1)[-1] for t in texts] == ["Uno", "Dos"]
