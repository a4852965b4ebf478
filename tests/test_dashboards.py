"""Generated dashboards: lint rules, PromQL parsed by promtool, alert wiring, ConfigMaps."""
from __future__ import annotations

import copy
import json

import pytest
import yaml

from dashboards._uids import API_DASHBOARD_UID, EVIDENCE_DASHBOARD_UID, FRESHNESS_DASHBOARD_UID
from generator import conventions as c
from generator.checks.lint import grafana_to_promql, lint
from generator.checks.verify import OBJECT_LIMIT as CONFIGMAP_LIMIT
from promtool_runner import run


@pytest.fixture(scope="module")
def boards(rendered) -> dict[str, dict]:
    return {json.loads(text)["uid"]: json.loads(text)
            for path, text in rendered.items() if path.startswith(c.DASHBOARDS_DIR)}


@pytest.fixture(scope="module")
def rule_groups(rendered) -> list[dict]:
    return [g for path, text in rendered.items() if path.startswith(c.RULES_DIR)
            for g in yaml.safe_load(text)["groups"]]


@pytest.fixture(scope="module")
def recorded(rule_groups) -> set[str]:
    return {r["record"] for g in rule_groups for r in g["rules"] if "record" in r}


def test_the_expected_dashboards_are_rendered(boards, catalog):
    expected = {c.OVERVIEW_DASHBOARD_UID} | {c.slo_dashboard_uid(s.name) for s in catalog.slos}
    expected |= {b["uid"] for b in catalog.dashboards}  # KFM's product dashboards and the others of dashboards/
    assert {FRESHNESS_DASHBOARD_UID, EVIDENCE_DASHBOARD_UID, API_DASHBOARD_UID, "kfm-pipeline-stages"} <= expected
    assert set(boards) == expected


def test_rendered_dashboards_pass_every_lint_rule(boards, recorded):
    findings = lint(list(boards.values()), recorded)
    assert not findings, "\n".join(f.line() for f in findings)


def _with(boards: dict, uid: str, change) -> list[dict]:
    changed = copy.deepcopy(boards)
    change(changed[uid])
    return list(changed.values())


LINT_CASES = {
    "panel-datasource": lambda b: b["panels"][0].update(datasource="Prometheus"),
    "target-datasource": lambda b: b["panels"][0]["targets"][0].update(datasource=None),
    "panel-units": lambda b: b["panels"][0]["fieldConfig"]["defaults"].pop("unit"),
    "panel-description": lambda b: b["panels"][0].pop("description"),
    "panel-targets": lambda b: b["panels"][0].update(targets=[]),
    "schema-version": lambda b: b.update(schemaVersion=12),
    "not-editable": lambda b: b.update(editable=True),
    "template-datasource": lambda b: b["templating"].update(list=[]),
    "link-overview": lambda b: b.update(links=[]),
    "no-legacy": lambda b: b["panels"][0].update(span=12),
    "metric-known": lambda b: b["panels"][0]["targets"][0].update(
        expr="sum(rate(kfm_evidence_resolution_total[$__rate_interval]))"),
    "counter-rate": lambda b: b["panels"][0]["targets"][0].update(expr="sum(kfm_evidence_resolutions_total)"),
    "rate-interval": lambda b: b["panels"][0]["targets"][0].update(
        expr="sum(rate(kfm_evidence_resolutions_total[5m]))"),
    "uid-present": lambda b: b.update(uid="kfm-" + "x" * 40),
    "tag-generated": lambda b: b.update(tags=["kfm"]),
    "link-target": lambda b: b["links"].append({"type": "link", "title": "gone", "url": "/d/kfm-no-such-board"}),
    "panel-title": lambda b: b["panels"][0].update(title=""),
}


@pytest.mark.parametrize("rule", sorted(LINT_CASES))
def test_each_lint_rule_catches_its_mistake(boards, recorded, rule):
    findings = lint(_with(boards, EVIDENCE_DASHBOARD_UID, LINT_CASES[rule]), recorded)
    assert rule in {f.rule for f in findings}, [f.line() for f in findings]


def _expressions(boards: dict) -> list[str]:
    return [t["expr"] for b in boards.values() for p in b["panels"] for t in p["targets"]]


def _check_with_promtool(promtool: str, exprs: list[str], tmp_path) -> object:
    rules = [{"record": f"dashboard:query:{i}", "expr": grafana_to_promql(e)} for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard-queries.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}))
    return run(promtool, "check", "rules", str(path))


def test_every_panel_query_parses_with_promtool(promtool, boards, tmp_path):
    exprs = _expressions(boards)
    assert len(exprs) > 50
    result = _check_with_promtool(promtool, exprs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_panel_query_fails(promtool, boards, recorded, tmp_path):
    broken = _with(boards, EVIDENCE_DASHBOARD_UID, lambda b: b["panels"][0]["targets"][0].update(
        expr="sum(rated(kfm_evidence_resolutions_total[$__rate_interval]))"))
    exprs = [t["expr"] for b in broken for p in b["panels"] for t in p["targets"]]
    result = _check_with_promtool(promtool, exprs, tmp_path)
    assert result.returncode != 0 and "rated" in result.stdout + result.stderr
    misnamed = _with(boards, EVIDENCE_DASHBOARD_UID, lambda b: b["panels"][0]["targets"][0].update(
        expr="histogram_quantile(0.5, sum by (le) (rate(kfm_evidence_resolution_seconds_bucket[$__rate_interval])))"))
    assert any(f.rule == "metric-known" and "kfm_evidence_resolution_seconds_bucket" in f.message
               for f in lint(misnamed, recorded))


def test_every_alert_links_to_a_rendered_dashboard_and_panel(boards, rule_groups):
    alerts = [r for g in rule_groups for r in g["rules"] if "alert" in r]
    assert len(alerts) > 30
    for alert in alerts:
        ann = alert["annotations"]
        board = boards.get(ann["dashboard_uid"])
        assert board is not None, (alert["alert"], ann["dashboard_uid"])
        assert ann["dashboard_url"].startswith(f"/d/{ann['dashboard_uid']}")
        if "viewPanel=" in ann["dashboard_url"]:
            panel_id = int(ann["dashboard_url"].split("viewPanel=")[1])
            panel = next(p for p in board["panels"] if p["id"] == panel_id)
            labels = alert["labels"]
            assert panel["title"] == f"Burn rate {labels['severity']} {labels['long_window']}/{labels['short_window']}"


def test_overview_links_to_every_slo_dashboard(boards):
    overview = boards[c.OVERVIEW_DASHBOARD_UID]
    table = next(p for p in overview["panels"] if p["title"].startswith("SLOs, worst"))
    links = [link for o in table["fieldConfig"]["overrides"] for prop in o["properties"] if prop["id"] == "links"
             for link in prop["value"]]
    assert links and links[0]["url"].startswith(f"/d/{c.SLO_DASHBOARD_PREFIX}${{__value.raw}}")


def test_configmaps_provision_each_dashboard(rendered, boards):
    for uid, board in boards.items():
        configmap = yaml.safe_load(rendered[c.dashboard_configmap_file(uid)])
        assert configmap["kind"] == "ConfigMap"
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"]["grafana_folder"] == "KFM"
        body = configmap["data"][f"{uid}.json"]
        assert json.loads(body) == board
        assert body == rendered[c.dashboard_file(uid)]
        assert len(body.encode()) < CONFIGMAP_LIMIT
