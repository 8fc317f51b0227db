"""Materialized ViewDefinitions (fhir_server/views/materialize.py): each view table's definition hash and watermark.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "view_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("definition_hash", sa.String(64), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_view_state"),
    )


def downgrade() -> None:
    op.drop_table("view_state")
