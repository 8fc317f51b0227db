"""Prefix-searched text columns compared by code point (COLLATE "C") on PostgreSQL.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = [
    ("search_string", "value", 255),
    ("search_string", "exact", 255),
    ("search_token", "text", 255),
    ("search_reference", "url", 1000),
    ("search_uri", "value", 1000),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite compares text by code point already
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length, collation="C"), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.String(length, collation="C"))
