"""The GitOps tree: kubectl kustomize builds every overlay, and what each overlay
changes is exactly what the environments' definitions say."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator.kubernetes import jsonpatch
from promtool_runner import run as run_promtool

pytestmark = pytest.mark.kubernetes

KUBECTL_HELP = "kubectl is not installed: `make test` needs it for `kubectl kustomize` (apt-get install kubectl)"


def kustomize(folder: Path) -> subprocess.CompletedProcess:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.fail(KUBECTL_HELP, pytrace=False)
    return subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(rendered_dir, catalog) -> dict[str, list[dict]]:
    objects = {}
    for env in catalog.telemetry.environments:
        result = kustomize(rendered_dir / c.overlay_dir(env.name))
        assert result.returncode == 0, f"{env.name}: {result.stderr}"
        objects[env.name] = [o for o in yaml.safe_load_all(result.stdout) if o]
    return objects


def alerts(objects: list[dict]) -> list[dict]:
    return [rule for o in objects if o["kind"] == "PrometheusRule"
            for group in o["spec"]["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_environment_builds_every_base_object(built, rendered):
    base = [yaml.safe_load(text) for path, text in rendered.items()
            if path.startswith(c.GITOPS_BASE + "/") and not path.endswith("kustomization.yaml")]
    expected = sorted((o["kind"], o["metadata"]["name"]) for o in base)
    assert {"PrometheusRule", "ConfigMap", "OpenTelemetryCollector"} <= {kind for kind, _ in expected}
    for env, objects in built.items():
        assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == expected, env


def test_every_object_carries_its_environment_and_namespace(built, catalog):
    for env in catalog.telemetry.environments:
        for obj in built[env.name]:
            assert obj["metadata"]["labels"][c.ENVIRONMENT_OBJECT_LABEL] == env.name
            assert obj["metadata"]["namespace"] == env.namespace


def test_only_paging_environments_page(built, catalog):
    for env in catalog.telemetry.environments:
        rules = alerts(built[env.name])
        severities = {rule["labels"]["severity"] for rule in rules}
        assert all(rule["labels"][c.ENVIRONMENT_LABEL] == env.name for rule in rules)
        if env.pages:
            assert "page" in severities, env.name
        else:
            assert severities == {"ticket"}, env.name
            # The tier still tells which window pair fired.
            assert any(rule["labels"].get(c.TIER_LABEL, "").startswith("page-") for rule in rules)


def test_paging_environment_keeps_the_base_alerts_unchanged_but_for_its_label(built, rendered, catalog):
    prod = next(e for e in catalog.telemetry.environments if e.pages)
    base_alerts = alerts([yaml.safe_load(t) for p, t in rendered.items()
                          if p.startswith(c.GITOPS_BASE + "/prometheusrules/")])
    for rule in base_alerts:
        rule["labels"][c.ENVIRONMENT_LABEL] = prod.name
    key = lambda r: (r["alert"], sorted(r["labels"].items()))  # noqa: E731
    assert sorted(alerts(built[prod.name]), key=key) == sorted(base_alerts, key=key)


def test_prometheus_rules_carry_the_rule_selector_labels(built, catalog):
    for env in catalog.telemetry.environments:
        for obj in built[env.name]:
            if obj["kind"] == "PrometheusRule":
                assert dict(env.rule_selector).items() <= obj["metadata"]["labels"].items()


def test_overlay_collector_config_equals_the_plain_config_of_its_environment(built, rendered_dir):
    for env, objects in built.items():
        collector = next(o for o in objects if o["kind"] == "OpenTelemetryCollector")
        plain = yaml.safe_load((rendered_dir / c.collector_config_file(env)).read_text())
        assert collector["spec"]["config"] == plain, env


def test_built_rules_pass_promtool(built, promtool, tmp_path):
    for env, objects in built.items():
        groups = [g for o in objects if o["kind"] == "PrometheusRule" for g in o["spec"]["groups"]]
        path = tmp_path / f"{env}.rules.yaml"
        path.write_text(yaml.safe_dump({"groups": groups}))
        result = run_promtool(promtool, "check", "rules", str(path))
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_moved_base_rule_fails_the_build(rendered_dir, tmp_path):
    """The overlay patches address rules by index; their test ops make a stale index fail closed."""
    tree = tmp_path / "out"
    shutil.copytree(rendered_dir, tree)
    path = tree / c.prometheus_rule_file("evidence-resolver")
    obj = yaml.safe_load(path.read_text())
    obj["spec"]["groups"][0]["rules"].reverse()
    path.write_text(yaml.safe_dump(obj))
    result = kustomize(tree / c.overlay_dir("prod"))
    assert result.returncode != 0
    assert "testing value" in result.stderr


# --- the JSON Patch differ --------------------------------------------------

def test_diff_escapes_pointer_characters_and_round_trips():
    old = {"exporters": {"otlp_grpc/tempo": {"endpoint": "a"}, "x~y": 1}, "list": [1, 2], "gone": True}
    new = {"exporters": {"otlp_grpc/tempo": {"endpoint": "b"}, "x~y": 2, "debug": {}}, "list": [1, 2, 3]}
    assert jsonpatch.diff(old, new) == [
        {"op": "add", "path": "/exporters/debug", "value": {}},
        {"op": "replace", "path": "/exporters/otlp_grpc~1tempo/endpoint", "value": "b"},
        {"op": "replace", "path": "/exporters/x~0y", "value": 2},
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/list", "value": [1, 2, 3]},
    ]
    assert jsonpatch.apply(old, jsonpatch.diff(old, new)) == new


def test_diff_tells_booleans_from_numbers():
    assert jsonpatch.diff({"a": 1}, {"a": True}) == [{"op": "replace", "path": "/a", "value": True}]
    assert jsonpatch.diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
