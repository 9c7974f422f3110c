"""Synthetic cases for demos and benchmarks: every channel, type, topic, status and gender, spread
over the year before `now`, consistent with the case lifecycle (attended, closed and first
response times where the status has them, deadlines from the real business calendar)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from handlers.core.policy import CasePolicy
from storage.models import day_start

CHANNEL_WEIGHTS = {"whatsapp": 55, "telegram": 15, "telefono": 20, "presencial": 10}
TYPE_WEIGHTS = {
    "solicitud": 45,
    "consulta": 25,
    "queja": 10,
    "reclamo": 7,
    "denuncia": 8,
    "sugerencia": 5,
}
GENDER_WEIGHTS = {"mujer": 42, "hombre": 43, "otro": 1, "sin_dato": 14}
URGENCY_WEIGHTS = {"normal": 90, "urgente": 8, "emergencia": 2}
# Status of a case by age: older cases are mostly finished.
OLD_STATUS = {
    "cerrado": 760,
    "resuelto": 80,
    "remitido": 70,
    "descartado": 50,
    "en_proceso": 5,
    "asignado": 3,
    "esperando_ciudadano": 3,
    "recibido": 1,
}
NEW_STATUS = {
    "recibido": 20,
    "en_revision": 10,
    "asignado": 20,
    "en_proceso": 20,
    "esperando_ciudadano": 5,
    "resuelto": 8,
    "cerrado": 12,
    "remitido": 3,
    "descartado": 2,
}
ATTENDED = frozenset({"resuelto", "cerrado", "remitido"})
MUNICIPALITIES = {
    "SV": (
        "San Salvador",
        "Santa Ana",
        "San Miguel",
        "Soyapango",
        "Mejicanos",
        "Apopa",
        "Santa Tecla",
        "Ilopango",
        "Ahuachapán",
        "Sonsonate",
        "Usulután",
        "La Libertad",
        "Chalatenango",
        "Cojutepeque",
        "Zacatecoluca",
        "San Vicente",
        "Sensuntepeque",
        "La Unión",
        "San Francisco Gotera",
        "Ciudad Delgado",
    ),
    "CO": (
        "Usaquén",
        "Chapinero",
        "Santa Fe",
        "San Cristóbal",
        "Usme",
        "Tunjuelito",
        "Bosa",
        "Kennedy",
        "Fontibón",
        "Engativá",
        "Suba",
        "Barrios Unidos",
        "Teusaquillo",
        "Los Mártires",
        "Antonio Nariño",
        "Puente Aranda",
        "La Candelaria",
        "Rafael Uribe Uribe",
        "Ciudad Bolívar",
        "Sumapaz",
    ),
}
DESCRIPTIONS = {
    "solicitud": "Solicitamos la reparación de la calle de la colonia, tiene baches grandes",
    "consulta": "¿Cuándo empiezan los trabajos de la obra del puente?",
    "queja": "La obra lleva meses detenida y nadie da información",
    "reclamo": "Se comprometieron a reparar el drenaje y no lo han hecho",
    "denuncia": "Usan la maquinaria de la obra para trabajos privados",
    "sugerencia": "Sugerimos poner señales en la curva cerca de la escuela",
}
# Cases that get a field visit (some types, not anonymous, once worked on), and what became of
# the visits already past.
VISITED_TYPES = frozenset({"solicitud", "queja", "reclamo", "denuncia"})
VISIT_SHARE = 0.06
WOMEN_SHARE = 0.3  # of visited cases reported by women: marked as affecting women
PAST_VISIT = {"done": 80, "cancelled": 8, "missed": 7, "reschedule_asked": 5}
CHUNK = 5000
COMMITMENT_SHARE = 0.08  # cases with a commitment made to the citizen
COMMITMENTS = (
    "Visita técnica al lugar",
    "Limpieza del tragante",
    "Reparación del bache",
    "Respuesta escrita de la unidad de obras",
    "Reunión con la comunidad",
)
MOVE_REASONS = ("Lluvias en la zona", "Falta de material", "Cuadrilla en una emergencia")
AGES = [*range(15, 81), *[None] * 28]  # three in ten say no age
YEAR = 365 * 86400  # seconds


@dataclass
class DemoBatch:
    """One chunk to insert: contacts (with the index of each case's contact) and cases."""

    contacts: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    case_contact: list[int | None]  # index into `contacts`, per case
    folio_years: dict[int, int]  # cases per folio year, numbered by the caller
    # (index into `cases`, commitment row without its case_id), given their case's id by the
    # caller once the cases are inserted.
    commitments: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Field visits, each with the index of its case in `cases` ("case"), joined by the caller.
    visits: list[dict[str, Any]] = field(default_factory=list)


def _picker(rng: random.Random, weights: dict[str, int]) -> Callable[[int], list[str]]:
    names, cumulative = list(weights), []
    total = 0
    for weight in weights.values():
        total += weight
        cumulative.append(total)

    def pick(count: int) -> list[str]:
        return rng.choices(names, cum_weights=cumulative, k=count)

    return pick


def demo_batches(policy: CasePolicy, count: int, seed: int, now: datetime) -> Iterator[DemoBatch]:
    """`count` synthetic cases in chunks, the same for the same seed and `now`."""
    rng = random.Random(seed)
    # The commitments draw from their own generator: the cases stay those of earlier versions.
    promises = random.Random(seed * 7919 + 1)
    calendar = policy.calendar
    tz = calendar.tz
    run = secrets.token_hex(4)  # contacts' addresses must not collide with an earlier run
    municipalities = MUNICIPALITIES.get(calendar.country, MUNICIPALITIES["SV"])
    topics = list(policy.topics)
    places = [*municipalities, *[None] * (len(municipalities) // 9)]  # one in ten without
    channels, types = _picker(rng, CHANNEL_WEIGHTS), _picker(rng, TYPE_WEIGHTS)
    genders, urgencies = _picker(rng, GENDER_WEIGHTS), _picker(rng, URGENCY_WEIGHTS)
    old_status, new_status = _picker(rng, OLD_STATUS), _picker(rng, NEW_STATUS)
    # Visits draw from their own generator: the cases stay the same as before visits existed.
    visit_rng = random.Random(seed + 1)
    past_visit = _picker(visit_rng, PAST_VISIT)
    due_cache: dict[tuple[date, int], datetime] = {}
    year_start = now - timedelta(days=365)
    recent = now - timedelta(days=30)
    made = 0
    while made < count:
        size = min(CHUNK, count - made)
        batch = DemoBatch([], [], [], {})
        channel_of, type_of = channels(size), types(size)
        gender_of, urgency_of = genders(size), urgencies(size)
        olds, news = old_status(size), new_status(size)
        topic_of = rng.choices(topics, k=size)
        place_of = rng.choices(places, k=size)
        age_of = rng.choices(AGES, k=size)
        chance = [rng.random() for _ in range(3 * size)]
        # In the order they arrive, as a real database fills: a chunk is a slice of the year.
        first, span = made / count * YEAR, size / count * YEAR
        moments = []
        for offset in sorted(rng.random() * span for _ in range(size)):
            created = year_start + timedelta(seconds=first + offset)
            if not 6 <= created.astimezone(tz).hour < 22:  # people write in the day, mostly
                created -= timedelta(hours=10)
            moments.append(created)
        moments.sort()
        for i, created in enumerate(moments):
            channel, case_type = channel_of[i], type_of[i]
            anonymous = case_type == "denuncia" and chance[3 * i] < 0.4
            gender = "sin_dato" if anonymous else gender_of[i]
            age = None if anonymous else age_of[i]
            contact = None
            if channel in ("whatsapp", "telegram") and not anonymous:
                if batch.contacts and chance[3 * i + 1] < 0.2:
                    contact = int(chance[3 * i + 2] * len(batch.contacts))
                    gender = batch.contacts[contact]["gender"] or "sin_dato"
                    age = batch.contacts[contact]["age"]
                else:
                    contact = len(batch.contacts)
                    batch.contacts.append(
                        {
                            "channel": channel,
                            "address": f"demo-{run}-{made + i}",
                            "name": None,
                            "gender": gender,
                            "age": age,
                            "consented_at": day_start(created),
                            "created_at": day_start(created),
                            "folio_misses": 0,
                        }
                    )
            # The deadline real cases get: an emergency's is the emergency deadline.
            days = policy.case_deadline_days(case_type, urgency_of[i])
            local = created.astimezone(tz)
            due = due_cache.get((local.date(), days))
            if due is None:
                due = calendar.due_at(created, days).astimezone(UTC)
                due_cache[(local.date(), days)] = due
            status = olds[i] if created < recent else news[i]
            first_response = attended = closed = None
            if status != "recibido":
                first_response = created + timedelta(hours=rng.expovariate(1 / 20))
            if status in ATTENDED or status == "descartado":
                # Most within the deadline (about three weeks), some late.
                finished = created + timedelta(days=rng.expovariate(1 / 9) + 0.1)
                finished = min(max(finished, first_response or created), now)
                if status in ATTENDED:
                    attended = finished
                if status in ("cerrado", "descartado"):
                    closed = finished
            rated = status == "cerrado" and contact is not None and chance[3 * i + 1] < 0.4
            year = local.year
            batch.folio_years[year] = batch.folio_years.get(year, 0) + 1
            batch.case_contact.append(contact)
            visited = (
                case_type in VISITED_TYPES
                and not anonymous
                and status not in ("recibido", "descartado")
                and visit_rng.random() < VISIT_SHARE
            )
            women = visited and gender == "mujer" and visit_rng.random() < WOMEN_SHARE
            if visited:
                batch.visits.append(
                    _demo_visit(visit_rng, past_visit, len(batch.cases), created, tz, now)
                )
            batch.cases.append(
                {
                    "folio": year,  # numbered by the caller, see number_folios
                    "channel": channel,
                    "type": case_type,
                    "topic": topic_of[i],
                    "urgency": urgency_of[i],
                    "confidence": None,
                    "status": status,
                    "description": DESCRIPTIONS[case_type],
                    "location_text": None,
                    "municipality": place_of[i],
                    "anonymous": anonymous,
                    "gender": gender,
                    "age": age,
                    "deadline_days": days,
                    "created_at": created,
                    "first_response_at": first_response,
                    "due_at": due,
                    "attended_at": attended,
                    "closed_at": closed,
                    "prioritised": women,
                    "affects_women": women,
                    "extension_days": 0,
                    "paused_at": created if status == "esperando_ciudadano" else None,
                    "survey_resolved": (chance[3 * i + 2] < 0.8) if rated else None,
                    "survey_rating": 1 + int(chance[3 * i] * 5) if rated else None,
                }
            )
        for i, row in enumerate(batch.cases):
            if promises.random() < COMMITMENT_SHARE:
                batch.commitments.append((i, demo_commitment(promises, row, calendar, now)))
        made += size
        yield batch


def demo_commitment(
    rng: random.Random, case: dict[str, Any], calendar: Any, now: datetime
) -> dict[str, Any]:
    """A commitment made a little after the case came in, due one to three weeks later: most of
    those due by now met (three in four on time), some moved once, the rest pending."""
    made = case["first_response_at"] or case["created_at"] + timedelta(hours=4)
    made = min(made, now)
    due = calendar.local_date(made) + timedelta(days=rng.randint(3, 21))
    original, moved, reason = due, 0, None
    if rng.random() < 0.15:
        moved, reason = 1, rng.choice(MOVE_REASONS)
        due += timedelta(days=rng.randint(3, 10))
    row: dict[str, Any] = {
        "visit_id": None,
        "what": rng.choice(COMMITMENTS),
        "responsible_id": None,
        "responsible_name": None,
        "due_date": due,
        "original_due_date": original,
        "status": "pending",
        "met_at": None,
        "met_on_time": None,
        "moved_count": moved,
        "moved_reason": reason,
        "created_by": "demo",
        "created_at": made,
        "updated_at": made,
        "overdue_notified_at": None,
    }
    today = calendar.local_date(now)
    if due < today and rng.random() < 0.9:
        late = rng.random() < 0.25
        day = (
            due + timedelta(days=rng.randint(1, 7))
            if late
            else due - timedelta(days=rng.randint(0, 2))
        )
        met = datetime.combine(
            min(max(day, calendar.local_date(made)), today), time(15), tzinfo=UTC
        )
        row.update(
            status="met", met_at=min(max(met, made), now), updated_at=min(max(met, made), now)
        )
        row["met_on_time"] = calendar.local_date(row["met_at"]) <= due
    return row


def _demo_visit(
    rng: random.Random, past: Callable[[int], list[str]], case: int, created: datetime, tz, now
) -> dict[str, Any]:
    """A visit a few days after the case came in, on a weekday morning; one already past was
    done (mostly), cancelled, missed or moved."""
    day = (created + timedelta(days=2 + int(rng.random() * 10))).astimezone(tz).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    hour = 8 + int(rng.random() * 6)
    starts = datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(UTC)
    ends = starts + timedelta(hours=2)
    status = past(1)[0] if ends < now else ("confirmed" if rng.random() < 0.6 else "proposed")
    confirmed = status in ("done", "confirmed") or (status == "missed" and rng.random() < 0.5)
    return {
        "case": case,
        "starts_at": starts,
        "ends_at": ends,
        "who": "Equipo técnico y promotoría social",
        "status": status,
        "proposed_by": "demo",
        "created_at": created,
        "updated_at": min(ends, now),
        "confirmed_at": created if confirmed else None,
        "done_at": ends if status == "done" else None,
        "reminded_at": starts - timedelta(hours=18) if starts - timedelta(hours=18) < now else None,
    }


def number_folios(policy: CasePolicy, batch: DemoBatch, first: dict[int, int]) -> None:
    """Give each case of the batch its folio, from the first number reserved for its year."""
    following = dict(first)
    for row in batch.cases:
        year = row["folio"]
        row["folio"] = policy.format_folio(year, following[year])
        following[year] += 1
