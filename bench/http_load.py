"""HTTP load: ``wrk`` (1 thread, a few keep-alive connections, ``--latency``) driven by a generated Lua script,
its output parsed; the Python load generator of ``pyload.py`` when wrk is not installed and cannot be."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WRK_INSTALL_HINT = "install wrk for accurate figures: `sudo apt-get install -y wrk` (Debian/Ubuntu)"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class LoadSpec:
    """``connections`` keep-alive clients sending ``method`` to ``paths`` (cycled) for ``duration_s``."""

    root: str  # http://127.0.0.1:PORT
    paths: list[str]
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=lambda: {"Accept": "application/fhir+json"})
    duration_s: int = 10
    connections: int = 4


@dataclass
class LoadResult:
    tool: str
    connections: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    bad_responses: int  # non-2xx/3xx
    socket_errors: int
    p95_ms: float | None = None  # wrk prints it from the script's done(); the targets are p95

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def ensure_wrk() -> str | None:
    """The path of ``wrk``; installed with apt-get when missing and running as root; None otherwise."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("wrk is missing: apt-get install -y wrk", flush=True)
    attempt = ["apt-get", "install", "-y", "-q", "wrk"]
    try:
        if subprocess.run(attempt, env=env, capture_output=True, timeout=600).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
            subprocess.run(attempt, env=env, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"apt-get failed: {exc}", flush=True)
    return shutil.which("wrk")


def wrk_version(wrk: str | None) -> str | None:
    if not wrk:
        return None
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else None


def lua_string(text: str) -> str:
    """``text`` as a double-quoted Lua literal: quotes, backslashes and every non-printable or non-ASCII byte
    escaped (``\\ddd``), so it is safe in any position, table subscripts included."""
    out = []
    for byte in text.encode():
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(spec: LoadSpec, body_file: Path | None) -> str:
    lines = [f"wrk.method = {lua_string(spec.method)}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in spec.headers.items()]
    if body_file is not None:
        lines += [
            f"local f = assert(io.open({lua_string(str(body_file))}, 'rb'))",
            "wrk.body = f:read('*a')",
            "f:close()",
        ]
    if len(spec.paths) == 1:
        lines.append(f"wrk.path = {lua_string(spec.paths[0])}")  # one static request, built once
    else:
        lines.append("local paths = {" + ", ".join(lua_string(p) for p in spec.paths) + "}")
        lines += [
            "local i = 0",
            "request = function()",
            "  i = i % #paths + 1",
            "  return wrk.format(nil, paths[i])",
            "end",
        ]
    lines += [  # wrk's --latency lists 50/75/90/99 only; the 95th comes from its histogram here
        "done = function(summary, latency, requests)",
        '  io.write(string.format("p95-us %d\\n", latency:percentile(95.0)))',
        "end",
    ]
    return "\n".join(lines) + "\n"


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str, connections: int) -> LoadResult:
    percentiles = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    }
    totals = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not totals or not rate or len(percentiles) != 4:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    p95 = re.search(r"^p95-us (\d+)$", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return LoadResult(
        tool="wrk",
        connections=connections,
        requests=int(totals.group(1)),
        seconds=_ms(totals.group(2), totals.group(3)) / 1000,
        requests_per_s=float(rate.group(1)),
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        bad_responses=int(bad.group(1)) if bad else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        p95_ms=int(p95.group(1)) / 1000 if p95 else None,
    )


def run_wrk(wrk: str, spec: LoadSpec) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="ryggrad-wrk-") as tmp:
        body_file = None
        if spec.body is not None:
            body_file = Path(tmp) / "body.json"
            body_file.write_bytes(spec.body)
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(spec, body_file))
        command = [
            wrk, "-t1", f"-c{spec.connections}", f"-d{spec.duration_s}s", "--timeout", "10s", "--latency",
            "-s", str(script), spec.root + spec.paths[0],
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=spec.duration_s + 60)
    if done.returncode != 0 or done.stderr.strip():  # wrk reports a broken script on stderr and runs on regardless
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout, spec.connections)


def run_load(spec: LoadSpec, wrk: str | None) -> LoadResult:
    if wrk:
        return run_wrk(wrk, spec)
    from bench.pyload import run_python_load

    return run_python_load(spec)
