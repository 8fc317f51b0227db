"""Resources, their history and the token index.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("rid", BigId, primary_key=True, autoincrement=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("last_updated", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("content", Json, nullable=True),
        sa.PrimaryKeyConstraint("rid", name="pk_resource"),
        sa.UniqueConstraint("resource_type", "id", name="uq_resource_resource_type_id"),
    )
    op.create_index("ix_resource_resource_type_last_updated", "resource", ["resource_type", "last_updated"])
    op.create_table(
        "resource_history",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("last_updated", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("content", Json, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_resource_history"),
        sa.UniqueConstraint(
            "resource_type", "id", "version_id", name="uq_resource_history_resource_type_id_version_id"
        ),
    )
    op.create_index("ix_resource_history_resource_type_seq", "resource_history", ["resource_type", "seq"])
    op.create_index("ix_resource_history_last_updated", "resource_history", ["last_updated"])
    op.create_table(
        "search_token",
        sa.Column("rid", BigId, nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("param", sa.String(64), nullable=False),
        sa.Column("system", sa.String(255), nullable=True),
        sa.Column("code", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["rid"], ["resource.rid"], name="fk_search_token_rid_resource", ondelete="CASCADE"),
    )
    op.create_index(
        "ix_search_token_resource_type_param_code_system",
        "search_token",
        ["resource_type", "param", "code", "system"],
    )
    op.create_index("ix_search_token_rid", "search_token", ["rid"])


def downgrade() -> None:
    op.drop_table("search_token")
    op.drop_table("resource_history")
    op.drop_table("resource")
