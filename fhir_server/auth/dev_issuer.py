"""The local development issuer (``RYGGRAD_AUTH=dev`` only): an EC P-256 key kept in the data dir, and tokens
signed with it that look like HelseID's (``ryggrad token --role clinician --org 974589095 --hpr 123``).

In ``jwt`` mode this issuer does not exist: nothing creates, loads or trusts its key.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fhir_server.auth.principal import HPR_NUMBER, ORGNR_CHILD, ORGNR_PARENT, PID, STUDY
from fhir_server.settings import Settings

DEV_ISSUER = "urn:ryggrad:dev-issuer"
KEY_FILE = "dev-issuer-key.pem"
ALGORITHM = "ES256"

#: What ``ryggrad token --role ROLE`` grants when no ``--scope`` is given.
DEFAULT_SCOPES = {
    "ehr": "system/*.cruds",  # what an EHR system may do is bounded by its role (auth/roles.py)
    "clerk": "user/*.cruds",
    "clinician": "user/*.cruds",
    "local-lead": "user/*.cruds",
    "registry-admin": "user/*.cruds",
    "researcher": "user/*.rs",
    "patient": "patient/Patient.rs patient/Task.rs patient/Questionnaire.rs patient/QuestionnaireResponse.crus "
    "patient/Consent.crus",
}


class DevIssuer:
    def __init__(self, settings: Settings) -> None:
        if settings.auth != "dev":
            raise RuntimeError("the development issuer exists only with RYGGRAD_AUTH=dev")
        self.settings = settings
        self.key = _load_or_create(settings.ensure_data_dir() / KEY_FILE)
        self.public_key = self.key.public_key()

    def mint(
        self,
        role: str,
        *,
        org: str | None = None,
        patient: str | None = None,
        hpr: str | None = None,
        study: str | None = None,
        scope: str | None = None,
        client_id: str = "ryggrad-dev",
        lifetime_s: int = 8 * 3600,
        dpop_jkt: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed access token for ``role`` (``dpop_jkt``: bound to that key thumbprint)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "aud": self.settings.auth_audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
            "jti": uuid.uuid4().hex,
            "client_id": client_id,
            "scope": scope if scope is not None else DEFAULT_SCOPES.get(role, ""),
            self.settings.auth_role_claim: role,
        }
        if org:
            claims[ORGNR_PARENT] = org
            claims[ORGNR_CHILD] = org
        if patient:
            claims[PID] = patient
        if hpr:
            claims[HPR_NUMBER] = hpr
        if study:
            claims[STUDY] = study
        if dpop_jkt:
            claims["cnf"] = {"jkt": dpop_jkt}
        claims.update(extra or {})
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": "dev", "typ": "at+jwt"})


def _load_or_create(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError(f"{path} is not an EC private key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    try:
        os.link(temporary, path)  # atomic and never overwrites: of two processes starting at once, one key wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return _load_or_create(path)
