"""A new user's first look at the web desk: an administrator made from the command line, `run`
with no channel (the console chat in the terminal, the desk in the browser), a citizen's case
arriving in the Bandeja."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime

import httpx
import pyotp
import pytest

from tests.e2e.channels import COMMAND, free_port
from tests.helpers import HASH_SECRET, POTHOLE

PASSWORD = "una clave muy larga para la mesa"


@pytest.fixture
def environment(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(
        TA_DATABASE__URL=database_url,
        TA_PRIVACY__HASH_SECRET=HASH_SECRET,
        TA_SERVER__PORT=str(free_port()),
    )
    return env


def telefono(env, *args, stdin="", cwd=None):
    return subprocess.run(
        [COMMAND, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300, cwd=cwd
    )


def started(env, tmp_path, *args: str, stdin=subprocess.PIPE) -> subprocess.Popen:
    """`telefono-abierto run` and its options, left running."""
    return subprocess.Popen(
        [COMMAND, "run", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def answered(browser: httpx.Client, path: str) -> httpx.Response | None:
    """The page, or None while the service is not listening yet."""
    try:
        return browser.get(path)
    except httpx.TransportError:
        return None


def wait_for(check, timeout: float = 180):
    """Until `check()` gives something; the timeout bounds a hang only."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("not within the time allowed")


def test_a_first_administrator_signs_in_and_sees_the_console_citizens_case(environment, tmp_path):
    added = telefono(
        environment,
        "staff",
        "add",
        "--name",
        "Marta Ríos",
        "--role",
        "admin",
        "--username",
        "admin",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert (
        telefono(environment, "staff", "password", "admin", stdin=PASSWORD + "\n").returncode == 0
    )
    enrolled = telefono(environment, "staff", "totp", "admin", cwd=tmp_path)
    assert "otpauth://totp/" in enrolled.stdout and "█" in enrolled.stdout
    secret = re.search(r"Secreto: ([A-Z2-7]+)", enrolled.stdout)[1]

    run = started(environment, tmp_path)
    base = f"http://127.0.0.1:{environment['TA_SERVER__PORT']}"
    try:
        with httpx.Client(base_url=base, timeout=120) as browser:
            form = wait_for(lambda: answered(browser, "/mesa/login"))
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
            run.stdin.write("\n".join(POTHOLE) + "\n")
            run.stdin.flush()
            code = pyotp.TOTP(secret).at(datetime.now(UTC))
            signed = browser.post(
                "/mesa/login",
                data={"csrf": csrf, "username": "admin", "password": PASSWORD, "otp": code},
            )
            assert signed.status_code == 303
            queue = wait_for(
                lambda: (
                    (page := browser.get("/mesa/bandeja/filas")).status_code == 200
                    and "TA-" in page.text
                    and page
                )
            )
            folio = re.search(r"TA-\d{4}-\d{6}", queue.text)[0]
            case = browser.get(f"/mesa/casos/{folio}")
            assert "hoyo enorme" in case.text and "vence el" in case.text
    finally:
        run.stdin.close()
        run.wait(timeout=120)  # bounds a hang only
    assert "/mesa/" in run.stderr.read()


def test_the_desk_alone_is_served_without_a_terminal_until_the_service_is_stopped(
    environment, tmp_path
):
    """As systemd starts it: no channel, no terminal (standard input at its end at once). The
    console chat would end there; `--no-console` serves the desk until it is told to stop."""
    run = started(environment, tmp_path, "--no-console", stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{environment['TA_SERVER__PORT']}"
    try:
        with httpx.Client(base_url=base, timeout=120) as browser:
            assert wait_for(lambda: answered(browser, "/healthz")).json()["status"] == "ok"
            assert run.poll() is None  # still serving, its input long ended
            assert browser.get("/mesa/login").status_code == 200
    finally:
        run.terminate()
        run.wait(timeout=120)  # bounds a hang only
    # Stopped as asked (uvicorn ends by the signal it was sent, once it shut down cleanly).
    assert run.returncode in (0, -signal.SIGTERM)
    assert "bot>" not in run.stdout.read()  # no chat was opened
