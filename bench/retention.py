"""Retention and erasure benchmark: the first retention run, and the erasure of one citizen with
many cases, over a copy of the reports benchmark's SQLite database of 1,000,000 cases.

Builds once (under data/bench/, reused while it exists) a copy of bench/reports.py's database
with a conversation per case: the citizen's message, the reply that gives the folio, and a staff
command naming the folio for one case in ten; one citizen is given CITIZEN_CASES of the cases
(each with its messages). Each run copies that file and times, as whole commands the way an
administrator runs them:

1. `privacy erase --telegram-id ... --yes` for that citizen;
2. `privacy retention` with `privacy.retention_days` = 1: every case closed or discarded
   before yesterday is anonymised, and every contact left with no case and no message since is
   erased (the first run on a year of cases).

Each command ends, on SQLite, by rebuilding the file (VACUUM) so that nothing erased survives in
free space; the figures say how long that took apart. Prints one JSON object; the target of
issue 18 is each command under 60 s.

Run with `make bench`, or `.venv/bin/python bench/retention.py [--cases 1000000] [--seed 7]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CITIZEN_CASES = 2_000  # the cases of the citizen whose data is erased
CITIZEN_TELEGRAM_ID = "990000001"
TARGET_SECONDS = 60.0


def _bench_module(name: str):
    """Another benchmark script of this folder, as a module."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_conversations(path: Path) -> dict:
    """Messages for every case, and one citizen with CITIZEN_CASES cases; what was added."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(f"PRAGMA cache_size=-{256 * 1024}")
    # The citizen: the contact of the first case with one, reachable by a Telegram id, given
    # the cases of every n-th contact besides their own.
    (citizen,) = db.execute("SELECT min(contact_id) FROM cases").fetchone()
    db.execute(
        "UPDATE contacts SET channel = 'telegram', address = ? WHERE id = ?",
        (CITIZEN_TELEGRAM_ID, citizen),
    )
    (total,) = db.execute("SELECT count(*) FROM cases").fetchone()
    step = max(1, total // CITIZEN_CASES)
    db.execute(
        "UPDATE cases SET contact_id = ? WHERE id IN "
        "(SELECT id FROM cases WHERE id % ? = 0 LIMIT ?)",
        (citizen, step, CITIZEN_CASES),
    )
    columns = "direction, channel, provider_id, contact_id, case_id, body, status, created_at"
    db.execute(
        f"INSERT INTO messages ({columns}) SELECT 'in', channel, 'bench-in-' || id, contact_id, "
        "id, 'Buenas tardes, quiero reportar un problema en la calle de mi colonia', "
        "'received', created_at FROM cases"
    )
    db.execute(
        f"INSERT INTO messages ({columns}) SELECT 'out', channel, 'bench-out-' || id, "
        "contact_id, id, 'Recibimos su caso. Su folio es ' || folio || '. Le responderemos "
        "dentro del plazo.', 'sent', created_at FROM cases"
    )
    db.execute(
        f"INSERT INTO messages ({columns}) SELECT 'in', 'telegram', 'bench-staff-' || id, NULL, "
        "NULL, '/cerrar ' || folio || ' atendido por la cuadrilla de turno', 'received', "
        "created_at FROM cases WHERE id % 10 = 0"
    )
    db.commit()
    (messages,) = db.execute("SELECT count(*) FROM messages").fetchone()
    (cases,) = db.execute("SELECT count(*) FROM cases WHERE contact_id = ?", (citizen,)).fetchone()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"messages": messages, "citizen_cases": cases}


def build(cache: Path, cases: int, seed: int) -> tuple[Path, dict]:
    """The reports database with conversations (built once); its path and what it holds."""
    reports = _bench_module("reports")
    source = cache / f"reports-{cases}-{seed}.db"
    reports.build(source, cases, seed)
    path = cache / f"retention-{cases}-{seed}.db"
    done = path.with_suffix(".done")
    if not (path.exists() and done.exists()):
        started = time.perf_counter()
        shutil.copyfile(source, path)
        added = add_conversations(path)
        added["built_seconds"] = round(time.perf_counter() - started, 1)
        done.write_text(json.dumps(added))
    return path, json.loads(done.read_text())


def timed_command(arguments: list[str], env: dict) -> tuple[float, str]:
    """A whole command's wall seconds, and what it printed last on stderr and stdout."""
    started = time.perf_counter()
    result = subprocess.run(
        [BIN / "telefono-abierto", *arguments], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{arguments}: exit {result.returncode}\n{result.stderr[-2000:]}")
    return seconds, result.stdout


def vacuum_seconds(path: Path) -> float:
    """How long rebuilding the file takes now (what each command does last on SQLite)."""
    db = sqlite3.connect(path)
    started = time.perf_counter()
    db.execute("VACUUM")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def erased_contacts(path: Path) -> int:
    db = sqlite3.connect(path)
    (count,) = db.execute("SELECT count(*) FROM contacts WHERE address LIKE 'borrado:%'").fetchone()
    db.close()
    return count


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "bench")
    args = parser.parse_args(argv)

    base, held = build(args.cache_dir, args.cases, args.seed)
    copy = args.cache_dir / f"retention-run-{os.getpid()}.db"
    shutil.copyfile(base, copy)
    try:
        env = {**os.environ, "TA_DATABASE__URL": f"sqlite:///{copy}"}
        env.pop("TA_CONFIG", None)
        erase_seconds, _ = timed_command(
            ["privacy", "erase", "--telegram-id", CITIZEN_TELEGRAM_ID, "--yes"], env
        )
        vacuum_after_erase = vacuum_seconds(copy)
        erased_before = erased_contacts(copy)
        env["TA_PRIVACY__RETENTION_DAYS"] = "1"
        retention_seconds, printed = timed_command(["privacy", "retention"], env)
        vacuum_after_retention = vacuum_seconds(copy)
        db = sqlite3.connect(copy)
        (anonymised,) = db.execute(
            "SELECT count(*) FROM case_events WHERE kind = 'retention_anonymised'"
        ).fetchone()
        db.close()
        erased = erased_contacts(copy) - erased_before
    finally:
        for name in (copy.name, copy.name + "-wal", copy.name + "-shm"):
            (copy.parent / name).unlink(missing_ok=True)
    report = {
        "database": "sqlite",
        "cases": args.cases,
        "messages": held["messages"],
        "database_bytes": base.stat().st_size,
        "erase_citizen_cases": held["citizen_cases"],
        "erase_command_seconds": round(erase_seconds, 1),
        # The rebuild of the file each command ends with, timed again on its own after it.
        "vacuum_seconds_after_erase": round(vacuum_after_erase, 1),
        "retention_cases_anonymised": anonymised,
        "retention_contacts_erased": erased,
        "retention_command_seconds": round(retention_seconds, 1),
        "vacuum_seconds_after_retention": round(vacuum_after_retention, 1),
        "retention_lines_printed": printed.count("\n"),
        "load_average": [round(value, 1) for value in os.getloadavg()],
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "targets": {
            "erase_command_le_60s": erase_seconds <= TARGET_SECONDS,
            "retention_command_le_60s": retention_seconds <= TARGET_SECONDS,
        },
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
