"""reports speed: drop the cases indexes that newer ones begin with

ix_cases_created_at is the start of ix_cases_created_channel_type, ix_cases_status_due of
ix_cases_open_due and ix_cases_contact_id of ix_cases_contact_created: the longer indexes serve
the same searches, and every index less is one B-tree less to update per case written.

Revision ID: 0006_reports_speed
Revises: 0005_abuse
Create Date: 2026-11-22 00:10:00
"""

from alembic import op

revision = "0006_reports_speed"
down_revision = "0005_abuse"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_created_at", "cases")
    op.drop_index("ix_cases_status_due", "cases")
    op.drop_index("ix_cases_contact_id", "cases")


def downgrade() -> None:
    op.create_index("ix_cases_contact_id", "cases", ["contact_id"])
    op.create_index("ix_cases_status_due", "cases", ["status", "due_at"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
