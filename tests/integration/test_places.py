"""Places on the real unit of work, on SQLite and PostgreSQL: the gazetteer's municipality in
the case and in the tally, and staff correcting it from the chat and the terminal."""

import json

from typer.testing import CliRunner

from bot.cli import CliContext, build_cli
from bot.reporting import tally
from handlers.core.texts import load_texts
from handlers.reporting.tally import parse_period
from tests.helpers import Citizen, Clock, add_staff

JICARITO = "en ahuachapan, canton el jicarito por la escuela"
REPORT = ("hola", "si", "1", "la calle principal tiene un hoyo enorme", "listo", "si")
AGENT = "111"


def report_from(app, clock, address: str, place: str) -> str:
    citizen = Citizen(app.dialogue, app.uow, address=address, channel="whatsapp", clock=clock)
    receipt = citizen.converse(*REPORT, place, "omitir")
    return receipt.split("Folio: ")[1].split()[0]


def by_municipality(app, clock) -> dict[str, int]:
    period = parse_period(app.policy.texts, "2026-T4", None, None)
    return tally(app, period, now=clock())["by_municipality"]


def test_a_case_filed_in_a_canton_of_ahuachapan_counts_under_ahuachapan_centro(app):
    clock = Clock()
    folio = report_from(app, clock, "+50370001111", JICARITO)
    report_from(app, clock, "+50370002222", "Mejicanos, colonia Zacamil")
    with app.uow() as uow:
        case = uow.cases.by_folio(folio)
    assert (case.department, case.municipality, case.district) == (
        "Ahuachapán",
        "Ahuachapán Centro",
        "Ahuachapán",
    )
    assert case.location_text == JICARITO
    assert by_municipality(app, clock) == {"Ahuachapán Centro": 1, "San Salvador Centro": 1}


def test_staff_correct_the_place_from_the_chat_and_the_terminal(app):
    clock = Clock()
    first = report_from(app, clock, "+50370001111", "por la escuela del cantón")
    second = report_from(app, clock, "+50370002222", "colonia las brisas")
    assert by_municipality(app, clock) == {"sin_dato": 2}
    add_staff(app.uow, "Ana", telegram_id=int(AGENT))
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="telegram", clock=clock)

    answer = agent.send(f"/lugar {first} canton el jicarito, ahuachapan")
    assert f"Lugar del caso {first}: Ahuachapán Centro (Ahuachapán)" in answer
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    done = CliRunner().invoke(
        build_cli(load_texts()),
        ["cases", "place", second, "soyapngo", "--as", "Ana"],
        env=env,
        obj=CliContext(clock=clock),
    )
    assert done.exit_code == 0, done.output
    assert done.output == f"📍 Lugar del caso {second}: San Salvador Este (Soyapango)\n"
    assert "Falta el lugar" in agent.send(f"/lugar {first}")

    assert by_municipality(app, clock) == {"Ahuachapán Centro": 1, "San Salvador Este": 1}
    with app.uow() as uow:
        case = uow.cases.by_folio(second)
        event = uow.cases.events(case.id)[-1]
    assert (event.actor, event.kind, event.public) == ("Ana", "place_changed", False)
    assert json.loads(event.note) == {
        "text": "soyapngo",
        "municipality": "San Salvador Este",
        "district": "Soyapango",
        "department": "San Salvador",
        "previous": {"municipality": None, "district": None, "department": None},
    }


def test_a_place_the_gazetteer_does_not_know_is_kept_as_staff_wrote_it(app):
    clock = Clock()
    folio = report_from(app, clock, "+50370001111", "colonia las brisas")
    add_staff(app.uow, "Ana", telegram_id=int(AGENT))
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="telegram", clock=clock)
    agent.send(f"/lugar {folio} Colonia Escalón")
    with app.uow() as uow:
        assert uow.cases.by_folio(folio).municipality == "Colonia Escalón"
    # Kept on the case, but no municipality of the report: counted as not identified.
    assert by_municipality(app, clock) == {"sin_municipio_identificado": 1}


def test_staff_typing_that_they_do_not_know_where_set_no_municipality(app):
    clock = Clock()
    folio = report_from(app, clock, "+50370001111", "Villa Galicia, pasaje 3")
    add_staff(app.uow, "Ana", telegram_id=int(AGENT))
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="telegram", clock=clock)
    for text in ("no sé", "la verdad no sé", "no me acuerdo", "aquí en la esquina", "ni idea"):
        answer = agent.send(f"/lugar {folio} {text}")
        assert f"Lugar del caso {folio}: sin municipio («{text}» no nombra un lugar)" in answer
        with app.uow() as uow:
            case = uow.cases.by_folio(folio)
            assert case.municipality is None, text
            assert json.loads(uow.cases.events(case.id)[-1].note)["text"] == text
    assert by_municipality(app, clock) == {"sin_dato": 1}
    agent.send(f"/lugar {folio} por el mercado de Apopa")
    with app.uow() as uow:
        assert uow.cases.by_folio(folio).district == "Apopa"


def test_the_report_lists_only_known_municipalities_and_counts_the_rest_apart(app, tmp_path):
    clock = Clock()
    report_from(app, clock, "+50370001111", "Mejicanos, colonia Zacamil")
    report_from(app, clock, "+50370002222", "Villa Galicia, pasaje 3")
    report_from(app, clock, "+50370003333", "Lotes El Milagro, frente al palo de mango")
    report_from(app, clock, "+50370004444", "por la escuela del cantón")  # names no place
    report_from(app, clock, "+50370005555", "frente al palo de mango grande")  # nor this
    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
    obj = CliContext(clock=clock, interactive=lambda: False)
    logged = CliRunner().invoke(
        build_cli(load_texts()),
        ["cases", "new", "--channel", "presencial", "--type", "solicitud", "--text",
         "hay un hoyo grande en la calle", "--municipality", "Barrio El Calvario"],
        env=env, obj=obj,
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert by_municipality(app, clock) == {
        "sin_municipio_identificado": 3,
        "San Salvador Centro": 1,
        "sin_dato": 2,
    }
    out = tmp_path / "informe.md"
    written = CliRunner().invoke(
        build_cli(load_texts()),
        ["tally", "--period", "2026-T4", "--out", str(out)],
        env=env, obj=obj,
    )  # fmt: skip
    assert written.exit_code == 0, written.output
    report = out.read_text()
    assert "| Sin municipio identificado | 3 |" in report, report
    assert "| San Salvador Centro | 1 |" in report and "| Sin dato | 2 |" in report
    for word in ("Villa Galicia", "Lotes El Milagro", "palo de mango", "El Calvario"):
        assert f"| {word}" not in report, word
