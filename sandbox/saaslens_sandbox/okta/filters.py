"""Okta's filter / search expression language, enough of it to emulate list endpoints.

Okta list endpoints take SCIM-like expressions in ``filter`` and ``search``
(https://developer.okta.com/docs/api/#filter, https://developer.okta.com/docs/reference/core-okta-api/#filter):
``status eq "ACTIVE"``, ``lastUpdated gt "2024-01-01T00:00:00.000Z"``,
``profile.department eq "Engineering" and (status eq "ACTIVE" or status eq "LOCKED_OUT")``.

Grammar implemented here::

    expr       := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expr ")" | comparison
    comparison := ATTR "pr" | ATTR OP VALUE
    OP         := eq | ne | gt | ge | lt | le | sw | co | ew
    VALUE      := "string" | number | true | false | null

Operators and keywords are case-insensitive. String comparisons are case-insensitive (Okta's
search is, for the properties used here). Values that parse as ISO-8601 timestamps are compared
as instants, so ``lastUpdated gt "2024-01-01T00:00:00Z"`` works whatever the sub-second format.

An unparseable expression, or one that a caller's ``allowed`` policy rejects, raises
:class:`FilterError`; the API turns that into Okta's ``400 E0000031 Invalid search criteria``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew", "pr"})

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<lpar>\() | (?P<rpar>\)) |
      (?P<str>"(?:[^"\\]|\\.)*") |
      (?P<num>-?\d+(?:\.\d+)?(?![\w.])) |
      (?P<word>[A-Za-z_$][\w.$:-]*)
    )""",
    re.VERBOSE,
)


class FilterError(ValueError):
    """The expression cannot be parsed or uses something the endpoint does not support."""


@dataclass(frozen=True)
class Comparison:
    attr: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | BoolOp | Not


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise FilterError("unexpected end of expression")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterError("empty expression")
        node = self.expr()
        if self.peek() is not None:
            raise FilterError(f"unexpected token {self.peek()[1]!r}")
        return node

    def expr(self) -> Node:
        items = [self.term()]
        while self.keyword("or"):
            items.append(self.term())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def term(self) -> Node:
        items = [self.factor()]
        while self.keyword("and"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def factor(self) -> Node:
        if self.keyword("not"):
            return Not(self.factor())
        tok = self.take()
        if tok[0] == "lpar":
            node = self.expr()
            if self.take()[0] != "rpar":
                raise FilterError("missing ')'")
            return node
        if tok[0] != "word":
            raise FilterError(f"expected an attribute name, got {tok[1]!r}")
        attr = tok[1]
        op_tok = self.take()
        op = op_tok[1].lower()
        if op_tok[0] != "word" or op not in OPS:
            raise FilterError(f"unknown operator {op_tok[1]!r}")
        if op == "pr":
            return Comparison(attr, "pr")
        kind, raw = self.take()
        if kind == "str":
            value: Any = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "num":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "word" and raw.lower() in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[raw.lower()]
        else:
            raise FilterError(f"expected a value after {attr} {op}, got {raw!r}")
        return Comparison(attr, op, value)


def parse(text: str) -> Node:
    """Parse an Okta filter/search expression into a small AST (raises FilterError)."""
    return _Parser(text).parse()


def comparisons(node: Node) -> Iterable[Comparison]:
    """Every comparison in the tree, for policy checks (which attributes/operators are used)."""
    if isinstance(node, Comparison):
        yield node
    elif isinstance(node, Not):
        yield from comparisons(node.item)
    else:
        for item in node.items:
            yield from comparisons(item)


def check_allowed(node: Node, allowed: dict[str, set[str]]) -> None:
    """Reject attributes/operators outside ``allowed`` ({attribute: {ops}}); ``not`` is refused too."""

    def walk(n: Node) -> None:
        if isinstance(n, Not):
            raise FilterError("'not' is not supported by this parameter")
        if isinstance(n, BoolOp):
            for item in n.items:
                walk(item)
            return
        ops = allowed.get(n.attr)
        if ops is None:
            raise FilterError(f"attribute {n.attr!r} is not supported by this parameter")
        if n.op not in ops:
            raise FilterError(f"operator {n.op!r} is not supported for {n.attr!r}")

    walk(node)


def parse_instant(value: str) -> int | None:
    """Epoch milliseconds for an ISO-8601 timestamp, or None when ``value`` isn't one."""
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "pr":
        return actual is not None and actual != "" and actual != []
    if actual is None or expected is None:
        if op == "eq":
            return actual is None and expected is None
        if op == "ne":
            return not (actual is None and expected is None)
        return False
    a: Any
    e: Any
    if isinstance(expected, str) and isinstance(actual, str):
        a_ms, e_ms = parse_instant(actual), parse_instant(expected)
        if a_ms is not None and e_ms is not None:
            a, e = a_ms, e_ms
        else:
            a, e = actual.casefold(), expected.casefold()
    elif isinstance(expected, bool | int | float) and isinstance(actual, bool | int | float):
        a, e = actual, expected
    else:
        a, e = str(actual).casefold(), str(expected).casefold()
    try:
        if op == "eq":
            return a == e
        if op == "ne":
            return a != e
        if op == "gt":
            return a > e
        if op == "ge":
            return a >= e
        if op == "lt":
            return a < e
        if op == "le":
            return a <= e
        if op == "sw":
            return isinstance(a, str) and a.startswith(e)
        if op == "co":
            return isinstance(a, str) and e in a
        if op == "ew":
            return isinstance(a, str) and a.endswith(e)
    except TypeError:
        return False
    return False


def evaluate(node: Node, lookup: Callable[[str], Any]) -> bool:
    """Evaluate ``node``; ``lookup(attr)`` returns the value (a list means 'any element matches')."""
    if isinstance(node, Comparison):
        actual = lookup(node.attr)
        if isinstance(actual, list):
            if node.op == "pr":
                return bool(actual)
            return any(_compare(v, node.op, node.value) for v in actual)
        return _compare(actual, node.op, node.value)
    if isinstance(node, Not):
        return not evaluate(node.item, lookup)
    if node.op == "and":
        return all(evaluate(item, lookup) for item in node.items)
    return any(evaluate(item, lookup) for item in node.items)


def dict_lookup(doc: dict[str, Any]) -> Callable[[str], Any]:
    """A lookup over a JSON document: dotted paths, lists fan out (``target.id`` -> every target's id)."""

    def lookup(attr: str) -> Any:
        values: list[Any] = [doc]
        fanned = False
        for part in attr.split("."):
            nxt: list[Any] = []
            for v in values:
                if isinstance(v, list):
                    fanned = True
                    for item in v:
                        if isinstance(item, dict) and part in item:
                            nxt.append(item[part])
                elif isinstance(v, dict) and part in v:
                    nxt.append(v[part])
            values = nxt
        flat: list[Any] = []
        for v in values:
            if isinstance(v, list):
                fanned = True
                flat.extend(v)
            else:
                flat.append(v)
        if fanned:
            return flat
        return flat[0] if flat else None

    return lookup
