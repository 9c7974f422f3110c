"""What the channels make of the providers' payloads (no network: translation only)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.channels.common import Malformed, NotOurs
from bot.channels.telegram import TelegramChannel, file_base_url
from bot.channels.whatsapp import Form, WhatsAppChannel
from bot.config import TelegramSettings, WhatsAppSettings
from tests.builders import (
    private_chat,
    telegram_button,
    telegram_update,
    telegram_user,
    twilio_form,
    twilio_signature,
)
from tests.helpers import TUESDAY

OURS = "+50322220000"
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media"


def whatsapp() -> WhatsAppChannel:
    settings = WhatsAppSettings(
        enabled=True, account_sid="AC1", auth_token="t", from_number=f"whatsapp:{OURS}"
    )
    return WhatsAppChannel(settings, "https://atencion.example.gob.sv/")


def form(body: str | None = None, **fields) -> Form:
    """A form as Twilio encodes it; only the fields a test names besides sender and receiver."""
    fields.setdefault("media", None)
    sent = twilio_form(body, sender="+50370001234", to=OURS, sid="SM" + "a" * 32, **fields)
    return Form(urlencode(sent).encode())


def test_a_whatsapp_message_with_a_voice_note_a_photo_and_a_pin_keeps_every_part():
    incoming = whatsapp().translate(
        form(
            "hay un derrumbe",
            profile_name="Ana",
            media=[
                (f"{MEDIA}/ME1", "audio/ogg"),
                (f"{MEDIA}/ME2", "image/jpeg"),
            ],
            location={
                "Latitude": "13.7",
                "Longitude": "-89.2",
                "Address": "Calle Arce",
                "Label": "Trabajo",
            },
        ),
        TUESDAY,
    )
    assert (incoming.address, incoming.name, incoming.text) == (
        "+50370001234",
        "Ana",
        "hay un derrumbe",
    )
    assert [m.kind for m in incoming.media] == ["audio", "photo"]
    assert incoming.location.address == "Calle Arce" and incoming.location.label == "Trabajo"


def test_a_whatsapp_button_answers_with_its_payload():
    incoming = whatsapp().translate(form("Sí, acepto", ButtonPayload="1"), TUESDAY)
    assert incoming.text == "1"


def test_whatsapp_payloads_that_cannot_be_a_message_are_refused():
    channel = whatsapp()
    with pytest.raises(Malformed):
        channel.translate(form(From="whatsapp:hola"), TUESDAY)
    with pytest.raises(Malformed):
        channel.translate(form(NumMedia="1", MediaUrl0="file:///etc/passwd"), TUESDAY)
    with pytest.raises(NotOurs):
        channel.translate(form(To="whatsapp:+50399999999"), TUESDAY)
    with pytest.raises(Malformed):
        Form(b"Body=%ff%fe")


def test_a_twilio_signature_is_checked_against_the_public_url_not_the_local_one():
    fields = form("hola")
    public = twilio_signature("https://atencion.example.gob.sv/webhooks/whatsapp", fields, "t")
    local = twilio_signature("http://127.0.0.1:8080/webhooks/whatsapp", fields, "t")
    assert whatsapp().verify("/webhooks/whatsapp", fields, public)
    assert not whatsapp().verify("/webhooks/whatsapp", fields, local)


def telegram() -> TelegramChannel:
    return TelegramChannel(TelegramSettings(enabled=True, token="42:abc", secret_token="s3"))


LUIS = telegram_user(99, "Luis", last_name="Pérez")


def message(user: dict = LUIS, chat: dict | None = None, **content) -> dict:
    """An update in Luis's private chat (chat 99) unless `chat` says otherwise."""
    return telegram_update(user=user, chat=chat or private_chat(99), update_id=5, **content)


def test_telegram_voice_documents_venues_and_contacts_become_parts_of_the_case():
    channel = telegram()
    voice = channel.translate(
        message(voice={"file_id": "V", "file_unique_id": "v", "duration": 3}), TUESDAY
    )
    assert [(m.kind, m.ref, m.content_type) for m in voice.incoming.media] == [
        ("audio", "V", "audio/ogg")
    ]
    assert voice.incoming.provider_id == "42:5" and voice.incoming.name == "Luis Pérez"
    document = channel.translate(
        message(
            document={"file_id": "D", "file_unique_id": "d", "mime_type": "application/pdf"},
            caption="el acta",
        ),
        TUESDAY,
    )
    assert document.incoming.text == "el acta" and document.incoming.media[0].kind == "document"
    venue = {
        "location": {"latitude": 4.6, "longitude": -74.08},
        "title": "Parque",
        "address": "Cra 7",
    }
    place = channel.translate(message(venue=venue), TUESDAY).incoming.location
    assert (place.latitude, place.address, place.label) == (4.6, "Cra 7", "Parque")
    card = {"phone_number": "+573001112233", "first_name": "Marta"}
    assert channel.translate(message(contact=card), TUESDAY).incoming.text == "Marta +573001112233"


def test_telegram_updates_that_are_not_a_citizens_message_are_ignored_or_refused():
    channel = telegram()
    group = message(text="hola", chat={"id": -5, "type": "group"})
    assert channel.translate(group, TUESDAY) is None
    assert channel.translate({"update_id": 1, "edited_message": {}}, TUESDAY) is None
    with pytest.raises(Malformed):
        channel.translate([], TUESDAY)
    with pytest.raises(Malformed):
        channel.translate(message(location={"latitude": 200, "longitude": 0}), TUESDAY)
    wrong_shapes = (
        message(text="hola", chat={"id": "99", "type": "private"}),
        message(text=["hola"]),
        message(text="hola", user={"id": 99, "is_bot": "no", "first_name": "Luis"}),
        message(photo={"file_id": "P"}),
        {"update_id": 8, "callback_query": {"from": LUIS, "data": "1"}},  # no id to answer
    )
    for update in wrong_shapes:
        with pytest.raises(Malformed):
            channel.translate(update, TUESDAY)
    assert channel.verify("s3") and not channel.verify("s4") and not channel.verify(None)


def test_updates_from_another_bot_or_written_through_one_are_ignored():
    channel = telegram()
    robot = telegram_user(777, "OtroBot", is_bot=True, username="otro_bot")
    from_a_bot = message(text="/cerrar TA-2026-000001 listo", user=robot)
    through_a_bot = message(text="estado TA-2026-000001", via_bot=robot)
    pressed_by_a_bot = telegram_button(
        "1", user=robot, update_id=7, query_id="cb", chat_instance="x"
    )
    for update in (from_a_bot, through_a_bot, pressed_by_a_bot):
        assert channel.translate(update, TUESDAY) is None
    assert channel.translate(message(text="hola"), TUESDAY) is not None


def test_messages_and_buttons_in_the_staff_chat_carry_who_wrote_them():
    channel = TelegramChannel(
        TelegramSettings(enabled=True, token="42:abc", secret_token="s3", staff_chat_id=-100777)
    )
    command = message(text="/cola", chat={"id": -100777, "type": "supergroup"})
    incoming = channel.translate(command, TUESDAY).incoming
    assert (incoming.address, incoming.sender_id, incoming.text) == ("-100777", "99", "/cola")
    press = telegram_button(
        "tomar:TA-2026-000001",
        user=telegram_user(111, "Ana"),
        update_id=6,
        query_id="cb1",
        chat={"id": -100777, "type": "supergroup"},
        chat_instance="x",
        message_id=3,
    )
    button = channel.translate(press, TUESDAY)
    assert (button.incoming.address, button.incoming.sender_id) == ("-100777", "111")
    assert button.callback_query_id == "cb1"
    private = channel.translate(message(text="hola"), TUESDAY).incoming
    assert private.sender_id is None
    other = message(text="/cola", chat={"id": -5, "type": "group"})
    assert channel.translate(other, TUESDAY) is None


def test_the_file_url_goes_with_the_bot_api_url():
    assert file_base_url("http://127.0.0.1:9000/bot") == "http://127.0.0.1:9000/file/bot"
