"""Reports benchmark: the quarter's tally and the weekly summary over a large SQLite database.

Builds (once; reused while it exists, keyed by size and seed, under data/bench/) a SQLite
database of synthetic cases with `telefono-abierto demo-data`, then times the tally of the last
full quarter and the summary of the last full week over it (wall and CPU seconds, in process
and as whole commands, with `telefono-abierto --help` beside them), and the
classifier's messages per second (bench/classifier.py's own measure), printing one JSON object.
With TEST_DATABASE_URL set, the same on PostgreSQL ("postgres" in the output): built afresh
each time in a schema of its own, dropped afterwards (1,000,000 cases take a few minutes there).

Run with `make bench`, or `.venv/bin/python bench/reports.py [--cases 1000000] [--seed 7]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROUNDS = 3


def last_full_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3  # the current one, counted from 0
    return f"{today.year - 1}-T4" if quarter == 0 else f"{today.year}-T{quarter}"


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children (user and system)."""
    times = os.times()
    return times.children_user + times.children_system


def run_timed(command: list, env: dict) -> tuple[float, float]:
    """Run a command (its output discarded); its wall and CPU seconds."""
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu() - cpu


def command_timed(command: list, env: dict, rounds: int = ROUNDS) -> tuple[float, float]:
    """The median wall and CPU seconds of `rounds` runs of a command."""
    runs = [run_timed(command, env) for _ in range(rounds)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def demo_data(url: str, cases: int, seed: int) -> tuple[float, float]:
    """`telefono-abierto demo-data` into the database at `url`; its wall and CPU seconds."""
    env = {**os.environ, "TA_DATABASE__URL": url}
    env.pop("TA_CONFIG", None)
    command = [BIN / "telefono-abierto", "demo-data", "--cases", str(cases), "--seed", str(seed)]
    return run_timed(command, env)


def build(path: Path, cases: int, seed: int) -> tuple[float, float] | None:
    """Create the database unless a finished one is there; the build's wall and CPU seconds."""
    done = path.with_suffix(".done")
    if path.exists() and done.exists():
        # Built by an older version: its schema brought up to date (new indexes included).
        env = {**os.environ, "TA_DATABASE__URL": f"sqlite:///{path}"}
        env.pop("TA_CONFIG", None)
        upgrade = [BIN / "telefono-abierto", "db", "upgrade"]
        subprocess.run(upgrade, env=env, check=True, stdout=subprocess.DEVNULL)
        return None
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds = demo_data(f"sqlite:///{path}", cases, seed)
    done.write_text(datetime.now(UTC).isoformat())
    return seconds


def postgres_schema(url: str, schema: str, *, drop: bool = False) -> str:
    """Create (or drop) a schema of its own in the TEST_DATABASE_URL database; the URL that
    uses it (bench/intake.py's own function)."""
    return _bench_module("intake").postgres_schema(url, schema, drop=drop)


def _bench_module(name: str):
    """Another benchmark script of this folder, as a module."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, rounds: int = ROUNDS) -> tuple[float, float, object]:
    """The median wall and CPU times of `rounds` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def classifier_figures() -> dict:
    return _bench_module("classifier").measure(rounds=1)


def measure(url: str, cases: int, built: tuple[float, float] | None) -> dict:
    """The tally of the last full quarter and the summary of the last full week over the
    database at `url`, in process and (the tally) as a command; `built` is how long building
    it took (None when it was reused)."""
    from bot.app import create_app
    from bot.config import Settings
    from bot.reporting import tally, weekly_summary
    from handlers.reporting.summary import last_full_week, week_label
    from handlers.reporting.tally import parse_period

    app = create_app(Settings.model_validate({"database": {"url": url}}))
    now = datetime.now(UTC)
    today = app.policy.calendar.local_date(now)
    period = parse_period(app.policy.texts, last_full_quarter(today), None, None)
    monday = last_full_week(today)
    tally_seconds, tally_cpu, figures = timed(lambda: tally(app, period))
    summary_seconds, summary_cpu, _ = timed(lambda: weekly_summary(app, monday, now))
    app.engine.dispose()
    env = {**os.environ, "TA_DATABASE__URL": url}
    env.pop("TA_CONFIG", None)
    # The whole commands, as a supervisor runs them (the median of ROUNDS runs each).
    tally_command = [BIN / "telefono-abierto", "tally", "--period", period.label]
    command_seconds, command_cpu = command_timed([*tally_command, "--format", "json"], env)
    summary_command = [BIN / "telefono-abierto", "summary", "--week", week_label(monday)]
    summary_command_seconds, summary_command_cpu = command_timed(summary_command, env)
    help_seconds, help_cpu = command_timed([BIN / "telefono-abierto", "--help"], env)
    return {
        # None when the database was already built (reused).
        "demo_data_cases_per_second": round(cases / built[0]) if built else None,
        "demo_data_cases_per_cpu_second": round(cases / built[1]) if built else None,
        "demo_data_seconds": round(built[0], 1) if built else None,
        "tally_period": period.label,
        "tally_cases_received": figures["received"]["total"],
        "tally_seconds": round(tally_seconds, 3),
        "tally_cpu_seconds": round(tally_cpu, 3),
        "tally_command_seconds": round(command_seconds, 3),
        "tally_command_cpu_seconds": round(command_cpu, 3),
        "summary_week": monday.isoformat(),
        "summary_seconds": round(summary_seconds, 3),
        "summary_cpu_seconds": round(summary_cpu, 3),
        "summary_command_seconds": round(summary_command_seconds, 3),
        "summary_command_cpu_seconds": round(summary_command_cpu, 3),
        "help_command_seconds": round(help_seconds, 3),
        "help_command_cpu_seconds": round(help_cpu, 3),
        # Issue 18's targets for the whole commands.
        "targets": {
            "tally_command_le_1.5s": command_seconds <= 1.5,
            "summary_command_le_1s": summary_command_seconds <= 1.0,
            "help_command_le_0.4s": help_seconds <= 0.4,
        },
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--no-classifier", action="store_true", help="skip the classifier")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    path = args.cache_dir / f"reports-{args.cases}-{args.seed}.db"
    built = build(path, args.cases, args.seed)
    report = {
        "database": "sqlite",
        "cases": args.cases,
        "seed": args.seed,
        "database_bytes": path.stat().st_size,
        **measure(f"sqlite:///{path}", args.cases, built),
    }
    if os.environ.get("TEST_DATABASE_URL"):
        # Built afresh in a schema of its own each time, dropped afterwards.
        schema = f"bench_reports_{os.getpid()}"
        url = postgres_schema(os.environ["TEST_DATABASE_URL"], schema)
        try:
            built = demo_data(url, args.cases, args.seed)
            report["postgres"] = measure(url, args.cases, built)
        finally:
            postgres_schema(os.environ["TEST_DATABASE_URL"], schema, drop=True)
    report["classifier_messages_per_second"] = (
        None if args.no_classifier else classifier_figures()["messages_per_second"]
    )
    report["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
