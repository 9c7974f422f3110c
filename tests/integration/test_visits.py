"""Field visits on the real storage, SQLite and PostgreSQL: the citizen's answer finds their
visit, the reminder is queued once, the desk's list puts women's cases first, the tally counts
the period's visits, and an anonymised case's visits keep no text."""

from __future__ import annotations

from datetime import timedelta

from bot.reporting import tally, weekly_summary
from bot.scheduler import Scheduler
from handlers.casework import visits
from handlers.casework.privacy import anonymise_expired
from handlers.dialogue.intake import queue
from handlers.reporting.summary import render_summary
from handlers.reporting.tally import parse_period
from storage.models import Case, OutboxItem, Visit
from tests.helpers import POTHOLE, Citizen, Clock, add_staff, visit_counts

AGENT = "+50370001111"
FOLIO = "TA-2026-000001"


def filed(app, clock: Clock) -> tuple[Citizen, Citizen]:
    """A citizen's pothole report on WhatsApp, and Ana, the agent who works it."""
    citizen = Citizen(
        app.dialogue, app.uow, address="+50370009999", channel="whatsapp", clock=clock
    )
    citizen.converse(*POTHOLE)
    add_staff(app.uow, "Ana", whatsapp=AGENT)
    agent = Citizen(app.dialogue, app.uow, address=AGENT, channel="whatsapp", clock=clock)
    return citizen, agent


def queued_for(app, address: str) -> list[str]:
    with app.uow() as uow:
        rows = uow.session.query(OutboxItem).filter(OutboxItem.address == address).all()
    return [row.body for row in rows]


def test_a_visit_answered_reminded_once_and_counted(app):
    clock = Clock()
    citizen, agent = filed(app, clock)
    assert "Visita #1 propuesta" in agent.send(f"/visita {FOLIO} mañana 09:00-11:00 Ing. Pérez")
    assert "quedó confirmada" in citizen.send("Sí confirmo")

    def remind() -> int:
        now = clock()
        with app.uow() as uow:
            replies = visits.due_reminders(uow, app.policy, now)
            queue(uow, replies, now)
            uow.commit()
        return len(replies)

    assert remind() == 2
    assert remind() == 0
    assert sum("Recordatorio: mañana" in body for body in queued_for(app, "+50370009999")) == 1

    clock.now += timedelta(days=1)
    agent.send("/visita_hecha 1 Se midió el hoyo | Bacheo el lunes")
    with app.uow() as uow:
        (visit,) = uow.session.query(Visit).all()
        assert (visit.status, visit.outcome, visit.next_step) == (
            "done",
            "Se midió el hoyo",
            "Bacheo el lunes",
        )
        assert visit.confirmed_at is not None and visit.done_by_id is not None
    period = parse_period(app.policy.texts, "2026", None, None)
    figures = tally(app, period, include_console=False, now=clock())
    assert figures["visits"] == visit_counts(proposed=1, confirmed=1, done=1)
    assert "Se realizó la visita técnica social programada" in figures["narrative"]
    # The supervisors' summary of that week has a line about it.
    monday = app.policy.calendar.local_date(clock()) - timedelta(days=1)  # Tuesday's week
    text = render_summary(app.policy.texts, weekly_summary(app, monday, clock()))
    assert "Visitas técnicas: propuestas 1, realizadas 1, canceladas 0, no realizadas 0." in text


def test_the_list_puts_cases_affecting_women_first_and_finds_a_staff_members_visits(app):
    clock = Clock()
    _, agent = filed(app, clock)
    other = Citizen(app.dialogue, app.uow, address="+50370002222", channel="whatsapp", clock=clock)
    other.converse(*POTHOLE)
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00 Ing. Pérez")
    agent.send("/visita TA-2026-000002 20/11 09:00-11:00 Promotora Gómez")
    agent.send("/prioridad TA-2026-000002 mujeres")
    with app.uow() as uow:
        listed = [(v.id, c.folio) for v, c in uow.visits.listing()]
        assert listed == [(2, "TA-2026-000002"), (1, FOLIO)]
        assert [v.id for v, _ in uow.visits.listing(who="pérez")] == [1]
        assert [v.id for v, _ in uow.visits.listing(who="Ana")] == [2, 1]  # she proposed both
    period = parse_period(app.policy.texts, "2026", None, None)
    figures = tally(app, period, include_console=False, now=clock())
    assert figures["visits"]["proposed"] == 2 and figures["visits"]["women_priority"] == 1


def test_an_anonymised_case_keeps_its_visits_dates_not_their_text(app):
    clock = Clock()
    _, agent = filed(app, clock)
    agent.send(f"/visita {FOLIO} 19/11 09:00-11:00")
    agent.send("/visita_cancelar 1 La señora Pérez de la casa 4 no estará")
    agent.send(f"/cerrar {FOLIO} Bache reparado")
    with app.uow() as uow:
        anonymise_expired(uow, app.policy, clock() + timedelta(days=800))
        uow.commit()
    with app.uow() as uow:
        (visit,) = uow.session.query(Visit).all()
        (case,) = uow.session.query(Case).all()
    assert case.contact_id is None
    assert visit.status == "cancelled" and visit.reason is None


def test_the_scheduled_run_reminds_each_visit_once_whatever_the_runs(app):
    clock = Clock()
    citizen, agent = filed(app, clock)
    agent.send(f"/visita {FOLIO} mañana 09:00-11:00")
    runs = [Scheduler(app, clock, lambda: None).send_visit_reminders() for _ in range(3)]
    assert runs == [2, 0, 0]
    reminders = [b for b in queued_for(app, "+50370009999") if "⏰" in b]
    assert len(reminders) == 1 and "Responda SÍ para confirmarla" in reminders[0]
