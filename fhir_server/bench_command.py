"""``ryggrad bench``: the benchmark suite of ``bench/`` (``python -m bench.run``), with the same arguments.

``bench/`` lives beside ``fhir_server/`` in a source checkout and is not installed with the package; the command
finds it there, and says so plainly where there is none (an installed wheel, a container image)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

CHECKOUT = Path(__file__).resolve().parents[1]
NO_CHECKOUT = (
    "ryggrad bench needs a source checkout: the benchmarks (bench/) are not installed with the package. "
    "Run it from a clone of the repository (`make bench`, or `.venv/bin/ryggrad bench` there)."
)


def _bench_main():  # type: ignore[no-untyped-def]
    """``bench.run.main``, from the checkout this package was installed from (editable installs), if any."""
    if (CHECKOUT / "bench" / "run.py").is_file() and str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from bench.run import main

    return main


def bench(ctx: typer.Context) -> None:
    """Run the benchmark suite on one backend and write one report (JSON + Markdown) to bench/results/: ingest,
    reads, creates, validated QuestionnaireResponse writes, validation, searches, appointment → Task, notifications,
    indicators, views, portal page load, serving-process memory. `ryggrad bench --help` lists its options."""
    try:
        main = _bench_main()
    except ImportError as exc:
        typer.echo(f"{NO_CHECKOUT} ({exc})", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(main(list(ctx.args), prog="ryggrad bench"))


#: Every argument goes to the suite's own parser (its --help included).
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
