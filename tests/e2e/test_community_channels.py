"""Issue 19's community updates through the real channels: people follow a project by writing
its keyword on WhatsApp or opening Telegram's deep link, one leaves with BAJA, and the update
staff send from the terminal reaches every remaining subscriber once, through the provider."""

from __future__ import annotations

from handlers.core.texts import load_texts
from tests.e2e.channels import BOT_USERNAME, OUR_NUMBER, TelegramCitizen, WhatsAppCitizen

UPDATE = "Alerta de lluvia: no cruce la quebrada esta noche; el paso provisional está cerrado."
JOINED = "le enviaremos por este chat los avisos de «Puente de la colonia Norte»"


def said(replies: list[str], words: str) -> bool:
    return any(words in reply for reply in replies)


def test_an_update_reaches_each_subscriber_once_and_not_who_wrote_baja(service, provider):
    added = service.cli(
        "community",
        "add",
        "puentenorte",
        "--name",
        "Puente de la colonia Norte",
        "--place",
        "San Miguel Centro",
    )
    assert added.returncode == 0, added.stderr
    assert "quien escriba PUENTENORTE en el chat" in added.stdout

    # Ana writes the keyword on WhatsApp (from a poster); she accepts the privacy notice first.
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    ana.send("PUENTENORTE")
    provider.wait_for(lambda: said(ana.replies(), "Aviso de privacidad"))
    ana.send("sí")
    provider.wait_for(lambda: said(ana.replies(), JOINED))
    # Luis opens the bot's deep link: Telegram sends "/start puentenorte".
    luis = TelegramCitizen(service, 5101, "Luis")
    luis.send("/start puentenorte")
    luis_says = lambda: [r.get("text", "") for r in luis.replies()]  # noqa: E731
    provider.wait_for(lambda: said(luis_says(), "Aviso de privacidad"))
    luis.send("si")
    provider.wait_for(lambda: said(luis_says(), JOINED))
    # Rosa follows it too, and leaves.
    rosa = WhatsAppCitizen(service, "+50370005555", "Rosa")
    for line in ("hola", "si", "puentenorte"):
        rosa.send(line)
    provider.wait_for(lambda: said(rosa.replies(), JOINED))
    rosa.send("BAJA PUENTENORTE")
    provider.wait_for(lambda: said(rosa.replies(), "ya no le enviaremos avisos"))

    sent = service.cli("community", "send", "puentenorte", UPDATE, "--yes")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "Aviso de «Puente de la colonia Norte» en cola para 2 personas.\n"

    provider.wait_for(lambda: said(ana.replies(), UPDATE) and said(luis_says(), UPDATE))
    # Whatever the dispatcher sends next is what the people ask for, never the update again.
    ana.send("gracias")
    provider.wait_for(lambda: said(ana.replies(), load_texts("es")("dialogue.thanks")))
    assert [r for r in ana.replies() if UPDATE in r] == [
        "Aviso sobre «Puente de la colonia Norte»:\n"
        f"{UPDATE}\n\n"
        "Para dejar de recibir estos avisos escriba BAJA PUENTENORTE."
    ]
    assert len([r for r in luis_says() if UPDATE in r]) == 1
    assert not said(rosa.replies(), UPDATE)

    def listed() -> str:
        shown = service.cli("community", "list")
        assert shown.returncode == 0, shown.stderr
        return shown.stdout if "copias entregadas: 2" in shown.stdout else ""

    shown = provider.wait_for(listed)
    assert "PUENTENORTE: Puente de la colonia Norte" in shown
    assert "Suscriptores: 2 · avisos publicados: 1 · copias entregadas: 2" in shown
    assert "no alcanzadas: 0" in shown
    assert f"https://t.me/{BOT_USERNAME}?start=puentenorte" in shown
    assert f"https://wa.me/{OUR_NUMBER.lstrip('+')}?text=PUENTENORTE" in shown
    # Staff see how many, never who.
    assert "70001234" not in shown and "5101" not in shown and "70005555" not in shown
