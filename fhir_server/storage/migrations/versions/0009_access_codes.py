"""One-time codes for clinic tablets (registry rule N8): digests of codes and of the sessions they open.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_code",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("redeemed_at", sa.Float(), nullable=True),
        sa.Column("session_digest", sa.String(64), nullable=True),
        sa.Column("session_expires_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_access_code"),
        sa.UniqueConstraint("session_digest", name="uq_access_code_session_digest"),
    )
    op.create_index("ix_access_code_task_id", "access_code", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_access_code_task_id", table_name="access_code")
    op.drop_table("access_code")
