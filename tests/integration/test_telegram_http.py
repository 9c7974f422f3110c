"""python-telegram-bot over aiohttp (bot.channels.telegram_http): what the Bot sends arrives as
the Bot API expects it, and a Bot API that does not answer is a timeout the outbox retries."""

import asyncio
import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.provider import Provider

TOKEN = "123456:test-token"


@pytest.fixture
def provider():
    stand_in = Provider(TOKEN, "AC1", keep_alive=True).start()
    yield stand_in
    stand_in.stop()


def bot_at(url: str, **options) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{url}/bot",
        base_file_url=f"{url}/file/bot",
        request=AiohttpRequest(**options),
    )


def test_a_text_with_buttons_and_a_document_reach_the_bot_api(provider):
    async def send():
        bot = bot_at(provider.url)
        async with bot:
            await bot.send_message(555001, "¿Lo resolvimos?")
            await bot.send_document(555001, b"%PDF-1.7 constancia", filename="TA-1.pdf")

    asyncio.run(send())
    text, document = (c for c in provider.calls if c.method in ("sendMessage", "sendDocument"))
    assert (text.params["chat_id"], text.params["text"]) == ("555001", "¿Lo resolvimos?")
    assert document.params["document"] == b"%PDF-1.7 constancia"
    assert document.params["document.filename"] == "TA-1.pdf"


def test_a_file_is_downloaded_through_the_same_session(provider):
    provider.media["foto1"] = (b"\xff\xd8\xff jpeg bytes", "image/jpeg")

    async def download():
        bot = bot_at(provider.url)
        async with bot:
            file = await bot.get_file("foto1")
            return bytes(await file.download_as_bytearray())

    assert asyncio.run(download()) == b"\xff\xd8\xff jpeg bytes"


def test_a_bot_api_that_never_answers_is_a_timeout_and_one_not_there_a_network_error():
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    port = silent.getsockname()[1]
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    async def send(url: str):
        bot = bot_at(url, read_timeout=0.2, connect_timeout=0.2)
        async with bot.request:
            await bot.request.post(f"{url}/bot{TOKEN}/sendMessage")

    try:
        with pytest.raises(TimedOut):
            asyncio.run(send(f"http://127.0.0.1:{port}"))
    finally:
        silent.close()
    with pytest.raises(NetworkError) as refused:
        asyncio.run(send(f"http://127.0.0.1:{closed_port}"))
    assert not isinstance(refused.value, TimedOut)
