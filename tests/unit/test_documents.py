"""A case's written documents: CONSTANCIA in the chat, the solicitud after the receipt where
the institution asks for written filings, what each document says (and, for an anonymous
denuncia, does not), and the PDF they become."""

import io
import re
import time

import pytest
from PIL import Image
from pydantic import ValidationError
from pypdf import PdfReader

from bot.documents import DocumentLinks, render_pdf
from handlers.casework.documents import build, constancia, solicitud
from handlers.dialogue.conversation import Dialogue
from storage.models import Case, Contact, Message, OutboxItem
from tests import helpers
from tests.helpers import POTHOLE, TUESDAY, Citizen, assert_transcript, pdf_text
from tests.unit.fakes import FakeClassifier, FakeUnitOfWork
from tests.unit.test_dialogue import DENUNCIA

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def documents_queued(uow: FakeUnitOfWork) -> list[tuple[str, dict, bool]]:
    """The outbox rows that carry a document: (their text, the document, confidential)."""
    return [
        (item.body, item.options["document"], item.confidential)
        for item in uow.rows[OutboxItem]
        if "document" in item.options
    ]


def test_constancia_in_the_chat_sends_the_latest_cases_document_after_a_line_that_says_so(
    citizen, uow, case
):
    assert_transcript(
        citizen,
        [
            (
                "constancia",
                "Le enviamos la constancia de recepción en PDF en el siguiente mensaje.\n"
                "Constancia de recepción del caso TA-2026-000001 (PDF)",
            ),
        ],
    )
    assert documents_queued(uow) == [
        (
            "Constancia de recepción del caso TA-2026-000001 (PDF)",
            {"kind": "constancia", "case_id": case.id},
            False,
        )
    ]


def test_with_several_cases_constancia_says_which_and_a_folio_names_another(citizen, uow, case):
    citizen.converse(*POTHOLE[2:])
    answer = citizen.send("constancia")
    assert answer.startswith("Le enviamos la constancia de su caso más reciente, TA-2026-000002.")
    assert citizen.send("Constancia de recepción ta-2026-1").endswith(
        "Constancia de recepción del caso TA-2026-000001 (PDF)"
    )
    assert [doc["case_id"] for _, doc, _ in documents_queued(uow)] == [
        uow.rows[Case][1].id,
        case.id,
    ]


def test_constancia_of_someone_elses_folio_or_with_no_case_sends_nothing(
    make_citizen, citizen, uow, case
):
    other = make_citizen("7002")
    other.converse("hola", "si")
    assert other.send("constancia TA-2026-000001").startswith("No encontramos ese caso")
    assert other.send("constancia").startswith("No tiene casos registrados")
    assert documents_queued(uow) == []


def test_an_anonymous_denuncias_constancia_is_asked_for_by_its_code_and_names_no_one(
    citizen, uow, clock
):
    citizen.converse(*DENUNCIA)
    receipt = citizen.send("1")  # anonymous
    code = CODE.search(receipt)[0]
    answer = citizen.send(f"constancia {code}")
    assert answer.endswith("Constancia de recepción de su denuncia anónima (PDF)")
    (queued,) = documents_queued(uow)
    assert queued[2] is True  # confidential: it leaves the outbox once sent
    (case,) = uow.rows[Case]
    document = constancia(uow, citizen.dialogue.policy, case, clock())
    said = " ".join(f"{f.label} {f.value}" for f in document.fields)
    said += " ".join(s.value for s in document.sections) + " ".join(document.footer)
    assert "Denuncia anónima: este documento no nombra a nadie" in said
    assert code not in said and re.search(r"\d{1,2}:\d{2}", said) is None
    assert document.issued == citizen.dialogue.policy.day_of(clock.now)


def test_an_anonymous_denuncias_documents_carry_no_folio_and_asking_by_its_folio_ties_no_one(
    citizen, uow, clock
):
    """F3 of the privacy attack: the folio printed in the citizen's PDF (and its file name), then
    typed to ask about the case, was stored with the sender's number."""
    citizen.converse(*DENUNCIA)
    citizen.send("1")  # anonymous
    (case,) = uow.rows[Case]
    policy = citizen.dialogue.policy
    for document in (constancia(uow, policy, case, clock()), solicitud(uow, policy, case, clock())):
        said = " ".join(f"{f.label} {f.value}" for f in document.fields + document.sections)
        said += document.intro + " ".join(document.footer) + " ".join(document.signature)
        assert case.folio not in said + document.filename and "Folio" not in said
        assert document.filename.endswith("-denuncia-anonima.pdf")
    (contact,) = uow.rows[Contact]
    for asked in (f"constancia {case.folio}", f"estado {case.folio.lower()}"):
        assert citizen.send(asked).startswith("No encontramos ese caso")
        (message,) = [m for m in uow.rows[Message] if m.body == asked]
        assert message.contact_id is None and message.provider_id is None
        assert message.created_at == policy.day_of(message.created_at)
    assert contact.folio_misses == 0 and documents_queued(uow) == []
    # A code mistyped is kept the same way (only an anonymous reporter holds one), and counts.
    answer = citizen.send("estado ABCD-2345-EFGH")
    assert answer.startswith("No encontramos una denuncia anónima con ese código")
    (message,) = [m for m in uow.rows[Message] if "estado" in m.body and "-" in m.body[-5:]]
    assert message.contact_id is None and contact.folio_misses == 1
    # Any other folio not theirs stays theirs, and counts as a miss.
    citizen.send("estado TA-2026-000077")
    assert [m.contact_id for m in uow.rows[Message] if "000077" in m.body] == [contact.id]
    assert contact.folio_misses == 2


def test_a_documents_file_keeps_only_its_day_and_is_deleted_once_its_link_expires(
    tmp_path, citizen, uow, case, clock
):
    """F4 of the privacy attack: a file's modification time was when its link expires (its
    sending time to the second), and an expired file stayed until the next document was sent."""
    later = [0.0]
    folder = tmp_path / "documents"
    links = DocumentLinks(
        folder, "https://x.example/documents", 5, clock=lambda: time.time() + later[0]
    )
    document = constancia(uow, citizen.dialogue.policy, case, clock())
    first, second = (links.publish(document).rsplit("/", 1)[1] for _ in range(2))
    day = int(time.time()) // 86400 * 86400
    for path in (folder / first, folder / second, folder):
        assert path.stat().st_mtime == path.stat().st_atime == day, path
    assert links.find(first) == folder / first
    later[0] = 5 * 60 + 1  # the link's minutes have passed
    assert links.find(first) is None and not (folder / first).exists()
    assert links.prune() == 1 and list(folder.iterdir()) == []
    assert folder.stat().st_mtime == day


def test_where_written_filings_are_asked_for_the_solicitud_follows_every_receipt(uow):
    settings = helpers.make_settings(documents={"written_filing": True})
    dialogue: Dialogue = helpers.make_dialogue(settings, FakeClassifier())
    ana = Citizen(dialogue, lambda: uow, address="7001")
    answer = ana.converse(*POTHOLE)
    receipt, told, sent = answer.split("\n")[-9:-8], answer.split("\n")[-2], answer.split("\n")[-1]
    assert receipt == ["✅ Su caso quedó registrado."]
    assert told.startswith("Pedimos que los casos se presenten también por escrito: en el")
    assert sent == "Solicitud escrita del caso TA-2026-000001 (PDF), lista para firmar"
    (case,) = uow.rows[Case]
    assert documents_queued(uow)[0][1] == {"kind": "solicitud", "case_id": case.id}


def test_the_solicitud_is_filled_in_with_the_persons_name_and_a_place_to_sign(
    citizen, uow, case, clock
):
    (contact,) = uow.rows[Contact]
    # A chat's profile name is not a name the person gave: neither document prints it.
    contact.name = "Rosita WA"
    policy = citizen.dialogue.policy
    assert "Rosita WA" not in solicitud(uow, policy, case, clock()).intro
    assert "Rosita WA" not in " ".join(map(str, constancia(uow, policy, case, clock()).fields))
    # The name given to staff who logged the call is printed.
    contact.channel, contact.name = "telefono", "Rosa Peña"
    assert "Rosa Peña" in " ".join(map(str, constancia(uow, policy, case, clock()).fields))
    document = solicitud(uow, citizen.dialogue.policy, case, clock())
    assert "Rosa Peña" in document.intro and "Nombre: Rosa Peña" in document.signature
    assert document.annexes == () and not document.waiting
    assert build(uow, citizen.dialogue.policy, "otra", case.id, clock()) is None
    assert build(uow, citizen.dialogue.policy, "constancia", 999, clock()) is None


def test_the_pdf_prints_accents_and_enye_and_leaves_out_what_the_font_cannot_print(
    citizen, uow, case, clock
):
    case.description = "Año tras año el niño cruza el puente 🚧 sin señalización"
    text = pdf_text(render_pdf(constancia(uow, citizen.dialogue.policy, case, clock())))
    assert "Año tras año el niño cruza el puente sin señalización" in text
    assert "Constancia de recepción" in text and "Ministerio de Obras Públicas" in text
    assert "martes 08/12/2026 (15 días hábiles)" in text


def test_the_constancia_names_the_institution_in_its_heading_and_needs_no_article_for_it(
    citizen, uow, case, clock
):
    document = constancia(uow, citizen.dialogue.policy, case, clock())
    assert document.institution == "Ministerio de Obras Públicas"
    assert document.intro == (
        "Por la presente se hace constar que esta institución recibió el caso que se describe a "
        "continuación, con el folio y la fecha límite de respuesta indicados."
    )


def test_the_institutions_logo_from_the_settings_heads_the_pdf_and_a_bad_one_is_refused(
    tmp_path, uow
):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 60), (0, 70, 140)).save(logo, "PNG")
    settings = helpers.make_settings(institution={"logo": str(logo)})
    dialogue = helpers.make_dialogue(settings, FakeClassifier())
    Citizen(dialogue, lambda: uow, address="7001").converse(*POTHOLE)
    (case,) = uow.rows[Case]
    document = constancia(uow, dialogue.policy, case, TUESDAY)
    assert document.logo == str(logo)
    page = PdfReader(io.BytesIO(render_pdf(document))).pages[0]
    assert len(page.images) == 1
    (tmp_path / "logo.txt").write_text("no soy una imagen")
    for wrong in (tmp_path / "logo.txt", tmp_path / "no-existe.png"):
        with pytest.raises(ValidationError, match="El logotipo"):
            helpers.make_settings(institution={"logo": str(wrong)})
