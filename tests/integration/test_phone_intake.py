"""Phone calls and walk-ins from the terminal (`cases new`, `cases reply`), on SQLite and
PostgreSQL: the caller's details, a contact answered on the spot, and replies nobody can read."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from bot.cli import CliContext, build_cli
from handlers.core.texts import load_texts
from tests.helpers import Citizen, Clock, add_staff

FOLIO = "TA-2026-000001"
CALLER = "+503 2222-3333"
NUMBER = "+50322223333"


class Terminal:
    def __init__(self, url: str) -> None:
        self.env = {"TA_DATABASE__URL": url, "TA_CONFIG": ""}
        self.clock = Clock()

    def __call__(self, *args: str) -> Result:
        obj = CliContext(clock=self.clock, interactive=lambda: False)
        return CliRunner().invoke(build_cli(load_texts()), list(args), env=self.env, obj=obj)


@pytest.fixture
def terminal(app) -> Terminal:
    return Terminal(app.settings.database.url)


def said(result: Result) -> str:
    failure = f"{result.exception}\n" if result.exit_code == 1 and result.exception else ""
    return result.output + failure


def log_call(terminal: Terminal, *extra: str, channel: str = "telefono") -> Result:
    return terminal(
        "cases", "new", "--channel", channel, "--type", "solicitud",
        "--text", "hay un hoyo grande en la calle frente a la escuela", *extra,
    )  # fmt: skip


def test_a_call_is_logged_with_its_topic_place_urgency_and_caller(terminal):
    new = log_call(
        terminal,
        "--topic", "puentes", "--municipality", "Ahuachapán Sur", "--urgency", "urgente",
        "--name", "Rosa Pérez", "--phone", CALLER, "--gender", "mujer",
    )  # fmt: skip
    assert new.output == f"Caso registrado: {FOLIO}\n", said(new)
    (listed,) = json.loads(terminal("cases", "list", "--json").output)
    assert (listed["topic"], listed["urgency"], listed["municipality"]) == (
        "puentes",
        "urgente",
        "Ahuachapán Sur",
    )
    shown = terminal("cases", "show", FOLIO).output
    assert f"Ciudadano: Rosa Pérez, Teléfono {NUMBER}" in shown
    assert "Municipio: Ahuachapán Sur" in shown
    assert "Departamento: Ahuachapán" in shown


def test_wrong_caller_details_are_one_line(terminal):
    assert "Tema desconocido: playas" in said(log_call(terminal, "--topic", "playas"))
    assert "Urgencia desconocida: ya" in said(log_call(terminal, "--urgency", "ya"))
    assert "Número de teléfono no válido" in said(log_call(terminal, "--phone", "llámeme"))
    assert json.loads(terminal("cases", "list", "--json").output) == []


def test_the_type_option_of_cases_new_says_what_it_is():
    help_text = CliRunner().invoke(build_cli(load_texts()), ["cases", "new", "--help"]).output
    assert "Solo casos de este tipo" not in help_text
    assert "Tipo del caso" in help_text and "--answered" in help_text


def test_a_consultation_answered_on_the_spot_counts_as_an_orientacion_telefonica(terminal):
    for number in range(3):
        answered = terminal(
            "cases", "new", "--channel", "telefono", "--type", "consulta",
            "--text", f"pregunta {number} por el horario de la ventanilla",
            "--answered", "De lunes a viernes de 8:00 a 16:00",
        )  # fmt: skip
        assert answered.output.startswith("Caso registrado y atendido en el momento"), said(
            answered
        )
    shown = terminal("cases", "show", FOLIO).output
    assert "Estado: Cerrado" in shown and "De lunes a viernes de 8:00 a 16:00" in shown
    tally = json.loads(
        terminal("tally", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json").output
    )
    assert tally["attended"]["by_channel_type"]["telefono"]["consulta"] == 3
    assert tally["attended"]["total"] == 3
    assert "3 orientaciones telefónicas" in tally["narrative"]


def test_a_reply_to_a_call_is_not_sent_but_noted_as_a_call_to_make(app, terminal):
    add_staff(app.uow, "Ana", telegram_id=111)
    log_call(terminal, "--name", "Rosa Pérez", "--phone", CALLER)
    terminal("cases", "assign", FOLIO, "Ana")
    replied = terminal("cases", "reply", FOLIO, "La cuadrilla va el jueves", "--as", "Ana")
    assert replied.exit_code == 0, said(replied)
    assert not replied.output.startswith("Listo")
    assert "la respuesta NO se envió a nadie" in replied.output and NUMBER in replied.output
    shown = terminal("cases", "show", FOLIO).output
    assert (
        "Ana: Llamada por hacer: la respuesta no tiene un chat al que enviarse — La cuadrilla"
        in (shown)
    )
    with app.uow() as uow:
        to_ana = [item.body for item in uow.outbox.pending("telegram", address="111")]
    assert any(
        "📞 Llamada por hacer" in body and NUMBER in body and "La cuadrilla va el jueves" in body
        for body in to_ana
    ), to_ana


def test_the_callers_name_and_number_are_erased_like_any_citizens(terminal):
    log_call(terminal, "--name", "Rosa Pérez", "--phone", CALLER)
    shown = terminal("privacy", "show", "--phone", CALLER).output
    assert "Rosa Pérez" in shown and FOLIO in shown
    assert terminal("privacy", "erase", "--phone", CALLER, "--yes").exit_code == 0
    case = terminal("cases", "show", FOLIO).output
    assert "Rosa Pérez" not in case and NUMBER not in case
    assert "hoyo grande" not in case


def test_a_visit_proposed_on_a_phone_case_says_to_call_and_how_to_confirm(terminal):
    log_call(terminal, "--phone", CALLER, "--municipality", "Ahuachapán Sur")
    proposed = terminal(
        "visits", "propose", FOLIO, "--date", "20/11", "--from", "09:00", "--to", "11:00"
    )
    assert proposed.exit_code == 0, said(proposed)
    assert "📅 Visita #1 propuesta" in proposed.output
    assert f"acuerde la visita por teléfono con {NUMBER}" in proposed.output
    assert "visits confirm 1" in proposed.output


def test_a_case_affecting_women_says_so_and_unmarking_an_unmarked_one_is_refused(terminal):
    log_call(terminal, "--phone", CALLER)
    refused = terminal("cases", "priority", FOLIO, "--women", "--off")
    assert "no está marcado como situación que afecta a mujeres" in said(refused)
    assert terminal("cases", "priority", FOLIO, "--women").exit_code == 0
    shown = terminal("cases", "show", FOLIO).output
    assert "Prioritario: situación que afecta a mujeres" in shown
    assert "Ya no se marca" not in shown


def test_with_no_number_left_every_call_to_make_reads_as_a_sentence(app, terminal):
    add_staff(app.uow, "Ana", telegram_id=111)
    log_call(terminal, "--name", "Rosa Pérez")
    terminal("cases", "assign", FOLIO, "Ana")
    replied = terminal("cases", "reply", FOLIO, "La cuadrilla va el jueves", "--as", "Ana")
    assert replied.output == (
        f"📞 El caso {FOLIO} no tiene un chat ni un número: la respuesta NO se envió a nadie. "
        "Quedó guardada y anotada como respuesta por comunicar; comuníquela en persona cuando "
        "Rosa Pérez se acerque o se comunique.\n"
    ), said(replied)
    proposed = terminal(
        "visits", "propose", FOLIO, "--date", "20/11", "--from", "09:00", "--to", "11:00"
    )
    assert proposed.output.splitlines()[-1] == (
        f"📞 El caso {FOLIO} no tiene chat ni un número al que llamar: acuerde la visita con "
        "Rosa Pérez cuando se acerque o se comunique, y regístrela con: visits confirm 1"
    ), said(proposed)
    with app.uow() as uow:
        to_ana = [item.body for item in uow.outbox.pending("telegram", address="111")]
    assert (
        f"📞 Respuesta por comunicar, caso {FOLIO}: no hay un número al que llamar; comunique "
        "esta respuesta a Rosa Pérez en persona cuando se acerque o se comunique:\n"
        "La cuadrilla va el jueves"
    ) in to_ana, to_ana
    assert (
        f"📞 El caso {FOLIO} no tiene chat ni un número al que llamar: acuerde la visita "
        "(viernes 20/11/2026 de 09:00 a 11:00) con Rosa Pérez cuando se acerque o se comunique, "
        "y regístrela con /visita_confirmar."
    ) in to_ana, to_ana
    assert not any("sin número" in body for body in to_ana)


def test_with_a_number_and_no_name_the_call_to_make_names_the_number(app, terminal):
    add_staff(app.uow, "Ana", telegram_id=111)
    log_call(terminal, "--phone", CALLER)
    terminal("cases", "assign", FOLIO, "Ana")
    replied = terminal("cases", "reply", FOLIO, "La cuadrilla va el jueves", "--as", "Ana")
    assert replied.output == (
        f"📞 El caso {FOLIO} no tiene un chat: la respuesta NO se envió a nadie. Quedó guardada "
        f"y anotada como llamada por hacer: comuníquela por teléfono al {NUMBER}.\n"
    ), said(replied)
    with app.uow() as uow:
        to_ana = [item.body for item in uow.outbox.pending("telegram", address="111")]
    assert (
        f"📞 Llamada por hacer, caso {FOLIO}: llame a la persona que presentó el caso al "
        f"{NUMBER} y comuníquele esta respuesta:\nLa cuadrilla va el jueves"
    ) in to_ana, to_ana


def constancia_of(terminal: Terminal, tmp_path) -> str:
    from tests.helpers import pdf_text

    path = tmp_path / "constancia.pdf"
    written = terminal("cases", "constancia", FOLIO, "--output", str(path))
    assert written.exit_code == 0, said(written)
    return pdf_text(path.read_bytes())


def test_the_constancia_of_a_call_says_to_call_or_come_in_with_the_folio_not_to_write(
    terminal, tmp_path
):
    log_call(terminal, "--phone", CALLER)
    text = constancia_of(terminal, tmp_path)
    assert "«estado" not in text and "WhatsApp" not in text
    assert (
        "Para conocer el estado del caso y las respuestas, llame a la institución o acérquese a "
        f"sus oficinas e indique el folio {FOLIO}. Cuando haya una respuesta, le llamaremos al "
        "número que nos dejó." in text
    ), text


def test_the_constancia_of_a_walk_in_with_no_number_promises_no_call(terminal, tmp_path):
    terminal(
        "cases", "new", "--channel", "presencial", "--type", "solicitud",
        "--text", "hay un hoyo grande en la calle frente a la escuela", "--name", "Rosa Pérez",
    )  # fmt: skip
    text = constancia_of(terminal, tmp_path)
    assert f"acérquese a sus oficinas e indique el folio {FOLIO}." in text, text
    assert "le llamaremos" not in text and "Escriba" not in text


def test_gender_and_age_given_by_phone_are_shown_to_the_person_and_erased_with_them(terminal):
    log_call(terminal, "--phone", CALLER, "--gender", "mujer", "--age", "34")
    shown = terminal("privacy", "show", "--phone", CALLER).output
    assert "• Género y edad (solo para estadísticas): mujer, 34 años" in shown, shown
    assert terminal("privacy", "erase", "--phone", CALLER, "--yes").exit_code == 0
    # The person is gone: their number finds nothing, and the case keeps only figures.
    assert "No hay datos guardados" in said(terminal("privacy", "show", "--phone", CALLER))
    assert NUMBER not in terminal("cases", "show", FOLIO).output


def test_tally_takes_output_as_another_name_for_out(terminal, tmp_path):
    log_call(terminal)
    path = tmp_path / "informe.json"
    written = terminal(
        "tally", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json",
        "--output", str(path),
    )  # fmt: skip
    assert written.exit_code == 0, said(written)
    assert json.loads(path.read_text())["received"]["total"] == 1
    assert "--output" not in terminal("tally", "--help").output  # --out is the documented one


def test_classify_help_says_what_it_reads_and_writes():
    help_text = CliRunner().invoke(build_cli(load_texts()), ["classify", "--help"]).output
    flat = " ".join(help_text.split())
    assert "entrada estándar" in flat and "salida estándar" in flat, help_text
    for key in ("text", "type", "topic", "urgency", "confidence", "in_scope", "danger_check"):
        assert key in flat, key
    assert '{"text": "el puente se está cayendo"}' in flat, help_text


def test_classify_given_the_text_as_an_argument_says_it_reads_json_lines_on_standard_input():
    said = CliRunner().invoke(build_cli(load_texts()), ["classify", "hay un hoyo en la calle"])
    assert said.exit_code == 2 and said.stdout == ""
    error = said.stderr.splitlines()[-1]
    # It was quoted: "write it between quotes" would send the person round in a circle.
    assert "comillas" not in error and "Sobra" not in error
    assert error.startswith("Error: classify no lleva argumentos: lee en la entrada estándar")
    assert """echo '{"text": "hay un hoyo en la calle"}' | telefono-abierto classify""" in error


def test_a_walk_in_who_left_only_a_name_sees_and_erases_their_data_by_the_folio(terminal):
    terminal(
        "cases", "new", "--channel", "presencial", "--type", "solicitud",
        "--text", "hay un hoyo grande en la calle frente a la escuela", "--name", "Rosa Pérez",
        "--gender", "mujer", "--age", "70",
    )  # fmt: skip
    shown = terminal("privacy", "show", "--folio", FOLIO.lower())
    assert "• Nombre: Rosa Pérez" in shown.output, said(shown)
    assert "• Género y edad (solo para estadísticas): mujer, 70 años" in shown.output
    erased = terminal("privacy", "erase", "--folio", FOLIO, "--yes")
    assert erased.exit_code == 0, said(erased)
    assert "Rosa Pérez" not in terminal("cases", "show", FOLIO).output
    again = terminal("privacy", "show", "--folio", FOLIO)
    assert again.exit_code == 1
    assert f"El caso {FOLIO} no está ligado a ninguna persona" in said(again)
    assert "No existe el caso" in said(terminal("privacy", "show", "--folio", "TA-2026-000099"))


def walk_in(terminal: Terminal, *extra: str) -> Result:
    return log_call(terminal, *extra, channel="presencial")


def test_a_call_with_no_name_nor_number_is_answered_in_person_and_closing_says_so(terminal):
    log_call(terminal, "--municipality", "Ahuachapán")
    proposed = terminal(
        "visits", "propose", FOLIO, "--date", "20/11", "--from", "09:00", "--to", "11:00"
    )
    assert proposed.exit_code == 0, said(proposed)
    terminal("cases", "reply", FOLIO, "La cuadrilla va el jueves")
    closed = terminal("cases", "close", FOLIO, "--resolution", "Se rellenó el hoyo")
    assert closed.exit_code == 0, said(closed)
    assert closed.output == (
        f"📞 Caso {FOLIO} cerrado. No tiene un chat ni un número: nadie le avisó del cierre. "
        "Comuníquelo en persona cuando la persona que presentó el caso se acerque o se "
        "comunique.\n"
        "📅 Visita #1 cancelada: el caso se cerró.\n"
    ), said(closed)
    again = terminal("cases", "reply", FOLIO, "Otra cosa")
    assert "ya recibió su cierre" not in said(again) and "le llegaría" not in said(again)
    assert "no se enviaría a nadie" in said(again), said(again)
    listed = terminal("visits", "list", "--all").output
    assert "propuesta" not in listed and "cancelada" in listed, listed
    shown = terminal("cases", "show", FOLIO).output
    assert "Llamada por hacer" not in shown and "por teléfono" not in shown, shown
    assert "Visita por acordar en persona (sin chat ni número)" in shown, shown
    assert "Respuesta por comunicar en persona (sin chat ni número)" in shown, shown
    assert "Ciudadano: no dejó nombre ni número" in shown, shown


def test_closing_a_call_with_a_number_says_to_call_it(terminal):
    log_call(terminal, "--phone", CALLER)
    closed = terminal("cases", "close", FOLIO, "--resolution", "Se rellenó el hoyo")
    assert closed.output == (
        f"📞 Caso {FOLIO} cerrado. No tiene un chat: nadie le avisó del cierre. "
        f"Comuníquelo por teléfono al {NUMBER}.\n"
    ), said(closed)


def test_the_solicitud_names_the_channel_in_the_middle_of_its_sentence(terminal, tmp_path):
    from tests.helpers import pdf_text

    walk_in(terminal, "--name", "Juan López")
    path = tmp_path / "solicitud.pdf"
    terminal("cases", "solicitud", FOLIO, "--output", str(path))
    text = " ".join(pdf_text(path.read_bytes()).split())
    assert "recibida primero en atención presencial" in text, text


def test_a_walk_in_as_privacy_shows_it_to_staff(terminal):
    walk_in(terminal, "--name", "Juan López", "--gender", "hombre", "--age", "23")
    shown = terminal("privacy", "show", "--folio", FOLIO).output
    assert "• Canal: Presencial" in shown, shown
    assert "sin-numero" not in shown and "• Número o usuario: no dejó un número" in shown, shown
    assert "Género: sin dato" not in shown and "hombre, 23 años" in shown, shown
    assert "BORRAR MIS DATOS" not in shown and "usted" not in shown, shown
    assert f"telefono-abierto privacy erase --folio {FOLIO}" in shown, shown
    assert "sin-numero" not in terminal("cases", "show", FOLIO).output
    refused = terminal("privacy", "erase", "--folio", FOLIO)
    assert refused.exit_code == 1
    summary = said(refused)
    assert summary.startswith("Se borrarán los datos personales de Juan López (Presencial)"), (
        summary
    )
    assert "sin-numero" not in summary and "usted" not in summary, summary
    assert "0 mensajes" not in summary and "su género y su edad" not in summary, summary
    assert "agregue --yes" in summary, summary


def test_a_call_with_no_name_nor_number_keeps_only_its_figures(terminal):
    log_call(terminal, "--gender", "mujer", "--age", "40")
    shown = said(terminal("privacy", "show", "--folio", FOLIO))
    assert "no guarda datos personales de nadie" not in shown, shown
    assert "mujer, 40 años" in shown, shown


def test_closing_a_walk_in_from_the_staff_chat_says_nobody_was_told(app, terminal):
    add_staff(app.uow, "Ana", telegram_id=111)
    walk_in(terminal, "--name", "Rosa Pérez")
    agent = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=terminal.clock)
    closed = agent.send(f"/cerrar {FOLIO} Se rellenó el hoyo")
    assert closed == (
        f"📞 Caso {FOLIO} cerrado. No tiene un chat ni un número: nadie le avisó del cierre. "
        "Comuníquelo en persona cuando Rosa Pérez se acerque o se comunique."
    ), closed
    with app.uow() as uow:
        assert uow.cases.by_folio(FOLIO).status == "cerrado"


def test_closing_a_call_from_the_staff_chat_says_to_call_the_number(app, terminal):
    add_staff(app.uow, "Ana", telegram_id=111)
    log_call(terminal, "--phone", CALLER)
    agent = Citizen(app.dialogue, app.uow, address="111", channel="telegram", clock=terminal.clock)
    closed = agent.send(f"/cerrar {FOLIO} Se rellenó el hoyo")
    assert "se avisó al ciudadano" not in closed, closed
    assert f"nadie le avisó del cierre. Comuníquelo por teléfono al {NUMBER}." in closed, closed
