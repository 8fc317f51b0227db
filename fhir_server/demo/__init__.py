"""Synthetic registry demo data (units, staff, patients, appointments) as a FHIR transaction Bundle."""

from fhir_server.demo.bundle import build_demo_bundle
from fhir_server.demo.resources import (
    APPOINTMENT_ID_SYSTEM,
    CANONICAL_BASE,
    LOCATION_ID_SYSTEM,
    NNRR_POTENTIAL_URL,
    PRACTITIONER_ROLE_ID_SYSTEM,
)

__all__ = [
    "APPOINTMENT_ID_SYSTEM",
    "CANONICAL_BASE",
    "LOCATION_ID_SYSTEM",
    "NNRR_POTENTIAL_URL",
    "PRACTITIONER_ROLE_ID_SYSTEM",
    "build_demo_bundle",
]
