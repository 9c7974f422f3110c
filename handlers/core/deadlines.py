"""Business days: the national calendar plus the institution's own closed days, in its time zone."""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo


class BusinessCalendar:
    """Monday to Friday, minus holidays of one country and the extra closed days."""

    def __init__(self, country: str, timezone: str, extra_holidays: Iterable[date] = ()) -> None:
        self.country = country
        self.tz = ZoneInfo(timezone)
        self._extra = frozenset(extra_holidays)

    @cached_property
    def _holidays(self) -> Container[date]:
        """The country's holidays, loaded when first asked about a day (loading the package's
        countries takes a tenth of a second that the reports without deadlines do not need)."""
        import holidays

        return holidays.country_holidays(self.country)

    def is_business_day(self, day: date) -> bool:
        """Whether the institution works on this date."""
        return day.weekday() < 5 and day not in self._holidays and day not in self._extra

    def add_business_days(self, received: date, days: int) -> date:
        """The last day to answer: `days` business days counted from the day after `received`."""
        day = received
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after `start` up to and including `end` (0 when `end` is not later)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    def closed_weekdays(self, first: date, last: date) -> list[date]:
        """The Mondays to Fridays from `first` to `last` (included) that are not business days:
        holidays and the institution's closed days."""
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [day for day in days if day.weekday() < 5 and not self.is_business_day(day)]

    def local_date(self, instant: datetime) -> date:
        """The institution's calendar date at this instant."""
        return instant.astimezone(self.tz).date()

    def start_of_day(self, day: date) -> datetime:
        """The first second of this local date, in UTC."""
        return datetime.combine(day, time(0, 0), tzinfo=self.tz).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """The last second of this local date, in UTC."""
        local = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return local.astimezone(UTC)

    def due_at(self, received_at: datetime, days: int) -> datetime:
        """The deadline instant (end of the last business day, in UTC) for a case received now."""
        return self.end_of_day(self.add_business_days(self.local_date(received_at), days))
