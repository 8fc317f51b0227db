"""The Alembic migrations build exactly the schema that ``storage/schema.py`` describes, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fhir_server.storage.migrate import alembic_config, current_revision, upgrade
from fhir_server.storage.schema import metadata


def test_migrated_database_matches_schema(server):
    with server.db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
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
