"""Every bad definition stops the render: exit 2, one line per problem naming
file, definition and field, and out/ left exactly as it was."""
from __future__ import annotations

import textwrap

import pytest

from conftest import copy_project, run_in_process
from generator.writer.tree import read_tree

GOOD = dict(
    name='"broken-example"', service='"example"', owner='"example-team"', description='"An example."',
    objective="0.99", runbook='"- first step"',
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
    "compressed test period in a definition": (slo_file(period='"6h"'), "period"),
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
    "runbook not text": (slo_file(runbook='42'), "runbook"),
    "waiver expiry not a date": (slo_file(alerting='Alerting(page=Tier.disabled("quiet", waiver=Waiver('
                                 'reason="r", expires="31/05/2027", approved_by="x")))'),
                                 "alerting.page.waiver.expires"),
    "waiver without a reason": (slo_file(alerting='Alerting(page=Tier.disabled("too noisy", waiver=Waiver('
                                'reason=" ", expires="2027-01-31", approved_by="lead")))'),
                                "alerting.page.waiver.reason"),
    "freshness max age of zero": (slo_file(sli='Freshness(datasets=(DatasetMaxAge("roads", "0s"),))'),
                                  "sli.datasets[0].max_age"),
    "latency threshold off the buckets": (slo_file(sli='Latency(histogram="kfm_evidence_resolution_duration_seconds", threshold_seconds=0.4)'),
                                          "sli.threshold_seconds"),
    "page disabled without a reason": (slo_file(alerting='Alerting(page=Tier(enabled=False))'),
                                       "alerting.page.disabled_reason"),
    "burn factor that can never fire": (slo_file(objective="0.9", alerting='Alerting(page=Tier(windows=(BurnWindow(long="1h", short="5m", factor=14.4),)))'),
                                        "alerting.page.windows[0].factor"),
    "default page pair that can never fire": (slo_file(objective="0.9"), "alerting.page"),
    "label that overwrites a group_by dimension": (slo_file(
        labels='{"kfm_decision": "allow"}',
        sli='EventsRatio(total="kfm_focus_answers_total", bad=\'kfm_focus_answers_total{outcome="error"}\', group_by=("kfm_decision",))'),
        "labels"),
    "regex Prometheus cannot run": (slo_file(sli="EventsRatio(total=\"kfm_focus_answers_total\", bad='kfm_focus_answers_total{outcome=~\"(?!answered).*\"}')"),
                                    "sli.bad"),
    "bad events outside total": (slo_file(sli="EventsRatio(total='kfm_pipeline_runs_total{stage=\"publish\"}', bad='kfm_pipeline_runs_total{status=\"failure\"}')"),
                                 "sli.bad"),
    "min_events on freshness": (slo_file(sli='Freshness(datasets=(DatasetMaxAge("roads", "2h"),))',
                                         alerting="Alerting(min_events=10)"), "alerting.min_events"),
    "objective that is not a number": (slo_file(objective='float("nan")'), "objective"),
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
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("slo/zz_broken.py: ")]
    assert any(f": SLO 'broken-example': {field}: " in line for line in lines), result.stderr
    assert read_tree(project / "out") == before


def test_duplicate_slo_names_name_both_files(project):
    duplicate = slo_file(name='"evidence-resolver-availability"')
    (project / "slo" / "zz_broken.py").write_text(duplicate)
    before = read_tree(project / "out")
    result = run_in_process("render", "--root", str(project))
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
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    fields = {line.split(": ")[2] for line in result.stderr.splitlines()[1:]}
    assert {"objective", "owner", "period", "name", "counter"} <= fields, result.stderr


def test_a_definitions_file_that_crashes_is_reported_with_its_line(project):
    (project / "slo" / "zz_broken.py").write_text("from generator import SLO\n\nSLOS = [undefined_name]\n")
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "slo/zz_broken.py: module: import: line 3: NameError" in result.stderr


def test_rule_group_names_that_clash_are_refused(project):
    (project / "slo" / "zz_broken.py").write_text(slo_file(name='"api"') + "\n" + slo_file(name='"api-budget"').replace(
        "from generator import *\n", "").replace("SLOS = [", "SLOS += ["))
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "its rule group 'kfm-slo-api-budget' clashes with SLO" in result.stderr


def test_the_invariants_file_name_is_reserved(project):
    (project / "slo" / "zz_broken.py").write_text(slo_file(name='"invariants"'))
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "slo/zz_broken.py: SLO 'invariants': name: 'invariants' is reserved" in result.stderr


def test_bad_invariants_are_refused(project):
    (project / "alerts" / "zz_broken.py").write_text(textwrap.dedent("""\
        from generator import Invariant
        ALERTS = [Invariant(name="TooShort", counter="kfm_promotions_total", summary="s", description="d",
                            owner="o", runbook="r", window="30s", by=("team",))]
        """))
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "invariant 'TooShort': window: 30s is too short" in result.stderr
    assert "invariant 'TooShort': by: 'team' cannot be an alert dimension" in result.stderr


def test_render_refuses_to_replace_a_folder_it_did_not_write(project, tmp_path):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    result = run_in_process("render", "--root", str(project), "--out", str(foreign))
    assert result.returncode == 2 and "refusing to replace it" in result.stderr
    assert (foreign / "keep.txt").read_text() == "mine"
    result = run_in_process("render", "--root", str(project), "--out", str(project))
    assert result.returncode == 2 and "contains the project" in result.stderr
    assert (project / "slo" / "evidence.py").exists()


def test_dataset_cadence_and_max_age_must_agree(project):
    table = project / "slo" / "datasets.csv"
    table.write_text(table.read_text() + "roads,daily,2h\nrails,yearly,400d\n")
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "line 14 (roads): max_age: 2h is shorter than its daily cadence" in result.stderr
    assert "line 15 (rails): cadence: 'yearly' is not one of" in result.stderr


def test_bad_dataset_table_row_names_the_row(project):
    table = project / "slo" / "datasets.csv"
    table.write_text(table.read_text() + "roads,daily,0s\n")
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    assert "slo/datasets.csv: line 14 (roads): max_age: '0s' must be longer than zero" in result.stderr


def test_bad_telemetry_definitions_name_the_field(project):
    (project / "telemetry").mkdir(exist_ok=True)
    (project / "telemetry" / "zz_broken.py").write_text(textwrap.dedent("""\
        from generator.model.environments import Environment
        from generator.model.telemetry import Telemetry
        TELEMETRY = Telemetry(services=("a",), red_services=("b",), slow_trace_services=(), slow_trace_ms=0,
                              delete_attributes=("run_id",), hash_attributes=(),
                              environments=(Environment("dev", trace_sampling_percent=150),))
        """))
    result = run_in_process("render", "--root", str(project))
    assert result.returncode == 2
    for field in ("red_services", "slow_trace_ms", "delete_attributes", "environments[dev].trace_sampling_percent"):
        assert f"telemetry/zz_broken.py: telemetry 'kfm': {field}: " in result.stderr, result.stderr
