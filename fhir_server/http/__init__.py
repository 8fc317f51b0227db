"""The HTTP face of the server (FastAPI/Starlette): media types, limits, and OperationOutcome errors."""
