"""The log of a whole day's work, at DEBUG, holds no one's number, id, words, name or secret."""

from __future__ import annotations

import re

import pytest

from tests.e2e.channels import (
    AUTH_TOKEN,
    BOT_TOKEN,
    SECRET_TOKEN,
    Service,
    TelegramCitizen,
    WhatsAppCitizen,
)
from tests.helpers import HASH_SECRET
from tests.provider import JPEG

NUMBER, TELEGRAM_ID = "+50371112233", 731234567
POTHOLE = ("hola", "si", "1", "el tragante de la colonia Zacamil esta tapado y huele horrible")
DENUNCIA = ("hola", "si", "1", "denuncio que el capataz Pedro Chicas vende el cemento de la obra")


@pytest.fixture
def service(debug_service: Service) -> Service:
    return debug_service


def test_a_whole_conversation_logged_at_debug_keeps_no_personal_data_or_secret(service, provider):
    rigoberta = WhatsAppCitizen(service, NUMBER, "Rigoberta Menjívar")
    photo = provider.add_media("ME9", JPEG, "image/jpeg")
    for body in POTHOLE:
        rigoberta.send(body)
    rigoberta.send("", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    rigoberta.send("", Latitude="13.7101", Longitude="-89.2012", Address="Pasaje Los Almendros")
    for body in ("listo", "si", "omitir", "mis datos"):
        rigoberta.send(body)
    xiomara = TelegramCitizen(service, TELEGRAM_ID, "Xiomara")
    xiomara.send(DENUNCIA[0])
    xiomara.press("1")
    for body in (*DENUNCIA[2:], "listo"):
        xiomara.send(body)
    xiomara.press("1")  # "yes, that is the type"
    xiomara.send("Mejicanos, colonia Montreal")
    xiomara.press("1")  # anonymous

    def code() -> str | None:
        texts = [reply.get("text", "") for reply in xiomara.replies()]
        found = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", "\n".join(texts))
        return found and found[0]

    secret_code = provider.wait_for(code, timeout=120)  # Telegram: one reply a second
    provider.wait_for(lambda: any("Mensajes guardados" in r for r in rigoberta.replies()))
    xiomara.send(f"estado {secret_code}")
    answered = len(xiomara.replies())
    provider.wait_for(lambda: len(xiomara.replies()) > answered, timeout=120)
    # Her receipt as a PDF: its making logs nothing of what it says, nor when it was made.
    asked = len(provider.calls)
    xiomara.send(f"constancia {secret_code}")
    provider.wait_for(
        lambda: any(c.method == "sendDocument" for c in provider.calls[asked:]), timeout=120
    )

    log = service.log_text()
    assert "fontTools" not in log and "Glyph" not in log
    assert "DEBUG bot.outbox: outbox: sending for" in log  # the level applies to our own lines
    # No line per send: the times of the replies of Xiomara's conversation, which left the
    # outbox with her anonymous report, would be in the log.
    assert "a row sent" not in log
    # No row id: ids are the microsecond each row was written, of rows later deleted too.
    assert not re.search(r"row \d", log)
    said = [*POTHOLE, *DENUNCIA]
    personal = [
        NUMBER,
        NUMBER.removeprefix("+"),
        str(TELEGRAM_ID),
        "Rigoberta",
        "Menjívar",
        "Xiomara",
        "Pasaje Los Almendros",
        "Zacamil",
        "Pedro Chicas",
        "Montreal",
        secret_code,
        *(body for body in said if len(body) > 4),
    ]
    secrets = [AUTH_TOKEN, BOT_TOKEN, BOT_TOKEN.partition(":")[2], SECRET_TOKEN, HASH_SECRET]
    for value in personal + secrets:
        assert value not in log, f"the log holds {value!r}"
