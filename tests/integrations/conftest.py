"""The stand-ins the integration tests share: HelseID (per module) and a DIPS endpoint requiring its tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.dips import DipsStandIn
from tests.standins.helseid import HelseIdStandIn


@pytest.fixture
def dips(helseid: HelseIdStandIn) -> Iterator[DipsStandIn]:
    stand_in = DipsStandIn(helseid)
    yield stand_in
    stand_in.close()
