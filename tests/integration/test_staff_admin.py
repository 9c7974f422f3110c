"""Administering from the terminal: `db upgrade` without secrets, `privacy erase` confirmed, and
the staff accounts (`staff list|deactivate|activate|role|unbind`), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import CliContext, build_cli
from handlers.core.texts import load_texts
from tests.helpers import POTHOLE, Citizen, Clock

NUMBER = "+50370001234"
FOLIO = "TA-2026-000001"


class Terminal:
    """The command tree run in process, on the test's database, as if typed at a terminal
    (`interactive`) or fed through a pipe."""

    def __init__(self, url: str, tmp_path) -> None:
        self.env = {"TA_DATABASE__URL": url, "TA_CONFIG": ""}
        self.tmp_path = tmp_path
        self.clock = Clock()

    def __call__(self, *args: str, stdin: str = "", interactive: bool = False) -> Result:
        obj = CliContext(clock=self.clock, interactive=lambda: interactive)
        return CliRunner().invoke(
            build_cli(load_texts()), list(args), env=self.env, obj=obj, input=stdin
        )


@pytest.fixture
def terminal(app, tmp_path) -> Terminal:
    return Terminal(app.settings.database.url, tmp_path)


def said(result: Result) -> str:
    """Everything the command printed, with the line of a failure (`main` prints it)."""
    failure = f"{result.exception}\n" if result.exit_code == 1 and result.exception else ""
    return result.output + failure


# -- db upgrade ------------------------------------------------------------------------------


def test_db_upgrade_runs_with_a_channel_enabled_and_its_secrets_missing(database_url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[telegram]\nenabled = true\n[whatsapp]\nenabled = true\n")
    obj = CliContext(clock=Clock())
    env = {"TA_DATABASE__URL": database_url}
    upgraded = CliRunner().invoke(
        build_cli(load_texts()), ["--config", str(config), "db", "upgrade"], env=env, obj=obj
    )
    assert upgraded.exit_code == 0, upgraded.exception
    assert upgraded.output.startswith("Base de datos al día: ")
    # The other commands still refuse to run without the secrets.
    listed = CliRunner().invoke(
        build_cli(load_texts()), ["--config", str(config), "cases", "list"], env=env, obj=obj
    )
    assert listed.exit_code != 0 and "whatsapp.account_sid" in str(listed.exception)


# -- privacy erase ---------------------------------------------------------------------------


@pytest.fixture
def reported(app) -> Any:
    Citizen(app.dialogue, app.uow, address=NUMBER, channel="whatsapp").converse(*POTHOLE)
    return app


def still_stored(app) -> bool:
    with app.uow() as uow:
        return uow.contacts.find("whatsapp", NUMBER) is not None


def test_privacy_erase_shows_what_goes_and_asks_before_erasing(reported, terminal):
    kept = terminal("privacy", "erase", "--whatsapp", NUMBER, stdin="n\n", interactive=True)
    assert kept.exit_code == 1
    assert f"WhatsApp {NUMBER}" in kept.output and FOLIO in kept.output
    assert "¿Confirma? [s/N]" in kept.output and said(kept).endswith("No se borró nada.\n")
    assert still_stored(reported)

    erased = terminal("privacy", "erase", "--whatsapp", NUMBER, stdin="s\n", interactive=True)
    assert erased.exit_code == 0, erased.output
    assert erased.output.endswith(
        "Datos personales borrados; quedan solo las cifras de sus casos.\n"
    )
    assert not still_stored(reported)


def test_privacy_erase_from_a_pipe_needs_yes(reported, terminal):
    refused = terminal("privacy", "erase", "--whatsapp", NUMBER, stdin="s\n")
    assert refused.exit_code == 1 and "--yes" in said(refused)
    assert still_stored(reported)
    erased = terminal("privacy", "erase", "--whatsapp", NUMBER, "--yes")
    assert erased.exit_code == 0 and "¿Confirma?" not in erased.output
    assert not still_stored(reported)
