"""desk accounts: staff sign-in, sessions, audit log, saved replies, teams, the Bandeja's indexes

The web desk (bot/desk/) signs staff in with a user name, an Argon2 password hash and a TOTP
second factor with one-time recovery codes; its sessions live in the database; what staff open
and do there is written to an audit log. The Bandeja reads open cases of one urgency in
deadline order through a partial index, a page at a time.

Revision ID: 0012_desk
Revises: 0011_places
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012_desk"
down_revision = "0011_places"
branch_labels = None
depends_on = None

OPEN_CONDITION = (
    "status IN ('recibido', 'en_revision', 'asignado', 'en_proceso', 'esperando_ciudadano', "
    "'remitido')"
)


def _utc() -> storage.types.UTCDateTime:
    return storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", _utc(), nullable=True))
    op.create_index("ix_staff_username", "staff", ["username"], unique=True)
    for name, columns in (
        ("ix_cases_desk_queue", ["urgency", "due_at", "id"]),
        ("ix_cases_desk_assignee", ["assignee_id", "urgency", "due_at", "id"]),
    ):
        op.create_index(
            name,
            "cases",
            columns,
            sqlite_where=sa.text(OPEN_CONDITION),
            postgresql_where=sa.text(OPEN_CONDITION),
        )
    op.create_table(
        "desk_sessions",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
    )
    op.create_index("ix_desk_sessions_staff_id", "desk_sessions", ["staff_id"])
    op.create_table(
        "desk_sign_in_throttle",
        sa.Column("address", sa.String(length=64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_failure_at", _utc(), nullable=True),
        sa.Column("slowed_until", _utc(), nullable=True),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
    )
    op.create_index("ix_staff_recovery_codes_staff_id", "staff_recovery_codes", ["staff_id"])
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
    )
    for column in ("at", "staff_id", "case_id"):
        op.create_index(f"ix_staff_audit_log_{column}", "staff_audit_log", [column])
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=120), nullable=False, unique=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=120), nullable=False, unique=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("municipalities", sa.JSON(), nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), primary_key=True),
    )


def downgrade() -> None:
    for table in (
        "team_members",
        "teams",
        "saved_replies",
        "staff_audit_log",
        "staff_recovery_codes",
        "desk_sign_in_throttle",
        "desk_sessions",
    ):
        op.drop_table(table)
    op.drop_index("ix_cases_desk_assignee", table_name="cases")
    op.drop_index("ix_cases_desk_queue", table_name="cases")
    op.drop_index("ix_staff_username", table_name="staff")
    with op.batch_alter_table("staff") as batch:
        for column in (
            "locked_until",
            "failed_sign_ins",
            "totp_last_step",
            "totp_secret",
            "password_hash",
            "username",
        ):
            batch.drop_column(column)
