"""One FHIR interaction a module."""
