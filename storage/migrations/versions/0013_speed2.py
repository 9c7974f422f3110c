"""speed2: the cases not attended yet, by status and deadline, in a small index of their own

The weekly summary's open and overdue counts, its oldest overdue folios and its overdue cases
per agent read only cases never attended. ix_cases_open_due (status, due_at, ...) could not
tell those apart without reading each case's row, so the database walked every unattended case
through ix_cases_attended instead. ix_cases_unattended holds only the cases with no attended_at
(about one in eight on a year of cases), keyed by attended_at first so that the planner matches
it on equality, and covers those queries (the folio included).

Revision ID: 0013_speed2
Revises: 0012_desk
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_speed2"
down_revision = "0012_desk"
branch_labels = None
depends_on = None

UNATTENDED = ["attended_at", "status", "due_at", "channel", "assignee_id", "folio"]
CONDITION = "attended_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_cases_unattended",
        "cases",
        UNATTENDED,
        sqlite_where=sa.text(CONDITION),
        postgresql_where=sa.text(CONDITION),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_unattended", "cases")
