"""What the desk says about a deadline, in words a person reads."""

from datetime import UTC, datetime

from bot.app import build_policy
from bot.desk.views import deadline
from bot.desk.web import desk_texts
from storage.models import Case
from tests.helpers import make_settings

POLICY = build_policy(make_settings())
T = desk_texts()
# Thursday 17 December 2026, 10:00 in San Salvador; Friday 25 is Christmas.
NOW = datetime(2026, 12, 17, 16, 0, tzinfo=UTC)


def case(due: datetime, **values) -> Case:
    return Case(
        folio="TA-2026-000001",
        channel="whatsapp",
        type="solicitud",
        topic="puentes",
        description="x",
        deadline_days=15,
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
        due_at=due,
        **values,
    )


def due_on(day: int, month: int = 12) -> datetime:
    return POLICY.calendar.end_of_day(datetime(2026, month, day).date())


def test_a_deadline_a_week_ahead_counts_the_business_days_left_today_included():
    said = deadline(POLICY, T, case(due_on(24)), NOW)
    assert said.words == "vence el jueves 24/12/2026: faltan 6 días hábiles contando hoy"
    assert said.state == "a_tiempo"


def test_a_deadline_two_business_days_ahead_is_due_soon_and_holidays_do_not_count():
    said = deadline(POLICY, T, case(due_on(18)), NOW)
    assert said.state == "por_vencer" and "faltan 2 días hábiles" in said.words
    assert deadline(POLICY, T, case(due_on(17)), NOW).words == "vence hoy, jueves 17/12/2026"


def test_a_passed_deadline_says_how_many_business_days_ago():
    said = deadline(POLICY, T, case(due_on(14)), NOW)
    assert said.state == "vencido"
    assert said.words == "venció el lunes 14/12/2026: hace 3 días hábiles"


def test_a_paused_or_extended_deadline_says_so():
    paused = deadline(POLICY, T, case(due_on(24), paused_at=NOW), NOW)
    # Shown after the state's own label, «En pausa»: the words do not say it again.
    assert paused.state == "pausado" and paused.words.startswith("desde el 17/12/2026")
    assert paused.words.endswith(
        "(sin contar la pausa, vence el jueves 24/12/2026: faltan 6 días hábiles contando hoy)"
    )
    extended = deadline(POLICY, T, case(due_on(24), extension_days=5), NOW)
    assert extended.words.endswith("prorrogado 5 días hábiles")


def test_the_day_counter_agrees_with_the_calendar_across_years_and_holidays():
    from datetime import date, timedelta

    from bot.desk.views import DayCounter

    counter, calendar = DayCounter(POLICY.calendar), POLICY.calendar
    start = date(2025, 12, 20)
    for offset in range(0, 420, 7):
        end = start + timedelta(days=offset)
        assert counter.between(start, end) == calendar.business_days_between(start, end)
        assert counter.is_business_day(end) == calendar.is_business_day(end)


def test_every_key_the_desk_templates_use_is_in_its_catalogue():
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "bot" / "desk" / "templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_]+)["']""", path.read_text()))
    assert len(used) > 50
    # Keys ending in "_" are prefixes completed in the template (t("queue.folder_" ~ f)).
    assert sorted(key for key in used if not (T.has(key) or key.endswith("_"))) == []


def test_a_message_of_less_than_a_minute_ago_is_said_so_not_zero_minutes():
    from datetime import timedelta

    from bot.desk.views import since_words

    assert since_words(T, NOW - timedelta(seconds=20), NOW) == "hace un momento"
    assert since_words(T, NOW - timedelta(minutes=5), NOW) == "hace 5 min"


def test_an_anonymous_cases_last_message_is_said_as_its_day_not_hours_from_midnight():
    from datetime import timedelta

    from bot.desk.views import since_words

    day_of = POLICY.calendar.local_date
    midnight = POLICY.calendar.start_of_day(day_of(NOW))  # how an anonymous message is dated
    assert since_words(T, midnight, NOW, day_of) == "hoy"
    assert since_words(T, midnight - timedelta(days=1), NOW, day_of) == "ayer"
    assert since_words(T, midnight - timedelta(days=3), NOW, day_of) == "hace 3 días"
