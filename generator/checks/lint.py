"""Dashboard lint rules with stable names (after grafana's dashboard-linter and mixtool).

Each finding is (rule, dashboard uid, panel title, message). Exclusions are
documented in docs/dashboards.md, next to each rule.
"""
from __future__ import annotations

from typing import Any, Callable

import re
from dataclasses import dataclass

from generator import conventions as c
from generator.grafana.panels import DATASOURCE, SCHEMA_VERSION

COUNTER_SUFFIXES = ("_total", "_count", "_bucket", "_sum")
RATE_FUNCTIONS = ("rate", "irate", "increase")
NUMERIC_PANELS = ("timeseries", "stat", "table", "gauge", "bargauge")
LEGACY_KEYS = ("span", "height", "step", "intervalFactor", "minSpan", "error", "editable")
LABEL_LISTS = ("by", "without", "on", "ignoring", "group_left", "group_right")
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "rate", "irate", "increase", "histogram_quantile", "time",
    "vector", "label_replace", "clamp_min", "clamp_max", "sum_over_time", "avg_over_time", "abs", "topk",
    "bottomk", "absent", "inf", "nan",
}


@dataclass(frozen=True, order=True)
class Finding:
    rule: str
    dashboard: str
    panel: str
    message: str

    def line(self) -> str:
        return f"{self.rule}: {self.dashboard}: {self.panel}: {self.message}"


def grafana_to_promql(expr: str) -> str:
    """Substitute Grafana variables so promtool can parse the expression."""
    return (expr.replace("$__rate_interval", "5m").replace("${__range}", "1h").replace("$__range", "1h")
            .replace("$__interval", "1m"))


def _scan(expr: str) -> list[tuple[str, tuple[str, ...], str]]:
    """Metric-like identifiers with their enclosing function names and the range after them."""
    found = []
    stack: list[str] = []
    pending = ""
    index = 0
    text = grafana_to_promql(expr)
    strings = re.compile(r'"(?:[^"\\]|\\.)*"')
    text = strings.sub('""', text)
    braces = re.compile(r"\{[^}]*\}")
    text = braces.sub("", text)
    while index < len(text):
        char = text[index]
        if char == "(":
            stack.append(pending)
            pending = ""
            index += 1
            continue
        if char == ")":
            if stack:
                stack.pop()
            index += 1
            continue
        match = IDENT.match(text, index)
        if match and (index == 0 or not text[index - 1].isalnum() and text[index - 1] not in "_."):
            word = match.group(0)
            index = match.end()
            rest = text[index:].lstrip()
            if rest.startswith("("):
                pending = word
                continue
            if word.lower() in PROMQL_WORDS or (stack and stack[-1] in LABEL_LISTS):
                continue
            window = re.match(r"\s*\[([^\]]+)\]", text[index:])
            found.append((word, tuple(stack), window.group(1) if window else ""))
            continue
        pending = "" if not char.isspace() else pending
        index += 1
    return found


def known_metrics(recorded: set[str]) -> set[str]:
    names = {"ALERTS"} | recorded
    for metric, (kind, _) in c.METRIC_LABELS.items():
        names.add(metric)
        if kind == "histogram":
            names.update(metric + suffix for suffix in c.HISTOGRAM_SUFFIXES)
    return names


def lint(boards: list[dict[str, Any]], recorded: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    uids = {b.get("uid") for b in boards}
    metrics = known_metrics(recorded)
    for board in boards:
        uid = str(board.get("uid"))

        def add(rule: str, panel: str, message: str) -> None:
            findings.append(Finding(rule, uid, panel, message))

        if not uid or len(uid) > 40:
            add("uid-present", "-", "uid missing or longer than 40 characters")
        if board.get("schemaVersion") != SCHEMA_VERSION:
            add("schema-version", "-", f"schemaVersion must be {SCHEMA_VERSION}")
        if board.get("editable") is not False:
            add("not-editable", "-", "generated dashboards are read-only (editable: false)")
        if "generated" not in board.get("tags", []):
            add("tag-generated", "-", "tags must include 'generated'")
        variables = board.get("templating", {}).get("list", [])
        if not any(v.get("name") == "datasource" and v.get("type") == "datasource" for v in variables):
            add("template-datasource", "-", "needs a 'datasource' variable of type datasource")
        for link in board.get("links", []):
            target = link.get("url", "")
            if target.startswith("/d/") and target[3:].split("?")[0] not in uids:
                add("link-target", "-", f"links to a dashboard that is not rendered: {target}")
        if uid != c.OVERVIEW_DASHBOARD_UID and not any(
                link.get("url", "").startswith(f"/d/{c.OVERVIEW_DASHBOARD_UID}") for link in board.get("links", [])):
            add("link-overview", "-", "every dashboard links back to the SLO overview")
        for panel in board.get("panels", []):
            _lint_panel(panel, add, metrics)
    return sorted(findings)


def _lint_panel(panel: dict[str, Any], add: Callable[..., None], metrics: set[str]) -> None:
    title = str(panel.get("title") or "<untitled>")
    if not panel.get("title"):
        add("panel-title", title, "every panel needs a title")
    if not panel.get("description"):
        add("panel-description", title, "every panel needs a description for the on-call engineer")
    if panel.get("datasource") != DATASOURCE:
        add("panel-datasource", title, f"panel datasource must be {DATASOURCE}")
    for key in LEGACY_KEYS:
        if key in panel:
            add("no-legacy", title, f"legacy key {key!r}")
    targets = panel.get("targets") or []
    if not targets:
        add("panel-targets", title, "a panel without queries shows nothing")
    if panel.get("type") in NUMERIC_PANELS and not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
        add("panel-units", title, "numeric panels need a unit")
    for step in panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", []):
        if step.get("value") == "null":
            add("no-legacy", title, "threshold step with the string 'null'")
    for target in targets:
        if target.get("datasource") != DATASOURCE:
            add("target-datasource", title, f"target datasource must be {DATASOURCE}")
        expr = target.get("expr", "")
        for metric, enclosing, window in _scan(expr):
            if metric not in metrics:
                add("metric-known", title, f"{metric!r} is neither a contract metric nor a recorded series")
                continue
            raw = not metric.startswith(c.RECORDED_PREFIX) and metric != "ALERTS"
            if raw and metric.endswith(COUNTER_SUFFIXES) and not set(enclosing) & set(RATE_FUNCTIONS):
                add("counter-rate", title, f"counter {metric} must be wrapped in rate() or increase()")
            if raw and window and set(enclosing) & {"rate", "irate"} and "$__rate_interval" not in expr \
                    and window not in ("1h", "1d"):
                add("rate-interval", title, f"rate over raw {metric} must use $__rate_interval (or 1h+ for sparse events)")
