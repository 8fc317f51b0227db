"""Bulk Data exports (fhir_server/bulk): one row per $export job, its lease, checkpoint and outcome.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bulk_export",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=True),
        sa.Column("request_url", sa.String(4000), nullable=False),
        sa.Column("parameters", Json, nullable=False),
        sa.Column("principal", Json, nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("transaction_time", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("checkpoint", Json, nullable=True),
        sa.Column("progress", sa.String(200), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bulk_export"),
    )
    op.create_index("ix_bulk_export_status", "bulk_export", ["status"])
    op.create_index("ix_bulk_export_client_id", "bulk_export", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_bulk_export_client_id", table_name="bulk_export")
    op.drop_index("ix_bulk_export_status", table_name="bulk_export")
    op.drop_table("bulk_export")
