"""A small PromQL expression builder: the rules' expressions are built from these, not from f-strings.

Each function returns an `Expr`, whose text is the expression laid out the way the generated rules
show it (one operator per line where an expression is long, two-space indents inside a call written
as a block). Selectors come from `promql.Selector`; anything else given as an operand (a number, a
recorded series' name) is taken as written.

    ratio = binary(sum_over_time(bad, "1h"), "/", call("clamp_min", sum_over_time(total, "1h"), "1e-9"),
                   lines=True)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

from generator import conventions as c
from generator.promql.selectors import Selector

INDENT = "  "


@dataclass(frozen=True)
class Expr:
    """A PromQL expression as text."""

    text: str

    def __str__(self) -> str:
        return self.text


Operand = Union[Expr, Selector, str, int, float]


def expr(value: Operand) -> Expr:
    """Any operand as an expression: a selector rendered, a number or a name as written."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, Selector):
        return Expr(value.render())
    return Expr(str(value))


def of_slo(record: str, slo: str) -> Expr:
    """A series the generator records, of one SLO: `record{slo="name"}`."""
    return Expr(record + c.slo_matcher(slo))


def _indented(value: Operand) -> str:
    return INDENT + expr(value).text.replace("\n", "\n" + INDENT)


def call(function: str, *args: Operand) -> Expr:
    """`function(a, b)` on one line (arguments keep their own line breaks)."""
    return Expr(f"{function}({', '.join(expr(a).text for a in args)})")


def block(function: str, *args: Operand) -> Expr:
    """`function(` then each argument indented on its own lines, then `)`."""
    return Expr(f"{function}(\n" + ",\n".join(_indented(a) for a in args) + "\n)")


def ranged(value: Operand, window: str, offset: str = "") -> Expr:
    """`x[window]`, with `offset` after it when given."""
    return Expr(f"{expr(value).text}[{window}]" + (f" offset {offset}" if offset else ""))


def subquery(value: Operand, window: str, step: str) -> Expr:
    """`x[window:step]`: x evaluated at every multiple of `step` (since the epoch) in the window."""
    return Expr(f"{expr(value).text}[{window}:{step}]")


def rate(value: Operand, window: str) -> Expr:
    return call("rate", ranged(value, window))


def increase(value: Operand, window: str) -> Expr:
    return call("increase", ranged(value, window))


def over_time(function: str, value: Operand, window: str) -> Expr:
    """`<function>_over_time(x[window])`: sum, avg, last, ..."""
    return call(f"{function}_over_time", ranged(value, window))


def grouping(labels: Iterable[str]) -> str:
    return f"({', '.join(labels)})"


def aggregate(operator: str, value: Operand, by: Iterable[str] = (), spaced: bool = False) -> Expr:
    """`sum by (a, b) (x)`; without labels `sum(x)`, or `sum (x)` when `spaced`."""
    labels = tuple(by)
    if labels:
        return Expr(f"{operator} by {grouping(labels)} ({expr(value).text})")
    return Expr(f"{operator}{' ' if spaced else ''}({expr(value).text})")


def paren(value: Operand) -> Expr:
    return Expr(f"({expr(value).text})")


def binary(lhs: Operand, operator: str, rhs: Operand, lines: bool = False, modifier: str = "",
           wrap: bool = False) -> Expr:
    """`lhs op rhs`. `modifier`: `bool`, `on (a)`, `ignoring (a)`, ... after the operator. `lines`: the
    operator on a line of its own between the operands; `wrap`: the operator starts the right operand's
    line (`lhs\\n/ rhs`)."""
    op = f"{operator} {modifier}" if modifier else operator
    left, right = expr(lhs).text, expr(rhs).text
    if lines:
        return Expr(f"{left}\n{op}\n{right}")
    if wrap:
        return Expr(f"{left}\n{op} {right}")
    return Expr(f"{left} {op} {right}")


def on(labels: Iterable[str]) -> str:
    return f"on {grouping(labels)}"


def ignoring(labels: Iterable[str]) -> str:
    return f"ignoring {grouping(labels)}"
