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
        "Personal registrado: #1 Ana López (agent)\n"
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
