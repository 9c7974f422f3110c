"""Staff work from the terminal: `staff add` and `cases ...` as real processes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("telefono-abierto")
COMMAND = str(SCRIPT) if SCRIPT.exists() else shutil.which("telefono-abierto")


@pytest.fixture
def run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=f"sqlite:///{tmp_path / 'ta.db'}")

    def telefono(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [COMMAND, *args], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
        )

    telefono("db", "upgrade")
    return telefono


def test_a_phone_call_is_logged_assigned_answered_and_closed_from_the_terminal(run):
    assert run("staff", "add", "--name", "Ana López", "--role", "agent").stdout == (
        "Personal registrado: #1 Ana López (agente)\n"
    )
    assert run("staff", "add", "--name", "Beto", "--role", "jefe").returncode == 1
    call = "pregunta cuándo reparan el puente de Apopa"
    new = run("cases", "new", "--channel", "telefono", "--type", "consulta", "--text", call)
    assert new.stdout.startswith("Caso registrado: TA-")
    folio = new.stdout.split(": ")[1].strip()
    assert run("cases", "assign", folio, "Ana López").returncode == 0
    mine = json.loads(run("cases", "list", "--assignee", "Ana López", "--json").stdout)
    assert [(c["folio"], c["status"], c["assignee"]) for c in mine] == [
        (folio, "asignado", "Ana López")
    ]
    refused = run("cases", "status", folio, "descartado")
    assert (refused.returncode, refused.stderr) == (
        1,
        "Para descartar un caso hace falta el motivo.\n",
    )
    assert (
        run("cases", "reply", folio, "El puente abre el lunes", "--as", "Ana López").returncode == 0
    )
    closed = run("cases", "close", folio, "--resolution", "Se informó la fecha", "--as", "1")
    assert closed.returncode == 0, closed.stderr
    reopen = run("cases", "status", folio, "en_proceso", "--as", "Ana López")
    assert (reopen.returncode, reopen.stderr) == (
        1,
        f"Solo un supervisor puede reabrir el caso {folio}.\n",
    )
    history = run("cases", "show", folio).stdout
    assert "Ana López: Cambio de estado a Cerrado — Se informó la fecha" in history
    assert "consola: Caso asignado — Ana López" in history


# What Click and Typer write in English, and must not reach a ministry's staff.
CLICK_ENGLISH = (
    "Usage",
    "Options",
    "Arguments",
    "Commands",
    "Show this message",
    "Missing",
    "No such",
    "Invalid value",
    "Did you mean",
    "Possible options",
    "required",
    "default",
    "Try '",
    "for help",
    "unexpected",
    "requires an argument",
    "[OPTIONS]",
    "COMMAND",
    "<str>",
    "<int>",
)


def english_in(text: str) -> list[str]:
    return [word for word in CLICK_ENGLISH if word in text]


def test_help_pages_and_usage_errors_speak_spanish(run):
    root = run("--help")
    assert root.returncode == 0
    assert root.stdout.startswith("Uso: telefono-abierto [OPCIONES] COMANDO [ARGUMENTOS]...\n")
    assert "Comandos:" in root.stdout and "Muestra esta ayuda y termina." in root.stdout
    assert english_in(root.stdout) == []

    close = run("cases", "close", "--help")
    assert close.stdout.startswith("Uso: telefono-abierto cases close [OPCIONES] FOLIO\n")
    assert "  FOLIO  [obligatorio]" in close.stdout
    assert "--resolution RESOLUCIÓN" in close.stdout
    assert english_in(close.stdout) == []
    assert "[si no se indica: md]" in run("tally", "--help").stdout

    # Mistakes a person makes at the terminal: the usage line, where the help is, and why.
    assert run("cases", "list", "--bogus").stderr == (
        "Uso: telefono-abierto cases list [OPCIONES]\n"
        "Ayuda: telefono-abierto cases list --help\n"
        "\n"
        "Error: No existe la opción --bogus.\n"
    )
    mistakes = {
        ("cases", "close", "TA-2026-000001"): "Error: Falta la opción --resolution.",
        ("cases", "show"): "Error: Falta FOLIO.",
        ("cases", "list", "--stat", "x"): "¿Quiso decir --status?",
        ("staff", "add", "--name", "Ana", "--role", "agent", "--telegram-id", "ana"): (
            "Error: Valor no válido para --telegram-id: debe ser un número entero."
        ),
        ("cases", "reply", "TA-2026-000001", "Mañana", "pasa"): "Error: Sobra lo siguiente: pasa.",
        ("casos", "list"): "Error: No existe el comando «casos».",
        ("cases", "list", "--json=sí"): "Error: La opción --json no lleva valor.",
        ("cases", "list", "--config"): "Error: La opción --config necesita un valor.",
    }
    for args, said in mistakes.items():
        wrong = run(*args)
        assert (wrong.returncode, wrong.stdout) == (2, ""), args
        assert said in wrong.stderr and english_in(wrong.stderr) == [], wrong.stderr
    no_command = run("cases")
    assert no_command.stderr.startswith("Uso: telefono-abierto cases [OPCIONES] COMANDO")
    assert english_in(no_command.stderr) == []
