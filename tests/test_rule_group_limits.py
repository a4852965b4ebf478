"""Rule groups under a ruler's limit: where an environment says its ruler takes at most N rules per group
(Cortex and Mimir: 20 by default), no rendered group holds more, and the rules still do what they did."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from conftest import copy_project, declare_on_environments, run_cli
from generator import conventions as c
from promtool_runner import run

FRESHNESS = "dataset-freshness"


def _limit(project: Path, rules: int) -> None:
    declare_on_environments(project, "max_rules_per_group", rules)


def test_every_group_holds_at_most_the_limit_and_the_split_rules_pass_their_tests(tmp_path, promtools):
    copy_project(tmp_path)
    _limit(tmp_path, 20)
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "out"
    sizes = {g["name"]: len(g["rules"]) for path in (out / c.RULES_DIR).glob("*.rules.yaml")
             for g in yaml.safe_load(path.read_text())["groups"]}
    assert max(sizes.values()) <= 20, sorted(sizes.items(), key=lambda item: -item[1])[:3]
    # The freshness SLO's max ages (one per dataset) and its 13 other rules would make more than 20: the
    # constants have a group of their own.
    datasets = len((tmp_path / "slo" / "datasets.csv").read_text().splitlines()) - 1
    assert datasets + 13 > 20 and sizes.get(c.constants_rule_group(FRESHNESS, 1)) == datasets, sizes
    test_file = out / c.rules_test_file(FRESHNESS)
    for version, promtool in promtools.items():
        done = run(promtool, "test", "rules", test_file.name, cwd=test_file.parent)
        assert done.returncode == 0, f"{version}: {done.stdout[-2000:]}{done.stderr[-2000:]}"


def test_a_limit_below_an_slos_groups_is_refused_naming_the_environment(tmp_path):
    copy_project(tmp_path)
    _limit(tmp_path, 5)
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "telemetry/kfm.py: telemetry 'kfm': environments[dev].max_rules_per_group: 0 (no limit) or a whole " \
           "number from 20 to 100,000" in result.stderr, result.stderr


def test_more_invariants_than_one_group_holds_are_refused(tmp_path):
    copy_project(tmp_path)
    _limit(tmp_path, 20)
    many = "".join(f"    Invariant(name='Extra{i:02d}', counter='kfm_policy_decisions_total{{decision=\"allow\"}}', "
                   f"summary='s', description='d', owner='governance', runbook='- r\\n'),\n" for i in range(20))
    (tmp_path / "alerts" / "more.py").write_text("from generator import Invariant\n\nALERTS = [\n" + many + "]\n")
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r": ALERTS: max_rules_per_group: 2\d invariant alerts share one rule group, over the 20 "
                     r"environment '[a-z]+' allows in one group", result.stderr), result.stderr
