"""Synthetic registry demo data (units, staff, patients, appointments, and the NNRR clinics' registry history: episodes
with their forms) as a FHIR transaction Bundle."""

from fhir_server.demo.bundle import build_demo_bundle
from fhir_server.demo.history import EPISODE_ID_SYSTEM, RESPONSE_ID_SYSTEM
from fhir_server.demo.resources import (
    APPOINTMENT_ID_SYSTEM,
    CANONICAL_BASE,
    LOCATION_ID_SYSTEM,
    PRACTITIONER_ROLE_ID_SYSTEM,
    REGISTRY_POTENTIAL_URL,
)

__all__ = [
    "APPOINTMENT_ID_SYSTEM",
    "CANONICAL_BASE",
    "EPISODE_ID_SYSTEM",
    "LOCATION_ID_SYSTEM",
    "PRACTITIONER_ROLE_ID_SYSTEM",
    "REGISTRY_POTENTIAL_URL",
    "RESPONSE_ID_SYSTEM",
    "build_demo_bundle",
]
