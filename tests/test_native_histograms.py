"""Latency SLIs over native histograms (Prometheus 3): one series with exponential buckets, read with
histogram_fraction and histogram_count, so the threshold need not be a bucket boundary.

Proven with code we did not write: promtool 3.16 runs the generated tests (whose input series are
native histograms; promtool 2.42 cannot read them, as their header says), a wrong burn factor fails
them, the simulator's 3.x prediction holds minute by minute, and on a live Prometheus 3.16 the
OpenTelemetry SDK's exponential histogram, pushed over OTLP, lands under the name and labels the
metric contract declares and fills every recording and dashboard panel of the SLO.
"""
from __future__ import annotations

import json
import time

import pytest
import yaml
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from conftest import copy_project, declare_prometheus, run_cli
from generator import conventions as c
from generator.model.catalog import load
from generator.checks.contract import check_contract
from kfm_instrument import contract_exposition
from generator.prometheus.simulate import Semantics
from live_prometheus import LivePrometheus
from promtool_runner import exact_recovery_test, needs_prometheus_3, run, run_mutated

SLO_NAME = "api-query-latency-native"
THRESHOLD = 0.35   # not a bucket boundary of the classic histogram (c.LATENCY_BUCKETS)
DEFINITION = f'''"""Governed API query latency from the native histogram OpenTelemetry SDK services export."""
from generator import SLO, Latency
from generator import conventions as c

SLOS = [
    SLO(
        name="{SLO_NAME}",
        service="governed-api",
        owner="governance",
        description="Governed API queries are answered within 350ms, per decision class (native histogram).",
        objective=0.99,
        sli=Latency(histogram=f'{{c.HTTP_SERVER_DURATION}}{{{{{{c.HTTP_ROUTE}}="/v1/query"}}}}',
                    threshold_seconds={THRESHOLD}, group_by=(c.DECISION_CLASS,), native=True),
        runbook="- Split by decision class: slow denials point at the policy engine, slow allows at the stores.\\n",
    ),
]
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("native"))
    declare_prometheus(root, "3.16")   # native histograms need 3.8 or later in every environment
    (root / "slo" / "native_latency.py").write_text(DEFINITION)
    result = run_cli("render", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def slo(project):
    return next(s for s in load(project).slos if s.name == SLO_NAME)


def _rules(project) -> str:
    return (project / "out" / c.rules_file(SLO_NAME)).read_text()


def test_the_rules_read_the_native_histogram_with_histogram_functions(project):
    rules = _rules(project)
    selector = f'{c.HTTP_SERVER_DURATION}{{{c.HTTP_ROUTE}="/v1/query"}}'
    rate = f"sum by ({c.DECISION_CLASS}) (rate({selector}[5m]))"
    assert f"histogram_fraction(0.35, +Inf, {rate})" in rules
    assert f"record: {c.TOTAL_EVENTS_RATE}\n    expr: histogram_count({rate})" in rules
    assert f"{c.HTTP_SERVER_DURATION}_" not in rules and "le=" not in rules   # no classic series, no le
    assert f"absent({selector})" in rules


def test_the_gates_and_the_metric_contract_accept_it(project):
    result = run_cli("gates", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS metric-contract" in result.stdout


def test_its_generated_tests_pass_on_promtool_3_and_its_header_says_2x_cannot_read_them(project, promtools):
    test_file = project / "out" / c.rules_test_file(SLO_NAME)
    assert needs_prometheus_3(test_file)
    assert "{{schema:0 " in test_file.read_text()
    on_3 = run(promtools["3.x"], "test", "rules", test_file.name, cwd=test_file.parent)
    assert on_3.returncode == 0 and "SUCCESS" in on_3.stdout, on_3.stdout + on_3.stderr
    on_2 = run(promtools["2.x"], "test", "rules", test_file.name, cwd=test_file.parent)
    assert on_2.returncode != 0 and "parse error" in on_2.stdout + on_2.stderr, on_2.stdout + on_2.stderr
    classic = project / "out" / c.rules_test_file("governed-api-latency")
    assert not needs_prometheus_3(classic)


@pytest.mark.parametrize("old, new", [("> 0.144", "> 0.072"), ("[59m59s])", "[1h59m59s])")])
def test_a_wrong_rule_fails_its_generated_tests_on_promtool_3(project, promtool3, tmp_path, old, new):
    result = run_mutated(promtool3, project / "out", SLO_NAME, old, new, tmp_path)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr, result.stdout


def test_the_3x_prediction_holds_minute_by_minute(project, slo, promtool3, tmp_path):
    document, asserted, skipped = exact_recovery_test(slo, project / "out" / c.rules_file(SLO_NAME),
                                                      Semantics.LEFT_OPEN)
    (tmp_path / "exact.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    result = run(promtool3, "test", "rules", "exact.yaml", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert asserted > 500 and skipped * 100 < asserted, (asserted, skipped)


BAD_DEFINITIONS = {  # Latency(...) arguments: the field the error must name
    "native=True, histogram=c.HTTP_SERVER_DURATION + '_count', threshold_seconds=0.5": "sli.histogram",
    "native=True, histogram=c.HTTP_SERVER_DURATION + '{le=\"0.5\"}', threshold_seconds=0.5": "sli.histogram",
    "native=True, histogram=c.HTTP_SERVER_DURATION, threshold_seconds=0": "sli.threshold_seconds",
    "native=True, histogram=c.HTTP_SERVER_DURATION, threshold_seconds=float('inf')": "sli.threshold_seconds",
    "native='yes', histogram=c.HTTP_SERVER_DURATION, threshold_seconds=0.5": "sli.native",
    "histogram=c.HTTP_SERVER_DURATION, threshold_seconds=0.35": "sli.threshold_seconds",
}


def test_wrong_native_definitions_are_refused_naming_the_field(tmp_path):
    root = copy_project(tmp_path)
    declare_prometheus(root, "3.16")
    slos = ",\n".join(
        f"    SLO(name='bad-{index}', service='governed-api', owner='governance', description='x.', "
        f"objective=0.99, runbook='- x.\\n', sli=Latency({arguments}))"
        for index, arguments in enumerate(BAD_DEFINITIONS))
    (root / "slo" / "bad_native.py").write_text(
        f"from generator import SLO, Latency\nfrom generator import conventions as c\n\nSLOS = [\n{slos},\n]\n")
    before = {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()}
    result = run_cli("render", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for index, field in enumerate(BAD_DEFINITIONS.values()):
        lines = [line for line in result.stderr.splitlines() if f"SLO 'bad-{index}'" in line]
        assert lines and all("slo/bad_native.py" in line for line in lines), (index, result.stderr)
        assert any(f": {field}: " in line for line in lines), (index, field, lines)
    assert "or give native=True: its native histogram takes any threshold" in result.stderr  # the classic SLO's hint
    assert {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()} == before


def test_a_native_sli_over_a_classic_histogram_is_refused_saying_how_to_declare_one(tmp_path):
    """Checked when the catalog loads (declarations are known there), so in a file of its own: a file
    whose definitions fail to construct is not cross-checked until it does."""
    root = copy_project(tmp_path)
    declare_prometheus(root, "3.16")
    (root / "slo" / "bad_native.py").write_text(
        "from generator import SLO, Latency\nfrom generator import conventions as c\n\nSLOS = [SLO(name='bad', "
        "service='governed-api', owner='governance', description='x.', objective=0.99, runbook='- x.\\n', "
        "sli=Latency(histogram=c.EVIDENCE_RESOLUTION_DURATION, threshold_seconds=0.5, native=True))]\n")
    result = run_cli("render", cwd=root)
    assert result.returncode == 2, result.stderr
    assert ("slo/bad_native.py: SLO 'bad': sli.histogram: 'kfm_evidence_resolution_duration_seconds' is not a "
            "native histogram of KFM's contract or of a Metric declaration; declare it: METRICS = [Metric("
            "'kfm_evidence_resolution_duration_seconds', 'native_histogram'") in result.stderr, result.stderr


def test_a_native_histogram_is_refused_where_an_environment_runs_an_older_prometheus(tmp_path):
    root = copy_project(tmp_path)
    declare_prometheus(root, "3.16")
    telemetry = root / "telemetry" / "kfm.py"
    telemetry.write_text(telemetry.read_text().replace('Environment("stage", prometheus_version="3.16"',
                                                       'Environment("stage", prometheus_version="3.5"'))
    (root / "slo" / "native_latency.py").write_text(DEFINITION)
    result = run_cli("render", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    line, = [ln for ln in result.stderr.splitlines() if "sli.native" in ln]
    assert line.startswith(f"slo/native_latency.py: SLO '{SLO_NAME}': sli.native: native histograms"), line
    assert "Prometheus 3.8 or later" in line and "'stage' runs 3.5" in line and "'prod'" not in line, line


def test_the_contract_tells_native_from_classic_histograms():
    rules = {"groups": [{"name": "g", "rules": [
        {"record": "a:native_over_classic", "expr": f"histogram_count(rate({c.EVIDENCE_RESOLUTION_DURATION}_count[5m]))"},
        {"record": "a:le_on_native", "expr": f'rate({c.HTTP_SERVER_DURATION}{{le="0.5"}}[5m])'},
        {"record": "a:quantile_native", "expr": f"histogram_quantile(0.99, sum by ({c.HTTP_ROUTE}) "
                                                f"(rate({c.HTTP_SERVER_DURATION}[5m])))"},
        {"record": "a:fraction_native", "expr": f"histogram_fraction(0, 0.35, sum by ({c.DECISION_CLASS}) "
                                                f"(rate({c.HTTP_SERVER_DURATION}[5m])))"},
    ]}]}
    problems = check_contract({c.rules_file("x"): yaml.safe_dump(rules)}, contract_exposition())
    native_over_classic = [p for p in problems if "a:native_over_classic" in p]
    assert native_over_classic and "reads native histograms" in native_over_classic[0], problems
    assert any("a:le_on_native" in p and "label le is not on" in p for p in problems), problems
    assert not [p for p in problems if "a:quantile_native" in p or "a:fraction_native" in p], problems


# --- live: the OpenTelemetry SDK over OTLP into Prometheus 3 ---------------------------------------

SLOW, FAST = 0.8, 0.05
SLOW_SHARE = 0.2


def _push_requests(server: LivePrometheus, seconds: float) -> MeterProvider:
    """The OpenTelemetry SDK's exponential histogram, exported to Prometheus' OTLP receiver each second:
    per decision class, one slow request in five."""
    exporter = OTLPMetricExporter(endpoint=f"{server.url}/api/v1/otlp/v1/metrics")
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)  # flushed by hand
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "governed-api"}),
                             views=[View(instrument_name="http.server.request.duration",
                                         aggregation=ExponentialBucketHistogramAggregation())])
    histogram = provider.get_meter("kfm.governed-api").create_histogram("http.server.request.duration", unit="s")
    deadline = time.time() + seconds
    while time.time() < deadline:
        for decision in c.LABEL_VALUES[c.DECISION_CLASS]:
            attributes = {"http.route": "/v1/query", "http.response.status_code": 200, "kfm.decision": decision}
            for index in range(10):
                histogram.record(SLOW if index % 5 == 0 else FAST, attributes)
        assert provider.force_flush(timeout_millis=10_000)
        time.sleep(1)
    return provider


def _has_data(result: list[dict]) -> bool:
    return any(float(v[1]) == float(v[1]) for r in result for v in (r.get("values") or [r.get("value")]) if v)


@pytest.mark.live
def test_live_the_sdks_native_histogram_fills_the_slo_on_prometheus_3(project, tmp_path):
    server = LivePrometheus(tmp_path, [project / "out" / c.rules_file(SLO_NAME)], [],
                            flags=("--web.enable-otlp-receiver",))
    provider = None
    try:
        provider = _push_requests(server, 12)
        stored = server.api("query", query=f'{c.HTTP_SERVER_DURATION}{{{c.HTTP_ROUTE}="/v1/query"}}')["result"]
        assert stored and all("histogram" in r for r in stored), stored   # native samples, not floats
        expected = set(c.NATIVE_HISTOGRAMS[c.HTTP_SERVER_DURATION]) | {"__name__", "job"}
        assert all(set(r["metric"]) == expected for r in stored), [r["metric"] for r in stored]

        sel = f'{{{c.SLO_LABEL}="{SLO_NAME}"}}'
        ratios = server.api("query", query=f"{c.error_ratio(c.BASE_WINDOW_SECONDS)}{sel}")["result"]
        assert {r["metric"][c.DECISION_CLASS] for r in ratios} == set(c.LABEL_VALUES[c.DECISION_CLASS]), ratios
        for r in ratios:
            assert abs(float(r["value"][1]) - SLOW_SHARE) < 1e-9, r

        board = json.loads((project / "out" / c.dashboard_file(c.slo_dashboard_uid(SLO_NAME))).read_text())
        now, empty, total = time.time(), [], 0
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr, total = target["expr"].replace("$__rate_interval", "15s"), total + 1
                if target.get("instant"):
                    result = server.api("query", query=expr, time=str(now))["result"]
                else:
                    result = server.api("query_range", query=expr, start=str(now - 30), end=str(now), step="5")["result"]
                if not _has_data(result) and "ALERTS" not in expr:  # no alert has fired yet (`for`)
                    empty.append(f"{panel['title']}: {expr}")
        assert total >= 8 and not empty, empty
        unhealthy = [f"{r['name']}: {r.get('lastError')}" for g in server.api("rules")["groups"]
                     for r in g["rules"] if r.get("health") != "ok"]
        assert not unhealthy, unhealthy
    finally:
        if provider is not None:
            provider.shutdown()
        server.stop()
