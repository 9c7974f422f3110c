"""The console channel: a citizen in the terminal, interactive or through pipes."""

from __future__ import annotations

import asyncio
import mimetypes
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.app import App
from handlers.core.messages import Incoming, Location, Media, Option, Reply
from handlers.dialogue.intake import receive

CHANNEL = "console"
PREFIX = "bot> "
WATCH_SECONDS = 1.0  # how often the terminal looks for replies that came without a message


class ConsoleChat:
    """Reads one message per line, answers through the outbox, prints replies prefixed `bot> `."""

    def __init__(
        self,
        app: App,
        address: str,
        out: TextIO,
        *,
        name: str | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.address = address
        self.name = name
        self.out = out
        self.clock = clock
        self.t = app.policy.texts
        # A turn of the citizen and the printing of replies that come later (staff answering
        # from the desk) take turns.
        self._turn = threading.Lock()

    def say(self, line: str) -> None:
        """One line of input, as the citizen's message; prints every reply it causes."""
        incoming = self._incoming(line)
        if incoming is None:
            return
        with self._turn:
            with self.app.uow() as uow:
                receive(incoming, uow, self.app.dialogue, self.clock())
            if incoming.media:
                self._store_files()
            self.drain()

    def _store_files(self) -> None:
        """The files named with /foto are stored at once, as a provider's would be downloaded:
        their path (a home folder names its owner) is not kept, printed or shown to staff."""
        from bot.media import LocalMedia, MediaFetcher

        settings = self.app.settings.media
        local = LocalMedia(int(settings.max_mb * 1024 * 1024))
        asyncio.run(MediaFetcher(self.app, {CHANNEL: local}, settings).fetch_pending())

    def drain(self) -> int:
        """Print and mark sent every pending console reply to this citizen; how many."""
        with self.app.uow() as uow:
            items = uow.outbox.pending(CHANNEL, address=self.address)
            for item in items:
                options = tuple(Option(o["key"], o["label"]) for o in item.options["options"])
                self._print(Reply(CHANNEL, self.address, item.body, options).rendered())
                if item.options.get("document"):
                    self._save_document(uow, item.options["document"])
                uow.outbox.mark_sent(item, f"console-{item.id}", self.clock())
            uow.commit()
        self.out.flush()
        return len(items)

    def _watch(self, stop: threading.Event) -> None:
        """In the terminal, what staff send later (a reply from the desk, a closure and its
        survey) is printed when it is queued, not only once the citizen writes again."""
        while not stop.wait(WATCH_SECONDS):
            with self._turn:
                try:
                    printed = self.drain()
                except Exception:  # the database is busy or away: printed at the next look
                    continue
                if printed:
                    self.out.write("> ")
                    self.out.flush()

    def _save_document(self, uow, wanted: dict) -> None:
        """A document has no chat to go to here: it is written beside the media folder."""
        from bot.documents import render_pdf, to_the_day
        from handlers.casework.documents import build

        document = build(uow, self.app.policy, wanted["kind"], wanted["case_id"], self.clock())
        if document is None:
            return
        folder = Path(self.app.settings.media.directory).parent / "documentos"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / document.filename
        path.write_bytes(render_pdf(document))
        to_the_day(path)  # its time would date the request (an anonymous case's, for one)
        self._print(self.t("documents.console_saved", path=path))

    def _print(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.write(f"{PREFIX}{line}\n")

    def _incoming(self, line: str) -> Incoming | None:
        line = line.rstrip("\r\n")
        base = dict(
            channel=CHANNEL,
            address=self.address,
            provider_id=uuid.uuid4().hex,
            received_at=self.clock(),
            name=self.name,
        )
        command, _, argument = line.strip().partition(" ")
        if command == "/foto":
            if not argument.strip():
                return self._complain("cli.chat_no_path")
            path = Path(argument.strip().strip("'\"")).expanduser()
            if not path.is_file():
                return self._complain("cli.chat_no_file", path=path)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            media = Media("photo", path.resolve().as_uri(), content_type)
            return Incoming(**base, media=(media,))
        if command == "/ubicacion":
            try:
                latitude, longitude = (float(v) for v in argument.replace(",", " ").split())
            except ValueError:
                return self._complain("cli.chat_bad_location")
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                return self._complain("cli.chat_bad_range")
            return Incoming(**base, location=Location(latitude, longitude))
        return Incoming(**base, text=line)

    def _complain(self, key: str, **values: object) -> None:
        """Say what is wrong with a console command; nothing is sent to the bot."""
        self._print(self.t(key, **values))
        self.out.flush()

    def run(self, source: TextIO, *, interactive: bool) -> None:
        """Converse until end of input (or /salir)."""
        if interactive:
            self.out.write(self.t("cli.chat_intro", address=self.address) + "\n")
        self.drain()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(stop,), name="console-replies")
        if interactive:
            watcher.start()
        try:
            while True:
                if interactive:
                    self.out.write("> ")
                    self.out.flush()
                line = source.readline()
                if not line or line.strip() == "/salir":
                    break
                self.say(line)
        finally:
            stop.set()
            if watcher.is_alive():
                watcher.join()
