"""PromQL instant-vector selectors: parse, validate, render.

Definitions give SLI sources as selectors (``metric{label="value"}``); the
generator wraps them in rate()/sum() itself, so only the selector grammar is
accepted here. Everything else would be a PromQL fragment we cannot reason
about (or test-generate series for).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator.model.re2check import fullmatch, re2_problem

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
OPERATORS = ("=~", "!~", "!=", "=")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


class SelectorError(ValueError):
    pass


_QUOTED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def quote(value: str) -> str:
    """A PromQL (and promtool series) string literal of any label value: the one place values are quoted."""
    if not _NEEDS_ESCAPE.search(value):   # most values: nothing to escape, no loop over characters
        return '"' + value + '"'
    out = []
    for char in value:
        if char in _QUOTED:
            out.append(_QUOTED[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def labels_text(labels: dict[str, str]) -> str:
    """`{a="1", b="2"}` (sorted), or nothing for no labels."""
    if not labels:
        return ""
    return "{" + ", ".join(f"{name}={quote(value)}" for name, value in sorted(labels.items())) + "}"


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = fullmatch(self.value, value)
        return found if self.op == "=~" else not found

    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = ()

    def render(self) -> str:
        if not self.matchers:
            return self.metric
        return self.metric + "{" + ", ".join(m.render() for m in self.matchers) + "}"

    def with_metric(self, metric: str) -> "Selector":
        return Selector(metric, self.matchers)

    def with_matcher(self, label: str, op: str, value: str) -> "Selector":
        kept = tuple(m for m in self.matchers if m.label != label)
        return Selector(self.metric, kept + (Matcher(label, op, value),))

    def equality_labels(self) -> dict[str, str]:
        return {m.label: m.value for m in self.matchers if m.op == "="}

    def matches(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels.get(m.label, "")) for m in self.matchers)


UTF8_NAMES = ("Prometheus 3 reads those, 2.x does not, and the metric contract declares the names Prometheus "
              "stores (OTLP and the collector's exporters write http.server.request.duration as "
              "http_server_request_duration_seconds); give that name")


def parse_selector(text: object) -> Selector:
    if not isinstance(text, str):
        raise SelectorError(f"expected a selector string, got {text!r}")
    parser = _Parser(text)
    selector = parser.selector()
    return selector


def is_valid_label_name(name: object) -> bool:
    return isinstance(name, str) and LABEL_NAME.fullmatch(name) is not None and not name.startswith("__")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> SelectorError:
        return SelectorError(f"{self.text!r} is not a valid PromQL selector: {message} at offset {self.pos}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def name(self, pattern: re.Pattern[str], what: str) -> str:
        self.skip_space()
        match = pattern.match(self.text, self.pos)
        quoted_name = self.text.startswith('"', self.pos) or (
            what == "a metric name" and self.text[self.pos:self.pos + 1] == "{"
            and self.text[self.pos + 1:].lstrip().startswith('"'))
        if match is None and quoted_name:
            raise self.fail(f"a quoted (UTF-8) name where {what} goes: {UTF8_NAMES}")
        if match is None and what == "a metric name" and self.text.startswith("{", self.pos):
            raise self.fail("give the metric name before the braces (name{label=\"value\"})")
        if match is None:
            raise self.fail(f"expected {what}")
        self.pos = match.end()
        return match.group(0)

    def selector(self) -> Selector:
        metric = self.name(METRIC_NAME, "a metric name")
        matchers: list[Matcher] = []
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == "{":
            self.pos += 1
            matchers = self.matchers()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the selector")
        labels = [m.label for m in matchers]
        if len(set(labels)) != len(labels):
            raise self.fail("a label is matched twice")
        return Selector(metric, tuple(matchers))

    def matchers(self) -> list[Matcher]:
        found: list[Matcher] = []
        while True:
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == "}":
                self.pos += 1
                return found
            label = self.name(LABEL_NAME, "a label name")
            if label == "__name__":
                raise self.fail("give the metric name before the braces, not as __name__")
            self.skip_space()
            op = next((o for o in OPERATORS if self.text.startswith(o, self.pos)), None)
            if op is None:
                raise self.fail("expected one of = != =~ !~")
            self.pos += len(op)
            value = self.string()
            if op in ("=~", "!~"):
                trouble = re2_problem(value)
                if trouble:
                    raise self.fail(f"bad regular expression {value!r}: {trouble} (Prometheus runs RE2: no "
                                    "lookaround, backreference, atomic or possessive groups)")
            found.append(Matcher(label, op, value))
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
            elif not (self.pos < len(self.text) and self.text[self.pos] == "}"):
                raise self.fail("expected ',' or '}'")

    def string(self) -> str:
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] not in "\"'":
            raise self.fail("expected a quoted label value")
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                nxt = self.text[self.pos + 1 : self.pos + 2]
                if nxt not in _ESCAPES:
                    raise self.fail(f"unknown escape \\{nxt}")
                out.append(_ESCAPES[nxt])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")
