"""The many-process test needs the local PostgreSQL and Redis; without either it is skipped, naming which."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import _PG_SKIP, POSTGRES_ADMIN_URL
from tests.deploy.cluster import Cluster

REDIS_URL = os.environ.get("RYGGRAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

#: Quick clocks: a dead worker's Subscription lease is taken over after 3 s, the scheduler sweeps twice a second.
CLUSTER_SETTINGS = {
    "RYGGRAD_SUBSCRIPTION_LEASE_S": "3",
    "RYGGRAD_SUBSCRIPTION_RETRY_BASE_S": "0.2",
    "RYGGRAD_SUBSCRIPTION_RETRY_MAX_S": "1",
    "RYGGRAD_DB_POOL_SIZE": "4",
}


def _redis_unreachable() -> str | None:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    skip = _redis_unreachable()
    if skip:
        pytest.skip(skip)
    made = Cluster(tmp_path, POSTGRES_ADMIN_URL, REDIS_URL, **CLUSTER_SETTINGS)
    try:
        yield made
    finally:
        made.close()
