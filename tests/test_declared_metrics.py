"""SLOs over metrics KFM's helpers do not emit (an exporter's, another service's), declared in the
definitions with Metric(...): the contract gate checks every query against KFM's helpers and the
declarations, an undeclared metric fails naming the query and how to declare it, and adding such an
SLO rewrites only the files it changes."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT, copy_project, run_cli
from generator import conventions as c
from generator.model.windows import PAGE
from generator.model.catalog import load
from generator.checks.contract import check_contract
from generator.model.declared_metrics import Metric
from kfm_instrument import contract_exposition
from generator.model.problems import DefinitionError
from promtool_runner import run

TILES = "slo/tiles.py"
SLO_NAME = "tile-server-availability"


def _without_declaration(project) -> None:
    path = project / TILES
    text, count = re.subn(r"METRICS = \[.*?\n\]\n", "", path.read_text(), flags=re.S)
    assert count == 1
    path.write_text(text)


def test_the_shipped_example_declares_its_exporter_metric(catalog):
    metric, = [m for m in catalog.metrics if m.name == "nginx_ingress_controller_requests"]
    assert metric.type == "counter" and "ingress-nginx" in metric.source and catalog.relative(metric.defined_in) == TILES
    slo = next(s for s in catalog.slos if s.name == SLO_NAME)
    assert {s.metric for s in slo.sli.source_selectors()} == {metric.name}


def test_removing_the_declaration_fails_the_contract_gate_naming_the_query(tmp_path):
    copy_project(tmp_path)
    _without_declaration(tmp_path)
    assert run_cli("render", cwd=tmp_path).returncode == 0   # rendering is fine; the gate is the check
    result = run_cli("gates", cwd=tmp_path)
    assert result.returncode != 0
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if "nginx_ingress_controller_requests" in ln]
    assert lines, result.stdout
    first = lines[0].strip()
    assert first.startswith(f"out/{c.rules_file(SLO_NAME)}: nginx_ingress_controller_requests{{"), first
    assert "not in the helpers' exposition nor declared" in first
    assert "METRICS = [Metric('nginx_ingress_controller_requests', <type>" in first and "docs/metrics.md" in first


def test_the_runbooks_say_where_the_data_comes_from(rendered_dir):
    text = (rendered_dir / c.runbook_file(c.burn_alert(SLO_NAME, PAGE))).read_text()
    assert "## Where the data comes from" in text and "the ingress-nginx controller" in text and TILES in text
    other = (rendered_dir / c.runbook_file(c.burn_alert("evidence-resolver-availability", PAGE))).read_text()
    assert "Where the data comes from" not in other


def test_adding_the_slo_and_its_declaration_rewrites_only_what_they_change(tmp_path):
    copy_project(tmp_path)
    (tmp_path / TILES).unlink()
    assert run_cli("render", cwd=tmp_path).returncode == 0
    before = {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
              for p in (tmp_path / "out").rglob("*") if p.is_file()}
    (tmp_path / TILES).write_text((ROOT / TILES).read_text())
    assert run_cli("render", cwd=tmp_path).returncode == 0
    after = {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
             for p in (tmp_path / "out").rglob("*") if p.is_file()}
    changed = sorted(path for path in before if after.get(path) != before[path])
    # The kustomizations list the new files; nothing else that existed changes.
    assert changed == sorted([f"{c.GITOPS_BASE}/kustomization.yaml"]
                             + [c.kustomization_file(c.overlay_dir(e)) for e in ("dev", "prod", "stage")])
    added = sorted(set(after) - set(before))
    assert c.rules_file(SLO_NAME) in added and c.rules_test_file(SLO_NAME) in added and len(added) == 11, added


def _project_with(tmp_path, source: str):
    copy_project(tmp_path)
    (tmp_path / "slo" / "extra.py").write_text(
        "from generator import SLO, EventsRatio, Latency, Metric\n\n" + source)
    return run_cli("render", cwd=tmp_path)


BAD_DECLARATIONS = {  # Metric(...) arguments: the field the error names, a phrase of the message
    "'db:queries', 'counter', source='db'": ("name", "':' is for recorded series"),
    "'db_queries_total', 'timer', source='db'": ("type", "must be one of"),
    "'db_seconds_bucket', 'histogram', source='db', buckets=(1,)": ("name", "base name"),
    "'db_queries_total', 'counter', source='db', buckets=(1,)": ("buckets", "only a classic histogram"),
    "'db_seconds', 'histogram', source='db'": ("buckets", "bucket boundaries"),
    "'db_queries_total', 'counter', labels={'le': None}, source='db'": ("labels", "cannot be declared"),
    "'db_queries_total', 'counter', labels={'op': ()}, source='db'": ("labels", "tuple of 1 to"),
    "'db_queries_total', 'counter', labels={'op': ('',)}, source='db'": ("labels", "empty value"),
    "'db_queries_total', 'counter'": ("source", "where the metric comes from"),
    "c.EVIDENCE_RESOLUTIONS, 'counter', source='x'": ("name", "KFM's own contract"),
}


@pytest.mark.parametrize("arguments", sorted(BAD_DECLARATIONS))
def test_bad_declarations_are_refused_naming_the_field(tmp_path, arguments):
    result = _project_with(tmp_path, f"from generator import conventions as c\nMETRICS = [Metric({arguments})]\n")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    field, phrase = BAD_DECLARATIONS[arguments]
    assert any(ln.startswith("slo/extra.py: metric ") and f": {field}: " in ln and phrase in ln
               for ln in result.stderr.splitlines()), result.stderr


def test_a_name_declared_twice_is_refused(tmp_path):
    result = _project_with(tmp_path, "METRICS = [Metric('db_seconds', 'histogram', source='a', buckets=(1,)),\n"
                                     "           Metric('db_seconds_count', 'counter', source='b')]\n")
    assert result.returncode == 2 and "db_seconds_count is already declared by metric 'db_seconds'" in result.stderr


LATENCY = '''METRICS = [Metric("db_query_duration_seconds", "histogram", labels={"op": ("read", "write")},
                   source="the database exporter", buckets=(0.01, 0.1, 1, 10))]
SLOS = [SLO(name="db-query-latency", service="database", owner="data-platform", description="Queries are fast.",
            objective=0.99, runbook="- Check the slow-query log.\\n",
            sli=Latency(histogram='db_query_duration_seconds{op="read"}', threshold_seconds=THRESHOLD))]
'''


def test_a_latency_slo_over_a_declared_histogram_renders_and_its_tests_pass_on_both(tmp_path, promtools):
    result = _project_with(tmp_path, LATENCY.replace("THRESHOLD", "1"))
    assert result.returncode == 0, result.stderr
    rules = (tmp_path / "out" / c.rules_file("db-query-latency")).read_text()
    assert 'db_query_duration_seconds_bucket{op="read", le=~"1|1\\\\.0"}' in rules, rules
    gates = run_cli("gates", cwd=tmp_path)
    assert gates.returncode == 0 and "PASS metric-contract (2 declared metrics" in gates.stdout, gates.stdout
    test_file = tmp_path / "out" / c.rules_test_file("db-query-latency")
    for version, promtool in promtools.items():
        done = run(promtool, "test", "rules", test_file.name, cwd=test_file.parent)
        assert done.returncode == 0, f"{version}: {done.stdout[-2000:]}"


def test_a_latency_threshold_must_be_a_declared_bucket(tmp_path):
    result = _project_with(tmp_path, LATENCY.replace("THRESHOLD", "0.5"))
    assert result.returncode == 2
    assert ("slo/extra.py: SLO 'db-query-latency': sli.threshold_seconds: 0.5 is not a bucket boundary of "
            "db_query_duration_seconds (0.01, 0.1, 1, 10; slo/extra.py)") in result.stderr, result.stderr


def test_an_undeclared_histogram_is_refused_saying_how_to_declare_it(tmp_path):
    result = _project_with(tmp_path, LATENCY.split("SLOS = ")[0].replace("db_query_duration_seconds", "other_seconds")
                           + "SLOS = " + LATENCY.split("SLOS = ")[1].replace("THRESHOLD", "1"))
    assert result.returncode == 2
    assert ("sli.histogram: 'db_query_duration_seconds' is not a classic histogram of KFM's contract or of a Metric "
            "declaration; declare it: METRICS = [Metric('db_query_duration_seconds', 'histogram'") in result.stderr


def test_the_contract_checks_declared_labels_and_bounded_values(tmp_path):
    declared = (Metric("db_query_duration_seconds", "histogram", labels={"op": ("read", "write")}, source="db",
                       buckets=(1,), defined_in="slo/extra.py"),)
    rules = ("groups:\n- name: g\n  rules:\n"
             "  - record: a:bad_value\n    expr: sum(rate(db_query_duration_seconds_count{op=\"delete\"}[5m]))\n"
             "  - record: a:bad_label\n    expr: sum(rate(db_query_duration_seconds_count{table=\"x\"}[5m]))\n"
             "  - record: a:good\n    expr: sum by (op, le) (rate(db_query_duration_seconds_bucket{op=\"read\"}[5m]))\n")
    problems = check_contract({c.rules_file("x"): rules}, contract_exposition(), declared=declared)
    assert any("a:bad_value" in p and "op takes only read, write" in p for p in problems), problems
    assert any("a:bad_label" in p and "label table is not on" in p for p in problems), problems
    assert not [p for p in problems if "a:good" in p], problems


def test_declarations_load_from_any_definitions_folder(tmp_path):
    copy_project(tmp_path)
    (tmp_path / "alerts" / "exporters.py").write_text(
        "from generator import Metric\nMETRICS = [Metric('kube_pod_status_ready', 'gauge', "
        "labels={'namespace': None, 'pod': None, 'condition': ('true', 'false', 'unknown')}, "
        "source='kube-state-metrics')]\n")
    catalog = load(tmp_path)
    assert [m.name for m in catalog.metrics] == ["kube_pod_status_ready", "nginx_ingress_controller_requests"]
    with pytest.raises(DefinitionError):
        (tmp_path / "alerts" / "more.py").write_text(
            "from generator import Metric\nMETRICS = [Metric('kube_pod_status_ready', 'gauge', source='again')]\n")
        load(tmp_path)
