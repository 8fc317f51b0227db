"""FHIR operations (``$name``), each declared by an OperationDefinition: the definition decides where it may be
invoked (system, type, instance), parses its parameters (``parameters.py``) and lists it in the
CapabilityStatement. One operation a module; ``registry`` maps names to them."""
