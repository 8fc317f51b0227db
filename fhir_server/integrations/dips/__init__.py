"""DIPS Arena integration: DIPS FHIR R4 resources mapped to the registry's profiles by data in ``mappings/dips/``."""

from fhir_server.integrations.dips.bundle import transaction
from fhir_server.integrations.dips.conceptmaps import Unmapped
from fhir_server.integrations.dips.mapping import AppointmentMapping, MappingError, map_appointment

__all__ = ["AppointmentMapping", "MappingError", "Unmapped", "map_appointment", "transaction"]
