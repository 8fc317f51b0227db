"""Alembic environment: runs on the connection handed in by ``fhir_server.storage.migrate``."""

from __future__ import annotations

from alembic import context

from fhir_server.storage.schema import managed_by_migrations, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, include_name=managed_by_migrations
)
with context.begin_transaction():
    context.run_migrations()
