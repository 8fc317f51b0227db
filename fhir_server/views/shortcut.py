"""A fast path for the FHIRPath shapes most view columns use, evaluated in plain Python.

fhirpathpy spends ~10 µs on each navigation step (it builds typed nodes and looks types up in the
model); a column such as `answer.value.ofType(integer).first()` then costs more than the rest of a
row. `compile_shortcut` recognises, from fhirpathpy's parse tree, chains made only of:

* members (`name`, `given`; not resource types), `$this`
* `member.ofType(T)` on a choice element, read as the JSON key `memberT` (`valueInteger`)
* `where(member = 'text')`, and, as the whole expression, `chain = 'text'`
* `first()`, and at the end only: `exists()`, `empty()`, `count()`
* `getResourceKey()`, `getReferenceKey([Type])`
* `extension('url')` (fhirpathpy keeps the first matching extension of each item), then
  `.value.ofType(T)` as `valueT`
* at the end only, `startsWith('text')`; and `A or B` of two such boolean paths (both sides evaluated, as
  fhirpathpy does; an answer that is not one boolean or nothing falls back)
* `where($this = 'text')` on strings
* `chain[n]` with an integer literal
* `toInteger()` of one integer or string (a boolean, or several items, go to fhirpathpy)
* `iif(criterion, a, b)` where the criterion is such a boolean path and `a`, `b` are integer literals, `{}`
  or such iifs
* `repeat(member)`: breadth first, as fhirpathpy walks it; if two items found are equal (fhirpathpy would
  drop one) or one is not an element, the answer is left to fhirpathpy

and evaluates them on the JSON directly. Whenever the data could make the answer differ from
fhirpathpy's - a member missing where a choice element of that name is present, a primitive
carrying extensions (`_given`), `ofType` on an element that is not a choice, a comparison with a
value that is not a plain string - `run` returns `FALLBACK` and the caller asks fhirpathpy.
Comparisons are only taken over for literals that cannot be dates or numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fhir_server.views.keys import reference_key, resource_key

FALLBACK: Any = object()

Step = Callable[[list], Any]


def _member(name: str) -> Step:
    underscored = f"_{name}"
    size = len(name)

    def step(items: list) -> Any:
        found: list = []
        for item in items:
            if not isinstance(item, dict):
                if isinstance(item, list | tuple):
                    return FALLBACK
                continue
            if underscored in item:
                return FALLBACK
            value = item.get(name)
            if value is None:
                for key in item:
                    if len(key) > size and key.startswith(name) and key[size].isupper():
                        return FALLBACK  # a choice element: fhirpathpy resolves it with the model
                continue
            if isinstance(value, list):
                found.extend(v for v in value if v is not None)
            else:
                found.append(value)
        return found

    step.member_name = name  # type: ignore[attr-defined]  # read by a following ofType()
    return step


def _choice(name: str, type_name: str) -> Step:
    key = name + type_name[0].upper() + type_name[1:]
    underscored = f"_{key}"

    def step(items: list) -> Any:
        found: list = []
        for item in items:
            if not isinstance(item, dict):
                continue
            if name in item or underscored in item:
                return FALLBACK  # not a choice element after all, or a primitive with extensions
            value = item.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                return FALLBACK
            found.append(value)
        return found

    return step


def _where_equals(name: str, literal: str) -> Step:
    def step(items: list) -> Any:
        kept: list = []
        for item in items:
            if not isinstance(item, dict):
                return FALLBACK
            value = item.get(name)
            if value is None:
                if f"_{name}" in item:
                    return FALLBACK
                continue
            if not isinstance(value, str):
                return FALLBACK
            if value == literal:
                kept.append(item)
        return kept

    return step


def _extension(url: str) -> Step:
    def step(items: list) -> Any:
        found: list = []
        for item in items:
            if not isinstance(item, dict):
                continue  # a primitive: fhirpathpy reads no extensions there (the _name case fell back before)
            extensions = item.get("extension", [])
            if not isinstance(extensions, list):
                return FALLBACK
            for extension in extensions:
                if not isinstance(extension, dict) or "url" not in extension:
                    return FALLBACK  # fhirpathpy fails or reads it differently
            matching = next((e for e in extensions if e["url"] == url), None)
            if matching is not None:
                found.append(matching)
        return found

    return step


# The last focus each repeat(member) walked and what it found: a view's columns repeat(item) over the same
# resource one after another, and the steps after a repeat never change the list they are given.
_LAST_REPEAT: dict[str, tuple[Any, Any]] = {}


def _repeat(name: str) -> Step:
    member = _member(name)

    def step(items: list) -> Any:
        if len(items) == 1:
            last = _LAST_REPEAT.get(name)
            if last is not None and last[0] is items[0]:
                return last[1]
            found = walk(items)
            _LAST_REPEAT[name] = (items[0], found)
            return found
        return walk(items)

    def walk(items: list) -> Any:
        found: list = []
        seen: dict[tuple[int, Any], list[dict]] = {}
        queue = list(items)
        index = 0
        while index < len(queue):
            children = member([queue[index]])
            index += 1
            if children is FALLBACK:
                return FALLBACK
            for child in children:
                if not isinstance(child, dict):
                    return FALLBACK
                link = child.get("linkId")
                bucket = seen.setdefault((len(child), link if isinstance(link, str) else None), [])
                if any(other == child for other in bucket):
                    return FALLBACK  # fhirpathpy would keep only one of equal items
                bucket.append(child)
            found.extend(children)
            queue.extend(children)
        return found

    return step


def _starts_with(prefix: str) -> Step:
    def step(items: list) -> Any:
        if not items:
            return []
        if len(items) != 1 or not isinstance(items[0], str):
            return FALLBACK  # fhirpathpy fails: left to it
        return [items[0].startswith(prefix)]

    step.terminal = True  # type: ignore[attr-defined]
    return step


def _where_this_equals(literal: str) -> Step:
    def step(items: list) -> Any:
        if not all(isinstance(item, str) for item in items):
            return FALLBACK
        return [item for item in items if item == literal]

    return step


def _first(items: list) -> Any:
    return items[:1]


def _exists(items: list) -> Any:
    return [bool(items)]


def _empty(items: list) -> Any:
    return [not items]


def _count(items: list) -> Any:
    return [len(items)]


_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _to_integer(items: list) -> Any:
    """FHIRPath ``toInteger()`` on at most one item: an integer stays, a string of digits converts, any other
    string gives nothing; anything else (a boolean, several items) is left to fhirpathpy."""
    if not items:
        return []
    if len(items) != 1:
        return FALLBACK
    item = items[0]
    if isinstance(item, bool):
        return FALLBACK
    if isinstance(item, int):
        return [item]
    if isinstance(item, str):
        return [int(item)] if _INTEGER.match(item) else []
    return FALLBACK


def _resource_key(items: list) -> Any:
    return [key for key in map(resource_key, items) if key is not None]


def _reference_key(wanted: str | None) -> Step:
    def step(items: list) -> Any:
        keys = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("reference"), str):
                key = reference_key(item["reference"], wanted)
                if key is not None:
                    keys.append(key)
        return keys

    return step


_TERMINAL = {"exists": _exists, "empty": _empty, "count": _count}
for _function in _TERMINAL.values():
    _function.terminal = True  # type: ignore[attr-defined]


def _is_terminal(step: Step) -> bool:
    return getattr(step, "terminal", False)


def _is_this(node: Any) -> bool:
    if not isinstance(node, dict) or node.get("type") != "TermExpression":
        return False
    term = (node.get("children") or [None])[0]
    if not isinstance(term, dict) or term.get("type") != "InvocationTerm":
        return False
    invocation = (term.get("children") or [None])[0]
    return isinstance(invocation, dict) and invocation.get("type") == "ThisInvocation"


def _literal(node: Any) -> dict | None:
    """The literal node of a TermExpression that is a literal, else None."""
    if not isinstance(node, dict) or node.get("type") != "TermExpression":
        return None
    term = (node.get("children") or [None])[0]
    if not isinstance(term, dict) or term.get("type") != "LiteralTerm":
        return None
    literal = (term.get("children") or [None])[0]
    return literal if isinstance(literal, dict) else None


def _string_literal(node: Any) -> str | None:
    """The text of a plain string literal that cannot be read as a date or number, else None."""
    literal = _literal(node)
    if literal is None or literal.get("type") != "StringLiteral":
        return None
    text = str(literal.get("text", ""))
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        return None
    inner = text[1:-1]
    if "\\" in inner or "'" in inner or not inner or inner[0].isdigit() or inner[0] in "+-@":
        return None
    return inner


def _identifier(node: Any) -> str | None:
    if isinstance(node, dict) and node.get("type") == "Identifier":
        text = str(node.get("text", ""))
        return text if text.isidentifier() else None
    return None


def _functn(node: dict) -> tuple[str, list] | None:
    functn = (node.get("children") or [None])[0]
    if not isinstance(functn, dict) or functn.get("type") != "Functn":
        return None
    children = functn.get("children") or []
    name = _identifier(children[0]) if children else None
    if name is None:
        return None
    params = children[1].get("children", []) if len(children) > 1 else []
    return name, params


def _simple_member(node: Any) -> str | None:
    """`member` as a TermExpression, else None."""
    if not isinstance(node, dict) or node.get("type") != "TermExpression":
        return None
    term = (node.get("children") or [None])[0]
    if not isinstance(term, dict) or term.get("type") != "InvocationTerm":
        return None
    invocation = (term.get("children") or [None])[0]
    if not isinstance(invocation, dict) or invocation.get("type") != "MemberInvocation":
        return None
    name = _identifier((invocation.get("children") or [None])[0])
    return name if name and name[0].islower() else None


def _type_name(param: Any) -> str | None:
    text = str(param.get("text", "")) if isinstance(param, dict) else ""
    name = text.rsplit(".", 1)[-1]
    return name if name.isidentifier() else None


#: Functions of one literal argument: how the argument is read (None: not supported), and the step it makes.
_ONE_ARGUMENT: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Step]]] = {
    "startsWith": (_string_literal, _starts_with),
    "extension": (_string_literal, _extension),
    "repeat": (_simple_member, _repeat),
}


def _invocation_steps(node: dict, steps: list[Step]) -> bool:
    """Append the step of one invocation (member or function); False when not supported."""
    kind = node.get("type")
    if kind == "ThisInvocation":
        return True
    if kind == "MemberInvocation":
        name = _identifier((node.get("children") or [None])[0])
        if not name or not name[0].islower():
            return False
        steps.append(_member(name))
        return True
    if kind != "FunctionInvocation":
        return False
    parsed = _functn(node)
    if parsed is None:
        return False
    name, params = parsed
    if name in _TERMINAL and not params:
        steps.append(_TERMINAL[name])
        return True
    if name == "first" and not params:
        steps.append(_first)
        return True
    if name == "toInteger" and not params:
        steps.append(_to_integer)
        return True
    if name == "getResourceKey" and not params:
        steps.append(_resource_key)
        return True
    if name == "getReferenceKey" and len(params) <= 1:
        wanted = _type_name(params[0]) if params else None
        if params and wanted is None:
            return False
        steps.append(_reference_key(wanted))
        return True
    if name == "ofType" and len(params) == 1 and steps and getattr(steps[-1], "member_name", None):
        type_name = _type_name(params[0])
        if type_name is None:
            return False
        steps[-1] = _choice(steps[-1].member_name, type_name)  # type: ignore[attr-defined]
        return True
    if name in _ONE_ARGUMENT and len(params) == 1:
        parse, build = _ONE_ARGUMENT[name]
        argument = parse(params[0])
        if argument is None:
            return False
        steps.append(build(argument))
        return True
    if name == "where" and len(params) == 1:
        condition = params[0]
        if condition.get("type") != "EqualityExpression" or condition.get("terminalNodeText") != ["="]:
            return False
        left, right = (condition.get("children") or [None, None])[:2]
        member, literal = _simple_member(left), _string_literal(right)
        if literal is not None and _is_this(left):
            steps.append(_where_this_equals(literal))
            return True
        if member is None or literal is None:
            return False
        steps.append(_where_equals(member, literal))
        return True
    return False


def _index(position: int) -> Step:
    def step(items: list) -> Any:
        return items[position : position + 1]

    return step


def _chain_steps(node: Any, steps: list[Step]) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    if kind == "IndexerExpression":  # `chain[n]` with an integer literal
        children = node.get("children") or []
        position = _constant(children[1]) if len(children) == 2 else None
        if position is None or len(position.run(None)) != 1 or not _chain_steps(children[0], steps):
            return False
        steps.append(_index(position.run(None)[0]))
        return True
    if kind == "InvocationExpression":
        children = node.get("children") or []
        return (
            len(children) == 2
            and _chain_steps(children[0], steps)
            and _invocation_steps(_with_member_name(children[1]), steps)
        )
    if kind == "TermExpression":
        term = (node.get("children") or [None])[0]
        if not isinstance(term, dict) or term.get("type") != "InvocationTerm":
            return False
        invocation = (term.get("children") or [None])[0]
        return isinstance(invocation, dict) and _invocation_steps(invocation, steps)
    return False


def _with_member_name(node: Any) -> dict:
    return node if isinstance(node, dict) else {}


class Shortcut:
    """A compiled fast path: `run(focus)` gives the result list, or FALLBACK."""

    __slots__ = ("_compare", "_steps", "_terminal")

    def __init__(self, steps: list[Step], terminal: Step | None, compare: str | None) -> None:
        self._steps = steps
        self._terminal = terminal
        self._compare = compare

    def run(self, focus: Any) -> Any:
        items = [focus]
        for step in self._steps:
            items = step(items)
            if items is FALLBACK:
                return FALLBACK
            if not items:
                break
        if self._terminal is not None:
            return self._terminal(items)
        if self._compare is not None:
            if not items:
                return []
            if len(items) != 1 or not isinstance(items[0], str):
                return FALLBACK
            return [items[0] == self._compare]
        return items


class OrShortcut:
    """`A or B` of two boolean shortcuts, with FHIRPath's three-valued `or`."""

    __slots__ = ("_left", "_right")

    def __init__(self, left: Shortcut, right: Shortcut) -> None:
        self._left = left
        self._right = right

    def run(self, focus: Any) -> Any:
        left, right = self._left.run(focus), self._right.run(focus)
        if left is FALLBACK or right is FALLBACK:
            return FALLBACK
        for side in (left, right):
            if side != [] and (len(side) != 1 or not isinstance(side[0], bool)):
                return FALLBACK
        if left == [True] or right == [True]:
            return [True]
        if left == [False] and right == [False]:
            return [False]
        return []


class Constant:
    """An integer literal, or ``{}`` (empty)."""

    __slots__ = ("_value",)

    def __init__(self, value: list) -> None:
        self._value = value

    def run(self, focus: Any) -> Any:
        return list(self._value)


class IifShortcut:
    """`iif(criterion, a, b)`: `a` when the criterion is true, else `b` (false or empty)."""

    __slots__ = ("_criterion", "_otherwise", "_then")

    def __init__(self, criterion: Any, then: Any, otherwise: Any) -> None:
        self._criterion, self._then, self._otherwise = criterion, then, otherwise

    def run(self, focus: Any) -> Any:
        decided = self._criterion.run(focus)
        if decided is FALLBACK or (decided and (len(decided) != 1 or not isinstance(decided[0], bool))):
            return FALLBACK
        return (self._then if decided == [True] else self._otherwise).run(focus)


def _constant(node: Any) -> Constant | None:
    """An integer literal or ``{}`` as a TermExpression, else None."""
    literal = _literal(node)
    if literal is None:
        return None
    text = str(literal.get("text", ""))
    if literal.get("type") == "NullLiteral":
        return Constant([])
    if literal.get("type") == "NumberLiteral" and _INTEGER.match(text):
        return Constant([int(text)])
    return None


def _iif(ast: Any) -> IifShortcut | None:
    if not isinstance(ast, dict) or ast.get("type") != "TermExpression":
        return None
    term = (ast.get("children") or [None])[0]
    invocation = (term.get("children") or [None])[0] if isinstance(term, dict) else None
    if not isinstance(invocation, dict) or invocation.get("type") != "FunctionInvocation":
        return None
    parsed = _functn(invocation)
    if parsed is None or parsed[0] != "iif" or len(parsed[1]) != 3:
        return None
    criterion, then, otherwise = parsed[1]
    test = compile_shortcut(criterion)
    branches = [_constant(node) or _iif(node) for node in (then, otherwise)]
    if test is None or isinstance(test, Constant) or None in branches:
        return None
    return IifShortcut(test, branches[0], branches[1])


def compile_shortcut(ast: Any) -> Shortcut | OrShortcut | IifShortcut | None:
    """A Shortcut for the expression's parse tree, or None when its shape is not covered."""
    conditional = _iif(ast)
    if conditional is not None:
        return conditional
    if isinstance(ast, dict) and ast.get("type") == "OrExpression" and ast.get("terminalNodeText") == ["or"]:
        children = ast.get("children") or []
        if len(children) != 2:
            return None
        left, right = compile_shortcut(children[0]), compile_shortcut(children[1])
        if isinstance(left, Shortcut) and isinstance(right, Shortcut):
            return OrShortcut(left, right)
        return None
    compare = None
    if isinstance(ast, dict) and ast.get("type") == "EqualityExpression":
        if ast.get("terminalNodeText") != ["="]:
            return None
        left, right = (ast.get("children") or [None, None])[:2]
        compare = _string_literal(right)
        if compare is None:
            return None
        ast = left
    steps: list[Step] = []
    if not _chain_steps(ast, steps):
        return None
    terminal = None
    if steps and _is_terminal(steps[-1]):
        terminal = steps.pop()
    if any(_is_terminal(step) for step in steps):
        return None
    if compare is not None and terminal is not None:
        return None
    return Shortcut(steps, terminal, compare)
