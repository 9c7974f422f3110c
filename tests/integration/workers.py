"""Code run in separate processes by the concurrency tests (importable, for the spawn start)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime

from bot.app import create_app
from handlers.casework.cases import open_case
from handlers.core.messages import Incoming
from handlers.dialogue.intake import receive
from tests.helpers import make_settings


def run_together(work: Callable, url: str, addresses: list[str], count: int) -> list:
    """Run `work(url, address, count, start, results)` in a process of its own per address,
    all started at once; what they put in `results`, joined."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=work, args=(url, address, count, start, results))
        for address in addresses
    ]
    for worker in workers:
        worker.start()
    start.set()
    found = [item for _ in workers for item in results.get(timeout=120)]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    return found


def open_cases(url: str, address: str, count: int, start, results) -> None:
    """Open `count` cases as one citizen, one transaction each, once `start` is set."""
    app = create_app(make_settings(database={"url": url}))
    start.wait(30)
    folios = []
    for _ in range(count):
        now = datetime.now(UTC)
        with app.uow() as uow:
            contact = uow.contacts.get_or_create("console", address, now)
            draft = {"type": "solicitud", "topic": "puentes", "parts": ["prueba de concurrencia"]}
            folios.append(
                open_case(uow, app.policy, contact=contact, draft=draft, now=now).case.folio
            )
            uow.commit()
    app.engine.dispose()
    results.put(folios)


def greet(url: str, prefix: str, count: int, start, results) -> None:
    """Receive a first "hola" from `count` people (numbers starting with `prefix`), one
    transaction each, once `start` is set; whether each was stored."""
    app = create_app(make_settings(database={"url": url}))
    start.wait(30)
    stored = []
    for n in range(count):
        now = datetime.now(UTC)
        number = f"{prefix}{n:02d}"
        with app.uow() as uow:
            said = Incoming("whatsapp", number, f"SM{number}", now, text="hola")
            stored.append(receive(said, uow, app.dialogue, now) is not None)
    app.engine.dispose()
    results.put(stored)
