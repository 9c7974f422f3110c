"""The period report and the weekly summary, from cases made through the real dialogue and staff
commands, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli import CliContext, build_cli
from handlers.core.texts import load_texts
from tests.helpers import Citizen, Clock, add_staff, visit_counts

ANA, BETO = "+50370000001", "+50370000002"
CARLA, DARIO = "3003", "3004"
AGENT = "111"


def at(day: int, hour: int, month: int = 11) -> datetime:
    """An instant of 2026 in UTC (San Salvador is 6 hours behind)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Line:
    """The service as the test drives it: citizens and an agent on one clock, and the CLI."""

    def __init__(self, app):
        self.app = app
        self.clock = Clock()
        self.env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
        add_staff(app.uow, "Ana Agente", telegram_id=int(AGENT))
        self.agent = self.person(AGENT, "telegram")

    def person(self, address: str, channel: str) -> Citizen:
        return Citizen(
            self.app.dialogue, self.app.uow, address=address, channel=channel, clock=self.clock
        )

    def report(self, citizen: Citizen, when: datetime, *lines: str) -> str:
        """A dialogue whose last message (the one that opens the case) arrives at `when`."""
        citizen.converse(*lines[:-1])
        return self.at(when, citizen.send, lines[-1])

    def at(self, when: datetime, action, *args):
        self.clock.now = when - timedelta(minutes=1)  # the clock moves one minute when read
        return action(*args)

    def staff(self, when: datetime, command: str) -> str:
        return self.at(when, self.agent.send, command)

    def cli(self, when: datetime | None, *args: str):
        cli, obj = build_cli(load_texts()), CliContext(clock=self.clock)
        run = lambda: CliRunner().invoke(cli, list(args), env=self.env, obj=obj)  # noqa: E731
        return run() if when is None else self.at(when, run)


def folio(number: int) -> str:
    return f"TA-2026-{number:06d}"


@pytest.fixture
def line(app):
    return Line(app)


def scenario(line: Line) -> None:
    """Eight cases of a November on every channel, one more on the test console, and the work
    done on them; the expected figures below are counted by hand from this."""
    ana, beto = line.person(ANA, "whatsapp"), line.person(BETO, "whatsapp")
    carla, dario = line.person(CARLA, "telegram"), line.person(DARIO, "telegram")
    pothole = "la calle principal de la colonia Las Brisas tiene un hoyo enorme"
    asphalt = "denuncio que el contratista vende el asfalto de la obra"
    # 1: Ana, a woman of 24, reports a pothole; 2: then another one.
    line.report(
        ana, at(17, 15), "hola", "si", "1", pothole, "listo", "si", "San Miguel", "mujer 24"
    )
    line.report(ana, at(17, 16), "1", pothole, "listo", "si", "San Miguel, colonia El Centro")
    # 3: Beto, a man of 45, denounces with his data; Carla, anonymously (an anonymous denuncia's
    # folio is drawn at random: the others go on from 4).
    line.report(
        beto, at(17, 17), "hola", "si", "1", asphalt, "listo", "si", "Apopa", "2", "hombre 45"
    )
    line.staff(at(17, 17), f"/tomar {folio(1)}")  # 2 hours after case 1
    line.report(carla, at(17, 18), "hola", "si", "1", asphalt, "listo", "si", "Apopa", "1")
    line.staff(at(17, 18), f"/tomar {folio(3)}")  # 1 hour
    # 4: Darío asks about a bridge and skips the statistics question.
    question = "¿cuándo empiezan a reparar el puente de la colonia?"
    line.report(
        dario, at(17, 19), "hola", "si", "1", question, "listo", "si", "Santa Ana", "omitir"
    )
    # 5: someone trying the test console: never counted unless asked for.
    tester = line.person("7001", "console")
    line.report(tester, at(17, 20), "hola", "si", "1", pothole, "listo", "si", "Apopa", "omitir")
    line.staff(at(17, 23), f"/responder {folio(4)} Empiezan en enero")  # 4 hours
    # 6: a phone call from a woman of 60; 7: a walk-in of a man of 22; 8: a call logged in chat.
    assert line.cli(at(18, 15), "cases", "new", "--channel", "telefono", "--type", "consulta",
                    "--text", "¿Qué requisitos hay para pedir la reparación de un puente?",
                    "--gender", "mujer", "--age", "60").exit_code == 0  # fmt: skip
    assert line.cli(at(18, 16), "cases", "new", "--channel", "presencial", "--type", "queja",
                    "--text", "La obra de la carretera lleva meses parada y nadie informa",
                    "--gender", "hombre", "--age", "22").exit_code == 0  # fmt: skip
    line.staff(at(18, 17), "/registrar telefono solicitud reparar el drenaje de la colonia Centro")
    closed = line.cli(at(18, 18), "cases", "close", folio(6), "--resolution", "Se le explicó")
    assert closed.exit_code == 0, closed.output  # 3 hours
    line.staff(at(18, 19), f"/estado {folio(4)} resuelto")  # 1 day
    line.staff(at(19, 15), f"/cerrar {folio(1)} Bache reparado")  # 2 days
    assert "de 1 (muy mala) a 5" in ana.send("1")  # resolved, and rates it 5
    ana.send("5")
    line.staff(at(20, 16), f"/remitir {folio(2)} Alcaldía de San Miguel")  # 3 days
    line.staff(at(20, 17), f"/cerrar {folio(5)} prueba")
    line.staff(at(15, 15, 12), f"/cerrar {folio(8)} Drenaje limpiado")  # late: due 9 December


EXPECTED = {
    "institution": "Ministerio de Obras Públicas",
    "period": {
        "label": "2026-T4",
        "start": "2026-10-01",
        "end": "2026-12-31",
        "timezone": "America/El_Salvador",
    },
    "channels": ["whatsapp", "telegram", "telefono", "presencial"],
    "received": {
        "total": 8,
        "by_channel_type": {
            "whatsapp": {"solicitud": 2, "denuncia": 1},
            "telegram": {"consulta": 1, "denuncia": 1},
            "telefono": {"solicitud": 1, "consulta": 1},
            "presencial": {"queja": 1},
        },
    },
    "attended": {
        "total": 5,
        "by_channel_type": {
            "whatsapp": {"solicitud": 2},
            "telegram": {"consulta": 1},
            "telefono": {"solicitud": 1, "consulta": 1},
        },
    },
    # Ana (twice), Beto, Darío; Carla anonymous, the woman who called, the man who came in, the
    # call logged in chat without data.
    "people": {"total": 7, "mujer": 2, "hombre": 2, "otro": 0, "sin_dato": 3, "jovenes": 2},
    "by_topic": {"calles_caminos": 2, "obras_en_ejecucion": 3, "puentes": 2, "drenaje": 1},
    "by_municipality": {
        "sin_dato": 3,
        "San Miguel Centro": 2,
        "San Salvador Oeste": 2,
        "Santa Ana Centro": 1,
    },
    # Attended within the deadline: folios 1, 2, 4, 6; not 8. The first response is the first
    # message the citizen gets from staff (taking a case with /tomar is not one, so folio 1's
    # is its closure and folio 3, only taken, has none): folio 4 answered after 4 hours, 6
    # closed after 3, 1 closed after 48 (Tuesday 17 to Thursday 19), 2 referred after 72 and 8
    # closed after 646: median 48. Resolution 2, 3, 1, 0.125 and 26.9 days.
    "deadlines": {
        "closed": 5,
        "within_deadline": 4,
        "pct_within_deadline": 80.0,
        "median_first_response_hours": 48.0,
        "median_resolution_days": 2.0,
        # Folio 8 less its four weekends: 454 business hours, 18.9 business days; the others
        # fall within 17 to 20 November, Tuesday to Friday: 4, 3, 48, 72, 454, median 48.
        "median_first_response_business_hours": 48.0,
        "median_resolution_business_days": 2.0,
    },
    "satisfaction": {"responses": 1, "mean": 5.0, "resolved_yes": 1},
    # Open on 31 December: 3 (asignado), 4 and 8 (recibido), all past their December deadlines.
    "backlog": {"open": 3, "overdue": 3},
    "commitments": {
        "made": 0,
        "due": 0,
        "met_on_time": 0,
        "met_late": 0,
        "pending": 0,
        "overdue": 0,
        "moved": 0,
        "cancelled": 0,
    },
    # No field visit in this quarter (tests/integration/test_visits.py counts them).
    "visits": visit_counts(),
    "narrative": (
        "En el periodo 2026-T4 se recibieron 8 casos por Teléfono Abierto y se atendieron 5. "
        "Por canal y tipo: 2 solicitudes por medio de WhatsApp; 1 denuncia por medio de WhatsApp; "
        "1 consulta por medio de Telegram; 1 denuncia por medio de Telegram; "
        "1 solicitud por teléfono; 1 consulta por teléfono; 1 queja en atención presencial. "
        "2 atenciones de solicitudes por medio de WhatsApp; 1 orientación por medio de Telegram; "
        "1 atención de una solicitud por teléfono; 1 orientación telefónica. "
        "Los casos recibidos fueron presentados por 7 personas: 2 mujeres, 2 hombres y "
        "3 personas sin dato de género; 2 de ellas son jóvenes. "
        "De 5 casos atendidos, 4 (80.0%) se atendieron dentro del plazo legal. "
        "1 persona calificó la atención con un promedio de 5.0 sobre 5. "
        # The quarter has not ended when the test asks: its backlog is told as of today.
        "A la fecha quedaban 3 casos abiertos, 3 de ellos con el plazo vencido."
    ),
}


def test_the_quarter_tally_counts_what_the_dialogue_and_the_staff_did(line):
    scenario(line)
    result = line.cli(None, "tally", "--period", "2026-T4", "--format", "json")
    assert result.exit_code == 0, result.output
    tally = json.loads(result.output)
    assert tally == EXPECTED
    with_console = json.loads(
        line.cli(
            None, "tally", "--period", "2026-T4", "--format", "json", "--include-console"
        ).output
    )
    assert with_console["received"]["by_channel_type"]["console"] == {"solicitud": 1}
    assert (with_console["received"]["total"], with_console["attended"]["total"]) == (9, 6)


def test_the_spreadsheet_and_the_markdown_carry_the_same_totals(line, tmp_path):
    from openpyxl import load_workbook

    scenario(line)
    sheet_file, md_file = tmp_path / "t4.xlsx", tmp_path / "t4.md"
    for fmt, out in (("xlsx", sheet_file), ("md", md_file)):
        result = line.cli(None, "tally", "--period", "2026-T4", "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
    book = load_workbook(sheet_file)
    received, attended = book["Recibidos"], book["Atendidos"]
    totals = {row[0]: row[1:] for row in received.iter_rows(values_only=True)}
    assert totals["Total"] == (3, 2, 1, 0, 2, 0, 8)  # solicitud ... sugerencia, total
    assert totals["WhatsApp"] == (2, 0, 0, 0, 1, 0, 3)
    assert list(attended.iter_rows(values_only=True))[-1] == ("Total", 3, 2, 0, 0, 0, 0, 5)
    assert len(book["Resumen"]._charts) == 1
    people = dict(book["Personas"].iter_rows(min_row=2, values_only=True))
    assert people == {
        "Total": 7,
        "Mujeres": 2,
        "Hombres": 2,
        "Otro género": 0,
        "Sin dato": 3,
        "Jóvenes": 2,
    }
    assert book["Resumen"]["A3"].value == EXPECTED["narrative"]
    text = md_file.read_text()
    assert "| Total | 3 | 2 | 1 | 0 | 2 | 0 | 8 |" in text and "![" in text
    assert (tmp_path / "t4.png").read_bytes().startswith(b"\x89PNG")


def test_a_period_without_cases_is_a_report_of_zeros_and_a_wrong_one_a_single_line(line):
    result = line.cli(None, "tally", "--period", "2025-C2", "--format", "json")
    tally = json.loads(result.output)
    assert tally["period"] == {
        "label": "2025-C2",
        "start": "2025-05-01",
        "end": "2025-08-31",
        "timezone": "America/El_Salvador",
    }
    assert tally["received"] == {"total": 0, "by_channel_type": {}}
    assert tally["people"]["total"] == tally["deadlines"]["closed"] == 0
    # Nothing closed, nothing answered: "sin dato" (null), never a zero that reads as a figure.
    assert tally["deadlines"]["pct_within_deadline"] is None
    assert tally["deadlines"]["median_first_response_hours"] is None
    assert tally["deadlines"]["median_resolution_business_days"] is None
    assert tally["satisfaction"]["mean"] is None
    markdown = line.cli(None, "tally", "--period", "2025-C2").output
    assert "| % dentro del plazo | Sin dato |" in markdown
    missing = line.cli(None, "tally")
    assert missing.exit_code == 1 and "Indique el periodo" in missing.output
    assert "«»" not in missing.output
    wrong = line.cli(None, "tally", "--period", "2026-Q3")
    assert wrong.exit_code == 1
    assert "2026-T3" in wrong.output and "--from" in wrong.output
    assert len(wrong.output.strip().splitlines()) == 1


def test_a_quarter_not_over_yet_counts_as_overdue_only_the_cases_already_past_their_deadline(
    line,
):
    scenario(line)
    # On 1 December none of the three cases still open is late: 3 and 4 are due on 8 December,
    # 8 on the 9th.
    result = line.cli(at(1, 15, 12), "tally", "--period", "2026-T4", "--format", "json")
    assert json.loads(result.output)["backlog"] == {"open": 3, "overdue": 0}
    # On 9 December two of them are late.
    result = line.cli(at(9, 15, 12), "tally", "--period", "2026-T4", "--format", "json")
    assert json.loads(result.output)["backlog"] == {"open": 3, "overdue": 2}


def test_the_medians_in_business_time_leave_weekends_and_holidays_out(line):
    ana = line.person(ANA, "whatsapp")
    pothole = "la calle principal de la colonia Las Brisas tiene un hoyo enorme"
    # Friday 30 October at 16:00 in San Salvador; taken and closed on Tuesday 3 November at
    # 08:00, after the weekend and the Día de los Difuntos (Monday 2 November).
    line.report(ana, at(30, 22, 10), "hola", "si", "1", pothole, "listo", "si", "Apopa", "omitir")
    line.staff(at(3, 14), f"/tomar {folio(1)}")
    line.staff(at(3, 14), f"/cerrar {folio(1)} Bache reparado")
    # Friday 20 November at 16:00; taken and closed on Monday at 08:00.
    line.report(ana, at(20, 22), "1", pothole, "listo", "si", "Apopa")
    line.staff(at(23, 14), f"/tomar {folio(2)}")
    line.staff(at(23, 14), f"/cerrar {folio(2)} Bache reparado")
    result = line.cli(
        None, "tally", "--from", "2026-10-01", "--to", "2026-11-30", "--format", "json"
    )
    deadlines = json.loads(result.output)["deadlines"]
    # 88 and 64 clock hours; in both, 8 business hours on Friday and 8 on the next working day.
    assert deadlines["median_first_response_hours"] == 76.0
    assert deadlines["median_first_response_business_hours"] == 16.0
    assert deadlines["median_resolution_days"] == 3.2
    assert deadlines["median_resolution_business_days"] == 0.7


def test_the_narrative_of_a_single_case_speaks_in_the_singular(line):
    ana, beto = line.person(ANA, "whatsapp"), line.person(BETO, "whatsapp")
    pothole = "la calle principal de la colonia Las Brisas tiene un hoyo enorme"
    line.report(
        ana, at(17, 15), "hola", "si", "1", pothole, "listo", "si", "San Miguel", "mujer 45"
    )
    line.staff(at(19, 15), f"/cerrar {folio(1)} Bache reparado")
    ana.send("1")
    ana.send("4")
    # Beto's report of 1 December is still open, and late, at the end of the month.
    line.report(beto, at(1, 15, 12), "hola", "si", "1", pothole, "listo", "si", "Apopa", "omitir")

    def narrative(first: str, last: str) -> str:
        in_january = datetime(2027, 1, 4, 15, tzinfo=UTC)
        result = line.cli(in_january, "tally", "--from", first, "--to", last, "--format", "json")
        return json.loads(result.output)["narrative"]

    assert narrative("2026-11-01", "2026-11-30") == (
        "En el periodo 2026-11-01/2026-11-30 se recibió 1 caso por Teléfono Abierto y se atendió "
        "1. Por canal y tipo: 1 solicitud por medio de WhatsApp. "
        "1 atención de una solicitud por medio de WhatsApp. "
        "El caso recibido fue presentado por 1 persona, una mujer. "
        "De 1 caso atendido, 1 (100.0%) se atendió dentro del plazo legal. "
        "1 persona calificó la atención con un promedio de 4.0 sobre 5. "
        "Al cierre del periodo no quedaban casos abiertos."
    )
    assert narrative("2026-12-01", "2026-12-31") == (
        "En el periodo 2026-12-01/2026-12-31 se recibió 1 caso por Teléfono Abierto y no se "
        "atendió ninguno. Por canal y tipo: 1 solicitud por medio de WhatsApp. "
        "El caso recibido fue presentado por 1 persona sin dato de género. "
        "Al cierre del periodo quedaba 1 caso abierto, con el plazo vencido."
    )


def test_a_year_out_of_the_calendar_is_a_wrong_period_in_one_line(line):
    for arguments in (
        ("--period", "0000"),
        ("--period", "9999-T4"),
        ("--period", "9999"),
        ("--from", "9999-12-30", "--to", "9999-12-31"),
        ("--from", "0001-01-01", "--to", "0001-01-31"),
    ):
        wrong = line.cli(None, "tally", *arguments)
        assert wrong.exit_code == 1, arguments
        assert wrong.exception is None or isinstance(wrong.exception, SystemExit)
        assert "Periodo desconocido" in wrong.output
        assert len(wrong.output.strip().splitlines()) == 1


def test_a_period_and_dates_together_are_refused_saying_they_cannot_be_combined(line):
    said = {
        ("--period", "2026-T4", "--from", "2026-10-01"): (
            "Indique el periodo con --period o con --from y --to, no con ambos.\n"
        ),
        ("--period", "2026", "--from", "2026-01-01", "--to", "2026-03-31"): (
            "Indique el periodo con --period o con --from y --to, no con ambos.\n"
        ),
        ("--from", "2026-10-01"): (
            "Con fechas hacen falta las dos: --from AAAA-MM-DD --to AAAA-MM-DD.\n"
        ),
        ("--from", "2026-11-30", "--to", "2026-11-01"): (
            "La fecha --from 2026-11-30 es posterior a --to 2026-11-01\n"
        ),
    }
    for arguments, sentence in said.items():
        wrong = line.cli(None, "tally", *arguments)
        assert (wrong.exit_code, wrong.output) == (1, sentence), arguments
