"""The Kubernetes backend: the objects of the kustomize base (PrometheusRule, OpenTelemetryCollector)
and the per-environment overlays of out/addons/observability/.

The base holds every Kubernetes object once: PrometheusRules, dashboard
ConfigMaps and the OpenTelemetryCollector (carrying the config of the base
environment, the last one defined: prod). Each overlay under env/<name>/ says
only what differs, all of it from the environments' definitions:
- the namespace, and `deployment.environment.name` on every object;
- on every alert rule, the `deployment_environment_name` label; where the
  environment does not page, page alerts become tickets (their `tier` label
  still says which window pair fired);
- the labels the environment's Prometheus selects rules by (ruleSelector);
- the collector config's differences (sampling, debug exporter, ...) as a
  minimal JSON Patch.
"""
from __future__ import annotations

from typing import Any

import posixpath

from generator import conventions as c
from generator.kubernetes import jsonpatch
from generator.model.environments import Environment
from generator.model.windows import PAGE, TICKET

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
RULE_TARGET = {"group": "monitoring.coreos.com", "version": "v1", "kind": "PrometheusRule"}
COLLECTOR_TARGET = {"group": "opentelemetry.io", "version": "v1beta1", "kind": "OpenTelemetryCollector",
                    "name": c.COLLECTOR_OBJECT_NAME}


def base_kustomization(paths: list[str]) -> dict[str, Any]:
    """Every object file under the base folder, relative to it."""
    resources = sorted(posixpath.relpath(p, c.GITOPS_BASE) for p in paths)
    return {**KUSTOMIZATION, "resources": resources}


def rule_patch(env: Environment, rule_object: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON Patch ops for one PrometheusRule in one environment."""
    ops = [{"op": "add", "path": jsonpatch.pointer(["metadata", "labels", key]), "value": value}
           for key, value in env.rule_selector]
    for g, group in enumerate(rule_object["spec"]["groups"]):
        for r, rule in enumerate(group["rules"]):
            if "alert" not in rule:
                continue
            labels: list[str | int] = ["spec", "groups", g, "rules", r, "labels"]
            # A test op names the alert for the reviewer, and fails the build
            # if the base's rules moved and the index points elsewhere.
            ops.append({"op": "test", "path": jsonpatch.pointer(["spec", "groups", g, "rules", r, "alert"]),
                        "value": rule["alert"]})
            ops.append({"op": "add", "path": jsonpatch.pointer(labels + [c.ENVIRONMENT_LABEL]), "value": env.name})
            if not env.pages and rule["labels"].get(c.SEVERITY_LABEL) == PAGE:
                ops.append({"op": "replace", "path": jsonpatch.pointer(labels + [c.SEVERITY_LABEL]),
                            "value": TICKET})
    return ops


def collector_patch(base_config: dict[str, Any], env_config: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**op, "path": "/spec/config" + op["path"]} for op in jsonpatch.diff(base_config, env_config)]


def patch_name(kind: str, name: str) -> str:
    return f"{kind.lower()}-{name}"


def overlay(env: Environment, rule_objects: list[dict[str, Any]], base_config: dict[str, Any],
            env_config: dict[str, Any]) -> dict[str, object]:
    """{path: document} of one environment's overlay: its kustomization and patches."""
    files: dict[str, object] = {}
    patches = []
    for obj in sorted(rule_objects, key=lambda o: o["metadata"]["name"]):
        name = obj["metadata"]["name"]
        path = c.overlay_patch_file(env.name, patch_name("PrometheusRule", name))
        files[path] = rule_patch(env, obj)
        patches.append({"path": posixpath.relpath(path, c.overlay_dir(env.name)),
                        "target": {**RULE_TARGET, "name": name}})
    collector_ops = collector_patch(base_config, env_config)
    if collector_ops:
        path = c.overlay_patch_file(env.name, patch_name("OpenTelemetryCollector", c.COLLECTOR_OBJECT_NAME))
        files[path] = collector_ops
        patches.append({"path": posixpath.relpath(path, c.overlay_dir(env.name)), "target": COLLECTOR_TARGET})
    files[c.kustomization_file(c.overlay_dir(env.name))] = {
        **KUSTOMIZATION,
        "namespace": env.namespace,
        "resources": [posixpath.relpath(c.GITOPS_BASE, c.overlay_dir(env.name))],
        "labels": [{"pairs": {c.ENVIRONMENT_OBJECT_LABEL: env.name}}],
        "patches": patches,
    }
    return files


# --- the Kubernetes objects of the base ---------------------------------------------

def prometheus_rule(name: str, service: str, groups: list[dict[str, Any]], digest: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": "kfm-slo",
                "app.kubernetes.io/component": service,
                "app.kubernetes.io/managed-by": "kfm-observability",
            },
            "annotations": {"kfm.io/definitions-sha256": digest},
        },
        "spec": {"groups": groups},
    }


GRAFANA_FOLDER = "KFM"


def dashboard_configmap(uid: str, body: str, digest: str) -> dict[str, Any]:
    """The ConfigMap the Grafana sidecar provisions a dashboard from."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"grafana-dashboard-{uid}",
            "labels": {"grafana_dashboard": "1", "app.kubernetes.io/managed-by": "kfm-observability"},
            "annotations": {"grafana_folder": GRAFANA_FOLDER, "kfm.io/definitions-sha256": digest},
        },
        "data": {f"{uid}.json": body},
    }


def collector_object(cfg: dict[str, Any]) -> dict[str, Any]:
    """The OpenTelemetryCollector object of the GitOps base; overlays patch its config."""
    return {
        "apiVersion": "opentelemetry.io/v1beta1",
        "kind": "OpenTelemetryCollector",
        "metadata": {"name": c.COLLECTOR_OBJECT_NAME,
                     "labels": {"app.kubernetes.io/managed-by": "kfm-observability"}},
        "spec": {"mode": "deployment", "image": c.OTEL_IMAGE, "config": cfg,
                 "envFrom": [{"secretRef": {"name": "kfm-otelcol-endpoints"}}]},
    }
