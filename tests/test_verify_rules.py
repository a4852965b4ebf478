"""The verify step's promtool checks: every rule file and every PrometheusRule's groups reach the real
promtool, but groups a PrometheusRule holds are checked once, there."""
from __future__ import annotations

import pytest

from generator import conventions as c
from generator.checks import verify
from generator.checks.verify import Tools, check_output

pytestmark = pytest.mark.promtool


def _parsed(files: dict[str, str]) -> tuple[dict[str, verify._Parsed], dict[str, verify._Parsed]]:
    objects = {p: verify._parsed(p, t) for p, t in files.items() if verify._is_prometheus_rule(p)}
    rest = {p: verify._parsed(p, t) for p, t in files.items() if p not in objects}
    return objects, rest


def test_every_slo_rule_file_is_covered_by_its_services_object(catalog, rendered):
    covered = verify._covered_rule_files(rendered, *_parsed(rendered))
    for slo in catalog.slos:
        assert covered[c.rules_file(slo.name)] == c.prometheus_rule_file(slo.service, 1), slo.name
    # The invariants' rule file is a PrometheusRule's too; nothing else is a rule file.
    assert set(covered) == {p for p in rendered if verify._is_rule_file(p)}


def _one_slo_rule_file(catalog) -> str:
    return c.rules_file(catalog.slos[0].name)


def test_a_rule_file_that_differs_from_its_object_is_checked_on_its_own(catalog, rendered, promtool):
    path = _one_slo_rule_file(catalog)
    files = dict(rendered)
    files[path] = files[path].replace("expr: ", "expr: sum(( ", 1)   # broken PromQL in the plain file only
    assert path not in verify._covered_rule_files(files, *_parsed(files))
    problems, _ = check_output(catalog, files, Tools(promtool, None))
    assert [p.field for p in problems] == [f"out/{path}"], problems
    assert "promtool check rules refuses it" in problems[0].message


def test_an_object_promtool_refuses_is_reported_and_its_rule_files_checked_again(catalog, rendered, promtool,
                                                                                monkeypatch):
    """Only the object is broken: it is reported, and the rule files it covered are checked on their own
    (they pass). tests/test_hostile_input.py breaks both: both are reported."""
    slo = catalog.slos[0]
    files = dict(rendered)
    rule_object = c.prometheus_rule_file(slo.service, 1)
    files[rule_object] = files[rule_object].replace("expr: ", "expr: sum(( ", 1)
    checked: list[str] = []
    start = verify._promtool_start

    def recording(promtool, rules, *args):
        checked.extend(rules)
        return start(promtool, rules, *args)
    monkeypatch.setattr(verify, "_promtool_start", recording)
    problems, _ = check_output(catalog, files, Tools(promtool, None))
    assert [p.field for p in problems] == [f"out/{rule_object}"], problems
    assert "promtool check rules refuses it" in problems[0].message
    assert c.rules_file(slo.name) in checked
