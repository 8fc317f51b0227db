"""Ryggrad's benchmark suite: ``make bench`` / ``ryggrad bench`` / ``python -m bench.run``. Not tests; ``make test``
never runs it.

One run measures every section on one backend (``--backend postgresql|sqlite``; ``--only`` picks sections,
``--quick`` is a smoke run) and writes one report, ``results/<date>-suite-<backend>.json|.md``: the machine, then each
figure beside its limit measured in the same run (a direct SQL insert of the same resources, a bare Starlette app
serving or accepting the same bytes, orjson parsing the same body, the hand-written SQL of the same search page, a
Redis hand-off at the same pace, a bare POST to the same receiver, the same pages from a static server), the ratio,
and the issue's target. Sections: ``suite_sections.py`` (the existing benches: ingest/read/create ``suite.py``,
validation, search, registry flow, notifications, indicators, views), ``qr_write.py``, ``portal_load.py``,
``serve_memory.py``; the report: ``suite_report.py``. Servers listen on loopback only, load runs are bounded (wrk),
and everything a run starts or creates (processes, databases, Redis keys, temp dirs) is removed at the end.

Each bench also runs alone, with its own detailed report: ``python -m bench.run --search --size 10k|100k|1m``,
``python -m bench.registry_flow``, ``python -m bench.notifications``, ``python -m bench.indicators``,
``python -m bench.views_runner``, ``python -m bench.views_materialize``, ``python -m bench.profile_validation``.
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
