"""A case worked across channels: a citizen on WhatsApp, an agent in the Telegram staff chat."""

import json

from tests.e2e.channels import TelegramStaff, WhatsAppCitizen
from tests.helpers import POTHOLE


def containing(texts: list[str], part: str) -> str | None:
    return next((text for text in texts if part in text), None)


def test_a_whatsapp_case_is_worked_in_the_telegram_staff_chat_and_rated(service, provider):
    added = service.cli(
        "staff", "add", "--name", "Marta Ruiz", "--role", "agent", "--telegram-id", "4242"
    )
    assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    marta = TelegramStaff(service, 4242, "Marta")
    for line in POTHOLE:
        ana.send(line)

    card = provider.wait_for(lambda: containing([c["text"] for c in marta.chat()], "Caso nuevo"))
    folio = card.splitlines()[1].split()[1]
    (posted,) = [c for c in marta.chat() if c["text"] == card]
    buttons = json.loads(posted["reply_markup"])["inline_keyboard"]
    assert [row[0]["callback_data"] for row in buttons][0] == f"tomar:{folio}"
    assert "+50370001234" not in card

    marta.press(f"tomar:{folio}")
    provider.wait_for(lambda: containing([c["text"] for c in marta.chat()], "Marta Ruiz tomó"))
    marta.send(f"/pedir_info {folio} ¿Frente a qué número de casa está el hoyo?")
    provider.wait_for(lambda: containing(ana.replies(), "¿Frente a qué número de casa"))
    ana.send("frente a la casa 24 del pasaje 3")
    # The citizen's answer is told to the agent who has the case, in her private chat.
    provider.wait_for(lambda: containing([c["text"] for c in marta.replies()], "respondió"))
    marta.send(f"/nota {folio} el vecino de la casa 26 es conflictivo")
    marta.send(f"/responder {folio} La cuadrilla llega el jueves por la mañana")
    marta.send(f"/cerrar {folio} Bache reparado el jueves")
    provider.wait_for(lambda: containing(ana.replies(), "¿Se resolvió su caso "))
    ana.send("si")
    provider.wait_for(lambda: containing(ana.replies(), "de 1 (muy mala) a 5"))
    ana.send("5")
    provider.wait_for(lambda: containing(ana.replies(), "¡Gracias por su respuesta!"))

    told = ana.replies()
    assert not containing(told, "Asignado")  # the institution's own step, not announced
    for step in (
        "¿Frente a qué número de casa está el hoyo?",
        f"agregamos su respuesta al caso {folio}",
        "La cuadrilla llega el jueves por la mañana",
        "Resolución: Bache reparado el jueves",
    ):
        assert containing(told, step), step
    assert not containing(told, "conflictivo")
    shown = service.cli("cases", "show", folio).stdout
    assert "Marta Ruiz: Nota interna — el vecino de la casa 26 es conflictivo" in shown
    assert "Encuesta: ¿resuelto? Sí · calificación 5/5" in shown
    listed = json.loads(service.cli("cases", "list", "--json").stdout)
    assert [(c["status"], c["assignee"]) for c in listed] == [("cerrado", "Marta Ruiz")]
