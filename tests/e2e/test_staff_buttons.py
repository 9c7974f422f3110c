"""The staff chat's cards through the real python-telegram-bot client, against the stand-in:
labels rather than codes, and a card's [Tomar] edited away once the case is taken."""

import json

from tests.e2e.channels import STAFF_CHAT, TelegramStaff, WhatsAppCitizen
from tests.e2e.crowd import Database
from tests.helpers import POTHOLE


def test_a_cards_take_button_is_edited_away_once_the_case_is_taken(service, provider):
    added = service.cli(
        "staff", "add", "--name", "Marta Ruiz", "--role", "agent", "--telegram-id", "4242"
    )
    assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    marta = TelegramStaff(service, 4242, "Marta")
    for line in POTHOLE:
        ana.send(line)

    def the_card():
        found = [c for c in provider.sent("telegram") if "Caso nuevo" in c.params["text"]]
        return found[0] if found else None

    card = provider.wait_for(the_card)
    text = card.params["text"]
    folio = text.splitlines()[1].split()[1]
    assert f"📋 {folio} · solicitud · calles y caminos" in text
    assert "Estado: Recibido · Urgencia: normal" in text and "calles_caminos" not in text

    # Pressed once the service has recorded the card as sent (a press while the card is on its
    # way is tests/integration/test_outbox.py's, where the test decides when the send lands).
    database = Database(service.env["TA_DATABASE__URL"])
    try:
        provider.wait_for(lambda: database.unsent() == 0)
    finally:
        database.close()
    marta.press(f"tomar:{folio}")
    edit = provider.wait_for(lambda: provider.calls_to("editMessageReplyMarkup"))[0]
    assert int(edit.params["chat_id"]) == STAFF_CHAT
    assert int(edit.params["message_id"]) == int(card.result_id)
    rows = json.loads(edit.params["reply_markup"])["inline_keyboard"]
    assert [row[0]["callback_data"] for row in rows] == [
        f"asignar:{folio}",
        f"urgente:{folio}",
        f"descartar:{folio}",
    ]
    taken = provider.wait_for(lambda: [c for c in marta.chat() if "Marta Ruiz tomó" in c["text"]])[
        0
    ]
    assert "tomar:" not in taken.get("reply_markup", "")
    assert "Estado: Asignado" in taken["text"]
