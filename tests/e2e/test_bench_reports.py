"""bench/reports.py keeps working: a tiny run of it, in seconds (the real one is `make bench`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_reports_benchmark_builds_its_database_and_prints_its_figures(tmp_path):
    command = [sys.executable, str(ROOT / "bench/reports.py"), "--cases", "2000"]
    command += ["--cache-dir", str(tmp_path)]
    # A bound on a hang only: on a busy machine the two databases and the model take minutes.
    first = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=True)
    figures = json.loads(first.stdout)
    assert figures["cases"] == 2000 and figures["demo_data_cases_per_second"] > 0
    assert figures["tally_cases_received"] > 0
    assert figures["tally_seconds"] > 0 and figures["summary_seconds"] > 0
    assert figures["classifier_messages_per_second"] > 0
    if os.environ.get("TEST_DATABASE_URL"):  # the same figures on PostgreSQL, built afresh
        assert figures["postgres"]["demo_data_cases_per_second"] > 0
        assert figures["postgres"]["tally_cases_received"] > 0
    command.append("--no-classifier")
    again = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=True)
    again = json.loads(again.stdout)
    assert again["demo_data_cases_per_second"] is None  # the database was reused
