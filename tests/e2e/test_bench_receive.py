"""bench/receive.py keeps working: a few citizens (the real run is `make bench`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_receive_benchmark_prints_each_step_of_the_intake_benchs_conversation():
    command = [sys.executable, str(ROOT / "bench/receive.py"), "--citizens", "4"]
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}  # SQLite only
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=True)
    print(run.stdout)  # shown when an assertion fails
    figures = json.loads(run.stdout)
    sqlite = figures["sqlite"]
    assert "postgres" not in figures
    steps = sqlite["steps"]
    # The conversation the intake bench drives, step by step: first contact to the receipt.
    assert [step["text"] for step in steps][:2] == ["hola", "si"]
    assert steps[-1]["text"] == "omitir" and len(steps) == 8
    assert all(step["cpu_ms"] > 0 and step["statements"] >= 1 for step in steps)
    # Filing the case (the last step) writes the most: the case, its folio, the receipt.
    assert steps[-1]["statements"] == max(step["statements"] for step in steps)
    assert sqlite["statements_per_msg"] == round(sum(s["statements"] for s in steps) / 8, 1)
