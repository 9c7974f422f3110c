"""Slow and forged clients against the real service: bodies trickled over many connections do
not hold up signed webhooks, and an address that sends many forged ones is slowed, not the
others, and not its own signed requests."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from bot.admission import FAILURES
from tests.e2e.channels import SECRET_TOKEN, Service, TelegramCitizen, WhatsAppCitizen, sign
from tests.e2e.crowd import Database

# server.body_timeout_seconds in these tests: the ten signed webhooks must be answered before
# the tricklers' time runs out, so it is generous enough for a busy machine (it was 8 s).
BODY_TIMEOUT = 20
SLOTS = 4  # server.max_inflight: 50 stalled requests would fill these and their line many times
TRICKLERS = 50
DECLARED = 5000  # the Content-Length each trickler announces and never completes
BYTE_EVERY = 1.5  # seconds between two bytes of a trickled body
GIVE_UP = BODY_TIMEOUT + 30  # a trickler stops by itself after this, whatever happens


def slow_service(tmp_path, database_url, provider) -> Service:
    service = Service(tmp_path, database_url, provider)
    service.env["TA_SERVER__BODY_TIMEOUT_SECONDS"] = str(BODY_TIMEOUT)
    service.env["TA_SERVER__MAX_INFLIGHT"] = str(SLOTS)
    return service


async def trickle(port: int, path: str, header: str, started: asyncio.Queue, signed_done):
    """Send a request's headers and then its body one byte at a time; how it ended ("408",
    "closed", another status, or "open" when it gave up) and whether the signed webhooks had
    all been answered by then."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{header}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {DECLARED}\r\n\r\nx".encode()
    )
    await writer.drain()
    await started.put(path)
    outcome = "open"
    loop = asyncio.get_running_loop()
    give_up = loop.time() + GIVE_UP
    try:
        while loop.time() < give_up:
            try:
                answer = await asyncio.wait_for(reader.read(100), BYTE_EVERY)
            except TimeoutError:
                writer.write(b"x")
                await writer.drain()
                continue
            outcome = answer.split(b" ")[1].decode() if answer else "closed"
            break
    except (ConnectionResetError, BrokenPipeError):
        outcome = "closed"
    finally:
        writer.close()
    return outcome, signed_done.is_set()


def send_signed(service: Service) -> list[int]:
    """Five WhatsApp and five Telegram citizens write once each; their answers' statuses."""
    statuses = []
    for n in range(5):
        ana = WhatsAppCitizen(service, f"+5037000{n:04d}")
        statuses.append(ana.post(ana.form("hola")).status_code)
        luis = TelegramCitizen(service, 770_000 + n)
        statuses.append(luis.post(luis.message(text="hola")).status_code)
    return statuses


async def slow_and_signed(service: Service):
    """Fifty tricklers, then the signed webhooks while they trickle."""
    started: asyncio.Queue = asyncio.Queue()
    signed_done = asyncio.Event()
    # Half to WhatsApp with a made-up signature (checked once the body is in), half to
    # Telegram with the right secret (checked first), so both bodies are waited for.
    kinds = [
        ("/webhooks/whatsapp", "X-Twilio-Signature: bm90IGEgc2lnbmF0dXJl"),
        ("/webhooks/telegram", f"X-Telegram-Bot-Api-Secret-Token: {SECRET_TOKEN}"),
    ]
    tricklers = [
        asyncio.create_task(trickle(service.port, *kinds[n % 2], started, signed_done))
        for n in range(TRICKLERS)
    ]
    for _ in range(TRICKLERS):  # every trickler has sent its headers and a first byte
        await started.get()
    statuses = await asyncio.to_thread(send_signed, service)
    health = await asyncio.to_thread(service.http.get, "/healthz")
    signed_done.set()
    return statuses, health.status_code, await asyncio.gather(*tricklers)


def test_bodies_trickled_over_fifty_connections_do_not_hold_up_signed_webhooks(
    tmp_path, database_url, provider
):
    service = slow_service(tmp_path, database_url, provider).start()
    try:
        statuses, health, tricklers = asyncio.run(slow_and_signed(service))
        after = WhatsAppCitizen(service, "+50370009999")
        assert after.post(after.form("hola")).status_code == 200  # and it still serves
    finally:
        service.stop()

    assert statuses == [200] * 10 and health == 200
    outcomes = Counter(outcome for outcome, _ in tricklers)
    assert set(outcomes) <= {"408", "closed"}, outcomes
    # Every trickler was still being read when the last signed webhook had its answer.
    assert all(signed_first for _, signed_first in tricklers)

    database = Database(database_url)
    stored = database.incoming_per_citizen()
    database.close()
    assert Counter(channel for channel, _ in stored) == {"whatsapp": 6, "telegram": 5}
    assert set(stored.values()) == {1}
    log = service.log_text()
    assert "Traceback" not in log and "408 body too slow" in log


def test_an_address_sending_many_forged_webhooks_is_slowed_and_no_one_else(
    tmp_path, database_url, provider
):
    service = Service(tmp_path, database_url, provider).start()
    # The forger writes from 127.0.0.2, everyone else from 127.0.0.1 (Linux routes all of
    # 127.0.0.0/8 to the loopback interface).
    forger = httpx.Client(
        base_url=service.url,
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
        timeout=120,  # bounds a hang only
    )
    url = service.url + "/webhooks/whatsapp"
    ana = WhatsAppCitizen(service, "+50370005555")
    luis = TelegramCitizen(service, 880_001)
    try:

        def forge() -> httpx.Response:
            form = ana.form("hola")
            return forger.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form, "x")})

        assert [forge().status_code for _ in range(FAILURES)] == [403] * FAILURES
        slowed = forge()
        assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
        wrong_secret = {"X-Telegram-Bot-Api-Secret-Token": "adivinado"}
        update = luis.message(text="hola")
        assert forger.post("/webhooks/telegram", json=update, headers=wrong_secret).status_code == (
            429
        )

        # Correctly signed requests from the slowed address are served: Twilio and Telegram
        # send from shared addresses that someone else's account could make forge requests.
        form = ana.form("hola")
        signed = {"X-Twilio-Signature": sign(url, form)}
        assert forger.post(url, data=form, headers=signed).status_code == 200
        secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}
        assert forger.post("/webhooks/telegram", json=update, headers=secret).status_code == 200

        # Another address is neither slowed nor refused.
        assert ana.post(ana.form("hola"), signature="x").status_code == 403
        assert ana.post(ana.form("otra vez")).status_code == 200
        assert luis.post(luis.message(text="otra vez")).status_code == 200
    finally:
        forger.close()
        service.stop()

    database = Database(database_url)
    stored = database.incoming_per_citizen()
    database.close()
    assert sorted(stored.values()) == [2, 2]  # each citizen's two signed messages, once each
    log = service.log_text()
    assert log.count(f"{FAILURES} forged requests within a minute from 127.0.0.2") == 1
    assert "Traceback" not in log


HEADER_LIMIT = 3  # server.body_timeout_seconds in the next test: headers have the same limit


async def held(port: int, dribble: bytes | None) -> str:
    """Open a connection and send nothing (None) or a request's headers a byte every second;
    "closed" once the service closes it, "open" if it is still open when the client gives up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    give_up, sent = loop.time() + HEADER_LIMIT + 60, 0
    try:
        while loop.time() < give_up:
            try:
                if not await asyncio.wait_for(reader.read(100), 1.0):
                    return "closed"
            except TimeoutError:
                if dribble is not None:
                    writer.write(dribble[sent % len(dribble) : sent % len(dribble) + 1])
                    sent += 1
                    await writer.drain()
        return "open"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    finally:
        writer.close()


def test_connections_that_send_no_request_or_trickle_its_headers_are_closed(
    tmp_path, database_url, provider
):
    service = Service(tmp_path, database_url, provider)
    service.env["TA_SERVER__BODY_TIMEOUT_SECONDS"] = str(HEADER_LIMIT)
    service.start()
    headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200

    async def both():
        return await asyncio.gather(held(service.port, None), held(service.port, headers))

    try:
        silent, trickled = asyncio.run(both())
        ana = WhatsAppCitizen(service, "+50370004444")
        assert ana.post(ana.form("hola")).status_code == 200  # a real request is served
    finally:
        service.stop()
    assert (silent, trickled) == ("closed", "closed")
    assert "Traceback" not in service.log_text()
