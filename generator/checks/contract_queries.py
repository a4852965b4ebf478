"""Every query in a rendered output tree, with the file and place it is in.

Rules from the plain rule files, target and annotation exprs and query
variables from the Grafana dashboards, and metric names that filter and
transform processors of the collector configs' metrics pipelines refer to.
File locations come from the conventions' path functions.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

import yaml

from generator import conventions as c

RULE_FILES = c.rules_file("*")
DASHBOARD_FILES = c.dashboard_file("*")
COLLECTOR_FILES = c.collector_config_file("*")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)
_OTTL_NAME = re.compile(r"""(?<![\w.])(?:metric\.)?name\s*==\s*"([^"]+)\"""")
_OTTL_NAME_MATCH = re.compile(r"""IsMatch\(\s*(?:metric\.)?name\s*,\s*"([^"]+)"\s*\)""")
METRIC_SECTIONS = ("metrics", "metric_statements")  # of filter and transform processors
METRIC_PROCESSOR_TYPES = ("filter", "transform")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same result, faster when libyaml is there


@dataclass(frozen=True)
class Query:
    path: str
    where: str
    expr: str


@dataclass(frozen=True)
class Rule(Query):
    record: str | None = None        # the recorded series, or None for an alert
    alert: str | None = None
    labels: tuple[tuple[str, str], ...] = ()   # the rule's static labels


@dataclass(frozen=True)
class MetricReference:
    path: str
    where: str
    name: str
    is_regex: bool


def selected(files: dict[str, str], pattern: str) -> list[str]:
    return sorted(path for path in files if fnmatch(path, pattern))


def load(path: str, text: str) -> Any:
    """The parsed file; ValueError naming the file if it does not parse."""
    try:
        return json.loads(text) if path.endswith(".json") else yaml.load(text, Loader=_YAML_LOADER)
    except (ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read: {' '.join(str(error).split())}") from None


def rules(path: str, document: Any) -> list[Rule]:
    found = []
    groups = document.get("groups") if isinstance(document, dict) else None
    for group in groups or []:
        for rule in (group.get("rules") if isinstance(group, dict) else None) or []:
            kind, name = ("record", rule["record"]) if "record" in rule else ("alert", rule.get("alert"))
            found.append(Rule(path, f"{kind} {name}", str(rule.get("expr", "")),
                              record=name if kind == "record" else None, alert=name if kind == "alert" else None,
                              labels=tuple(sorted((str(k), str(v)) for k, v in (rule.get("labels") or {}).items()))))
    return found


def dashboard_queries(path: str, document: Any) -> list[Query]:
    found: list[Query] = []
    _walk_dashboard(path, document, "dashboard", found)
    templating = document.get("templating") if isinstance(document, dict) else None
    for variable in (templating or {}).get("list") or []:
        if not isinstance(variable, dict) or variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else str(query or "")
        where = f"variable {variable.get('name')!r}"
        if match := _LABEL_VALUES.match(query):   # checked as the query it runs: the label on the selector
            found.append(Query(path, where, f"count by ({match.group(2)}) ({match.group(1)})"))
        elif match := _QUERY_RESULT.match(query):
            found.append(Query(path, where, match.group(1)))
    return found


def _walk_dashboard(path: str, node: Any, where: str, found: list[Query]) -> None:
    if isinstance(node, dict):
        if "title" in node and ("targets" in node or "type" in node):
            where = f"panel {node['title']!r}"
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                found.append(Query(path, where, value))
            elif key != "templating":
                _walk_dashboard(path, value, where, found)
    elif isinstance(node, list):
        for item in node:
            _walk_dashboard(path, item, where, found)


def collector_references(path: str, config: Any) -> list[MetricReference]:
    """Metric names the filter/transform processors of metrics pipelines match on."""
    config = config if isinstance(config, dict) else {}
    pipelines = ((config.get("service") or {}).get("pipelines") or {})
    used = sorted({p for name, pipeline in pipelines.items() if name.startswith("metrics")
                   for p in (pipeline or {}).get("processors", [])})
    found: list[MetricReference] = []
    for processor in used:
        if processor.split("/")[0] not in METRIC_PROCESSOR_TYPES:
            continue
        settings = (config.get("processors") or {}).get(processor) or {}
        for section in METRIC_SECTIONS:
            _walk_processor(path, f"processor {processor}", settings.get(section), False, found)
    return found


def _walk_processor(path: str, where: str, node: Any, regexp: bool, found: list[MetricReference]) -> None:
    if isinstance(node, dict):
        regexp = regexp or node.get("match_type") == "regexp"
        for key, value in node.items():
            if key == "metric_names":
                found.extend(MetricReference(path, where, str(name), regexp) for name in value or [])
            else:
                _walk_processor(path, where, value, regexp, found)
    elif isinstance(node, list):
        for item in node:
            _walk_processor(path, where, item, regexp, found)
    elif isinstance(node, str):
        found.extend(MetricReference(path, where, name, False) for name in _OTTL_NAME.findall(node))
        found.extend(MetricReference(path, where, name, True) for name in _OTTL_NAME_MATCH.findall(node))
