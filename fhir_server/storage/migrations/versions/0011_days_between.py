"""``days_between(a, b)``: the days from ISO date ``a`` to ``b``, for SQL over the materialized views (the indicator
facts' waiting time). SQLite gets the same function from the engine at each connection.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION days_between(a text, b text) RETURNS integer "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
            "$$ SELECT CASE WHEN a ~ '^\\d{4}-\\d{2}-\\d{2}' AND b ~ '^\\d{4}-\\d{2}-\\d{2}' "
            "THEN (substr(b, 1, 10)::date - substr(a, 1, 10)::date) END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS days_between(text, text)")
