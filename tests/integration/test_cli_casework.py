"""The same casework from the chat's staff desk and from the terminal, on SQLite and PostgreSQL."""

import json
import shlex

import pytest
from typer.testing import CliRunner

from bot.cli import CliContext, build_cli, main
from handlers.core.texts import load_texts
from tests.helpers import POTHOLE, Citizen, Clock, add_staff, pdf_text

FIRST, SECOND = "TA-2026-000001", "TA-2026-000002"
REPORTERS = {FIRST: "+50370009991", SECOND: "+50370009992"}
AGENT = "111"

# One action each: (what Ana types in the chat, the same from the terminal), "{folio}" filled in.
ACTIONS = {
    "note": ("/nota {folio} llevar la retroexcavadora", "note {folio} 'llevar la retroexcavadora'"),
    "refer": (
        "/remitir {folio} Ministerio de Obras Públicas",
        "refer {folio} 'Ministerio de Obras Públicas'",
    ),
    "request-info": (
        "/pedir_info {folio} ¿Hay un número de casa cerca?",
        "request-info {folio} '¿Hay un número de casa cerca?'",
    ),
    "priority": (
        "/prioridad {folio} afecta a una mujer embarazada",
        "priority {folio} --reason 'afecta a una mujer embarazada'",
    ),
    "reclassify": (
        "/reclasificar {folio} queja urgente",
        "reclassify {folio} --type queja --urgency urgente",
    ),
    "extend": (
        "/prorroga {folio} 5 falta el material",
        "extend {folio} 5 --reason 'falta el material'",
    ),
    "discard": ("/descartar {folio} es un duplicado", "discard {folio} --reason 'es un duplicado'"),
}


class Desk:
    """Two reported potholes, Ana at the chat's staff desk, and the terminal, on one clock."""

    def __init__(self, app) -> None:
        self.app = app
        self.clock = Clock()
        for address in REPORTERS.values():
            self.citizen(address).converse(*POTHOLE)
        add_staff(app.uow, "Ana", telegram_id=int(AGENT))
        self.env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
        self.before = {folio: len(self.outbox(folio)) for folio in REPORTERS}

    def citizen(self, address: str) -> Citizen:
        return Citizen(
            self.app.dialogue, self.app.uow, address=address, channel="whatsapp", clock=self.clock
        )

    def chat(self, command: str) -> str:
        agent = Citizen(
            self.app.dialogue, self.app.uow, address=AGENT, channel="telegram", clock=self.clock
        )
        return agent.send(command)

    def terminal(self, *args: str):
        obj = CliContext(clock=self.clock)
        return CliRunner().invoke(build_cli(load_texts()), ["cases", *args], env=self.env, obj=obj)

    def events(self, folio: str) -> list[tuple]:
        with self.app.uow() as uow:
            case = uow.cases.by_folio(folio)
            found = uow.cases.events(case.id)
            return [(e.actor, e.kind, e.from_status, e.to_status, e.note, e.public) for e in found]

    def outbox(self, folio: str) -> list[str]:
        """What the case's reporter has waiting in the outbox, the folio written as FOLIO."""
        with self.app.uow() as uow:
            items = uow.outbox.pending("whatsapp", address=REPORTERS[folio], limit=500)
            return [item.body.replace(folio, "FOLIO") for item in items]

    def told(self, folio: str) -> list[str]:
        """What the reporter was told since the case was registered."""
        return self.outbox(folio)[self.before[folio] :]


@pytest.fixture
def desk(app):
    return Desk(app)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_action_from_the_chat_and_from_the_terminal_leaves_the_same_history(desk, action):
    chat, terminal = ACTIONS[action]
    desk.chat(chat.format(folio=FIRST))
    done = desk.terminal(*shlex.split(terminal.format(folio=SECOND)), "--as", "Ana")
    assert (done.exit_code, done.output) == (0, f"Listo: {SECOND}\n")
    by_chat, by_terminal = desk.events(FIRST), desk.events(SECOND)
    assert len(by_chat) > 1 and by_chat == by_terminal
    assert {actor for actor, *_ in by_chat[1:]} == {"Ana"}
    assert desk.told(FIRST) == desk.told(SECOND)
    assert bool(desk.told(FIRST)) == (action in ("refer", "request-info", "extend", "discard"))


def test_without_as_the_terminal_acts_as_the_console_and_the_rest_is_the_same(desk):
    desk.chat(f"/nota {FIRST} llevar la retroexcavadora")
    assert desk.terminal("note", SECOND, "llevar la retroexcavadora").exit_code == 0
    by_chat, by_terminal = desk.events(FIRST), desk.events(SECOND)
    assert [("Ana", *rest) for _, *rest in by_terminal[1:]] == by_chat[1:]
    assert by_terminal[-1][0] == "consola"


def run_main(desk, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """The console script's entry point, with the test's clock; (status, stdout, stderr)."""
    for name, value in desk.env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as ended:
        main(["cases", *args], clock=desk.clock)
    out = capsys.readouterr()
    return ended.value.code, out.out, out.err


def test_what_cannot_be_done_from_the_terminal_is_one_line_and_a_failure(desk, monkeypatch, capsys):
    def refused(*args: str) -> str:
        status, out, err = run_main(desk, monkeypatch, capsys, *args)
        assert (status, out) == (1, "") and err.count("\n") == 1, (status, out, err)
        return err.strip()

    assert "TA-2026-000099" in refused("note", "TA-2026-000099", "nota")
    assert refused("extend", SECOND, "5") == desk.chat(f"/prorroga {FIRST} 5")
    assert run_main(desk, monkeypatch, capsys, "extend", SECOND, "5", "--reason", "lluvia")[0] == 0
    assert "ya" in refused("extend", SECOND, "3", "--reason", "otra vez")
    assert "Indique al menos" in refused("reclassify", SECOND)
    assert "Tema desconocido" in refused("reclassify", SECOND, "--topic", "playas")
    run_main(desk, monkeypatch, capsys, "discard", SECOND, "--reason", "duplicado")
    assert "reabrir" in refused("status", SECOND, "en_revision", "--as", "Ana")
    assert refused("refer", SECOND, "MOP", "--as", "Nadie") == desk.chat(f"/asignar {FIRST} Nadie")


def test_staff_write_a_cases_constancia_and_solicitud_from_the_terminal(desk, tmp_path):
    target = tmp_path / "constancia.pdf"
    done = desk.terminal("constancia", FIRST.lower(), "--output", str(target))
    assert (done.exit_code, done.output) == (0, f"Escrito {target}\n")
    text = pdf_text(target.read_bytes())
    assert FIRST in text and "(15 días hábiles)" in text and f"«estado {FIRST}»" in text
    target = tmp_path / "solicitud.pdf"
    assert desk.terminal("solicitud", SECOND, "-o", str(target)).exit_code == 0
    assert "Solicitud escrita" in pdf_text(target.read_bytes())
    missing = desk.terminal("constancia", "TA-2026-000099", "--output", str(tmp_path / "x.pdf"))
    assert missing.exit_code == 1 and not (tmp_path / "x.pdf").exists()


def test_a_document_that_cannot_be_written_is_one_spanish_line(desk, tmp_path, monkeypatch, capsys):
    nowhere = tmp_path / "no-such-folder" / "c.pdf"
    assert run_main(desk, monkeypatch, capsys, "constancia", FIRST, "--output", str(nowhere)) == (
        1,
        "",
        f"No se pudo escribir {nowhere}: la carpeta no existe\n",
    )
    assert run_main(desk, monkeypatch, capsys, "solicitud", FIRST, "-o", str(tmp_path)) == (
        1,
        "",
        f"No se pudo escribir {tmp_path}: es una carpeta, no un archivo\n",
    )


def test_the_list_and_a_case_read_in_spanish_while_json_and_export_keep_the_codes(desk):
    desk.terminal("status", FIRST, "en_proceso")
    desk.terminal("request-info", SECOND, "¿Hay un número de casa cerca?")
    listed = desk.terminal("list").output.splitlines()
    assert listed[0].split("\t")[:6] == ["Folio", "Tipo", "Tema", "Urgencia", "Estado", "Canal"]
    assert [line.split("\t")[:6] for line in listed[1:]] == [
        [FIRST, "solicitud", "calles y caminos", "normal", "En proceso", "WhatsApp"],
        [SECOND, "solicitud", "calles y caminos", "normal", "Esperando al ciudadano", "WhatsApp"],
    ]
    shown = desk.terminal("show", SECOND).output
    assert "  Tema: calles y caminos\n  Urgencia: normal\n  Estado: Esperando al ciudadano\n" in (
        shown
    )
    assert "  Canal: WhatsApp\n" in shown
    # What scripts read stays as spec section 5 defines it: the codes.
    as_json = json.loads(desk.terminal("list", "--json").output)
    assert [(c["topic"], c["status"], c["channel"]) for c in as_json] == [
        ("calles_caminos", "en_proceso", "whatsapp"),
        ("calles_caminos", "esperando_ciudadano", "whatsapp"),
    ]
    exported = json.loads(desk.terminal("export", "--format", "json").output)
    assert [c["status"] for c in exported] == ["en_proceso", "esperando_ciudadano"]


def test_an_emergency_same_day_deadline_is_not_extended_and_the_terminal_says_why(
    desk, monkeypatch, capsys
):
    call = "se cayó el puente y hay personas atrapadas"
    new = ("new", "--channel", "telefono", "--type", "solicitud", "--urgency", "emergencia")
    assert run_main(desk, monkeypatch, capsys, *new, "--text", call)[0] == 0
    emergency = "TA-2026-000003"
    why = (
        f"El caso {emergency} es una emergencia: su plazo vence el mismo día en que se recibió "
        "y no se puede prorrogar por días hábiles.\n"
    )
    extend = ("extend", emergency, "5", "--reason", "falta material")
    assert run_main(desk, monkeypatch, capsys, *extend) == (1, "", why)
    assert desk.chat(f"/prorroga {emergency} 5 falta material") == why.strip()
    assert "Vence: " in (shown := desk.terminal("show", emergency).output)
    assert "(el mismo día: emergencia)" in shown
    # A case with days to add is told its range in words, not in the chat's commands.
    too_long = ("extend", SECOND, "30", "--reason", "falta material")
    assert run_main(desk, monkeypatch, capsys, *too_long) == (
        1,
        "",
        "La prórroga es de 1 a 15 días hábiles.\n",
    )
    assert desk.chat(f"/prorroga {FIRST} muchos") == (
        "La prórroga es de 1 a 15 días hábiles: /prorroga FOLIO DÍAS motivo."
    )


def test_a_reply_to_a_closed_case_is_held_until_the_staff_member_confirms_it(
    desk, monkeypatch, capsys
):
    for folio in (FIRST, SECOND):
        desk.terminal("close", folio, "--resolution", "Bache reparado")
    before = {folio: len(desk.told(folio)) for folio in (FIRST, SECOND)}
    warning = (
        "⚠️ El caso {folio} está cerrado: el ciudadano ya recibió su cierre. La respuesta le "
        "llegaría igual, pero el caso seguirá cerrado (reabrirlo es decisión de un supervisor)."
    )
    # In the chat: the warning, and how to send it anyway or reopen.
    assert desk.chat(f"/responder {FIRST} Pasamos a revisar otra vez") == (
        warning.format(folio=FIRST) + "\n"
        f"Para enviarla igual: /responder_cerrado {FIRST} texto. "
        f"Para reabrirlo (supervisor): /estado {FIRST} en_proceso."
    )
    # From a script (no terminal to ask at): refused, saying how to confirm.
    status, out, err = run_main(desk, monkeypatch, capsys, "reply", SECOND, "Pasamos otra vez")
    assert (status, out) == (1, "")
    assert err == (
        warning.format(folio=SECOND) + " Para enviarla igual, repita la orden con --yes. "
        f"Para reabrirlo (supervisor): telefono-abierto cases status {SECOND} en_proceso "
        "--as NOMBRE.\n"
    )
    assert [len(desk.told(f)) for f in (FIRST, SECOND)] == [before[FIRST], before[SECOND]]
    # Confirmed: queued for sending (the outbox sends it), and the case stays closed.
    assert "Respuesta en cola para enviarse" in desk.chat(
        f"/responder_cerrado {FIRST} Pasamos a revisar otra vez"
    )
    sent = run_main(desk, monkeypatch, capsys, "reply", SECOND, "Pasamos otra vez", "--yes")
    assert sent[0] == 0 and "Respuesta en cola para enviarse al ciudadano" in sent[1]
    assert desk.told(FIRST)[-1] == "Respuesta sobre su caso FOLIO:\nPasamos a revisar otra vez"
    assert desk.told(SECOND)[-1] == "Respuesta sobre su caso FOLIO:\nPasamos otra vez"
    assert [c["status"] for c in json.loads(desk.terminal("list", "--json").output)] == [
        "cerrado",
        "cerrado",
    ]


def test_cases_show_prints_every_message_to_the_citizen_whole_and_indented(desk):
    long_reply = "Primera línea de la respuesta.\n" + "palabra " * 80 + "\nÚltima línea: el fin."
    desk.terminal("reply", FIRST, long_reply)
    shown = desk.terminal("show", FIRST).output
    assert "Última línea: el fin. (por enviar)" in shown, shown
    assert "\n    Última línea: el fin." in shown, shown
    assert " / " not in shown, shown
