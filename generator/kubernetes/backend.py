"""The Kubernetes backend: the kustomize base (a PrometheusRule per service and for the invariants, a
ConfigMap per dashboard, the OpenTelemetryCollector) and one overlay per environment."""
from __future__ import annotations

from typing import Any

from generator import conventions as c, parallel
from generator.collector import backend as collector
from generator.grafana import backend as grafana
from generator.kubernetes import gitops
from generator.model.catalog import Catalog
from generator.prometheus import backend as prometheus
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header


# A PrometheusRule holds at most this much YAML: Kubernetes refuses an object over 1 MiB (etcd's limit,
# which checks.verify enforces), and the object's metadata and the overlays' labels need some room.
RULE_OBJECT_BUDGET = 900 * 1024


def _parts(units: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The groups of one rule set in objects under RULE_OBJECT_BUDGET, in order; an SLO's groups stay
    together. One object unless the rules outgrow it."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for unit, unit_size in zip(units, parallel.map_items(lambda unit: len(yamlout.dump(unit)), units)):
        if parts[-1] and size + unit_size > RULE_OBJECT_BUDGET:
            parts.append([])
            size = 0
        parts[-1].extend(unit)
        size += unit_size
    return parts


def rule_objects(catalog: Catalog) -> list[tuple[str, prometheus.RuleSet, dict[str, Any]]]:
    """(file, rule set, object) of every PrometheusRule: one per service, or more when one would be too big."""
    found = []
    for rules in prometheus.rule_sets(catalog):
        for part, groups in enumerate(_parts(rules.units), start=1):
            stem = c.rule_object_stem(rules.stem, part)
            found.append((c.prometheus_rule_file(rules.stem, part), rules,
                          gitops.prometheus_rule(c.prometheus_rule_name(stem), rules.stem, groups, rules.digest)))
    return found


def render(catalog: Catalog) -> dict[str, str]:
    files: dict[str, str] = {}
    found = rule_objects(catalog)
    objects = [rule_object for _, _, rule_object in found]
    texts = parallel.map_items(lambda item: header(item[1].sources, item[1].digest) + yamlout.dump(item[2]), found,
                               min_items=2 if len(catalog.slos) >= parallel.MIN_ITEMS else parallel.NEVER)
    files.update(zip((path for path, _, _ in found), texts))

    def configmap_file(board: grafana.RenderedDashboard) -> tuple[str, str]:
        configmap = gitops.dashboard_configmap(board.uid, board.text, board.digest)
        return c.dashboard_configmap_file(board.uid), header(board.sources, board.digest) + yamlout.dump(configmap)
    files.update(parallel.map_items(configmap_file, grafana.dashboards(catalog)))
    telemetry = catalog.telemetry
    if telemetry is None:
        return files
    base_config = collector.base_config(catalog)
    files[c.COLLECTOR_OBJECT_FILE] = collector.telemetry_header(catalog) + yamlout.dump(gitops.collector_object(base_config))
    base_files = [p for p in files if p.startswith(c.GITOPS_BASE + "/")]
    files[c.kustomization_file(c.GITOPS_BASE)] = (header(["slo/", "alerts/", "dashboards/", "telemetry/"],
                                                         definitions_hash([sorted(base_files)]))
                                                  + yamlout.dump(gitops.base_kustomization(base_files)))
    configs = collector.configs(catalog)
    source = [catalog.relative(telemetry.defined_in), "slo/", "alerts/"]
    for env in telemetry.environments:
        for path, document in gitops.overlay(env, objects, base_config, configs[env.name]).items():
            # Each file's hash covers what produced it (the telemetry definitions and its own content),
            # so a new SLO rewrites only its own patch and the kustomization that lists it.
            digest = definitions_hash([telemetry.canonical(), path, document])
            files[path] = header(source, digest) + yamlout.dump(document)
    return files
