"""Deployment environments: what differs between dev, stage and prod. An environment drives the
collector (sampling, debug exporter, memory), Alertmanager (whether pages reach the pager), the
GitOps overlay (namespace, rule selector) and the rule features its Prometheus has."""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator.model import fields
from generator.model import prometheus_versions
from generator.model.problems import Collector

ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
K8S_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
MIN_RULES_PER_GROUP = 20  # an SLO's alerting and budget groups hold up to 18 rules with the default windows
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
PROMETHEUS_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")


DURATION = re.compile(r"^[1-9][0-9]*[dhm]$")


@dataclass(frozen=True)
class ThanosRuler:
    """An environment whose SLIs are split over Prometheus shards, combined by a Thanos Ruler.

    Each shard's Prometheus records what reads its raw series (an SLO's rates, aggregated by the SLI's
    labels, under `kfm_slo_shard:` names) and a heartbeat; the Thanos Ruler, querying every shard
    through Thanos Query (which deduplicates replicas), records their sums across shards (`sum
    without` the shard label) under the usual names, and everything read from them: windows, tiles,
    budgets, burn rates, alerts (docs/scaling.md)."""

    shards: tuple[str, ...]                 # each shard's value of `shard_label` (an external label)
    owner: str                              # the team the shards' and the ruler's own alerts go to
    shard_label: str = "cluster"            # the external label that tells shards apart
    query_endpoints: tuple[str, ...] = ("dnssrv+_http._tcp.thanos-query.monitoring.svc.cluster.local",)
    ruler_job: str = "thanos-ruler"         # the job the ruler's own /metrics are scraped as
    retention: str = "35d"                  # the ruler's TSDB holds the tiles: longer than every SLO period
    name: str = "kfm"                       # the ThanosRuler object
    rule_selector: tuple[tuple[str, str], ...] = (("thanos-ruler", "kfm"),)   # labels of its PrometheusRules

    def __post_init__(self) -> None:
        for name in ("shards", "query_endpoints"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                object.__setattr__(self, name, tuple(value))
        try:
            object.__setattr__(self, "rule_selector", tuple(sorted(dict(self.rule_selector).items())))
        except (TypeError, ValueError):
            pass  # check() names the field

    def check(self, p: Collector, where: str) -> None:
        shards = self.shards
        p.check(isinstance(shards, tuple) and len(shards) >= 1 and len(set(shards)) == len(shards)
                and all(isinstance(s, str) and LABEL_VALUE.match(s) is not None and s for s in shards),
                f"{where}.shards", "one or more distinct shard names (the shards' values of the shard label)")
        p.check(isinstance(self.owner, str) and 0 < len(self.owner) <= 100 and self.owner.strip() == self.owner,
                f"{where}.owner", "the name of a team (alerts/teams.py)")
        p.check(isinstance(self.shard_label, str) and PROMETHEUS_LABEL.match(self.shard_label) is not None
                and not self.shard_label.startswith("__"), f"{where}.shard_label", "a Prometheus label name")
        p.check(isinstance(self.query_endpoints, tuple) and len(self.query_endpoints) >= 1
                and all(isinstance(e, str) and e and not any(ch.isspace() for ch in e) for e in self.query_endpoints),
                f"{where}.query_endpoints", "one or more Thanos Query addresses")
        p.check(isinstance(self.ruler_job, str) and 0 < len(self.ruler_job) <= 100 and '"' not in self.ruler_job
                and "\\" not in self.ruler_job, f"{where}.ruler_job", "the job name the ruler's metrics are scraped as")
        p.check(isinstance(self.retention, str) and DURATION.match(self.retention) is not None,
                f"{where}.retention", "a duration like 35d")
        p.check(isinstance(self.name, str) and K8S_NAME.match(self.name) is not None, f"{where}.name",
                "a Kubernetes object name")
        selector = self.rule_selector
        p.check(isinstance(selector, tuple) and all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str)
                                                    and isinstance(i[1], str) and LABEL_KEY.match(i[0]) is not None
                                                    and LABEL_VALUE.match(i[1]) is not None for i in selector),
                f"{where}.rule_selector", "Kubernetes labels, as a dict of names to values")

    def canonical(self) -> dict[str, object]:
        return {"shards": list(self.shards), "owner": self.owner, "shard_label": self.shard_label,
                "query_endpoints": list(self.query_endpoints), "ruler_job": self.ruler_job,
                "retention": self.retention, "name": self.name,
                "rule_selector": [list(pair) for pair in self.rule_selector]}


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
    # More span and log attribute keys kept here only, for debugging; refused where pages=True.
    debug_allowed_attributes: tuple[str, ...] = ()
    # The Prometheus the environment runs (at least): rule features newer than every environment's
    # version are refused (generator/model/prometheus_versions.py).
    prometheus_version: str = prometheus_versions.DEFAULT_VERSION
    # The most rules a rule group may hold where the environment's rules are evaluated (a Cortex or
    # Mimir ruler: 20 by default); 0 for a Prometheus, which has no such limit.
    max_rules_per_group: int = 0
    # Where the SLO rules are evaluated: None for the environment's one Prometheus (the default), or a
    # ThanosRuler over Prometheus shards (docs/scaling.md).
    thanos_ruler: ThanosRuler | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "debug_allowed_attributes", fields.ordered(self.debug_allowed_attributes))
        if fields.is_number(self.trace_sampling_percent) and type(self.trace_sampling_percent) not in (int, float):
            # A Decimal (or a float subclass) is a percentage too, and the collector config is YAML of floats.
            object.__setattr__(self, "trace_sampling_percent", float(self.trace_sampling_percent))
        try:
            object.__setattr__(self, "rule_selector", tuple(sorted(dict(self.rule_selector).items())))
        except (TypeError, ValueError):
            pass  # Telemetry's validation names the field

    def check(self, p: Collector, where: str) -> bool:
        """Add this environment's own problems to `p` (fields named `<where>.<field>`); False when its name
        is unusable, so nothing else can be named by it."""
        if not p.check(isinstance(self.name, str) and ENV_NAME.match(self.name) is not None, f"{where}.name",
                       "lower-case letters, digits and '-'"):
            return False
        p.check(fields.is_number(self.trace_sampling_percent) and 0 <= self.trace_sampling_percent <= 100,
                f"{where}.trace_sampling_percent", "a percentage from 0 to 100 (a number, not True/False)")
        p.check(fields.is_whole(self.memory_limit_percent) and 50 <= self.memory_limit_percent <= 90,
                f"{where}.memory_limit_percent", "a whole number between 50 and 90")
        for flag in ("debug_exporter", "pages"):
            p.check(isinstance(getattr(self, flag), bool), f"{where}.{flag}", "True or False")
        p.check(isinstance(self.namespace, str) and K8S_NAME.match(self.namespace) is not None,
                f"{where}.namespace", "a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)")
        selector = self.rule_selector
        if not isinstance(selector, tuple) or not all(isinstance(i, tuple) and len(i) == 2 for i in selector):
            p.add(f"{where}.rule_selector", "give the labels as a dict of names to values")
            return True
        for key, value in selector:
            p.check(isinstance(key, str) and isinstance(value, str) and LABEL_KEY.match(key) is not None
                    and LABEL_VALUE.match(value) is not None, f"{where}.rule_selector",
                    f"{key}={value!r} is not a Kubernetes label"[:200])
        trouble = prometheus_versions.version_problem(self.prometheus_version)
        p.check(trouble is None, f"{where}.prometheus_version", str(trouble))
        p.check(fields.is_whole(self.max_rules_per_group)
                and (self.max_rules_per_group == 0 or MIN_RULES_PER_GROUP <= self.max_rules_per_group <= 100_000),
                f"{where}.max_rules_per_group", f"0 (no limit) or a whole number from {MIN_RULES_PER_GROUP} to 100,000")
        if self.thanos_ruler is not None:
            if isinstance(self.thanos_ruler, ThanosRuler):
                self.thanos_ruler.check(p, f"{where}.thanos_ruler")
            else:
                p.add(f"{where}.thanos_ruler", "a ThanosRuler(...), or None for one Prometheus")
        return True
