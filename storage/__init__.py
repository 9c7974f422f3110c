"""Persistence: SQLModel tables, the engine factory, the unit of work and migrations."""
