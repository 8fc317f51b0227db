"""Subscriptions: their delivery state, the transactional outbox of their events, and internal subscribers'
handled events (fhir_server/subscriptions).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscription_state",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secret", sa.String(500), nullable=True),
        sa.Column("events_since_start", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("delivered_through", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("failing_since", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_state"),
    )
    op.create_table(
        "subscription_event",
        sa.Column("seq", BigId, nullable=False, autoincrement=True),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("recorded", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_subscription_event"),
        sa.UniqueConstraint("subscription_id", "number", name="uq_subscription_event_subscription_id_number"),
    )
    op.create_index("ix_subscription_event_subscription_id_seq", "subscription_event", ["subscription_id", "seq"])
    op.create_table(
        "handled_event",
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("handled", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "event_id", name="pk_handled_event"),
    )


def downgrade() -> None:
    op.drop_table("handled_event")
    op.drop_index("ix_subscription_event_subscription_id_seq", "subscription_event")
    op.drop_table("subscription_event")
    op.drop_table("subscription_state")
