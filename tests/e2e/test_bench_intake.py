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
    assert figures["noop_req_per_s"] > sqlite["msgs_per_s"]
    assert figures["ratio_sqlite"] == round(sqlite["msgs_per_s"] / figures["noop_req_per_s"], 3)
    assert "cores" in figures["machine"]
