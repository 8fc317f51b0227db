"""A small FHIRPath parser: the full operator grammar into a plain AST, for the index compiler to judge.

The compiler (``fhirpath_compile``) turns the forms SearchParameters use into fast Python and hands anything else
to fhirpathpy; this parser therefore accepts the whole expression syntax and leaves semantics to the compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache


class FhirPathSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ident:
    """A name at the start of a path (a type name or an element of the context)."""

    name: str


@dataclass(frozen=True, slots=True)
class Member:
    base: Node
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    base: Node | None  # None: called on the context (``where(resolve() is Patient)``)
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Indexer:
    base: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # | and or xor implies = != ~ !~ < > <= >= in contains + - * / & div mod
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class TypeOp:
    op: str  # is / as
    base: Node
    type_name: str


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | bool | int | Decimal | None  # None: the empty collection {}


@dataclass(frozen=True, slots=True)
class Variable:
    name: str  # resource, context, ucum, ... (%name) or $this / $index / $total


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node


Node = Ident | Member | Call | Indexer | Binary | TypeOp | Literal | Variable | Unary

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>@[0-9T:.+\-Z]+)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)
      | (?P<var>%[A-Za-z_][A-Za-z0-9_\-]*|%`[^`]+`|%'[^']+'|\$[a-z]+)
      | (?P<op><=|>=|!=|!~|[|=~<>.()\[\],+\-*/&{}])
    )""",
    re.VERBOSE,
)

# Binary operators from loosest to tightest binding (FHIRPath §6 operator precedence).
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"implies"}),
    frozenset({"or", "xor"}),
    frozenset({"and"}),
    frozenset({"in", "contains"}),
    frozenset({"=", "~", "!=", "!~"}),
    frozenset({"<", ">", "<=", ">="}),
    frozenset({"|"}),
    frozenset({"is", "as"}),
    frozenset({"+", "-", "&"}),
    frozenset({"*", "/", "div", "mod"}),
)
_WORD_OPERATORS = frozenset({"implies", "or", "xor", "and", "in", "contains", "is", "as", "div", "mod"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/"}


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        if nxt == "u":
            code = "".join(next(chars, "") for _ in range(4))
            out.append(chr(int(code, 16)))
        else:
            out.append(_ESCAPES.get(nxt, nxt))
    return "".join(out)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FhirPathSyntaxError(f"unexpected character at {position} in {text!r}")
        position = match.end()
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FhirPathSyntaxError(f"unexpected end of {self.text!r}")
        self.position += 1
        return token

    def expect(self, symbol: str) -> None:
        _kind, value = self.take()
        if value != symbol:
            raise FhirPathSyntaxError(f"expected {symbol!r}, got {value!r} in {self.text!r}")

    def at_operator(self, operators: frozenset[str]) -> str | None:
        token = self.peek()
        if token is None:
            return None
        kind, value = token
        if (kind == "op" or (kind == "ident" and value in _WORD_OPERATORS)) and value in operators:
            return value
        return None

    def parse(self) -> Node:
        node = self.expression(0)
        if self.peek() is not None:
            raise FhirPathSyntaxError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return node

    def expression(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        left = self.expression(level + 1)
        while (op := self.at_operator(_LEVELS[level])) is not None:
            self.take()
            if op in ("is", "as"):
                left = TypeOp(op, left, self.type_specifier())
            else:
                left = Binary(op, left, self.expression(level + 1))
        return left

    def type_specifier(self) -> str:
        kind, value = self.take()
        if kind != "ident":
            raise FhirPathSyntaxError(f"expected a type name in {self.text!r}")
        parts = [value.strip("`")]
        while self.peek() == ("op", ".") and self.position + 1 < len(self.tokens):
            self.take()
            parts.append(self.take()[1].strip("`"))
        return ".".join(parts)

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in ("+", "-"):
            self.take()
            return Unary(token[1], self.unary())
        return self.postfix(self.term())

    def postfix(self, node: Node) -> Node:
        while True:
            token = self.peek()
            if token == ("op", "."):
                self.take()
                kind, name = self.take()
                if kind != "ident":
                    raise FhirPathSyntaxError(f"expected a name after '.' in {self.text!r}")
                name = name.strip("`")
                node = Call(node, name, self.arguments()) if self.peek() == ("op", "(") else Member(node, name)
            elif token == ("op", "["):
                self.take()
                index = self.expression(0)
                self.expect("]")
                node = Indexer(node, index)
            else:
                return node

    def arguments(self) -> tuple[Node, ...]:
        self.expect("(")
        args: list[Node] = []
        if self.peek() == ("op", ")"):
            self.take()
            return ()
        while True:
            args.append(self.expression(0))
            _kind, value = self.take()
            if value == ")":
                return tuple(args)
            if value != ",":
                raise FhirPathSyntaxError(f"expected ',' or ')' in {self.text!r}")

    def term(self) -> Node:
        kind, value = self.take()
        if kind == "string":
            return Literal(_unescape(value[1:-1]))
        if kind == "number":
            return Literal(Decimal(value) if "." in value else int(value))
        if kind == "datetime":
            return Literal(value[1:])
        if kind == "var":
            return Variable(value[1:].strip("`'"))
        if kind == "ident":
            if value in ("true", "false"):
                return Literal(value == "true")
            name = value.strip("`")
            if self.peek() == ("op", "("):
                return Call(None, name, self.arguments())
            return Ident(name)
        if value == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if value == "{":
            self.expect("}")
            return Literal(None)
        raise FhirPathSyntaxError(f"unexpected {value!r} in {self.text!r}")


@lru_cache(maxsize=4096)
def parse_fhirpath(text: str) -> Node:
    """The AST of a FHIRPath expression (cached: many SearchParameters share their expressions)."""
    return _Parser(text).parse()


def union_branches(node: Node) -> list[Node]:
    """The operands of a top-level ``a | b | c`` union, in order (a single node otherwise)."""
    if isinstance(node, Binary) and node.op == "|":
        return union_branches(node.left) + union_branches(node.right)
    return [node]
