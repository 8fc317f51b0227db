"""The tables. Alembic migrations in ``migrations/`` create them; this module is their single description.

- ``resource``: the current version of each resource (one row per type and id), with a surrogate ``rid`` that
  index tables point at and that search pages by.
- ``resource_history``: every version ever written, deleted ones included; ``seq`` orders all writes.
- ``search_token``: token index rows (system, code) per resource and search parameter.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

resource = Table(
    "resource",
    metadata,
    Column("rid", BigId, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime(), nullable=False),  # naive UTC
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Json, nullable=True),  # NULL once deleted
    UniqueConstraint("resource_type", "id"),
    Index(None, "resource_type", "last_updated"),
)

resource_history = Table(
    "resource_history",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime(), nullable=False),
    Column("method", String(8), nullable=False),  # POST, PUT, PATCH, DELETE
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Json, nullable=True),
    UniqueConstraint("resource_type", "id", "version_id"),
    Index(None, "resource_type", "seq"),
    Index(None, "last_updated"),
)

search_token = Table(
    "search_token",
    metadata,
    Column("rid", BigId, ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("system", String(255), nullable=True),
    Column("code", String(255), nullable=False),
    Index(None, "resource_type", "param", "code", "system"),
    Index(None, "rid"),
)
