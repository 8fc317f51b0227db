"""Chains and _has stay linear per level on tables without statistics (a fresh database, or right after a bulk
load): each inner level is computed once, not rescanned for every outer row."""

from __future__ import annotations

import time

from tests.search_query.conftest import Seed
from tests.search_query.registry_data import load

QUERIES = [
    ("Observation", "subject:Patient.organization.name=sykehuset ostfold"),
    ("Task", "focus:EpisodeOfCare.patient:Patient.name=kari"),
    ("Patient", "_has:EpisodeOfCare:patient:_has:Task:focus:status=ready"),
    ("Organization", "_has:Patient:organization:_has:Appointment:patient:status=booked"),
]


def test_deep_chains_on_many_copies_are_fast(seed):
    copies = [Seed(seed.server, seed.registry) for _ in range(15)]
    for copy in [seed, *copies]:
        load(copy)
    for resource_type, query in QUERIES:
        started = time.perf_counter()
        found = seed.ids(resource_type, query)
        elapsed = time.perf_counter() - started
        assert found, query
        assert elapsed < 2.0, f"{resource_type}?{query} took {elapsed:.1f} s"
