"""The Kubernetes backend: the kustomize base (a PrometheusRule per service and for the invariants, a
ConfigMap per dashboard, the OpenTelemetryCollector) and one overlay per environment."""
from __future__ import annotations

from typing import Any

from generator import conventions as c
from generator.collector import backend as collector
from generator.grafana import backend as grafana
from generator.grafana.panels import to_text
from generator.kubernetes import gitops
from generator.model.catalog import Catalog
from generator.prometheus import backend as prometheus
from generator.writer import yamlout
from generator.writer.headers import definitions_hash, header


def rule_objects(catalog: Catalog) -> list[dict[str, Any]]:
    return [gitops.prometheus_rule(c.prometheus_rule_name(rules.stem), rules.stem, rules.groups, rules.digest)
            for rules in prometheus.rule_sets(catalog)]


def render(catalog: Catalog) -> dict[str, str]:
    files: dict[str, str] = {}
    objects = rule_objects(catalog)
    for rules, rule_object in zip(prometheus.rule_sets(catalog), objects):
        files[c.prometheus_rule_file(rules.stem)] = header(rules.sources, rules.digest) + yamlout.dump(rule_object)
    for board, sources in grafana.dashboards(catalog):
        digest = definitions_hash([board])
        configmap = gitops.dashboard_configmap(board["uid"], to_text(board), digest)
        files[c.dashboard_configmap_file(board["uid"])] = header(sources, digest) + yamlout.dump(configmap)
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
