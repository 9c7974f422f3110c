"""Whole conversations through the real unit of work, on SQLite and PostgreSQL."""

import re
import threading
from datetime import UTC, datetime, time

from sqlalchemy import inspect, text

from tests.helpers import POTHOLE, Citizen, add_staff


def test_a_pothole_report_is_stored_with_its_messages_deadline_and_audit_trail(app):
    citizen = Citizen(app.dialogue, app.uow)
    receipt = citizen.converse(*POTHOLE)
    assert "Folio: TA-2026-000001" in receipt
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        messages = uow.messages.for_case(case.id)
        events = uow.cases.events(case.id)
        pending = uow.outbox.pending("console", address="7001")
    assert (case.municipality, case.district) == ("San Miguel Centro", "San Miguel")
    assert case.status == "recibido"
    assert app.policy.calendar.local_date(case.due_at).isoformat() == "2026-12-08"
    assert [m.body for m in messages if m.direction == "in"] == list(POTHOLE[3:])
    assert any("Folio: TA-2026-000001" in m.body for m in messages if m.direction == "out")
    assert [e.kind for e in events] == ["created"]
    assert len(pending) == 10 and "Folio: TA-2026-000001" in pending[-1].body


def test_the_conversation_survives_a_restart_of_the_service(app):
    from bot.app import create_app

    first = Citizen(app.dialogue, app.uow)
    first.converse(*POTHOLE[:5])
    restarted = create_app(app.settings)
    again = Citizen(restarted.dialogue, restarted.uow, clock=first.clock)
    assert "Folio: TA-2026-000001" in again.converse(*POTHOLE[5:])
    restarted.engine.dispose()


def deliver_everything(app, channel: str = "console") -> None:
    """What the dispatcher does: every pending reply is sent and marked so."""
    with app.uow() as uow:
        for item in uow.outbox.pending(channel):
            uow.outbox.mark_sent(item, f"console-{item.id}", item.created_at)
        uow.commit()


def test_an_anonymous_denuncia_leaves_nothing_that_leads_back_to_the_sender(app):
    citizen = Citizen(app.dialogue, app.uow, address="50370001234")
    answers = []
    for line in ANONYMOUS_DENUNCIA:
        answers.append(citizen.send(line))
        deliver_everything(app)
    code = re.search(r"Código secreto de seguimiento: (\S+)", answers[-1]).group(1)
    assert "Estado: Recibido" in citizen.send(f"estado {code}")
    deliver_everything(app)
    with app.uow() as uow:
        (case,) = uow.cases.search()
        contact = uow.contacts.get_or_create("console", "50370001234", case.created_at)
        # Of the sender, the case keeps nothing: no contact, no hash, only its day.
        assert case.contact_id is None and case.anonymous
        assert case.created_at == app.policy.day_of(case.created_at)
        # Only the greeting and consent stay theirs, as for anyone who consented.
        theirs = uow.messages.for_contact(contact.id)
        assert [m.body for m in theirs if m.direction == "in"] == ["hola", "si"]
        kept = {m.id for m in theirs}
        assert uow.conversations.get(contact.id) is None
        assert contact.created_at.time() == contact.consented_at.time() == time(0)
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
            dump = " ".join(map(str, rows))
            assert code not in dump, f"the secret code is stored in {table}"
            if table == "outbox":  # the replies sent of what stayed theirs, as anyone's
                rows = [row for row in rows if row["message_id"] not in kept]
                dump = " ".join(map(str, rows))
            if table != "contacts":
                assert "50370001234" not in dump, f"the sender's number is stored in {table}"


# Every reply shares its instant with the message or event that caused it: one that does not
# is an answer whose question was taken away (into an anonymous case), and names its author.
ANSWERS_WITH_NO_QUESTION = """
SELECT o.id, c.address, o.case_id, o.created_at FROM messages o JOIN contacts c ON c.id=o.contact_id
WHERE o.direction='out'
 AND NOT EXISTS (SELECT 1 FROM messages i WHERE i.direction='in' AND i.contact_id=o.contact_id
                 AND i.created_at=o.created_at)
 AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.at=o.created_at)
 AND NOT EXISTS (SELECT 1 FROM community_updates u WHERE u.created_at=o.created_at)
"""


def test_asking_about_ones_own_case_while_drafting_an_anonymous_denuncia_leaves_no_answer_behind(
    app,
):
    citizen = Citizen(app.dialogue, app.uow, address="50370005555")
    citizen.converse(*POTHOLE)  # TA-2026-000001, theirs by name
    deliver_everything(app)
    asked = []
    for line in (
        "1",
        "denuncio que el capataz vende el cemento de la obra del puente",
        "estado TA-2026-000001",
        "constancia TA-2026-000001",
        "constancia",
        "estado",
        "listo",
        "si",
        "omitir",
        "1",
    ):
        asked.append(citizen.send(line))
        deliver_everything(app)
    assert "Recibido" in asked[2] and "Sus casos" in asked[5]  # they were answered
    assert "Código secreto de seguimiento" in asked[-1]
    with app.engine.connect() as connection:
        assert connection.execute(text(ANSWERS_WITH_NO_QUESTION)).all() == []
        stored = " ".join(map(str, connection.execute(text("SELECT body FROM messages")).all()))
        sent = " ".join(map(str, connection.execute(text("SELECT body FROM outbox")).all()))
    assert "Sus casos" not in stored + sent and "¿Sobre cuál de sus casos" not in stored
    assert "Estado: Recibido" not in stored + sent
    with app.uow() as uow:
        named = uow.cases.by_folio("TA-2026-000001")
        (anonymous,) = [case for case in uow.cases.search() if case.anonymous]
        # The named case keeps its own report, none of the answers given during the other.
        assert not any("Estado:" in m.body for m in uow.messages.for_case(named.id))
        assert [m.body for m in uow.messages.for_case(anonymous.id) if m.direction == "in"][
            2:4
        ] == ["estado [folio]", "constancia [folio]"]


def test_two_messages_from_one_person_at_the_same_moment_both_reach_the_description(app):
    # The service loads the classifier before it takes messages (its warm-up): loaded here by
    # the first description instead, on a busy machine it held the one writer's turn longer
    # than the other message would wait for it.
    app.policy.classifier.classify("hay un hoyo en la calle")
    citizen = Citizen(app.dialogue, app.uow)
    citizen.converse("hola", "si", "1")
    barrier = threading.Barrier(2)

    def send(text: str) -> None:
        barrier.wait()
        citizen.send(text)

    for round_ in range(5):
        threads = [
            threading.Thread(target=send, args=(f"hay un hoyo {round_}{side} en la calle",))
            for side in ("a", "b")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    citizen.send("listo")
    citizen.converse("si", "omitir", "omitir")
    with app.uow() as uow:
        (case,) = uow.cases.search()
    assert len(case.description.splitlines()) == 10


def test_erasing_twice_from_one_number_works_and_leaves_nothing_of_the_person(app):
    for round_ in range(2):
        citizen = Citizen(app.dialogue, app.uow, address="50377776666")
        for line in (
            "hola",
            "si",
            "1",
            "hay un hoyo enorme frente a la casa de Rosa Perez",
            "listo",
            "si",
            "Ilobasco, barrio El Calvario",
            "mujer 41",
            "mis datos",
            "borrar mis datos",
        ):
            citizen.send(line)
            deliver_everything(app)
        assert "borramos sus datos" in citizen.send("si"), f"round {round_}"
        deliver_everything(app)
    with app.uow() as uow:
        cases = uow.cases.search()
    assert len(cases) == 2 and all(c.contact_id is None and c.gender == "mujer" for c in cases)
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            dump = " ".join(map(str, connection.execute(text(f"SELECT * FROM {table}")).all()))
            for personal in ("50377776666", "Rosa Perez", "El Calvario"):
                assert personal not in dump, f"{personal!r} is still in {table}"


def test_erasing_clears_what_staff_wrote_about_the_person_in_notes_replies_and_resolutions(app):
    citizen = Citizen(app.dialogue, app.uow, address="+50377776666", channel="whatsapp")
    citizen.converse(*POTHOLE)  # TA-2026-000001
    add_staff(app.uow, "Beto", whatsapp="+50370009999")
    agent = Citizen(app.dialogue, app.uow, address="+50370009999", channel="whatsapp")
    agent.send("/nota TA-2026-000001 Llamó Rosa Perez, vive al lado del hoyo")
    agent.send("/responder TA-2026-000001 Doña Rosa Perez, mañana pasa la cuadrilla")
    agent.send("/cerrar TA-2026-000001 Se rellenó el hoyo frente a la casa de Rosa Perez")
    deliver_everything(app, "whatsapp")
    citizen.send("borrar mis datos")
    assert "borramos sus datos" in citizen.send("si")
    deliver_everything(app, "whatsapp")
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
    assert (case.status, case.topic, case.municipality) == (
        "cerrado",
        "calles_caminos",
        "San Miguel Centro",
    )
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            dump = " ".join(map(str, connection.execute(text(f"SELECT * FROM {table}")).all()))
            assert "Rosa Perez" not in dump, f"the name is still in {table}"


ANONYMOUS_DENUNCIA = (
    "hola",
    "si",
    "1",
    "denuncio que el contratista vende el asfalto de la obra",
    "listo",
    "si",
    "Apopa, colonia Popotlán",
    "1",
)

# What the outside attack of 2026-12-05 (evening) read: a masked code kept under a number.
CODES_UNDER_A_NUMBER = """
SELECT c.address, m.created_at, m.body FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.body LIKE '%XXXX%'
"""


def code_lookups(code: str) -> list[str]:
    """The ways a holder asks about an anonymous case: "estado", "constancia", a bare code, a
    code in a sentence, with other separators."""
    bare, spaced, dotted = (
        code.replace("-", "").lower(),
        code.replace("-", " "),
        code.replace("-", "."),
    )
    return [
        f"estado {code}",
        f"constancia {code}",
        bare,
        f"quiero saber como va mi denuncia, el codigo es {spaced.lower()}",
        f"mi codigo es {dotted}",
    ]


def file_anonymous_denuncia(app, address: str) -> str:
    reporter = Citizen(app.dialogue, app.uow, address=address)
    receipt = reporter.converse(*ANONYMOUS_DENUNCIA)
    deliver_everything(app)
    return re.search(r"Código secreto de seguimiento: (\S+)", receipt).group(1)


def assert_no_code_question_marks_anyone(app) -> None:
    with app.engine.connect() as connection:
        assert connection.execute(text(CODES_UNDER_A_NUMBER)).all() == []
        assert connection.execute(text(ANSWERS_WITH_NO_QUESTION)).all() == []
        stored = connection.execute(text("SELECT body, contact_id, created_at FROM messages"))
        apart = [row for row in stored if "XXXX" in row.body]
    # Each question is kept, with no one's number and only its day.
    assert apart and all(row.contact_id is None for row in apart)
    for row in apart:
        at = row.created_at
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at).replace(tzinfo=UTC)
        assert at == app.policy.day_of(at), row


def test_asking_about_an_anonymous_case_before_consent_marks_no_number(app):
    code = file_anonymous_denuncia(app, "50379200000")
    # The reporter erases their data, and is asked for consent again when they write.
    reporter = Citizen(app.dialogue, app.uow, address="50379200000")
    reporter.converse("borrar mis datos", "si")
    assert "¿Está de acuerdo?" in reporter.send("1")
    deliver_everything(app)
    for lookup in code_lookups(code):
        answer = reporter.send(lookup)
        deliver_everything(app)
        assert "Estado: Recibido" in answer or "constancia" in answer, (lookup, answer)
    # And people writing for the first time with a code, who then accept or refuse.
    for number, lookup in enumerate(code_lookups(code)):
        newcomer = Citizen(app.dialogue, app.uow, address=f"5037930000{number}")
        answer = newcomer.send(lookup)
        assert "Estado: Recibido" in answer or "constancia" in answer, (lookup, answer)
        newcomer.send("si" if number % 2 else "no")
        deliver_everything(app)
    reporter.send("si")
    deliver_everything(app)
    assert_no_code_question_marks_anyone(app)


def test_erasing_ones_data_says_the_anonymous_denuncias_stay_and_their_code_still_works(app):
    code = file_anonymous_denuncia(app, "50379200010")
    reporter = Citizen(app.dialogue, app.uow, address="50379200010")
    reporter.converse(*POTHOLE[2:])  # a named case from the same number
    deliver_everything(app)
    warning = reporter.send("borrar mis datos")
    assert (
        "Las denuncias anónimas no están ligadas a su número: no se borran, y su código secreto "
        "sigue sirviendo para consultarlas."
    ) in warning, warning
    assert "borramos sus datos" in reporter.send("si")
    deliver_everything(app)
    # What the warning said: the named case is erased, the denuncia kept, and its code works.
    with app.uow() as uow:
        named, denuncia = sorted(uow.cases.search(), key=lambda case: case.anonymous)
    assert named.description == "[borrado a pedido del ciudadano]"
    assert "contratista vende el asfalto" in denuncia.description
    reporter.send("si")  # consent again, as a stranger
    assert "Estado: Recibido" in reporter.send(f"estado {code}")


def test_a_code_sent_in_pieces_or_with_any_separator_is_found_next_to_no_one(app):
    code = file_anonymous_denuncia(app, "50379200003")
    citizen = Citizen(app.dialogue, app.uow, address="50379200004")
    citizen.converse(*POTHOLE)
    deliver_everything(app)
    first, second, third = code.split("-")
    for line in (
        f"{first}-{second}",
        third,
        code.replace("-", "/"),
        f"mi codigo es {code.replace('-', ', ')}",
        f"({first})({second})({third})",
    ):
        citizen.send(line)
        deliver_everything(app)
    with app.engine.connect() as connection:
        query = "SELECT body FROM messages WHERE contact_id IS NOT NULL"
        named = connection.execute(text(query)).scalars().all()
    # A group with digits and letters (almost every code has one) is in no row tied to a number.
    pieces = [g for g in (first, second, third) if not (g.isalpha() or g.isdigit())]
    assert not [body for body in named for g in pieces if g in body.upper()]
    assert_no_code_question_marks_anyone(app)


def test_a_code_in_any_step_of_a_named_conversation_is_a_lookup_that_marks_no_one(app):
    code = file_anonymous_denuncia(app, "50379200001")
    citizen = Citizen(app.dialogue, app.uow, address="50379200002")
    citizen.converse(*POTHOLE)  # consented and named, with a case of their own
    deliver_everything(app)
    spaced = code.replace("-", " ").lower()
    sentence = f"quiero saber como va mi denuncia, el codigo es {spaced}"
    # At the menu, while describing, at the location question, at the folio question.
    steps = [
        (sentence, "Estado: Recibido"),
        ("1", ""),
        ("el puente de la colonia tiene una grieta grande en la base", ""),
        (sentence, "Estado: Recibido"),
        ("listo", ""),
        ("si", ""),
        (f"mi codigo es {code.replace('-', '.')}", "Estado: Recibido"),
        ("San Miguel, barrio El Calvario", "Folio: TA-2026-000002"),
        ("estado", ""),
        (code.replace("-", "").lower(), "Estado: Recibido"),
    ]
    for line, expected in steps:
        answer = citizen.send(line)
        deliver_everything(app)
        assert expected in answer, (line, answer)
    assert_no_code_question_marks_anyone(app)
    with app.uow() as uow:
        named = uow.cases.by_folio("TA-2026-000002")
        # The named report is told in its own words only.
        assert named.description == "el puente de la colonia tiene una grieta grande en la base"
        assert not any("XXXX" in m.body for m in uow.messages.for_case(named.id))


def test_a_code_after_an_emergency_is_a_lookup_and_the_emergency_case_still_takes_what_follows(
    app,
):
    code = file_anonymous_denuncia(app, "50379200003")
    citizen = Citizen(app.dialogue, app.uow, address="50379200004")
    citizen.converse("hola", "si")
    told = citizen.send("se esta cayendo el puente con gente encima, hay personas atrapadas")
    assert "911" in told
    citizen.send("San Miguel")
    assert "Estado: Recibido" in citizen.send(f"mi codigo es {code.replace('-', ' ').lower()}")
    assert "Agregamos esta información a su caso TA-2026-000001" in citizen.send(
        "ya llegaron los bomberos"
    )
    deliver_everything(app)
    assert_no_code_question_marks_anyone(app)


def test_a_code_spelled_out_or_glued_to_a_word_is_a_lookup_found_next_to_no_one(app):
    code = file_anonymous_denuncia(app, "50379200005")
    citizen = Citizen(app.dialogue, app.uow, address="50379200006")
    citizen.converse(*POTHOLE)
    deliver_everything(app)
    raw = code.replace("-", "")
    for line in (
        " ".join(raw),
        "-".join(raw).lower(),
        f"codigo{raw}",
        f"{raw}gracias",
        f"mi codigo es {' '.join(raw[:4])}-{raw[4:8]}-{raw[8:]}",
    ):
        answer = citizen.send(line)
        deliver_everything(app)
        assert "Estado: Recibido" in answer, (line, answer)
    with app.engine.connect() as connection:
        query = "SELECT body FROM messages WHERE contact_id IS NOT NULL"
        named = connection.execute(text(query)).scalars().all()
    # What the attacker looked for: the code's characters, in order, in a row tied to a number.
    assert not [body for body in named if raw in re.sub(r"[\W_]", "", body.upper())]
    assert_no_code_question_marks_anyone(app)


def test_ordinary_long_words_and_street_names_still_file_a_named_report(app):
    citizen = Citizen(app.dialogue, app.uow, address="50379200007")
    described = (
        f"{POTHOLE[3]}, frente a la Calle Circunvalación Panamericana Sur pasaje 23 casa 45;"
        " es responsabilidad de la alcaldía"
    )
    citizen.converse("hola", "si", "1", described, "listo", "si")
    receipt = citizen.converse("San Miguel, Avenida Roosevelt Norte 8", "omitir")
    assert "Folio: TA-2026-000001" in receipt
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        assert case.description == described and case.contact_id is not None


# Reports an outside tester (2026-12-05, night) wrote at the menu with house, block and plate
# numbers: a recognition of mistyped codes tried that night answered them as codes not found,
# kept them with no sender and filed nothing, emergencies included.
FIRST_WORDS_WITH_NUMBERS = (
    "se derrumbo la casa 5A del block 2C4 pasaje 8 hay heridos",
    "inundacion en la colonia 10 de mayo pje 3B casa 4C2 el agua llega a la cintura",
    "la ruta 42B no pasa por la 7a calle oriente frente a 3B4C",
    "referencia: lote 2B5 pasaje Q7W casa 3K8, hay basura acumulada",
    "la 4x4 azul placa P 582 ABC tira basura en km 12 1/2 carretera a Sonsonate",
    "tel 2222 3333 ext 45, la calle esta llena de baches",
    # A house number between two four-letter words (an outside check, 2026-12-06).
    "la casa 2345 esta inundada",
    "casa 2345 mesa 12 se cayo el techo",
)


def test_reports_with_house_block_and_plate_numbers_are_not_taken_for_codes(app):
    for n, words in enumerate(FIRST_WORDS_WITH_NUMBERS):
        citizen = Citizen(app.dialogue, app.uow, address=f"5037930{n:04d}")
        citizen.converse("hola", "si")
        answer = citizen.send(words)
        assert "código" not in answer, (words, answer)
        with app.engine.connect() as connection:
            query = "SELECT count(*) FROM messages WHERE body = :words AND contact_id IS NOT NULL"
            assert connection.execute(text(query), {"words": words}).scalar_one() == 1, words


def test_a_new_number_whose_first_message_asks_about_a_code_leaves_no_contact(app):
    code = file_anonymous_denuncia(app, "50379200008")
    newcomer = Citizen(app.dialogue, app.uow, address="50379200009")
    assert "Estado: Recibido" in newcomer.send(f"estado {code}")
    deliver_everything(app)
    assert "No encontramos una denuncia anónima" in newcomer.send("estado ABCD-EFGH-2345")
    deliver_everything(app)
    with app.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
            dump = " ".join(map(str, rows))
            assert "50379200009" not in dump, f"the number that asked is stored in {table}"
    assert_no_code_question_marks_anyone(app)
    # Writing for anything else, the number becomes a contact as anyone does.
    assert "¿Está de acuerdo?" in newcomer.send("hola")
    with app.uow() as uow:
        contact = uow.contacts.find("console", "50379200009")
    assert contact is not None and contact.folio_misses == 0


def test_a_group_of_only_letters_or_digits_right_after_a_piece_of_a_code_is_a_piece_too(app):
    citizen = Citizen(app.dialogue, app.uow, address="50379200010")
    citizen.converse(*POTHOLE)
    deliver_everything(app)
    not_found = "No encontramos una denuncia anónima con ese código"
    for first, rest in (("N9DX-8QAB", "TTTT"), ("N9DX 8QAB", "8888"), ("Q7RW", "MMMM 2222")):
        assert not_found in citizen.send(first)
        assert not_found in citizen.send(rest), rest
        deliver_everything(app)
    with app.engine.connect() as connection:
        query = "SELECT body FROM messages WHERE contact_id IS NOT NULL"
        named = " ".join(connection.execute(text(query)).scalars().all())
    for piece in ("N9DX", "8QAB", "TTTT", "8888", "Q7RW", "MMMM", "2222"):
        assert piece not in named.upper(), piece
    assert_no_code_question_marks_anyone(app)
    # Anywhere else (and once a code's three groups are in), four digits are what they say.
    citizen.converse("1", "hay un poste caido frente a la casa 7856")
    assert not_found not in citizen.send("7856")
    citizen.send("N9DX-8QAB")
    citizen.send("TTTT")
    assert not_found not in citizen.send("2345")
    with app.engine.connect() as connection:
        query = "SELECT body FROM messages WHERE contact_id IS NOT NULL AND direction = 'in'"
        query += " ORDER BY id"
        named = connection.execute(text(query)).scalars().all()
    assert named[-2:] == ["7856", "2345"]


# What the outside attack of 2026-12-05 (night, F3) ran: the anonymous case held the consent
# exchange of a new contact, and that contact was the one consented that day with nothing left.
NEW_CONTACT_OF_THE_DAY = """
SELECT k.folio, c.address FROM cases k JOIN contacts c
  ON date(c.consented_at) = date(k.created_at) AND c.channel = k.channel
WHERE k.anonymous
  AND EXISTS (SELECT 1 FROM messages m
              WHERE m.case_id = k.id AND m.body LIKE 'Gracias por aceptar%')
  AND c.address NOT LIKE 'borrado:%'
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.contact_id = c.id)
"""
CONSENTED_WITH_NOTHING = """
SELECT c.address FROM contacts c
WHERE c.consented_at IS NOT NULL AND c.address NOT LIKE 'borrado:%'
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.contact_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.contact_id = c.id)
"""


def test_a_new_number_whose_only_filing_is_anonymous_looks_like_anyone_who_consented(app):
    # Someone else consents and stops writing: what an ordinary contact looks like.
    Citizen(app.dialogue, app.uow, address="50370008888").converse("hola", "si")
    deliver_everything(app)
    reporter = Citizen(app.dialogue, app.uow, address="50370007777")
    answers = []
    for line in ANONYMOUS_DENUNCIA:
        answers.append(reporter.send(line))
        deliver_everything(app)
    assert "Código secreto de seguimiento" in answers[-1]
    with app.engine.connect() as connection:
        assert connection.execute(text(NEW_CONTACT_OF_THE_DAY)).all() == []
        assert connection.execute(text(CONSENTED_WITH_NOTHING)).all() == []
        assert connection.execute(text(ANSWERS_WITH_NO_QUESTION)).all() == []
    with app.uow() as uow:
        (case,) = uow.cases.search()
        kept = uow.messages.for_case(case.id)
        reporter_row = uow.contacts.get_or_create("console", "50370007777", case.created_at)
        other_row = uow.contacts.get_or_create("console", "50370008888", case.created_at)
        mine = uow.messages.for_contact(reporter_row.id)
        theirs = uow.messages.for_contact(other_row.id)
        states = [uow.conversations.get(c.id) for c in (reporter_row, other_row)]
    # The report holds its own exchange, from the menu choice on: no greeting, no consent.
    assert [m.body for m in kept if m.direction == "in"] == list(ANONYMOUS_DENUNCIA[2:])
    assert not any(m.body.startswith("Gracias por aceptar") for m in kept)
    # The reporter keeps what anyone who consented keeps, as they do.
    assert [m.body for m in mine if m.direction == "in"] == ["hola", "si"]
    assert [(m.direction, m.body) for m in mine] == [(m.direction, m.body) for m in theirs]
    assert states == [None, None]
    assert (reporter_row.consented_at, reporter_row.created_at, reporter_row.folio_misses) == (
        other_row.consented_at,
        other_row.created_at,
        other_row.folio_misses,
    )


def test_the_anonymous_receipt_says_it_was_sent_once_sent_and_failed_once_given_up(app):
    """Found by the same attack (F5): the receipt's row ("[confidencial]") stayed «pending»
    after it was sent, on every channel: its outbox row, which the send deletes, did not point
    to it."""
    sent_to = Citizen(app.dialogue, app.uow, address="50370001111")
    for line in ANONYMOUS_DENUNCIA:
        sent_to.send(line)
        deliver_everything(app)  # as the dispatcher records each send
    given_up = Citizen(app.dialogue, app.uow, address="50370002222")
    given_up.converse(*ANONYMOUS_DENUNCIA[:-1])
    deliver_everything(app)
    given_up.send(ANONYMOUS_DENUNCIA[-1])
    with app.uow() as uow:
        for item in uow.outbox.pending("console"):
            uow.outbox.fail(item, "the provider refused it")
        uow.commit()
    with app.engine.connect() as connection:
        receipts = connection.execute(
            text("SELECT status FROM messages WHERE body = '[confidencial]' ORDER BY status")
        ).all()
        left = connection.execute(text("SELECT message_id, address, body FROM outbox"))
        confidential = [row for row in left if row.body == "[confidencial]"]
    assert [row.status for row in receipts] == ["failed", "sent"]
    # The row given up keeps no recipient, no text and no way to its message.
    assert confidential and all(row.message_id is None for row in confidential)
    assert all(row.address == "" for row in confidential)
