"""Field visits as an iCalendar file (RFC 5545) for the staff's calendars: folio, place, window
and who goes; nothing of the citizen (no name, no phone)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from handlers.casework.visits import place_of, status_label
from handlers.core.policy import CasePolicy
from storage.models import Case, Visit

PRODUCT = "-//Telefono Abierto//Visitas de campo//ES"


def visits_ics(
    policy: CasePolicy,
    rows: list[tuple[Visit, Case]],
    now: datetime,
    *,
    domain: str = "telefono-abierto",
) -> bytes:
    """One event a visit; a cancelled one is sent as CANCELLED so that calendars drop it."""
    t = policy.texts
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", t("visits.ics_name", institution=policy.institution.short_name))
    for visit, case in rows:
        event = Event()
        event.add("uid", f"visita-{visit.id}@{domain}")
        event.add("dtstamp", now)
        event.add("dtstart", visit.starts_at)
        event.add("dtend", visit.ends_at)
        event.add("summary", t("visits.ics_summary", folio=case.folio, number=visit.id))
        place = place_of(policy, case)
        if place:
            event.add("location", place)
        description = t(
            "visits.ics_description",
            folio=case.folio,
            who=visit.who or t("visits.no_who"),
            status=status_label(policy, visit.status),
        )
        if case.affects_women:
            description = f"{description}\n{t('visits.ics_women')}"
        event.add("description", description)
        cancelled = visit.status in ("cancelled", "missed")
        status = "CANCELLED" if cancelled else "CONFIRMED" if visit.confirmed_at else "TENTATIVE"
        event.add("status", status)
        calendar.add_component(event)
    return calendar.to_ical()
