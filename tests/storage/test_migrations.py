"""The Alembic migrations build exactly the schema that ``storage/schema.py`` describes, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fhir_server.storage.migrate import alembic_config, current_revision, upgrade
from fhir_server.storage.schema import managed_by_migrations, metadata


def test_migrated_database_matches_schema(server):
    with server.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": managed_by_migrations})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_is_idempotent(server):
    upgrade(server.db)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(server.db) == head


def test_index_tables_match_the_row_types():
    """The store writes rows positionally (COPY): table columns must be rid, resource_type, then the row fields."""
    from fhir_server.search.index.rows import IndexRows
    from fhir_server.storage.schema import INDEX_TABLES

    rows = IndexRows()
    row_types = {
        "tokens": "TokenRow",
        "strings": "StringRow",
        "references": "ReferenceRow",
        "dates": "DateRow",
        "numbers": "NumberRow",
        "quantities": "QuantityRow",
        "uris": "UriRow",
    }
    import fhir_server.search.index.rows as row_module

    assert set(INDEX_TABLES) == set(row_types) == set(rows.__slots__)
    for kind, table in INDEX_TABLES.items():
        fields = getattr(row_module, row_types[kind])._fields
        assert tuple(table.c.keys()) == ("rid", "resource_type", *fields), kind


def test_0004_rewrites_index_rows_as_the_indexer_writes_them_now(backend, tmp_path):
    """Date rows written before 0004 get their width class and role, and a hull row where a resource has several
    values; references to this server's own URLs become local ones, other servers' lose their target id."""
    from datetime import datetime

    from sqlalchemy import text

    from fhir_server.search.index.date_spans import finish_dates
    from fhir_server.search.index.rows import DATE_MAX, DateRow
    from fhir_server.storage.engine import Database
    from tests.conftest import make_database_url

    cleanups: list = []
    try:
        db = Database(make_database_url(backend, tmp_path, cleanups))
        upgrade(db, "0003")
        before = {
            1: [DateRow("date", datetime(2024, 5, 1, 9), datetime(2024, 5, 1, 9, 0, 1))],
            2: [
                DateRow("date", datetime(2024, 5, 1), datetime(2024, 5, 2)),
                DateRow("date", datetime(2024, 1, 1), datetime(2025, 1, 1)),
            ],
            3: [
                DateRow("period", datetime(2024, 5, 1), DATE_MAX),
                DateRow("code$0", datetime(2024, 3, 1), datetime(2024, 4, 1), 0),
            ],
        }
        with db.engine.begin() as conn:
            for rid, rows in before.items():
                for row in rows:
                    conn.execute(
                        text(
                            "INSERT INTO search_date (rid, resource_type, param, low, high, grp)"
                            " VALUES (:rid, 'Encounter', :param, :low, :high, :grp)"
                        ),
                        {"rid": rid, "param": row.param, "low": row.low, "high": row.high, "grp": row.grp},
                    )
            references = [
                ("Patient", "1", "https://registry.example/fhir/Patient/1"),  # this server's own URL
                ("Patient", "2", "http://other.example/fhir/Patient/2"),  # another server's
                ("Patient", "3", None),  # relative
            ]
            for target_type, target_id, url in references:
                conn.execute(
                    text(
                        "INSERT INTO search_reference (rid, resource_type, param, target_type, target_id, url)"
                        " VALUES (1, 'Observation', 'subject', :t, :i, :u)"
                    ),
                    {"t": target_type, "i": target_id, "u": url},
                )
        upgrade(db, base_url="https://registry.example/fhir")
        with db.engine.connect() as conn:
            found = conn.execute(
                text("SELECT rid, param, low, high, grp, span, role FROM search_date"),
            ).all()
            indexed = set(conn.execute(text("SELECT target_type, target_id, url FROM search_reference")).all())
        assert indexed == {
            ("Patient", "1", None),
            ("Patient", None, "http://other.example/fhir/Patient/2"),
            ("Patient", "3", None),
        }
        db.engine.dispose()

        def as_set(rows):
            return {(r[0], r[1], str(r[2])[:19], str(r[3])[:19], r[4], r[5], r[6]) for r in rows}

        expected = [(rid, *row) for rid, rows in before.items() for row in finish_dates(rows)]
        assert as_set(found) == as_set(expected)
        assert {r[-1] for r in expected} == {0, 1, 2}  # every role is exercised
        assert {r[-2] for r in expected} == {0, 1, 2, 3}  # and every width class
    finally:
        for cleanup in cleanups:
            cleanup()
