"""Administering from the terminal: `db upgrade` without secrets, `privacy erase` confirmed, and
the staff accounts (`staff list|deactivate|activate|role|unbind`), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import CliContext, build_cli
from handlers.core.texts import load_texts
from tests.helpers import POTHOLE, Citizen, Clock, add_staff

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
    # The other commands need the privacy hash secret, which keys what is stored (the channels'
    # own secrets only `run` needs).
    listed = CliRunner().invoke(
        build_cli(load_texts()), ["--config", str(config), "cases", "list"], env=env, obj=obj
    )
    assert listed.exit_code != 0 and "TA_PRIVACY__HASH_SECRET" in str(listed.exception)


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


# -- the staff accounts ----------------------------------------------------------------------

STAFF_CHAT = "-100500"


@pytest.fixture
def team(reported, terminal):
    """Ana (agent, Telegram 111 and WhatsApp) and Beto (supervisor), registered by the terminal,
    and Ana's pothole case waiting."""
    added = terminal(
        "staff", "add", "--name", "Ana", "--role", "agent", "--telegram-id", "111",
        "--whatsapp", "+50370001111",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert terminal("staff", "add", "--name", "Beto", "--role", "supervisor").exit_code == 0
    return reported


def ana(app, channel: str = "telegram", group: bool = False) -> Citizen:
    address = {"telegram": "111", "whatsapp": "+50370001111"}[channel]
    if group:
        return Citizen(app.dialogue, app.uow, address=STAFF_CHAT, channel=channel, sender_id="111")
    return Citizen(app.dialogue, app.uow, address=address, channel=channel)


def case_state(app) -> tuple:
    with app.uow() as uow:
        case = uow.cases.by_folio(FOLIO)
        return case.status, case.assignee_id


def test_staff_list_shows_every_member_their_role_state_and_addresses(team, terminal):
    listed = terminal("staff", "list")
    assert listed.exit_code == 0
    lines = [line.split() for line in listed.output.splitlines()]
    assert lines == [
        ["Id", "Nombre", "Rol", "Estado", "Telegram", "WhatsApp"],
        ["1", "Ana", "agente", "activo", "111", "+50370001111"],
        ["2", "Beto", "supervisor", "activo", "-", "-"],
    ]
    assert terminal("staff", "deactivate", "Beto").exit_code == 0
    assert terminal("staff", "list").output.splitlines()[2].split()[3] == "desactivado"


def test_a_deactivated_member_is_refused_at_once_in_every_chat_and_in_the_terminal(team, terminal):
    app = team
    done = terminal("staff", "deactivate", "Ana")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Personal desactivado: Ana.")
    refusal = "⛔ Ana: su cuenta del personal está desactivada"
    for chat in (ana(app), ana(app, "whatsapp"), ana(app, group=True)):
        assert chat.send("/cola").startswith(refusal)
        assert chat.send(f"tomar:{FOLIO}").startswith(refusal)  # a card's button
    assert case_state(app) == ("recibido", None)

    as_ana = terminal("cases", "note", FOLIO, "una nota", "--as", "Ana")
    assert said(as_ana).strip() == (
        "Ana está desactivado: no puede tener casos ni actuar. "
        "Un administrador puede activarlo con staff activate."
    )
    assert terminal("cases", "assign", FOLIO, "Ana").exit_code == 1
    assert ana(app, "whatsapp").send(f"/asignar {FOLIO} Ana").startswith(refusal)

    assert terminal("staff", "activate", "Ana").exit_code == 0
    assert "Ana tomó el caso" in ana(app).send(f"tomar:{FOLIO}")
    assert case_state(app) == ("asignado", 1)
    again = terminal("staff", "deactivate", "1")
    assert f"Tiene 1 caso abierto asignado; reasígnelo con cases assign: {FOLIO}" in (again.output)
    # Their cases can still be found, to be reassigned.
    (theirs,) = json.loads(terminal("cases", "list", "--assignee", "Ana", "--json").output)
    assert theirs["folio"] == FOLIO
    add_staff(app.uow, "Carla", whatsapp="+50370002222")
    carla = Citizen(app.dialogue, app.uow, address="+50370002222", channel="whatsapp")
    assert FOLIO in carla.send("/cola asignado=Ana")
    assert "Carla" in carla.send(f"/asignar {FOLIO} Carla")


def test_a_role_is_changed_and_a_wrong_one_or_member_is_one_line(team, terminal):
    assert terminal("staff", "role", "Ana", "supervisor").output == (
        "Ana tiene ahora el rol supervisor\n"
    )
    with team.uow() as uow:
        assert uow.staff.by_id_or_name("Ana").role == "supervisor"
    assert said(terminal("staff", "role", "Ana", "jefa")).strip() == (
        "Rol desconocido: jefa (válidos: agente, supervisor, administrador)"
    )
    assert "ya tiene el rol supervisor" in said(terminal("staff", "role", "Ana", "supervisora"))


def test_roles_are_given_and_shown_in_spanish_and_the_english_codes_still_work(reported, terminal):
    """An administrator writes the roles as they say them; scripts written against spec section
    5 (agent, supervisor, admin) keep working, and the database keeps those codes."""
    said_back = [
        terminal("staff", "add", "--name", name, "--role", role).output
        for name, role in (("Ana", "agente"), ("Sara", "supervisora"), ("Rita", "administradora"))
    ]
    assert said_back == [
        "Personal registrado: #1 Ana (agente)\n",
        "Personal registrado: #2 Sara (supervisor)\n",
        "Personal registrado: #3 Rita (administrador)\n",
    ]
    assert terminal("staff", "add", "--name", "Beto", "--role", "admin").exit_code == 0
    assert terminal("staff", "role", "Ana", "administrador").output == (
        "Ana tiene ahora el rol administrador\n"
    )
    assert [line.split()[2] for line in terminal("staff", "list").output.splitlines()[1:]] == [
        "administrador",
        "supervisor",
        "administrador",
        "administrador",
    ]
    with reported.uow() as uow:
        assert [m.role for m in uow.staff.all()] == ["admin", "supervisor", "admin", "admin"]
    assert "No hay personal con id o nombre «Carla»" in said(
        terminal("staff", "deactivate", "Carla")
    )


def test_an_unbound_address_is_a_citizens_again(team, terminal):
    app = team
    assert "Órdenes del personal" in ana(app).send("/ayuda")
    unbound = terminal("staff", "unbind", "Ana", "--telegram")
    assert unbound.output == "Ana: desvinculado de Telegram\n"
    assert "Órdenes del personal" not in ana(app).send("/ayuda")
    assert "Órdenes del personal" in ana(app, "whatsapp").send("/ayuda")
    assert "Indique qué desvincular" in said(terminal("staff", "unbind", "Ana"))
    assert "no tiene vinculada" in said(terminal("staff", "unbind", "Ana", "--telegram"))
    with app.uow() as uow:
        member = uow.staff.by_id_or_name("Ana")
    assert (member.telegram_id, member.whatsapp) == (None, "+50370001111")
