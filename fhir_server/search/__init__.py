"""FHIR search: parameter values, index extraction and query building."""
