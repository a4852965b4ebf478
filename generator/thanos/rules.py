"""The rule groups of an environment over Prometheus shards (model.environments.ThanosRuler).

- Every shard's Prometheus: per event SLO, the recordings that read raw series (the SLI's rates,
  summed by its labels) under `kfm_slo_shard:` names, in `kfm-slo-<name>-shard`; and `kfm_slo_shard:up`, 1 at
  every evaluation (`kfm-shard-heartbeat`).
- The Thanos Ruler, which evaluates through Thanos Query (every shard, replicas deduplicated): the
  SLO's groups as on one Prometheus, except that each raw-reading recording becomes the sum of the
  shards' (`sum by` the SLI's labels, whatever other external labels the shards carry), recorded only
  while every shard's heartbeat is there, so every window, tile, budget and alert reads the whole SLI
  or nothing (a shard that answers with stale series is not summed away). Every SLO group aborts on a partial response
  (a shard that does not answer fails the evaluation: an SLI computed from some shards never looks
  healthy). `kfm-thanos-health` (partial responses allowed: it must evaluate when a shard is gone)
  names each missing shard and alerts on the ruler's own evaluation failures.
"""
from __future__ import annotations

from typing import Any

from generator import conventions as c
from generator.model.environments import ThanosRuler
from generator.model.gotemplate import literal
from generator.model.invariants import Invariant
from generator.model.slo import SLO
from generator.prometheus.rules import invariants_group, slo_groups
from generator.promql import builder as b
from generator.promql.selectors import Matcher, Selector

ABORT, WARN = "abort", "warn"
SHARD_MISSING_FOR = "1m"
RULER_FAILURE_WINDOW = "5m"


def _raw_rules(slo: SLO) -> list[dict[str, Any]]:
    """The SLO's recordings that read raw series and that the shards record (its kind's base rules, but
    constants), where the sum of the shards' is the whole SLI's: event rates. Any other kind (freshness:
    a dataset's last success is the latest on any shard, not a sum) keeps them on the ruler, which reads
    the raw series of every shard through Thanos Query (a gauge a dataset: cheap)."""
    if not slo.sli.counts_events:
        return []
    return [r for r in slo.sli.base_rules(slo.name, slo.base_window_seconds) if not r["expr"].startswith("vector(")]


def _with_strategy(group: dict[str, Any], strategy: str) -> dict[str, Any]:
    """The group with Thanos' partial_response_strategy, after its name and timing fields."""
    head = {key: value for key, value in group.items() if key != "rules"}
    return {**head, "partial_response_strategy": strategy, "rules": group["rules"]}


def shard_groups(slo: SLO) -> list[dict[str, Any]]:
    if not _raw_rules(slo):
        return []
    group: dict[str, Any] = {"name": c.shard_rule_group(slo.name)}
    if slo.query_offset_seconds:
        group["query_offset"] = next(g["query_offset"] for g in slo_groups(slo)[0] if "query_offset" in g)
    group["rules"] = [{**rule, "record": c.shard_record(rule["record"])} for rule in _raw_rules(slo)]
    return [group]


def heartbeat_group() -> dict[str, Any]:
    return {"name": c.SHARD_HEARTBEAT_GROUP, "rules": [{"record": c.SHARD_HEARTBEAT, "expr": "vector(1)"}]}


def every_shard_answers(target: ThanosRuler) -> str:
    """True (an empty label set) while every shard's heartbeat is there: a shard that answers but no
    longer evaluates (its series gone stale) must not leave an SLI summed from the others."""
    shards = "|".join(shard.replace(".", "\\.") for shard in target.shards)   # label values: [A-Za-z0-9._-]
    heartbeats = b.aggregate("group", Selector(c.SHARD_HEARTBEAT, (Matcher(target.shard_label, "=~", shards),)).render(),
                             (target.shard_label,))
    return f"(count({heartbeats}) == {len(target.shards)})"


def _combined(rule: dict[str, Any], slo: SLO, target: ThanosRuler) -> dict[str, Any]:
    """A raw-reading recording, on the ruler: the sum of every shard's, while every shard answers."""
    by = [c.SLO_LABEL, *slo.sli.group_by]
    total = b.aggregate("sum", b.of_slo(c.shard_record(rule["record"]), slo.name), tuple(by))
    return {"record": rule["record"], "expr": f"{total} and on () {every_shard_answers(target)}",
            "labels": rule["labels"]}


def ruler_groups(slo: SLO, target: ThanosRuler, max_rules: int = 0) -> list[dict[str, Any]]:
    raw = {rule["record"]: rule for rule in _raw_rules(slo)}
    groups = []
    for group in slo_groups(slo, max_rules)[0]:
        rules = [_combined(rule, slo, target) if rule.get("record") in raw and rule == raw[rule["record"]] else rule
                 for rule in group["rules"]]
        groups.append(_with_strategy({**group, "rules": rules}, ABORT))
    return groups


def invariant_groups(invariants: tuple[Invariant, ...]) -> list[dict[str, Any]]:
    """The invariants on the ruler: each reads raw series through Query, so a shard that does not answer
    must not silence the others' violations (partial responses allowed)."""
    return [_with_strategy(invariants_group(invariants)[0], WARN)] if invariants else []


def health_group(target: ThanosRuler, env_name: str) -> dict[str, Any]:
    label = target.shard_label
    missing = " or ".join(f'absent({c.SHARD_HEARTBEAT}{{{label}="{shard}"}})' for shard in target.shards)
    failures = (f'sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total{{job="{target.ruler_job}"}}'
                f'[{RULER_FAILURE_WINDOW}])) > 0')
    team = literal(target.owner)
    shard = f"{{{{ $labels.{label} }}}}"
    return _with_strategy({"name": c.THANOS_HEALTH_GROUP, "rules": [
        {"alert": c.SHARD_MISSING_ALERT, "expr": missing, "for": SHARD_MISSING_FOR,
         "labels": {c.SEVERITY_LABEL: "page", c.TEAM_LABEL: team},
         "annotations": {
             "summary": f"Prometheus shard {shard} of {env_name} is missing from Thanos Query: the SLOs are not evaluated",
             "description": (f"Thanos Query has no {c.SHARD_HEARTBEAT} from the shard {label}={shard} (its Prometheus "
                             "or its sidecar is down, unreachable, or no longer evaluates rules). Every SLO rule "
                             "group of the Thanos Ruler aborts on a partial response, so the SLOs are neither "
                             "burning nor healthy until the shard is back."),
             "runbook_url": c.runbook_url(c.SHARD_MISSING_ALERT)}},
        {"alert": c.RULER_FAILURES_ALERT, "expr": failures,
         "labels": {c.SEVERITY_LABEL: "page", c.TEAM_LABEL: team},
         "annotations": {
             "summary": "The Thanos Ruler of " + env_name + " fails to evaluate {{ $labels.rule_group }}",
             "description": ("Rule evaluations of the group {{ $labels.rule_group }} failed in the last "
                             f"{RULER_FAILURE_WINDOW} (prometheus_rule_evaluation_failures_total of the job "
                             f"{literal(target.ruler_job)}): a shard that does not answer, Thanos Query down, or "
                             "a query over its limits. The SLOs of that group are not evaluated meanwhile."),
             "runbook_url": c.runbook_url(c.RULER_FAILURES_ALERT)}},
    ]}, WARN)
