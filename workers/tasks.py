"""The workers' tasks: deliver one Subscription's events, sweep for work no request woke anyone for, prune old
delivered events. Every task is safe to run twice or concurrently: the database decides who does what."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys

from celery import signals

from workers.celery_app import app
from workers.runtime import server

log = logging.getLogger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"


#: A retry sooner than this is scheduled as a delayed task; later ones are left to the sweep (a delayed task is
#: held by a worker, and Redis hands it out again after its visibility timeout).
SCHEDULED_RETRY_MAX_S = 60.0


@app.task(name="ryggrad.deliver")
def deliver(subscription_id: str) -> str:
    from fhir_server.subscriptions.delivery import deliver as deliver_events
    from fhir_server.subscriptions.delivery import retry_in

    outcome = deliver_events(server(), subscription_id, worker=f"{WORKER}:{deliver.request.id or ''}"[:64])
    if outcome == "waiting":  # a failure: try again when the backoff ends, not at the next sweep
        delay = retry_in(server(), subscription_id)
        if delay is not None and delay <= SCHEDULED_RETRY_MAX_S:
            deliver.apply_async(args=[subscription_id], countdown=delay, retry=False)
    return outcome


@app.task(name="ryggrad.sweep")
def sweep() -> int:
    from fhir_server.subscriptions.delivery import due_subscriptions

    found = due_subscriptions(server())
    for sid in found:
        deliver.apply_async(args=[sid], retry=False)
    return len(found)


@app.task(name="ryggrad.prune")
def prune() -> int:
    from fhir_server.subscriptions.delivery import prune as prune_events

    removed = prune_events(server())
    if removed:
        log.info("pruned %d delivered subscription events", removed)
    return removed


@app.task(name="ryggrad.registry.activate")
def activate() -> int:
    """Forms whose time has come: requested → ready (the dispatch subscriber sends them); reminders; expiry."""
    from workers.registry.activation import activate_due, expire_due, remind_due

    srv = server()
    now = srv.clock()
    return len(activate_due(srv, now)) + len(remind_due(srv, now)) + len(expire_due(srv, now))


@app.task(name="ryggrad.registry.helsenorge-readback")
def helsenorge_readback() -> int:
    """Where citizens are with the forms sent to Helsenorge: opened ones in progress, answered ones not reminded."""
    from workers.registry.readback import read_back

    return len(read_back(server()))


@app.task(name="ryggrad.dips.pull")
def dips_pull() -> int:
    """Pull mode: the appointments changed at the EHR since the last run (``RYGGRAD_DIPS_PULL_*``); how many were
    received. A run that stops early leaves its reason in ``pull_state`` and the next run goes on."""
    from fhir_server.integrations.dips.pull import configured, pull_configured

    srv = server()
    if not configured(srv):
        return 0
    result = pull_configured(srv)
    return sum(n for outcome, n in result.counts.items() if outcome != "failed")


@app.task(name="ryggrad.indicators.store")
def store_indicator_reports() -> int:
    """The registry Measures' MeasureReports per unit and for the country: the last quarter and year (N22)."""
    from workers.indicator_reports import store_reports

    srv = server()
    return len(store_reports(srv, srv.clock().date()))


@app.task(name="ryggrad.bulk.export")
def bulk_export(job_id: str) -> str:
    """Run (or resume from its checkpoint) one Bulk Data export; what became of it."""
    from fhir_server.bulk.runner import run_export

    return run_export(server(), job_id, worker=f"{WORKER}:{bulk_export.request.id or ''}"[:200])


@app.task(name="ryggrad.bulk.sweep")
def bulk_sweep() -> int:
    """Exports: stalled ones queued again (a dead worker's resumes from its checkpoint), expired ones removed."""
    from fhir_server.bulk.sweep import remove_expired, resume_stalled

    srv = server()
    return len(resume_stalled(srv)) + len(remove_expired(srv))


@signals.after_setup_logger.connect
def _quiet_routine_tasks(logger: logging.Logger, **_: object) -> None:
    """Every second's sweep would fill the log: task receipts and successes only at WARNING and above."""
    for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat"):
        logging.getLogger(name).setLevel(logging.WARNING)


@signals.beat_init.connect
def _die_with_the_worker(**_: object) -> None:
    """A scheduler embedded in a worker (``--beat``) runs in a child process: it ends when the worker does, even
    when the worker is killed, instead of going on alone beside the next one."""
    if sys.platform == "linux" and os.getppid() != 1:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@signals.worker_ready.connect
def _registry_subscriptions(**_: object) -> None:
    """The registry's own Subscriptions exist before the worker takes its first event."""
    from workers.registry.subscriptions import ensure_subscriptions

    try:
        ensure_subscriptions(server())
    except Exception:  # a worker without them still delivers everyone else's; migrate makes them too
        log.exception("could not make the registry's internal Subscriptions")
