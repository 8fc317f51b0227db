"""Keeping child processes running: ``ryggrad worker`` around its Celery worker (Celery can die of a broker outage),
``ryggrad serve --workers N`` around its API processes.

Each command runs as a child; one that exits while nobody asked to stop is started again after 1 s, then twice as
long each time it fails again quickly (at most 30 s). SIGTERM/SIGINT are passed on to every child, which stops
as it does (a warm Celery shutdown, uvicorn's graceful one); the supervisor returns when all have exited."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("ryggrad.supervisor")

FIRST_DELAY_S = 1.0
LONGEST_DELAY_S = 30.0
STEADY_AFTER_S = 60.0  # a child that ran this long failed afresh: its delay starts again at the first
POLL_S = 0.2


@dataclass
class _Child:
    command: list[str]
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    delay: float = FIRST_DELAY_S
    restart_at: float | None = None  # when it exited unasked: the time it starts again


def supervise(
    commands: Sequence[list[str]], name: str, child_setup: Callable[[], None] | None = None, stop_grace_s: float = 60
) -> int:
    """Run ``commands`` until asked to stop. Returns 0 when every child stopped as asked (exit 0, or ended by the
    signal passed on), else the first other exit code. A child still running ``stop_grace_s`` after the signal is
    killed."""
    stopping: int | None = None

    def start(command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, preexec_fn=child_setup)

    children = [_Child(list(command), start(list(command))) for command in commands]

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = signum
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while stopping is None:
            now = time.monotonic()
            for child in children:
                code = child.process.poll()
                if code is None:
                    continue
                if child.restart_at is None:
                    if now - child.started > STEADY_AFTER_S:
                        child.delay = FIRST_DELAY_S
                    child.restart_at = now + child.delay
                    log.warning("%s exited (%s); starting it again in %g s", name, code, child.delay)
                elif now >= child.restart_at:
                    child.process, child.started, child.restart_at = start(child.command), now, None
                    child.delay = min(child.delay * 2, LONGEST_DELAY_S)
            time.sleep(POLL_S)
        deadline = time.monotonic() + stop_grace_s
        codes = []
        for child in children:
            try:
                codes.append(child.process.wait(timeout=max(0.1, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                child.process.kill()
                codes.append(child.process.wait())
        return next((code for code in codes if code not in (0, -stopping)), 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
