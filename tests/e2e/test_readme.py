"""README.md's command examples, run as a newcomer runs them: in the order the page shows them,
in a fresh folder with no config.toml, each as a shell runs it; and the chat's transcript the
page shows is the one the command prints."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV = Path(sys.executable).parent.parent
# `staff password` reads the password from its input when no one is at a terminal.
PASSWORD = "una clave muy larga para probar la mesa"


def examples() -> list[str]:
    """Every command of the page's `sh` blocks, a line continued with a backslash joined to the
    next; what needs more than a fresh clone (make, a PostgreSQL server) left out."""
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True)
            if words and "make" not in words:
                found.append(command)
    return found


def shown(line: str) -> re.Pattern:
    """A line of a transcript on the page as a pattern: its date, hour and weekday are the
    day's, and "..." stands for what the page leaves out."""
    pattern = re.escape(line).replace(r"\.\.\.", ".*")
    pattern = re.sub(r"\d\d/\d\d/\d{4}", r"\\d\\d/\\d\\d/\\d{4}", pattern)
    pattern = re.sub(r"\d\d:\d\d", r"\\d\\d:\\d\\d", pattern)
    days = "lunes|martes|miércoles|jueves|viernes|sábado|domingo"
    return re.compile(re.sub(days, f"(?:{days})", pattern))


def test_the_readme_examples_run_in_order_on_a_fresh_install(tmp_path):
    (tmp_path / ".venv").symlink_to(VENV)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env['PATH']}"
    commands = examples()
    assert commands[0].startswith("printf 'hola") and "chat --as 7001" in commands[0]
    assert "T=.venv/bin/telefono-abierto" in commands
    outputs = []
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", "T=.venv/bin/telefono-abierto\n" + command],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,  # bounds a hang
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout)

    # The chat's transcript, as the page shows it after the command.
    transcript = re.search(r"chat --as 7001\n```\n\n```text\n(.*?)```", README, re.S)[1]
    printed = iter(outputs[0].splitlines())
    for line in transcript.splitlines():
        if line != "...":
            assert any(shown(line).fullmatch(out) for out in printed), line
