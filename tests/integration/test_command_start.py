"""The command line starts with what the command uses, and nothing else."""

import os
import subprocess
import sys

# What only some commands need: the service, the channels' clients, the charts, training,
# rich's formatting, the migrations.
HEAVY = (
    "alembic",
    "fpdf",
    "matplotlib",
    "numpy",
    "rich",
    "sklearn",
    "starlette",
    "telegram",
    "twilio",
    "uvicorn",
)


def modules_after(argv: list[str], env: dict[str, str]) -> set[str]:
    """The top-level packages imported by the command line running `argv`."""
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return {name.split(".")[0] for name in run.stderr.split()}


def test_help_starts_without_the_database_the_settings_or_the_service():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    loaded = modules_after(["--help"], env)
    assert not loaded & {*HEAVY, "sqlalchemy", "sqlmodel", "pydantic", "holidays"}
    assert "bot" in loaded and "typer" in loaded


def test_the_tally_reads_the_database_without_migrations_training_charts_or_the_service(
    app, database_url
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env["TA_DATABASE__URL"] = database_url
    loaded = modules_after(["tally", "--period", "2026-T3", "--format", "json"], env)
    assert "sqlalchemy" in loaded
    # On SQLite the exact medians are computed with NumPy (storage/reports.py), which is
    # cheaper than SQLite sorting the period's cases; PostgreSQL computes them itself.
    allowed = {"numpy"} if database_url.startswith("sqlite") else set()
    assert not loaded & (set(HEAVY) - allowed)
