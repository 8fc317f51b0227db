"""An operation's input, parsed by its OperationDefinition: a ``Parameters`` body (or, for GET, the query), each
parameter checked for its name, cardinality and type; unknown ones are a 400 naming them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError, Issue, bad_request


@dataclass(frozen=True)
class ParameterDef:
    name: str
    min: int
    max: str
    type: str | None


def operation_definition(definitions: Any, url: str) -> dict[str, Any]:
    """The OperationDefinition an operation is declared by (the core package's, or ``profiles/``)."""
    found = definitions.resource("OperationDefinition", url)
    if found is None:  # pragma: no cover - the core package and profiles/ always have theirs
        raise FhirError(500, [Issue("exception", f"The OperationDefinition {url} is not loaded")])
    return found


def input_parameters(definition: dict[str, Any]) -> list[ParameterDef]:
    return [
        ParameterDef(p["name"], int(p.get("min", 0)), str(p.get("max", "1")), p.get("type"))
        for p in definition.get("parameter") or ()
        if p.get("use") == "in"
    ]


def parse(
    definition: dict[str, Any], body: Any, query: list[tuple[str, str]], *, resource_body_param: str | None = None
) -> dict[str, list[Any]]:
    """Parameter name → values. ``body``: a Parameters resource, or (where ``resource_body_param`` names one) the
    resource itself as that parameter; ``query``: GET parameters (primitives only)."""
    defs = {p.name: p for p in input_parameters(definition)}
    values: dict[str, list[Any]] = {}
    operation = f"${definition.get('code')}"
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for item in body.get("parameter") or ():
            name = item.get("name") if isinstance(item, dict) else None
            param = defs.get(name) if isinstance(name, str) else None
            if param is None:
                raise bad_request(f"{operation} has no parameter '{name}'", name if isinstance(name, str) else None)
            values.setdefault(param.name, []).append(_value(operation, param, item))
    elif isinstance(body, dict) and resource_body_param is not None:
        values[resource_body_param] = [body]
    elif body is not None:
        raise bad_request(f"{operation} takes a Parameters resource")
    for name, raw in query:
        if name.startswith("_"):
            continue
        param = defs.get(name)
        if param is None or param.type == "Resource":
            raise bad_request(f"{operation} has no parameter '{name}' that can be given in the URL", name)
        values.setdefault(name, []).append(raw)
    for param in defs.values():
        count = len(values.get(param.name, []))
        if count < param.min:
            raise bad_request(f"{operation} needs the parameter '{param.name}'", param.name)
        if param.max != "*" and count > int(param.max):
            raise bad_request(f"{operation} takes '{param.name}' at most {param.max} time(s)", param.name)
    return values


def _value(operation: str, param: ParameterDef, item: dict[str, Any]) -> Any:
    if param.type == "Resource":
        resource = item.get("resource")
        if not isinstance(resource, dict):
            raise bad_request(f"{operation}: '{param.name}' must be a resource", param.name)
        return resource
    key = f"value{param.type[0].upper()}{param.type[1:]}" if param.type else None  # valueString, valueReference …
    if key is None or key not in item:
        raise bad_request(f"{operation}: '{param.name}' must be a {param.type} ({key or 'value'})", param.name)
    return item[key]
