"""Staff correct where a case happened: the chat (/lugar), the CLI (cases place) and the web
desk call `set_place`."""

from __future__ import annotations

import json
from datetime import datetime

from handlers.casework.cases import record_event
from handlers.casework.lifecycle import Actor, NotAllowed
from handlers.core.normalise import strip_controls
from handlers.core.places import MAX_PLACE, Place, names_a_place
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from storage.models import Case

KIND = "place_changed"


def set_place(
    uow: UnitOfWork, policy: CasePolicy, case: Case, text: str, actor: Actor, now: datetime
) -> Place:
    """Set the case's place from what a staff member typed: the gazetteer's unit when it names
    one ("mejicanos" → San Salvador Centro, district Mejicanos), else the text as written, or
    no municipality when the text names no place ("no sé", "aquí en la esquina": the rule of
    the citizen's answers, handlers.core.places). Recorded in the case's history (internal)
    with the text and what it was before."""
    text = " ".join(strip_controls(text).split())
    if not text:
        raise NotAllowed(policy.texts("staff.error_needs_place"))
    found = policy.places.match(text)
    if found is None or not found.matched:
        department = found.department if found is not None else None
        written = text[:MAX_PLACE] if names_a_place(text) else None
        found = Place(written, None, department)
    previous = {
        "municipality": case.municipality,
        "district": case.district,
        "department": case.department,
    }
    case.municipality, case.district, case.department = (
        found.municipality,
        found.district,
        found.department,
    )
    uow.cases.add(case)
    note = {
        "text": text[:MAX_PLACE],
        "municipality": found.municipality,
        "district": found.district,
        "department": found.department,
        "previous": previous,
    }
    record_event(
        uow,
        case,
        now,
        actor=actor.name,
        kind=KIND,
        note=json.dumps(note, ensure_ascii=False),
        public=False,
    )
    return found


def pin_words(policy: CasePolicy, case: Case, *, link: bool = False) -> str | None:
    """The case's shared pin for a person to read, «ubicación compartida (13.69294,
    -89.21819)», with a map's address after it when `link`; None when the case has no pin."""
    if case.latitude is None or case.longitude is None:
        return None
    key = "place.pin_link" if link else "place.pin"
    return policy.texts(key, latitude=f"{case.latitude:.5f}", longitude=f"{case.longitude:.5f}")


def placed_words(texts: Texts, case: Case, text: str) -> str:
    """What staff read after setting a case's place from `text`: the unit, or that the text
    named no place ("sin municipio («no sé» no nombra un lugar)")."""
    if case.municipality:
        return describe_place(case)
    if not names_a_place(text):
        return texts("staff.place_not_named", text=" ".join(strip_controls(text).split()))
    return case.department or ""


def describe_place(case: Case) -> str:
    """The case's place for a staff card: "Ahuachapán Centro (distrito Ahuachapán)"."""
    if case.municipality and case.district:
        return f"{case.municipality} ({case.district})"
    return case.municipality or ""
