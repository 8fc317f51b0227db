"""SQL-on-FHIR v2 ViewDefinitions: validate, compile and run them over resources (`runner.run_view`)."""
