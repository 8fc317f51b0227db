"""Validation of FHIR R4 resources: structure (``structure.ResourceValidator``)."""

from fhir_server.validation.structure import ResourceValidator

__all__ = ["ResourceValidator"]
