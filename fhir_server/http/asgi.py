"""``uvicorn fhir_server.http.asgi:app`` — the application configured from the environment."""

from fhir_server.http.app import create_app

app = create_app()
