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
