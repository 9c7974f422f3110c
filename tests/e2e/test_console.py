"""The console command as a person uses it: a real process, pipes, a temporary database."""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.helpers import HASH_SECRET, POTHOLE

SCRIPT = Path(sys.executable).with_name("telefono-abierto")
COMMAND = str(SCRIPT) if SCRIPT.exists() else shutil.which("telefono-abierto")


@pytest.fixture
def environment(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=database_url, TA_PRIVACY__HASH_SECRET=HASH_SECRET)
    return env


@pytest.fixture
def sqlite_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=f"sqlite:///{tmp_path / 'ta.db'}")
    return env


def telefono(env, *args, stdin="", cwd=None):
    return subprocess.run(
        [COMMAND, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300, cwd=cwd
    )  # bounds a hang: a busy machine took over a minute to start Python and its imports


def test_the_readme_transcript_ends_with_a_receipt_that_cases_show_confirms(environment, tmp_path):
    chat = telefono(
        environment, "chat", "--as", "7001", stdin="\n".join(POTHOLE) + "\n", cwd=tmp_path
    )
    assert chat.returncode == 0, chat.stderr
    lines = chat.stdout.splitlines()
    assert lines and all(line.startswith("bot> ") for line in lines)
    assert any(line.startswith("bot> Folio: TA-") for line in lines)
    folio = next(line.split(": ")[1] for line in lines if line.startswith("bot> Folio: "))
    due_line = next(line for line in lines if "Fecha límite de respuesta" in line)

    shown = telefono(environment, "cases", "show", folio, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Caso {folio}" in shown.stdout and "San Miguel" in shown.stdout
    listed = json.loads(telefono(environment, "cases", "list", "--json", cwd=tmp_path).stdout)
    (case,) = listed
    day, month, year = case["due_date"][8:10], case["due_date"][5:7], case["due_date"][:4]
    assert f"{day}/{month}/{year}" in due_line
    assert f"Vence: {due_line.split(': ')[1]}" in shown.stdout
    assert {
        "folio",
        "type",
        "topic",
        "urgency",
        "status",
        "channel",
        "created_at",
        "due_date",
        "assignee",
    } <= case.keys()
    assert (case["type"], case["status"], case["channel"]) == ("solicitud", "recibido", "console")


def test_each_line_is_answered_before_the_next_is_read(sqlite_environment, tmp_path):
    process = subprocess.Popen(
        [COMMAND, "chat", "--as", "7002"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=sqlite_environment,
        cwd=tmp_path,
    )
    pending = b""

    def answer_to(line: str, last: str) -> list[str]:
        nonlocal pending
        process.stdin.write(line.encode() + b"\n")
        process.stdin.flush()
        received: list[str] = []
        deadline = time.monotonic() + 180  # bounds a hang (the first answer waits for the start)
        while last not in received:
            while b"\n" not in pending:
                ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
                assert ready, f"no complete answer to {line!r}; got {received}"
                chunk = os.read(process.stdout.fileno(), 65536)
                assert chunk, f"the chat ended while answering {line!r}"
                pending += chunk
            raw, pending = pending.split(b"\n", 1)
            received.append(raw.decode())
        return received

    assert "bot> 1. Sí, acepto" in answer_to("hola", "bot> 2. No")
    assert "bot> 1. Reportar un problema" in answer_to("si", "bot> 4. Información")
    process.stdin.close()
    assert process.wait(180) == 0


def test_nonsense_never_breaks_the_chat(environment, tmp_path):
    lines = [
        "asdf",
        "",
        "😀😀",
        "x" * 10_000,
        "hola",
        "si",
        "\t",
        "1",
        "???",
        "listo",
        "/ubicacion 999,abc",
        "/foto /no/existe.jpg",
        "hay un hoyo en la calle del mercado",
        "listo",
        "si",
        "asdf",
        "Santa Ana, barrio San Rafael",
        "blablabla 999",
        "omitir",
    ]
    chat = telefono(
        environment, "chat", "--as", "7003", stdin="\n".join(lines) + "\n", cwd=tmp_path
    )
    assert chat.returncode == 0 and "Traceback" not in chat.stderr
    assert "bot> Folio: TA-" in chat.stdout
    assert "bot> Use /ubicacion LAT,LON" in chat.stdout and "No existe el archivo" in chat.stdout


def test_a_photo_and_a_location_can_be_simulated(environment, tmp_path):
    photo = tmp_path / "hoyo.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake jpeg")
    lines = [
        "hola",
        "si",
        "1",
        "hay un hoyo en la calle",
        f"/foto {photo}",
        "/ubicacion 13.70,-89.20",
        "listo",
        "si",
        "omitir",
        "omitir",
    ]
    chat = telefono(
        environment, "chat", "--as", "7004", stdin="\n".join(lines) + "\n", cwd=tmp_path
    )
    assert "bot> Recibimos su archivo" in chat.stdout
    shown = telefono(environment, "cases", "show", "TA-2026-000001", cwd=tmp_path).stdout
    if "TA-2026" not in shown:  # the test may run in another year
        folio = next(
            line.split(": ")[1]
            for line in chat.stdout.splitlines()
            if line.startswith("bot> Folio: ")
        )
        shown = telefono(environment, "cases", "show", folio, cwd=tmp_path).stdout
    assert "photo image/jpeg" in shown and "13.7, -89.2" in shown


def test_a_photo_from_the_console_is_stored_at_once_and_its_path_is_shown_nowhere(
    environment, tmp_path
):
    """F7 of the privacy attack: `/foto PATH` was kept as a file:// URI, never fetched, and
    `cases show` printed it: a home folder names the person who sent the photo."""
    folder = tmp_path / "Maria Lopez" / "Fotos"
    folder.mkdir(parents=True)
    photo = folder / "denuncia del puente.jpg"
    Image.new("RGB", (32, 24), (10, 200, 30)).save(photo, "JPEG")
    lines = ["hola", "si", "1", "hay un hoyo en la calle", f"/foto {photo}", "listo", "si"]
    lines += ["omitir", "omitir"]
    chat = telefono(
        environment, "chat", "--as", "7014", stdin="\n".join(lines) + "\n", cwd=tmp_path
    )
    folio = next(
        line.split(": ")[1] for line in chat.stdout.splitlines() if line.startswith("bot> Folio: ")
    )
    shown = telefono(environment, "cases", "show", folio, cwd=tmp_path).stdout
    assert "photo image/jpeg" in shown
    assert "Maria" not in shown and "file:" not in shown and "Fotos" not in shown
    stored = [p for p in (tmp_path / "data" / "media").glob("*/*") if p.suffix in (".jpg", ".jpeg")]
    assert len(stored) == 1 and stored[0].read_bytes() == photo.read_bytes()
    assert stored[0].name in shown


def test_cases_export_gives_one_row_per_case_in_csv_and_json(environment, tmp_path):
    for person in ("7005", "7006"):
        telefono(
            environment,
            "chat",
            "--as",
            person,
            stdin="\n".join(POTHOLE) + "\n",
            cwd=tmp_path,
        )
    as_csv = telefono(environment, "cases", "export", "--format", "csv", cwd=tmp_path)
    assert as_csv.returncode == 0
    header, *rows = as_csv.stdout.strip().splitlines()
    # For Excel: a byte-order mark, Spanish headers, times as the office reads them.
    assert header.startswith("\ufeffFolio,Tipo,Tema,Urgencia,Estado,Canal,Recibido,Vence")
    assert len(rows) == 2
    as_json = json.loads(
        telefono(environment, "cases", "export", "--format", "json", cwd=tmp_path).stdout
    )
    received = datetime.fromisoformat(as_json[0]["created_at"])
    local = received.astimezone(ZoneInfo("America/El_Salvador")).strftime("%Y-%m-%d %H:%M")
    assert f",{local}," in rows[0]
    listed = telefono(environment, "cases", "list", cwd=tmp_path).stdout.splitlines()
    day_and_hour = received.astimezone(ZoneInfo("America/El_Salvador")).strftime("%d/%m/%Y %H:%M")
    assert day_and_hour in listed[1]
    assert [c["municipality"] for c in as_json] == ["San Miguel Centro", "San Miguel Centro"]
    assert [c["district"] for c in as_json] == ["San Miguel", "San Miguel"]
    empty = json.loads(
        telefono(
            environment,
            "cases",
            "export",
            "--format",
            "json",
            "--from",
            "2001-01-01",
            "--to",
            "2001-12-31",
            cwd=tmp_path,
        ).stdout
    )
    assert empty == []


def test_run_without_channels_opens_the_console_chat_and_says_how_to_enable_them(
    sqlite_environment, tmp_path
):
    run = telefono(sqlite_environment, "run", stdin="hola\n", cwd=tmp_path)
    assert run.returncode == 0
    assert "No hay canales activados" in run.stderr and "config.example.toml" in run.stderr
    assert "bot> ¡Hola! Le atiende Teléfono Abierto" in run.stdout


def test_the_default_database_is_created_under_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    assert telefono(env, "db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "data" / "telefono_abierto.db").exists()


@pytest.mark.parametrize(
    ("variables", "config", "key"),
    [
        ({"TA_INSTITUTION__COUNTRY": "XX"}, "", "institution.country"),
        ({"TA_DATABASE__URL": "no-es-una-url"}, "", "database.url"),
        ({"TA_DATABASE_URL": "sqlite:///x.db"}, "", "TA_DATABASE_URL"),
        ({"TA_CLASSIFIER__TOPICS": "puentes,otro"}, "", "classifier"),
        ({}, "[deadlines]\nurgente = 3\n", "deadlines.urgente"),
        ({}, "[classifier]\ntopics = []\n", "classifier.topics"),
    ],
)
def test_a_wrong_setting_stops_with_one_line_naming_the_key(
    sqlite_environment, tmp_path, variables, config, key
):
    sqlite_environment.update(variables)
    if config:
        (tmp_path / "config.toml").write_text(config)
    result = telefono(sqlite_environment, "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and key in result.stderr
    assert "Traceback" not in result.stderr


def test_staff_commands_on_a_database_never_migrated_say_what_to_do(sqlite_environment, tmp_path):
    result = telefono(sqlite_environment, "cases", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "La base de datos no está al día: ejecute primero telefono-abierto db upgrade\n"
    )


def test_an_unknown_folio_is_one_line_and_a_non_zero_exit(sqlite_environment, tmp_path):
    telefono(sqlite_environment, "db", "upgrade", cwd=tmp_path)
    result = telefono(sqlite_environment, "cases", "show", "TA-2026-999999", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == "No existe el caso TA-2026-999999\n"


def test_bytes_that_are_not_utf8_are_read_as_replacement_characters(sqlite_environment, tmp_path):
    result = subprocess.run(
        [COMMAND, "chat", "--as", "7007"],
        input=b"hola\n\xff\xfe\x00\nsi\n",
        capture_output=True,
        env=sqlite_environment,
        cwd=tmp_path,
        timeout=300,  # bounds a hang only
    )
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert "bot> 1. Reportar un problema" in result.stdout.decode()


def test_in_a_terminal_a_staff_reply_is_printed_without_the_citizen_writing_again(
    sqlite_environment, tmp_path
):
    """A person trying it: the citizen in a terminal (`chat`), staff answering from elsewhere
    (here `cases reply`); the answer shows up in the terminal on its own, as on a phone."""
    import pty

    controller, terminal = pty.openpty()
    chat = subprocess.Popen(
        [COMMAND, "chat", "--as", "7003"],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        env=sqlite_environment,
        cwd=tmp_path,
    )
    os.close(terminal)
    seen = b""

    def read_until(text: str, timeout: float = 180) -> str:  # the timeout bounds a hang only
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                seen += os.read(controller, 65536)
        return seen.decode(errors="replace")

    try:
        os.write(controller, ("\n".join(POTHOLE) + "\n").encode())
        folio = re.search(r"Folio: (TA-\d{4}-\d{6})", read_until("Para saber cómo va"))[1]
        replied = telefono(
            sqlite_environment, "cases", "reply", folio, "Mañana pasa la cuadrilla", cwd=tmp_path
        )
        assert replied.returncode == 0, replied.stderr
        # Nothing more is typed: the reply arrives by itself.
        assert "Mañana pasa la cuadrilla" in read_until("Mañana pasa la cuadrilla")
        shown = telefono(sqlite_environment, "cases", "show", folio, cwd=tmp_path)
        assert "Mañana pasa la cuadrilla" in shown.stdout and "(por enviar)" not in shown.stdout
        os.write(controller, b"/salir\n")
        assert chat.wait(timeout=120) == 0  # bounds a hang only
    finally:
        if chat.poll() is None:
            chat.kill()
        os.close(controller)
