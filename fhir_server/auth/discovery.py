"""``GET /fhir/.well-known/smart-configuration``: how a client gets a token for this server (SMART App Launch
discovery), served without a token like the CapabilityStatement."""

from __future__ import annotations

from typing import Any

from fhir_server.auth.dev_issuer import DEV_ISSUER
from fhir_server.auth.tokens import ALGORITHMS
from fhir_server.settings import Settings


def smart_configuration(settings: Settings) -> dict[str, Any]:
    dev = settings.auth == "dev"
    found: dict[str, Any] = {
        "issuer": DEV_ISSUER if dev else settings.auth_issuer,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "dpop_signing_alg_values_supported": ALGORITHMS,
        "scopes_supported": ["system/*.cruds", "user/*.cruds", "patient/*.cruds", "nhn:ryggrad/system/*.cruds"],
        "capabilities": [
            "client-confidential-asymmetric",
            "permission-v1",
            "permission-v2",
            "permission-patient",
            "permission-user",
        ],
    }
    if not dev:
        found["jwks_uri"] = settings.auth_jwks_url
        if settings.auth_token_endpoint:
            found["token_endpoint"] = settings.auth_token_endpoint
    else:
        found["description"] = "development issuer: tokens come from `ryggrad token` on this machine"
    return found
