"""What the providers post, built in one place: Twilio forms, Telegram updates and their
signatures (used by the tests and by bench/, which imports nothing else from tests/)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from twilio.request_validator import RequestValidator

TWILIO_SIGNATURE = "X-Twilio-Signature"
TELEGRAM_SECRET = "X-Telegram-Bot-Api-Secret-Token"


def twilio_form(
    body: str | None = "",
    *,
    sender: str,
    to: str,
    sid: str | None = None,
    account_sid: str | None = None,
    profile_name: str | None = None,
    media: Iterable[tuple[str, str]] | None = (),
    location: Mapping[str, str] | None = None,
    **extra: str,
) -> dict[str, str]:
    """The form Twilio posts for a WhatsApp message from `sender` to `to` (numbers in E.164).

    `media` is (url, content type) pairs and gives `NumMedia`; `location` holds Twilio's
    `Latitude`, `Longitude`, `Address` and `Label` fields. `body=None` or `media=None` leave
    `Body` or `NumMedia` out, as a malformed post would; `extra` adds or overrides any field.
    """
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex}
    if account_sid is not None:
        form["AccountSid"] = account_sid
    form |= {"From": f"whatsapp:{sender}", "To": f"whatsapp:{to}"}
    if body is not None:
        form["Body"] = body
    if profile_name is not None:
        form["ProfileName"] = profile_name
    if media is not None:
        media = list(media)
        form["NumMedia"] = str(len(media))
        for n, (url, content_type) in enumerate(media):
            form[f"MediaUrl{n}"] = url
            form[f"MediaContentType{n}"] = content_type
    form |= dict(location or {})
    return form | extra


def twilio_signature(url: str, form: Mapping[str, str], token: str) -> str:
    """What Twilio puts in `X-Twilio-Signature`: the form signed with the auth token at `url`."""
    return RequestValidator(token).compute_signature(url, form)


def twilio_headers(url: str, form: Mapping[str, str], token: str) -> dict[str, str]:
    """The signature header for posting `form` to `url`."""
    return {TWILIO_SIGNATURE: twilio_signature(url, form, token)}


def telegram_user(user_id: int, first_name: str = "Prueba", **more: Any) -> dict[str, Any]:
    """A Telegram user who is a person (`more`: last_name, username, is_bot=True...)."""
    return {"id": user_id, "is_bot": False, "first_name": first_name, **more}


def private_chat(user_id: int, **more: Any) -> dict[str, Any]:
    """The private chat between the bot and a user."""
    return {"id": user_id, "type": "private", **more}


def telegram_update(
    text: str | None = None,
    *,
    user: Mapping[str, Any],
    update_id: int,
    chat: Mapping[str, Any] | None = None,
    message_id: int = 1,
    date: int = 0,
    **content: Any,
) -> dict[str, Any]:
    """An update carrying a message from `user` (in their private chat unless `chat` is given);
    `content` adds the message's other fields (photo, voice, location, caption...)."""
    message = {
        "message_id": message_id,
        "date": date,
        "chat": dict(chat or private_chat(user["id"])),
        "from": dict(user),
        **({"text": text} if text is not None else {}),
        **content,
    }
    return {"update_id": update_id, "message": message}


def telegram_button(
    data: str,
    *,
    user: Mapping[str, Any],
    update_id: int,
    query_id: str,
    chat: Mapping[str, Any] | None = None,
    chat_instance: str = "1",
    message_id: int = 1,
    date: int = 0,
) -> dict[str, Any]:
    """An update for a press on an inline button under one of the bot's messages in `chat`
    (with no `chat`, the query carries no message, as for a message too old to return)."""
    query = {"id": query_id, "from": dict(user), "chat_instance": chat_instance, "data": data}
    if chat is not None:
        query["message"] = {"message_id": message_id, "date": date, "chat": dict(chat)}
    return {"update_id": update_id, "callback_query": query}


def telegram_headers(secret: str, *, json: bool = False) -> dict[str, str]:
    """The secret header Telegram sends with every webhook call (and the JSON content type)."""
    headers = {TELEGRAM_SECRET: secret}
    return headers | {"Content-Type": "application/json"} if json else headers
