"""Desk benchmark: the Bandeja's first page with 1,000,000 cases in a SQLite database.

Builds (once; reused while it exists, under data/bench/, the same one as bench/reports.py) a
database of synthetic cases with `telefono-abierto demo-data`, brings it to the current schema,
signs in an administrator and an agent, then requests the Bandeja's first page (and a few of
its views) through the ASGI application in this process, many times: the server time per
request, p50 and p95, printed as one JSON object. Target: p95 <= 300 ms on SQLite.

Run with `make bench`, or `.venv/bin/python bench/desk.py [--cases 1000000] [--rounds 40]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "una clave de banco de pruebas"
VIEWS = {
    "todas": "/mesa/bandeja",
    "mias": "/mesa/bandeja?carpeta=mias",
    "sin_asignar": "/mesa/bandeja?carpeta=sin_asignar",
    "tema": "/mesa/bandeja?tema=puentes",
    "pagina_5": "/mesa/bandeja?pagina=5",
    "busqueda": "/mesa/bandeja?q=puente",
    "filas": "/mesa/bandeja/filas",
}


def _reports_bench():
    spec = importlib.util.spec_from_file_location("bench_reports", ROOT / "bench/reports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(url: str, rounds: int) -> dict:
    from starlette.testclient import TestClient

    from bot.app import create_app
    from bot.config import Settings
    from bot.desk.accounts import current_code, hash_password, new_totp_secret
    from bot.server import build_asgi, build_service
    from storage.models import Staff

    settings = Settings.model_validate({"database": {"url": url}})
    app = create_app(settings)
    app.migrate()
    now = datetime.now(UTC)
    clock = lambda: now  # noqa: E731 - one instant: the TOTP codes are computed for it
    members = {}
    with app.uow() as uow:
        for role, username in (("admin", "banco-admin"), ("agent", "banco-agente")):
            member = uow.desk.staff_by_username(username)
            if member is None:
                member = uow.staff.add(
                    Staff(name=f"Banco {role}", role=role, username=username, created_at=now)
                )
            member.password_hash = hash_password(PASSWORD)
            member.totp_secret, member.totp_last_step = new_totp_secret(), None
            member.failed_sign_ins, member.locked_until = 0, None
            uow.session.add(member)
            members[role] = member
        uow.commit()
    service = build_service(app, clock, channels=[])
    asgi = build_asgi(service)
    report: dict = {}
    for role, member in members.items():
        client = TestClient(asgi, follow_redirects=False)
        form = client.get("/mesa/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]
        signed = client.post(
            "/mesa/login",
            data={
                "csrf": csrf,
                "username": member.username,
                "password": PASSWORD,
                "otp": current_code(member.totp_secret, now),
            },
        )
        assert signed.status_code == 303, signed.text
        for name, path in VIEWS.items():
            client.get(path)  # warm
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            report[f"{role}_{name}_ms"] = {
                "p50": round(statistics.median(times), 1),
                "p95": round(percentile(times, 0.95), 1),
            }
    app.engine.dispose()
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--database", type=Path, help="an existing SQLite database to use")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    # The reports benchmark's database (built by whichever runs first).
    path = args.database or args.cache_dir / f"reports-{args.cases}-{args.seed}.db"
    if args.database is None:
        _reports_bench().build(path, args.cases, args.seed)
    figures = measure(f"sqlite:///{path}", args.rounds)
    report = {
        "database": "sqlite",
        "cases": args.cases,
        "bandeja_first_page_p50_ms": figures["admin_todas_ms"]["p50"],
        "bandeja_first_page_p95_ms": figures["admin_todas_ms"]["p95"],
        "views": figures,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
