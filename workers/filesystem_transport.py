"""Celery's filesystem transport, made safe for several processes: kombu writes a message file in place, so a
consumer listing the folder at that moment can take the file empty and crash on it. Here a message is written
beside the queue folder and renamed into it, which is atomic: consumers see whole messages or none."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps

SCHEME = "ryggradfs"


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        staging = folder.parent / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        temporary = staging / name
        temporary.write_bytes(dumps(payload).encode())
        os.replace(temporary, folder / name)


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
