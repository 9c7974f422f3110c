"""coarse misses: a number's row keeps only the clock hours of the lookups it missed

count_miss kept on the contact the instant of the first mistyped folio or code of its window and
the instant its refusal ended, so a number's row told when it tried codes (only an anonymous
reporter holds one). It now keeps clock hours only; the rows written before keep the hour of
their first miss, and their refusal ends at the next full hour (never sooner than it did).

Revision ID: 0021_coarse_misses
Revises: 0020_backlog
Create Date: 2026-12-05 23:30:00
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021_coarse_misses"
down_revision = "0020_backlog"
branch_labels = None
depends_on = None

contacts = sa.table(
    "contacts",
    sa.column("id", sa.Integer),
    sa.column("folio_misses_since", storage.types.UTCDateTime(timezone=True)),
    sa.column("folio_blocked_until", storage.types.UTCDateTime(timezone=True)),
)


def _hour(at: datetime | None, *, up: bool = False) -> datetime | None:
    if at is None:
        return None
    hour = at.replace(minute=0, second=0, microsecond=0)
    return hour + timedelta(hours=1) if up and hour != at else hour


def upgrade() -> None:
    connection = op.get_bind()
    missed = connection.execute(
        sa.select(contacts).where(
            sa.or_(
                contacts.c.folio_misses_since.is_not(None),
                contacts.c.folio_blocked_until.is_not(None),
            )
        )
    ).all()
    for row in missed:
        connection.execute(
            contacts.update()
            .where(contacts.c.id == row.id)
            .values(
                folio_misses_since=_hour(row.folio_misses_since),
                folio_blocked_until=_hour(row.folio_blocked_until, up=True),
            )
        )


def downgrade() -> None:
    pass  # the instants are gone; the hours are valid values for the older code too
