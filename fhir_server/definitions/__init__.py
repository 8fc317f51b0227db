"""FHIR definitions: the core package in the FHIR package cache, and the project's profiles."""
