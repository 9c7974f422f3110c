"""Answer deadlines in business days, with national holidays, closed days and time zones."""

from datetime import UTC, date, datetime

from handlers.casework.lifecycle import resume_deadline
from handlers.core.deadlines import BusinessCalendar
from storage.models import Case
from tests.helpers import make_dialogue, make_settings

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


def test_a_pause_counts_the_business_days_after_the_request_up_to_the_answer():
    # Asked on Tuesday 31 March 2026 (Semana Santa), answered on Monday 6 April: Wednesday 1
    # and Monday 6 are business days; Holy Thursday, Good Friday and the weekend are not.
    assert SV.business_days_between(date(2026, 3, 31), date(2026, 4, 6)) == 2
    assert SV.business_days_between(date(2026, 4, 6), date(2026, 4, 6)) == 0


def test_a_colombian_puente_monday_is_not_counted_as_waiting():
    # Asked on Friday 20 March 2026, answered on Tuesday 24: Monday 23 is San José's puente.
    assert CO.business_days_between(date(2026, 3, 20), date(2026, 3, 24)) == 1


def resumed(calendar, case_due, paused_at, answered_at):
    country = "CO" if calendar is CO else "SV"
    timezone = "America/Bogota" if calendar is CO else "America/El_Salvador"
    policy = make_dialogue(
        make_settings(institution={"country": country, "timezone": timezone})
    ).policy
    case = Case(folio="TA-2026-000001", due_at=case_due, paused_at=paused_at, deadline_days=15)
    resume_deadline(policy, case, answered_at)
    assert case.paused_at is None
    return calendar.local_date(case.due_at)


def test_a_pause_across_semana_santa_moves_the_deadline_by_the_days_waited():
    due = SV.due_at(datetime(2026, 3, 20, 15, 0, tzinfo=UTC), 15)  # received Friday 20 March
    assert SV.local_date(due) == date(2026, 4, 14)
    asked = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    answered = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
    assert resumed(SV, due, asked, answered) == date(2026, 4, 16)


def test_an_answer_just_after_local_midnight_counts_on_the_new_day():
    due = SV.due_at(datetime(2026, 11, 17, 15, 0, tzinfo=UTC), 15)  # Tuesday 8 December
    asked = datetime(2026, 11, 18, 5, 30, tzinfo=UTC)  # Tuesday 23:30 in San Salvador
    before_midnight = datetime(2026, 11, 18, 5, 59, tzinfo=UTC)  # Tuesday 23:59
    after_midnight = datetime(2026, 11, 18, 6, 1, tzinfo=UTC)  # Wednesday 00:01
    assert resumed(SV, due, asked, before_midnight) == date(2026, 12, 8)
    assert resumed(SV, due, asked, after_midnight) == date(2026, 12, 9)


def test_a_pause_over_a_colombian_puente_in_bogota():
    due = CO.due_at(datetime(2026, 3, 17, 15, 0, tzinfo=UTC), 10)
    asked = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)  # Friday
    answered = datetime(2026, 3, 24, 15, 0, tzinfo=UTC)  # Tuesday, after the puente
    assert resumed(CO, due, asked, answered) == CO.add_business_days(CO.local_date(due), 1)
