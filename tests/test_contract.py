"""The metric contract check: the rendered queries against what the helpers expose."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator.model.catalog import load
from generator.checks.contract import check_contract, read_rendered
from generator.promql.parser import PromQLError, parse_expr, selectors
from kfm_instrument import contract_exposition

ROOT = Path(__file__).resolve().parent.parent
RULES, DASHBOARDS, COLLECTORS = c.rules_file("*"), c.dashboard_file("*"), c.collector_config_file("*")


@pytest.fixture(scope="module")
def exposition() -> str:
    return contract_exposition()


@pytest.fixture(scope="module")
def files(rendered_dir) -> dict[str, str]:
    return read_rendered(rendered_dir)


DECLARED = load(ROOT).metrics


def checked_contract(files: dict[str, str], exposition: str, **options) -> list[str]:
    """The contract check as the gate runs it: with the definitions' Metric declarations (slo/tiles.py)."""
    return check_contract(files, exposition, declared=DECLARED, **options)


def matching(files: dict[str, str], pattern: str, needle: str) -> str:
    """The first rendered file of a kind holding needle (found, not named, so renames do not break the test)."""
    found = sorted(p for p, text in files.items() if fnmatch(p, pattern) and needle in text)
    assert found, (pattern, needle)
    return found[0]


def changed(files: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in files[path]
    return {**files, path: files[path].replace(old, new)}


def test_the_rendered_output_holds_against_the_helpers(files, exposition):
    checked: dict[str, int] = {}
    assert checked_contract(files, exposition, checked=checked) == []
    assert checked["queries"] >= len([p for p in files if fnmatch(p, RULES) or fnmatch(p, DASHBOARDS)])
    assert checked["selectors"] >= checked["queries"]


def test_nothing_to_check_fails_closed(exposition):
    assert checked_contract({}, exposition) == [f"out/: no query in {RULES} or {DASHBOARDS}: "
                                              "the metric contract cannot be checked"]


def test_the_check_reads_every_kind_of_file(files, exposition):
    """Without the helpers' metrics, every rule file and contract dashboard, and the span-metric panels, fail."""
    problems = checked_contract(files, "")
    failing = {line.split(": ", 1)[0] for line in problems}
    rule_files = {f"out/{p}" for p in files if fnmatch(p, RULES) and any(m in files[p] for m in c.METRIC_LABELS)}
    assert rule_files and rule_files <= failing
    assert any(p.startswith("out/grafana/dashboards/") for p in failing)
    assert not any(c.SPAN_CALLS in line for line in problems)  # span metrics come from the collector configs


def test_a_typo_in_a_rule_selector_names_the_selector_and_the_file(files, exposition):
    path = matching(files, RULES, c.EVIDENCE_RESOLUTIONS)
    typo = c.EVIDENCE_RESOLUTIONS.replace("resolutions", "resolution")
    problems = checked_contract(changed(files, path, c.EVIDENCE_RESOLUTIONS, typo), exposition)
    assert problems
    assert all(line.startswith(f"out/{path}: {typo}") for line in problems), problems
    assert f"did you mean {c.EVIDENCE_RESOLUTIONS}?" in problems[0]


def test_a_wrong_label_in_a_dashboard_by_clause_fails(files, exposition):
    clause = f"sum by ({c.OUTCOME})"
    path = matching(files, DASHBOARDS, clause)
    problems = checked_contract(changed(files, path, clause, "sum by (outcomes)"), exposition)
    assert problems and all(line.startswith(f"out/{path}: ") for line in problems)
    assert all("label outcomes is not on these series" in line and "panel '" in line for line in problems)


def test_a_wrong_label_in_a_matcher_fails(files, exposition):
    matcher = f'{c.HTTP_STATUS}=~"5.."'
    path = matching(files, DASHBOARDS, matcher.replace('"', '\\"'))
    problems = checked_contract(changed(files, path, f"{c.HTTP_STATUS}=~", "http_status_code=~"), exposition)
    selector = f"out/{path}: {c.HTTP_SERVER_DURATION}_count{{http_status_code"
    assert problems and all(line.startswith(selector) for line in problems)
    assert all(f"label http_status_code is not on {c.HTTP_SERVER_DURATION}_count" in line for line in problems)


def test_a_wrong_label_in_an_on_clause_fails(files, exposition):
    clause = f"on ({c.DATASET})"
    path = matching(files, RULES, clause)
    problems = checked_contract(changed(files, path, clause, "on (data_set)"), exposition)
    assert problems and all("on (data_set): label data_set is not on these series" in line for line in problems)
    assert any(line.startswith(f"out/{path}: {c.DATASET_LAST_SUCCESS}") for line in problems)


@pytest.mark.parametrize("old, new, message", [
    (f"rate({c.FOCUS_ANSWERS}[", f"rate({c.FOCUS_ANSWERS.removesuffix('_total')}_bucket[",
     "is a counter, exposed as " + c.FOCUS_ANSWERS),
    (f"max by ({c.DATASET}) ({c.DATASET_LAST_SUCCESS})", f"max by ({c.DATASET}) (rate({c.DATASET_LAST_SUCCESS}[5m]))",
     "rate() over a gauge is suspicious"),
    (f"sum by ({c.OUTCOME}) (rate({c.FOCUS_ANSWERS}[", f"sum by ({c.OUTCOME}) (delta({c.FOCUS_ANSWERS}[",
     "delta() over a counter is wrong"),
])
def test_type_mismatches_fail(files, exposition, old, new, message):
    path = matching(files, DASHBOARDS, old)
    problems = checked_contract(changed(files, path, old, new), exposition)
    assert problems and all(message in line and line.startswith(f"out/{path}: ") for line in problems), problems


def test_a_bounded_value_the_conventions_do_not_allow_never_matches(files, exposition):
    old = f'{c.WORST_GATE_RESULT}!="pass"'
    path = matching(files, RULES, old)
    problems = checked_contract(changed(files, path, old, f'{c.WORST_GATE_RESULT}!="passed"'), exposition)
    assert problems and all('worst_gate_result!="passed" excludes nothing' in line for line in problems)


def test_a_recorded_series_must_be_recorded_by_a_rule(files, exposition):
    path = matching(files, DASHBOARDS, c.BUDGET_TIME_LEFT)
    problems = checked_contract(changed(files, path, c.BUDGET_TIME_LEFT, "kfm_slo:budget_time_left:seconds"),
                              exposition)
    assert problems and all("no rule of the rendered output records it" in line for line in problems)
    without_rules = {p: t for p, t in files.items() if not p.startswith(c.RULES_DIR)}
    assert any(c.BUDGET_TIME_LEFT in line for line in checked_contract(without_rules, exposition))


def test_span_metrics_must_come_from_every_collector_config(files, exposition):
    collector = matching(files, COLLECTORS, "span_metrics")
    config = yaml.safe_load(files[collector])
    del config["connectors"]
    for pipeline in config["service"]["pipelines"].values():
        for side in ("receivers", "exporters"):
            pipeline[side] = [x for x in pipeline[side] if not x.startswith("span_metrics")]
    problems = checked_contract({**files, collector: yaml.safe_dump(config)}, exposition)
    assert problems
    assert all(f"but not of out/{collector} (no span_metrics connector)" in line for line in problems)
    assert {c.SPAN_CALLS, c.SPAN_DURATION + "_bucket"} <= {line.split(": ")[1] for line in problems}


def test_a_collector_processor_must_match_an_exposed_metric(files, exposition):
    collector = matching(files, COLLECTORS, "span_metrics")
    config = yaml.safe_load(files[collector])
    config["processors"]["filter/drop"] = {"metrics": {"metric": [
        f'name == "{c.FOCUS_ANSWERS}"', 'name == "kfm_focus_answer_total"']}}
    config["service"]["pipelines"]["metrics"]["processors"].insert(1, "filter/drop")
    problems = checked_contract({**files, collector: yaml.safe_dump(config)}, exposition)
    assert problems == [f"out/{collector}: kfm_focus_answer_total: a metric name processor filter/drop matches on, "
                        "but no exposed metric has it"]


def test_a_metric_without_samples_in_the_exposition_cannot_be_checked(files):
    kept = [line for line in contract_exposition().splitlines()
            if not line.startswith(c.DATASET_LAST_SUCCESS)]  # TYPE and HELP stay, samples go
    problems = checked_contract(files, "\n".join(kept) + "\n")
    assert problems and all("has no sample of " + c.DATASET_LAST_SUCCESS in line for line in problems)


def test_an_expression_that_does_not_parse_is_a_problem(files, exposition):
    path = matching(files, RULES, "sum(rate(")
    problems = checked_contract(changed(files, path, "sum(rate(", "sum(rate(("), exposition)
    assert problems and all("cannot be parsed" in line and line.startswith(f"out/{path}: ") for line in problems)


@pytest.mark.parametrize("text, found", [
    ('sum by (a) (rate(x_total{b="1"}[5m] offset 1h)) / on (a) group_left (c) y', ["x_total", "y"]),
    ('histogram_quantile(0.9, sum(rate(h_bucket[$__rate_interval])) by (le))', ["h_bucket"]),
    ('max_over_time((a - b)[1h:5m]) > bool 0 or -vector(1) @ 1700000000', ["a", "b"]),
    ("topk(3, count_values(\"v\", x)) unless on () absent(z)", ["x", "z"]),
])
def test_expressions_parse_into_their_selectors(text, found):
    assert [sel.selector.metric for sel in selectors(parse_expr(text))] == found


@pytest.mark.parametrize("bad", ["sum(x", "x[5m", "x +", '{a="b"}', "sum by (a x)", "rate(x[5m]) offset"])
def test_malformed_expressions_are_refused(bad):
    with pytest.raises(PromQLError):
        parse_expr(bad)


def test_renaming_a_metric_in_the_conventions_without_the_helpers_fails(tmp_path, exposition):
    """The issue's requirement: the contract renames a metric; deployed helpers still emit the old name."""
    for name in ("generator", "kfm_instrument", "slo", "alerts", "dashboards", "telemetry"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    conventions = tmp_path / "kfm_instrument" / "contract.py"
    old, new = c.FOCUS_ANSWERS, "kfm_focus_mode_answers_total"
    text = conventions.read_text(encoding="utf-8")
    assert text.count(f'"{old}"') == 1
    conventions.write_text(text.replace(f'"{old}"', f'"{new}"'), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "generator", "render", "--root", str(tmp_path),
                           "--out", str(tmp_path / "out")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = read_rendered(tmp_path / "out")
    using = {f"out/{p}" for p, t in files.items() if new in t and p.endswith((".rules.yaml", ".json"))
             and (p.startswith(c.RULES_DIR) or p.startswith(c.DASHBOARDS_DIR))}
    assert using  # the rename reached the rules and dashboards
    assert not any(old in t for t in files.values())
    problems = checked_contract(files, exposition)
    assert problems
    failing = {line.split(": ", 1)[0] for line in problems if f": {new}" in line}
    assert failing == using
    assert all(f"did you mean {old}?" in line for line in problems if f": {new}" in line)
