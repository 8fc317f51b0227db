"""Search indexes for date windows, date sorts and rid-ordered equality matches.

- ``search_date`` gains ``span`` (width class) and ``role`` (value / one of several / hull), filled in here for
  rows written before, with a hull row for each resource and parameter that has several values; its indexes become
  ``(resource_type, param, role, span, low)``, ``(…, low, rid)`` and ``(…, high, rid)``.
- References to this server's own absolute URLs are stored like relative ones (no URL), and other servers'
  URLs without a target id, so a reference search is one index lookup (the base comes from ``upgrade(base_url=…)``;
  without one, every absolute URL counts as another server's).
- Equality indexes end in ``rid``: token ``(…, code, rid, system)``, reference ``(…, target_id, rid, target_type)``,
  string ``(…, value, rid)``, so one value's matches come in the order an unsorted search pages in.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The values of fhir_server.search.index (rows.DATE_MIN/MAX, date_spans), as they were when this was written.
DATE_MIN = datetime(1, 1, 1)
DATE_MAX = datetime(9999, 12, 31, 23, 59, 59)
SPAN_LIMITS = (timedelta(days=1), timedelta(days=31), timedelta(days=366))
VALUE, MULTI, HULL = 0, 1, 2

INDEX_SWAPS: list[tuple[str, list[str], list[list[str]]]] = [
    ("search_date", [["low"], ["high"]], [["role", "span", "low", "high", "rid"], ["low", "rid"], ["high", "rid"]]),
    ("search_token", [["code", "system"]], [["code", "rid", "system"]]),
    (
        "search_reference",
        [["target_id", "target_type"], ["url"]],
        [["target_id", "rid", "target_type"], ["url", "rid"]],
    ),
    ("search_string", [["value"]], [["value", "rid"]]),
    ("search_uri", [["value"]], [["value", "rid"]]),
]

# The index that leads with rid gains the parameter (and, for references, the target): probes "has this resource a
# row of this parameter" and "where do its references point" are answered from the index alone.
BY_RID = {
    "search_token": ["param"],
    "search_string": ["param"],
    "search_reference": ["param", "resource_type", "target_type", "target_id"],
    "search_date": ["param"],
    "search_number": ["param"],
    "search_quantity": ["param"],
    "search_uri": ["param"],
}

# PostgreSQL's planner assumes columns independent: it guesses "Task.status = ready" as a fraction of "status =
# ready" over every type. Statistics on the combinations give it the real counts. (Larger statistics targets made
# estimates no better here and planning several milliseconds slower.)
STATISTICS = [
    ("st_search_token", "search_token", ["resource_type", "param", "code", "system"]),
    ("st_search_reference", "search_reference", ["resource_type", "param", "target_id"]),
    ("st_search_reference_url", "search_reference", ["resource_type", "param", "url"]),
    ("st_search_date", "search_date", ["resource_type", "param", "role", "span"]),
    ("st_search_string", "search_string", ["resource_type", "param", "value"]),
    ("st_search_quantity", "search_quantity", ["resource_type", "param", "code"]),
    ("st_search_uri", "search_uri", ["resource_type", "param", "value"]),
]

search_reference = sa.table("search_reference", sa.column("target_id", sa.String), sa.column("url", sa.String))

search_date = sa.table(
    "search_date",
    sa.column("rid", sa.BigInteger),
    sa.column("resource_type", sa.String),
    sa.column("param", sa.String),
    sa.column("low", sa.DateTime),
    sa.column("high", sa.DateTime),
    sa.column("grp", sa.Integer),
    sa.column("span", sa.SmallInteger),
    sa.column("role", sa.SmallInteger),
)


def _rid_index_name(table: str, extra: list[str]) -> str:
    name = f"ix_{table}_rid_{'_'.join(extra)}"
    return name if len(name) <= 63 else f"ix_{table}_rid_targets"  # PostgreSQL's identifiers end at 63


def _index_name(table: str, columns: list[str]) -> str:
    if table == "search_reference" and columns[:2] == ["target_id", "rid"]:
        return "ix_search_reference_param_target_rid"  # the conventional name is too long for PostgreSQL
    return f"ix_{table}_resource_type_param_{'_'.join(columns)}"


def _within(low: sa.ColumnElement, high: sa.ColumnElement, limit: timedelta, dialect: str) -> sa.ColumnElement:
    if dialect == "sqlite":
        return (sa.func.julianday(high) - sa.func.julianday(low)) <= limit.total_seconds() / 86400
    return (high - low) <= sa.literal(limit, sa.Interval())


def _span(low: sa.ColumnElement, high: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    cases = [(sa.or_(low == DATE_MIN, high == DATE_MAX), len(SPAN_LIMITS))]
    cases += [(_within(low, high, limit, dialect), span) for span, limit in enumerate(SPAN_LIMITS)]
    return sa.case(*cases, else_=len(SPAN_LIMITS))


def _local_references(base_url: str | None) -> None:
    r = search_reference
    absolute = [r.c.target_id.is_not(None), r.c.url.is_not(None)]
    if base_url:
        prefix = base_url.rstrip("/") + "/"
        op.execute(r.update().where(*absolute, sa.func.substr(r.c.url, 1, len(prefix)) == prefix).values(url=None))
    op.execute(r.update().where(*absolute).values(target_id=None))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _local_references(op.get_context().config.attributes.get("base_url"))
    with op.batch_alter_table("search_date") as batch:
        batch.add_column(sa.Column("span", sa.SmallInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("role", sa.SmallInteger(), nullable=False, server_default="0"))
    d = search_date
    op.execute(d.update().values(span=_span(d.c.low, d.c.high, dialect)))
    several = (
        sa.select(d.c.rid, d.c.param)
        .where(d.c.grp.is_(None))
        .group_by(d.c.rid, d.c.param)
        .having(sa.func.count() > 1)
        .subquery()
    )
    op.execute(
        d.update()
        .where(d.c.grp.is_(None), sa.tuple_(d.c.rid, d.c.param).in_(sa.select(several.c.rid, several.c.param)))
        .values(role=MULTI)
    )
    low, high = sa.func.min(d.c.low), sa.func.max(d.c.high)
    hulls = (
        sa.select(d.c.rid, d.c.resource_type, d.c.param, low, high, sa.null(), _span(low, high, dialect), HULL)
        .where(d.c.role == MULTI)
        .group_by(d.c.rid, d.c.resource_type, d.c.param)
    )
    op.execute(d.insert().from_select(["rid", "resource_type", "param", "low", "high", "grp", "span", "role"], hulls))
    for table, old, new in INDEX_SWAPS:
        with op.batch_alter_table(table) as batch:
            for columns in old:
                batch.drop_index(_index_name(table, columns))
            for columns in new:
                batch.create_index(_index_name(table, columns), ["resource_type", "param", *columns])
    for table, extra in BY_RID.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_rid")
            batch.create_index(_rid_index_name(table, extra), ["rid", *extra])
    if dialect == "postgresql":
        # rid and deleted in the (type, id) key's index: lookups by id read no resource rows
        op.execute("ALTER TABLE resource DROP CONSTRAINT uq_resource_resource_type_id")
        op.execute(
            "ALTER TABLE resource ADD CONSTRAINT uq_resource_resource_type_id UNIQUE (resource_type, id) "
            "INCLUDE (rid, deleted)"
        )
        for name, table, columns in STATISTICS:
            op.execute(f"CREATE STATISTICS {name} (mcv, dependencies) ON {', '.join(columns)} FROM {table}")
        for table in sorted({table for _, table, _ in STATISTICS}):
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE resource DROP CONSTRAINT uq_resource_resource_type_id")
        op.execute("ALTER TABLE resource ADD CONSTRAINT uq_resource_resource_type_id UNIQUE (resource_type, id)")
    for table, extra in BY_RID.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_index(_rid_index_name(table, extra))
            batch.create_index(f"ix_{table}_rid", ["rid"])
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in STATISTICS:
            op.execute(f"DROP STATISTICS IF EXISTS {name}")
    for table, old, new in INDEX_SWAPS:
        with op.batch_alter_table(table) as batch:
            for columns in new:
                batch.drop_index(_index_name(table, columns))
            for columns in old:
                batch.create_index(_index_name(table, columns), ["resource_type", "param", *columns])
    op.execute(search_date.delete().where(search_date.c.role == HULL))
    with op.batch_alter_table("search_date") as batch:
        batch.drop_column("role")
        batch.drop_column("span")
