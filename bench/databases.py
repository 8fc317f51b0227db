"""Fresh databases for one run: a SQLite file in a temp dir, or a uniquely named PostgreSQL database that is
dropped at the end (``RYGGRAD_BENCH_POSTGRES_URL`` names the admin connection; default the local server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = os.environ.get(
    "RYGGRAD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


def _is_loopback(url: str) -> bool:
    return make_url(url).host in (None, "", "127.0.0.1", "localhost", "::1")


def _check_loopback(url: str) -> None:
    if not _is_loopback(url):
        raise SystemExit(f"the bench uses loopback addresses only; {make_url(url).host} is not one")


@contextmanager
def temp_database(backend: str, folder: Path) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{folder / 'bench.db'}"
        return  # the file goes with the caller's temp dir
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend}")
    _check_loopback(POSTGRES_ADMIN_URL)
    name = f"ryggrad_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_version() -> str | None:
    """The server's version, or None when it is not reachable."""
    if not _is_loopback(POSTGRES_ADMIN_URL):
        return None
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar_one())
        finally:
            engine.dispose()
    except Exception:
        return None
