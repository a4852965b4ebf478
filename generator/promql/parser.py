"""PromQL expressions: a parser into a small syntax tree, for static checks.

promql.py parses the selectors definitions give; this module parses whole
expressions as the generator writes them into rules and dashboards (and as
people write them in custom dashboards), far enough to know every selector,
range, function, aggregation and its grouping, and binary operator with its
vector matching. Selectors themselves are parsed by promql.parse_selector.
Grafana variables are accepted where Grafana puts them: inside ranges
([$__rate_interval]) and inside strings.
"""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass

from generator.promql.selectors import UTF8_NAMES, Selector, SelectorError, is_valid_label_name, parse_selector

AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                          "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
WITH_PARAMETER = frozenset({"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
LEVELS = (("or",), ("and", "unless"), ("==", "!=", "<=", "<", ">=", ">"), ("+", "-"), ("*", "/", "%", "atan2"))
COMPARISONS = frozenset(LEVELS[2])
SET_OPERATORS = frozenset({"or", "and", "unless"})
_WORD_OPERATORS = frozenset({"or", "and", "unless", "atan2"})

_TOKENS = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)(?![a-zA-Z0-9_:])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<braces>\{(?:[^}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})
  | (?P<range>\[[^\]]*\])
  | (?P<op>==|!=|<=|>=|=~|!~|[-+*/%^<>(),@=])
""", re.VERBOSE)


class PromQLError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class VectorSelector:
    selector: Selector
    text: str             # as written, for messages
    range: str = ""       # "[5m]" for a range selector


@dataclass(frozen=True)
class Literal:            # a number or a string
    text: str
    is_string: bool = False


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Aggregation:
    op: str
    grouping: str | None  # "by", "without" or None
    labels: tuple[str, ...]
    param: object | None
    expr: object


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: object
    rhs: object
    matching: str | None = None           # "on", "ignoring" or None
    matching_labels: tuple[str, ...] = ()
    group: str | None = None              # "group_left", "group_right" or None
    include: tuple[str, ...] = ()
    bool_modifier: bool = False


@dataclass(frozen=True)
class Unary:
    op: str
    expr: object


@dataclass(frozen=True)
class Subquery:
    expr: object
    range: str


Node = VectorSelector | Literal | Call | Aggregation | Binary | Unary | Subquery


def parse_expr(text: str) -> Node:
    return _Parser(text).parse()


def children(node: object) -> tuple[object, ...]:
    """The sub-expressions of a node, in order (None where an optional one is absent)."""
    if isinstance(node, Call):
        return tuple(node.args)
    if isinstance(node, Aggregation):
        return (node.param, node.expr)
    if isinstance(node, Binary):
        return (node.lhs, node.rhs)
    if isinstance(node, (Unary, Subquery)):
        return (node.expr,)
    return ()


def selectors(node: object) -> list[VectorSelector]:
    """Every selector in an expression, in order."""
    if isinstance(node, VectorSelector):
        return [node]
    return [found for child in children(node) if child is not None for found in selectors(child)]


def unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append({"n": "\n", "t": "\t"}.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            raise PromQLError(f"unexpected {text[pos]!r} at offset {pos}")
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup or "", match.group(0), pos, match.end()))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    # --- token helpers -------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def fail(self, message: str) -> PromQLError:
        token = self.peek()
        where = f"at offset {token.start} ({token.text!r})" if token else "at the end"
        return PromQLError(f"{message} {where}")

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.kind == "ident" and token.text.lower() in words

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in ops

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end of expression")
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            raise self.fail(f"expected {op!r}")
        self.i += 1

    # --- grammar -------------------------------------------------------------

    def parse(self) -> Node:
        if not self.tokens:
            raise PromQLError("empty expression")
        node = self.binary(0)
        if self.peek() is not None:
            raise self.fail("unexpected text")
        return node

    def binary_operator(self, level: int) -> str | None:
        token = self.peek()
        if token is None:
            return None
        text = token.text.lower() if token.kind == "ident" else token.text
        if token.kind not in ("op", "ident") or text not in LEVELS[level]:
            return None
        if token.kind == "ident" and text not in _WORD_OPERATORS:
            return None
        return text

    def binary(self, level: int) -> Node:
        if level == len(LEVELS):
            return self.power()
        lhs = self.binary(level + 1)
        while (op := self.binary_operator(level)) is not None:
            self.i += 1
            modifiers = self.modifiers(op)
            lhs = Binary(op, lhs, self.binary(level + 1), **modifiers)
        return lhs

    def power(self) -> Node:
        base = self.unary()
        if self.is_op("^"):
            self.i += 1
            return Binary("^", base, self.power(), **self.modifiers("^"))
        return base

    def modifiers(self, op: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if op in COMPARISONS and self.is_word("bool"):
            self.i += 1
            found["bool_modifier"] = True
        if self.is_word("on", "ignoring"):
            found["matching"] = self.take().text.lower()
            found["matching_labels"] = self.label_list()
        if self.is_word("group_left", "group_right"):
            found["group"] = self.take().text.lower()
            found["include"] = self.label_list() if self.is_op("(") else ()
        return found

    def unary(self) -> Node:
        if self.is_op("-", "+"):
            return Unary(self.take().text, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            token = self.peek()
            if token is not None and token.kind == "range":
                self.i += 1
                if ":" in token.text:
                    node = Subquery(node, token.text)
                elif isinstance(node, VectorSelector) and not node.range:
                    node = VectorSelector(node.selector, node.text, token.text)
                else:
                    raise PromQLError(f"a range {token.text} needs a selector or a subquery at offset {token.start}")
            elif self.is_word("offset"):
                self.i += 1
                if self.is_op("-"):
                    self.i += 1
                if self.take().kind != "duration":
                    raise self.fail("expected a duration after offset")
            elif self.is_op("@"):
                self.i += 1
                token = self.take()
                if token.kind == "ident" and token.text in ("start", "end"):
                    self.expect("(")
                    self.expect(")")
                elif token.kind != "number":
                    raise self.fail("expected a timestamp, start() or end() after @")
            else:
                return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("number", "duration"):
            return Literal(token.text)
        if token.kind == "string":
            return Literal(unquote(token.text), is_string=True)
        if token.kind == "op" and token.text == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if token.kind == "braces" and token.text[1:].lstrip().startswith('"'):
            raise PromQLError(f"{token.text}: a quoted (UTF-8) metric name at offset {token.start}: {UTF8_NAMES}")
        if token.kind == "braces":
            raise PromQLError(f"a selector without a metric name ({token.text}) cannot be checked "
                              f"at offset {token.start}")
        if token.kind != "ident":
            raise PromQLError(f"unexpected {token.text!r} at offset {token.start}")
        name = token.text
        if name.lower() in AGGREGATIONS and (self.is_op("(") or self.is_word("by", "without")):
            return self.aggregation(name.lower())
        if self.is_op("("):
            return Call(name, self.arguments())
        if name.lower() in ("inf", "nan"):
            return Literal(name)
        end = token.end
        following = self.peek()
        if following is not None and following.kind == "braces":
            end = self.take().end
        text = self.text[token.start:end]
        try:
            return VectorSelector(parse_selector(text), text)
        except SelectorError as error:
            raise PromQLError(str(error)) from None

    def arguments(self) -> tuple[Any, ...]:
        self.expect("(")
        args = []
        while not self.is_op(")"):
            args.append(self.binary(0))
            if not self.is_op(")"):
                self.expect(",")
        self.expect(")")
        return tuple(args)

    def grouping(self) -> tuple[str | None, tuple[str, ...]]:
        if self.is_word("by", "without"):
            return self.take().text.lower(), self.label_list()
        return None, ()

    def aggregation(self, op: str) -> Aggregation:
        grouping, labels = self.grouping()
        args = self.arguments()
        if not grouping:
            grouping, labels = self.grouping()
        expected = 2 if op in WITH_PARAMETER else 1
        if len(args) != expected:
            raise PromQLError(f"{op}() takes {expected} argument(s), got {len(args)}")
        return Aggregation(op, grouping, labels, args[0] if expected == 2 else None, args[-1])

    def label_list(self) -> tuple[str, ...]:
        self.expect("(")
        labels = []
        while not self.is_op(")"):
            token = self.take()
            if token.kind == "ident":
                labels.append(token.text)
            elif token.kind == "string" and is_valid_label_name(unquote(token.text)):
                labels.append(unquote(token.text))
            elif token.kind == "string":
                raise PromQLError(f"{token.text}: a quoted (UTF-8) label name at offset {token.start}: {UTF8_NAMES}")
            else:
                raise PromQLError(f"expected a label name, got {token.text!r} at offset {token.start}")
            if not self.is_op(")"):
                self.expect(",")
        self.expect(")")
        return tuple(labels)
