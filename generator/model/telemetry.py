"""Telemetry pipeline definitions: what the services send, and how each environment (model/environments.py)
samples, redacts and exports it. Rendered by the collector backend."""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass, field

from generator import conventions as c
from generator.model import fields
from generator.model import prometheus_versions
from generator.model import redaction
from generator.model.problems import Collector, caller_file
from generator.model.environments import Environment, ThanosRuler
from generator.model.re2check import re2_problem

ENV_VAR = re.compile(r"^[A-Z][A-Z0-9_]*$")
ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_.-]{0,254}$")  # http.request.header.x-request-id
SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # service.name, quoted inside OTTL statements
MAX_SLOW_TRACE_MS = 3_600_000
MAX_CARDINALITY_LIMIT = 1_000_000
SIGNALS = ("traces", "metrics", "logs")


@dataclass(frozen=True)
class Telemetry:
    services: tuple[str, ...]            # service.name of every KFM service that sends telemetry
    red_services: tuple[str, ...]        # services whose spans become span metrics (RED)
    slow_trace_services: tuple[str, ...]  # services whose slow traces are always kept
    slow_trace_ms: int
    delete_attributes: tuple[str, ...]   # removed everywhere before any exporter
    hash_attributes: tuple[str, ...]     # replaced by their hash (generalized) before any exporter
    environments: tuple[Environment, ...]
    blocked_value_patterns: tuple[str, ...] = ()  # masked wherever they appear, besides redaction.SECRET_PATTERNS
    # Span and log attribute keys kept besides redaction's defaults; every other key is dropped.
    allowed_attributes: tuple[str, ...] = ()
    span_metrics_cardinality_limit: int = 2000
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("services", "red_services", "slow_trace_services", "delete_attributes",
                     "hash_attributes", "blocked_value_patterns", "allowed_attributes"):
            object.__setattr__(self, name, fields.ordered(getattr(self, name)))
        if isinstance(self.environments, list):  # order matters (the last is the GitOps base): no sets
            object.__setattr__(self, "environments", tuple(self.environments))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("telemetry", "kfm", self.defined_in)
        p.guard("definition", self._validate, p)
        p.raise_if_any()

    def _names(self, p: Collector, where: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
        value = getattr(self, where)
        trouble = fields.tuple_problem(value, what)
        if trouble:
            p.add(where, trouble)
            return ()
        good = []
        for item in value:
            if isinstance(item, str) and pattern.match(item) is not None:
                good.append(item)
            else:
                p.add(where, f"{item!r} is not {what[:-1] if what.endswith('s') else what}"[:200])
        return tuple(good)

    def _validate(self, p: Collector) -> None:
        services = self._names(p, "services", SERVICE, "service names")
        p.check(self.services != (), "services", "name the services that send telemetry")
        for where in ("red_services", "slow_trace_services"):
            unknown = set(self._names(p, where, SERVICE, "service names")) - set(services)
            p.check(not unknown, where, f"not in services: {', '.join(sorted(unknown))}")
        keys = {}
        for where in ("delete_attributes", "hash_attributes"):
            keys[where] = self._names(p, where, ATTRIBUTE, "attribute names")
            for key in keys[where]:
                p.check(key not in c.CORRELATION_IDS, where,
                        f"{key!r} is a correlation ID: it must survive on spans and logs")
        p.check(self.delete_attributes != () or self.hash_attributes != (), "delete_attributes",
                "name at least one attribute to delete or hash: telemetry passes the trust membrane too")
        overlap = set(keys["delete_attributes"]) & set(keys["hash_attributes"])
        p.check(not overlap, "hash_attributes", f"also deleted: {', '.join(sorted(overlap))}")
        allowed = self._allowed_keys(p, "allowed_attributes", self.allowed_attributes)
        overlap = set(allowed) & set(keys["delete_attributes"])
        p.check(not overlap, "allowed_attributes", f"also deleted: {', '.join(sorted(overlap))}")
        p.check(fields.is_whole(self.slow_trace_ms) and 0 < self.slow_trace_ms <= MAX_SLOW_TRACE_MS, "slow_trace_ms",
                f"a latency threshold in whole milliseconds, above 0 and at most {MAX_SLOW_TRACE_MS}")
        p.check(fields.is_whole(self.span_metrics_cardinality_limit)
                and 0 < self.span_metrics_cardinality_limit <= MAX_CARDINALITY_LIMIT,
                "span_metrics_cardinality_limit", f"a whole number above 0, at most {MAX_CARDINALITY_LIMIT}")
        trouble = fields.tuple_problem(self.environments, "Environment(...)")
        if trouble:
            p.add("environments", trouble + " (in order: the last one is the GitOps base)")
            return
        envs = [e for e in self.environments if isinstance(e, Environment)]
        if len(envs) != len(self.environments):
            p.add("environments", "every item must be an Environment(...)")
        names = [e.name for e in envs]
        p.check(len(names) == len(set(map(repr, names))) and bool(names), "environments",
                "give each environment once")
        for env in envs:
            self._validate_environment(p, env)
        trouble = fields.tuple_problem(self.blocked_value_patterns, "regular expressions")
        if trouble:
            p.add("blocked_value_patterns", trouble)
            return
        for pattern in self.blocked_value_patterns:
            trouble = re2_problem(pattern)
            if trouble:
                p.add("blocked_value_patterns", f"{pattern!r}: {trouble} (the collector runs Go's RE2)"[:300])

    def _allowed_keys(self, p: Collector, where: str, value: object) -> tuple[str, ...]:
        trouble = fields.tuple_problem(value, "attribute names")
        if trouble:
            p.add(where, trouble)
            return ()
        assert isinstance(value, tuple)  # tuple_problem refuses anything else
        good = []
        for key in value:
            if not isinstance(key, str) or ATTRIBUTE.match(key) is None:
                p.add(where, f"{key!r} is not an attribute name (lower-case, dots; no wildcards)"[:200])
            elif redaction.is_credential_header(key):
                p.add(where, f"{key!r} carries credentials: it is never allowed")
            elif key.endswith("."):
                p.add(where, f"{key!r} is a prefix: name each attribute (headers one by one)")
            else:
                good.append(key)
        return tuple(good)

    def _validate_environment(self, p: Collector, env: Environment) -> None:
        where = f"environments[{env.name}]" if isinstance(env.name, str) else "environments"
        if not env.check(p, where):
            return
        debug = self._allowed_keys(p, f"{where}.debug_allowed_attributes", env.debug_allowed_attributes)
        p.check(not (debug and env.pages is True), f"{where}.debug_allowed_attributes",
                "an environment that pages (prod) keeps only the allow-list every environment has")
        deleted = set(debug) & set(self.delete_attributes)
        p.check(not deleted, f"{where}.debug_allowed_attributes", f"also deleted: {', '.join(sorted(deleted))}")

    def allowed(self, env: Environment) -> list[str]:
        """Every span and log attribute key the environment's collector lets through."""
        return redaction.allowed_keys((*self.allowed_attributes, *self.hash_attributes,
                                       *env.debug_allowed_attributes))

    def canonical(self) -> dict[str, Any]:
        return {
            "services": list(self.services), "red_services": list(self.red_services),
            "slow_trace_services": list(self.slow_trace_services), "slow_trace_ms": self.slow_trace_ms,
            "delete_attributes": list(self.delete_attributes), "hash_attributes": list(self.hash_attributes),
            "blocked_value_patterns": list(self.blocked_value_patterns),
            "allowed_attributes": list(self.allowed_attributes),
            "span_metrics_cardinality_limit": self.span_metrics_cardinality_limit,
            "environments": [[e.name, e.trace_sampling_percent, e.debug_exporter, e.memory_limit_percent, e.pages,
                              e.namespace, [list(pair) for pair in e.rule_selector], list(e.debug_allowed_attributes)]
                             # newer than the hash format: only when set, so unchanged telemetry keeps its hash
                             + ([e.prometheus_version] if e.prometheus_version != prometheus_versions.DEFAULT_VERSION
                                else [])
                             + ([{"max_rules_per_group": e.max_rules_per_group}] if e.max_rules_per_group else [])
                             + ([{"thanos_ruler": e.thanos_ruler.canonical()}]
                                if isinstance(e.thanos_ruler, ThanosRuler) else [])
                             for e in self.environments],
        }
