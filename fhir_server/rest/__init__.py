"""FHIR RESTful interactions, independent of HTTP: a request in, a response out.

The HTTP layer (``fhir_server.http``) and Bundle processing both call :func:`fhir_server.rest.router.dispatch`, so an
entry of a transaction behaves exactly like the same request sent alone.
"""
