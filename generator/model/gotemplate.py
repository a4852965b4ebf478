"""Prometheus alert templates (Go text/template) in generated rules.

Alert labels and annotations are Go templates: Prometheus expands them for
every firing alert, and a broken one makes it refuse the whole rule group.
User text reaches them in two ways:

- as **plain text** (an SLO's description, every label value): `literal()`
  escapes it, so Prometheus prints it exactly as written, braces and all;
- as a **template** (an invariant's summary and description, documented as
  such): `problems()` parses it against the small subset below and checks that
  every `$labels.x` is a label the alert's expression returns.

The subset: text, and actions `{{ $labels.NAME }}`, `{{ $value }}`, each
optionally piped through one formatting function (`{{ $value | humanize }}`),
and string literals (`{{ "{{" }}`, how `literal()` writes braces).

`expand()` renders that subset the way Prometheus does, for the exact
annotations and labels the generated promtool tests expect.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

FUNCTIONS = ("humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
             "toUpper", "toLower", "title")
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_LABEL = re.compile(r"^(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)$")
_VALUE = re.compile(r"^(?:\$value|\.Value)$")
_GO_STRING = re.compile(r'^"((?:[^"\\\n]|\\.)*)"$|^`([^`]*)`$')
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "a": "\a", "b": "\b", "f": "\f",
               "v": "\v"}
OPEN = "{{"
_OPEN_LITERAL = '{{ "{{" }}'


class TemplateError(ValueError):
    pass


def literal(text: str) -> str:
    """Text that a Go template prints exactly as given."""
    return text.replace(OPEN, _OPEN_LITERAL)


@dataclass(frozen=True)
class _Action:
    source: str               # the whole {{ ... }}
    literal: str | None       # a string literal's value
    label: str | None         # $labels.NAME
    value: bool               # $value
    function: str | None


def _unquote(body: str) -> str | None:
    match = _GO_STRING.match(body)
    if match is None:
        return None
    if match.group(2) is not None:
        return match.group(2)
    out, i, raw = [], 0, match.group(1)
    while i < len(raw):
        if raw[i] == "\\":
            escaped = raw[i + 1]
            if escaped not in _GO_ESCAPES:
                raise TemplateError(f"unsupported escape \\{escaped} in {body}")
            out.append(_GO_ESCAPES[escaped])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _action(source: str, body: str) -> _Action:
    text = body.strip()
    if text.startswith("-") or text.endswith("-"):
        raise TemplateError(f"{source}: trim markers ({{{{- -}}}}) are not supported")
    quoted = _unquote(text)
    if quoted is not None:
        return _Action(source, quoted, None, False, None)
    parts = [part.strip() for part in text.split("|")]
    if len(parts) > 2:
        raise TemplateError(f"{source}: at most one function may follow the value")
    operand, function = parts[0], (parts[1] if len(parts) == 2 else None)
    if function is not None and function not in FUNCTIONS:
        raise TemplateError(f"{source}: {function!r} is not one of {', '.join(FUNCTIONS)}")
    label = _LABEL.match(operand)
    if label is not None:
        return _Action(source, None, label.group(1), False, function)
    if _VALUE.match(operand):
        return _Action(source, None, None, True, function)
    raise TemplateError(f"{source}: only {{{{ $labels.NAME }}}} and {{{{ $value }}}} (optionally with "
                        f"| {FUNCTIONS[0]} or another formatting function) are supported")


@functools.lru_cache(maxsize=65536)   # the same label values and annotations, expanded for many checks
def _parse(text: str) -> tuple[str | _Action, ...]:
    parts: list[str | _Action] = []
    position = 0
    for match in _ACTION.finditer(text):
        parts.append(text[position:match.start()])
        parts.append(_action(match.group(0), match.group(1)))
        position = match.end()
    rest = text[position:]
    if OPEN in rest:
        raise TemplateError(f"unclosed {{{{ in {rest[rest.index(OPEN):][:40]!r}: write braces as "
                            f"{_OPEN_LITERAL} or close the action")
    parts.append(rest)
    return tuple(parts)


def problems(text: str, labels: tuple[str, ...]) -> list[str]:
    """What is wrong with a user's template whose alert has exactly these expression labels."""
    try:
        parts = _parse(text)
    except TemplateError as error:
        return [str(error)]
    found = []
    for part in parts:
        if isinstance(part, _Action) and part.label is not None and part.label not in labels:
            known = ", ".join(labels) or "none: add it to `by`"
            found.append(f"{part.source}: the alert has no label {part.label!r} (its labels: {known})")
    return found


def expand(text: str, labels: dict[str, str], value: str) -> str:
    """The text Prometheus renders; `value` stands for `$value` with its function applied."""
    parts = _parse(text)
    if len(parts) == 1:   # no action: the text itself
        return text
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.literal is not None:
            out.append(part.literal)
        elif part.label is not None:
            if part.function is not None:
                raise TemplateError(f"{part.source}: cannot predict {part.function} of a label")
            out.append(labels.get(part.label, ""))
        else:
            out.append(value)
    return "".join(out)
