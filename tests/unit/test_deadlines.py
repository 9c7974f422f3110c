"""Answer deadlines in business days, with national holidays, closed days and time zones."""

from datetime import UTC, date, datetime

from handlers.deadlines import BusinessCalendar

SV = BusinessCalendar("SV", "America/El_Salvador")
CO = BusinessCalendar("CO", "America/Bogota")


def test_days_count_from_the_next_business_day():
    # Tuesday 17 November 2026: day 1 is Wednesday 18, day 3 is Friday 20.
    assert SV.add_business_days(date(2026, 11, 17), 3) == date(2026, 11, 20)
    # A Saturday: day 1 is Monday.
    assert SV.add_business_days(date(2026, 11, 21), 1) == date(2026, 11, 23)


def test_semana_santa_is_not_counted_in_el_salvador():
    # Holy Thursday and Good Friday 2026 are 2 and 3 April.
    assert SV.add_business_days(date(2026, 3, 31), 3) == date(2026, 4, 7)


def test_a_colombian_puente_monday_is_not_counted():
    # San José is moved to Monday 23 March 2026.
    assert CO.add_business_days(date(2026, 3, 20), 1) == date(2026, 3, 24)
    assert SV.add_business_days(date(2026, 3, 20), 1) == date(2026, 3, 23)


def test_the_institutions_own_closed_days_are_skipped():
    closed = BusinessCalendar("SV", "America/El_Salvador", [date(2026, 11, 18)])
    assert closed.add_business_days(date(2026, 11, 17), 1) == date(2026, 11, 19)


def test_a_message_at_half_past_eleven_at_night_counts_on_the_local_date():
    # 05:30 UTC on Wednesday is still Tuesday 23:30 in San Salvador.
    received = datetime(2026, 11, 18, 5, 30, tzinfo=UTC)
    assert SV.local_date(received) == date(2026, 11, 17)
    due = SV.due_at(received, 1)
    assert SV.local_date(due) == date(2026, 11, 18)
    assert due == datetime(2026, 11, 19, 5, 59, 59, tzinfo=UTC)


def test_fifteen_business_days_across_christmas():
    # Received Friday 11 December 2026: 14-18 (5), 21-24 (9), 28-31 (13), 4 and 5 January (15);
    # Christmas, New Year's Day and the weekends are skipped.
    assert SV.add_business_days(date(2026, 12, 11), 15) == date(2027, 1, 5)
