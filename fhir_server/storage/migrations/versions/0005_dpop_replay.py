"""The DPoP proof replay cache shared by API processes (fhir_server/auth/replay.py).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dpop_replay",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_dpop_replay"),
    )
    op.create_index("ix_dpop_replay_expires_at", "dpop_replay", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dpop_replay_expires_at", "dpop_replay")
    op.drop_table("dpop_replay")
