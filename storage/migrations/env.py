"""Alembic environment: migrates through the engine the application hands over."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

# APScheduler's job store keeps its own table in our database (bot/scheduler.py); it is not
# ours to migrate.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name, type_, parent_names) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds tables to alter them; foreign keys must be off meanwhile (and the
        # pragma only works outside a transaction).
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            if not sqlite:
                # Two processes starting together must not migrate at the same time.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7210357)")
            context.configure(
                connection=connection,
                target_metadata=SQLModel.metadata,
                render_as_batch=sqlite,
                compare_type=True,
                include_name=include_name,
            )
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
