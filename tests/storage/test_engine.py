"""Connection settings the search engine relies on."""

from __future__ import annotations

from sqlalchemy import text


def test_postgres_plans_every_execution_for_its_values(server):
    """Prepared statements must not fall back to one generic plan (search data are skewed), and API queries
    start no parallel workers."""
    if not server.db.is_postgres:
        return
    for _ in range(8):  # psycopg prepares after 5 runs of the same statement
        with server.db.reading() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
            assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one() == "0"
