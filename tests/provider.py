"""A local stand-in for Twilio's REST API and Telegram's Bot API.

It answers like the providers (the real `twilio` and `python-telegram-bot` clients talk to it),
records every call, can be told to fail the next calls (429 with retry_after, 500, refused) or
to refuse connections for a while (`refuse`, `accept`), and
serves media files. Telegram updates queued with `push_update` are handed out by getUpdates.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

# The Bot API methods that send a message (and may be told to fail).
SENDS = ("sendMessage", "sendPhoto", "sendDocument")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@dataclass
class Call:
    api: str  # "telegram" or "twilio"
    method: str  # sendMessage, Messages.json, getFile...
    params: dict
    at: float = field(default_factory=time.monotonic)
    answered: int = 200
    result_id: str = ""  # the id the provider gave what was sent (a sid, a message_id)


class Provider:
    def __init__(
        self, bot_token: str, account_sid: str, port: int = 0, *, keep_alive: bool = False
    ) -> None:
        """`keep_alive`: HTTP/1.1 connections that stay open, as the real APIs keep them (the
        benchmark); by default each call has its own, so that `refuse()` cuts them all."""
        self.bot_token = bot_token
        self.keep_alive = keep_alive
        self.bot_id = int(bot_token.partition(":")[0])
        self.account_sid = account_sid
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict]]] = {"telegram": [], "twilio": []}
        self.updates: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.lock = threading.Condition()
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> Provider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def refuse(self) -> None:
        """The host is down: connections are refused until `accept()`."""
        self.server.shutdown()
        self.server.server_close()

    def accept(self) -> None:
        """Back up, on the same port, with the same records."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.server.server_port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail_next(self, api: str, *answers: tuple[int, dict]) -> None:
        """The next calls to `api` that send messages get these answers instead of success."""
        with self.lock:
            self.failures[api].extend(answers)

    def push_update(self, update: dict) -> None:
        with self.lock:
            self.updates.append(update)
            self.lock.notify_all()

    def add_media(self, name: str, content: bytes, content_type: str) -> str:
        """Serve a file; returns the Twilio media URL for it."""
        self.media[name] = (content, content_type)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM1/Media/{name}"

    def sent(self, api: str) -> list[Call]:
        """Messages the provider accepted, in the order it accepted them."""
        method = "sendMessage" if api == "telegram" else "Messages.json"
        with self.lock:
            return [
                c for c in self.calls if c.api == api and c.method == method and c.answered < 300
            ]

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate, timeout: float = 120.0):
        """Wait until `predicate()` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("the provider did not see what was expected in time")

    # -- the HTTP side -------------------------------------------------------------------

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if provider.keep_alive else "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                provider._serve(self, "GET")

            def do_POST(self) -> None:
                provider._serve(self, "POST")

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler, verb: str) -> None:
        path = unquote(urlsplit(request.path).path)
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        params = _parse(request.headers.get("content-type", ""), body)
        if path.startswith(f"/bot{self.bot_token}/"):
            status, payload = self._telegram(path.rsplit("/", 1)[1], params)
            return _answer(request, status, json.dumps(payload).encode(), "application/json")
        if path.startswith(f"/file/bot{self.bot_token}/"):
            content, content_type = self.media.get(path.rsplit("/", 1)[1], (b"", ""))
            return _answer(request, 200 if content else 404, content, content_type)
        twilio_root = f"/2010-04-01/Accounts/{self.account_sid}/"
        if path == twilio_root + "Messages.json" and verb == "POST":
            status, payload = self._twilio_send(params)
            return _answer(request, status, json.dumps(payload).encode(), "application/json")
        if path.startswith(twilio_root) and "/Media/" in path:
            if not request.headers.get("authorization", "").startswith("Basic "):
                return _answer(request, 401, b"{}", "application/json")
            request.send_response(302)
            request.send_header("Location", f"/cdn/{path.rsplit('/', 1)[1]}")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return None
        if path.startswith("/cdn/"):
            content, content_type = self.media.get(path.rsplit("/", 1)[1], (b"", ""))
            return _answer(request, 200 if content else 404, content, content_type)
        return _answer(request, 404, b"{}", "application/json")

    def _record(
        self, api: str, method: str, params: dict, answered: int, result_id: str = ""
    ) -> None:
        with self.lock:
            self.calls.append(Call(api, method, params, answered=answered, result_id=result_id))

    def _planned_failure(self, api: str) -> tuple[int, dict] | None:
        with self.lock:
            return self.failures[api].pop(0) if self.failures[api] else None

    def _telegram(self, method: str, params: dict) -> tuple[int, dict]:
        if method in SENDS:
            failure = self._planned_failure("telegram")
            if failure is not None:
                self._record("telegram", method, params, failure[0])
                return failure
        sent_id = str(next(self._ids)) if method in SENDS else ""
        self._record("telegram", method, params, 200, sent_id)
        if method == "getMe":
            user = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Atención",
                "username": "ta_bot",
            }
            return 200, {"ok": True, "result": user}
        if method in SENDS:
            chat_id = int(params["chat_id"])
            result = {
                "message_id": int(sent_id),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            }
            if "text" in params:
                result["text"] = params["text"]
            return 200, {"ok": True, "result": result}
        if method == "editMessageReplyMarkup":
            # Telegram answers an edit of the bot's own message with the message as it now is.
            chat_id = int(params["chat_id"])
            result = {
                "message_id": int(params["message_id"]),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            }
            if "reply_markup" in params:
                result["reply_markup"] = json.loads(params["reply_markup"])
            return 200, {"ok": True, "result": result}
        if method == "getFile":
            name = params["file_id"]
            content, _ = self.media.get(name, (b"", ""))
            result = {
                "file_id": name,
                "file_unique_id": name,
                "file_size": len(content),
                "file_path": f"media/{name}",
            }
            return 200, {"ok": True, "result": result}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._updates(params)}
        return 200, {"ok": True, "result": True}  # setWebhook, deleteWebhook, answerCallbackQuery

    def _updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        with self.lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self.lock.wait(deadline - time.monotonic())
            return list(self.updates)

    def _twilio_send(self, params: dict) -> tuple[int, dict]:
        failure = self._planned_failure("twilio")
        if failure is not None:
            self._record("twilio", "Messages.json", params, failure[0])
            return failure
        sid = "SM" + uuid.uuid4().hex
        self._record("twilio", "Messages.json", params, 201, sid)
        payload = {
            "sid": sid,
            "account_sid": self.account_sid,
            "from": params.get("From"),
            "to": params.get("To"),
            "body": params.get("Body", ""),
            "status": "queued",
            "num_media": "0",
            "direction": "outbound-api",
        }
        return 201, payload


def telegram_error(status: int, retry_after: int | None = None) -> tuple[int, dict]:
    """An error answer as the Bot API gives it."""
    payload = {"ok": False, "error_code": status, "description": f"Error {status}"}
    if retry_after is not None:
        payload["description"] = f"Too Many Requests: retry after {retry_after}"
        payload["parameters"] = {"retry_after": retry_after}
    return status, payload


def twilio_error(status: int, code: int) -> tuple[int, dict]:
    """An error answer as Twilio's REST API gives it."""
    return status, {"code": code, "message": f"Error {code}", "status": status}


def _parse(content_type: str, body: bytes) -> dict:
    if content_type.startswith("multipart/"):
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict = {}
        for part in message.get_payload():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True)
            filename = part.get_filename()
            if filename is None:  # a plain field: text, as in a form
                params[name] = content.decode()
            else:  # a file: its bytes, and the name it was sent under
                params[name], params[f"{name}.filename"] = content, filename
        return params
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}")
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _answer(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    """Try the channels by hand: `serve` stands in for Twilio and Telegram and prints what the
    bot sends; `say` posts a signed WhatsApp message or a Telegram update to the service."""
    import argparse
    import os

    import httpx
    from twilio.request_validator import RequestValidator

    parser = argparse.ArgumentParser(prog="python -m tests.provider")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument("--quiet", action="store_true", help="print nothing (benchmarks)")
    serve.add_argument("--keep-alive", action="store_true", help="keep connections open")
    say = commands.add_parser("say")
    say.add_argument("--service", default="http://127.0.0.1:8080")
    who = say.add_mutually_exclusive_group(required=True)
    who.add_argument("--whatsapp", metavar="+NUMBER")
    who.add_argument("--telegram", metavar="USER_ID", type=int)
    say.add_argument("--group", metavar="CHAT_ID", type=int, help="Telegram: send from this group")
    say.add_argument("--button", action="store_true", help="Telegram: TEXT is a button's data")
    say.add_argument("text")
    args = parser.parse_args(argv)
    env = os.environ
    needed = {
        "serve": ("TA_TELEGRAM__TOKEN", "TA_WHATSAPP__ACCOUNT_SID"),
        "say": ("TA_WHATSAPP__AUTH_TOKEN", "TA_WHATSAPP__FROM_NUMBER")
        if getattr(args, "whatsapp", None)
        else ("TA_TELEGRAM__SECRET_TOKEN",),
    }[args.command]
    missing = [name for name in needed if not env.get(name)]
    if missing:
        parser.exit(
            2,
            f"Defina primero {', '.join(missing)} (vea docs/administrators.md).\n",
        )

    if args.command == "serve":
        token, sid = env["TA_TELEGRAM__TOKEN"], env["TA_WHATSAPP__ACCOUNT_SID"]
        provider = Provider(token, sid, args.port, keep_alive=args.keep_alive)
        print(f"Proveedor de prueba en {provider.url}", flush=True)
        seen = 0
        provider.start()
        try:
            while True:
                time.sleep(0.2)
                if args.quiet:
                    with provider.lock:
                        provider.calls.clear()
                    continue
                for call in provider.calls[seen:]:
                    if call.method in ("sendMessage", "Messages.json") and call.answered < 300:
                        to = call.params.get("chat_id") or call.params.get("To")
                        text = call.params.get("text") or call.params.get("Body", "")
                        markup = json.loads(call.params.get("reply_markup") or "{}")
                        for row in markup.get("inline_keyboard", []):
                            text += "\n" + " ".join(
                                f"[{b['text']}]"
                                + (f" ({b['callback_data']})" if "callback_data" in b else "")
                                for b in row
                            )
                        print(f"[{call.api} → {to}]\n{text}\n", flush=True)
                seen = len(provider.calls)
        except KeyboardInterrupt:
            provider.stop()
        return

    if args.whatsapp:
        url = args.service.rstrip("/") + "/webhooks/whatsapp"
        number = env.get("TA_WHATSAPP__FROM_NUMBER", "").removeprefix("whatsapp:")
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "From": f"whatsapp:{args.whatsapp}",
            "To": f"whatsapp:{number}",
            "Body": args.text,
            "NumMedia": "0",
        }
        # Twilio signs what it posts with the auth token, against the public URL.
        public = env.get("TA_SERVER__PUBLIC_URL", args.service).rstrip("/")
        signature = RequestValidator(env["TA_WHATSAPP__AUTH_TOKEN"]).compute_signature(
            public + "/webhooks/whatsapp", form
        )
        headers = {"X-Twilio-Signature": signature}
        response = httpx.post(url, data=form, headers=headers, timeout=30)
    else:
        user = {"id": args.telegram, "is_bot": False, "first_name": "Prueba"}
        chat: dict[str, object] = {"id": args.telegram, "type": "private"}
        if args.group is not None:
            chat = {"id": args.group, "type": "supergroup", "title": "Personal"}
        update_id = int(time.time() * 1000) % 2**31
        update: dict[str, object] = {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat,
                "from": user,
                "text": args.text,
            },
        }
        if args.button:
            query = {"id": str(update_id), "from": user, "chat_instance": "1", "data": args.text}
            query["message"] = {"message_id": 1, "date": int(time.time()), "chat": chat}
            update = {"update_id": update_id, "callback_query": query}
        headers = {"X-Telegram-Bot-Api-Secret-Token": env["TA_TELEGRAM__SECRET_TOKEN"]}
        url = args.service.rstrip("/") + "/webhooks/telegram"
        response = httpx.post(url, json=update, headers=headers, timeout=30)
    print(response.status_code)


if __name__ == "__main__":
    main()
