"""The ``ryggrad`` command."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fhir_server import bench_command as _bench
from fhir_server.settings import Settings, get_settings

app = typer.Typer(help="Ryggrad: a FHIR R4 server for Norwegian medical quality registries.", no_args_is_help=True)
console = Console(stderr=True)


def _server():  # type: ignore[no-untyped-def]
    from fhir_server.server import FhirServer

    return FhirServer(get_settings())


@app.command()
def packages() -> None:
    """Install the official FHIR R4 core package into the FHIR package cache."""
    from fhir_server.definitions.package_cache import ensure_core_package

    settings = get_settings()
    path = ensure_core_package(settings.fhir_package_cache, settings.fhir_registry_url)
    console.print(f"hl7.fhir.r4.core#4.0.1 is in {path}")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from fhir_server.storage.engine import Database
    from fhir_server.storage.migrate import current_revision, upgrade

    settings = get_settings()
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db, base_url=settings.base_url)
    console.print(f"database at revision {current_revision(db)} ({db.dialect})")
    db.dispose()
    from workers.registry.subscriptions import ensure_subscriptions

    server = _server()
    made = ensure_subscriptions(server)  # the registry's own subscribers, before any appointment arrives
    server.close()
    if made:
        console.print(f"internal subscriptions: {', '.join(made)}")


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of FHIR JSON (.json, .json.bz2)")],
) -> None:
    """Load conformance resources or Bundles."""
    from fhir_server.loader import LoadReport, json_files, load_file

    files = json_files(paths)
    server = _server()
    report = LoadReport()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("loading", total=len(files))
        for path in files:
            load_file(server, path, report)
            progress.advance(task)
    server.close()
    console.print(f"loaded {report.resources} resources from {report.files} files")
    if report.skipped:
        console.print(f"skipped {len(report.skipped)} files of no R4 resource type (e.g. {report.skipped[0]})")
    for failure in report.failures:
        console.print(f"[red]failed[/red] {failure}")
    if report.failures:
        raise typer.Exit(1)


@app.command()
def reindex(
    resource_types: Annotated[list[str] | None, typer.Argument(help="Resource types (default: all)")] = None,
) -> None:
    """Rebuild the search index of stored resources (after SearchParameters change)."""
    from fhir_server.search.reindex import count_to_reindex
    from fhir_server.search.reindex import reindex as run_reindex

    server = _server()
    unknown = sorted(set(resource_types or ()) - server.resource_types)
    if unknown:
        console.print(f"[red]unknown resource types:[/red] {', '.join(unknown)}")
        raise typer.Exit(2)
    total = count_to_reindex(server, resource_types)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("reindexing", total=total)
        done = run_reindex(server, resource_types, lambda n: progress.advance(task, n))
    server.close()
    console.print(f"reindexed {done} resources")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data")] = 2026,
    patients: Annotated[int, typer.Option(help="How many synthetic patients")] = 40,
    with_standins: Annotated[
        bool,
        typer.Option(
            "--with-standins",
            help="Then serve, wired to local stand-ins of HelseID, Helsenorge and DIPS (source checkout only)",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="With --with-standins: the API's port")] = 8080,
) -> None:
    """Load synthetic registry demo data (idempotent: running it again creates nothing new); with
    ``--with-standins``, then serve with HelseID, Helsenorge and DIPS stand-ins around the server (Ctrl-C stops)."""
    from fhir_server.demo import build_demo_bundle
    from fhir_server.rest.messages import FhirRequest

    server = _server()
    response = server.execute(
        FhirRequest("POST", "", body=build_demo_bundle(seed, today=date.today(), patients=patients))
    )
    statuses = [e["response"]["status"].split()[0] for e in (response.resource or {}).get("entry", [])]
    console.print(f"demo data: {statuses.count('201')} created, {statuses.count('200')} already present")
    if not with_standins:
        server.close()
        return
    from fhir_server.demo import with_standins as surroundings

    try:
        code = surroundings.run(server, port, console.print, seed)
    except surroundings.NoStandIns as missing:
        console.print(f"[red]{missing}[/red]")
        raise typer.Exit(2) from None
    finally:
        server.close()
    raise typer.Exit(code)


def _stop_with_parent() -> None:
    """In the embedded worker's process, before it starts: a SIGTERM when ``ryggrad serve`` ends, however it ends
    (uvicorn ends by re-raising the signal that stopped it, which skips ``finally``)."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    workers: Annotated[int, typer.Option(help="API processes (one per core is a good start)")] = 1,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Start an embedded worker and scheduler beside the API")
    ] = True,
    reuse_port: Annotated[
        bool, typer.Option("--reuse-port", hidden=True, help="Bind with SO_REUSEPORT (one of several API processes)")
    ] = False,
) -> None:
    """Serve the FHIR API at http://HOST:PORT/fhir (with an embedded worker and scheduler unless --no-worker)."""
    import subprocess
    import sys

    from fhir_server.http import processes

    if get_settings().auth == "dev" and host not in ("127.0.0.1", "localhost", "::1"):
        console.print("[red]RYGGRAD_AUTH=dev (the development issuer) serves on 127.0.0.1 only[/red]")
        raise typer.Exit(2)
    if workers < 1:
        console.print("[red]--workers must be at least 1[/red]")
        raise typer.Exit(2)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    child_setup = _stop_with_parent if sys.platform == "linux" else None
    embedded = None
    if worker:  # a process of its own: Celery wants its main thread, and a crash of one leaves the other running
        command = [sys.executable, "-m", "fhir_server.cli", "worker", "--beat"]
        embedded = subprocess.Popen(command, preexec_fn=child_setup)
    try:
        if workers == 1:
            processes.serve_one(host, port, reuse_port)
        elif sys.platform == "linux":  # each process its own SO_REUSEPORT socket: the kernel spreads connections
            processes.serve_many(host, port, workers, child_setup)
        else:  # no SO_REUSEPORT to rely on: uvicorn's processes sharing one socket
            import uvicorn

            uvicorn.run(processes.APP, host=host, port=port, workers=workers, access_log=False, log_level="info",
                        timeout_graceful_shutdown=processes.GRACEFUL_SHUTDOWN_S)  # fmt: skip
    finally:
        if embedded is not None:
            embedded.terminate()  # warm shutdown: the task under way finishes
            try:
                embedded.wait(timeout=30)
            except subprocess.TimeoutExpired:
                embedded.kill()


@app.command("worker")
def worker_command(
    concurrency: Annotated[int | None, typer.Option(help="Tasks at once (threads); default the setting")] = None,
    beat: Annotated[bool, typer.Option("--beat", help="Also run the scheduler in this process")] = False,
    loglevel: Annotated[str, typer.Option(help="Log level")] = "INFO",
    supervise: Annotated[
        bool, typer.Option("--supervise/--no-supervise", help="Restart the Celery worker when it dies unexpectedly")
    ] = True,
) -> None:
    """Start a worker: delivers subscription notifications and runs the registry's subscribers."""
    import sys

    if supervise:  # Celery can die of a broker outage ("Unrecoverable error"); a worker must come back by itself
        from fhir_server.supervisor import supervise as run_supervised

        command = [sys.executable, "-m", "fhir_server.cli", "worker", "--no-supervise", f"--loglevel={loglevel}"]
        command += ([f"--concurrency={concurrency}"] if concurrency else []) + (["--beat"] if beat else [])
        child_setup = _stop_with_parent if sys.platform == "linux" else None
        raise typer.Exit(run_supervised([command], "the worker", child_setup))
    from workers.celery_app import QUEUE
    from workers.celery_app import app as celery_app

    settings = get_settings()
    settings.ensure_data_dir()
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        f"--loglevel={loglevel}",
        f"--queues={QUEUE}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        argv += ["--beat", f"--schedule={(settings.data_dir / 'celerybeat-schedule').resolve()}"]
    celery_app.worker_main(argv)


@app.command("beat")
def beat_command(loglevel: Annotated[str, typer.Option(help="Log level")] = "INFO") -> None:
    """Start the scheduler (one per installation): the delivery sweep and the pruning of old events."""
    from workers.celery_app import app as celery_app

    settings = get_settings()
    settings.ensure_data_dir()
    schedule = (settings.data_dir / "celerybeat-schedule").resolve()
    celery_app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


@app.command()
def clock(
    travel: Annotated[str | None, typer.Option(help="Move time forward by 30s, 15m, 6h or 16d")] = None,
) -> None:
    """Show the server's time, or move it forward for every process (RYGGRAD_CLOCK_TRAVEL=true only)."""
    from fhir_server.clock import parse_duration

    server = _server()
    try:
        if travel is not None:
            if not server.settings.clock_travel:
                console.print("[red]the clock travels only with RYGGRAD_CLOCK_TRAVEL=true[/red]")
                raise typer.Exit(2)
            try:
                seconds = parse_duration(travel)
            except ValueError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(2) from None
            server.time.travel(seconds)
        print(server.clock().isoformat(timespec="seconds") + "Z")
    finally:
        server.close()


@app.command()
def report(
    unit: Annotated[str | None, typer.Option(help="The unit's RESH id (OPR: optional, all clinics without it)")] = None,
    period: Annotated[
        str | None, typer.Option(help="2026Q3 (quarterly report) or 2026 (annual); default: the last completed quarter")
    ] = None,
    form: Annotated[str, typer.Option("--format", help="html or pdf")] = "html",
    output: Annotated[Path | None, typer.Option(help="Folder to write to (default: reports/ in the data dir)")] = None,
    registry: Annotated[str, typer.Option(help="nnrr (a unit's quality report) or opr (the annual tables T10-T15)")] = (
        "nnrr"
    ),
) -> None:
    """Write a unit's NNRR quality report (the unit against the rest of the country), or OPR's annual tables, as
    HTML or PDF."""
    from fhir_server.auth.units import unit_by_resh
    from fhir_server.rest.messages import FhirRequest
    from workers.reports.document import FORMATS, build_report, oslo_today, render, report_period

    if form not in FORMATS:
        console.print("[red]--format is html or pdf[/red]")
        raise typer.Exit(2)
    if registry == "opr":
        _opr_report(unit, period, form, output)
        return
    if registry != "nnrr" or unit is None:
        console.print("[red]--registry is nnrr or opr; an NNRR report needs --unit[/red]")
        raise typer.Exit(2)
    server = _server()
    try:
        today = oslo_today(server.clock())
        try:
            chosen = report_period(period, today)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        with server.db.reading() as conn:
            found = unit_by_resh(conn, unit)
        read = server.execute(FhirRequest("GET", f"Organization/{found.organization_id}")) if found else None
        if read is None or read.status != 200 or read.resource is None:
            console.print(f"[red]no Organization with RESH id {unit}[/red]")
            raise typer.Exit(2)
        document = render(build_report(server, read.resource, unit, chosen, today), form)
    finally:
        server.close()
    console.print(f"{chosen.label}: {_write_report(document, output or server.settings.data_dir / 'reports')}")


def _write_report(document: Any, folder: Path) -> Path:
    """Write a report document into ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / document.filename
    path.write_bytes(document.content)
    return path


def _opr_report(resh: str | None, period: str | None, form: str, output: Path | None) -> None:
    """OPR's annual tables for a year (default: the last completed one), one clinic's or all clinics'."""
    from fhir_server.auth.units import unit_by_resh
    from workers.reports.document import oslo_today
    from workers.reports.opr_report import build_opr_report, render_opr

    server = _server()
    try:
        today = oslo_today(server.clock())
        if period is not None and not (period.isdigit() and len(period) == 4):
            console.print("[red]the OPR tables are annual: --period is a year (2026)[/red]")
            raise typer.Exit(2)
        year = int(period) if period else today.year - 1
        unit, clinic = None, ""
        if resh is not None:
            with server.db.reading() as conn:
                found = unit_by_resh(conn, resh)
            if found is None:
                console.print(f"[red]no Organization with RESH id {resh}[/red]")
                raise typer.Exit(2)
            unit, clinic = f"Organization/{found.organization_id}", found.name or ""
        document = render_opr(build_opr_report(server, year, today, unit, clinic), form)
    finally:
        server.close()
    console.print(f"{year}: {_write_report(document, output or server.settings.data_dir / 'reports')}")


def _orgnr_of_resh(settings: Settings, resh: str) -> str:
    from fhir_server.auth.units import unit_by_resh
    from fhir_server.storage.engine import Database

    db = Database(settings.resolved_database_url)
    try:
        with db.reading() as conn:
            unit = unit_by_resh(conn, resh)
    finally:
        db.dispose()
    if unit is None or unit.orgnr is None:
        console.print(f"[red]no Organization with RESH id {resh} and an organisasjonsnummer[/red]")
        raise typer.Exit(2)
    return unit.orgnr


@app.command("dips-pull")
def dips_pull(
    status: Annotated[bool, typer.Option("--status", help="Only show the watermark and the last errors")] = False,
    name: Annotated[str, typer.Option(help="The pull's name (its watermark)")] = "dips",
) -> None:
    """Pull mode: one round of appointments from the EHR's FHIR endpoint (RYGGRAD_DIPS_PULL_*), or its state."""
    from fhir_server.integrations.dips.pull import configured, pull_configured, read_state

    server = _server()
    try:
        if not status:
            if not configured(server):
                console.print("[red]pull mode needs RYGGRAD_DIPS_PULL_URL and RYGGRAD_DIPS_PULL_OWNER[/red]")
                raise typer.Exit(2)
            result = pull_configured(server, name=name)
            console.print(
                ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items()) + f" ({result.pages} pages)"
            )
            for failure in result.failures:
                console.print(f"[yellow]skipped[/yellow] {failure}")
        state = read_state(server, name)
    finally:
        server.close()
    if state is None:
        console.print(f"no pull named {name!r} has run")
        return
    console.print(f"watermark {state.watermark or '(none: from the start)'}; last run {state.last_run_at or 'never'}")
    console.print(f"skipped as unmappable: {state.failed}" + (f" (last: {state.last_failure})" if state.failed else ""))
    if state.last_error:
        console.print(f"[red]the last run stopped early:[/red] {state.last_error}")
        if not status:
            raise typer.Exit(1)


@app.command()
def token(
    role: Annotated[str, typer.Option(help="ehr, clerk, clinician, local-lead, registry-admin, researcher, patient")],
    org: Annotated[str | None, typer.Option(help="Organisation number (orgnr) the caller acts for")] = None,
    resh: Annotated[
        str | None, typer.Option(help="Or the unit's RESH id: its orgnr is looked up in the Organizations")
    ] = None,
    patient: Annotated[str | None, typer.Option(help="The person's FNR/DNR (pid)")] = None,
    hpr: Annotated[str | None, typer.Option(help="The practitioner's HPR number")] = None,
    study: Annotated[
        str | None, typer.Option(help="A researcher's data release: the ResearchStudy id (default: the demo study)")
    ] = None,
    scope: Annotated[str | None, typer.Option(help="Scopes, space-separated (default: the role's)")] = None,
    hours: Annotated[float, typer.Option(help="Lifetime")] = 8.0,
) -> None:
    """Print an access token from the development issuer (RYGGRAD_AUTH=dev only), for
    ``curl -H "Authorization: Bearer $(ryggrad token --role clinician --org 974589095)" …``."""
    from fhir_server.auth.dev_issuer import DevIssuer
    from fhir_server.auth.principal import ROLES

    settings = get_settings()
    if settings.auth != "dev":
        console.print("[red]the development issuer exists only with RYGGRAD_AUTH=dev[/red]")
        raise typer.Exit(2)
    if role not in ROLES:
        console.print(f"[red]--role must be one of {', '.join(ROLES)}[/red]")
        raise typer.Exit(2)
    if resh is not None:
        org = _orgnr_of_resh(settings, resh)
    issued = DevIssuer(settings).mint(
        role, org=org, patient=patient, hpr=hpr, study=study, scope=scope, lifetime_s=int(hours * 3600)
    )
    print(issued)


def _export_principal(study: str) -> Any:
    """Who ``ryggrad export`` acts as: the study's researcher, with a researcher token's read and search scopes."""
    from fhir_server.auth.principal import Principal
    from fhir_server.auth.scopes import parse_scopes

    return Principal(role="researcher", study=study, client_id="ryggrad-cli", permissions=parse_scopes("user/*.rs"))


@app.command("export")
def export_command(
    study: Annotated[str, typer.Option(help="The data release (ResearchStudy id) the files are for")],
    form: Annotated[str, typer.Option("--format", help="csv or parquet (or ndjson, json)")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: datasets/<study>/ in the data dir)")
    ] = None,
    view: Annotated[
        list[str] | None,
        typer.Option(help="A view to export, by name (repeatable; default: the study's views, else every form's)"),
    ] = None,
) -> None:
    """Write a study's flat datasets, one file per view, with their data dictionary: run as the study's researcher
    through the server's own search, as ``ViewDefinition/$run`` runs them, so they hold what the study may see."""
    from fhir_server.datasets.export import ExportError, export, study_views
    from fhir_server.errors import FhirError

    server = _server()
    principal = _export_principal(study)
    try:
        try:
            views = study_views(server, principal, study, view)
            folder = output or server.settings.data_dir / "datasets" / study
            written = export(server, principal, views, form, folder)
        except ExportError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        except FhirError as exc:
            reason = exc.issues[0].diagnostics if exc.issues else str(exc.status)
            console.print(f"[red]refused ({exc.status}): {reason}[/red]")
            raise typer.Exit(1) from None
    finally:
        server.close()
    for item in written:
        console.print(f"{item.view}: {item.rows} rows → {item.path}")
    console.print(f"data dictionary → {folder / 'dictionary.md'}, {folder / 'dictionary.csv'}")


app.command("bench", context_settings=_bench.CONTEXT)(_bench.bench)


if __name__ == "__main__":
    app()
