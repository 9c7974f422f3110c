"""The notification rules, one event at a time: given this staff, who hears about it, and where."""

from dataclasses import replace

import pytest

from handlers.casework.notifications import RULES, Event, recipients, staff_replies
from handlers.core.messages import Option, Reply
from storage.models import Staff
from tests.helpers import make_dialogue
from tests.unit.fakes import FakeUnitOfWork

CHAT = -1000  # the Telegram staff group

ANA = Staff(id=1, name="Ana", role="agent", telegram_id=101, whatsapp="+50370000001")
BETO = Staff(id=2, name="Beto", role="agent", whatsapp="+50370000002")
CARLA = Staff(id=3, name="Carla", role="supervisor", telegram_id=103)
DORA = Staff(id=4, name="Dora", role="admin", telegram_id=104, whatsapp="+50370000004")
EVA = Staff(id=5, name="Eva", role="supervisor", telegram_id=105, active=False)
FITO = Staff(id=6, name="Fito", role="agent")  # no chat address
STAFF = [ANA, BETO, CARLA, DORA, EVA, FITO]

EVERYONE_EVERYWHERE = [
    ("telegram", "101"),
    ("whatsapp", "+50370000001"),
    ("whatsapp", "+50370000002"),
    ("telegram", "103"),
    ("telegram", "104"),
    ("whatsapp", "+50370000004"),
]


def test_every_event_has_a_rule():
    assert set(RULES) == set(Event)


# -- a new case --------------------------------------------------------------------------------


def test_a_new_case_card_goes_to_the_staff_chat_only():
    assert recipients(Event.NEW_CASE, STAFF, staff_chat_id=CHAT) == [("telegram", "-1000")]


def test_without_a_staff_chat_nobody_gets_a_new_case_card():
    assert recipients(Event.NEW_CASE, STAFF, staff_chat_id=0) == []


# -- an emergency, or someone asking for a person ----------------------------------------------


@pytest.mark.parametrize("event", [Event.EMERGENCY, Event.HANDOFF])
def test_the_staff_chat_and_every_active_member_hear_on_every_channel(event):
    expected = [("telegram", "-1000"), *EVERYONE_EVERYWHERE]
    assert recipients(event, STAFF, staff_chat_id=CHAT) == expected


@pytest.mark.parametrize("event", [Event.EMERGENCY, Event.HANDOFF])
def test_without_a_staff_chat_the_active_members_still_hear(event):
    assert recipients(event, STAFF, staff_chat_id=0) == EVERYONE_EVERYWHERE


@pytest.mark.parametrize("event", [Event.EMERGENCY, Event.HANDOFF])
def test_with_no_staff_chat_and_no_reachable_staff_nobody_hears(event):
    assert recipients(event, [EVA, FITO], staff_chat_id=0) == []


# -- a citizen answered what staff asked -------------------------------------------------------


def test_an_answer_goes_to_the_assignee_on_telegram_rather_than_whatsapp():
    found = recipients(Event.CITIZEN_ANSWERED, STAFF, staff_chat_id=CHAT, assignee=ANA)
    assert found == [("telegram", "101")]


def test_an_answer_goes_to_the_assignee_on_whatsapp_when_that_is_all_they_have():
    found = recipients(Event.CITIZEN_ANSWERED, STAFF, staff_chat_id=CHAT, assignee=BETO)
    assert found == [("whatsapp", "+50370000002")]


@pytest.mark.parametrize("assignee", [None, EVA, FITO], ids=["nobody", "inactive", "no address"])
def test_an_answer_goes_to_the_staff_chat_when_the_assignee_cannot_be_reached(assignee):
    found = recipients(Event.CITIZEN_ANSWERED, STAFF, staff_chat_id=CHAT, assignee=assignee)
    assert found == [("telegram", "-1000")]


def test_an_answer_reaches_nobody_without_an_assignee_or_a_staff_chat():
    assert recipients(Event.CITIZEN_ANSWERED, STAFF, staff_chat_id=0, assignee=None) == []


# -- a failed delivery -------------------------------------------------------------------------


def test_a_failed_delivery_is_told_to_the_staff_chat_and_every_active_member():
    found = recipients(
        Event.DELIVERY_FAILED,
        STAFF,
        staff_chat_id=CHAT,
        channels={"telegram", "whatsapp"},
        failed=("whatsapp", "+50379999999"),
    )
    assert found == [("telegram", "-1000"), *EVERYONE_EVERYWHERE]


def test_a_failed_delivery_is_told_only_on_the_channels_that_can_send():
    found = recipients(
        Event.DELIVERY_FAILED,
        STAFF,
        staff_chat_id=CHAT,
        channels={"telegram"},
        failed=("telegram", "555"),
    )
    assert found == [
        ("telegram", "-1000"),
        ("telegram", "101"),
        ("telegram", "103"),
        ("telegram", "104"),
    ]


def test_a_failed_delivery_is_told_once_to_an_address_that_is_both_chat_and_member():
    found = recipients(
        Event.DELIVERY_FAILED, [ANA], staff_chat_id=101, channels={"telegram"}, failed=None
    )
    assert found == [("telegram", "101")]


@pytest.mark.parametrize(
    "failed", [("telegram", "-1000"), ("whatsapp", "+50370000002")], ids=["chat", "member"]
)
def test_a_failed_message_to_staff_is_not_told_to_the_staff(failed):
    found = recipients(
        Event.DELIVERY_FAILED,
        STAFF,
        staff_chat_id=CHAT,
        channels={"telegram", "whatsapp"},
        failed=failed,
    )
    assert found == []


def test_a_failed_message_to_a_member_on_a_channel_that_cannot_send_is_told_to_the_others():
    found = recipients(
        Event.DELIVERY_FAILED,
        [ANA, BETO],
        staff_chat_id=0,
        channels={"telegram"},
        failed=("whatsapp", "+50370000002"),
    )
    assert found == [("telegram", "101")]


# -- the daily reminders and the weekly summary ------------------------------------------------


def test_a_reminder_goes_to_its_member_on_telegram_rather_than_whatsapp():
    assert recipients(Event.REMINDER, STAFF, staff_chat_id=CHAT, assignee=DORA) == [
        ("telegram", "104")
    ]
    assert recipients(Event.REMINDER, STAFF, staff_chat_id=CHAT, assignee=BETO) == [
        ("whatsapp", "+50370000002")
    ]


@pytest.mark.parametrize("member", [EVA, FITO], ids=["inactive", "no address"])
def test_a_reminder_reaches_nobody_else_when_its_member_cannot_be_reached(member):
    assert recipients(Event.REMINDER, STAFF, staff_chat_id=CHAT, assignee=member) == []


@pytest.mark.parametrize("event", [Event.ESCALATION, Event.WEEKLY_SUMMARY])
def test_active_supervisors_and_admins_hear_each_on_one_channel(event):
    found = recipients(event, STAFF, staff_chat_id=CHAT)
    assert found == [("telegram", "103"), ("telegram", "104")]


# -- as replies ---------------------------------------------------------------------------------


def _policy(staff_chat_id: int):
    return replace(make_dialogue().policy, staff_chat_id=staff_chat_id)


def test_replies_carry_the_text_the_case_and_the_buttons():
    uow = FakeUnitOfWork()
    for member in STAFF:
        uow.staff.add(member.model_copy())
    options = (Option("tomar:TA-2026-000001", "Tomar"),)
    replies = staff_replies(
        Event.EMERGENCY, uow, _policy(CHAT), "Emergencia", case_id=7, options=options
    )
    assert replies[0] == Reply("telegram", "-1000", "Emergencia", options, case_id=7, to_staff=True)
    assert [(r.channel, r.address) for r in replies[1:]] == EVERYONE_EVERYWHERE


def test_a_new_case_card_does_not_read_the_staff():
    class NoStaff:
        @property
        def staff(self):
            raise AssertionError("the staff chat needs no staff list")

    replies = staff_replies(Event.NEW_CASE, NoStaff(), _policy(CHAT), "Caso nuevo", case_id=1)
    assert replies == [Reply("telegram", "-1000", "Caso nuevo", case_id=1, to_staff=True)]
