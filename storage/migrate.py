"""Alembic migrations, applied from code (`telefono-abierto db upgrade`, and on `run`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# A revision script's identity, as every script here writes it.
_HEADER = re.compile(r"^(revision|down_revision) = (.+)$", re.MULTILINE)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates through this engine."""
    # Alembic is imported where it is used: the reports and other read-only commands only
    # check the schema (`is_current`), and importing it takes a third of a second.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    """Whether every migration has been applied. A database that cannot be reached raises
    (it is not an old schema: `db upgrade` would not help)."""
    heads = script_heads()
    if heads is None:  # a script this reader does not follow: Alembic itself decides
        return _alembic_is_current(engine)
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows} == heads
        except SQLAlchemyError:  # no version table: nothing applied yet
            return False


def script_heads() -> set[str] | None:
    """The revisions no other script follows, read from the scripts' `revision` and
    `down_revision` lines; None when a script names them otherwise (a merge, a branch)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        fields: dict[str, object] = {}
        for name, value in _HEADER.findall(script.read_text(encoding="utf-8")):
            try:
                fields[name] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                return None
        revision, down = fields.get("revision"), fields.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(revision)
        if down is not None:
            followed.add(down)
    return revisions - followed or None


def _alembic_is_current(engine: Engine) -> bool:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
