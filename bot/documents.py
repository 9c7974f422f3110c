"""The case's documents as PDF files, and the short-lived links WhatsApp fetches them by.

`render_pdf` lays out a model decided by handlers/casework/documents.py with fpdf2 (imported
when a document is first rendered: the commands that never make one do not load it), in
DejaVu Sans as shipped inside matplotlib's package, so that accents and ñ print on every
machine without a system font.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from bot.config import Settings
from handlers.casework.documents import Document

log = logging.getLogger(__name__)

# The documents' links, served by bot/server.py for Twilio to fetch (WhatsApp takes a file only
# by URL).
DOCUMENTS_PATH = "/documents"
LINK_TOKEN_BYTES = 24  # 32 URL-safe characters
LINK_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.pdf")
ANNEX_PIXELS = 1600  # photos are scaled down to this many pixels on their longer side
MARGIN = 20  # millimetres


@cache
def font_files() -> tuple[str, str]:
    """DejaVu Sans, regular and bold, from matplotlib's package data (a dependency already,
    for the charts), found without importing matplotlib itself."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib, which ships the documents' font, is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return str(folder / "DejaVuSans.ttf"), str(folder / "DejaVuSans-Bold.ttf")


def render_pdf(document: Document) -> bytes:
    """The document as PDF bytes: header (logo and institution), title, the fields, the
    sections, the place to sign, the footer, then one page per annex."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    # fpdf2 warns of glyphs the font lacks by naming them: characters the citizen wrote.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font("dejavu", "", regular)
    pdf.add_font("dejavu", "B", bold)
    pdf.set_creation_date(document.issued)
    pdf.set_title(document.title)
    pdf.set_author(document.institution)
    pdf.set_lang("es")
    pdf.set_font("dejavu", size=11)
    printable = _printable(pdf)
    pdf.add_page()

    def line(text: str, size: float = 11, style: str = "", height: float = 6) -> None:
        pdf.set_font("dejavu", style, size)
        pdf.multi_cell(0, height, printable(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if document.logo:
        with contextlib.suppress(Exception):  # checked at start-up; a file changed since is skipped
            pdf.image(document.logo, x=MARGIN, y=MARGIN, h=18)
            pdf.set_y(MARGIN + 22)
    line(document.institution, 13, "B", 7)
    pdf.ln(4)
    line(document.title, 18, "B", 9)
    pdf.ln(3)
    line(document.intro)
    pdf.ln(3)
    pdf.set_font("dejavu", size=10)
    with pdf.table(
        col_widths=(32, 68),
        first_row_as_headings=False,
        text_align="LEFT",
        line_height=6,
        padding=1.5,
    ) as table:
        for field in document.fields:
            row = table.row()
            pdf.set_font("dejavu", "B", 10)
            row.cell(printable(field.label))
            pdf.set_font("dejavu", "", 10)
            row.cell(printable(field.value))
    for section in document.sections:
        pdf.ln(4)
        line(section.label, 12, "B", 7)
        line(section.value)
    if document.signature:
        pdf.ln(4)
        if pdf.will_page_break(40):
            pdf.add_page()
        pdf.ln(14)
        for text in document.signature:
            line(text, height=8)
    if document.annexes:
        pdf.ln(4)
        line(document.annexes_heading, 12, "B", 7)
        for annex in document.annexes:
            line(annex.label, 10)
    pdf.ln(6)
    for text in document.footer:
        line(text, 8, height=4.5)
    for annex in document.annexes:
        image = _annex_image(annex.value) if annex.value else None
        if image is None:
            continue
        pdf.add_page()
        line(annex.label, 11, "B", 7)
        pdf.ln(2)
        content, (pixels_wide, pixels_high) = image
        # As large as the page allows, from the top, in its own proportions.
        scale = min(
            (pdf.w - 2 * MARGIN) / pixels_wide, (pdf.h - pdf.get_y() - MARGIN) / pixels_high
        )
        pdf.image(content, x=MARGIN, w=pixels_wide * scale, h=pixels_high * scale)
    return bytes(pdf.output())


def _printable(pdf) -> Callable[[str], str]:
    """A function that replaces the characters the font has no glyph for (emoji) with a
    space, so that nothing prints as an empty box."""
    cmap = pdf.fonts["dejavu"].cmap

    def printable(text: str) -> str:
        return "".join(c if c in "\n\t" or ord(c) in cmap else " " for c in text)

    return printable


def _annex_image(path: str) -> tuple[io.BytesIO, tuple[int, int]] | None:
    """A photo to print: scaled down and re-encoded, which also leaves out its metadata (a
    camera's EXIF may hold where and when it was taken); None when it cannot be read."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as original:
            image = ImageOps.exif_transpose(original).convert("RGB")
        image.thumbnail((ANNEX_PIXELS, ANNEX_PIXELS))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        return io.BytesIO(out.getvalue()), image.size
    except Exception as exc:  # a file that is not an image after all, or gone
        log.info("documents: an annex could not be printed (%s)", type(exc).__name__)
        return None


class DocumentLinks:
    """PDF files served for a short while under unguessable names, for providers that take a
    file only by URL (Twilio).

    A file's times must not date the document (an anonymous denuncia's constancia is sent right
    after the report): its modification time, and the folder's, are set to the day. Its link
    expires `minutes` after it was written, which its status-change time tells (the system's,
    not settable); an expired file is deleted when asked for and by `prune`, which the service
    runs every few seconds (bot/outbox.py), so no file outlives its link for long. Each pass also
    sets the folder's times to the day again: its change time is then always a few seconds ago,
    whatever was written or deleted in it.
    """

    def __init__(
        self,
        directory: Path,
        base_url: str,
        minutes: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/") + "/"
        self.seconds = minutes * 60
        self.clock = clock

    def publish(self, document: Document) -> str:
        """Render the document, store it under a fresh name, and return its URL."""
        self.prune()
        content = render_pdf(document)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_urlsafe(LINK_TOKEN_BYTES)}.pdf"
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".partial-")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, self.directory / name)
        to_the_day(self.directory / name)
        to_the_day(self.directory)
        return self.base_url + name

    def find(self, name: str) -> Path | None:
        """The file called `name` while its link is valid; None for any other name (an expired
        one is deleted)."""
        if not LINK_NAME.fullmatch(name):
            return None
        path = self.directory / name
        try:
            if self._expired(path):
                path.unlink()
                return None
        except OSError:
            return None
        return path

    def prune(self) -> int:
        """Delete the files whose links expired (only files named as `publish` names them, and
        what a crash left half written); the folder's times go back to the day."""
        removed = 0
        if not self.directory.is_dir():
            return removed
        for path in self.directory.iterdir():
            with contextlib.suppress(OSError):
                ours = LINK_NAME.fullmatch(path.name) or path.name.startswith(".partial-")
                if ours and self._expired(path):
                    path.unlink()
                    removed += 1
        with contextlib.suppress(OSError):
            to_the_day(self.directory)
        return removed

    def _expired(self, path: Path) -> bool:
        return path.stat().st_ctime + self.seconds <= self.clock()


def to_the_day(path: Path) -> None:
    """A file's or folder's access and modification times set to the start of its UTC day."""
    day = int(time.time()) // 86400 * 86400
    os.utime(path, (day, day))


def document_links(settings: Settings) -> DocumentLinks:
    """The documents' links as the service serves them: files kept under the media folder
    (beside the summary's charts), URLs under DOCUMENTS_PATH."""
    return DocumentLinks(
        Path(settings.media.directory) / "documents",
        settings.server.public_url.rstrip("/") + DOCUMENTS_PATH,
        settings.documents.link_minutes,
    )
