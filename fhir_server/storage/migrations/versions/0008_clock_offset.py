"""The shared clock offset (fhir_server/clock.py): one row, zero.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "clock_offset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_clock_offset"),
    )
    op.bulk_insert(table, [{"id": 1, "seconds": 0.0}])


def downgrade() -> None:
    op.drop_table("clock_offset")
