"""A message's own work: the dialogue's transaction, in process, per step of the conversation.

bench/intake.py measures the whole service: the webhook's HTTP, the message's transaction in a
writer thread, the replies sent to the provider stand-in and recorded. This measures only the
transaction (`receive`, handlers/dialogue/intake.py) on the same conversation (bench/intake.py's
DIALOGUE), in this process, with no HTTP and no send: the CPU time and the SQL statements of each
step, per message, over `--citizens` citizens (half WhatsApp, half Telegram; the second of two
rounds, with caches and the classifier warm), on SQLite and, with TEST_DATABASE_URL, PostgreSQL
(in a schema of its own, dropped afterwards). What the intake's service spends per message
beyond this is the webhook's, the sending's and the recording's. Prints one JSON object.

Run with `make bench`, or `.venv/bin/python bench/receive.py [--citizens 150]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 2  # the first warms the caches; the second is measured


def _intake_bench():
    spec = importlib.util.spec_from_file_location("bench_intake", ROOT / "bench/intake.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(url: str, citizens: int, dialogue: tuple[str, ...]) -> dict:
    """CPU milliseconds and statements per message of each step of `dialogue`, each step sent
    by `citizens` citizens in turn (the measured round's)."""
    from sqlalchemy import event

    from bot.app import create_app
    from bot.config import Settings
    from handlers.core.messages import Incoming
    from handlers.dialogue.intake import receive

    settings = Settings.model_validate(
        {"database": {"url": url}, "privacy": {"hash_secret": "bench-only-hash-secret-R5t8Wq2Lz"}}
    )
    app = create_app(settings)
    app.migrate()
    app.policy.classifier.classify("hola")  # loaded before the clock runs, as the service does
    statements = [0]

    @event.listens_for(app.engine, "before_cursor_execute")
    def count(*_: object) -> None:
        statements[0] += 1

    now = datetime.now(UTC)
    sent = 0
    steps: list[dict] = []
    for round_ in range(ROUNDS):
        steps = []
        for text in dialogue:
            cpu, counted = time.process_time(), statements[0]
            for person in range(citizens):
                sent += 1
                whatsapp = person % 2 == 0
                address = (
                    f"+5037{round_:02d}{person:05d}" if whatsapp else f"9{round_:02d}{person:06d}"
                )
                incoming = Incoming(
                    "whatsapp" if whatsapp else "telegram", address, f"bench-{sent}", now, text=text
                )
                with app.uow() as uow:
                    receive(incoming, uow, app.dialogue, now)
            steps.append(
                {
                    "text": text,
                    "cpu_ms": round(1000 * (time.process_time() - cpu) / citizens, 3),
                    "statements": round((statements[0] - counted) / citizens, 1),
                }
            )
    app.engine.dispose()
    return {
        "citizens": citizens,
        "cpu_ms_per_msg": round(sum(step["cpu_ms"] for step in steps) / len(steps), 3),
        "statements_per_msg": round(sum(step["statements"] for step in steps) / len(steps), 1),
        "steps": steps,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=150, help="citizens a round")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    intake = _intake_bench()
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="ta-bench-receive-") as folder:
        url = f"sqlite:///{Path(folder) / 'receive.db'}"
        report["sqlite"] = measure(url, args.citizens, intake.DIALOGUE)
    if os.environ.get("TEST_DATABASE_URL"):
        schema = f"bench_receive_{os.getpid()}"
        url = intake.postgres_schema(os.environ["TEST_DATABASE_URL"], schema)
        try:
            report["postgres"] = measure(url, args.citizens, intake.DIALOGUE)
        finally:
            intake.postgres_schema(os.environ["TEST_DATABASE_URL"], schema, drop=True)
    report["machine"] = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
