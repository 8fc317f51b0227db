"""An index on (resource_type, rid): reading one type's resources page by page in rid order (view rebuilds, bulk
exports) walks it, instead of re-reading and sorting the type's rows for every page (quadratic on SQLite).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_resource_resource_type_rid", "resource", ["resource_type", "rid"])


def downgrade() -> None:
    op.drop_index("ix_resource_resource_type_rid", table_name="resource")
