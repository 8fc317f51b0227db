"""A PostgreSQL server of the bench's own, configured for this machine the way a production server is (the
packaged default gives PostgreSQL 128 MB of buffers whatever the machine has, so a 1M-resource database is read
from disk on most queries).

``python -m bench.own_postgres start DIR [--port N]`` creates a cluster in DIR (``initdb``; once) and starts it on
127.0.0.1 with the settings of ``tuned_settings`` (printed, and recorded by the search report); it prints the
admin URL. ``python -m bench.own_postgres stop DIR`` stops it. The same settings are the starting point of
``deploy/``: shared_buffers a quarter of the memory, the planner told about the page cache and SSD storage, no JIT
(it costs OLTP queries milliseconds of compilation), checkpoints spaced for bulk loads.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_PORT = 5544
_MIB = 1024 * 1024


def total_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def tuned_settings(memory_bytes: int, cores: int) -> dict[str, str]:
    """PostgreSQL settings for a machine with ``memory_bytes`` of memory and ``cores`` cores, serving an OLTP
    workload on SSD storage (the usual sizing rules: a quarter of memory for shared buffers, three quarters
    counted as cache)."""
    mib = memory_bytes // _MIB
    return {
        "shared_buffers": f"{mib // 4}MB",
        "effective_cache_size": f"{mib * 3 // 4}MB",
        "work_mem": "16MB",
        "maintenance_work_mem": f"{min(2048, mib // 16)}MB",
        "random_page_cost": "1.1",
        "effective_io_concurrency": "200",
        "jit": "off",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "15min",
        "checkpoint_completion_target": "0.9",
        "wal_compression": "on",
        "max_connections": "100",
        "max_worker_processes": str(max(2, cores)),
        "shared_preload_libraries": "pg_prewarm",
    }


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise SystemExit(f"{name} not found: install the PostgreSQL server package")
    return candidates[0]


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _prepare(data_dir: Path) -> None:
    if (data_dir / "PG_VERSION").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
        data_dir.chmod(0o700)
    initdb = [_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]
    subprocess.run(_as_owner(initdb), check=True, stdout=subprocess.DEVNULL)


def start(data_dir: Path, port: int = DEFAULT_PORT) -> str:
    """Start (creating it first if need be) the cluster in ``data_dir``; its admin URL."""
    data_dir = data_dir.resolve()
    _prepare(data_dir)
    settings = tuned_settings(total_memory_bytes(), os.cpu_count() or 1)
    options = [f"-p {port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={data_dir}"]
    options += [f"-c {name}={value}" for name, value in settings.items()]
    command = [_bin("pg_ctl"), "-D", str(data_dir), "-l", str(data_dir / "server.log"), "-w", "-t", "120"]
    subprocess.run(_as_owner([*command, "-o", " ".join(options), "start"]), check=True, stdout=subprocess.DEVNULL)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def stop(data_dir: Path) -> None:
    command = [_bin("pg_ctl"), "-D", str(data_dir.resolve()), "-m", "fast", "-w", "stop"]
    subprocess.run(_as_owner(command), check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.own_postgres", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "settings"])
    parser.add_argument("data_dir", type=Path, nargs="?", default=Path("/var/tmp/ryggrad-bench-postgres"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    if args.action == "settings":
        for name, value in tuned_settings(total_memory_bytes(), os.cpu_count() or 1).items():
            print(f"{name} = {value}")
    elif args.action == "start":
        print(start(args.data_dir, args.port))
    else:
        stop(args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
