"""Flat datasets for researchers and statisticians: the registry's SQL-on-FHIR views run over what the caller may
search (``source``), written as JSON, NDJSON, CSV or Parquet (``formats``), with a data dictionary read from the
views (``dictionary``); served by ``ViewDefinition/$run`` and written by ``ryggrad export`` (``export``)."""
