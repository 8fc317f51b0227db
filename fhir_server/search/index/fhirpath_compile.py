"""Compile the FHIRPath forms SearchParameters use into typed Python navigators, once per resource type.

A compiled path is a list of *streams*: each a chain of operations on JSON values and the FHIR type of what it
yields. ``Observation.value as Quantity`` is one stream (get ``valueQuantity`` → Quantity); ``Observation.effective``
is one stream per ``effective[x]`` variant; union branches for other resource types are dropped at compile time.

Supported: paths, ``|``, ``as``/``.as()``/``ofType()``, ``where(…)`` with ``resolve() is T``, equality with a
literal, ``exists()``/``empty()``/``not()``/``hasExtension()``/``and``/``or``; ``extension('url')``, ``[n]``,
``first()``, ``%resource``; a boolean expression as a whole (``Patient.deceased.exists() and
Patient.deceased != false``). Anything else raises ``CompileError`` and is left to fhirpathpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir_server.search.index.fhirpath_parse import (
    Binary,
    Call,
    Ident,
    Indexer,
    Literal,
    Member,
    Node,
    TypeOp,
    Variable,
)
from fhir_server.search.index.model import TypeModel, is_type_compatible
from fhir_server.search.index.references import ReferenceParser

Nav = Callable[[list[Any], dict[str, Any]], list[Any]]
Pred = Callable[[Any, dict[str, Any]], "bool | None"]  # FHIRPath three-valued: True, False or None (empty)
Op = tuple[Any, ...]

_RESOURCE_BASES = ("Resource", "DomainResource")
_BOOLEAN_CALLS = frozenset({"exists", "empty", "not", "hasExtension", "all", "allTrue", "anyTrue"})


class CompileError(ValueError):
    """The expression uses a form the compiler does not translate (fhirpathpy takes it)."""


@dataclass(frozen=True, slots=True)
class Stream:
    """Operations from a start node (the resource, or a composite's base element) and the FHIR type they yield."""

    ops: tuple[Op, ...]
    type: str


def leftmost_name(node: Node) -> str | None:
    """The identifier a path starts from (``Patient`` in ``Patient.name.where(…)``), if any."""
    while True:
        if isinstance(node, Ident):
            return node.name
        if isinstance(node, Member | Indexer | TypeOp) or (isinstance(node, Call) and node.base is not None):
            node = node.base  # type: ignore[assignment]
        elif isinstance(node, Binary) and node.op != "|":
            node = node.left
        else:
            return None


def is_boolean(node: Node) -> bool:
    if isinstance(node, Binary):
        return node.op in ("and", "or", "xor", "implies", "=", "!=", "~", "!~", "<", ">", "<=", ">=")
    if isinstance(node, TypeOp):
        return node.op == "is"
    return isinstance(node, Call) and node.name in _BOOLEAN_CALLS


class PathCompiler:
    def __init__(self, model: TypeModel, parser: ReferenceParser) -> None:
        self.model = model
        self.parser = parser

    # -- paths ------------------------------------------------------------------------------------------------

    def streams(self, node: Node, context: list[Stream], root_type: str) -> list[Stream]:
        """The typed streams ``node`` yields from ``context`` (the resource's own stream at the start)."""
        if isinstance(node, Ident):
            return self._ident(node.name, context)
        if isinstance(node, Member):
            return self._member(self.streams(node.base, context, root_type), node.name)
        if isinstance(node, Binary) and node.op == "|":
            return self.streams(node.left, context, root_type) + self.streams(node.right, context, root_type)
        if isinstance(node, TypeOp) and node.op == "as":
            return self._as(self.streams(node.base, context, root_type), node.type_name)
        if isinstance(node, Call):
            base = context if node.base is None else self.streams(node.base, context, root_type)
            return self._call(node, base, root_type)
        if isinstance(node, Indexer):
            base = self.streams(node.base, context, root_type)
            if not isinstance(node.index, Literal) or type(node.index.value) is not int or len(base) > 1:
                raise CompileError("only a literal index on a single-typed path is compiled")
            return [Stream((*s.ops, ("index", node.index.value)), s.type) for s in base]
        if isinstance(node, Variable):
            if node.name in ("resource", "rootResource"):
                return [Stream((("root",),), root_type)]
            if node.name in ("context", "this"):
                return context
        raise CompileError(f"unsupported in a path: {type(node).__name__}")

    def _ident(self, name: str, context: list[Stream]) -> list[Stream]:
        kept = [
            s
            for s in context
            if s.type == name or (name in _RESOURCE_BASES and self.model.is_resource_type(s.type) and not s.ops)
        ]
        if kept:
            return kept  # a type name naming the context: ``Patient`` in ``Patient.name``
        return self._member(context, name)

    def _member(self, streams: list[Stream], name: str) -> list[Stream]:
        out: list[Stream] = []
        for stream in streams:
            element = self.model.elements(stream.type).get(name)
            if element is None:
                continue  # another type's element (a union branch for another resource) or an unknown name
            out.extend(Stream((*stream.ops, ("get", key)), fhir_type) for key, fhir_type in element.variants)
        return out

    def _as(self, streams: list[Stream], type_name: str) -> list[Stream]:
        out = []
        for stream in streams:
            if is_type_compatible(stream.type, type_name):
                out.append(stream)
            elif stream.type in _RESOURCE_BASES and self.model.is_resource_type(type_name):
                out.append(Stream((*stream.ops, ("resource_type", type_name)), type_name))
        return out

    def _call(self, node: Call, base: list[Stream], root_type: str) -> list[Stream]:
        name, args = node.name, node.args
        if name in ("as", "ofType") and len(args) == 1:
            return self._as(base, _type_name(args[0]))
        if name == "where" and len(args) == 1:
            return [Stream((*s.ops, ("filter", self.predicate(args[0], s.type, root_type))), s.type) for s in base]
        if name == "extension" and len(args) == 1 and isinstance(args[0], Literal) and type(args[0].value) is str:
            url = args[0].value
            return [Stream((*s.ops, ("extension", url)), "Extension") for s in self._member(base, "extension")]
        if name == "first" and not args:
            if len(base) > 1:
                raise CompileError("first() on a multi-typed path")
            return [Stream((*s.ops, ("index", 0)), s.type) for s in base]
        raise CompileError(f"unsupported function {name}()")

    # -- predicates -------------------------------------------------------------------------------------------

    def predicate(self, node: Node, type_name: str, root_type: str) -> Pred:
        """A three-valued test of one node of ``type_name`` (``where`` criteria, boolean expressions)."""
        if isinstance(node, TypeOp) and node.op == "is":
            if isinstance(node.base, Call) and node.base.name == "resolve" and node.base.base is None:
                return self._resolves_to(node.type_name)
            raise CompileError("'is' on something other than resolve()")
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left = self.predicate(node.left, type_name, root_type)
            right = self.predicate(node.right, type_name, root_type)
            return _and(left, right) if node.op == "and" else _or(left, right)
        if isinstance(node, Binary) and node.op in ("=", "!="):
            return self._equality(node, type_name, root_type)
        if isinstance(node, Literal) and type(node.value) is bool:
            constant = node.value
            return lambda value, root: constant
        if isinstance(node, Call):
            return self._boolean_call(node, type_name, root_type)
        raise CompileError(f"unsupported criterion: {type(node).__name__}")

    def _resolves_to(self, type_name: str) -> Pred:
        target_type = self.parser.target_type

        def test(value: Any, root: dict[str, Any]) -> bool:
            return target_type(value) == type_name

        return test

    def _values(self, node: Node | None, type_name: str, root_type: str) -> Nav:
        """A navigator from one node of ``type_name`` (``$this`` when ``node`` is None) to a collection."""
        if node is None:
            return lambda items, root: items
        navs = [build_nav(s.ops) for s in self.streams(node, [Stream((), type_name)], root_type)]
        if len(navs) == 1:
            return navs[0]

        def collect(items: list[Any], root: dict[str, Any]) -> list[Any]:
            out: list[Any] = []
            for nav in navs:
                out.extend(nav(items, root))
            return out

        return collect

    def _equality(self, node: Binary, type_name: str, root_type: str) -> Pred:
        path, literal = node.left, node.right
        if isinstance(path, Literal):
            path, literal = literal, path
        if not isinstance(literal, Literal) or literal.value is None:
            raise CompileError("equality is compiled against a literal only")
        nav = self._values(path, type_name, root_type)
        expected = literal.value
        negate = node.op == "!="

        def test(value: Any, root: dict[str, Any]) -> bool | None:
            found = nav([value], root)
            if not found:
                return None
            equal = len(found) == 1 and _equal(found[0], expected)
            return equal != negate

        return test

    def _boolean_call(self, node: Call, type_name: str, root_type: str) -> Pred:
        name, args = node.name, node.args
        if name == "hasExtension" and len(args) == 1 and isinstance(args[0], Literal):
            url = args[0].value
            nav = self._values(node.base, type_name, root_type)

            def has_extension(value: Any, root: dict[str, Any]) -> bool:
                for item in nav([value], root):
                    extensions = item.get("extension") if type(item) is dict else None
                    if type(extensions) is list and any(type(e) is dict and e.get("url") == url for e in extensions):
                        return True
                return False

            return has_extension
        if name in ("exists", "empty") and len(args) <= 1:
            base: Node | None = node.base
            if args:
                base = Call(base, "where", args)
            nav = self._values(base, type_name, root_type)
            if name == "exists":
                return lambda value, root: bool(nav([value], root))
            return lambda value, root: not nav([value], root)
        if name == "not" and not args and node.base is not None:
            inner = self.predicate(node.base, type_name, root_type)

            def negated(value: Any, root: dict[str, Any]) -> bool | None:
                result = inner(value, root)
                return None if result is None else not result

            return negated
        raise CompileError(f"unsupported function {name}() in a criterion")


def _type_name(node: Node) -> str:
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Member) and isinstance(node.base, Ident):
        return f"{node.base.name}.{node.name}"
    raise CompileError("expected a type name")


def _equal(value: Any, expected: Any) -> bool:
    if type(expected) is bool or type(value) is bool:
        return type(value) is bool and type(expected) is bool and value == expected
    if isinstance(expected, int | Decimal) and isinstance(value, int | float | Decimal):
        return Decimal(repr(value)) == expected if type(value) is float else value == expected
    return type(value) is type(expected) and value == expected


def _and(left: Pred, right: Pred) -> Pred:
    def test(value: Any, root: dict[str, Any]) -> bool | None:
        first = left(value, root)
        if first is False:
            return False
        second = right(value, root)
        if second is False:
            return False
        return None if first is None or second is None else True

    return test


def _or(left: Pred, right: Pred) -> Pred:
    def test(value: Any, root: dict[str, Any]) -> bool | None:
        first = left(value, root)
        if first is True:
            return True
        second = right(value, root)
        if second is True:
            return True
        return None if first is None or second is None else False

    return test


# -- runtime navigators ------------------------------------------------------------------------------------------


def _identity(items: list[Any], root: dict[str, Any]) -> list[Any]:
    return items


def _get(key: str, nxt: Nav | None) -> Nav:
    def step(items: list[Any], root: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if type(item) is dict:
                value = item.get(key)
                if value is not None:
                    if type(value) is list:
                        out.extend(value)
                    else:
                        out.append(value)
        return nxt(out, root) if out and nxt is not None else out

    return step


def _filter(test: Callable[[Any, dict[str, Any]], Any], nxt: Nav | None) -> Nav:
    def step(items: list[Any], root: dict[str, Any]) -> list[Any]:
        out = [item for item in items if test(item, root) is True]
        return nxt(out, root) if out and nxt is not None else out

    return step


def _index(position: int, nxt: Nav | None) -> Nav:
    def step(items: list[Any], root: dict[str, Any]) -> list[Any]:
        out = items[position : position + 1]
        return nxt(out, root) if out and nxt is not None else out

    return step


def _root(nxt: Nav | None) -> Nav:
    def step(items: list[Any], root: dict[str, Any]) -> list[Any]:
        return nxt([root], root) if nxt is not None else [root]

    return step


def _key_equals(key: str, wanted: str) -> Callable[[Any, dict[str, Any]], bool]:
    def test(item: Any, root: dict[str, Any]) -> bool:
        return type(item) is dict and item.get(key) == wanted

    return test


def build_nav(ops: tuple[Op, ...]) -> Nav:
    """A function (items, root) → items running ``ops`` in order."""
    nav: Nav | None = None
    for op in reversed(ops):
        kind = op[0]
        if kind == "get":
            nav = _get(op[1], nav)
        elif kind == "filter":
            nav = _filter(op[1], nav)
        elif kind == "index":
            nav = _index(op[1], nav)
        elif kind == "root":
            nav = _root(nav)
        elif kind == "extension":
            nav = _filter(_key_equals("url", op[1]), nav)
        elif kind == "resource_type":
            nav = _filter(_key_equals("resourceType", op[1]), nav)
        else:  # pragma: no cover - ops are produced above only
            raise CompileError(f"unknown operation {kind}")
    return nav or _identity
