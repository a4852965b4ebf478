"""`import openslo` and `export openslo`: OpenSLO v1 fixtures written from the specification import into
definitions that render and pass their generated tests; the export is byte-stable and re-imports into
definitions that render byte-identical rules; every unsupported field is refused, exit 2, naming it."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from conftest import ROOT
from interop_support import assert_rules_and_tests_pass, cli, project, render

FIXTURES = ROOT / "tests" / "fixtures" / "openslo"
IMPORTED = ("checkout-availability", "payment-latency", "export-builds")
OWN_FILES = ("evidence.py", "focus_mode.py", "governed_api.py", "pipelines.py", "tiles.py")


def fixtures() -> list[str]:
    return sorted(str(p) for p in FIXTURES.glob("*.yaml"))


def rule_files(files: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in files.items() if path.startswith("prometheus/rules/")}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = project(tmp_path_factory.mktemp("openslo"))
    result = cli("import", "openslo", *fixtures(), "--root", str(root))
    assert result.returncode == 0, result.stderr
    return root, render(root)


def test_the_fixtures_import_as_definitions_of_the_fields_they_use(imported):
    root, _ = imported
    checkout = (root / "slo" / "checkout.py").read_text()
    assert 'owner="evidence"' in checkout and 'period="28d"' in checkout and "objective=0.995," in checkout
    assert "good=f'{CHECKOUT_REQUESTS_TOTAL}{{code!~\"5..\"}}'" in checkout      # via the DataSource reference
    assert 'labels={"env": "prod"}' in checkout
    assert 'page=Tier(labels={"channel": "#checkout"})' in checkout              # the 28d page pairs: the defaults
    assert 'BurnWindow("22h24m", "1h52m", "3", for_="1h")' in checkout          # one ticket pair of the period
    payments = (root / "slo" / "payments.py").read_text()
    assert "Latency(" in payments and "threshold_seconds=0.3," in payments and 'owner="governance"' in payments
    assert '"histogram"' in payments and "buckets=(0.3,)" in payments
    assert "alerting=" not in payments                                          # the four Workbook pairs: defaults
    exports = (root / "slo" / "exports.py").read_text()
    assert 'period="7d"' in exports and "objective=0.95," in exports
    assert "bad=f'{EXPORT_BUILDS_TOTAL}{{status=\"failed\"}}'" in exports
    assert exports.count('Tier.disabled("The openslo/v1 spec defines no alert policy for this SLO.")') == 2


def test_the_imported_slos_render_and_their_generated_tests_pass(imported, promtools):
    root, files = imported
    rules = [root / "out" / "prometheus" / "rules" / f"{name}.rules.yaml" for name in IMPORTED]
    tests = [root / "out" / "prometheus" / "tests" / f"{name}.test.yaml" for name in IMPORTED]
    assert 'payment_request_duration_seconds_bucket{route="/pay", le="0.3"}' in files[
        "prometheus/rules/payment-latency.rules.yaml"]
    assert_rules_and_tests_pass(promtools, rules, tests)


def test_the_gates_pass_but_for_the_page_tier_the_spec_left_without_alerts(imported):
    root, _ = imported
    result = cli("gates", "--root", str(root))
    assert "PASS metric-contract" in result.stdout and "PASS owner-and-runbook" in result.stdout
    assert "FAIL page-tier-waiver" in result.stdout and "slo/exports.py: SLO export-builds" in result.stdout


# --- export, and back --------------------------------------------------------------------------------

def export(root: Path, out: Path, *flags: str) -> dict[str, bytes]:
    result = cli("export", "openslo", "--out", str(out), "--root", str(root), "--skip-unsupported", *flags)
    assert result.returncode == 0, result.stderr
    assert "skipped: slo/freshness.py: SLO 'dataset-freshness': sli: a freshness SLI has no OpenSLO form" in result.stderr
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def fresh_project(tmp_path: Path) -> Path:
    """The project without the SLO files the export holds (the freshness SLO has no OpenSLO form)."""
    root = project(tmp_path)
    for name in OWN_FILES:
        (root / "slo" / name).unlink()
    return root


@pytest.fixture(scope="module")
def round_trip(imported, tmp_path_factory):
    root, files = imported
    scratch = tmp_path_factory.mktemp("round-trip")
    exported = export(root, scratch / "export")
    again = fresh_project(scratch / "b")
    result = cli("import", "openslo", *sorted(str(p) for p in (scratch / "export").iterdir()), "--root", str(again))
    assert result.returncode == 0, result.stderr
    return files, exported, again, render(again), scratch


def test_export_writes_openslo_v1_documents_per_service(round_trip):
    _, exported, _, _, _ = round_trip
    assert sorted(exported) == ["checkout.yaml", "data-pipelines.yaml", "evidence-resolver.yaml", "exports.yaml",
                                "focus-mode.yaml", "governed-api.yaml", "payments.yaml", "tile-server.yaml"]
    documents = list(yaml.safe_load_all(exported["checkout.yaml"]))
    kinds = [d["kind"] for d in documents]
    assert kinds == ["Service", "AlertCondition", "AlertCondition", "AlertPolicy", "AlertCondition", "AlertPolicy", "SLO"]
    assert all(d["apiVersion"] == "openslo/v1" for d in documents)
    slo = documents[-1]
    assert slo["spec"]["budgetingMethod"] == "Occurrences"
    assert slo["spec"]["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    assert slo["spec"]["objectives"] == [{"target": 0.995}]
    assert slo["spec"]["indicator"]["spec"]["ratioMetric"]["good"]["metricSource"] == {
        "type": "Prometheus", "spec": {"query": 'checkout_requests_total{code!~"5.."}'}}
    assert slo["metadata"]["labels"] == {"env": "prod", "team": "evidence"}
    ticket = documents[4]["spec"]
    assert ticket["severity"] == "ticket" and ticket["condition"] == {
        "kind": "burnrate", "op": "gt", "threshold": 3, "lookbackWindow": "22h24m", "alertAfter": "1h"}
    latency = list(yaml.safe_load_all(exported["payments.yaml"]))[-1]["spec"]
    assert latency["objectives"] == [{"op": "lte", "value": 0.3, "target": 0.99}]
    assert "thresholdMetric" in latency["indicator"]["spec"]


def test_openslo_import_render_export_import_render_is_byte_identical(round_trip):
    before, _, _, after, _ = round_trip
    for name in IMPORTED:
        path = f"prometheus/rules/{name}.rules.yaml"
        assert after[path] == before[path], path
        test = f"prometheus/tests/{name}.test.yaml"
        assert after[test] == before[test], test


def test_the_projects_own_slos_round_trip_through_openslo(round_trip):
    """Re-imported, each rule file of KFM's own SLOs is the same but for the first header line, which
    names the definitions file (slo/tiles.py is now slo/tile_server.py)."""
    before, _, _, after, _ = round_trip
    rules = rule_files(before)
    assert len(rules) >= 12
    for path, text in rules.items():
        assert path in after, path
        assert after[path].split("\n", 1)[1] == text.split("\n", 1)[1], path


def test_the_export_is_byte_stable_and_its_reimport_too(round_trip, tmp_path):
    _, exported, again, _, scratch = round_trip
    assert export(again, tmp_path / "second") == {**exported}   # export -> import -> export: the same bytes
    referenced = export(again, tmp_path / "referenced", "--referenced")
    documents = list(yaml.safe_load_all(referenced["payments.yaml"]))
    assert [d["kind"] for d in documents][:2] == ["Service", "SLI"]
    assert documents[-1]["spec"]["indicatorRef"] == "payment-latency-sli"
    third = fresh_project(tmp_path / "c")
    result = cli("import", "openslo", *sorted(str(p) for p in (tmp_path / "referenced").iterdir()),
                 "--root", str(third))
    assert result.returncode == 0, result.stderr
    for name in ("checkout.py", "payments.py", "exports.py", "tile_server.py"):
        assert (third / "slo" / name).read_bytes() == (again / "slo" / name).read_bytes(), name


def test_export_refuses_what_openslo_cannot_express(tmp_path):
    result = cli("export", "openslo", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "slo/freshness.py: SLO 'dataset-freshness': sli: a freshness SLI has no OpenSLO form" in result.stderr
    assert not (tmp_path / "x").exists()


def test_export_refuses_to_replace_a_folder_holding_other_files(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    result = cli("export", "openslo", "--out", str(tmp_path / "x"), "--skip-unsupported")
    assert result.returncode == 2 and "refusing to replace it" in result.stderr
    assert (tmp_path / "x" / "notes.txt").read_text() == "mine"


# --- refusals ----------------------------------------------------------------------------------------

def _slo_text() -> str:
    return """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders
  labels: {team: data-platform}
spec:
  description: Orders succeed.
  service: orders
  indicator:
    metadata: {name: orders-sli}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'orders_total{status="failed"}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: orders_total}}}
  budgetingMethod: Occurrences
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{target: 0.99}]
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: orders-page}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: orders-1h}
            spec:
              severity: page
              condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}
"""


def change(edit: Callable[[dict[str, Any]], object]) -> list[dict[str, Any]]:
    document = yaml.safe_load(_slo_text())
    edit(document)
    return [document]


def condition(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["alertPolicies"][0]["spec"]["conditions"][0]["spec"]


def ratio(document: dict[str, Any]) -> dict[str, Any]:
    return document["spec"]["indicator"]["spec"]["ratioMetric"]


def ratio_source() -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": "http_seconds"}}}


REFUSALS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "timeslices": (change(lambda d: d["spec"].update(budgetingMethod="Timeslices")),
                   "SLO 'orders': spec.budgetingMethod: 'Timeslices' is not supported: only Occurrences"),
    "ratio timeslices": (change(lambda d: d["spec"].update(budgetingMethod="RatioTimeslices")),
                         "spec.budgetingMethod: 'RatioTimeslices' is not supported"),
    "time slice target": (change(lambda d: d["spec"]["objectives"][0].update(timeSliceTarget=0.95)),
                          "spec.objectives[0].timeSliceTarget: time slices are not supported"),
    "calendar window": (change(lambda d: d["spec"].update(timeWindow=[{"duration": "1M", "isRolling": False,
                                                                        "calendar": {"startTime": "2022-01-01 12:00:00",
                                                                                     "timeZone": "UTC"}}])),
                        "spec.timeWindow[0].isRolling: only rolling windows are supported"),
    "90 days": (change(lambda d: d["spec"].update(timeWindow=[{"duration": "90d", "isRolling": True}])),
                "spec.timeWindow[0].duration: '90d': the period must be 7d, 28d or 30d"),
    "datadog": (change(lambda d: ratio(d)["total"]["metricSource"].update(type="Datadog")),
                "indicator.ratioMetric.total.metricSource.type: 'Datadog': only Prometheus data sources"),
    "unknown data source": (change(lambda d: ratio(d)["total"]["metricSource"].update(metricSourceRef="nope")),
                            "refers to DataSource 'nope', which no file of this import defines"),
    "unknown indicator": (change(lambda d: (d["spec"].pop("indicator"), d["spec"].update(indicatorRef="ghost"))),
                          "spec.indicatorRef: refers to SLI 'ghost'"),
    "unknown policy": (change(lambda d: d["spec"].update(alertPolicies=[{"alertPolicyRef": "ghost"}])),
                       "spec.alertPolicies[0].alertPolicyRef: refers to AlertPolicy 'ghost'"),
    "unknown condition": (change(lambda d: d["spec"]["alertPolicies"][0]["spec"].update(
        conditions=[{"conditionRef": "ghost"}])), "conditions[0].conditionRef: refers to AlertCondition 'ghost'"),
    "severity": (change(lambda d: condition(d).update(severity="critical")),
                 "spec.severity: 'critical': give page or ticket"),
    "op lte": (change(lambda d: condition(d)["condition"].update(op="lte")),
               "spec.condition.op: 'lte': the alerts fire when the burn rate is above the threshold (op: gt)"),
    "not burnrate": (change(lambda d: condition(d)["condition"].update(kind="threshold")),
                     "spec.condition.kind: 'threshold': only burnrate conditions"),
    "no window pair": (change(lambda d: condition(d)["condition"].update(lookbackWindow="2h", threshold=10)),
                       "the page condition over 2h at 10x matches none of the page tier's window pairs for a 30d period "
                       "(1h at 14.4x, 6h at 6x)"),
    "raw ratio": (change(lambda d: ratio(d).update(rawType="success", raw=ratio(d)["total"])),
                  "indicator.ratioMetric.raw: a raw (precomputed) ratio cannot be expressed"),
    "gauge ratio": (change(lambda d: ratio(d).update(counter=False)),
                    "indicator.ratioMetric.counter: only counters map to events"),
    "good and bad": (change(lambda d: ratio(d).update(good=ratio(d)["bad"])),
                     "indicator.ratioMetric: give total and exactly one of good or bad"),
    "rate query without window": (change(lambda d: ratio(d)["total"]["metricSource"]["spec"].update(
        query="sum(rate(orders_total[5m]))")), "with counter: true the query must select a counter"),
    "op on a ratio": (change(lambda d: d["spec"]["objectives"][0].update(op="lte", value=1)),
                      "spec.objectives[0].op: op and value apply to threshold metrics"),
    "target above 1": (change(lambda d: d["spec"]["objectives"][0].update(target=1.5)),
                       "spec.objectives[0].target: 1.5 must be a ratio strictly between 0 and 1"),
    "huge target": (change(lambda d: d["spec"]["objectives"][0].update(target=10**400)),
                    "spec.objectives[0].target: " ),
    "two teams": (change(lambda d: d["metadata"]["labels"].update(team=["a", "b"])),
                  "metadata.labels.team: several teams: an SLO has one owner"),
    "invalid name": (change(lambda d: d["metadata"].update(name="Orders_SLO")),
                     "spec: metadata.name: 'Orders_SLO' is not a valid SLO name"),
    "unknown version": (change(lambda d: d.update(apiVersion="openslo/v2alpha")),
                        "spec: apiVersion: 'openslo/v2alpha' is not openslo/v1 or openslo/v1alpha"),
    "unknown kind": (change(lambda d: d.update(kind="Budget")), "spec: kind: 'Budget' is not an OpenSLO kind"),
    "spec not a mapping": (change(lambda d: d.update(spec=["x"])), "SLO 'orders': spec: expected a mapping, got list"),
    "threshold op gt": (change(lambda d: (d["spec"]["indicator"]["spec"].clear(),
                                          d["spec"]["indicator"]["spec"].update(thresholdMetric=ratio_source()),
                                          d["spec"]["objectives"][0].update(op="gt", value=0.3))),
                        "spec.objectives[0].op: 'gt': a threshold metric maps to a latency SLI with op: lte"),
    "threshold not a selector": (change(lambda d: (d["spec"]["indicator"]["spec"].clear(),
                                                   d["spec"]["indicator"]["spec"].update(thresholdMetric={
                                                       "metricSource": {"type": "Prometheus", "spec": {
                                                           "query": "histogram_quantile(0.9, x)"}}}),
                                                   d["spec"]["objectives"][0].update(op="lte", value=0.3))),
                                 "give the histogram as a selector"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_an_unsupported_field_is_refused_with_exit_2_naming_it(tmp_path, case):
    documents, message = REFUSALS[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump_all(copy.deepcopy(documents), sort_keys=False))
    root = project(tmp_path)
    before = sorted(p.name for p in (root / "slo").iterdir())
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[0].endswith("nothing written")
    assert all(line.startswith(f"{spec}: ") for line in lines[1:]), lines
    assert message in result.stderr, result.stderr
    assert sorted(p.name for p in (root / "slo").iterdir()) == before


def test_the_refusal_template_itself_imports(tmp_path):
    """Each refusal above changes one field of this document, which imports as it is: its one page pair
    is a custom one (not both default pairs), and it has no ticket condition."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(_slo_text())
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 0, result.stderr
    source = (root / "slo" / "orders.py").read_text()
    assert 'page=Tier(windows=(\n                BurnWindow("1h", "5m", "14.4"),\n' in source
    assert 'ticket=Tier.disabled("The OpenSLO spec has no ticket alert condition.")' in source


def test_a_custom_pair_that_does_not_wait_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_slo_text().replace("alertAfter: 2m", "alertAfter: 0m"))
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 2
    assert (f"{spec}: SLO 'orders': spec.alertPolicies: the page condition over 1h: alertAfter must be above 0 for "
            "a window pair other than the tier's defaults") in result.stderr


def test_a_v1alpha_week_window_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n"
                    "  budgetingMethod: Occurrences\n  timeWindows: [{count: 1, unit: Week}]\n  objectives: []\n")
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root), "--owner", "evidence")
    assert result.returncode == 2
    assert f"{spec}: SLO 'a': spec.timeWindows[0].unit: 'Week': only Day windows map to a period" in result.stderr


def test_a_name_defined_twice_in_an_import_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_slo_text() + "---\n" + _slo_text())
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 2
    assert f"{spec}: SLO 'orders': metadata.name: a SLO named 'orders' is defined twice" in result.stderr


def test_hostile_documents_give_clean_errors(tmp_path):
    root = project(tmp_path)
    for text, message in (("[1, 2]\n", "document 1: expected a mapping, got int"),
                          ("apiVersion: openslo/v1\nkind: SLO\nmetadata: 7\n", "metadata: expected a mapping"),
                          ("a: &a [*a]\n", ""),
                          ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: " + "a" * 5000 + "}\n",
                           "metadata.name: 5000 characters, at most 200"),
                          ("!!python/object:os.system {}\n", "not YAML")):
        spec = tmp_path / "hostile.yaml"
        spec.write_text(text)
        result = cli("import", "openslo", str(spec), "--root", str(root))
        assert result.returncode == 2, (text, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and message in result.stderr, (text, result.stderr)


def test_a_data_source_that_is_not_prometheus_is_refused_through_its_reference(tmp_path):
    spec = tmp_path / "spec.yaml"
    text = _slo_text().replace("total: {metricSource: {type: Prometheus, spec: {query: orders_total}}}",
                               "total: {metricSource: {metricSourceRef: dd, spec: {query: orders_total}}}")
    spec.write_text(text + "---\napiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: dd}\nspec: {type: Datadog}\n")
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 2
    assert (f"{spec}: SLO 'orders': indicator.ratioMetric.total.metricSource.type: 'Datadog': only Prometheus data "
            "sources map to rules") in result.stderr


def test_two_time_windows_are_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_slo_text().replace("timeWindow: [{duration: 30d, isRolling: true}]",
                                        "timeWindow: [{duration: 30d, isRolling: true}, {duration: 7d, isRolling: true}]"))
    root = project(tmp_path)
    result = cli("import", "openslo", str(spec), "--root", str(root))
    assert result.returncode == 2
    assert f"{spec}: SLO 'orders': spec.timeWindow: give exactly one time window" in result.stderr
