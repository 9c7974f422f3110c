"""Community updates: people follow a project by writing its keyword, leave with BAJA, and
receive the updates staff send; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text as sql
from sqlmodel import col, select

from bot.outbox import Dispatcher
from handlers.casework.privacy import erase_inactive_contacts
from handlers.core.messages import Incoming
from handlers.dialogue.broadcast import CommunityError, add_project, send_update
from handlers.dialogue.intake import receive
from storage.models import OutboxItem
from tests.helpers import POTHOLE, TUESDAY, Citizen, Clock, add_staff
from tests.integration.test_outbox import ACCOUNT_SID, BOT_TOKEN, ManualClock, send_all, whatsapp
from tests.provider import Provider

UPDATE = "Mañana de 8 a 12 se cierra el paso por el puente para colar la losa."


BRIDGE = {
    "keyword": "PuenteNorte",
    "name": "Puente de la colonia Norte",
    "place": "San Miguel Centro",
    "description": "Reconstrucción del puente sobre la quebrada.",
}


@pytest.fixture
def provider() -> Iterator[Provider]:
    stand_in = Provider(BOT_TOKEN, ACCOUNT_SID).start()
    yield stand_in
    stand_in.stop()


def create_bridge(app) -> None:
    with app.uow() as uow:
        add_project(uow, app.policy.texts, **BRIDGE, now=TUESDAY)
        uow.commit()


def send(app, text: str = UPDATE, keyword: str = "puentenorte") -> int:
    with app.uow() as uow:
        sent = send_update(uow, app.policy.texts, keyword, text, TUESDAY + timedelta(hours=2))
        uow.commit()
    return sent.recipients


def updates_to(app, channel: str, address: str) -> list[str]:
    """The updates queued for one person."""
    with app.uow() as uow:
        rows = uow.outbox.pending(channel, address=address)
    return [row.body for row in rows if row.body.startswith("Aviso sobre")]


def three_followers(app) -> list[Citizen]:
    """The bridge project, and three people on WhatsApp who follow it."""
    create_bridge(app)
    clock = Clock()
    people = [
        Citizen(app.dialogue, app.uow, address=f"+5037000{n}000", channel="whatsapp", clock=clock)
        for n in range(1, 4)
    ]
    for person in people:
        person.converse("hola", "si", "puentenorte")
    return people


def test_people_follow_by_keyword_and_an_update_reaches_each_once_but_not_who_left(app):
    create_bridge(app)
    clock = Clock()
    # Ana's first message is the keyword (the link printed on a poster): she is asked to accept
    # the privacy notice first, and follows the project once she does.
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp", clock=clock)
    first = ana.send("PUENTENORTE")
    assert "Aviso de privacidad" in first and "Puente de la colonia Norte" not in first
    joined = ana.send("si")
    assert "Gracias por aceptar." in joined
    assert "le enviaremos por este chat los avisos de «Puente de la colonia Norte»" in joined
    assert "BAJA PUENTENORTE" in joined
    # Beto had already talked to the bot; he opens Telegram's deep link (/start keyword).
    beto = Citizen(app.dialogue, app.uow, address="2002", channel="telegram", clock=clock)
    beto.converse("hola", "si")
    assert "avisos de «Puente de la colonia Norte»" in beto.send("/start puentenorte")
    assert "Ya recibe los avisos" in beto.send("Puentenorte")
    # Carla follows it, then leaves with BAJA.
    carla = Citizen(app.dialogue, app.uow, address="+50370003333", channel="whatsapp", clock=clock)
    carla.converse("hola", "si", "puentenorte")
    assert carla.send("BAJA") == (
        "Listo: ya no le enviaremos avisos de Puente de la colonia Norte."
    )
    assert carla.send("baja") == "Usted no recibe avisos de ningún proyecto."

    assert send(app) == 2

    expected = (
        "Aviso sobre «Puente de la colonia Norte»:\n"
        f"{UPDATE}\n\n"
        "Para dejar de recibir estos avisos escriba BAJA PUENTENORTE."
    )
    assert updates_to(app, "whatsapp", "+50370001111") == [expected]
    assert updates_to(app, "telegram", "2002") == [expected]
    assert updates_to(app, "whatsapp", "+50370003333") == []

    with app.uow() as uow:
        project = uow.community.by_keyword("puentenorte")
        counts = uow.community.counts(project.id)
    assert (counts.subscribers, counts.updates) == (2, 1)
    assert (counts.sent, counts.waiting, counts.unreachable) == (0, 0, 0)


def test_the_counts_show_who_could_not_be_reached_without_naming_them(app):
    three_followers(app)
    send(app)
    # The dispatcher's outcomes: one delivered, one held outside the 24-hour window (a template
    # told the person), one refused by the provider.
    with app.uow() as uow:
        rows = [row for row in uow.outbox.pending("whatsapp") if row.body.startswith("Aviso sobre")]
        uow.outbox.mark_sent(rows[0], "SM1", TUESDAY)
        uow.outbox.hold(rows[1], "fuera de la ventana de 24 horas; aviso enviado", TUESDAY)
        uow.outbox.fail(rows[2], "Twilio HTTP 400 código 63024")
        uow.commit()
    with app.uow() as uow:
        counts = uow.community.counts(uow.community.by_keyword("puentenorte").id)
    assert (counts.subscribers, counts.updates) == (3, 1)
    assert (counts.sent, counts.waiting, counts.unreachable) == (1, 1, 1)


def test_my_data_lists_the_subscriptions_and_erasing_removes_them(app):
    create_bridge(app)
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    ana.converse("hola", "si", "puentenorte")
    assert "• Avisos de proyectos que sigue: Puente de la colonia Norte (PUENTENORTE)" in ana.send(
        "mis datos"
    )
    ana.converse("borrar mis datos", "si")
    with app.uow() as uow:
        project = uow.community.by_keyword("puentenorte")
        assert uow.community.subscribers(project.id) == []
    assert send(app) == 0
    assert "• Avisos de proyectos que sigue: ninguno" in ana.send("mis datos")


def test_an_unknown_keyword_is_not_taken_for_a_subscription(app):
    create_bridge(app)
    luis = Citizen(app.dialogue, app.uow, address="+50370004444", channel="whatsapp")
    luis.converse("hola", "si")
    assert "No entendimos su mensaje" in luis.send("puentesur")
    # "baja" before words that name no project is an ordinary message: here, a report.
    answer = luis.send("baja mucho la presion del agua en la colonia desde ayer")
    assert "avisos" not in answer
    with app.uow() as uow:
        state = uow.conversations.get(uow.contacts.find("whatsapp", "+50370004444").id)
    assert state is not None and state.step != "menu"
    with app.uow() as uow:
        assert uow.community.followed_by(uow.contacts.find("whatsapp", "+50370004444").id) == []


def test_staff_cannot_create_a_keyword_the_chat_already_reads_or_one_taken(app):
    create_bridge(app)
    for keyword, says in (
        ("menu", "ya la usa el chat"),
        ("baja", "ya la usa el chat"),
        ("puente norte", "debe ser una sola palabra"),
        ("123", "debe ser una sola palabra"),
        ("puentenorte", "Ya hay un proyecto"),
    ):
        with app.uow() as uow, pytest.raises(CommunityError, match=says):
            add_project(
                uow,
                app.policy.texts,
                keyword=keyword,
                name="X",
                place="",
                description="",
                now=TUESDAY,
            )
    with app.uow() as uow, pytest.raises(CommunityError, match="No hay ningún proyecto"):
        send_update(uow, app.policy.texts, "puentesur", UPDATE, TUESDAY)


def test_the_retention_run_ends_the_subscriptions_of_people_it_erases(app):
    create_bridge(app)
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    ana.converse("hola", "si", "puentenorte")
    send(app)
    days = app.policy.retention_days
    with app.uow() as uow:
        assert erase_inactive_contacts(uow, app.policy, TUESDAY + timedelta(days=days - 1)) == 0
        assert erase_inactive_contacts(uow, app.policy, TUESDAY + timedelta(days=days + 1)) == 1
        uow.commit()
    with app.uow() as uow:
        project = uow.community.by_keyword("puentenorte")
        assert uow.community.subscribers(project.id) == []
        counts = uow.community.counts(project.id)
    # The update sent stays counted; whom it went to is no longer known.
    assert (counts.subscribers, counts.updates) == (0, 1)


def test_500_subscribers_get_the_update_once_each_through_the_provider_and_who_left_none(
    app, provider
):
    """The real dispatcher and Twilio client against the provider stand-in (the pace itself is
    checked where it is decided: tests/unit/test_pacing.py)."""
    create_bridge(app)
    clock = ManualClock()
    numbers = [f"+5037{n:07d}" for n in range(500)]
    for number in numbers:
        for text in ("PUENTENORTE", "si"):
            incoming = Incoming("whatsapp", number, uuid.uuid4().hex, clock.now, text=text)
            with app.uow() as uow:
                receive(incoming, uow, app.dialogue, clock.now)
    leaver = numbers[137]
    with app.uow() as uow:
        incoming = Incoming("whatsapp", leaver, uuid.uuid4().hex, clock.now, text="BAJA")
        receive(incoming, uow, app.dialogue, clock.now)
        for item in uow.outbox.pending("whatsapp", limit=5000):  # the chat's answers, sent
            uow.outbox.mark_sent(item, f"SM{item.id}", clock.now)
        uow.commit()

    clock.advance(minutes=5)  # within everyone's 24-hour window: free-form messages
    with app.uow() as uow:
        sent = send_update(uow, app.policy.texts, "puentenorte", UPDATE, clock.now)
        uow.commit()
    assert sent.recipients == 499
    with app.uow() as uow:
        queued = [row.address for row in uow.outbox.pending("whatsapp", limit=5000)]
    assert queued == [n for n in numbers if n != leaver]  # in the order they first wrote

    # Twilio's pace for a high-throughput sender, so that 500 take half a second.
    outbox = Dispatcher(app, [whatsapp(provider, rate=1000)], clock)
    send_all(outbox)
    received = [
        call.params["To"].removeprefix("whatsapp:")
        for call in provider.sent("twilio")
        if UPDATE in call.params.get("Body", "")
    ]
    assert sorted(received) == sorted(queued)  # each once, and no one else
    assert leaver not in received
    with app.uow() as uow:
        counts = uow.community.counts(uow.community.by_keyword("puentenorte").id)
    assert (counts.subscribers, counts.sent, counts.waiting, counts.unreachable) == (499, 499, 0, 0)


def test_outside_the_24_hour_window_the_template_announces_the_update_which_waits(app, provider):
    create_bridge(app)
    clock = ManualClock()
    for text in ("puentenorte", "si"):
        incoming = Incoming("whatsapp", "+50370001111", uuid.uuid4().hex, clock.now, text=text)
        with app.uow() as uow:
            receive(incoming, uow, app.dialogue, clock.now)
    outbox = Dispatcher(app, [whatsapp(provider, template_sid="HX" + "3" * 32)], clock)
    send_all(outbox)
    clock.advance(days=3)
    with app.uow() as uow:
        send_update(uow, app.policy.texts, "puentenorte", UPDATE, clock.now)
        uow.commit()
    send_all(outbox)
    templates = [c.params for c in provider.sent("twilio") if "ContentSid" in c.params]
    assert [t["To"] for t in templates] == ["whatsapp:+50370001111"]
    assert not [c for c in provider.sent("twilio") if UPDATE in c.params.get("Body", "")]
    with app.uow() as uow:
        counts = uow.community.counts(uow.community.by_keyword("puentenorte").id)
    assert (counts.sent, counts.waiting, counts.unreachable) == (0, 1, 0)
    # She answers: the update goes, and counts as delivered.
    incoming = Incoming("whatsapp", "+50370001111", uuid.uuid4().hex, clock.now, text="hola")
    with app.uow() as uow:
        receive(incoming, uow, app.dialogue, clock.now)
    send_all(outbox)
    assert [c for c in provider.sent("twilio") if UPDATE in c.params.get("Body", "")]
    with app.uow() as uow:
        counts = uow.community.counts(uow.community.by_keyword("puentenorte").id)
    assert (counts.sent, counts.waiting, counts.unreachable) == (1, 0, 0)


def test_a_keyword_before_refusing_consent_keeps_no_subscription(app):
    create_bridge(app)
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    ana.converse("PUENTENORTE", "no")
    with app.uow() as uow:
        assert uow.community.subscribers(uow.community.by_keyword("puentenorte").id) == []


def test_baja_with_a_keyword_is_not_taken_for_the_answer_staff_asked_for(app):
    create_bridge(app)
    clock = Clock()
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp", clock=clock)
    ana.converse(*POTHOLE)  # TA-2026-000001
    ana.send("puentenorte")
    add_staff(app.uow, "Beto", telegram_id=111)
    agent = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=clock)
    agent.send("/pedir_info TA-2026-000001 ¿Hay un número de casa cerca?")
    assert ana.send("BAJA PUENTENORTE") == (
        "Listo: ya no le enviaremos avisos de Puente de la colonia Norte."
    )
    assert "agregamos su respuesta" in ana.send("frente a la casa 24")


ANONYMOUS = (
    "1",
    "denuncio que el contratista del puente vende el cemento de la obra",
    "listo",
    "si",
    "San Miguel, colonia Las Brisas",
    "1",
)


def deliver_all(app, channel: str = "whatsapp") -> None:
    """What the dispatcher does: every pending row is sent, with the provider's id."""
    with app.uow() as uow:
        for row in uow.outbox.pending(channel):
            uow.outbox.mark_sent(row, f"SM{uuid.uuid4().hex}", row.created_at)
        uow.commit()


def rows(app, query: str) -> list:
    with app.engine.connect() as connection:
        return list(connection.execute(sql(query)))


def bridge_counts(app):
    with app.uow() as uow:
        return uow.community.counts(uow.community.by_keyword("puentenorte").id)


def test_an_anonymous_denuncia_holds_nothing_of_following_a_project_and_ids_are_not_counted(app):
    """F1 and F8 of the privacy attack: following, leaving and an update's copy written just
    before an anonymous denuncia joined it, next to the project, and its counts fell."""
    create_bridge(app)
    clock = Clock()
    beto = Citizen(app.dialogue, app.uow, address="+50370002222", channel="whatsapp", clock=clock)
    beto.converse("hola", "si", "puentenorte")
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp", clock=clock)
    ana.converse("PUENTENORTE", "si")  # the keyword from a poster, followed once she accepts
    send(app)
    deliver_all(app)
    before = bridge_counts(app)
    assert (before.subscribers, before.sent) == (2, 2)
    assert "ya no le enviaremos avisos" in ana.send("baja")
    assert bridge_counts(app).subscribers == 1  # the count falls at once
    assert "avisos de «Puente de la colonia Norte»" in ana.send("puentenorte")
    deliver_all(app)
    receipt = ana.converse(*ANONYMOUS)
    assert "Código secreto de seguimiento" in receipt
    with app.uow() as uow:
        (case,) = uow.cases.search()
        assert case.anonymous and case.contact_id is None
        in_case = [m.body for m in uow.messages.for_case(case.id)]
    project_words = ("puentenorte", "puente de la colonia norte", "avisos", "baja")
    said = [body for body in in_case if any(w in body.lower() for w in project_words)]
    assert said == [], "the anonymous case names the project its sender follows"
    nobodys = rows(app, "SELECT body FROM messages WHERE contact_id IS NULL")
    # (An update's copy is written to no contact: the same text for every follower.)
    assert not [b for (b,) in nobodys if "uente" in b and not b.startswith(("Aviso", "denuncio"))]
    # The update's copy stays hers, and the project's counts do not change with the report.
    after = bridge_counts(app)
    assert (after.subscribers, after.updates, after.sent) == (2, 1, 2)
    # Subscriptions and copies are numbered at random: their ids tell no order of joining.
    for table in ("community_subscriptions", "community_deliveries"):
        ids = sorted(i for (i,) in rows(app, f"SELECT id FROM {table}"))
        assert len(ids) == 2 and ids[1] - ids[0] > 1000, (table, ids)


def test_erasing_deletes_the_updates_sent_to_the_person_and_keeps_only_the_counts(app):
    """F2 and F8: after BORRAR MIS DATOS, and the retention's erasure, no message or outbox row
    of the updates sent to the person remains, nor the provider's id of them; the counts do."""
    people = three_followers(app)
    send(app)
    deliver_all(app)
    query = "SELECT address, provider_message_id FROM outbox WHERE body LIKE 'Aviso sobre%'"
    sent_ids = dict(rows(app, query))
    assert len(sent_ids) == 3

    def stored() -> str:
        return " ".join(
            map(str, rows(app, "SELECT * FROM outbox") + rows(app, "SELECT * FROM messages"))
        )

    people[0].converse("borrar mis datos", "si")
    assert sent_ids["+50370001000"] not in stored()
    assert len(rows(app, "SELECT id FROM messages WHERE body LIKE 'Aviso sobre%'")) == 2
    counts = bridge_counts(app)
    assert (counts.subscribers, counts.updates, counts.sent) == (2, 1, 3)
    later = TUESDAY + timedelta(days=app.policy.retention_days + 1)
    with app.uow() as uow:
        assert erase_inactive_contacts(uow, app.policy, later) == 2
        uow.commit()
    assert not any(provider_id in stored() for provider_id in sent_ids.values())
    assert rows(app, "SELECT id FROM messages WHERE body LIKE 'Aviso sobre%'") == []
    counts = bridge_counts(app)
    assert (counts.subscribers, counts.updates, counts.sent) == (0, 1, 3)
    left = rows(app, "SELECT contact_id, outbox_id, status FROM community_deliveries")
    assert left == [(None, None, "sent")] * 3


def test_an_update_held_for_an_anonymous_reporter_keeps_only_the_day_it_was_released(app):
    """Found by the same attack: a copy held outside WhatsApp's 24-hour window goes when the
    person next writes; its row kept, under their number, the exact times of that (when to
    send, when sent, the window's end), which told when they began an anonymous denuncia."""
    create_bridge(app)
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    ana.converse("hola", "si", "puentenorte")
    deliver_all(app)
    send(app)
    with app.uow() as uow:
        (row,) = [r for r in uow.outbox.pending("whatsapp") if r.body.startswith("Aviso sobre")]
        uow.outbox.hold(row, "fuera de la ventana de 24 horas; aviso enviado", TUESDAY)
        uow.commit()
    ana.clock.now = TUESDAY + timedelta(days=2, hours=3, minutes=17)
    # She writes again, to report: the update goes now. (A greeting first would keep its exact
    # time, as the greeting itself does: it stays hers, outside the report.)
    ana.send("1")
    with app.uow() as uow:
        (row,) = [r for r in uow.outbox.pending("whatsapp") if r.body.startswith("Aviso sobre")]
        released = row.next_attempt_at
        uow.outbox.mark_sent(row, "SMupdate", released)
        uow.commit()
    assert released.minute == 18  # when she wrote, to the minute
    assert "Código secreto de seguimiento" in ana.converse(*ANONYMOUS[1:])
    with app.uow() as uow:
        (case,) = uow.cases.search()
        query = select(OutboxItem).where(col(OutboxItem.body).startswith("Aviso sobre"))
        (copy,) = uow.session.exec(query).all()
    day = case.created_at
    assert case.anonymous and copy.sent_at == copy.next_attempt_at == day
    assert copy.window_until == day + timedelta(hours=24)
    assert bridge_counts(app).sent == 1


def test_the_list_says_which_setting_its_links_wait_for(app):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    def community(*args: str, **settings: str) -> str:
        env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": "", **settings}
        result = CliRunner().invoke(build_cli(load_texts()), ["community", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    community("add", "puentenorte", "--name", "Puente de la colonia Norte")
    assert community("list").splitlines()[-1] == (
        "Para mostrar también los enlaces que abren el chat, configure telegram.bot_username "
        "o whatsapp.from_number (config.toml)."
    )
    shown = community("list", TA_TELEGRAM__BOT_USERNAME="AbiertoBot")
    assert "https://t.me/AbiertoBot?start=puentenorte" in shown
    assert shown.splitlines()[-1].endswith("configure whatsapp.from_number (config.toml).")


def test_sending_to_one_subscriber_says_one_person(app):
    from typer.testing import CliRunner

    from bot.cli import build_cli
    from handlers.core.texts import load_texts

    def community(*args: str) -> str:
        env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
        result = CliRunner().invoke(build_cli(load_texts()), ["community", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    create_bridge(app)
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp", clock=Clock())
    ana.converse("hola", "si", "puentenorte")
    assert community("send", "puentenorte", UPDATE, "--yes") == (
        "Aviso de «Puente de la colonia Norte» en cola para 1 persona.\n"
    )


def test_an_update_sent_to_a_project_nobody_follows_is_listed_as_sent_to_nobody(app):
    from typer.testing import CliRunner

    from bot.cli import CliContext, build_cli
    from handlers.core.texts import load_texts

    env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}

    def terminal(*args: str) -> str:
        obj = CliContext(clock=Clock(), interactive=lambda: False)
        said = CliRunner().invoke(build_cli(load_texts()), list(args), env=env, obj=obj)
        assert said.exit_code == 0, said.output
        return said.stdout

    create_bridge(app)
    sent = terminal("community", "send", "puentenorte", UPDATE, "--yes")
    assert sent == (
        "Aviso de «Puente de la colonia Norte» publicado, pero nadie sigue el proyecto: "
        "no se envió a nadie.\n"
    )
    listed = terminal("community", "list")
    assert "avisos enviados: 1" not in listed
    assert (
        "Suscriptores: 0 · avisos publicados: 1 (1 sin destinatarios: nadie seguía el proyecto) "
        "· copias entregadas: 0"
    ) in listed
    ana = Citizen(app.dialogue, app.uow, address="+50370001111", channel="whatsapp")
    ana.converse("hola", "si", "puentenorte")
    terminal("community", "send", "puentenorte", UPDATE, "--yes")
    assert "Suscriptores: 1 · avisos publicados: 2 (1 sin destinatarios" in terminal(
        "community", "list"
    )
