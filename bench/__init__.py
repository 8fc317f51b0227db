"""Ryggrad's benchmark suite: ``python -m bench.run`` (``make bench``). Not tests; ``make test`` never runs it.

Each figure is measured beside its limit: HTTP transaction ingest beside a direct SQLAlchemy insert of the same
rows, and reads by id beside a bare Starlette app serving the same bytes. Servers listen on loopback only, every
run stops by itself, and everything it starts or creates (processes, databases, temp dirs) is removed at the end.

``python -m bench.run --search --size 10k|100k|1m [--backend postgresql]`` is the search benchmark: a synthetic
registry population (``population.py``) loaded in-process through ``FhirServer.execute``, then a fixed set of
typical searches (``search_queries.py``) over HTTP beside the hand-written SQL for the same page, answers compared.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTHEA_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "synthea"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOOPBACK = "127.0.0.1"

#: The targets of the issue, shown beside the figures.
TARGET_INGEST_PER_S = 1_500.0  # resources/s, Synthea transactions with validation and indexing
TARGET_INGEST_SHARE = 0.40  # of the direct-insert limit
TARGET_READ_P50_MS = 2.0
TARGET_READ_PER_S = 2_000.0
TARGET_SEARCH_P95_MS = 50.0  # every search of the set, at 1M resources
TARGET_QR_WRITE_P50_MS = 10.0  # a validated QuestionnaireResponse write
TARGET_FLOW_P95_MS = 1_000.0  # appointment push -> Task, at 200 appointments/s
TARGET_FLOW_RATE = 200.0
TARGET_SERVE_RSS_MB = 300.0  # one serving process, all definitions loaded
