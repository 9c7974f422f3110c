"""Issue 19's written documents through the real channels: a citizen writes CONSTANCIA and the
PDF arrives at the provider stand-in (a Telegram document; on WhatsApp a media URL that Twilio
fetches from the service), with the folio and the deadline in its text; an anonymous denuncia's
names no one and holds no hour; where the institution asks for written filings, the solicitud
follows the receipt with the photo as an annex and a place to sign."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from PIL import Image
from pypdf import PdfReader

from tests.e2e.channels import Service, TelegramCitizen, WhatsAppCitizen
from tests.helpers import POTHOLE, pdf_text

DENUNCIA = "denuncio que el capataz vende el cemento de la obra del puente"
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
HOUR = re.compile(r"\b\d{1,2}:\d{2}\b")


def receipt_values(texts: list[str]) -> dict[str, str]:
    """The lines of the receipt the citizen was sent ("Folio: ...", "Fecha límite ...")."""
    receipt = next(text for text in texts if "quedó registrad" in text)
    return dict(line.split(": ", 1) for line in receipt.splitlines() if ": " in line)


def documents_to(provider, chat_id: int) -> list:
    return [c for c in provider.calls_to("sendDocument") if int(c.params["chat_id"]) == chat_id]


def media_to(provider, number: str) -> list[str]:
    return [
        c.params["MediaUrl"]
        for c in provider.sent("twilio")
        if c.params.get("To") == f"whatsapp:{number}" and c.params.get("MediaUrl")
    ]


def test_a_citizen_who_writes_constancia_gets_the_pdf_with_the_folio_and_the_deadline(
    service, provider
):
    # On Telegram: the PDF itself, as a document with its file name and a caption.
    luis = TelegramCitizen(service, 5101, "Luis Martínez")
    for line in POTHOLE:
        luis.send(line)
    provider.wait_for(lambda: any("Folio:" in r.get("text", "") for r in luis.replies()))
    receipt = receipt_values([r.get("text", "") for r in luis.replies()])
    folio, deadline = receipt["Folio"], receipt["Fecha límite de respuesta"]
    luis.send("constancia")
    (sent,) = provider.wait_for(lambda: documents_to(provider, 5101))
    assert sent.params["document.filename"] == f"constancia-{folio}.pdf"
    assert sent.params["caption"] == f"Constancia de recepción del caso {folio} (PDF)"
    assert any("Le enviamos la constancia" in r.get("text", "") for r in luis.replies())
    text = pdf_text(sent.params["document"])
    assert "Constancia de recepción" in text and "Ministerio de Obras Públicas" in text
    assert folio in text and deadline in text
    # Presented by the name he gave: a chat's profile name is not one (he gave none).
    assert "Luis Martínez" not in text and "No lo indicó" in text
    assert f"«estado {folio}»" in text
    assert "San Miguel, colonia Las Brisas" in text

    # On WhatsApp: a media message whose URL the service serves, as a PDF, for Twilio to fetch.
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    for line in POTHOLE:
        ana.send(line)
    provider.wait_for(lambda: any("Folio:" in r for r in ana.replies()))
    receipt = receipt_values(ana.replies())
    ana.send(f"constancia {receipt['Folio'].lower()}")
    (url,) = provider.wait_for(lambda: media_to(provider, "+50370001234"))
    link = urlsplit(url)
    assert f"{link.scheme}://{link.netloc}" == service.url
    fetched = service.http.get(link.path)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/pdf"
    text = pdf_text(fetched.content)
    assert receipt["Folio"] in text and receipt["Fecha límite de respuesta"] in text
    # Nothing else is served from there: not another name, not the folder, not a way out.
    folder, name = link.path.rsplit("/", 1)
    for path in (
        folder + "/" + "A" * 32 + ".pdf",
        folder + "/" + name.replace(".pdf", ".PDF"),
        folder + "/",
        folder + "/../../config.toml",
        folder + "/%2e%2e%2fconfig.toml",
    ):
        assert service.http.get(path).status_code == 404, path
    # Someone else's folio gets no document.
    ana.send(f"constancia {folio}")
    provider.wait_for(lambda: "No encontramos ese caso" in ana.replies()[-1])
    assert len(media_to(provider, "+50370001234")) == 1
    # She erases her data: her constancia goes at once, not when its link expires.
    ana.send("borrar mis datos")
    provider.wait_for(lambda: "Seguro" in ana.replies()[-1])
    ana.send("si")
    provider.wait_for(lambda: "borramos sus datos" in ana.replies()[-1])
    assert service.http.get(link.path).status_code == 404
    assert not list((service.tmp_path / "media" / "documents").glob("*.pdf"))


def test_an_anonymous_denuncia_gets_a_constancia_that_names_no_one_and_holds_no_hour(
    service, provider
):
    xiomara = TelegramCitizen(service, 5202, "Xiomara Castillo")
    for line in ("hola", "si", "1", DENUNCIA, "listo", "si", "Mejicanos, colonia Montreal", "1"):
        seen = len(xiomara.replies())
        xiomara.send(line)
        provider.wait_for(lambda seen=seen: len(xiomara.replies()) > seen)
    said = lambda: "\n".join(r.get("text", "") for r in xiomara.replies())  # noqa: E731
    code = provider.wait_for(lambda: CODE.search(said()))[0]
    # Asked for by the code (the only way to reach an anonymous case), in lower case too.
    xiomara.send(f"constancia {code.lower()}")
    (sent,) = provider.wait_for(lambda: documents_to(provider, 5202))
    assert sent.params["caption"] == "Constancia de recepción de su denuncia anónima (PDF)"
    text = pdf_text(sent.params["document"])
    assert "Denuncia anónima: este documento no nombra a nadie" in text
    assert "Xiomara" not in text and "Castillo" not in text and "5202" not in text
    assert code not in text and "código secreto" in text
    assert HOUR.search(text) is None, "an anonymous case is dated by its day only"
    assert "Fecha de recepción" in text and "Mejicanos, colonia Montreal" in text
    assert re.search(r"TA-\d{4}-\d{6}", text) is None  # no folio: its sender follows the code
    assert sent.params["document.filename"] == "constancia-denuncia-anonima.pdf"
    # The PDF's own date is the day too: midnight in San Salvador, 06:00 UTC.
    created = PdfReader(io.BytesIO(sent.params["document"])).metadata["/CreationDate"]
    assert re.fullmatch(r"D:\d{8}060000Z?.*", created), created


def test_where_written_filings_are_asked_for_the_solicitud_follows_the_receipt_with_the_photo(
    tmp_path, database_url, provider
):
    service = Service(tmp_path, database_url, provider)
    service.env["TA_DOCUMENTS__WRITTEN_FILING"] = "true"
    service.env["TA_INSTITUTION__NAME"] = "Alcaldía de Ñuñoa"
    service.start()
    try:
        photo = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 120, 40)).save(photo, "JPEG")
        url = provider.add_media("MEfoto", photo.getvalue(), "image/jpeg")
        rosa = WhatsAppCitizen(service, "+50370005555", "Rosa Peña")
        for line in POTHOLE[:4]:
            rosa.send(line)
        rosa.send("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
        for line in POTHOLE[4:]:
            rosa.send(line)
        (link,) = provider.wait_for(lambda: media_to(provider, "+50370005555"))
        replies = rosa.replies()
        told = next(i for i, r in enumerate(replies) if "presenten también por escrito" in r)
        assert told > next(i for i, r in enumerate(replies) if "quedó registrado" in r)
        content = service.http.get(urlsplit(link).path).content
        text = pdf_text(content)
        assert "Solicitud escrita" in text and "A: Alcaldía de Ñuñoa" in text
        # Her WhatsApp profile's name is not one she gave: a line to fill in by hand instead.
        assert "Rosa Peña" not in text and "Quien suscribe, ____" in text and "Firma:" in text
        assert "hoyo enorme" in text and "Anexo 1: fotografía" in text
        assert len(PdfReader(io.BytesIO(content)).pages) == 2  # the photo on a page of its own
    finally:
        service.stop()
