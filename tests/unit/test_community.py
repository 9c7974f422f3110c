"""Following a project by its keyword and leaving with BAJA, as transcripts (in-memory storage)."""

from __future__ import annotations

import pytest

from handlers.dialogue.community import Request, read_request
from storage.models import CommunityProject, CommunitySubscription
from tests.helpers import TUESDAY, Citizen, assert_transcript
from tests.unit.fakes import FakeUnitOfWork

LEAVE = ["darme de baja", "dar de baja", "de baja", "baja"]
JOINED = (
    "Listo: le enviaremos por este chat los avisos de «Quebrada El Sauce» (avances, cierres, "
    "alertas). Para dejar de recibirlos escriba BAJA ELSAUCE."
)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    store = FakeUnitOfWork()
    store.community.add_project(
        CommunityProject(keyword="elsauce", name="Quebrada El Sauce", created_at=TUESDAY)
    )
    return store


@pytest.mark.parametrize(
    ("folded", "read"),
    [
        ("elsauce", Request(leave=False, keyword="elsauce")),
        ("start elsauce", Request(leave=False, keyword="elsauce")),
        ("baja", Request(leave=True, keyword="")),
        ("darme de baja elsauce", Request(leave=True, keyword="elsauce")),
        ("baja la presion del agua", None),
        ("123", None),  # a case's number, never a keyword
        ("hay un hoyo", None),
    ],
)
def test_what_reads_as_following_or_leaving(folded, read):
    assert read_request(folded, LEAVE) == read


def test_a_person_follows_by_keyword_and_leaves_with_baja(citizen: Citizen):
    citizen.converse("hola", "si")
    assert_transcript(
        citizen,
        [
            ("¡ElSauce!", JOINED),
            (
                "elsauce",
                "Ya recibe los avisos de «Quebrada El Sauce». Para dejar de recibirlos escriba "
                "BAJA ELSAUCE.",
            ),
            ("baja elsauce", "Listo: ya no le enviaremos avisos de Quebrada El Sauce."),
            ("BAJA", "Usted no recibe avisos de ningún proyecto."),
        ],
    )


def test_while_describing_a_problem_a_keyword_is_part_of_the_report(citizen: Citizen, uow):
    citizen.converse("hola", "si", "1")
    assert "avisos" not in citizen.send("elsauce")
    assert uow.rows[CommunitySubscription] == []
