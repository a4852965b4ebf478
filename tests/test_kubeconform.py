"""Schema validation of the Kubernetes objects with the real kubeconform, offline, against the
schemas extracted into schemas/ from the operators' released CRDs and the Kubernetes OpenAPI
document (scripts/extract-schemas.py). Strict: unknown fields fail, and so does a kind without a
schema."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kubeconform_runner import SCHEMAS, find_kubeconform, report, validate

pytestmark = pytest.mark.kubernetes

# Where the generator writes Kubernetes objects, relative to out/. Point these elsewhere when the
# layout moves: every pattern must match at least one file.
RENDERED_OBJECTS = [
    "addons/observability/base/prometheusrules/*.yaml",
    "addons/observability/base/grafana-dashboards/*.yaml",
    "addons/observability/base/opentelemetrycollector.yaml",
]
# Kustomize overlays, relative to out/: each is built with `kubectl kustomize` and validated whole.
OVERLAYS = "addons/observability/env/*/kustomization.yaml"

KUBECTL_HELP = "kubectl is not installed: `make test` needs it for `kubectl kustomize` (apt-get install kubectl)"


@pytest.fixture(scope="module")
def kubeconform() -> str:
    return find_kubeconform()


def check(kubeconform: str, paths_or_text) -> None:
    ok, output = validate(paths_or_text, kubeconform)
    assert ok, output


def rendered_objects(out: Path, patterns: list[str] = RENDERED_OBJECTS) -> list[Path]:
    files = []
    for pattern in patterns:
        found = sorted(out.glob(pattern))
        assert found, f"no rendered file matches {pattern!r} under {out}: update RENDERED_OBJECTS"
        files += found
    return files


# ---- samples ---------------------------------------------------------------------------------

PROMETHEUS_RULE = """\
# a comment header, as the generated files have
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: sample
  namespace: kfm-observability
  labels:
    prometheus: kfm
spec:
  groups:
  - name: sample
    interval: 1m
    rules:
    - record: job:up:sum
      expr: sum by (job) (up)
    - alert: Down
      expr: up == 0
      for: 5m
      labels:
        severity: page
      annotations:
        summary: down
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: grafana-dashboard-sample
  labels:
    grafana_dashboard: '1'
  annotations:
    grafana_folder: KFM
data:
  sample.json: |
    {"title": "sample"}
"""

OPENTELEMETRY_COLLECTOR = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: sample
spec:
  mode: deployment
  replicas: 2
  image: otel/opentelemetry-collector-contrib:0.161.0
  config:
    receivers:
      otlp:
        protocols:
          grpc:
            endpoint: 0.0.0.0:4317
    processors:
      batch: {}
    exporters:
      debug: {}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [debug]
  envFrom:
  - secretRef:
      name: endpoints
"""

OPENTELEMETRY_COLLECTOR_V1ALPHA1 = """\
apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: sample
spec:
  mode: deployment
  config: |
    receivers: {otlp: {protocols: {grpc: {}}}}
    exporters: {debug: {}}
    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}
"""

THANOS_RULER = """\
apiVersion: monitoring.coreos.com/v1
kind: ThanosRuler
metadata:
  name: sample
  namespace: kfm-observability
spec:
  queryEndpoints:
  - dnssrv+_http._tcp.thanos-query.monitoring.svc.cluster.local
  ruleSelector:
    matchLabels:
      thanos-ruler: kfm
  evaluationInterval: 1m
  retention: 35d
"""

VALID = {
    "monitoring.coreos.com/prometheusrule_v1.json": PROMETHEUS_RULE,
    "monitoring.coreos.com/thanosruler_v1.json": THANOS_RULER,
    "opentelemetry.io/opentelemetrycollector_v1beta1.json": OPENTELEMETRY_COLLECTOR,
    "opentelemetry.io/opentelemetrycollector_v1alpha1.json": OPENTELEMETRY_COLLECTOR_V1ALPHA1,
    "configmap-v1.json": CONFIGMAP,
}


@pytest.mark.parametrize("schema", sorted(VALID))
def test_a_valid_object_passes(kubeconform, schema):
    check(kubeconform, VALID[schema])


def test_every_schema_is_exercised_by_a_valid_sample():
    # A schema kubeconform cannot compile reads as "could not find schema": only a passing sample
    # shows that a schema file works, so each one needs a sample above.
    files = sorted(p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*.json"))
    assert files, "schemas/ is empty: run make schemas"
    for rel in files:
        assert any(rel.endswith(name) for name in VALID), f"no valid sample for schemas/{rel}"


def test_several_documents_and_files_at_once(kubeconform, tmp_path):
    (tmp_path / "a.yaml").write_text(PROMETHEUS_RULE + "---\n" + CONFIGMAP)
    (tmp_path / "b.yaml").write_text(OPENTELEMETRY_COLLECTOR)
    ok, output = validate([tmp_path / "a.yaml", tmp_path / "b.yaml"], kubeconform)
    assert ok, output
    assert report(output)["summary"]["valid"] == 3


# ---- what must fail ----------------------------------------------------------------------------

INVALID = {
    # (document, a fragment expected in the report)
    "misspelled rule list": (PROMETHEUS_RULE.replace("    rules:\n", "    rulez:\n"), "'rulez' not allowed"),
    "misspelled rule field": (PROMETHEUS_RULE.replace("      for: 5m", "      fro: 5m"), "'fro' not allowed"),
    "misspelled top-level field": (PROMETHEUS_RULE.replace("spec:\n", "sepc:\n"), "'sepc' not allowed"),
    "misspelled metadata field": (PROMETHEUS_RULE.replace("  labels:\n    prometheus", "  lables:\n    prometheus"),
                                  "'lables' not allowed"),
    "rule group without a name": (PROMETHEUS_RULE.replace("  - name: sample\n", "  - interval: 2m\n")
                                  .replace("    interval: 1m\n", ""), "missing property 'name'"),
    "collector replicas as a string": (OPENTELEMETRY_COLLECTOR.replace("replicas: 2", "replicas: two"),
                                       "/spec/replicas"),
    "collector mode not in the enum": (OPENTELEMETRY_COLLECTOR.replace("mode: deployment", "mode: deploymnet"),
                                       "/spec/mode"),
    "collector pipeline without exporters": (OPENTELEMETRY_COLLECTOR.replace("          exporters: [debug]\n", ""),
                                             "missing property 'exporters'"),
    "collector misspelled spec field": (OPENTELEMETRY_COLLECTOR.replace("  envFrom:", "  envfrom:"),
                                        "'envfrom' not allowed"),
    "thanos ruler misspelled spec field": (THANOS_RULER.replace("  retention:", "  retension:"),
                                           "'retension' not allowed"),
    "thanos ruler endpoints not a list": (THANOS_RULER.replace(
        "  queryEndpoints:\n  - dnssrv+_http._tcp.thanos-query.monitoring.svc.cluster.local\n",
        "  queryEndpoints: thanos-query\n"), "/spec/queryEndpoints"),
    "configmap data value not a string": (CONFIGMAP.replace("  sample.json: |\n    {\"title\": \"sample\"}\n",
                                                            "  count: 3\n"), "/data/count"),
    "configmap misspelled field": (CONFIGMAP.replace("\ndata:", "\ndta:"), "'dta' not allowed"),
    "configmap wrong apiVersion": (CONFIGMAP.replace("apiVersion: v1", "apiVersion: v2"), "ConfigMap"),
    "duplicate key": (CONFIGMAP.replace("metadata:\n", "metadata:\n  name: twice\n"), 'key \\"name\\" already set'),
    "unknown kind": ("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
                     "could not find schema for Widget"),
    "built-in kind without a schema here": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: {}\n",
        "could not find schema for Deployment"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_object_fails(kubeconform, case):
    document, expected = INVALID[case]
    ok, output = validate(document, kubeconform)
    assert not ok, f"{case}: kubeconform accepted it\n{output}"
    assert expected in output, output
    resources = report(output)["resources"]
    assert resources and all(r["status"] in ("statusInvalid", "statusError") for r in resources), output


def test_one_bad_document_fails_the_whole_input(kubeconform):
    ok, output = validate(CONFIGMAP + "---\n" + INVALID["misspelled rule list"][0], kubeconform)
    assert not ok
    summary = report(output)["summary"]
    assert (summary["valid"], summary["invalid"]) == (1, 1), output


def test_no_resource_is_not_a_pass(kubeconform):
    ok, output = validate("# nothing here\n", kubeconform)
    assert not ok, output
    with pytest.raises(ValueError):
        validate([], kubeconform)


# ---- what the generator renders ----------------------------------------------------------------

def test_rendered_objects_are_valid(kubeconform, rendered_dir):
    files = rendered_objects(rendered_dir)
    ok, output = validate(files, kubeconform)
    assert ok, output
    assert report(output)["summary"]["valid"] >= len(files)


def test_committed_objects_are_valid(kubeconform):
    files = rendered_objects(Path(__file__).resolve().parent.parent / "out")
    ok, output = validate(files, kubeconform)
    assert ok, output


def test_every_overlay_builds_into_valid_objects(kubeconform, rendered_dir):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.fail(KUBECTL_HELP, pytrace=False)
    overlays = sorted(p.parent for p in rendered_dir.glob(OVERLAYS))
    assert overlays, f"no overlay matches {OVERLAYS!r}: update OVERLAYS"
    for overlay in overlays:
        built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
        assert built.returncode == 0, f"{overlay.name}: {built.stderr}"
        ok, output = validate(built.stdout, kubeconform)
        assert ok, f"{overlay.name}:\n{output}"
