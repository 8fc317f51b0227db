"""Engines: SQLite (WAL, foreign keys, writers take the lock up front) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def days_between(start: Any, end: Any) -> int | None:
    """The days from ISO date ``start`` to ``end`` (SQL ``days_between``; PostgreSQL has it from a migration)."""
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        return (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days
    except ValueError:
        return None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        dbapi_connection.create_function("days_between", 2, days_between, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # Database.writing checkpoints, outside the writers' locks
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer that begins deferred and upgrades later can fail with "database is locked" at once;
        # taking the write lock at BEGIN makes concurrent writers queue on busy_timeout instead.
        mode = "IMMEDIATE" if conn.get_execution_options().get("ryggrad_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


CHECKPOINT_INTERVAL_S = 1.0  # SQLite: how often the writers of a process copy the WAL into the database file


class WriterFileLock:
    """An exclusive ``flock`` on a file beside a SQLite database, held around each write transaction: writers in
    other processes (the API, the workers) queue for it in the kernel and the next is woken the moment it is
    free, instead of polling in SQLite's busy handler, whose sleeps grow to 100 ms — lock time nobody uses, and
    the bound on throughput when two processes write in turns. The file is opened for each transaction (a few
    microseconds): nothing stays open, and a forked child never shares its parent's lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = threading.local()

    def __enter__(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd.value = fd

    def __exit__(self, *_: object) -> None:
        os.close(self._fd.value)  # releases the lock


def _file_lock(url: URL) -> AbstractContextManager[Any]:
    """The writers' file lock of a SQLite database file (none in memory, or without ``fcntl``)."""
    database = url.database or ""
    if fcntl is None or database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode"):
        return nullcontext()
    return WriterFileLock(Path(database).with_name(Path(database).name + ".writer-lock"))


class Database:
    """One database: an engine for reads and the same pool marked for writes."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
            "echo": echo,
            "hide_parameters": True,  # values (patient data) never appear in error messages or logs
        }
        if self.dialect == "postgresql":
            if self.url.drivername == "postgresql":
                self.url = self.url.set(drivername="postgresql+psycopg")
            # no pre-ping (it costs a round trip per request): stale connections are recycled, and a connection
            # that dies anyway fails one request and is then discarded with the rest of the pool
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
            # psycopg prepares a statement after a few runs, and PostgreSQL may then switch it to one generic plan
            # for all values; search data are skewed (a unit with 7,000 tasks, a patient with 5), so every
            # execution is planned for its own values (the statement is still parsed only once). No parallel
            # workers: starting them costs an API request more (5-10 ms) than they save on pages of _count rows,
            # and concurrent requests keep the cores busy anyway.
            options = "-c plan_cache_mode=force_custom_plan -c max_parallel_workers_per_gather=0"
            kwargs.update(connect_args={"options": options})
        elif self.dialect == "sqlite":
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        self.engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self._write_engine = self.engine.execution_options(ryggrad_write=True)
        self._writer_lock: AbstractContextManager[Any] = threading.Lock() if self.dialect == "sqlite" else nullcontext()
        self._file_lock = _file_lock(self.url) if self.dialect == "sqlite" else nullcontext()
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._checkpoint_lock = threading.Lock()
        self._next_checkpoint = 0.0  # time.monotonic() from which the next write transaction checkpoints (SQLite)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """On PostgreSQL reads run in autocommit (no BEGIN/COMMIT round trips; each statement sees committed
        data); SQLite reads take a deferred transaction, which costs nothing over a local file."""
        if self.is_postgres:
            with self._autocommit_engine.connect() as conn:
                yield conn
        else:
            with self.engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One all-or-nothing transaction: committed on success, rolled back on any exception.

        SQLite allows one writer at a time; threads of this process queue on a lock, and processes on a file lock
        (``WriterFileLock``), each woken the moment it is free, instead of in SQLite's busy handler, which sleeps in
        steps of up to 100 ms."""
        with self._writer_lock, self._file_lock, self._write_engine.connect() as conn, conn.begin():
            yield conn
        if self.dialect == "sqlite":
            self._checkpoint_if_due()

    def _checkpoint_if_due(self) -> None:
        """Copy the WAL into the database file, once a second at most, after a write transaction has released the
        writers' locks. SQLite's automatic checkpoint runs inside a commit, so with those locks held: tens of ms
        of fsync every thousand pages during which no other process writes. PASSIVE: it waits for nobody, and
        writers go on appending to the WAL meanwhile."""
        now = time.monotonic()
        with self._checkpoint_lock:
            if now < self._next_checkpoint:
                return
            self._next_checkpoint = now + CHECKPOINT_INTERVAL_S
        with self.engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            dbapi.execute("PRAGMA wal_checkpoint(PASSIVE)")  # autocommit: outside any transaction

    def dispose(self) -> None:
        self.engine.dispose()
