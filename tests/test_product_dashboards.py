"""KFM's product dashboards are definitions (dashboards/), not part of the compiler: the compiler renders
a project without them, and they come from their own files, built with the public generator.grafana API."""
from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project
from dashboards._uids import API_DASHBOARD_UID, EVIDENCE_DASHBOARD_UID, FRESHNESS_DASHBOARD_UID
from generator import conventions as c
from generator.model.catalog import load
from generator.checks.lint import lint
from generator.model.problems import DefinitionError
from generator.grafana.backend import GENERATED_DASHBOARD_SOURCES
from generator.render import render

PRODUCT = {FRESHNESS_DASHBOARD_UID: "dashboards/kfm_freshness.py",
           EVIDENCE_DASHBOARD_UID: "dashboards/kfm_evidence_focus.py",
           API_DASHBOARD_UID: "dashboards/kfm_governed_api.py"}


def _boards(files: dict[str, str]) -> dict[str, dict]:
    return {json.loads(text)["uid"]: json.loads(text) for path, text in files.items()
            if path.startswith(c.DASHBOARDS_DIR)}


def _recorded(files: dict[str, str]) -> set[str]:
    return {rule["record"] for path, text in files.items() if path.startswith(c.RULES_DIR)
            for group in yaml.safe_load(text)["groups"] for rule in group["rules"] if "record" in rule}


def _header_sources(files: dict[str, str], uid: str) -> str:
    first = files[c.dashboard_configmap_file(uid)].splitlines()[0]
    return first.split(" from ", 1)[1].removesuffix(". DO NOT EDIT.")


def _problems(root: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load(root)
    return [p.line() for p in caught.value.problems]


def test_the_compiler_renders_with_an_empty_dashboards_folder(tmp_path):
    """KFM's SLOs, teams and telemetry without any dashboard definition: the overview and one dashboard
    per SLO, every lint rule holds (the overview links nowhere it cannot), and no product dashboard."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "slo", project / "slo")
    shutil.copytree(ROOT / "telemetry", project / "telemetry")
    (project / "alerts").mkdir()
    shutil.copy(ROOT / "alerts" / "teams.py", project / "alerts" / "teams.py")
    (project / "dashboards").mkdir()
    catalog = load(project)
    assert catalog.dashboards == () and catalog.overview_links == ()
    files, _ = render(catalog)
    boards = _boards(files)
    assert set(boards) == {c.OVERVIEW_DASHBOARD_UID} | {c.slo_dashboard_uid(s.name) for s in catalog.slos}
    assert boards[c.OVERVIEW_DASHBOARD_UID]["links"] == []
    findings = lint(list(boards.values()), _recorded(files))
    assert not findings, "\n".join(f.line() for f in findings)
    for uid in boards:
        assert _header_sources(files, uid) == ", ".join(GENERATED_DASHBOARD_SOURCES)


def test_the_product_dashboards_come_from_dashboards(catalog, rendered):
    """Each product dashboard is rendered from its definitions file, which its ConfigMap names; the overview
    links to them because their files ask it to (OVERVIEW_LINKS), in the order of their uids."""
    for uid, source in PRODUCT.items():
        assert catalog.dashboard_source(uid) == source
        assert _header_sources(rendered, uid) == source
    assert catalog.dashboard_source("kfm-pipeline-stages") == "dashboards/pipeline_stages.py"
    assert catalog.dashboard_source(c.OVERVIEW_DASHBOARD_UID) is None
    assert _header_sources(rendered, c.OVERVIEW_DASHBOARD_UID) == ", ".join(GENERATED_DASHBOARD_SOURCES)
    overview = _boards(rendered)[c.OVERVIEW_DASHBOARD_UID]
    assert [link["url"] for link in overview["links"]] == [f"/d/{uid}" for uid in sorted(PRODUCT)]


def test_nothing_under_generator_names_a_product_dashboard_or_alert(catalog):
    """The compiler is generic: no dashboard uid of dashboards/ nor invariant alert of alerts/ in its source."""
    names = {b["uid"] for b in catalog.dashboards} | {i.name for i in catalog.invariants}
    assert PRODUCT.keys() <= names and "PromotionThroughUnevaluatedGate" in names
    generator = ROOT / "generator"
    for path in sorted(generator.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2"):
            text = path.read_text()
            assert not [n for n in names if n in text], path.relative_to(ROOT)


def test_the_governed_api_dashboard_lists_the_invariants_of_every_alerts_file(tmp_path):
    """Its DASHBOARDS entry is a function of the loaded catalogue: an invariant in another file is listed."""
    project = copy_project(tmp_path)
    (project / "alerts" / "zz_more.py").write_text(textwrap.dedent("""\
        from generator import Invariant
        ALERTS = [Invariant(name="AuditRefMissing", counter="kfm_policy_decisions_total", summary="s",
                            description="d", owner="governance", runbook="- look")]
        """))
    board = next(b for b in load(project).dashboards if b["uid"] == API_DASHBOARD_UID)
    table = next(p for p in board["panels"] if p["title"] == "Invariant alerts")
    assert ('alertname=~"AuditRefMissing|PolicyAllowWithoutPolicyLabel|PromotionThroughUnevaluatedGate"'
            in table["targets"][0]["expr"])


def test_a_dashboards_function_that_fails_is_a_problem_of_its_file(tmp_path):
    project = copy_project(tmp_path)
    (project / "dashboards" / "zz.py").write_text(textwrap.dedent(f"""\
        from generator.grafana import Query, dashboard, timeseries


        def crashes(catalog):
            return 1 / 0


        def same_uid(catalog):
            return dashboard(uid={FRESHNESS_DASHBOARD_UID!r}, title="t", description="d", tags=[], links=[],
                             rows=[[timeseries("p", "d", [Query("up")], "none")]])


        DASHBOARDS = [crashes, lambda catalog: 5, same_uid]
        """))
    lines = _problems(project)
    assert "dashboards/zz.py: DASHBOARDS[0]: call: line 5: ZeroDivisionError: division by zero" in lines
    assert any(line.startswith("dashboards/zz.py: DASHBOARDS[1]: type: ") for line in lines), lines
    assert any(line.startswith(f"dashboards/zz.py: dashboard '{FRESHNESS_DASHBOARD_UID}': uid: ")
               for line in lines), lines


def test_overview_links_must_open_a_rendered_dashboard(tmp_path):
    project = copy_project(tmp_path)
    (project / "dashboards" / "zz.py").write_text(textwrap.dedent("""\
        from generator.grafana import link_to
        OVERVIEW_LINKS = [link_to("kfm-no-such-board", "Gone"), "/d/kfm-slo-overview"]
        """))
    lines = _problems(project)
    assert "dashboards/zz.py: OVERVIEW_LINKS[0]: url: 'kfm-no-such-board' is not a rendered dashboard" in lines
    assert any(line.startswith("dashboards/zz.py: OVERVIEW_LINKS[1]: type: ") for line in lines), lines


def test_definitions_import_helpers_from_their_own_root(tmp_path):
    """`from dashboards._uids import ...` reads the project being loaded, never one loaded before it."""
    first = load(copy_project(tmp_path / "a"))
    other = copy_project(tmp_path / "b")
    uids = other / "dashboards" / "_uids.py"
    uids.write_text(uids.read_text().replace(f'"{FRESHNESS_DASHBOARD_UID}"', '"kfm-freshness-renamed"'))
    second = load(other)
    assert FRESHNESS_DASHBOARD_UID in {b["uid"] for b in first.dashboards}
    assert "kfm-freshness-renamed" in {b["uid"] for b in second.dashboards}
    assert {i.dashboard_uid for i in second.invariants} == {API_DASHBOARD_UID, "kfm-freshness-renamed"}
    assert FRESHNESS_DASHBOARD_UID in {b["uid"] for b in load(ROOT).dashboards}
    assert sys.modules["dashboards._uids"].FRESHNESS_DASHBOARD_UID == FRESHNESS_DASHBOARD_UID  # this file's
