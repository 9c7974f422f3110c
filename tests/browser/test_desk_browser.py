"""The web desk in a real browser (the system's Chromium, headless, driven by Playwright) against
the real service and the provider stand-in: an administrator made on the command line signs in
with a TOTP code, a citizen's WhatsApp case with a photo arrives in the Bandeja without a reload,
is answered (preview, then send) and closed, and Informes counts it. Screenshots of the Bandeja,
the Caso and Informes are written to TA_SCREENSHOTS (docs/img refreshes the README's) or to the
test's temporary folder; axe-core scans the same three pages."""

from __future__ import annotations

import io
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from PIL import Image, ImageDraw

from tests.e2e.channels import COMMAND, WhatsAppCitizen
from tests.helpers import DENUNCIA, POTHOLE

pytestmark = pytest.mark.browser

PASSWORD = "una clave muy larga para la mesa"
REPLY = "Gracias por avisar: una cuadrilla revisará la calle principal esta semana."
SERIOUS = {"serious", "critical"}


def photo_of_a_pothole() -> bytes:
    """A real JPEG (the page shows it, and the screenshot too)."""
    image = Image.new("RGB", (480, 320), (150, 150, 145))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 220, 480, 320), fill=(90, 110, 80))
    draw.ellipse((150, 120, 330, 200), fill=(45, 40, 35))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def staff_command(service, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [COMMAND, *args],
        input=stdin,
        env=service.env,
        cwd=service.tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def an_administrator(service) -> str:
    """Made as README says, on the command line; returns the authenticator's secret."""
    staff_command(
        service, "staff", "add", "--name", "Marta Ríos", "--role", "admin", "--username", "marta"
    )
    staff_command(service, "staff", "password", "marta", stdin=PASSWORD + "\n")
    enrolled = staff_command(service, "staff", "totp", "marta")
    return re.search(r"Secreto: ([A-Z2-7]+)", enrolled)[1]


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TA_SCREENSHOTS") or tmp_path / "capturas")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_an_administrator_works_a_whatsapp_case_from_arrival_to_the_report(
    page, service, provider, tmp_path
):
    secret = an_administrator(service)
    shots = screenshots(tmp_path)
    found: list[str] = []

    # Without a session the Bandeja sends the browser to the sign-in form, and back after it.
    page.goto(service.url + "/mesa/bandeja")
    assert "/mesa/login" in page.url
    page.fill("#username", "marta")
    page.fill("#password", PASSWORD)
    page.fill("#otp", pyotp.TOTP(secret).at(datetime.now(UTC)))
    page.click("form[action='/mesa/login'] button[type=submit]")
    page.wait_for_url("**/mesa/bandeja**")
    assert "TA-" not in page.inner_text("tbody[data-live]")

    # A citizen writes on WhatsApp with a photo while the Bandeja is open: the row arrives
    # without the page being loaded again (a mark left on the page survives).
    page.evaluate("window.sameLoad = true")
    ana = WhatsAppCitizen(service, "+50370004321", "Ana")
    photo = provider.add_media("MEPHOTO", photo_of_a_pothole(), "image/jpeg")
    hello, consent, menu, description, done, confirm, place, skip = POTHOLE
    for body in (hello, consent, menu, description):
        ana.send(body)
    ana.send("", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    for body in (done, confirm, place, skip):
        ana.send(body)
    row = page.locator("tbody[data-live] a", has_text="TA-")
    row.first.wait_for(timeout=90_000)
    assert page.evaluate("window.sameLoad") is True
    folio = row.first.inner_text().strip()
    assert re.fullmatch(r"TA-\d{4}-\d{6}", folio)
    page.screenshot(path=str(shots / "bandeja.png"))
    found += serious_violations(page)

    # The agent opens the case and sees the photo (fetched from the provider in the background).
    row.first.click()
    page.wait_for_url(f"**/mesa/casos/{folio}")
    photo_shown = page.locator("ol.timeline img")
    for _ in range(60):
        if photo_shown.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    photo_shown.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 480", arg=photo_shown.first.element_handle()
    )
    assert "hoyo enorme" in page.inner_text("main")

    # The reply is first shown as the citizen will read it, then sent; it reaches the stand-in.
    page.fill("#texto-respuesta", REPLY)
    page.click("form.reply button:not([name])")
    preview = page.get_by_role("region", name=re.compile("ciudadano|vista", re.I))
    assert REPLY in preview.inner_text()
    assert not [text for text in ana.replies() if REPLY in text]
    page.click("form.reply button[name=enviar]")
    provider.wait_for(lambda: [text for text in ana.replies() if REPLY in text])
    page.screenshot(path=str(shots / "caso.png"), full_page=True)
    found += serious_violations(page)

    # The agent closes it, with the resolution the citizen is told.
    page.fill("form[action$='/cerrar'] input[name=texto]", "Bache reparado por la cuadrilla")
    page.click("form[action$='/cerrar'] button")
    page.wait_for_url(f"**/mesa/casos/{folio}**")
    assert "Cerrado" in page.inner_text("section.summary")

    # Informes (the supervisor's page) counts it: received and attended this period.
    page.click("nav a[href='/mesa/informes']")
    page.wait_for_url("**/mesa/informes**")
    report = page.inner_text("main")
    assert "se recibió 1 caso" in report and "se atendió 1." in report, report
    page.screenshot(path=str(shots / "informes.png"))
    found += serious_violations(page)

    # On a 390 px wide phone no page scrolls sideways (tables scroll in their own box).
    page.set_viewport_size({"width": 390, "height": 844})
    pages = ("bandeja", f"casos/{folio}", "visitas", "compromisos", "informes")
    for path in (f"/mesa/{name}" for name in pages):
        page.goto(service.url + path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, (path, width)

    assert found == []


# Every word of the Bandeja's cells that the browser broke across two lines (a folio counts as
# one word): words wrap at spaces, never inside.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("table.queue th, table.queue td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


def test_the_bandeja_breaks_no_word_when_a_case_is_anonymous_and_has_an_icon(
    page, service, tmp_path
):
    secret = an_administrator(service)
    page.goto(service.url + "/mesa/login")
    page.fill("#username", "marta")
    page.fill("#password", PASSWORD)
    page.fill("#otp", pyotp.TOTP(secret).at(datetime.now(UTC)))
    page.click("form[action='/mesa/login'] button[type=submit]")
    page.wait_for_url("**/mesa/bandeja**")

    anonymous = WhatsAppCitizen(service, "+50370004322", "Beto")
    for body in (*DENUNCIA, "1"):  # "1": yes, anonymous
        anonymous.send(body)
    ana = WhatsAppCitizen(service, "+50370004321", "Ana")
    for body in POTHOLE:
        ana.send(body)
    rows = page.locator("tbody[data-live] tr", has_text="TA-")
    page.locator("tbody[data-live] .tag").first.wait_for(timeout=90_000)
    rows.nth(1).wait_for(timeout=90_000)

    assert page.viewport_size["width"] == 1280
    page.screenshot(path=str(tmp_path / "bandeja-anonima.png"))
    assert page.evaluate(BROKEN_WORDS) == []

    # The browser's tab shows the desk's icon, served by the service itself.
    icon = page.get_attribute("link[rel=icon]", "href")
    for path in (icon, "/favicon.ico"):
        answer = page.request.get(service.url + path)
        assert answer.status == 200, path
        assert answer.headers["content-type"].startswith("image/"), path
