"""Evaluate a FHIRPath Patch path and find, in the resource's JSON, the elements it selects.

fhirpathpy (``returnRawData``) answers with ``ResourceNode``s whose ``data`` is the very object of the resource
(so objects and arrays are known by identity) and whose ``propName`` spells where it was reached
(``Patient.contact[0].name.family``, the choice name ``Patient.deceased`` for ``deceasedBoolean``). Walking
``propName`` gives the element's place, the parent object and key a primitive needs; the place is then
checked against ``data`` (identity for objects, type and equality for primitives), so nothing is ever
edited on a guess: a result that is not an element of the resource (a literal, a computed value) is refused.

fhirpathpy lists the companions of a repeating primitive (``_given``) after its items (``given``) in one
collection, which shifts positions: ``given[2]`` would reach ``_given[0]``, and ``last()`` a placeholder.
So those companion arrays are set aside while the path is evaluated (and put back before anything is
located): positions are right, at the price that a path cannot go into the id/extensions of an item of a
repeating primitive (edits of such items still keep their companions).

FHIRPath reserves a few words as operators; ``Narrative.div`` collides with ``div``. As in the official patch
cases (``Patient.text.div``), such a word right after a dot is read as a member name (quoted before parsing).
"""

from __future__ import annotations

import re
from typing import Any

import fhirpathpy
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from fhir_server.errors import bad_request, unprocessable
from fhir_server.patch.definitions import ElementDefinitions
from fhir_server.patch.elements import JsonObject, Node, companion_of, value_of

_MODEL = models["r4"]
_STEP = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?")
_QUOTED = re.compile(r"('(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)")
_KEYWORD_MEMBER = re.compile(r"(?<=\.)(div|mod|and|or|xor|implies|true|false)(?![\w`(])")


class _SyntaxErrors(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):
        raise ValueError(f"column {column}: {msg}")


def quote_keyword_members(path: str) -> str:
    """``Patient.text.div`` → ``Patient.text.`div```; string literals and quoted names are left alone."""
    pieces = _QUOTED.split(path)
    return "".join(p if i % 2 else _KEYWORD_MEMBER.sub(r"`\1`", p) for i, p in enumerate(pieces))


def check_syntax(path: str) -> None:
    """Raise ValueError unless ``path`` is one whole FHIRPath expression (fhirpathpy's parser is lenient)."""
    listener = _SyntaxErrors()
    lexer = FHIRPathLexer(InputStream(path))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    parser.entireExpression()


def select(resource: JsonObject, path: str, definitions: ElementDefinitions | None, at: str) -> list[Node]:
    """The distinct elements ``path`` selects, in order. ``at`` names the operation in error messages.

    ``resource`` is briefly changed (see above) and restored: pass a working copy, not shared data.
    """
    path = quote_keyword_members(path)
    try:
        check_syntax(path)
    except ValueError:
        raise bad_request(f"{at}: the path is not a valid FHIRPath expression", at) from None
    hidden = _hide_list_companions(resource)
    try:
        results = fhirpathpy.evaluate(resource, path, model=_MODEL, options={"returnRawData": True})
    except Exception:  # fhirpathpy signals every evaluation failure with a bare Exception
        raise unprocessable(f"{at}: the path could not be evaluated on this resource", at) from None
    finally:
        for parent, key, companions in hidden:
            parent[key] = companions
    nodes: dict[tuple[int, str, int | None], Node] = {}
    for result in results:
        if isinstance(result, ResourceNode) and result.data is None:
            continue  # fhirpathpy's placeholder for a primitive that has only a companion
        node = _locate(resource, result, definitions)
        if node is None:
            raise unprocessable(f"{at}: the path selects something that is not an element of the resource", at)
        nodes.setdefault((id(node.parent), node.key, node.index), node)
    return list(nodes.values())


def _hide_list_companions(value: Any) -> list[tuple[JsonObject, str, list[Any]]]:
    hidden: list[tuple[JsonObject, str, list[Any]]] = []
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict):
            for key in [k for k, v in current.items() if k.startswith("_") and isinstance(v, list)]:
                hidden.append((current, key, current.pop(key)))
            stack.extend(current.values())
    return hidden


def _locate(resource: JsonObject, result: Any, definitions: ElementDefinitions | None) -> Node | None:
    if not isinstance(result, ResourceNode):
        return None
    node = _walk(resource, result.propName, definitions)
    if node is None or node.key == "resourceType" or not _holds(node, resource, result.data):
        return None
    return node


def _walk(resource: JsonObject, prop_name: str | None, definitions: ElementDefinitions | None) -> Node | None:
    resource_type = resource.get("resourceType", "")
    node = Node(None, "", resource_type, None, resource_type or None)
    current: Any = resource
    for step in (prop_name or "").split(".")[1:]:
        match = _STEP.fullmatch(step)
        if match is None or not isinstance(current, dict):
            return None
        name, index = match.group(1), match.group(2)
        key = _json_key(current, name)
        if key is None:
            return None
        node = Node(current, key, name, int(index) if index else None, _type_path(definitions, node, key))
        current = value_of(node, resource)
        if isinstance(current, dict) and "resourceType" in current:
            node = Node(node.parent, key, name, node.index, current["resourceType"])
        elif not isinstance(current, dict):
            current = companion_of(node)  # the id / extensions of a primitive live in its companion
    return node


def _json_key(parent: JsonObject, name: str) -> str | None:
    """The member holding element ``name``: itself, or the one choice member ``name<Type>``."""
    if name in parent or "_" + name in parent:
        return name
    choices = {
        key.lstrip("_")
        for key in parent
        if key.lstrip("_").startswith(name) and key.lstrip("_")[len(name) : len(name) + 1].isupper()
    }
    return choices.pop() if len(choices) == 1 else None


def _type_path(definitions: ElementDefinitions | None, parent: Node, key: str) -> str | None:
    if definitions is None:
        return None
    found = definitions.child_for_key(parent.type_path, key)
    if found is None:
        return None
    element, type_code = found
    return definitions.value_type_path(element, type_code)


def _holds(node: Node, resource: JsonObject, data: Any) -> bool:
    """Whether the place found holds exactly what fhirpathpy returned."""
    if isinstance(data, dict | list):
        return data is value_of(node, resource) or data is companion_of(node)
    value = value_of(node, resource)
    return type(value) is type(data) and value == data
