"""Periods, weeks and the narrative's Spanish, without a database."""

from datetime import date

import pytest

from handlers.reports import BadPeriod, attention_line, number, parse_period
from handlers.summary import BadWeek, last_full_week, parse_week
from handlers.texts import load_texts

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
