"""The rendered rules and the generated tests, run by the real promtool."""
from __future__ import annotations

import copy

import pytest
import yaml

from conftest import ROOT
from generator import conventions as c
from generator.prometheus.simulate import Semantics
from generator.prometheus.testgen import scenarios
from promtool_runner import exact_recovery_test, needs_prometheus_3, run, run_tests_concurrently


def test_every_rule_file_passes_promtool_check_rules(promtool, rendered_dir):
    files = sorted((rendered_dir / "prometheus" / "rules").glob("*.yaml"))
    assert len(files) >= 5
    result = run(promtool, "check", "rules", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


@pytest.fixture(scope="session", params=["2.x", "3.x"])
def generated_test_results(request, promtools, rendered_dir):
    """Every generated test file, run by one promtool (each version in turn): a committed test file
    must pass on the Prometheus its user runs."""
    files = sorted((rendered_dir / "prometheus" / "tests").glob("*.test.yaml"))
    if request.param == "2.x":  # a native-histogram SLO's file says so in its header; 3.x runs every file
        files = [f for f in files if not needs_prometheus_3(f)]
    return request.param, {f.name: r for f, r in run_tests_concurrently(promtools[request.param], files).items()}


def test_there_is_one_generated_test_file_per_slo(catalog, generated_test_results):
    version, results = generated_test_results
    native = {f"{s.name}.test.yaml" for s in catalog.slos if getattr(s.sli, "native", False)}
    expected = {f"{s.name}.test.yaml" for s in catalog.slos}
    assert set(results) == (expected - native if version == "2.x" else expected)


def test_generated_tests_pass(catalog, generated_test_results):
    _, results = generated_test_results
    failures = {name: r.stdout[-3000:] + r.stderr[-1000:] for name, r in results.items() if r.returncode != 0}
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    for result in results.values():
        assert "SUCCESS" in result.stdout


def test_generated_tests_cover_every_scenario(catalog, rendered_dir):
    for slo in catalog.slos:
        names = [s.name for s in scenarios(slo)]
        for required in ("healthy", "outage", "annotations", "slow burn", "no data", "recovery"):
            assert required in names, (slo.name, required)
        document = yaml.safe_load((rendered_dir / c.rules_test_file(slo.name)).read_text())
        assert len(document["tests"]) == len(names)


def test_outage_asserts_the_predicted_page_minute(catalog, rendered_dir):
    text = (rendered_dir / c.rules_test_file("evidence-resolver-availability")).read_text()
    # 99.9%: 14.4x over 1h/5m. One hour healthy, then a total outage at 1m ticks: the 1h ratio (a
    # sum of 2m rates) is above 1.44% at the second minute on both versions (the first minute's bad
    # rate extrapolates only back to where the new bad counter was 0), and page pairs have no `for`.
    assert "# outage: page-1h-5m starts firing at 1h2m (predicted)" in text
    document = yaml.safe_load(text)
    names = [s.name for s in scenarios(next(s for s in catalog.slos if s.name == "evidence-resolver-availability"))]
    outage = document["tests"][names.index("outage")]
    times = {(e["expr"], e["eval_time"]) for e in outage["promql_expr_test"]}
    selector = 'ALERTS{alertname="EvidenceResolverAvailabilityErrorBudgetBurnPage", alertstate="firing", tier="page-1h-5m"}'
    assert (selector, "1h") in times  # not yet firing one interval before the predicted minute
    assert (selector, "1h3m") in times  # firing one interval after


@pytest.mark.parametrize("version", ["2.x", "3.x"])
def test_hand_written_invariant_tests_pass(promtools, version):
    result = run(promtools[version], "test", "rules", "invariants.test.yaml", cwd=ROOT / "alerts" / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


# --- the simulator is exact, on each version ------------------------------------

EXACT_SLOS = ("evidence-resolver-availability", "governed-api-latency", "focus-mode-abstentions", "dataset-freshness")


@pytest.mark.parametrize("version, semantics", [("2.x", Semantics.CLOSED), ("3.x", Semantics.LEFT_OPEN)])
def test_each_versions_prediction_holds_minute_by_minute(catalog, rendered_dir, promtools, tmp_path,
                                                         version, semantics):
    """The recovery scenario (where 2.x and 3.x part by up to two minutes), asserted at every minute
    for every pair against that version's own prediction (promtool_runner.exact_recovery_test)."""
    files, asserted, skipped = [], 0, 0
    for name in EXACT_SLOS:
        slo = next(s for s in catalog.slos if s.name == name)
        document, slo_asserted, slo_skipped = exact_recovery_test(slo, rendered_dir / c.rules_file(name), semantics)
        asserted, skipped = asserted + slo_asserted, skipped + slo_skipped
        path = tmp_path / f"{name}.exact.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        files.append(path)
    results = run_tests_concurrently(promtools[version], files)
    failures = {p.name: (r.stdout + r.stderr)[-2500:] for p, r in results.items() if r.returncode != 0}
    assert not failures, "\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert skipped * 100 < asserted, (asserted, skipped)  # ties are rare minutes, not a way out
    print(f"{version}: {asserted} minutes asserted exactly, {skipped} within float64 rounding of a threshold")


# --- the generated tests catch wrong rules ------------------------------------

SLO = "evidence-resolver-availability"
SEL = c.slo_matcher(SLO)
MUTATIONS = {  # name: (text in the rules, replacement, how often it occurs)
    "page burn factor 14.4 -> 7.2": (f"{c.error_ratio(3600)}{SEL} > 0.0144", f"{c.error_ratio(3600)}{SEL} > 0.0072", 1),
    "page long window 1h -> 6h": (f"{c.error_ratio(3600)}{SEL} > 0.0144", f"{c.error_ratio(6 * 3600)}{SEL} > 0.0144", 1),
    "ticket threshold 1x -> 1.5x budget": (f"{c.error_ratio(3 * 86400)}{SEL} > 0.001", f"{c.error_ratio(3 * 86400)}{SEL} > 0.0015", 1),
    "page at once -> for 5m": ("\n    labels:\n      burn_rate: '14.4'", "\n    for: 5m\n    labels:\n      burn_rate: '14.4'", 1),
    "recorded 1h window reads 2h": (  # the 1h rule itself (the tiled windows' warm-up reads 1h too)
        f"expr: |-\n      sum_over_time({c.BAD_EVENTS_FINE_RATE}{SEL}[59m59s])\n      /\n      "
        f"clamp_min(sum_over_time({c.TOTAL_EVENTS_FINE_RATE}{SEL}[59m59s]), 1e-9)\n",
        f"expr: |-\n      sum_over_time({c.BAD_EVENTS_FINE_RATE}{SEL}[1h59m59s])\n      /\n      "
        f"clamp_min(sum_over_time({c.TOTAL_EVENTS_FINE_RATE}{SEL}[1h59m59s]), 1e-9)\n", 1),
}


@pytest.fixture(scope="module")
def mutation_results(catalog, rendered_dir, tmp_path_factory, promtools):
    rules_text = (rendered_dir / c.rules_file(SLO)).read_text()
    tests = yaml.safe_load((rendered_dir / c.rules_test_file(SLO)).read_text())
    # The scenarios whose timing the mutations change; the rest would only add run time.
    names = [s.name for s in scenarios(next(s for s in catalog.slos if s.name == SLO))]
    tests["tests"] = [t for t, n in zip(tests["tests"], names) if n in ("outage", "fast burn", "slow burn")]
    files = []
    # Mutate only the SLO's own group, so each mutation hits exactly one rule.
    head, _, rest = rules_text.partition(f"- name: {c.rule_group(SLO)}\n")
    group, marker, tail = rest.partition("- name: ")
    for index, (name, (old, new, count)) in enumerate(sorted(MUTATIONS.items())):
        assert group.count(old) == count, (name, old)
        folder = tmp_path_factory.mktemp(f"mutation{index}")
        mutated = head + f"- name: {c.rule_group(SLO)}\n" + group.replace(old, new) + marker + tail
        (folder / "rules.yaml").write_text(mutated)
        document = copy.deepcopy(tests)
        document["rule_files"] = ["rules.yaml"]
        (folder / "test.yaml").write_text(yaml.safe_dump(document))
        files.append((name, folder / "test.yaml"))
    found = {}
    for version, promtool in promtools.items():
        results = run_tests_concurrently(promtool, [f for _, f in files])
        found.update({(version, name): results[f] for name, f in files})
    return found


@pytest.mark.parametrize("version", ["2.x", "3.x"])
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_generated_tests_fail_when_a_rule_is_wrong(mutation_results, mutation, version):
    result = mutation_results[(version, mutation)]
    assert result.returncode != 0, f"promtool passed a wrong rule ({mutation}):\n{result.stdout}"
    assert "FAILED" in result.stdout + result.stderr


def test_a_missing_latency_bucket_is_no_data_not_a_page(promtool, rendered_dir, tmp_path):
    """A histogram without the threshold's bucket is a misconfiguration: the SLI
    must raise no-data, not read every request as slow and page."""
    rules = rendered_dir / c.rules_file("governed-api-latency")
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'http_server_request_duration_seconds_count{kfm_decision="allow"}', "values": "0+60x60"},
                {"series": 'http_server_request_duration_seconds_bucket{kfm_decision="allow", le="0.25"}',
                 "values": "0+60x60"},
            ],
            "promql_expr_test": [
                {"expr": 'ALERTS{slo="governed-api-latency", alertname=~".*Burn.*"}', "eval_time": "1h",
                 "exp_samples": []},
                {"expr": 'ALERTS{alertname="GovernedApiLatencySLINoData", alertstate="firing"}', "eval_time": "1h",
                 "exp_samples": [{"labels": 'ALERTS{alertname="GovernedApiLatencySLINoData", alertstate="firing", '
                                            'le="0.3", service="governed-api", severity="page", '
                                            'slo="governed-api-latency", team="governance"}', "value": 1}]},
            ],
        }],
    }
    path = tmp_path / "missing-bucket.test.yaml"
    path.write_text(yaml.safe_dump(test))
    result = run(promtool, "test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
