"""People who write too fast, guess folios or type things meant to break in, through the real
unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import create_app
from storage.models import Case, Contact, Message, OutboxItem
from tests.helpers import POTHOLE, TUESDAY, Citizen, make_settings

SLOW_DOWN = "vaya más despacio"


class Seconds:
    """A clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float = 1.0) -> None:
        self.now, self.step = TUESDAY, timedelta(seconds=step)

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def limited(app):
    """The same database, with a limit of five messages a minute."""
    url = app.settings.database.url
    limited = create_app(make_settings(database={"url": url}, limits={"messages_per_minute": 5}))
    yield limited
    limited.engine.dispose()


def test_the_default_limit_is_thirty_messages_a_minute():
    assert make_settings().limits.messages_per_minute == 30


def test_past_the_limit_a_person_is_told_once_to_slow_down_and_nothing_is_lost(limited):
    clock = Seconds()
    ana = Citizen(limited.dialogue, limited.uow, address="+50370001234", channel="whatsapp")
    ana.clock = clock
    ana.converse("hola", "si", "1")
    assert "Recibido" in ana.send("la calle principal de la colonia Las Brisas tiene un hoyo")
    assert "Anotado" in ana.send("es muy profundo")  # the fifth message this minute
    assert SLOW_DOWN in ana.send("y pasan muchas motos")  # the sixth: told once
    assert ana.send("y otra más") == ""  # the seventh and later: stored, not answered
    assert ana.send("listo") == ""  # nor does it move the conversation on
    clock.now += timedelta(minutes=1)
    assert "Entendemos que es" in ana.send("listo")
    ana.converse("si", "San Miguel, colonia Las Brisas")
    assert "Folio: TA-2026-000001" in ana.send("omitir")
    with limited.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        bodies = [m.body for m in uow.messages.for_case(case.id) if m.direction == "in"]
        told = uow.session.exec(select(Message).where(Message.body.contains(SLOW_DOWN))).all()
    assert "y pasan muchas motos" in case.description and "y otra más" in case.description
    assert {"y pasan muchas motos", "y otra más"} <= set(bodies)
    assert len(told) == 1


def test_listo_and_omitir_sent_too_fast_are_not_kept_in_the_description(limited):
    clock = Seconds()
    ana = Citizen(limited.dialogue, limited.uow, address="+50370001234", channel="whatsapp")
    ana.clock = clock
    ana.converse("hola", "si", "1", "hay un hoyo enorme en la calle", "es muy profundo")
    assert SLOW_DOWN in ana.send("listo")  # the sixth this minute: kept, not answered
    clock.now += timedelta(minutes=1)
    ana.converse("listo", "si", "San Miguel, colonia Las Brisas", "omitir")
    clock.now += timedelta(minutes=1)
    ana.converse("hola", "1", "se derrumbo el cerro sobre las casas y hay gente atrapada")
    ana.send("Soyapango, calle principal")  # the fourth this minute
    ana.converse("listo", "omitir")  # the fifth and the sixth
    with limited.uow() as uow:
        pothole = uow.cases.by_folio("TA-2026-000001")
        emergency = uow.cases.by_folio("TA-2026-000002")
        assert pothole.description == "hay un hoyo enorme en la calle\nes muy profundo"
        assert emergency.description == "se derrumbo el cerro sobre las casas y hay gente atrapada"


def test_the_request_to_slow_down_asks_to_write_again_and_promises_no_later_reply(limited):
    clock = Seconds()
    ana = Citizen(limited.dialogue, limited.uow, address="+50370001234", channel="whatsapp")
    ana.clock = clock
    ana.converse("hola", "si", "1", "hay un hoyo enorme en la calle", "es muy profundo")
    told = ana.send("listo")  # the sixth this minute
    assert SLOW_DOWN in told and "escríbanos de nuevo en un minuto" in told.lower()
    assert "le responderemos" not in told  # nothing answers later by itself
    assert ana.send("listo") == ""
    clock.now += timedelta(minutes=1)
    assert "Entendemos que es" in ana.send("listo")  # written again, it is answered


def test_the_limit_counts_per_sender(limited):
    clock = Seconds(0.1)
    fast = Citizen(limited.dialogue, limited.uow, address="+50370001111", channel="whatsapp")
    calm = Citizen(limited.dialogue, limited.uow, address="+50370002222", channel="whatsapp")
    fast.clock = calm.clock = clock
    answers = [fast.send(f"mensaje {n}") for n in range(8)]
    assert sum(SLOW_DOWN in answer for answer in answers) == 1 and answers[-1] == ""
    assert "¡Hola!" in calm.send("hola")


def test_guessing_folios_gets_one_answer_for_others_and_missing_ones_and_is_slowed(app):
    clock = Seconds()
    owner = Citizen(app.dialogue, app.uow, address="+50370001234", channel="whatsapp")
    owner.clock = clock
    owner.converse(*POTHOLE)
    guesser = Citizen(app.dialogue, app.uow, address="+50370009999", channel="whatsapp")
    guesser.clock = clock
    guesser.converse("hola", "si")
    others, missing = guesser.send("estado TA-2026-000001"), guesser.send("estado TA-2026-000777")
    assert others == missing and "Las Brisas" not in others
    answers = [guesser.send(f"estado TA-2026-{n:06d}") for n in range(2, 40)]
    assert sum("intente de nuevo en dos horas" in answer for answer in answers) > 0
    assert sum(SLOW_DOWN in answer for answer in answers) == 1
    assert answers[-1] == ""
    with app.uow() as uow:
        assert uow.cases.by_folio("TA-2026-000001").status == "recibido"


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE cases; --",
        "Robert'); DELETE FROM contacts WHERE '1'='1",
        "1 OR 1=1; UPDATE cases SET status='cerrado'",
        "%' UNION SELECT address FROM contacts --",
    ],
)
def test_text_that_looks_like_sql_is_stored_as_written_and_harms_nothing(app, text):
    other = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    other.converse(*POTHOLE)
    person = Citizen(app.dialogue, app.uow, address="+50370002222", channel="whatsapp")
    receipt = person.converse(*POTHOLE[:4], text, *POTHOLE[4:])
    with app.uow() as uow:
        cases = uow.session.exec(select(Case).order_by(Case.id)).all()
        contacts = uow.session.exec(select(Contact)).all()
        outbox = uow.session.exec(select(OutboxItem)).all()
    assert [case.status for case in cases] == ["recibido", "recibido"]
    assert text in cases[1].description
    assert {c.address for c in contacts} == {"+50370001111", "+50370002222"}
    assert "Folio: TA-2026-000002" in receipt and outbox


def test_an_emergency_is_answered_even_past_the_limit(limited):
    clock = Seconds(0.5)
    ana = Citizen(limited.dialogue, limited.uow, address="+50370001234", channel="whatsapp")
    ana.clock = clock
    ana.converse("hola", "si", "1", "hay un hoyo", "es grande")
    assert SLOW_DOWN in ana.send("otra cosa")
    answer = ana.send("se cayó el puente y hay gente atrapada bajo el agua")
    assert "911" in answer
