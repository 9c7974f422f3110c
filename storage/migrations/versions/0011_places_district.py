"""places: the district and department beside a case's municipality

`cases.municipality` now holds the gazetteer's municipality when the place was matched (El
Salvador: one of the 44 municipalities of the 2024 reform); the district (the former
municipality people still name) and the department are kept beside it.

Revision ID: 0011_places
Revises: 0010_speed
Create Date: 2026-12-03 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_places"
down_revision = "0010_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("district", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("department", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("department")
        batch.drop_column("district")
