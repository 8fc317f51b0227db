"""A Bulk Data export over real HTTP, end to end: kick-off, polling with Retry-After, the manifest, every file
downloaded — and the NDJSON lines exactly the resources the equivalent searches return, at the system, Patient and
Group levels, with _type, _since and _typeFilter, for the registry and for one unit."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.bulk.conftest import Exporter, fresh_unit, keyed
from tests.rest.helpers import unique

CODES = "urn:test:bulk"


def _world(exporter: Exporter, auth: dict[str, str], patients: int = 3) -> dict[str, list[dict]]:
    """Patients, each with two Observations (codes a and b) and one Condition, all tagged for this test."""
    tag = unique("bulk")
    meta = {"tag": [{"system": "urn:test", "code": tag}]}
    made: dict[str, list[dict]] = {"Patient": [], "Observation": [], "Condition": []}
    for n in range(patients):
        patient = exporter.made({"resourceType": "Patient", "meta": meta, "gender": "female"}, auth)
        made["Patient"].append(patient)
        subject = {"reference": f"Patient/{patient['id']}"}
        for code in ("a", "b"):
            observation = {
                "resourceType": "Observation",
                "meta": meta,
                "status": "final" if n % 2 else "preliminary",
                "code": {"coding": [{"system": CODES, "code": f"{tag}-{code}"}]},
                "subject": subject,
            }
            made["Observation"].append(exporter.made(observation, auth))
        condition = {"resourceType": "Condition", "meta": meta, "subject": subject, "code": {"text": "back pain"}}
        made["Condition"].append(exporter.made(condition, auth))
    made["tag"] = [{"code": tag}]
    return made


def _compartments(exporter: Exporter, auth: dict[str, str], patient_ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for pid in patient_ids:
        found |= keyed(exporter.search(f"Patient/{pid}/*", auth))
    return {k: v for k, v in found.items() if not k.startswith("AuditEvent/")}


def _all(found: dict[str, list[dict]], *, audit: bool = False) -> dict[str, dict]:
    lines = [r for kind, rs in found.items() for r in rs if audit or kind != "AuditEvent"]
    keys = [f"{r['resourceType']}/{r['id']}" for r in lines]
    assert len(keys) == len(set(keys)), "a resource exported twice"
    return keyed(lines)


def test_system_export_with_type_is_exactly_what_the_searches_return(exporter: Exporter):
    admin = exporter.token()
    _world(exporter, admin, patients=5)
    manifest, found = exporter.export("$export", admin, {"_type": "Patient,Observation"})
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"].endswith("/$export?_type=Patient%2CObservation")
    assert datetime.fromisoformat(manifest["transactionTime"].replace("Z", "+00:00")).tzinfo is not None
    assert {item["type"] for item in manifest["output"]} == {"Patient", "Observation"}
    assert all(item["count"] <= 7 for item in manifest["output"])  # rolled over at bulk_file_max_resources
    assert len([i for i in manifest["output"] if i["type"] == "Observation"]) > 1
    for kind in ("Patient", "Observation"):
        assert keyed(found[kind]) == keyed(exporter.search(kind, admin))
        assert len(found[kind]) == len(keyed(found[kind]))


def test_since_and_type_filter(exporter: Exporter):
    admin = exporter.token()
    before = _world(exporter, admin, patients=2)
    time.sleep(0.01)
    since = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    time.sleep(0.01)
    after = _world(exporter, admin, patients=2)
    _, found = exporter.export("$export", admin, {"_type": "Observation,Condition", "_since": since})
    exported = _all(found)
    for made in before["Observation"] + before["Condition"]:
        assert f"{made['resourceType']}/{made['id']}" not in exported
    for kind in ("Observation", "Condition"):
        assert keyed(found[kind]) == keyed(exporter.search(kind, admin, [("_lastUpdated", f"ge{since}")]))

    # two filters of one type are alternatives (no resource twice); a type without one is exported whole
    tag = after["tag"][0]["code"]
    filters = [
        ("_typeFilter", f"Observation?code={CODES}|{tag}-a"),
        ("_typeFilter", f"Observation?_tag=urn:test|{tag}&status=final"),
    ]
    _, found = exporter.export("$export", admin, [("_type", "Observation,Condition"), *filters])
    a = keyed(exporter.search("Observation", admin, [("code", f"{CODES}|{tag}-a")]))
    final = keyed(exporter.search("Observation", admin, [("_tag", f"urn:test|{tag}"), ("status", "final")]))
    assert set(a) & set(final), "the filters overlap, so the de-duplication is tested"
    assert keyed(found["Observation"]) == a | final
    assert len(found["Observation"]) == len(a | final)
    assert keyed(found["Condition"]) == keyed(exporter.search("Condition", admin))


def test_post_with_parameters(exporter: Exporter):
    admin = exporter.token()
    world = _world(exporter, admin, patients=1)
    tag = world["tag"][0]["code"]
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Observation"},
            {"name": "_typeFilter", "valueString": f"Observation?_tag=urn:test|{tag}"},
            {"name": "_outputFormat", "valueString": "application/ndjson"},
        ],
    }
    _, found = exporter.export("$export", admin, json=body)
    assert keyed(found["Observation"]) == keyed(exporter.search("Observation", admin, [("_tag", f"urn:test|{tag}")]))
    assert set(keyed(found["Observation"])) == set(keyed(world["Observation"]))


def test_patient_level_export_is_every_patients_compartment(exporter: Exporter):
    unit = fresh_unit()  # a unit of its own: its patients are this test's
    lead = exporter.token("local-lead", org=unit)
    world = _world(exporter, lead, patients=3)
    _, found = exporter.export("Patient/$export", lead)
    ids = [p["id"] for p in exporter.search("Patient", lead)]
    assert sorted(ids) == sorted(p["id"] for p in world["Patient"])
    assert _all(found) == _compartments(exporter, lead, ids)
    assert {"Patient", "Observation", "Condition"} <= set(found)

    _, only = exporter.export("Patient/$export", lead, {"_type": "Observation"})
    assert set(only) == {"Observation"}
    assert keyed(only["Observation"]) == keyed(world["Observation"])


def test_group_level_export_is_its_members_compartments(exporter: Exporter):
    admin = exporter.token()
    world = _world(exporter, admin, patients=3)
    members = world["Patient"][:2]
    group = {
        "resourceType": "Group",
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": f"Patient/{p['id']}"}} for p in members]
        + [{"entity": {"reference": f"Patient/{world['Patient'][2]['id']}"}, "inactive": True}],
    }
    group = exporter.made(group, admin)
    _, found = exporter.export(f"Group/{group['id']}/$export", admin)
    assert _all(found) == _compartments(exporter, admin, [p["id"] for p in members])
    assert f"Patient/{world['Patient'][2]['id']}" not in _all(found)

    _, filtered = exporter.export(
        f"Group/{group['id']}/$export", admin, {"_typeFilter": "Observation?status=preliminary"}
    )
    observations = filtered["Observation"]
    assert observations and all(o["status"] == "preliminary" for o in observations)
    assert "Condition" in filtered  # not filtered: exported whole


def test_a_units_export_holds_its_own_data_only(exporter: Exporter):
    a, b = fresh_unit(), fresh_unit()
    lead_a, lead_b = exporter.token("local-lead", org=a), exporter.token("local-lead", org=b)
    mine, theirs = _world(exporter, lead_a, 2), _world(exporter, lead_b, 2)
    _, found = exporter.export("$export", lead_a, {"_type": "Patient,Observation,Condition"})
    exported = _all(found)
    for kind in ("Patient", "Observation", "Condition"):
        for made in mine[kind]:
            assert f"{kind}/{made['id']}" in exported
        for made in theirs[kind]:
            assert f"{kind}/{made['id']}" not in exported
        assert keyed(found[kind]) == keyed(exporter.search(kind, lead_a))
    # and without _type: every type the unit may search, still its own
    _, everything = exporter.export("$export", lead_a)
    for kind in ("Patient", "Observation", "Condition"):
        assert not {f"{kind}/{m['id']}" for m in theirs[kind]} & set(_all(everything))
    assert "AuditEvent" not in everything
