"""The case lifecycle: which status may follow which, who may do it, and the audit event it leaves.

Every status change goes through `change_status`, which enforces the table below, writes one
case event (actor, time, from, to, note) and returns what the citizen is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.casework.cases import record_event
from handlers.core.labels import ROLES, STATUSES, staff_label
from handlers.core.messages import Reply
from handlers.core.policy import CasePolicy
from handlers.core.ports import UnitOfWork
from storage.models import Case, Contact

# Allowed transitions (spec section 5 statuses). Reopening `cerrado` or `descartado` is for
# supervisors and administrators only; `descartado` needs a reason.
TRANSITIONS: dict[str, frozenset[str]] = {
    "recibido": frozenset(
        {"en_revision", "asignado", "en_proceso", "esperando_ciudadano", "remitido"}
        | {"resuelto", "cerrado", "descartado"}
    ),
    "en_revision": frozenset(
        {"asignado", "en_proceso", "esperando_ciudadano", "remitido", "resuelto"}
        | {"cerrado", "descartado"}
    ),
    "asignado": frozenset(
        {"en_revision", "en_proceso", "esperando_ciudadano", "remitido", "resuelto"}
        | {"cerrado", "descartado"}
    ),
    "en_proceso": frozenset(
        {"asignado", "esperando_ciudadano", "remitido", "resuelto", "cerrado", "descartado"}
    ),
    "esperando_ciudadano": frozenset({"en_proceso", "resuelto", "cerrado", "descartado"}),
    "remitido": frozenset({"cerrado", "en_proceso"}),
    "resuelto": frozenset({"cerrado", "en_proceso"}),
    "cerrado": frozenset({"en_proceso"}),
    "descartado": frozenset({"en_revision"}),
}
REOPENED_FROM = frozenset({"cerrado", "descartado"})
# Steps of the institution's own work: in the staff's history, never announced to the citizen.
INTERNAL = frozenset({"en_revision", "asignado"})
NEEDS_NOTE = frozenset({"descartado", "cerrado", "remitido"})
FINAL = frozenset({"cerrado", "descartado"})
ATTENDED = frozenset({"resuelto", "cerrado", "remitido"})  # counted as attended in the report
SUPERVISING = frozenset({"supervisor", "admin"})


class NotAllowed(Exception):
    """What was asked cannot be done; the message is one Spanish line for the staff member."""


@dataclass(frozen=True)
class Actor:
    """Who acts on a case: a staff member, the terminal, the citizen or the system."""

    name: str
    role: str  # agent, supervisor, admin, citizen, system
    staff_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ROLES


CITIZEN = Actor("ciudadano", "citizen")


def check_transition(policy: CasePolicy, case: Case, to: str, actor: Actor, note: str) -> None:
    """Raise NotAllowed unless `actor` may move `case` to `to` with this note."""
    t = policy.texts
    if to == case.status:
        raise NotAllowed(t("staff.error_same_status", folio=case.folio))
    allowed = TRANSITIONS.get(case.status, frozenset())
    if to not in allowed:
        # In the words staff read on the cards and the desk ("Esperando al ciudadano"), the
        # statuses in the order a case goes through them.
        named = [f"«{staff_label(t, 'status', s)}»" for s in STATUSES if s in allowed]
        choices = (
            ", ".join(named[:-1]) + f" {t('staff.or')} {named[-1]}"
            if len(named) > 1
            else "".join(named)
        )
        raise NotAllowed(
            t(
                "staff.error_transition",
                folio=case.folio,
                current=staff_label(t, "status", case.status),
                to=staff_label(t, "status", to),
                allowed=choices or "-",
            )
        )
    if case.status in REOPENED_FROM and actor.role not in SUPERVISING:
        raise NotAllowed(t("staff.error_reopen", folio=case.folio))
    if to in NEEDS_NOTE and not note.strip():
        raise NotAllowed(t(f"staff.error_needs_note_{to}"))


def change_status(
    uow: UnitOfWork,
    policy: CasePolicy,
    case: Case,
    to: str,
    actor: Actor,
    now: datetime,
    *,
    note: str = "",
    tell_citizen: str | None = None,
) -> list[Reply]:
    """Move the case to `to`, with its audit event; the citizen is told what `tell_citizen` says
    (the new status in plain words when None; nothing when empty)."""
    check_transition(policy, case, to, actor, note)
    previous = case.status
    if previous == "esperando_ciudadano":
        resume_deadline(policy, case, now)
    case.status = to
    if to == "esperando_ciudadano":
        case.paused_at = now
    if to in FINAL:
        case.closed_at = now
    elif previous in FINAL:
        # Reopened: the old outcome stays in the history, not on the case (a new survey follows
        # the next closure).
        case.closed_at = None
        case.resolution = case.referred_to = None
        case.survey_resolved = case.survey_rating = None
        _withdraw_survey(uow, policy, case)
    if to in ATTENDED and case.attended_at is None:
        case.attended_at = now
    # The first response is the first message the citizen gets from staff: an assignment
    # (the automatic step to `asignado`) says nothing to them on the case's substance.
    if actor.is_staff and case.first_response_at is None and to != "asignado":
        case.first_response_at = now
    uow.cases.add(case)
    record_event(
        uow,
        case,
        now,
        actor=actor.name,
        kind="status_changed",
        from_status=previous,
        to_status=to,
        note=note.strip() or None,
        public=to not in INTERNAL,
    )
    if tell_citizen == "" or (tell_citizen is None and to in INTERNAL):
        return []  # the caller tells the citizen itself, or it is not the citizen's business
    t = policy.texts
    text = tell_citizen or t(
        "notify.status_changed", folio=case.folio, status=t(f"labels.status.{to}")
    )
    return notify_citizen(uow, policy, case, text)


def effective_due(policy: CasePolicy, case: Case, now: datetime) -> datetime:
    """The deadline as it stands now: while the case waits for the citizen, moved by the
    business days waited so far (counted like the deadline itself, from the day after)."""
    if case.paused_at is None:
        return case.due_at
    calendar = policy.calendar
    waited = calendar.business_days_between(
        calendar.local_date(case.paused_at), calendar.local_date(now)
    )
    if not waited:
        return case.due_at
    return calendar.end_of_day(calendar.add_business_days(calendar.local_date(case.due_at), waited))


def resume_deadline(policy: CasePolicy, case: Case, now: datetime) -> None:
    """The citizen answered (or staff stopped waiting): the clock restarts."""
    if case.paused_at is None:
        return
    case.due_at = effective_due(policy, case, now)
    case.paused_at = None


def notify_citizen(uow: UnitOfWork, policy: CasePolicy, case: Case, text: str) -> list[Reply]:
    """A message for the person who reported the case, on their channel; none when there is no
    address to reach (anonymous denuncias, phone calls, erased contacts): anonymous reporters
    read it when they follow up with their secret code."""
    contact = reachable_contact(uow, case)
    if contact is None:
        return []
    gather = policy.notice_gather or None
    return [Reply(contact.channel, contact.address, text, case_id=case.id, gather=gather)]


def reachable_contact(uow: UnitOfWork, case: Case) -> Contact | None:
    """The reporter's chat, when the case has one that can still be written to."""
    if case.anonymous or case.contact_id is None:
        return None
    contact = uow.contacts.get(case.contact_id)
    if contact is None or contact.address.startswith("borrado:"):
        return None
    return contact if contact.channel in ("whatsapp", "telegram", "console") else None


def _withdraw_survey(uow: UnitOfWork, policy: CasePolicy, case: Case) -> None:
    """The case was reopened: the survey asked at its closure is not sent if it is still
    waiting, and the dialogue no longer expects its answer."""
    question = policy.texts("survey.resolved", folio=case.folio)
    uow.outbox.withdraw(case.id, question)
    contact = reachable_contact(uow, case)
    if contact is None:
        return
    state = uow.conversations.get(contact.id)
    if (
        state is not None
        and state.step.startswith("survey")
        and state.data.get("case_id") == case.id
    ):
        uow.conversations.delete(contact.id)
