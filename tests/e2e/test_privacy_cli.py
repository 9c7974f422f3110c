"""A citizen's rights exercised by staff from the terminal: `privacy show|erase|retention`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import create_app
from tests.helpers import POTHOLE, Citizen, make_settings

SCRIPT = Path(sys.executable).with_name("telefono-abierto")
COMMAND = str(SCRIPT) if SCRIPT.exists() else shutil.which("telefono-abierto")
NUMBER = "+50370001234"


@pytest.fixture
def database(tmp_path):
    """A database where Ana reported a pothole on WhatsApp and Luis said hello on Telegram."""
    url = f"sqlite:///{tmp_path / 'ta.db'}"
    app = create_app(make_settings(database={"url": url}))
    app.migrate()
    Citizen(app.dialogue, app.uow, address=NUMBER, channel="whatsapp").converse(*POTHOLE)
    Citizen(app.dialogue, app.uow, address="555001", channel="telegram").converse("hola", "si")
    app.engine.dispose()
    return url


@pytest.fixture
def run(tmp_path, database):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env.update(TA_DATABASE__URL=database)

    def telefono(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [COMMAND, *args], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
        )

    return telefono


def test_staff_show_and_erase_a_citizens_data_from_the_terminal(run):
    shown = run("privacy", "show", "--whatsapp", "+503 7000-1234")
    assert shown.returncode == 0, shown.stderr
    assert f"Número o usuario: {NUMBER}" in shown.stdout
    assert "Casos: TA-2026-000001" in shown.stdout
    assert "Descripción: la calle principal de la colonia Las Brisas tiene un hoyo" in shown.stdout
    assert "Lugar: San Miguel, colonia Las Brisas" in shown.stdout
    assert "la persona: San Miguel, colonia Las Brisas" in shown.stdout
    assert "no mostramos" not in shown.stdout  # the terminal shows every message
    assert "Número o usuario: 555001" in run("privacy", "show", "--telegram-id", "555001").stdout

    piped = run("privacy", "erase", "--whatsapp", NUMBER)
    assert piped.returncode == 1 and NUMBER in piped.stdout  # what would go, then nothing goes
    assert "--yes" in piped.stderr and "No se borró nada" in piped.stderr
    erased = run("privacy", "erase", "--whatsapp", NUMBER, "--yes")
    assert erased.stdout == "Datos personales borrados; quedan solo las cifras de sus casos.\n"
    gone = run("privacy", "show", "--whatsapp", NUMBER)
    assert (gone.returncode, gone.stderr) == (1, "No hay datos guardados de ese ciudadano.\n")
    case = run("cases", "show", "TA-2026-000001").stdout
    assert "hoyo enorme" not in case and NUMBER not in case and "San Miguel" in case


def test_a_wrong_or_double_address_is_one_line_and_a_non_zero_exit(run):
    both = run("privacy", "show", "--whatsapp", NUMBER, "--telegram-id", "5")
    assert both.returncode == 1 and "solo uno" in both.stderr
    bad = run("privacy", "erase", "--whatsapp", "no-es-un-numero")
    assert (bad.returncode, bad.stderr.count("\n")) == (1, 1)


def test_the_retention_run_can_be_started_from_the_terminal(run):
    done = run("privacy", "retention")
    assert done.stdout == (
        "Casos anonimizados (cerrados hace más de 730 días): 0\n"
        "Contactos borrados (sin casos ni actividad en los últimos 730 días): 0\n"
    )
