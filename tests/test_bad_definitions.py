"""Every bad definition stops the render: exit 2, one line per problem naming
file, definition and field, and out/ left exactly as it was."""
from __future__ import annotations

import textwrap

import pytest

from conftest import copy_project, run_cli
from generator.writer import read_tree

GOOD = dict(
    name='"broken-example"', service='"example"', owner='"example-team"', description='"An example."',
    objective="0.99", runbook='"https://runbooks.kfm.example/x"',
    sli="EventsRatio(total=\"kfm_focus_answers_total\", bad='kfm_focus_answers_total{outcome=\"error\"}')",
)


def slo_file(**overrides: str) -> str:
    fields = {**GOOD, **overrides}
    args = ",\n        ".join(f"{k}={v}" for k, v in fields.items())
    return textwrap.dedent(f"""\
        from generator import *

        SLOS = [
            SLO(
                {args},
            ),
        ]
        """).replace("\n        ", "\n        ", 1)


CASES = {
    "objective is 1": (slo_file(objective="1"), "objective"),
    "objective is 0": (slo_file(objective="0"), "objective"),
    "objective above 1": (slo_file(objective="99.9"), "objective"),
    "unknown period": (slo_file(period='"14d"'), "period"),
    "window longer than the period": (slo_file(
        period='"7d"',
        alerting='Alerting(page=Tier(windows=(BurnWindow(long="10d", short="1h", factor=2),)))'),
        "alerting.page.windows[0].long"),
    "invalid label name": (slo_file(labels='{"bad-label": "x"}'), "labels"),
    "reserved label": (slo_file(labels='{"severity": "x"}'), "labels"),
    "invalid selector": (slo_file(sli='EventsRatio(total="rate(kfm_focus_answers_total[5m])", bad="kfm_focus_answers_total")'),
                         "sli.total"),
    "invalid regex in selector": (slo_file(sli="EventsRatio(total=\"kfm_focus_answers_total\", bad='kfm_focus_answers_total{outcome=~\"(\"}')"),
                                  "sli.bad"),
    "missing owner": (slo_file(owner='""'), "owner"),
    "missing runbook": (slo_file(runbook='""'), "runbook"),
    "freshness max age of zero": (slo_file(sli='Freshness(datasets=(DatasetMaxAge("roads", "0s"),))'),
                                  "sli.datasets[0].max_age"),
    "latency threshold off the buckets": (slo_file(sli='Latency(histogram="kfm_evidence_resolution_duration_seconds", threshold_seconds=0.4)'),
                                          "sli.threshold_seconds"),
    "page disabled without a reason": (slo_file(alerting='Alerting(page=Tier(enabled=False))'),
                                       "alerting.page.disabled_reason"),
    "burn factor that can never fire": (slo_file(objective="0.9", alerting='Alerting(page=Tier(windows=(BurnWindow(long="1h", short="5m", factor=14.4),)))'),
                                        "alerting.page.windows[0].factor"),
    "correlation id as a dimension": (slo_file(sli='EventsRatio(total="kfm_focus_answers_total", bad=\'kfm_focus_answers_total{outcome="error"}\', group_by=("run_id",))'),
                                      "sli.group_by"),
}


@pytest.fixture()
def project(tmp_path):
    return copy_project(tmp_path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_definition_exits_2_and_names_the_field(project, case):
    source, field = CASES[case]
    (project / "slo" / "zz_broken.py").write_text(source)
    before = read_tree(project / "out")
    result = run_cli("render", "--root", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("slo/zz_broken.py: ")]
    assert any(f": SLO 'broken-example': {field}: " in line for line in lines), result.stderr
    assert read_tree(project / "out") == before


def test_duplicate_slo_names_name_both_files(project):
    duplicate = slo_file(name='"evidence-resolver-availability"')
    (project / "slo" / "zz_broken.py").write_text(duplicate)
    before = read_tree(project / "out")
    result = run_cli("render", "--root", str(project))
    assert result.returncode == 2
    assert ("slo/zz_broken.py: SLO 'evidence-resolver-availability': name: duplicate SLO name "
            "(also defined in slo/evidence.py)") in result.stderr
    assert read_tree(project / "out") == before


def test_every_problem_is_reported_not_just_the_first(project):
    (project / "slo" / "zz_broken.py").write_text(slo_file(objective="2", owner='""', period='"1y"'))
    (project / "alerts" / "zz_broken.py").write_text(textwrap.dedent("""\
        from generator import Invariant
        ALERTS = [Invariant(name="lower", counter="x{", summary="s", description="d", owner="o", runbook="r")]
        """))
    result = run_cli("render", "--root", str(project))
    assert result.returncode == 2
    fields = {line.split(": ")[2] for line in result.stderr.splitlines()[1:]}
    assert {"objective", "owner", "period", "name", "counter"} <= fields, result.stderr


def test_a_definitions_file_that_crashes_is_reported_with_its_line(project):
    (project / "slo" / "zz_broken.py").write_text("from generator import SLO\n\nSLOS = [undefined_name]\n")
    result = run_cli("render", "--root", str(project))
    assert result.returncode == 2
    assert "slo/zz_broken.py: module: import: line 3: NameError" in result.stderr


def test_bad_dataset_table_row_names_the_row(project):
    table = project / "slo" / "datasets.csv"
    table.write_text(table.read_text() + "roads,daily,0s\n")
    result = run_cli("render", "--root", str(project))
    assert result.returncode == 2
    assert "slo/datasets.csv: line 14 (roads): max_age: '0s' must be longer than zero" in result.stderr
