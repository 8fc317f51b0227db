"""Research access (fhir_server/research/): the patients each data release covers, when that was last worked
out, and the pseudonyms handed out to its researchers (so that they can be used in requests).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "research_scope",
        sa.Column("study", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("study", "patient_id", name="pk_research_scope"),
    )
    op.create_table(
        "research_scope_state",
        sa.Column("study", sa.String(64), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("study", name="pk_research_scope_state"),
    )
    op.create_table(
        "research_pseudonym",
        sa.Column("study", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("study", "resource_type", "pseudonym", name="pk_research_pseudonym"),
    )


def downgrade() -> None:
    op.drop_table("research_pseudonym")
    op.drop_table("research_scope_state")
    op.drop_table("research_scope")
