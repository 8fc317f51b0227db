"""The three stand-ins together, wired as the registry's surroundings on one machine (``ryggrad demo
--with-standins``): HelseID, which knows Ryggrad as a client (a fresh key written to a JWK file); Helsenorge's task
endpoint and a DIPS Arena FHIR endpoint, both requiring HelseID's DPoP-bound tokens for their own audience; and
the settings that point the server at them (``environment``): forms go to Helsenorge, appointments are pulled
from DIPS."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.standins import dips as dips_module
from tests.standins import helsenorge as helsenorge_module
from tests.standins.dips import DipsStandIn
from tests.standins.helseid import HelseIdStandIn, RegisteredClient
from tests.standins.helsenorge import Helsenorge

CLIENT_ID = "ryggrad-demo"
OSLO = ZoneInfo("Europe/Oslo")


class StandIns:
    def __init__(self, folder: Path, owner: str, pull_interval_s: float = 10.0) -> None:
        """``folder``: where the client's key is written; ``owner``: the unit (orgnr) DIPS books for."""
        self.owner, self.pull_interval_s = owner, pull_interval_s
        key = ec.generate_private_key(ec.SECP256R1())
        private = json.loads(ECAlgorithm.to_jwk(key))
        folder.mkdir(parents=True, exist_ok=True)
        self.key_file = folder / "helseid-client.jwk"
        self.key_file.write_text(json.dumps({**private, "kid": CLIENT_ID, "alg": "ES256", "use": "sig"}))
        self.key_file.chmod(0o600)
        public = {k: v for k, v in private.items() if k != "d"}
        scopes = {helsenorge_module.SCOPE, dips_module.SCOPE}
        self.helseid = HelseIdStandIn()
        self.helseid.register(RegisteredClient(CLIENT_ID, {**public, "kid": CLIENT_ID}, scopes, orgnr_parent=owner))
        self.helsenorge = Helsenorge(issuer=self.helseid.issuer, jwks_url=self.helseid.jwks_uri)
        self.dips = DipsStandIn(self.helseid, clock=datetime.now(OSLO).replace(microsecond=0))

    def environment(self) -> dict[str, str]:
        """The server's settings (``RYGGRAD_*``) for these stand-ins."""
        return {
            "RYGGRAD_HELSEID_ISSUER": self.helseid.issuer,
            "RYGGRAD_HELSEID_CLIENT_ID": CLIENT_ID,
            "RYGGRAD_HELSEID_KEY_FILE": str(self.key_file),
            "RYGGRAD_REGISTRY_HELSENORGE_TASK_URL": self.helsenorge.url,
            "RYGGRAD_REGISTRY_HELSENORGE_SCOPES": json.dumps([helsenorge_module.SCOPE]),
            "RYGGRAD_REGISTRY_DISPATCH_CHANNELS": json.dumps(["helsenorge"]),
            "RYGGRAD_DIPS_PULL_URL": self.dips.base,
            "RYGGRAD_DIPS_PULL_OWNER": self.owner,
            "RYGGRAD_DIPS_PULL_SCOPES": json.dumps([dips_module.SCOPE]),
            "RYGGRAD_DIPS_PULL_INTERVAL_S": str(self.pull_interval_s),
        }

    def book_some(self, fnrs: list[str], rng: random.Random) -> list[str]:
        """DIPS books a first consultation for each patient in the coming weeks; their DIPS ids."""
        booked = []
        today = datetime.now(OSLO).replace(hour=0, minute=0, second=0, microsecond=0)
        for fnr in fnrs:
            start = today + timedelta(days=rng.randint(3, 40), hours=rng.randint(8, 14), minutes=rng.choice((0, 30)))
            booked.append(self.dips.book(start=start, patient=fnr))
        return booked

    def close(self) -> None:
        self.dips.close()
        self.helsenorge.stop()
        self.helseid.close()
