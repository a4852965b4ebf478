"""The Thanos backend: for each environment over Prometheus shards (Environment(thanos_ruler=...)),
under out/thanos/<env>/:
  shards/<slo>.rules.yaml, shards/kfm-shard-heartbeat.rules.yaml   every shard's Prometheus loads them
  ruler/<slo>.rules.yaml, ruler/kfm-thanos-health.rules.yaml,      the Thanos Ruler loads them
  ruler/invariants.rules.yaml
  prometheusrules/shard-<service>.yaml, ruler-<service>.yaml, ...  the same groups as PrometheusRule objects
  thanosruler.yaml                                                 the ThanosRuler (prometheus-operator)
and the runbooks of the health alerts. An environment without one renders nothing here: the single
Prometheus target stays as it was, byte for byte."""
from __future__ import annotations

from typing import Any

from generator import conventions as c
from generator.kubernetes import gitops
from generator.model.catalog import Catalog
from generator.model.environments import Environment, ThanosRuler
from generator.thanos import rules
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header, markdown_header

EVALUATION_INTERVAL = "1m"


def sharded(catalog: Catalog) -> list[tuple[Environment, ThanosRuler]]:
    telemetry = catalog.telemetry
    return [(env, env.thanos_ruler) for env in (telemetry.environments if telemetry else ())
            if isinstance(env.thanos_ruler, ThanosRuler)]


def thanos_ruler_object(env: Environment, target: ThanosRuler, digest: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ThanosRuler",
        "metadata": {
            "name": target.name,
            "namespace": env.namespace,
            "labels": {"app.kubernetes.io/name": "kfm-slo", "app.kubernetes.io/component": "thanos-ruler",
                       "app.kubernetes.io/managed-by": "kfm-observability"},
            "annotations": {"kfm.io/definitions-sha256": digest},
        },
        "spec": {
            "queryEndpoints": list(target.query_endpoints),
            "ruleSelector": {"matchLabels": dict(target.rule_selector)},
            "evaluationInterval": EVALUATION_INTERVAL,
            "retention": target.retention,
        },
    }


def rule_object(name: str, component: str, namespace: str, selector: tuple[tuple[str, str], ...],
                groups: list[dict[str, Any]], digest: str) -> dict[str, Any]:
    """A PrometheusRule of the sharded environment, labelled for whoever selects it."""
    found = gitops.prometheus_rule(name, component, groups, digest)
    found["metadata"] = {"name": name, "namespace": namespace,
                         "labels": {**found["metadata"]["labels"], **dict(selector)},
                         "annotations": found["metadata"]["annotations"]}
    return found


def _rule_objects(catalog: Catalog, env: Environment, target: ThanosRuler, max_rules: int) -> dict[str, dict[str, Any]]:
    """{stem: PrometheusRule} for the shards (labelled with the environment's rule selector) and for the
    ruler (with the ThanosRuler's): one of each per service, and the heartbeat's, health's, invariants'."""
    objects = {}
    for service in sorted({slo.service for slo in catalog.slos}):
        slos = sorted((s for s in catalog.slos if s.service == service), key=lambda s: s.name)
        digest = definitions_hash([[s.canonical() for s in slos], target.canonical()])
        shard = [g for slo in slos for g in rules.shard_groups(slo)]
        if shard:
            objects[f"shard-{service}"] = rule_object(f"kfm-shard-{service}", service, env.namespace,
                                                      env.rule_selector, shard, digest)
        objects[f"ruler-{service}"] = rule_object(
            f"kfm-ruler-{service}", service, env.namespace, target.rule_selector,
            [g for slo in slos for g in rules.ruler_groups(slo, target, max_rules)], digest)
    digest = definitions_hash([env.name, target.canonical()])
    objects["shard-heartbeat"] = rule_object("kfm-shard-heartbeat", "thanos-shards", env.namespace, env.rule_selector,
                                             [rules.heartbeat_group()], digest)
    objects["ruler-health"] = rule_object("kfm-ruler-health", "thanos-ruler", env.namespace, target.rule_selector,
                                          [rules.health_group(target, env.name)], digest)
    if catalog.invariants:
        objects["ruler-invariants"] = rule_object(
            "kfm-ruler-invariants", c.INVARIANTS_FILE_STEM, env.namespace, target.rule_selector,
            rules.invariant_groups(catalog.invariants),
            definitions_hash([[i.canonical() for i in catalog.invariants], target.canonical()]))
    return objects


def _runbooks(catalog: Catalog, source: str, digest: str) -> dict[str, str]:
    missing = f"""# {c.SHARD_MISSING_ALERT}

A Prometheus shard of a sharded environment is missing from Thanos Query: its heartbeat,
`{c.SHARD_HEARTBEAT}` (recorded by every shard at every evaluation), has not been seen for a minute.
The label that names the shard is on the alert.

**What it means.** Every SLO rule group of the Thanos Ruler aborts when a shard does not answer
(`partial_response_strategy: abort`): the SLOs are neither burning nor healthy until the shard is
back. Their burn-rate alerts do not fire meanwhile, whatever happens.

**First steps.**
1. Is the shard's Prometheus up? Its sidecar? (`kubectl -n <namespace> get pods`)
2. Does Thanos Query list the shard's store as healthy (its Stores page)?
3. Is the shard's Prometheus evaluating its rules (`prometheus_rule_group_last_evaluation_timestamp_seconds`)?
"""
    failures = f"""# {c.RULER_FAILURES_ALERT}

The Thanos Ruler failed to evaluate a rule group (`prometheus_rule_evaluation_failures_total` of its
job increased in the last {rules.RULER_FAILURE_WINDOW}). The group is on the alert (`rule_group`).

**What it means.** The SLOs of that group are not evaluated meanwhile: neither burning nor healthy.
A shard that does not answer fails every SLO group (they abort on a partial response): see
{c.SHARD_MISSING_ALERT} first if it fires too.

**First steps.**
1. The ruler's log names the query that failed and why.
2. Is Thanos Query up and reachable from the ruler (`--query` endpoints)?
3. A query over Thanos Query's limits (samples, series, timeout): the long windows read 30 days of tiles.
"""
    return {c.runbook_file(c.SHARD_MISSING_ALERT): markdown_header(source, digest) + missing,
            c.runbook_file(c.RULER_FAILURES_ALERT): markdown_header(source, digest) + failures}


def render(catalog: Catalog) -> dict[str, str]:
    files: dict[str, str] = {}
    environments = sharded(catalog)
    if not environments:
        return files
    assert catalog.telemetry is not None
    telemetry_source = catalog.relative(catalog.telemetry.defined_in)
    max_rules = catalog.max_rules_per_group()
    for env, target in environments:
        target_digest = definitions_hash([env.name, target.canonical()])
        for slo in catalog.slos:
            sources = [catalog.relative(slo.defined_in), telemetry_source]
            digest = definitions_hash([slo.canonical(), target.canonical()])
            shard = rules.shard_groups(slo)
            if shard:
                files[c.thanos_shard_rules_file(env.name, slo.name)] = header(sources, digest) + yamlout.dump(
                    {"groups": shard})
            files[c.thanos_ruler_rules_file(env.name, slo.name)] = (
                header(sources, digest) + yamlout.dump({"groups": rules.ruler_groups(slo, target, max_rules)}))
        files[c.thanos_shard_rules_file(env.name, c.SHARD_HEARTBEAT_GROUP)] = (
            header([telemetry_source], target_digest) + yamlout.dump({"groups": [rules.heartbeat_group()]}))
        files[c.thanos_ruler_rules_file(env.name, c.THANOS_HEALTH_GROUP)] = (
            header([telemetry_source], target_digest) + yamlout.dump({"groups": [rules.health_group(target, env.name)]}))
        if catalog.invariants:
            sources = sorted({catalog.relative(i.defined_in) for i in catalog.invariants})
            digest = definitions_hash([[i.canonical() for i in catalog.invariants], target.canonical()])
            files[c.thanos_ruler_rules_file(env.name, c.INVARIANTS_FILE_STEM)] = (
                header(sources, digest) + yamlout.dump({"groups": rules.invariant_groups(catalog.invariants)}))
        everything = ["slo/", "alerts/", telemetry_source]
        for stem, rule_object_ in _rule_objects(catalog, env, target, max_rules).items():
            files[c.thanos_rule_object_file(env.name, stem)] = (
                header(everything, rule_object_["metadata"]["annotations"]["kfm.io/definitions-sha256"])
                + yamlout.dump(rule_object_))
        files[c.thanos_ruler_object_file(env.name)] = (
            header([telemetry_source], target_digest) + yamlout.dump(thanos_ruler_object(env, target, target_digest)))
    files.update(_runbooks(catalog, telemetry_source, definitions_hash([t.canonical() for _, t in environments])))
    return files
