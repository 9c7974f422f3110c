"""Control and bidirectional formatting characters never reach storage or a staff screen."""

from datetime import UTC, datetime

import pytest

from handlers.casework import actions as casework
from handlers.casework.lifecycle import Actor
from handlers.core.messages import Incoming
from handlers.core.normalise import strip_controls
from handlers.dialogue.intake import clean, receive
from storage.models import CaseEvent, Contact
from tests.helpers import make_dialogue
from tests.unit.fakes import FakeClassifier, FakeUnitOfWork

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
HIDDEN = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\x80",
    "\x85",
    "\x9b",
    "\x9f",
    "\x00",
    "\x1b",
    "\x7f",
]


@pytest.mark.parametrize("control", HIDDEN)
def test_bidi_c0_and_c1_controls_are_removed(control):
    assert strip_controls(f"Ana{control} López") == "Ana López"


def test_newlines_tabs_accents_and_emoji_stay():
    text = "Calle\tprincipal\nárbol caído 🌳 ñ «sí» \u00a0fin"
    assert strip_controls(text) == text


def test_a_name_and_a_text_from_a_chat_arrive_without_bidi_overrides():
    incoming = Incoming(
        "telegram",
        "4242",
        "1",
        NOW,
        text="hoyo en \u202ela calle\u202c\ny nadie viene",
        name="\u202eanA\u2066 \x85Ruiz",
    )
    cleaned = clean(incoming)
    assert cleaned.text == "hoyo en la calle\ny nadie viene"
    assert cleaned.name == "anA Ruiz"


def test_a_contact_name_is_stored_without_controls():
    uow = FakeUnitOfWork()
    incoming = Incoming("telegram", "77", "u1", NOW, text="hola", name="Jos\u202ee")
    receive(incoming, uow, make_dialogue(None, FakeClassifier()), NOW)
    (contact,) = uow.rows[Contact]
    assert contact.name == "Jose"


def test_texts_typed_by_staff_are_stored_without_controls():
    uow = FakeUnitOfWork()
    policy = make_dialogue(None, FakeClassifier()).policy
    staff = Actor("Ana", "agent")
    case = casework.register_case(
        uow,
        policy,
        channel="telefono",
        case_type="solicitud",
        text="llamó por un \u202ehoyo\u202c en la calle\ncerca del mercado",
        actor=staff,
        now=NOW,
    )
    assert case.description == "llamó por un hoyo en la calle\ncerca del mercado"
    casework.add_note(uow, policy, case, "nota \u2067interna\u2069\x9b", staff, NOW)
    casework.reply(uow, policy, case, "\u200fRevisamos\tel caso", staff, NOW)
    notes = [e.note for e in uow.rows[CaseEvent] if e.note]
    assert "nota interna" in notes and "Revisamos\tel caso" in notes
