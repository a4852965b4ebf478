"""Telemetry pipeline definitions: what KFM services send, and how each
environment samples, redacts and exports it. Rendered by collector.py."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import conventions as c
from .problems import Collector, caller_file

ENV_VAR = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
K8S_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_.]*$")
SIGNALS = ("traces", "metrics", "logs")


@dataclass(frozen=True)
class Environment:
    """One deployment environment of the collector."""

    name: str
    trace_sampling_percent: float        # share of ordinary traces kept (errors and slow ones always are)
    debug_exporter: bool = False         # also print telemetry to the collector's log
    memory_limit_percent: int = 80
    pages: bool = False                  # page alerts reach the pager here (else they become tickets)
    namespace: str = "kfm-observability"  # where the overlay puts every object
    # Labels the environment's Prometheus selects rules by (its ruleSelector).
    rule_selector: tuple[tuple[str, str], ...] = (("prometheus", "kfm"),)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_selector", tuple(sorted(dict(self.rule_selector).items())))


@dataclass(frozen=True)
class Telemetry:
    services: tuple[str, ...]            # service.name of every KFM service that sends telemetry
    red_services: tuple[str, ...]        # services whose spans become span metrics (RED)
    slow_trace_services: tuple[str, ...]  # services whose slow traces are always kept
    slow_trace_ms: int
    delete_attributes: tuple[str, ...]   # removed everywhere before any exporter
    hash_attributes: tuple[str, ...]     # replaced by their hash (generalized) before any exporter
    environments: tuple[Environment, ...]
    blocked_value_patterns: tuple[str, ...] = ()  # values masked wherever they appear (e.g. emails)
    span_metrics_cardinality_limit: int = 2000
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("services", "red_services", "slow_trace_services", "delete_attributes",
                     "hash_attributes", "environments", "blocked_value_patterns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("telemetry", "kfm", self.defined_in)
        p.check(bool(self.services), "services", "name the services that send telemetry")
        for where in ("red_services", "slow_trace_services"):
            unknown = set(getattr(self, where)) - set(self.services)
            p.check(not unknown, where, f"not in services: {', '.join(sorted(unknown))}")
        for where in ("delete_attributes", "hash_attributes"):
            for key in getattr(self, where):
                p.check(ATTRIBUTE.match(key) is not None, where, f"{key!r} is not an attribute name")
                p.check(key not in c.CORRELATION_IDS, where,
                        f"{key!r} is a correlation ID: it must survive on spans and logs")
        overlap = set(self.delete_attributes) & set(self.hash_attributes)
        p.check(not overlap, "hash_attributes", f"also deleted: {', '.join(sorted(overlap))}")
        p.check(self.slow_trace_ms > 0, "slow_trace_ms", "a latency threshold above 0")
        p.check(self.span_metrics_cardinality_limit > 0, "span_metrics_cardinality_limit", "above 0")
        names = [e.name for e in self.environments]
        p.check(sorted(names) == sorted(set(names)) and bool(names), "environments",
                "give each environment once")
        for env in self.environments:
            p.check(0 <= env.trace_sampling_percent <= 100, f"environments[{env.name}].trace_sampling_percent",
                    "a percentage from 0 to 100")
            p.check(50 <= env.memory_limit_percent <= 90, f"environments[{env.name}].memory_limit_percent",
                    "between 50 and 90")
            p.check(ENV_NAME.match(env.name) is not None, f"environments[{env.name}].name",
                    "lower-case letters, digits and '-'")
            p.check(K8S_NAME.match(env.namespace) is not None, f"environments[{env.name}].namespace",
                    "a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)")
            for key, value in env.rule_selector:
                p.check(LABEL_KEY.match(key) is not None and LABEL_VALUE.match(value) is not None,
                        f"environments[{env.name}].rule_selector", f"{key}={value!r} is not a Kubernetes label")
        for pattern in self.blocked_value_patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                p.add("blocked_value_patterns", f"{pattern!r}: {error}")
        p.raise_if_any()

    def canonical(self) -> dict:
        return {
            "services": list(self.services), "red_services": list(self.red_services),
            "slow_trace_services": list(self.slow_trace_services), "slow_trace_ms": self.slow_trace_ms,
            "delete_attributes": list(self.delete_attributes), "hash_attributes": list(self.hash_attributes),
            "blocked_value_patterns": list(self.blocked_value_patterns),
            "span_metrics_cardinality_limit": self.span_metrics_cardinality_limit,
            "environments": [[e.name, e.trace_sampling_percent, e.debug_exporter, e.memory_limit_percent, e.pages,
                              e.namespace, [list(pair) for pair in e.rule_selector]]
                             for e in self.environments],
        }
