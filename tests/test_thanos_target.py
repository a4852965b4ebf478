"""An environment over Prometheus shards (Environment(thanos_ruler=ThanosRuler(...))): what the shards
and the Thanos Ruler each get, checked by the real promtool, `thanos tools rules-check` and
kubeconform; the default single-Prometheus target is unchanged (make check on the project's out/)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from generator import conventions as c
from generator.model.catalog import load
from kubeconform_runner import find_kubeconform, validate

pytestmark = [pytest.mark.kubernetes]

SHARDS = ("eu-1", "us-1")
TARGET = f'thanos_ruler=ThanosRuler(shards={SHARDS!r}, owner="data-platform")'


def sharded_project(folder: Path, target: str = TARGET) -> Path:
    project = folder / "project"
    for name in ("slo", "alerts", "dashboards", "telemetry"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    telemetry = project / "telemetry" / "kfm.py"
    text = telemetry.read_text()
    text = text.replace("from generator import Environment, Telemetry", "from generator import Environment, Telemetry, ThanosRuler")
    text = text.replace('Environment("prod", trace_sampling_percent=5, pages=True)',
                        f'Environment("prod", trace_sampling_percent=5, pages=True, {target})')
    assert target in text
    telemetry.write_text(text)
    return project


def render_cli(project: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "render", "--root", str(project)], cwd=ROOT,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                               **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, thanos, promtool) -> dict[str, str]:
    project = sharded_project(tmp_path_factory.mktemp("sharded"))
    result = render_cli(project, {"THANOS": thanos, "PROMTOOL": promtool})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "thanos not found" not in result.stderr   # the render's verify step ran rules-check itself
    out = project / "out"
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}


def _groups(text: str) -> list[dict]:
    return yaml.safe_load(text)["groups"]


def test_only_the_sharded_environment_gets_thanos_files(sharded):
    thanos = {p for p in sharded if p.startswith(c.THANOS_DIR)}
    assert thanos and all(p.startswith(f"{c.THANOS_DIR}prod/") for p in thanos)
    assert c.thanos_ruler_object_file("prod") in thanos
    assert c.runbook_file(c.SHARD_MISSING_ALERT) in sharded and c.runbook_file(c.RULER_FAILURES_ALERT) in sharded


def test_shards_record_only_what_reads_their_raw_series(catalog, sharded):
    for slo in catalog.slos:
        path = c.thanos_shard_rules_file("prod", slo.name)
        if not slo.sli.counts_events:
            assert path not in sharded, slo.name   # freshness: the ruler reads the gauges through Query
            continue
        rules = [r for g in _groups(sharded[path]) for r in g["rules"]]
        assert rules and all(r["record"].startswith(c.SHARD_RECORDED_PREFIX) for r in rules), slo.name
        assert all("rate(" in r["expr"] and c.RECORDED_PREFIX not in r["expr"] for r in rules), slo.name
    heartbeat = _groups(sharded[c.thanos_shard_rules_file("prod", c.SHARD_HEARTBEAT_GROUP)])
    assert heartbeat == [{"name": c.SHARD_HEARTBEAT_GROUP, "rules": [{"record": c.SHARD_HEARTBEAT, "expr": "vector(1)"}]}]


def test_the_ruler_sums_the_shards_and_reads_no_raw_rate(catalog, sharded):
    for slo in catalog.slos:
        groups = _groups(sharded[c.thanos_ruler_rules_file("prod", slo.name)])
        assert {g["name"] for g in groups} >= {c.rule_group(slo.name), c.budget_rule_group(slo.name)}
        assert all(g["partial_response_strategy"] == "abort" for g in groups), slo.name
        rules = {r.get("record") or r["alert"]: r for g in groups for r in g["rules"]}
        if not slo.sli.counts_events:
            continue
        by = ", ".join([c.SLO_LABEL, *slo.sli.group_by])
        every_shard = f'(count(group by (cluster) ({c.SHARD_HEARTBEAT}{{cluster=~"eu-1|us-1"}})) == 2)'
        for record in (c.BAD_EVENTS_RATE, c.TOTAL_EVENTS_RATE, c.BAD_EVENTS_FINE_RATE, c.TOTAL_EVENTS_FINE_RATE):
            assert rules[record]["expr"] == (f'sum by ({by}) ({c.shard_record(record)}{c.slo_matcher(slo.name)}) '
                                             f'and on () {every_shard}')
        raw_rates = [name for name, r in rules.items() if "rate(" in r["expr"] and "kfm_slo" not in r["expr"]]
        assert not raw_rates, (slo.name, raw_rates)
        # The single-Prometheus rules are the same otherwise: windows, tiles, budget, alerts.
        single = {r.get("record") or r["alert"]: r for g in _groups(sharded[c.rules_file(slo.name)]) for r in g["rules"]}
        assert set(single) == set(rules)


def test_the_health_group_names_every_missing_shard_and_the_rulers_failures(sharded):
    (group,) = _groups(sharded[c.thanos_ruler_rules_file("prod", c.THANOS_HEALTH_GROUP)])
    assert group["partial_response_strategy"] == "warn"   # it must run when a shard is gone
    alerts = {r["alert"]: r for r in group["rules"]}
    missing = alerts[c.SHARD_MISSING_ALERT]
    for shard in SHARDS:
        assert f'absent({c.SHARD_HEARTBEAT}{{cluster="{shard}"}})' in missing["expr"]
    assert missing["labels"]["severity"] == "page" and missing["labels"]["team"] == "data-platform"
    failures = alerts[c.RULER_FAILURES_ALERT]
    assert 'prometheus_rule_evaluation_failures_total{job="thanos-ruler"}' in failures["expr"]
    for alert in alerts.values():
        assert alert["annotations"]["runbook_url"] == c.runbook_url(alert["alert"])


def test_the_invariants_run_on_the_ruler_with_partial_responses(sharded):
    (group,) = _groups(sharded[c.thanos_ruler_rules_file("prod", c.INVARIANTS_FILE_STEM)])
    assert group["name"] == c.INVARIANTS_GROUP and group["partial_response_strategy"] == "warn"


def test_every_file_passes_the_real_tools(sharded, thanos, promtool, tmp_path):
    shard_files, ruler_files = [], []
    for path, text in sharded.items():
        if path.startswith(c.THANOS_DIR) and path.endswith(".rules.yaml"):
            local = tmp_path / path.replace("/", "_")
            local.write_text(text)
            (ruler_files if "/ruler/" in path else shard_files).append(str(local))
    checked = subprocess.run([promtool, "check", "rules", *shard_files], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ruled = subprocess.run([thanos, "tools", "rules-check", *(f"--rules={f}" for f in ruler_files)],
                           capture_output=True, text=True)
    assert ruled.returncode == 0, ruled.stderr[-3000:]
    assert (ruled.stdout + ruled.stderr).count("result=SUCCESS") == len(ruler_files)
    # promtool refuses a ruler file (partial_response_strategy is Thanos'): the right tool checks each.
    refused = subprocess.run([promtool, "check", "rules", ruler_files[0]], capture_output=True, text=True)
    assert refused.returncode != 0


def test_the_rule_objects_hold_the_plain_files_groups_labelled_for_who_selects_them(catalog, sharded):
    objects = {p: yaml.safe_load(t) for p, t in sharded.items() if "/prometheusrules/" in p and p.startswith(c.THANOS_DIR)}
    for service in sorted({s.service for s in catalog.slos}):
        slos = sorted((s for s in catalog.slos if s.service == service), key=lambda s: s.name)
        ruler = objects[c.thanos_rule_object_file("prod", f"ruler-{service}")]
        assert ruler["metadata"]["labels"]["thanos-ruler"] == "kfm" and "prometheus" not in ruler["metadata"]["labels"]
        assert ruler["spec"]["groups"] == [g for s in slos for g in _groups(sharded[c.thanos_ruler_rules_file("prod", s.name)])]
        shard_files = [c.thanos_shard_rules_file("prod", s.name) for s in slos]
        shard_groups = [g for f in shard_files if f in sharded for g in _groups(sharded[f])]
        shard = objects.get(c.thanos_rule_object_file("prod", f"shard-{service}"))
        if not shard_groups:
            assert shard is None, service
            continue
        assert shard["metadata"]["labels"]["prometheus"] == "kfm" and "thanos-ruler" not in shard["metadata"]["labels"]
        assert shard["spec"]["groups"] == shard_groups
    assert objects[c.thanos_rule_object_file("prod", "shard-heartbeat")]["spec"]["groups"] == [
        {"name": c.SHARD_HEARTBEAT_GROUP, "rules": [{"record": c.SHARD_HEARTBEAT, "expr": "vector(1)"}]}]
    assert c.thanos_rule_object_file("prod", "ruler-health") in objects


def test_the_thanos_objects_are_valid(sharded):
    paths = sorted(p for p in sharded if p.startswith(c.THANOS_DIR) and not p.endswith(".rules.yaml"))
    assert c.thanos_ruler_object_file("prod") in paths and len(paths) > 5
    ok, output = validate("---\n".join(sharded[p] for p in paths), find_kubeconform())
    assert ok, output
    spec = yaml.safe_load(sharded[c.thanos_ruler_object_file("prod")])["spec"]
    assert spec["ruleSelector"] == {"matchLabels": {"thanos-ruler": "kfm"}} and spec["retention"] == "35d"


@pytest.mark.parametrize("which", ["plain file", "object"])
def test_a_broken_ruler_rule_stops_the_render(tmp_path, thanos, promtool, which):
    """The verify step runs rules-check on the ruler's plain files and on its PrometheusRules' groups:
    should a ruler rule ever be broken in either, the render stops (exit 2)."""
    project = sharded_project(tmp_path)
    from generator.checks import verify
    from generator.render import render
    catalog = load(project)
    files, _ = render(catalog)
    path = (c.thanos_ruler_rules_file("prod", catalog.slos[0].name) if which == "plain file"
            else c.thanos_rule_object_file("prod", f"ruler-{catalog.slos[0].service}"))
    files[path] = files[path].replace("expr: ", "expr: sum(( ", 1)
    problems, _ = verify.check_output(catalog, files, verify.Tools(promtool, None, None, thanos))
    assert [p.field for p in problems] == [f"out/{path}"], problems
    assert "thanos tools rules-check refuses it" in problems[0].message and "parse error" in problems[0].message


@pytest.mark.parametrize("target, field, message", [
    ("thanos_ruler=ThanosRuler(shards=(), owner='data-platform')", "thanos_ruler.shards", "one or more distinct"),
    ("thanos_ruler=ThanosRuler(shards=('a', 'a'), owner='data-platform')", "thanos_ruler.shards", "distinct"),
    ("thanos_ruler=ThanosRuler(shards=('a',), owner='data-platform', shard_label='__x')", "thanos_ruler.shard_label",
     "a Prometheus label name"),
    ("thanos_ruler=ThanosRuler(shards=('a',), owner='data-platform', retention='forever')", "thanos_ruler.retention",
     "a duration"),
    ("thanos_ruler='thanos'", "thanos_ruler", "a ThanosRuler(...)"),
])
def test_a_bad_target_is_refused_naming_the_field(tmp_path, target, field, message):
    project = sharded_project(tmp_path, target)
    result = render_cli(project)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if field in line]
    assert lines and message in lines[0] and lines[0].startswith("telemetry/kfm.py: "), result.stderr
    assert not (project / "out").exists()


def test_the_ruler_sums_both_shards_and_nothing_when_one_is_stale(catalog, sharded, promtool, tmp_path):
    """promtool (which refuses partial_response_strategy, so it is taken out) plays what Thanos Query
    would give the ruler: each shard's rates with its external label. The combined 5m rate is the sum
    of both; once one shard's heartbeat stops (its series stale), it is not recorded at all."""
    slo = next(s for s in catalog.slos if s.name == "evidence-resolver-availability")
    groups = _groups(sharded[c.thanos_ruler_rules_file("prod", slo.name)])
    for group in groups:
        group.pop("partial_response_strategy")
    (tmp_path / "ruler.rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    shard_total = c.shard_record(c.TOTAL_EVENTS_RATE)
    series = [{"series": f'{shard_total}{{slo="{slo.name}", cluster="eu-1"}}', "values": "3x40"},
              {"series": f'{shard_total}{{slo="{slo.name}", cluster="us-1"}}', "values": "4x40"},
              {"series": f'{c.SHARD_HEARTBEAT}{{cluster="eu-1"}}', "values": "1x40"},
              {"series": f'{c.SHARD_HEARTBEAT}{{cluster="us-1"}}', "values": "1x20 stale"}]
    total = f'{c.TOTAL_EVENTS_RATE}{{slo="{slo.name}"}}'
    test = {"rule_files": ["ruler.rules.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "promql_expr_test": [
            {"expr": total, "eval_time": "10m", "exp_samples": [{"labels": total, "value": 7}]},
            {"expr": total, "eval_time": "30m", "exp_samples": []},
        ]}]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_owner_must_be_a_team(tmp_path):
    """The policy gates (make gates) name an owner no team of alerts/teams.py has."""
    project = sharded_project(tmp_path, 'thanos_ruler=ThanosRuler(shards=("a",), owner="nobody")')
    assert render_cli(project).returncode == 0   # a policy, not a definition error: the gates say so
    result = subprocess.run([sys.executable, "-m", "generator", "gates", "--root", str(project)], cwd=ROOT,
                            capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "environment prod: thanos_ruler.owner: 'nobody' is not a team" in result.stdout + result.stderr
