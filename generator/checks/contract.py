"""The metric contract check: every query in the rendered output selects
series that exist, with the type and the labels it assumes.

    problems = check_contract(files, contract_exposition())   # [] when it holds

For each selector in the rule files, the dashboards and the collector
configs' metric processors:
- a source metric must be in the helpers' exposition (or be a span metric
  every collector config derives); _bucket/_count/_sum need a histogram,
  _total a counter; rate()/increase() over a gauge and delta()/deriv() over a
  counter are refused;
- a recorded series (a name with ':') must be recorded by a rule of the output;
  ALERTS and ALERTS_FOR_STATE exist as Prometheus makes them;
- label names in matchers, by/without, on/ignoring, group_left/right,
  histogram_quantile (le) and label_replace must exist on the series (label
  sets are carried through aggregations, functions and binary operators, and
  through recording rules); a bounded label matched against a value the
  conventions do not allow never matches and is refused.
A problem reads "<out path>: <selector>: <what is wrong> (<rule or panel>)".
"""
from __future__ import annotations

from typing import Any, Iterable

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from generator import conventions as c
from generator.checks import contract_queries as q
from generator.checks import contract_series as s
from generator.promql.selectors import Matcher
from generator.promql.parser import (SET_OPERATORS, Aggregation, Binary, Call, Literal, PromQLError, Subquery, Unary,
                          VectorSelector, parse_expr, selectors)

ALERT_SERIES = ("ALERTS", "ALERTS_FOR_STATE")
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})
GAUGE_FUNCTIONS = frozenset({"delta", "idelta", "deriv", "predict_linear"})
SCALAR_FUNCTIONS = frozenset({"time", "scalar", "pi"})
UNLABELLED_FUNCTIONS = frozenset({"vector", "absent", "absent_over_time"})
KEEPS_INPUT_LABELS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})
# Functions over native histograms: they return floats, and a classic series gives them nothing.
NATIVE_FUNCTIONS = frozenset({"histogram_count", "histogram_sum", "histogram_avg", "histogram_fraction",
                              "histogram_stddev", "histogram_stdvar"})
# Functions and aggregations that keep histogram samples histograms.
KEEPS_HISTOGRAMS = frozenset({"rate", "increase", "irate", "delta", "idelta", "sum", "avg", "sum_over_time",
                              "avg_over_time", "last_over_time"})


@dataclass(frozen=True)
class Info:
    labels: frozenset[str] | None     # None: not known
    scalar: bool = False
    native: bool = False              # native histogram samples (no `le`; histogram_* functions read them)


UNKNOWN = Info(None)
SCALAR = Info(frozenset(), scalar=True)


def read_rendered(folder: Path) -> dict[str, str]:
    """A rendered output folder as {relative path: text}."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def check_contract(files: dict[str, str], exposition: str, *, root: str = "out",
                   checked: dict[str, int] | None = None, declared: tuple[Any, ...] = ()) -> list[str]:
    """Problems of the rendered files against the helpers' exposition text; [] if none.

    A tree with no query to check is a problem (fail-closed). checked, if
    given, is filled with what was checked ({"queries": n, "selectors": n}).
    """
    check = _Check(files, exposition, root, declared)
    problems = check.run()
    if checked is not None:
        for what, n in check.checked.items():
            checked[what] = checked.get(what, 0) + n
    return problems


class _Check:
    def __init__(self, files: dict[str, str], exposition: str, root: str, declared: tuple[Any, ...] = ()):
        self.root = root
        self.declared = {name: metric for metric in declared for name in metric.series_names()}
        self.problems: list[str] = []
        self.documents = {}
        for pattern in (q.RULE_FILES, q.DASHBOARD_FILES, q.COLLECTOR_FILES):
            for path in q.selected(files, pattern):
                try:
                    self.documents[path] = q.load(path, files[path])
                except ValueError as error:
                    self.problems.append(f"{root}/{error}")
        self.series = s.prometheus_series()
        self.series.update(s.native_histograms())
        self.series.update(s.declared_series(declared))
        self.series.update(s.from_exposition(exposition))
        self.span_series = {path: s.span_metrics(path, self.documents.get(path) or {})
                            for path in q.selected(files, q.COLLECTOR_FILES)}
        self.rules = [rule for path in q.selected(files, q.RULE_FILES)
                      for rule in q.rules(path, self.documents.get(path))]
        self.records: dict[str, list[q.Rule]] = {}
        for rule in self.rules:
            if rule.record:
                self.records.setdefault(rule.record, []).append(rule)
        self.rule_results: dict[int, tuple[Info, list[str]]] = {}
        self.query: q.Query | None = None
        self.sink: list[str] = self.problems
        self.checked = {"queries": 0, "selectors": 0}

    # --- driving -------------------------------------------------------------

    def run(self) -> list[str]:
        for rule in self.rules:
            self.problems.extend(self.rule_result(rule)[1])
        for path in q.selected(self.documents, q.DASHBOARD_FILES):
            for query in q.dashboard_queries(path, self.documents[path]):
                self.problems.extend(self.analyse(query)[1])
        for path in q.selected(self.documents, q.COLLECTOR_FILES):
            for reference in q.collector_references(path, self.documents[path]):
                self.check_reference(reference)
        if not self.checked["queries"]:
            self.problems.append(f"{self.root}/: no query in {q.RULE_FILES} or {q.DASHBOARD_FILES}: "
                                 "the metric contract cannot be checked")
        return list(dict.fromkeys(self.problems))

    def rule_result(self, rule: q.Rule) -> tuple[Info, list[str]]:
        if id(rule) not in self.rule_results:
            self.rule_results[id(rule)] = (UNKNOWN, [])   # a rule that reads itself: labels unknown
            self.rule_results[id(rule)] = self.analyse(rule)
        return self.rule_results[id(rule)]

    def analyse(self, query: q.Query) -> tuple[Info, list[str]]:
        outer, outer_sink = self.query, self.sink
        self.query, self.sink = query, []
        self.checked["queries"] += 1
        try:
            info = self.info(parse_expr(query.expr))
        except PromQLError as error:
            self.report(" ".join(query.expr.split())[:120], f"cannot be parsed: {error}")
            info = UNKNOWN
        found = self.sink
        self.query, self.sink = outer, outer_sink
        return info, found

    def report(self, subject: str, message: str) -> None:
        assert self.query is not None, "report() is called while a query is analysed"
        self.sink.append(f"{self.root}/{self.query.path}: {subject}: {message} ({self.query.where})")

    # --- label sets of expressions -------------------------------------------

    def info(self, node: object) -> Info:
        if isinstance(node, VectorSelector):
            return self.selector(node)
        if isinstance(node, Literal):
            return SCALAR
        if isinstance(node, (Unary, Subquery)):
            return self.info(node.expr)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Aggregation):
            return self.aggregation(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise AssertionError(f"unknown node {node!r}")

    def subject(self, node: object) -> str:
        found = selectors(node)
        return ", ".join(dict.fromkeys(sel.text for sel in found)) if found else "expression"

    def require(self, node: object, labels: Iterable[str], info: Info, clause: str) -> None:
        if info.labels is None:
            return
        for label in labels:
            if label not in info.labels:
                self.report(self.subject(node), f"{clause}: label {label} is not on these series "
                                                f"(labels: {', '.join(sorted(info.labels)) or 'none'})")

    def call(self, node: Call) -> Info:
        infos = [self.info(arg) for arg in node.args]
        name, args = node.function, node.args
        first = args[0] if args else None
        if name in RATE_FUNCTIONS | GAUGE_FUNCTIONS and isinstance(first, VectorSelector):
            kind = self.kind(first.selector.metric)
            if name in RATE_FUNCTIONS and kind == "gauge":
                self.report(first.text, f"{name}() over a gauge is suspicious: {name}() is for counters")
            if name in GAUGE_FUNCTIONS and kind == "counter":
                self.report(first.text, f"{name}() over a counter is wrong: use rate() or increase()")
        if name in SCALAR_FUNCTIONS:
            return SCALAR
        if name in UNLABELLED_FUNCTIONS:
            return Info(frozenset())
        if name == "histogram_quantile" and len(args) == 2:
            if infos[1].native:
                return Info(infos[1].labels)
            self.require(args[1], ("le",), infos[1], "histogram_quantile()")
            return Info(None if infos[1].labels is None else infos[1].labels - {"le"})
        if name in NATIVE_FUNCTIONS and args:
            histogram = infos[-1]
            if not histogram.native and histogram.labels is not None and not histogram.scalar:
                self.report(self.subject(args[-1]), f"{name}() reads native histograms; these series are "
                                                    "floats (a classic histogram's series?)")
            return Info(histogram.labels)
        strings = [arg.text for arg in args if isinstance(arg, Literal) and arg.is_string]
        if name in ("label_replace", "label_join") and infos and len(strings) >= 2:
            sources = [strings[2]] if name == "label_replace" and len(strings) > 2 else strings[2:]
            self.require(first, [label for label in sources if label], infos[0], f"{name}()")
            return Info(None if infos[0].labels is None else infos[0].labels | {strings[0]})
        if name.startswith("sort_by_label") and infos:
            self.require(first, strings, infos[0], f"{name}()")
        vectors = [info for info in infos if not info.scalar]
        if not vectors:
            return SCALAR
        return vectors[0] if name in KEEPS_HISTOGRAMS else Info(vectors[0].labels)

    def aggregation(self, node: Aggregation) -> Info:
        if node.param is not None:
            self.info(node.param)
        inner = self.info(node.expr)
        if node.grouping:
            self.require(node.expr, node.labels, inner, f"{node.op} {node.grouping} ({', '.join(node.labels)})")
        extra = {node.param.text} if node.op == "count_values" and isinstance(node.param, Literal) else set()
        if node.op in KEEPS_INPUT_LABELS:
            return inner
        native = inner.native and node.op in KEEPS_HISTOGRAMS
        if node.grouping == "without":
            return Info(None if inner.labels is None else inner.labels - set(node.labels), native=native)
        return Info(frozenset(node.labels if node.grouping == "by" else ()) | extra, native=native)

    def binary(self, node: Binary) -> Info:
        lhs, rhs = self.info(node.lhs), self.info(node.rhs)
        if lhs.scalar and rhs.scalar:
            return SCALAR
        if lhs.scalar or rhs.scalar:
            return rhs if lhs.scalar else lhs
        clause = f"{node.matching} ({', '.join(node.matching_labels)})"
        if node.matching == "on":
            self.require(node.lhs, node.matching_labels, lhs, clause)
            self.require(node.rhs, node.matching_labels, rhs, clause)
        elif node.matching == "ignoring" and lhs.labels is not None and rhs.labels is not None:
            self.require(node, node.matching_labels, Info(lhs.labels | rhs.labels), clause)
        if node.op in SET_OPERATORS:
            if node.op != "or":
                return lhs
            return UNKNOWN if lhs.labels is None or rhs.labels is None else Info(lhs.labels | rhs.labels)
        if node.group:
            many, one, one_node = (lhs, rhs, node.rhs) if node.group == "group_left" else (rhs, lhs, node.lhs)
            self.require(one_node, node.include, one, f"{node.group} ({', '.join(node.include)})")
            return Info(None if many.labels is None else many.labels | set(node.include))
        if node.matching == "on":
            return Info(frozenset(node.matching_labels))
        return Info(None if lhs.labels is None else lhs.labels - set(node.matching_labels))

    # --- selectors -----------------------------------------------------------

    def kind(self, metric: str) -> str | None:
        series = self.series.get(metric) or next(
            (found[metric] for found, _ in self.span_series.values() if metric in found), None)
        return series.kind if series else None

    def selector(self, node: VectorSelector) -> Info:
        self.checked["selectors"] += 1
        metric = node.selector.metric
        native = False
        if metric in ALERT_SERIES:
            labels = self.alert_labels(metric)
        elif ":" in metric or metric in self.records:
            if metric not in self.records:
                self.report(node.text, "a recorded series, but no rule of the rendered output records it")
                return UNKNOWN
            labels = self.record_labels(metric, node.selector.matchers)
        else:
            series = self.source_series(node)
            if series is None:
                return UNKNOWN
            labels = series.labels
            native = series.kind == s.NATIVE_HISTOGRAM
        for matcher in node.selector.matchers:
            absent_test = matcher.op == "=" and matcher.value == ""
            if labels is not None and matcher.label not in labels and not absent_test:
                self.report(node.text, f"label {matcher.label} is not on {metric} "
                                       f"(labels: {', '.join(sorted(labels)) or 'none'})")
            self.check_value(node, matcher)
        return Info(labels, native=native)

    def source_series(self, node: VectorSelector) -> s.Series | None:
        metric = node.selector.metric
        series = self.series.get(metric)
        if series is None:
            series = self.span_metric(node)
            if series is None:
                return None
        if series.labels is None:
            self.report(node.text, f"{series.origin} has no sample of {metric} to read its labels from: "
                                   "run every helper once before taking the exposition")
            return None
        if metric.endswith(s.HISTOGRAM_PARTS) and series.kind not in ("histogram", "summary"):
            self.report(node.text, f"a {metric[metric.rfind('_'):]} selector needs a histogram; "
                                   f"{series.family} is a {series.kind}")
        if metric.endswith("_total") and series.kind != "counter":
            self.report(node.text, f"a _total selector needs a counter; {series.family} is a {series.kind}")
        return series

    def span_metric(self, node: VectorSelector) -> s.Series | None:
        metric = node.selector.metric
        having = [path for path, (found, _) in self.span_series.items() if metric in found]
        lacking = [path for path in self.span_series if path not in having]
        if not having:
            self.report(node.text, f"not in the helpers' exposition nor declared{self.hint(metric)}; an exporter's "
                                   f"or a service's metric is declared in the definitions: METRICS = [Metric("
                                   f"{re.sub(r'(_bucket|_count|_sum)$', '', metric)!r}, <type>, labels={{...}}, "
                                   "source=...)] (docs/metrics.md)")
            return None
        for path in lacking:
            notes = "; ".join(self.span_series[path][1])
            self.report(node.text, f"a span metric of {', '.join(f'{self.root}/{p}' for p in having)} "
                                   f"but not of {self.root}/{path}"
                                   + (f" ({notes})" if notes else ""))
        return self.span_series[having[0]][0][metric]

    def hint(self, metric: str) -> str:
        known = set(self.series) | {name for found, _ in self.span_series.values() for name in found}
        base = re.sub(r"(_bucket|_count|_sum|_total)$", "", metric)
        family = next((x for x in sorted(known) if self.series.get(x) and self.series[x].family == base), None)
        if family:
            return f": {base} is a {self.series[family].kind}, exposed as {family}"
        close = difflib.get_close_matches(metric, sorted(known), n=1, cutoff=0.8)
        return f" (did you mean {close[0]}?)" if close else ""

    def check_value(self, node: VectorSelector, matcher: Matcher) -> None:
        base = re.sub(r"(_bucket|_count|_sum)$", "", node.selector.metric)
        allowed = (c.METRIC_LABELS.get(base) or c.METRIC_LABELS.get(node.selector.metric) or ("", {}))[1].get(
            matcher.label)
        declaration = self.declared.get(node.selector.metric)
        if declaration is not None:
            allowed = declaration.bounded_values(matcher.label)
        if not allowed or matcher.value == "":
            return
        if "$" in matcher.value:  # a Grafana variable
            return
        positive = Matcher(matcher.label, {"!=": "=", "!~": "=~"}.get(matcher.op, matcher.op), matcher.value)
        if not any(positive.matches(value) for value in allowed):
            effect = "never matches" if matcher.op in ("=", "=~") else "excludes nothing"
            self.report(node.text, f"{matcher.render()} {effect}: {matcher.label} takes only "
                                   f"{', '.join(allowed)}")

    # --- series made by rules ------------------------------------------------

    def record_labels(self, metric: str, matchers: Iterable[Matcher] = ()) -> frozenset[str] | None:
        """Labels of a recorded series: of the rules recording it that the matchers can select."""
        rules = self.records[metric]
        return self.rules_labels([rule for rule in rules if self.can_match(rule, matchers)] or rules, set())

    def alert_labels(self, metric: str) -> frozenset[str] | None:
        """Labels of ALERTS (ALERTS_FOR_STATE): of every alert, as panels list alerts of all kinds."""
        base = {"alertname"} | ({"alertstate"} if metric == "ALERTS" else set())
        return self.rules_labels([rule for rule in self.rules if rule.alert], base)

    def rules_labels(self, rules: list[q.Rule], labels: set[str]) -> frozenset[str] | None:
        for rule in rules:
            info = self.rule_result(rule)[0]
            if info.labels is None:
                return None
            labels |= info.labels | {key for key, _ in rule.labels}
        return frozenset(labels)

    def can_match(self, rule: q.Rule, matchers: Iterable[Matcher]) -> bool:
        static, inferred = dict(rule.labels), self.rule_result(rule)[0].labels
        for matcher in matchers:
            if matcher.label in static:
                value = static[matcher.label]
            elif inferred is None or matcher.label in inferred:
                continue
            else:
                value = ""
            if not matcher.matches(value):
                return False
        return True

    # --- collector processors ------------------------------------------------

    def check_reference(self, reference: q.MetricReference) -> None:
        names = set(self.series) | {series.family for series in self.series.values()}
        names |= {name for found, _ in self.span_series.values() for name in found}
        names |= {name.replace("_", ".") for name in set(names)}
        found = (any(re.fullmatch(reference.name, name) for name in names) if reference.is_regex
                 else reference.name in names)
        if not found:
            self.problems.append(f"{self.root}/{reference.path}: {reference.name}: a metric name "
                                 f"{reference.where} matches on, but no exposed metric has it")
