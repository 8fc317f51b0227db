"""PostgreSQL: the reference statistics also cover ``target_type``, with a larger sample.

A search by a reference (``Task?owner=Organization/…``) gives all four of (resource_type, param, target_type,
target_id). With statistics on three of them the planner multiplied in the fourth as if independent and guessed a
tenth of a large unit's tasks; it then probed thousands of them one by one (40 ms) instead of merging two index
streams (2 ms). The most common combinations — organisations and practitioners, referred to by thousands of
resources each — must all be in the list of most common values: 300 items hold every unit's of a registry of 40
units (150 did not). The list costs planning time (every reference search reads it: about 1.3 ms at 300 items,
3.5 ms at 1,000, 0.5 ms at the default 100), so it is no longer than it needs to be; a registry with several
hundred units raises it (``ALTER STATISTICS st_search_reference SET STATISTICS n``; ``ANALYZE search_reference``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TARGET = 300


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_search_reference")
    op.execute(
        "CREATE STATISTICS st_search_reference (mcv, dependencies) "
        "ON resource_type, param, target_type, target_id FROM search_reference"
    )
    op.execute(f"ALTER STATISTICS st_search_reference SET STATISTICS {TARGET}")
    op.execute("ANALYZE search_reference")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_search_reference")
    op.execute(
        "CREATE STATISTICS st_search_reference (mcv, dependencies) "
        "ON resource_type, param, target_id FROM search_reference"
    )
