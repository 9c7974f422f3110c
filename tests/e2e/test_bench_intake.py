"""bench/intake.py keeps working: a run of a few seconds (the real one is `make bench`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_intake_benchmark_drives_the_real_service_and_prints_its_figures():
    command = [sys.executable, str(ROOT / "bench/intake.py"), "--seconds", "2"]
    command += ["--workers", "4", "--rate", "20", "--soak", "0"]
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}  # SQLite only
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=True)
    print(run.stdout)  # shown when an assertion fails
    figures = json.loads(run.stdout)
    sqlite = figures["sqlite"]
    assert sqlite["msgs_per_s"] > 0 and sqlite["errors"] == 0
    assert 0 < sqlite["p50_ms"] <= sqlite["p99_ms"] <= sqlite["p999_ms"]
    assert sqlite["rss_mb"] > 0
    # What sending a reply costs, measured apart: the welcomes and receipts were all sent.
    assert sqlite["sending"]["replies"] > 0 and sqlite["sending"]["cpu_ms_per_reply"] > 0
    assert sqlite["sending"]["per_msg"] >= 1  # every message answered, some twice
    assert figures["noop_req_per_s"] > sqlite["msgs_per_s"]
    assert len(figures["noop_runs"]) == 2  # first and last
    ceilings = [*figures["noop_runs"], figures["noop_per_core_per_s"]]
    assert figures["noop_req_per_s"] == max(ceilings)  # the ratios use the highest
    assert figures["ratio_sqlite"] == round(sqlite["msgs_per_s"] / figures["noop_req_per_s"], 3)
    # The floor's CPU budget a message: at it, one core would reach the floor's rate.
    budget = figures["floor_cpu_ms_per_msg"]["sqlite"]
    assert round(1000 / budget / figures["noop_req_per_s"], 3) == 0.035
    assert "postgres" not in figures["floor_cpu_ms_per_msg"]
    assert "cores" in figures["machine"]


def test_the_benchmarks_citizen_files_a_report_from_hello_to_receipt(app):
    """The bench measures the conversation its docstring names: when the dialogue changes (a
    new question), this says so, instead of the bench measuring another path unnoticed."""
    import importlib.util

    from sqlmodel import select

    from storage.models import Case
    from tests.helpers import Citizen

    spec = importlib.util.spec_from_file_location("bench_intake", ROOT / "bench/intake.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    citizen = Citizen(app.dialogue, app.uow, address="+50370001234", channel="whatsapp")
    answers = [citizen.send(text) for text in bench.DIALOGUE]
    assert "Su caso quedó registrado" in answers[-1]
    assert not any("Su caso quedó registrado" in answer for answer in answers[:-1])
    with app.uow() as uow:
        (case,) = uow.session.exec(select(Case)).all()
        assert (case.type, case.topic, case.urgency) == ("solicitud", "calles_caminos", "normal")
        assert case.description == bench.DIALOGUE[3]
