"""The tables. Alembic migrations in ``migrations/`` create them; this module is their single description.

- ``resource``: the current version of each resource (one row per type and id), with a surrogate ``rid`` that
  index tables point at and that search pages by.
- ``resource_history``: every version ever written, deleted ones included; ``seq`` orders all writes.
- ``search_*``: the search index, one table per kind of value (token, string, reference, date, number, quantity,
  uri), rows per resource and SearchParameter code, as extracted at write time (``fhir_server.search.index``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
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
    # rid and deleted in the index (PostgreSQL): looking resources up by id never reads their rows
    UniqueConstraint("resource_type", "id", postgresql_include=["rid", "deleted"]),
    Index(None, "resource_type", "last_updated"),
    Index(None, "resource_type", "rid"),  # one type's resources in rid order (view rebuilds, exports) page by rid
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


def _rid_index_name(table: str, by_rid: tuple[str, ...]) -> str:
    name = f"ix_{table}_rid_{'_'.join(by_rid)}"
    return name if len(name) <= 63 else f"ix_{table}_rid_targets"  # PostgreSQL's identifiers end at 63


def _index_table(
    name: str,
    *columns: Column,
    indexes: tuple[tuple[str, ...], ...],
    trailing: tuple[Column, ...] = (),
    by_rid: tuple[str, ...] = ("param",),
) -> Table:
    """An index table: rows of one resource (``rid``) for one SearchParameter code (``param``).

    Each index leads with ``(resource_type, param)``; where an equality search ends the key, ``rid`` follows, so
    the matches of one value come in ``rid`` order (the order of an unsorted search) without a sort. One more
    index leads with ``rid`` (then ``by_rid``): a resource's rows of one parameter, for probes and deletes."""
    return Table(
        name,
        metadata,
        # no foreign key: index rows are derived data, written in the same transaction as their resource (whose
        # rows are never deleted), and a key check per row would cost ingest more than it protects
        Column("rid", BigId, nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("param", String(64), nullable=False),
        *columns,
        Column("grp", Integer, nullable=True),  # pairs the components of a composite parameter
        *trailing,
        Index(_rid_index_name(name, by_rid), "rid", *by_rid),
        *(Index(None, "resource_type", "param", *cols) for cols in indexes),
    )


Number = Numeric().with_variant(Float(), "sqlite")


def CodePointString(length: int) -> String:
    """Text compared by code point: prefix searches use B-tree ranges, exact only under the "C" collation
    (SQLite's default; on PostgreSQL set per column, whatever the database's collation)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


search_token = _index_table(
    "search_token",
    Column("system", String(255), nullable=True),
    Column("code", String(255), nullable=True),
    Column("text", CodePointString(255), nullable=True),
    Column("type_system", String(255), nullable=True),
    Column("type_code", String(255), nullable=True),
    indexes=(("code", "rid", "system"), ("text",)),
)

search_string = _index_table(
    "search_string",
    Column("value", CodePointString(255), nullable=False),
    Column("exact", CodePointString(255), nullable=False),
    indexes=(("value", "rid"),),
)

search_reference = _index_table(
    "search_reference",
    Column("target_type", String(64), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("url", CodePointString(1000), nullable=True),
    Column("version", String(64), nullable=True),
    Column("identifier_system", String(255), nullable=True),
    Column("identifier_value", String(255), nullable=True),
    indexes=(("url", "rid"), ("identifier_value",)),
    # where a resource's references point, read from the index alone (its type too, which every query names)
    by_rid=("param", "resource_type", "target_type", "target_id"),
)
Index("ix_search_reference_target", search_reference.c.target_id, search_reference.c.target_type)
Index(  # named by hand: the conventional name is longer than PostgreSQL's 63 characters
    "ix_search_reference_param_target_rid",
    *(search_reference.c[name] for name in ("resource_type", "param", "target_id", "rid", "target_type")),
)

search_date = _index_table(
    "search_date",
    Column("low", DateTime(), nullable=False),
    Column("high", DateTime(), nullable=False),
    # width class and role (value / one of several values / hull of several): see search/index/date_spans.py
    indexes=(("role", "span", "low", "high", "rid"), ("low", "rid"), ("high", "rid")),
    trailing=(
        Column("span", SmallInteger, nullable=False, server_default="0"),
        Column("role", SmallInteger, nullable=False, server_default="0"),
    ),
)

search_number = _index_table(
    "search_number",
    Column("low", Number, nullable=False),
    Column("high", Number, nullable=False),
    indexes=(("low",),),
)

search_quantity = _index_table(
    "search_quantity",
    Column("system", String(255), nullable=True),
    Column("code", String(255), nullable=True),
    Column("unit", String(255), nullable=True),
    Column("low", Number, nullable=False),
    Column("high", Number, nullable=False),
    indexes=(("code", "low"),),
)

search_uri = _index_table(
    "search_uri",
    Column("value", CodePointString(1000), nullable=False),
    indexes=(("value", "rid"),),
)

# DPoP proofs seen (fhir_server/auth/replay.py), shared by the API processes of one PostgreSQL database
dpop_replay = Table(
    "dpop_replay",
    metadata,
    Column("key", String(300), primary_key=True),  # <key thumbprint>:<jti>
    Column("expires_at", Float, nullable=False),  # epoch seconds; purged after
    Index(None, "expires_at"),
)

# Subscriptions (fhir_server/subscriptions): what each Subscription has been sent, and the outbox of its events.
subscription_state = Table(
    "subscription_state",
    metadata,
    Column("id", String(64), primary_key=True),  # the Subscription's id
    Column("status", String(16), nullable=False),  # requested | active | error | off, as the resource says
    Column("secret", String(500), nullable=True),  # signs rest-hook requests (HMAC); never in the resource
    Column("events_since_start", BigInteger, nullable=False, server_default="0"),  # events numbered so far
    Column("delivered_through", BigInteger, nullable=False, server_default="0"),  # the last event number sent
    Column("attempts", Integer, nullable=False, server_default="0"),  # failed deliveries in a row
    Column("next_attempt_at", DateTime(), nullable=True),  # the next try after a failure (naive UTC)
    Column("failing_since", DateTime(), nullable=True),
    Column("last_error", String(1000), nullable=True),
    Column("last_sent_at", DateTime(), nullable=True),  # for heartbeats
    Column("lease_owner", String(64), nullable=True),  # the worker delivering now, until lease_until
    Column("lease_until", DateTime(), nullable=True),
)

# The transactional outbox: written in the transaction of the change it announces, one row per matching
# Subscription. ``number`` (the Subscription's event count, 1, 2, …) is given when the row is first seen committed.
subscription_event = Table(
    "subscription_event",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", String(64), nullable=False),
    Column("event_id", String(36), nullable=False),  # consumers de-duplicate by it
    Column("number", BigInteger, nullable=True),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("action", String(8), nullable=False),  # create | update | delete
    Column("recorded", DateTime(), nullable=False),
    UniqueConstraint("subscription_id", "number"),
    Index(None, "subscription_id", "seq"),
)

# Events an internal subscriber (a task channel) has acted on: its effect and this row commit together.
handled_event = Table(
    "handled_event",
    metadata,
    Column("subscription_id", String(64), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("handled", DateTime(), nullable=False),
)

# The clock's offset (fhir_server/clock.py): one row, zero unless tests or demos moved time forward
# One-time codes for a clinic tablet (fhir_server/auth/one_time_codes.py): only digests of codes and sessions.
access_code = Table(
    "access_code",
    metadata,
    Column("digest", String(64), primary_key=True),  # keyed digest of the code
    Column("task_id", String(64), nullable=False, index=True),
    Column("patient_id", String(64), nullable=False),
    Column("issued_at", Float, nullable=False),  # epoch seconds, the server's clock
    Column("expires_at", Float, nullable=False),
    Column("redeemed_at", Float),
    Column("session_digest", String(64), unique=True),  # keyed digest of the session token it was redeemed for
    Column("session_expires_at", Float),
)

clock_offset = Table(
    "clock_offset",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seconds", Float, nullable=False, server_default="0"),
)

# Materialized ViewDefinitions (fhir_server/views/materialize.py): one row per view table ``view_<name>`` — the hash
# of the definition it was built from, and the last resource_history seq it reflects. The view tables themselves are
# made and dropped at run time, outside the migrations.
view_state = Table(
    "view_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("definition_hash", String(64), nullable=False),
    Column("watermark", BigInteger, nullable=False, server_default="0"),
    Column("refreshed_at", DateTime(), nullable=True),  # naive UTC
)

# Pulls from an EHR's FHIR endpoint (fhir_server/integrations/dips/pull.py): one row per pull — the lastUpdated of
# the last appointment applied (UTC, fixed width: text order is time order), and what the last runs ran into.
pull_state = Table(
    "pull_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("watermark", String(40), nullable=True),  # e.g. 2026-11-02T07:15:00.000000Z; none: from the start
    Column("last_run_at", DateTime(), nullable=True),  # naive UTC
    Column("last_error", String(1000), nullable=True),  # why the last run stopped early (transport, HelseID)
    Column("failed", BigInteger, nullable=False, server_default="0"),  # appointments skipped as unmappable, in all
    Column("last_failure", String(1000), nullable=True),  # the last one skipped: its DIPS id and why, no patient data
    Column("last_failure_at", DateTime(), nullable=True),
)

# research access (fhir_server/research/): each data release's patients, and the pseudonyms handed out
research_scope = Table(
    "research_scope",
    metadata,
    Column("study", String(64), primary_key=True),  # the ResearchStudy id
    Column("patient_id", String(64), primary_key=True),
)
research_scope_state = Table(
    "research_scope_state",
    metadata,
    Column("study", String(64), primary_key=True),
    Column("watermark", BigInteger, nullable=False),  # resource_history.seq the scope was worked out through
    Column("fingerprint", String(200), nullable=False),  # the release's registry and version it was worked out for
    Column("refreshed_at", DateTime(), nullable=False),  # naive UTC
)
research_pseudonym = Table(
    "research_pseudonym",
    metadata,
    Column("study", String(64), primary_key=True),
    Column("resource_type", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("id", String(64), nullable=False),
)

# Bulk Data exports (fhir_server/bulk): one row per $export job — what was asked, by whom (the principal's fields,
# to run the searches as them), where the worker stands (its lease, checkpoint and progress) and how it ended.
bulk_export = Table(
    "bulk_export",
    metadata,
    Column("id", String(36), primary_key=True),  # random: it is the status URL's secret part
    Column("status", String(16), nullable=False, index=True),  # queued | running | completed | failed | cancelled
    Column("level", String(16), nullable=False),  # system | patient | group
    Column("group_id", String(64), nullable=True),
    Column("request_url", String(4000), nullable=False),  # the kick-off request, for the manifest
    Column("parameters", Json, nullable=False),  # types, _since, _typeFilter, output format
    Column("principal", Json, nullable=True),  # None: the server itself
    Column("client_id", String(200), nullable=True, index=True),
    Column("transaction_time", DateTime(), nullable=False),  # naive UTC
    Column("created_at", DateTime(), nullable=False),
    Column("started_at", DateTime(), nullable=True),
    Column("finished_at", DateTime(), nullable=True),
    Column("heartbeat_at", DateTime(), nullable=True),  # the worker's last report (queued: last sent to one)
    Column("worker", String(200), nullable=True),  # who holds the job while it runs
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("checkpoint", Json, nullable=True),  # where the export stands: the search cursor and the files so far
    Column("progress", String(200), nullable=True),  # X-Progress
    Column("error_status", Integer, nullable=True),
    Column("error", String(1000), nullable=True),
)

INDEX_TABLES = {
    "tokens": search_token,
    "strings": search_string,
    "references": search_reference,
    "dates": search_date,
    "numbers": search_number,
    "quantities": search_quantity,
    "uris": search_uri,
}


def managed_by_migrations(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic's ``include_name``: the migrations manage the schema's own tables only — not the materialized view
    tables (``view_<name>``, derived data that ``fhir_server/views`` builds and rebuilds itself)."""
    return not (type_ == "table" and name is not None and name.startswith("view_") and name not in metadata.tables)
