"""Where a serving process spends its time: ``python -m bench.profile_server [--load read|ingest|qr-write]``.

Starts ``ryggrad serve --no-worker`` on a fresh database (PostgreSQL by default), ingests the quick Synthea set,
then runs the chosen load with py-spy attached to the API process (``--gil``: only the thread holding the GIL is
sampled, so the profile is CPU spent in Python, not threads waiting for the database). Writes the raw stacks
(``flamegraph.pl`` or speedscope take them) and prints the functions by own and by inclusive share. The same runs,
in-process, can be profiled with pyinstrument (``--pyinstrument``: the ingest or the read loop through
``FhirServer.execute``, wall time, one call tree).

Both profilers come with ``pip install -e '.[bench]'`` (``make bench`` installs them)."""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench import RESULTS_DIR
from bench.databases import temp_database
from bench.http_load import LoadSpec, ensure_wrk, run_load
from bench.ingest import PATIENT_LOCATION, run_ingest
from bench.servers import ryggrad_server
from bench.synthea import load_bundles

LOADS = ("read", "ingest")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    return found


def summarise(raw: Path, top: int = 30) -> str:
    """The functions by own share and by inclusive share of the samples in a py-spy raw file."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "own:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def profile_http(load: str, backend: str, seconds: int, output: Path) -> Path:
    bundles = load_bundles(quick=True)
    with tempfile.TemporaryDirectory(prefix="ryggrad-profile-") as tmp_name:
        tmp = Path(tmp_name)
        with (
            temp_database(backend, tmp / "db") as url,
            ryggrad_server(url, tmp / "data", serve_args=("--no-worker",)) as server,
        ):
            ingest = run_ingest(server.root, [b for b in bundles if b.kind == "batch"], server.auth)
            transactions = [b for b in bundles if b.kind == "transaction"]
            spy = [_py_spy(), "record", "--gil", "--nonblocking", "-p", str(server.pid), "-r", "500", "-f", "raw"]
            spy += ["-o", str(output)]
            if load == "ingest":
                recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
                ingest = run_ingest(server.root, transactions, server.auth)
                print(f"ingest: {ingest.per_s:,.0f} resources/s", flush=True)
            else:
                ingest = run_ingest(server.root, transactions, server.auth)
                paths = [f"/fhir/Patient/{pid}" for pid in ingest.patient_ids]
                headers = {"Accept": "application/fhir+json", **server.auth}
                spec = LoadSpec(server.root, paths, headers=headers, duration_s=seconds, connections=4)
                recorder = subprocess.Popen([*spy, "-d", str(seconds)], stdout=subprocess.DEVNULL)
                result = run_load(spec, ensure_wrk())
                print(f"read: {result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.2f} ms", flush=True)
            if recorder.poll() is None:
                recorder.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
            recorder.wait(timeout=60)
    return output


def profile_in_process(load: str, backend: str, output: Path) -> Path:
    from pyinstrument import Profiler

    from bench.population_load import bench_server
    from fhir_server.http.caller import authenticate_caller
    from fhir_server.rest.messages import FhirRequest

    bundles = load_bundles(quick=True)
    with (
        tempfile.TemporaryDirectory(prefix="ryggrad-profile-") as tmp_name,
        temp_database(backend, Path(tmp_name) / "db") as url,
    ):
        server = bench_server(url, Path(tmp_name), auth="dev")
        server.warm_up()
        assert server.dev_issuer is not None
        credentials = {"authorization": f"Bearer {server.dev_issuer.mint('registry-admin')}"}
        principal = authenticate_caller(server, "POST", "", credentials, "127.0.0.1")
        profiler = Profiler(interval=0.0005)
        patients: list[str] = []
        for bundle in sorted(bundles, key=lambda b: b.kind != "batch"):  # the batches' practitioners first
            if load == "ingest" and bundle.kind == "transaction":
                profiler.start()
            request = FhirRequest("POST", "", [], {}, orjson.loads(bundle.body))
            request.principal = principal
            answer = server.execute(request)
            if profiler.is_running:
                profiler.stop()
            for entry in (answer.resource or {}).get("entry", []):
                found = PATIENT_LOCATION.search(str(entry.get("response", {}).get("location", "")))
                if found:
                    patients.append(found.group(1))
        if load == "read":
            profiler.start()
            for n in range(2000):
                request = FhirRequest("GET", f"Patient/{patients[n % len(patients)]}", [], {}, None)
                request.principal = principal
                server.execute(request)
            profiler.stop()
        server.close()
    output.write_text(profiler.output_text(unicode=False, color=False))
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", choices=LOADS, default="read")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seconds", type=int, default=10, help="read load duration (default 10)")
    parser.add_argument("--pyinstrument", action="store_true", help="profile in-process with pyinstrument instead")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "profiles", help="folder for the profile")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d-%H%M")
    if args.pyinstrument:
        written = profile_in_process(args.load, args.backend, args.output / f"{stamp}-{args.load}-pyinstrument.txt")
        print(written.read_text())
    else:
        written = profile_http(args.load, args.backend, args.seconds, args.output / f"{stamp}-{args.load}-py-spy.txt")
        print(summarise(written))
    print(f"written: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
