"""The real service in a process of its own, the provider stand-in, and citizens who write to
it on WhatsApp (signed Twilio forms) and Telegram (updates with the secret header)."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.builders import (
    TWILIO_SIGNATURE,
    private_chat,
    telegram_button,
    telegram_headers,
    telegram_update,
    telegram_user,
    twilio_form,
    twilio_signature,
)
from tests.helpers import HASH_SECRET
from tests.provider import Provider

SCRIPT = Path(sys.executable).with_name("telefono-abierto")
COMMAND = str(SCRIPT) if SCRIPT.exists() else shutil.which("telefono-abierto")

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests"
OUR_NUMBER = "+50322220000"
BOT_TOKEN = "123456789:TEST-token-for-the-e2e-tests"
SECRET_TOKEN = "telegram-secret-for-tests"
STAFF_CHAT = -1000
BOT_USERNAME = "ta_pruebas_bot"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """`telefono-abierto run` with both channels, pointed at the provider stand-in."""

    def __init__(self, tmp_path: Path, database_url: str, provider: Provider, **extra) -> None:
        self.tmp_path = tmp_path
        self.provider = provider
        self.log = tmp_path / "service.log"
        self.config = tmp_path / "config.toml"
        self.telegram_mode = extra.pop("telegram", {}).get("mode", "webhook")
        self.template_sid = extra.pop("template_sid", "")
        # Notices go at once unless a test looks at how they are gathered.
        self.gather = extra.pop("notice_gather_seconds", 0)
        self.http = httpx.Client()  # replaced by _listen_on
        self._listen_on(free_port())
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
        # Secrets come from the environment, as the README's deployment instructions say.
        self.env.update(
            TA_CONFIG=str(self.config),
            TA_DATABASE__URL=database_url,
            TA_WHATSAPP__ACCOUNT_SID=ACCOUNT_SID,
            TA_WHATSAPP__AUTH_TOKEN=AUTH_TOKEN,
            TA_TELEGRAM__TOKEN=BOT_TOKEN,
            TA_TELEGRAM__SECRET_TOKEN=SECRET_TOKEN,
            TA_PRIVACY__HASH_SECRET=HASH_SECRET,
        )
        self.process: subprocess.Popen | None = None

    def _listen_on(self, port: int) -> None:
        """The port the service is to listen on, in its configuration and the test's client."""
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config.write_text(
            f"""
[server]
port = {port}
public_url = "{self.url}"

[whatsapp]
enabled = true
from_number = "{OUR_NUMBER}"
api_base_url = "{self.provider.url}"
template_sid = "{self.template_sid}"

[telegram]
enabled = true
mode = "{self.telegram_mode}"
api_base_url = "{self.provider.url}/bot"
staff_chat_id = {STAFF_CHAT}
bot_username = "{BOT_USERNAME}"

[media]
directory = "{self.tmp_path / "media"}"

[limits]
notice_gather_seconds = {self.gather}
""",
            encoding="utf-8",
        )
        self.http.close()
        # A hang bound, not a speed: the service answers in milliseconds when the machine is
        # idle, and a busy one must not turn that into a failure. A connection for each
        # request: one kept open would be closed by the service after 5 s idle, and a request
        # sent just then would find it closed (as a test waiting on replies often does).
        self.http = httpx.Client(
            base_url=self.url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def start(self) -> Service:
        """Start the service and wait until it answers. The free port was only free when it
        was picked: when another process (another test worker, say) took it in the meantime,
        the service cannot listen, and is started again on another one."""
        for _ in range(5):
            if self._start():
                return self
            self._listen_on(free_port())
        raise AssertionError(f"the service found no free port:\n{self.log_text()}")

    def _start(self) -> bool:
        """True once the service answers; False when it exited because its port was taken."""
        seen = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [COMMAND, "run"], env=self.env, cwd=self.tmp_path, stdout=log, stderr=log
            )
        # Bounds a hang only: on a busy machine (load average 80 was seen) starting Python and
        # its imports alone can take tens of seconds.
        deadline = time.monotonic() + 180
        # Asked only once this process says it listens: another service on the port (one
        # that took it first) would answer too.
        listening = f"listening on 127.0.0.1:{self.port};"
        while time.monotonic() < deadline:
            said = self.log.read_bytes()[seen:].decode("utf-8", "replace")
            if self.process.poll() is not None:
                if "address already in use" in said.lower():
                    return False
                raise AssertionError(f"the service exited:\n{self.log_text()}")
            if listening in said:
                try:
                    if self.http.get("/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        self.process.kill()  # not left running after the test
        self.process.wait()
        raise AssertionError(f"the service did not start:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.http.close()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [COMMAND, *args], env=self.env, cwd=self.tmp_path, capture_output=True, text=True
        )

    def wait_for_log(self, line: str, timeout: float = 120.0) -> None:
        """Until the service logged `line`, looking every 0.1 s (the number of looks only
        bounds a hang)."""
        for _ in range(int(timeout / 0.1)):
            if line in self.log_text():
                return
            time.sleep(0.1)
        raise AssertionError(f"the service never logged {line!r}")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return twilio_signature(url, params, token)


class WhatsAppCitizen:
    """A person writing from WhatsApp; each message is a form Twilio signs."""

    def __init__(self, service: Service, number: str, name: str = "Ana") -> None:
        self.service, self.number, self.name = service, number, name

    def form(self, body: str = "", **extra: str) -> dict:
        return twilio_form(
            body,
            sender=self.number,
            to=OUR_NUMBER,
            account_sid=ACCOUNT_SID,
            profile_name=self.name,
            **extra,
        )

    def post(self, form: dict, signature: str | None = None, path="/webhooks/whatsapp"):
        signature = sign(self.service.url + path, form) if signature is None else signature
        return self.service.http.post(path, data=form, headers={TWILIO_SIGNATURE: signature})

    def send(self, body: str = "", **extra: str) -> httpx.Response:
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.status_code
        return response

    def replies(self) -> list[str]:
        to = f"whatsapp:{self.number}"
        return [
            c.params.get("Body", "")
            for c in self.service.provider.sent("twilio")
            if c.params.get("To") == to
        ]


_update_ids = itertools.count(1000)


class TelegramCitizen:
    """A person writing to the bot in a private chat."""

    def __init__(self, service: Service, user_id: int, name: str = "Luis") -> None:
        self.service, self.user_id, self.name = service, user_id, name

    def user(self) -> dict:
        return telegram_user(self.user_id, self.name)

    def message(self, **content) -> dict:
        return telegram_update(
            user=self.user(),
            chat=private_chat(self.user_id, first_name=self.name),
            update_id=next(_update_ids),
            message_id=next(_update_ids),
            date=int(time.time()),
            **content,
        )

    def button(self, data: str) -> dict:
        return telegram_button(
            data,
            user=self.user(),
            update_id=next(_update_ids),
            query_id=str(next(_update_ids)),
            chat=private_chat(self.user_id),
            date=int(time.time()),
        )

    def post(self, update: dict, secret: str | None = SECRET_TOKEN) -> httpx.Response:
        headers = {} if secret is None else telegram_headers(secret)
        return self.service.http.post("/webhooks/telegram", json=update, headers=headers)

    def send(self, text: str | None = None, **content) -> httpx.Response:
        update = self.message(**({"text": text} if text is not None else {}), **content)
        response = self.post(update)
        assert response.status_code == 200, response.status_code
        return response

    def press(self, data: str) -> httpx.Response:
        response = self.post(self.button(data))
        assert response.status_code == 200, response.status_code
        return response

    def replies(self) -> list[dict]:
        return [
            c.params
            for c in self.service.provider.sent("telegram")
            if int(c.params["chat_id"]) == self.user_id
        ]


class TelegramStaff(TelegramCitizen):
    """A staff member writing in the staff chat: the chat is the group, `from` is the user."""

    def message(self, **content) -> dict:
        update = super().message(**content)
        update["message"]["chat"] = {"id": STAFF_CHAT, "type": "supergroup", "title": "Equipo"}
        return update

    def button(self, data: str) -> dict:
        update = super().button(data)
        update["callback_query"]["message"]["chat"] = {"id": STAFF_CHAT, "type": "supergroup"}
        return update

    def chat(self) -> list[dict]:
        """What the bot posted in the staff chat."""
        return [
            c.params
            for c in self.service.provider.sent("telegram")
            if int(c.params["chat_id"]) == STAFF_CHAT
        ]
