"""Code run in separate processes by the concurrency tests (importable, for the spawn start)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import create_app
from handlers.casework.cases import open_case
from tests.helpers import make_settings


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
