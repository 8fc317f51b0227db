"""``POST /auth/dev/token`` (development mode only): a patient's sign-in by FNR, and a unit's staff (clinician,
clerk) by HPR number and the unit's organisation number; anything else is a 400 that says what is wrong."""

from __future__ import annotations

import jwt
import pytest

from fhir_server.auth.principal import HPR_NUMBER, ORGNR_CHILD, PID

PATH = "/auth/dev/token"
ORGNR = "974589095"
FNR = "13097248022"


def _claims(answer) -> dict:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return jwt.decode(body["access_token"], options={"verify_signature": False})


@pytest.mark.parametrize("role", ["clinician", "clerk"])
def test_staff_sign_in_with_hpr_and_unit(client, server, role):
    claims = _claims(client.post(PATH, json={"role": role, "hpr": "1234567", "org": ORGNR}, headers={}))
    assert claims[server.settings.auth_role_claim] == role
    assert claims[HPR_NUMBER] == "1234567" and claims[ORGNR_CHILD] == ORGNR
    assert PID not in claims
    token = client.post(PATH, json={"role": role, "hpr": "1234567", "org": ORGNR}).json()["access_token"]
    found = client.get("/fhir/Organization", headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200, found.text


def test_patient_sign_in_still_works(client, server):
    claims = _claims(client.post(PATH, json={"role": "patient", "pid": FNR}))
    assert claims[PID] == FNR and claims[server.settings.auth_role_claim] == "patient"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role": "clinician", "org": ORGNR}, "hpr must be an HPR number"),
        ({"role": "clinician", "hpr": "12ab567", "org": ORGNR}, "hpr must be an HPR number"),
        ({"role": "clerk", "hpr": "0123456", "org": ORGNR}, "hpr must be an HPR number"),
        ({"role": "clinician", "hpr": "1234567"}, "org must be the unit's organisation number"),
        ({"role": "clinician", "hpr": "1234567", "org": "97458909"}, "org must be the unit's organisation number"),
        ({"role": "clerk", "hpr": "1234567", "org": "974589096"}, "org must be the unit's organisation number"),
        ({"role": "registry-admin", "hpr": "1234567", "org": ORGNR}, "role must be one of"),
        ({"role": "local-lead", "hpr": "1234567", "org": ORGNR}, "role must be one of"),
        ({"role": "patient", "pid": "12345678901"}, "pid must be a valid national identity number"),
        (["clinician"], "the body must be a JSON object"),
    ],
)
def test_invalid_sign_ins_are_400_with_the_reason(client, body, message):
    answer = client.post(PATH, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)


def test_not_json_is_400(client):
    answer = client.post(PATH, content=b"hpr=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and answer.json()["error"] == "the body must be JSON"
