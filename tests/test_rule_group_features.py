"""Prometheus rule features newer than 2.42: keep_firing_for on a tier's alerts, query_offset on an SLO's
groups, and the Prometheus version each environment declares, which decides whether they are allowed.

The real promtools are the judges: keep_firing_for runs on 2.42 and 3.16 with the simulator's
prediction exact minute by minute; query_offset (Prometheus 2.53+) runs on 3.16, 2.42 refuses the
file (as its header says), and a rule file without the offset, with a smaller one or with a shorter
keep_firing_for fails the generated tests.
"""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import copy_project, declare_prometheus, run_cli
from generator import conventions as c
from generator.model.catalog import load
from generator.prometheus.simulate import Semantics
from kubeconform_runner import validate
from promtool_runner import exact_recovery_test, needs_prometheus_3, run, run_mutated

SLO_NAME = "evidence-remote-availability"


def _definition(alerting: str) -> str:
    return f'''"""An SLO over series that arrive late, by remote write."""
from generator import SLO, Alerting, EventsRatio, Tier
from generator import conventions as c

SLOS = [
    SLO(
        name="{SLO_NAME}",
        service="evidence-resolver",
        owner="evidence",
        description="Evidence resolutions succeed (their series arrive by remote write).",
        objective=0.999,
        sli=EventsRatio(total=c.EVIDENCE_RESOLUTIONS, bad=f'{{c.EVIDENCE_RESOLUTIONS}}{{{{{{c.OUTCOME}}="error"}}}}'),
        alerting={alerting},
        runbook="- Check the remote-write queue first.\\n",
    ),
]
'''


LAGGING = ('Alerting(query_offset="5m", no_data_for="10m", page=Tier(keep_firing_for="5m"), '
           'ticket=Tier(keep_firing_for="90s"))')
KEEPING = 'Alerting(page=Tier(keep_firing_for="10m"), ticket=Tier(keep_firing_for="90s"))'


def _project(root, alerting: str, version: str | None):
    copy_project(root)
    if version:
        declare_prometheus(root, version)
    (root / "slo" / "lagging.py").write_text(_definition(alerting))
    result = run_cli("render", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("lagging"), LAGGING, "3.16")


@pytest.fixture(scope="module")
def keeping(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("keeping"), KEEPING, None)   # the default: 2.42 everywhere


def _groups(project) -> list[dict]:
    return yaml.safe_load((project / "out" / c.rules_file(SLO_NAME)).read_text())["groups"]


def test_the_options_reach_the_rules_and_the_prometheus_rule_object(lagging):
    groups = _groups(lagging)
    assert [g.get("query_offset") for g in groups] == ["5m", "5m", "5m"]   # alerting, tiles, budget
    alerts = [r for g in groups for r in g["rules"] if r.get("alert", "").endswith(("BurnPage", "BurnTicket"))]
    assert {(r["labels"]["severity"], r["keep_firing_for"]) for r in alerts} == {("page", "5m"), ("ticket", "1m30s")}
    no_data = [r for g in groups for r in g["rules"] if r.get("alert") == c.no_data_alert(SLO_NAME)]
    assert no_data and "keep_firing_for" not in no_data[0]
    rule_object = lagging / "out" / c.prometheus_rule_file("evidence-resolver")
    spec = yaml.safe_load(rule_object.read_text())["spec"]
    assert {g["name"]: g.get("query_offset") for g in spec["groups"]}[c.rule_group(SLO_NAME)] == "5m"
    # The pinned prometheus-operator CRD knows both fields (strict: an unknown field fails).
    ok, report = validate([rule_object])
    assert ok, report
    assert json.loads(report)["summary"]["valid"] == 1, report


def test_query_offset_tests_pass_on_promtool_3_and_2_42_refuses_the_rules(lagging, promtools):
    test_file = lagging / "out" / c.rules_test_file(SLO_NAME)
    assert needs_prometheus_3(test_file)
    on_3 = run(promtools["3.x"], "test", "rules", test_file.name, cwd=test_file.parent)
    assert on_3.returncode == 0 and "SUCCESS" in on_3.stdout, (on_3.stdout + on_3.stderr)[-3000:]
    on_2 = run(promtools["2.x"], "check", "rules", str(lagging / "out" / c.rules_file(SLO_NAME)))
    assert on_2.returncode != 0 and "query_offset" in on_2.stdout + on_2.stderr


@pytest.mark.parametrize("old, new", [("  query_offset: 5m\n", ""), ("  query_offset: 5m\n", "  query_offset: 3m\n"),
                                      ("keep_firing_for: 5m", "keep_firing_for: 2m"),
                                      ("    keep_firing_for: 1m30s\n", "")])
def test_the_generated_tests_fail_when_the_offset_or_keep_firing_for_is_wrong(lagging, promtool3, tmp_path, old, new):
    """Each mutation moves a transition by two minutes or more; one minute (90s kept as 30s) is inside
    the generated tests' one-evaluation tolerance, like any transition (docs/testing.md)."""
    result = run_mutated(promtool3, lagging / "out", SLO_NAME, old, new, tmp_path)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr, result.stdout[-2000:]


def test_keep_firing_for_runs_on_both_versions(keeping, promtools):
    test_file = keeping / "out" / c.rules_test_file(SLO_NAME)
    assert not needs_prometheus_3(test_file)
    for version, promtool in promtools.items():
        result = run(promtool, "test", "rules", test_file.name, cwd=test_file.parent)
        assert result.returncode == 0, f"{version}: " + (result.stdout + result.stderr)[-3000:]


@pytest.mark.parametrize("version, semantics", [("2.x", Semantics.CLOSED), ("3.x", Semantics.LEFT_OPEN)])
def test_the_kept_firing_is_predicted_minute_by_minute(keeping, promtools, tmp_path, version, semantics):
    slo = next(s for s in load(keeping).slos if s.name == SLO_NAME)
    assert {p.keep_firing_for for p in slo.all_pairs()} == {600, 90}
    document, asserted, skipped = exact_recovery_test(slo, keeping / "out" / c.rules_file(SLO_NAME), semantics)
    (tmp_path / "exact.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    result = run(promtools[version], "test", "rules", "exact.yaml", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert asserted > 1000 and skipped * 100 < asserted, (asserted, skipped)


REFUSED = {  # (Alerting(...), environments' Prometheus): the field the one error names, and a phrase of it
    ('Alerting(query_offset="2m")', None): ("alerting.query_offset", "'prod' runs 2.42"),
    ('Alerting(query_offset="90s")', "3.16"): ("alerting.query_offset", "whole minutes"),
    ('Alerting(query_offset="11m")', "3.16"): ("alerting.query_offset", "at most 10m"),
    ('Alerting(query_offset="10m")', "3.16"): ("alerting.query_offset", "shorter than no_data_for"),
    ('Alerting(query_offset="soon")', "3.16"): ("alerting.query_offset", "soon"),
    ('Alerting(query_offset=2)', "3.16"): ("alerting.query_offset", "expected a duration"),
    ('Alerting(page=Tier(keep_firing_for="2h"))', None): ("alerting.page.keep_firing_for", "at most 1h"),
    ('Alerting(ticket=Tier(keep_firing_for="0s"))', None): ("alerting.ticket.keep_firing_for", "leave it out"),
}


@pytest.mark.parametrize("alerting, version", sorted(REFUSED, key=str))
def test_wrong_options_are_refused_naming_the_field(tmp_path, alerting, version):
    copy_project(tmp_path)
    if version:
        declare_prometheus(tmp_path, version)
    (tmp_path / "slo" / "lagging.py").write_text(_definition(alerting))
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    field, phrase = REFUSED[(alerting, version)]
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("slo/")]
    assert len(lines) == 1 and lines[0].startswith(f"slo/lagging.py: SLO '{SLO_NAME}': {field}: "), lines
    assert phrase in lines[0], lines[0]
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("version, phrase", [("2.41", "older than 2.42"), ("banana", "not a Prometheus version"),
                                             ("4.0", "not known"), ("3", "not a Prometheus version")])
def test_an_environment_declares_a_prometheus_version_the_generator_knows(tmp_path, version, phrase):
    copy_project(tmp_path)
    declare_prometheus(tmp_path, version)
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert any("prometheus_version" in ln and phrase in ln for ln in result.stderr.splitlines()), result.stderr


def test_declaring_a_version_without_using_a_feature_changes_only_what_the_telemetry_hash_covers(tmp_path):
    """The version is part of the telemetry definitions (its hash); rules and tests stay byte-identical."""
    copy_project(tmp_path)
    declare_prometheus(tmp_path, "3.16")
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from conftest import ROOT
    rules = sorted((tmp_path / "out" / "prometheus").rglob("*.yaml"))
    assert rules and all(p.read_bytes() == (ROOT / "out" / p.relative_to(tmp_path / "out")).read_bytes()
                         for p in rules)
    board = tmp_path / "out" / c.dashboard_file(c.slo_dashboard_uid("evidence-resolver-availability"))
    assert json.loads(board.read_text()) == json.loads((ROOT / "out" / board.relative_to(tmp_path / "out")).read_text())
