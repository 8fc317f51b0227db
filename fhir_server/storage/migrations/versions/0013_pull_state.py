"""Pulls from an EHR's FHIR endpoint (fhir_server/integrations/dips/pull.py): each pull's watermark and what it ran
into.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("watermark", sa.String(40), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("failed", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_failure", sa.String(1000), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_pull_state"),
    )


def downgrade() -> None:
    op.drop_table("pull_state")
