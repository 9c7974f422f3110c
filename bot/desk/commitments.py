"""The desk's commitments on the case page: its commitments as rows, and what its forms do (make
one, mark one met, give one a new date), through the same casework functions as the chat and the
terminal. The page of every pending one is bot/desk/compromisos.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.casework import commitments, visits
from handlers.casework.lifecycle import Actor, NotAllowed
from handlers.core.messages import Reply
from handlers.core.policy import CasePolicy
from storage.models import Case, Commitment

ACTIONS = ("compromiso", "compromiso_cumplido", "compromiso_mover", "compromiso_cancelar")


@dataclass(frozen=True)
class Row:
    """One commitment as a page shows it."""

    number: int
    folio: str
    what: str
    due: str
    responsible: str
    status: str
    overdue: bool
    moved: int
    reason: str | None
    visit: int | None  # made on this field visit


def rows(
    uow: Any, policy: CasePolicy, listed: list[tuple[Commitment, str]], now: datetime
) -> list[Row]:
    today = commitments.today(policy, now)
    return [
        Row(
            number=c.id or 0,
            folio=folio,
            what=c.what,
            due=commitments.day_label(policy, c.due_date),
            responsible=commitments.responsible_label(uow, policy, c),
            status=c.status,
            overdue=commitments.is_overdue(c, today),
            moved=c.moved_count,
            reason=c.moved_reason,
            visit=c.visit_id,
        )
        for c, folio in listed
    ]


def case_rows(uow: Any, policy: CasePolicy, case: Case, now: datetime) -> list[Row]:
    """A case's commitments, pending first, for its page."""
    return rows(uow, policy, [(c, case.folio) for c in uow.commitments.for_case(case.id)], now)


def act(
    uow: Any,
    policy: CasePolicy,
    case: Case,
    action: str,
    form: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> list[Reply]:
    """Make a commitment on the case, mark one of its commitments met, move or cancel one."""
    t = policy.texts
    if action == "compromiso":
        who = str(form.get("responsable", "")).strip() or None
        number = str(form.get("visita", "")).strip()
        visit = visits.find_visit(uow, policy, number)[0] if number else None
        _, replies = commitments.make_as_written(
            uow,
            policy,
            case,
            day=str(form.get("fecha", "")),
            what=str(form.get("texto", "")),
            who=who,
            actor=actor,
            now=now,
            visit=visit,
        )
        return replies
    commitment, of_case = commitments.find(uow, policy, str(form.get("numero", "")))
    if of_case.id != case.id:
        raise NotAllowed(t("commitments.error_unknown", number=commitment.id))
    if action == "compromiso_cumplido":
        note = str(form.get("texto", ""))
        return commitments.meet(uow, policy, commitment, case, note, actor, now)
    if action == "compromiso_cancelar":
        reason = str(form.get("texto", ""))
        return commitments.cancel(uow, policy, commitment, case, reason, actor, now)
    day, reason = str(form.get("fecha", "")), str(form.get("texto", ""))
    return commitments.move(uow, policy, commitment, case, day, reason, actor, now)
