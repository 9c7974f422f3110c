"""The period report ("tally", spec section 7): periods, figures, tables and the narrative.

The figures come from a report repository (storage/reports.py) that aggregates in the database;
this module names periods, shapes the figures into the stable JSON and writes the Spanish text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from handlers.core.deadlines import BusinessCalendar
from handlers.core.labels import CASE_TYPES, CHANNELS, GENDERS
from handlers.core.places import Gazetteer
from handlers.core.texts import Texts

REPORT_CHANNELS = tuple(channel for channel in CHANNELS if channel != "console")
# Months in each period kind: T quarters, C four-month periods (as Bogotá reports), S halves.
PERIOD_MONTHS = {"T": 3, "C": 4, "S": 6}
EPOCH = date(1970, 1, 1)
T = TypeVar("T")
# The days a period may cover: its UTC bounds, and the previous week, must be dates too.
FIRST_DAY, LAST_DAY = date(1, 1, 15), date(9999, 12, 15)


class BadPeriod(ValueError):
    """A period string that names no period; the message is one Spanish line."""


@dataclass(frozen=True)
class Period:
    """A range of local dates, both included."""

    label: str
    first: date
    last: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants where the period starts and where it ends (excluded)."""
        start = datetime.combine(self.first, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
        return start, end


def parse_period(t: Texts, value: str | None, first: date | None, last: date | None) -> Period:
    """`2026-T3`, `2026-C2`, `2026-S1`, `2026`, or the dates of --from/--to."""
    try:
        period = _period(t, value, first, last)
    except BadPeriod:
        raise
    except ValueError as exc:  # a year Python's dates cannot hold, such as 0000
        raise BadPeriod(t("report.bad_period", value=value or "")) from exc
    if not (period.first >= FIRST_DAY and period.last <= LAST_DAY):
        raise BadPeriod(t("report.bad_period", value=value or ""))
    return period


def _period(t: Texts, value: str | None, first: date | None, last: date | None) -> Period:
    if first is not None or last is not None:
        if value or first is None or last is None or first > last:
            raise BadPeriod(t("report.bad_period", value=value or ""))
        return Period(f"{first.isoformat()}/{last.isoformat()}", first, last)
    if not (value or "").strip():
        raise BadPeriod(t("report.missing_period"))
    match = re.fullmatch(r"(\d{4})(?:-([TCS])(\d))?", (value or "").strip().upper())
    if not match:
        raise BadPeriod(t("report.bad_period", value=value or ""))
    year, kind, number = int(match[1]), match[2], int(match[3] or 0)
    if kind is None:
        return Period(str(year), date(year, 1, 1), date(year, 12, 31))
    months = PERIOD_MONTHS[kind]
    if not 1 <= number <= 12 // months:
        raise BadPeriod(t("report.bad_period", value=value))
    start_month = (number - 1) * months + 1
    end = date(year + 1, 1, 1) if number == 12 // months else date(year, start_month + months, 1)
    return Period(f"{year}-{kind}{number}", date(year, start_month, 1), end - timedelta(days=1))


def _matrix(counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    by: dict[str, dict[str, int]] = {}
    for (channel, case_type), count in sorted(
        counts.items(),
        key=lambda item: (_order(CHANNELS, item[0][0]), _order(CASE_TYPES, item[0][1])),
    ):
        by.setdefault(channel, {})[case_type] = count
    return {"total": sum(counts.values()), "by_channel_type": by}


def _order(names: tuple[str, ...], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _counts(totals: dict[Any, int]) -> dict[str, int]:
    """Counts by name, largest first; cases without a value count as `sin_dato`."""
    counts: dict[str, int] = {}
    for name, count in totals.items():
        key = name or "sin_dato"
        counts[key] = counts.get(key, 0) + count
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# The row of the places the gazetteer does not know (kept on the case as the person wrote them:
# a colonia, a landmark, any words), so that only municipalities are listed as such.
UNIDENTIFIED = "sin_municipio_identificado"


def _by_unit(totals: dict[Any, int], places: Gazetteer | None) -> dict[Any, int]:
    """Counts by municipality with the names the gazetteer gives: "San Miguel", kept as written
    by an earlier version, counts under "San Miguel Centro"; a place it does not know, under
    UNIDENTIFIED. With no gazetteer (a country none is shipped for), places as written."""
    if not places:
        return totals
    known = set(places.municipalities)
    counts: dict[Any, int] = {}
    for name, count in totals.items():
        if name and name not in known:
            found = places.match(name)
            name = found.municipality if found is not None and found.matched else UNIDENTIFIED
        counts[name] = counts.get(name, 0) + count
    return counts


def sum_by(rows: list[tuple], *columns: int) -> dict:
    """Add up the last column of aggregated rows by the value (or values) of some columns."""
    totals: dict = {}
    for row in rows:
        key = row[columns[0]] if len(columns) == 1 else tuple(row[c] for c in columns)
        totals[key] = totals.get(key, 0) + row[-1]
    return totals


def attended_figures(rows: list[tuple]) -> dict[str, Any]:
    """Attended cases, within their deadline, and survey answers, from the attended cube."""
    rated = [row for row in rows if row[3] is not None]
    responses = sum(row[-1] for row in rated)
    return {
        "closed": sum(row[-1] for row in rows),
        "within_deadline": sum(row[-1] for row in rows if row[2]),
        "responses": responses,
        "mean": sum(row[3] * row[-1] for row in rated) / responses if responses else None,
        "resolved_yes": sum(row[-1] for row in rows if row[4]),
    }


VISIT_KEYS = ("proposed", "confirmed", "rescheduled", "done", "cancelled", "missed")


def visit_figures(rows: list[tuple]) -> dict[str, int]:
    """The period's field visits from (status, confirmed, affects women, count) rows: every
    visit planned in the period was proposed; confirmed by the citizen (or agreed by phone);
    moved at the citizen's request; done, cancelled, missed; and those of situations affecting
    women."""
    figures = {key: 0 for key in (*VISIT_KEYS, "women_priority")}
    for status, confirmed, women, count in rows:
        figures["proposed"] += count
        figures["confirmed"] += count if confirmed else 0
        figures["rescheduled"] += count if status == "reschedule_asked" else 0
        if status in ("done", "cancelled", "missed"):
            figures[status] += count
        figures["women_priority"] += count if women else 0
    return figures


def _zone_offset(calendar: BusinessCalendar, start: datetime) -> int:
    """The time zone's offset from UTC in seconds, taken at the start (the institutions' zones
    keep one all year), for the business-time medians."""
    return int(start.astimezone(calendar.tz).utcoffset().total_seconds())


def _closed_days(
    calendar: BusinessCalendar, start: datetime, end: datetime, earliest: datetime | None, now
) -> list[int]:
    """For the business-time medians (weekends, holidays and closed days left out): the closed
    weekdays from the earliest receipt to the latest attention, as days since 1970."""
    first = calendar.local_date(min(start, earliest or start))
    last = calendar.local_date(max(now, end)) + timedelta(days=1)
    return [(day - EPOCH).days for day in calendar.closed_weekdays(first, last)]


def _once(compute: Callable[[Any], T]) -> Callable[[Any], T]:
    """`compute(reports)` for the first caller, on whichever thread; its answer to every later
    one (who waits for it)."""
    lock = threading.Lock()
    answers: list[T] = []

    def answer(reports: Any) -> T:
        with lock:
            if not answers:
                answers.append(compute(reports))
        return answers[0]

    return answer


def build_tally(
    reports: Any,
    period: Period,
    calendar: BusinessCalendar,
    youth: tuple[int, int],
    t: Texts,
    now: datetime,
    places: Gazetteer | None = None,
) -> dict[str, Any]:
    """Every figure of the period report, as the JSON of spec section 7 (plus added keys); the
    backlog of a period that has not ended is overdue as of `now`. Municipalities are counted
    by the gazetteer's names when `places` is given (a place stored as written that the
    gazetteer now knows joins its municipality)."""
    tz = calendar.tz
    start, end = period.bounds(tz)
    # A pending commitment is overdue at the period's end (now, for one not ended) when its date
    # was before that day.
    overdue_before = min(period.last + timedelta(days=1), calendar.local_date(now))
    # Every query is asked together, the longest first. The business-time medians leave out
    # the closed days from the oldest receipt they span: a small query and the calendar's
    # holidays (loaded on first use), asked by the first median to need them while the
    # database already answers the others.
    offset = _zone_offset(calendar, start)
    closed_days = _once(
        lambda r: _closed_days(calendar, start, end, r.earliest_attended_receipt(start, end), now)
    )
    (
        received,
        (first_response, business_response),
        people_rows,
        attended,
        (resolution, business_resolution),
        (backlog, backlog_overdue),
        commitments,
        visits,
    ) = reports.gather(
        lambda r: r.received_cube(start, end),
        lambda r: r.first_response_medians(start, end, offset, closed_days(r)),
        lambda r: r.people(start, end, youth),
        lambda r: r.attended_cube(start, end),
        lambda r: r.resolution_medians(start, end, offset, closed_days(r)),
        lambda r: r.backlog(end, now),
        lambda r: r.commitment_figures(start, end, period.first, period.last, overdue_before),
        lambda r: r.visit_counts(start, end),
    )
    people = {"total": 0, **{gender: 0 for gender in GENDERS}, "jovenes": 0}
    for gender, count, young in people_rows:
        key = gender if gender in GENDERS else "sin_dato"
        people[key] += count
        people["total"] += count
        people["jovenes"] += young
    done = attended_figures(attended)
    closed, within = done["closed"], done["within_deadline"]
    tally: dict[str, Any] = {
        "period": {
            "label": period.label,
            "start": period.first.isoformat(),
            "end": period.last.isoformat(),
            "timezone": tz.key,
        },
        "channels": list(reports.channels),
        "received": _matrix(sum_by(received, 0, 1)),
        "attended": _matrix(sum_by(attended, 0, 1)),
        "people": people,
        "by_topic": _counts(sum_by(received, 2)),
        "by_municipality": _counts(_by_unit(sum_by(received, 3), places)),
        "deadlines": {
            "closed": closed,
            "within_deadline": within,
            "pct_within_deadline": round(100.0 * within / closed, 1) if closed else None,
            "median_first_response_hours": _rounded(first_response, 1),
            "median_resolution_days": _rounded(resolution, 1),
            "median_first_response_business_hours": _rounded(business_response, 1),
            "median_resolution_business_days": _rounded(business_resolution, 1),
        },
        "satisfaction": {
            "responses": done["responses"],
            "mean": _rounded(done["mean"], 2),
            "resolved_yes": done["resolved_yes"],
        },
        "backlog": {"open": backlog, "overdue": backlog_overdue},
        # Planned against executed, as the Bogotá reports follow their commitments.
        "commitments": commitments,
        "visits": visit_figures(visits),
    }
    # A period not yet ended counts its backlog "a la fecha", not "al cierre del periodo".
    tally["narrative"] = narrative(t, tally, ongoing=period.last >= calendar.local_date(now))
    return tally


def _rounded(value: float | None, decimals: int) -> float | None:
    """A figure rounded for the report; None (JSON null, "sin dato") when there is nothing to
    compute it from, never 0.0."""
    return None if value is None else round(value, decimals)


def number(value: float, decimals: int = 0) -> str:
    """The institution's number format: thousands with a comma ("8,090")."""
    return f"{value:,.{decimals}f}"


def _plural(t: Texts, key: str, count: int, **values: Any) -> str:
    """The sentence agreeing with `count`, the number written in the institution's format."""
    return t.plural(key, count, count=number(count), **values)


def _plural_or_none(t: Texts, key: str, count: int) -> str:
    """ "se recibieron 8 casos", or "no se recibieron casos" rather than a bare zero."""
    return t(f"{key}_none") if count == 0 else _plural(t, key, count)


def _join(t: Texts, parts: list[str]) -> str:
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {t('report.and')} {parts[-1]}"


def attention_line(t: Texts, channel: str, case_type: str, count: int) -> str:
    """One item of the narrative: "136 atenciones de solicitudes por medio de WhatsApp"."""
    form = "one" if count == 1 else "many"
    if case_type == "consulta":
        via = t(f"report.orientation_via_{form}.{channel}")
        return _plural(t, "report.orientations", count, via=via)
    kind = t(f"report.type_{form}.{case_type}")
    # One reads with its article: "1 atención de un reclamo", "1 atención a una denuncia".
    article = t(f"labels.type_article.{case_type}")
    if case_type == "denuncia":
        via = t(f"report.received_via_{form}.{channel}")
        return _plural(t, "report.attentions_to", count, kind=kind, article=article, via=via)
    via = t(f"report.via.{channel}")
    return _plural(t, "report.attentions_of", count, kind=kind, article=article, via=via)


def received_line(t: Texts, channel: str, case_type: str, count: int) -> str:
    """One item of what came in: "21 denuncias por medio de WhatsApp", "26 consultas por
    teléfono"."""
    form = "one" if count == 1 else "many"
    kind = t(f"report.type_{form}.{case_type}")
    via = t(f"report.via.{channel}")
    return t("report.received_item", count=number(count), kind=kind, via=via)


def people_sentence(t: Texts, people: dict[str, int], received: int) -> str:
    """Who filed the cases: "1 persona, una mujer joven" when one person filed them all, else
    the people by gender and how many of them are young ("las dos", "todas" when all are)."""
    total, young = people["total"], people["jovenes"]
    if total == 1:
        (gender,) = [gender for gender in GENDERS if people[gender]]
        who = t(f"report.sole_young.{gender}" if young else f"report.sole.{gender}")
        return t("report.person_sole_case" if received == 1 else "report.person_sole", who=who)
    parts = [
        _plural(t, f"report.gender.{gender}", people[gender])
        for gender in GENDERS
        if people[gender]
    ]
    if young == total:
        youth = t("report.young_both" if total == 2 else "report.young_all")
    else:
        youth = _plural(t, "report.young", young)
    return t(
        "report.people_youth" if young else "report.people",
        people=_plural(t, "report.persons", total),
        parts=_join(t, parts),
        youth=youth,
    )


def narrative(t: Texts, tally: dict[str, Any], *, ongoing: bool = False) -> str:
    """Sentences ready to paste into the institution's report, in the seeds' style; the backlog
    of a period not yet ended (`ongoing`) is told as of today."""
    period = tally["period"]
    received, attended = tally["received"]["total"], tally["attended"]["total"]
    sentences = [
        t(
            "report.opening",
            label=period["label"],
            received=_plural_or_none(t, "report.received", received),
            attended=_plural_or_none(t, "report.attended", attended),
        )
    ]
    came_in = [
        received_line(t, channel, case_type, count)
        for channel, types in tally["received"]["by_channel_type"].items()
        for case_type, count in types.items()
        if count
    ]
    if came_in:
        # "Por canal y tipo: 1 queja por teléfono; 2 solicitudes…": no verb to agree with.
        sentences.append(t("report.received_items", items="; ".join(came_in)))
    items = [
        attention_line(t, channel, case_type, count)
        for channel, types in tally["attended"]["by_channel_type"].items()
        for case_type, count in types.items()
        if count
    ]
    if items:
        sentences.append("; ".join(items) + ".")
    if tally["people"]["total"]:
        sentences.append(people_sentence(t, tally["people"], received))
    deadlines = tally["deadlines"]
    if deadlines["closed"]:
        sentences.append(
            t(
                "report.deadlines",
                closed=_plural(t, "report.cases_attended", deadlines["closed"]),
                within=_plural(
                    t,
                    "report.within",
                    deadlines["within_deadline"],
                    pct=number(deadlines["pct_within_deadline"], 1),
                ),
            )
        )
    satisfaction = tally["satisfaction"]
    if satisfaction["responses"]:
        sentences.append(
            t(
                "report.satisfaction",
                responses=_plural(t, "report.persons_rated", satisfaction["responses"]),
                mean=number(satisfaction["mean"], 1),
            )
        )
    visits = tally.get("visits") or {}
    if visits.get("proposed"):
        sentences.append(_visits_sentence(t, visits))
    sentences.append(_backlog_sentence(t, tally["backlog"], ongoing))
    commitments = tally.get("commitments") or {}
    if any(commitments.get(key) for key in ("made", "due", "pending")):
        sentences.append(commitments_sentence(t, commitments))
    return " ".join(sentences)


def commitments_sentence(t: Texts, figures: dict[str, int]) -> str:
    """ "Compromisos con la ciudadanía: se adquirieron 12, y 9 tenían fecha en el periodo; se
    cumplieron 8 (6 a tiempo y 2 con retraso). Al cierre quedaban 4 pendientes (1 vencido), y 2
    de los adquiridos cambiaron de fecha." """
    on_time, late = figures["met_on_time"], figures["met_late"]
    met = on_time + late
    if not met:
        kept = t("report.commitments_met_none")
    else:
        kept = _plural(t, "report.commitments_met", met)
        if on_time and late:
            kept = t(
                "report.commitments_timing", met=kept, on_time=number(on_time), late=number(late)
            )
        else:
            kept = t.plural(
                "report.commitments_on_time" if on_time else "report.commitments_late",
                met,
                met=kept,
            )
    moved = figures["moved"]
    overdue = (
        _plural(t, "report.commitments_overdue", figures["overdue"])
        if figures["overdue"]
        else t("report.commitments_overdue_none")
    )
    pending = (
        _plural(t, "report.commitments_pending", figures["pending"], overdue=overdue)
        if figures["pending"]
        else t("report.commitments_pending_none")
    )
    return t(
        "report.commitments",
        made=_plural(t, "report.commitments_made", figures["made"]),
        due=_plural_or_none(t, "report.commitments_due", figures["due"]),
        met=kept,
        pending=pending,
        moved=t("report.commitments_moved_sep", moved=_plural(t, "report.commitments_moved", moved))
        if moved
        else "",
    )


def _visits_sentence(t: Texts, visits: dict[str, int]) -> str:
    """ "Se realizaron 5 visitas técnicas sociales de 8 programadas (2 en situaciones que
    afectan a mujeres); 1 se canceló y 1 no pudo realizarse." """
    done, proposed = visits["done"], visits["proposed"]
    # "the visit" when only one was scheduled: no "1 de 1 programada", no "1 se canceló".
    sole = proposed == 1
    if done == 0:
        sentence = _plural(t, "report.visits_none", proposed)
    elif done == proposed:
        sentence = _plural(t, "report.visits_all", proposed)
    else:
        of = _plural(t, "report.visits_of", proposed)
        sentence = _plural(t, "report.visits_done", done, proposed=of)
    if visits["women_priority"]:
        # Of the scheduled ones, not of the done: "de 5 programadas (de ellas, 4 en ...)".
        sentence += " " + (
            t("report.visits_women_sole")
            if sole
            else _plural(t, "report.visits_women", visits["women_priority"])
        )
    others = [
        t(f"report.visits_{outcome}_sole")
        if sole
        else _plural(t, f"report.visits_{outcome}", visits[outcome])
        for outcome in ("cancelled", "missed", "rescheduled")
        if visits[outcome]
    ]
    if others:
        sentence += "; " + _join(t, others)
    return sentence + "."


def _backlog_sentence(t: Texts, backlog: dict[str, int], ongoing: bool) -> str:
    """ "quedaban 3 casos abiertos, 2 de ellos con el plazo vencido", "quedaba 1 caso abierto,
    dentro del plazo", "no quedaban casos abiertos"; at the period's end, or to date."""
    still_open, overdue = backlog["open"], backlog["overdue"]
    when = t("report.backlog_to_date" if ongoing else "report.backlog_at_end")
    if not still_open:
        return t("report.backlog_none", when=when)
    if still_open == 1:
        late = t("report.overdue_of_one_one" if overdue else "report.overdue_of_one_none")
        return t("report.backlog_one", when=when, overdue=late)
    late = t("report.overdue_of_many", count=number(overdue))
    return t("report.backlog_many", when=when, count=number(still_open), overdue=late)


@dataclass(frozen=True)
class Table:
    """One table of the report: a title, column headers and rows (text or numbers)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def _channel_type_table(t: Texts, title: str, section: dict[str, Any]) -> Table:
    by = section["by_channel_type"]
    rows = []
    for channel in CHANNELS:
        if channel not in by:
            continue
        counts = [by[channel].get(case_type, 0) for case_type in CASE_TYPES]
        rows.append((t(f"labels.channel.{channel}"), *counts, sum(counts)))
    totals = [sum(by.get(c, {}).get(case_type, 0) for c in by) for case_type in CASE_TYPES]
    rows.append((t("report.total"), *totals, section["total"]))
    headers = (t("report.col.channel"), *CASE_TYPES, t("report.total"))
    return Table(title, headers, tuple(rows))


def tables(t: Texts, tally: dict[str, Any]) -> list[Table]:
    """The report's tables, the same for md, csv and xlsx."""
    people = tally["people"]
    deadlines, satisfaction, backlog = tally["deadlines"], tally["satisfaction"], tally["backlog"]
    name, value, count = t("report.col.name"), t("report.col.value"), t("report.col.cases")

    def row(key: str) -> str:
        return t(f"report.row.{key}")

    def pairs(title: str, header: str, items: dict[str, Any], label) -> Table:
        return Table(title, (header, count), tuple((label(k), v) for k, v in items.items()))

    def topic(key: str) -> str:
        if key == "sin_dato":
            return row(key)
        return t(f"labels.topic.{key}") if t.has(f"labels.topic.{key}") else key

    def place(key: str) -> str:
        return row(key) if key in ("sin_dato", UNIDENTIFIED) else key

    def figures(title: str, items: dict[str, Any]) -> Table:
        """Figures by name; one that could not be computed reads "Sin dato"."""
        values = tuple((row(k), row("sin_dato") if v is None else v) for k, v in items.items())
        return Table(title, (name, value), values)

    return [
        _channel_type_table(t, t("report.table.received"), tally["received"]),
        _channel_type_table(t, t("report.table.attended"), tally["attended"]),
        Table(
            t("report.table.people"),
            (name, t("report.col.people")),
            tuple((row(key), people[key]) for key in ("total", *GENDERS, "jovenes")),
        ),
        pairs(t("report.table.topics"), t("report.col.topic"), tally["by_topic"], topic),
        pairs(
            t("report.table.municipalities"),
            t("report.col.municipality"),
            tally["by_municipality"],
            place,
        ),
        figures(t("report.table.deadlines"), deadlines),
        figures(t("report.table.satisfaction"), satisfaction),
        figures(t("report.table.backlog"), backlog),
        *_commitments_table(t, tally),
        *_visits_table(t, tally),
    ]


def _commitments_table(t: Texts, tally: dict[str, Any]) -> list[Table]:
    """Planned against executed: one row per figure (none for a tally written before them)."""
    figures = tally.get("commitments")
    if not figures:
        return []
    rows = tuple((t(f"report.commitment_row.{key}"), value) for key, value in figures.items())
    return [
        Table(
            t("report.table.commitments"), (t("report.col.name"), t("report.col.commitment")), rows
        )
    ]


def _visits_table(t: Texts, tally: dict[str, Any]) -> list[Table]:
    """The field visits' figures (a tally written before visits existed has none)."""
    visits = tally.get("visits")
    if visits is None:
        return []
    rows = tuple((t(f"report.row.visits_{key}"), value) for key, value in visits.items())
    return [Table(t("report.table.visits"), (t("report.col.name"), t("report.col.value")), rows)]
