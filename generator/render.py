"""Render the catalog to files: a list of backends, each a pure function from the catalogue to
{path under out/: text}.

Layout under out/ (paths are relative to it):
  addons/observability/base/                kustomize base: every Kubernetes object once
    prometheusrules/<service>.yaml          prometheus-operator PrometheusRule objects
    grafana-dashboards/<uid>.yaml           ConfigMaps for the Grafana sidecar
    opentelemetrycollector.yaml             the collector (config of the base environment)
  addons/observability/env/<env>/           overlay: namespace, environment labels, patches
  prometheus/rules/<slo>.rules.yaml         plain Prometheus rule files, one per SLO
  prometheus/tests/<slo>.test.yaml          generated promtool unit tests, one file per SLO
  grafana/dashboards/<uid>.json             Grafana dashboards (grafanalib, normalized)
  otel/<env>/collector.yaml                 plain collector config per environment
  otel/builder-config.yaml                  Collector Builder manifest
  alertmanager/<env>.yaml                   Alertmanager routing and inhibition per environment
  runbooks/<alert>.md                       one runbook per alert, linked from its runbook_url
  thanos/<env>/                             an environment over Prometheus shards: the shards' and the
                                            Thanos Ruler's rule files, the ThanosRuler object
Every file starts with a generated-by header and the sha256 of the
definitions it was rendered from.
"""
from __future__ import annotations

from typing import Callable

from generator.alertmanager import backend as alertmanager
from generator.collector import backend as collector
from generator.grafana import backend as grafana
from generator.kubernetes import backend as kubernetes
from generator.model.catalog import Catalog
from generator.prometheus import backend as prometheus
from generator.model.kinds.events import simulated_scenario
from generator.prometheus.rules import RuleCounts, slo_groups
from generator.runbooks import backend as runbooks
from generator.thanos import backend as thanos
from generator.writer import yamlout

Backend = Callable[[Catalog], dict[str, str]]
KEPT_SIMULATIONS = 64   # simulations kept from one render for the next (a project's own need about 30)

BACKENDS: tuple[tuple[str, Backend], ...] = (
    ("prometheus", prometheus.render),
    ("grafana", grafana.render),
    ("runbooks", runbooks.render),
    ("collector", collector.render),
    ("alertmanager", alertmanager.render),
    ("kubernetes", kubernetes.render),
    ("thanos", thanos.render),
)


def render(catalog: Catalog) -> tuple[dict[str, str], RuleCounts]:
    """Every backend's files (no two backends write one path), and the rule counts of the rules.

    What the backends cache of a catalogue (an SLO's rule groups, how YAML writes a string) lives for
    one render: a render starts from empty caches, so nothing computed for an earlier catalogue, or by
    other code, is reused. A scenario's simulation is the exception: a pure function of numbers (the
    traffic, the minutes, the rule shape), it is kept for the next render in the same process (the
    review, the tests), up to KEPT_SIMULATIONS of them (about 5 MB each)."""
    slo_groups.cache_clear()
    if simulated_scenario.cache_info().currsize > KEPT_SIMULATIONS:
        simulated_scenario.cache_clear()
    yamlout.cache_clear()
    files: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name, backend in BACKENDS:
        for path, text in backend(catalog).items():
            assert path not in owner, f"{path}: written by the {owner[path]} and the {name} backends"
            owner[path] = name
            files[path] = text
    return dict(sorted(files.items())), prometheus.rule_counts(catalog)
