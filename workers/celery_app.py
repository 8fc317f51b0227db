"""The Celery app, configured from the server's settings.

- Broker: Redis in production (``RYGGRAD_BROKER_URL=redis://…``, every key under ``RYGGRAD_BROKER_KEY_PREFIX``),
  Celery's filesystem transport under the data dir by default — one machine, no broker process.
- Tasks are wake-up calls, not the data: the outbox rows in the database are. A message lost with a worker or a
  broker restart costs a little latency, never an event (the scheduler's sweep finds the work again). So tasks are
  acknowledged late, results are not kept, and each worker takes one message at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery

from fhir_server.settings import Settings, get_settings
from workers.filesystem_transport import SCHEME


def broker_url(settings: Settings) -> str:
    """The filesystem transport is ours (atomic writes, ``filesystem_transport``); the rest as configured."""
    return f"{SCHEME}://" if settings.broker.startswith("filesystem://") else settings.broker


QUEUE = "ryggrad"
#: Modules a worker loads: its tasks and the registry's own subscribers.
SUBSCRIBERS = (
    "workers.tasks",
    "workers.registry.appointments",
    "workers.registry.dispatch",
    "workers.registry.responses",
    "workers.registry.followups",
    "workers.scoring.worker",
)


def broker_options(settings: Settings) -> dict[str, Any]:
    if settings.broker.startswith("filesystem://"):
        folder = (settings.data_dir / "broker").resolve()
        queue = folder / "queue"
        queue.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "store_processed": False,
            "polling_interval": 0.02,
        }
    if settings.broker.startswith(("redis://", "rediss://")):
        # a message not acknowledged (its worker died) is handed out again after this long
        return {"global_keyprefix": settings.broker_key_prefix, "visibility_timeout": 120}
    return {}


def _dips_pull(settings: Settings) -> dict[str, Any]:
    """Pull mode's run on its interval, when an EHR endpoint is configured (``RYGGRAD_DIPS_PULL_URL``)."""
    if not settings.dips_pull_url:
        return {}
    return {"dips-pull": {"task": "ryggrad.dips.pull", "schedule": settings.dips_pull_interval_s}}


def make_app(settings: Settings) -> Celery:
    app = Celery("ryggrad", set_as_current=False)
    app.conf.update(
        broker_url=broker_url(settings),
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2.0,
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
        beat_schedule={
            "sweep": {"task": "ryggrad.sweep", "schedule": settings.sweep_interval_s},
            "prune": {"task": "ryggrad.prune", "schedule": 3600.0},
            "activate": {"task": "ryggrad.registry.activate", "schedule": settings.registry_activation_interval_s},
            "indicators": {"task": "ryggrad.indicators.store", "schedule": settings.indicator_store_interval_s},
            "bulk-sweep": {"task": "ryggrad.bulk.sweep", "schedule": settings.bulk_sweep_interval_s},
            "helsenorge-readback": {
                "task": "ryggrad.registry.helsenorge-readback",
                "schedule": settings.registry_helsenorge_readback_interval_s,
            },
        }
        | _dips_pull(settings),
        beat_schedule_filename=str(Path(settings.data_dir).resolve() / "celerybeat-schedule"),
        imports=[*SUBSCRIBERS, *settings.subscriber_modules],
    )
    return app


app = make_app(get_settings())
