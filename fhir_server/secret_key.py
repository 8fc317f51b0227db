"""The server's secret key: from ``RYGGRAD_SECRET_KEY``, else a random key created once in the data dir."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from fhir_server.settings import Settings

KEY_FILE = "secret.key"


def _key_file(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        staging.write_bytes(secrets.token_bytes(32))
        staging.chmod(0o600)
        try:
            os.link(staging, path)  # atomic: the first process to get here wins, the others read its key
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_bytes()


def server_key(settings: Settings, purpose: str) -> bytes:
    """A 32-byte key for ``purpose``, derived from the configured secret or the data dir's key file."""
    root = settings.secret_key.encode() if settings.secret_key else _key_file(settings.data_dir)
    return hashlib.blake2b(purpose.encode(), key=hashlib.sha256(root).digest(), digest_size=32).digest()
