"""Bring a database's schema to the newest Alembic revision (``ryggrad migrate``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from fhir_server.storage.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head", base_url: str | None = None) -> None:
    """``base_url``: the server's public base, for migrations that rewrite what depends on it (0004: this
    server's absolute references indexed as local ones)."""
    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        config.attributes["base_url"] = base_url
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
