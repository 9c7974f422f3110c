"""Asking about anonymous codes: what a number that asks keeps on its row, and what it is told."""

from datetime import timedelta

from storage.models import Case, Contact
from tests.helpers import POTHOLE

# Codes no case has: each a miss.
WRONG = [f"ABCD-EFGH-{a}{b}{a}{b}" for a in "2345" for b in "6789"]
REFUSED = "Recibimos demasiadas consultas de folios o códigos que no encontramos."


def to_the_hour(at) -> bool:
    return at is None or at == at.replace(minute=0, second=0, microsecond=0)


def test_mistyped_codes_leave_on_the_number_no_time_finer_than_the_hour(uow, citizen, clock):
    citizen.converse("hola", "si")
    clock.now += timedelta(minutes=17, seconds=23, microseconds=5)
    assert citizen.send("estado ABCD-EFGH-2345").startswith("No encontramos")
    (contact,) = uow.rows[Contact]
    assert contact.folio_misses == 1
    assert to_the_hour(contact.folio_misses_since) and contact.folio_misses_since is not None
    for wrong in WRONG[:9]:
        citizen.send(f"estado {wrong}")
    assert citizen.send("estado ABCD-EFGH-HJ22").startswith("No encontramos")  # the eleventh
    assert contact.folio_blocked_until is not None and to_the_hour(contact.folio_blocked_until)
    assert to_the_hour(contact.folio_misses_since)
    assert citizen.send("estado ABCD-EFGH-HJ33").startswith(REFUSED)
    # Refused for an hour or so, then asked again.
    clock.now += timedelta(minutes=50)
    assert citizen.send("estado ABCD-EFGH-HJ44").startswith(REFUSED)
    clock.now = contact.folio_blocked_until
    assert citizen.send("estado ABCD-EFGH-HJ55").startswith("No encontramos")


def test_eleven_mistyped_codes_within_an_hour_are_refused_across_the_turn_of_the_hour(
    uow, citizen, clock
):
    citizen.converse("hola", "si")
    clock.now = clock.now.replace(minute=50)
    for wrong in WRONG[:11]:
        citizen.send(f"estado {wrong}")
    assert clock.now.minute < 10  # the misses straddled the hour
    assert citizen.send("estado ABCD-EFGH-HJ99").startswith(REFUSED)


def test_a_new_number_that_only_tries_codes_is_refused_all_the_same_and_keeps_no_row(
    uow, citizen, clock
):
    for wrong in WRONG[:11]:
        assert citizen.send(f"estado {wrong}").startswith("No encontramos")
    assert citizen.send(f"estado {WRONG[11]}").startswith(REFUSED)
    assert uow.rows[Contact] == []
    clock.now += timedelta(hours=2)
    assert citizen.send(f"estado {WRONG[12]}").startswith("No encontramos")
    assert uow.rows[Contact] == []


def test_a_new_number_naming_a_code_and_the_folio_of_an_erased_persons_case_is_not_shown_it(
    uow, citizen, make_citizen
):
    citizen.converse(*POTHOLE)  # TA-2026-000001
    citizen.converse("borrar mis datos", "si")
    (case,) = uow.rows[Case]
    assert case.contact_id is None
    stranger = make_citizen("+50370004444", channel="whatsapp")
    answer = stranger.send(f"estado TA-2026-000001 {WRONG[0]}")
    assert "Recibido" not in answer and "TA-2026-000001" not in answer
