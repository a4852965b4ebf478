"""Generated runbooks: one per alert, linked from its runbook_url, carrying the SLO's budget, the
window pairs, the hand-written first steps and the owning team's escalation path."""
from __future__ import annotations

import re

import yaml

from generator import conventions as c
from generator.model.windows import PAGE, TIERS
from generator.model.numbers import text as text_of


def rendered_alerts(rendered: dict[str, str]) -> list[dict]:
    return [rule for path, text in rendered.items() if path.startswith(c.RULES_DIR)
            for group in yaml.safe_load(text)["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_alert_links_to_its_own_runbook_and_every_runbook_to_an_alert(rendered):
    alerts = rendered_alerts(rendered)
    names = {a["alert"] for a in alerts}
    for alert in alerts:
        url = alert["annotations"]["runbook_url"]
        assert url == f"{c.RUNBOOK_BASE_URL}/{alert['alert']}.md"
        assert c.runbook_file(alert["alert"]) in rendered
    runbooks = {p for p in rendered if p.startswith(c.RUNBOOKS_DIR)}
    assert runbooks == {c.runbook_file(n) for n in names}


def test_burn_runbook_lists_every_pair_of_its_tier_with_the_budget(rendered, catalog):
    slo = next(s for s in catalog.slos if s.name == "evidence-resolver-availability")
    text = rendered[c.runbook_file(c.burn_alert(slo.name, PAGE))]
    assert "| error budget | 0.1%: 43m12s of total outage per 30d |" in text
    rows = re.findall(r"^\| `(page-[^`]+)` \| ([0-9.]+)x \|", text, flags=re.M)
    assert rows == [(f"page-{p.long_text}-{p.short_text}", text_of(p.factor)) for p in slo.pairs(PAGE)]
    assert "| `page-1h-5m` | 14.4x | 1h | 5m | 0 (at once) | 2% | 2d2h |" in text
    uid = c.slo_dashboard_uid(slo.name)
    assert f"({c.GRAFANA_BASE_URL}/d/{uid}?viewPanel=6)" in text and f"/d/{uid}?viewPanel=7)" in text


def test_hand_written_steps_and_escalation_are_merged(rendered, catalog):
    owners = [(c.burn_alert(s.name, t), s.runbook, s.owner) for s in catalog.slos for t in TIERS
              if s.pairs(t)]
    owners += [(c.no_data_alert(s.name), s.runbook, s.owner) for s in catalog.slos]
    owners += [(i.name, i.runbook, i.owner) for i in catalog.invariants]
    assert len(owners) == len([p for p in rendered if p.startswith(c.RUNBOOKS_DIR)])
    for alert, notes, owner in owners:
        text = rendered[c.runbook_file(alert)]
        steps = text.split("## First steps\n\n", 1)[1]
        # The hand-written steps come first, before the generic ones.
        assert steps.startswith(notes.strip().splitlines()[0]), alert
        team = catalog.team(owner)
        assert team.escalation in text and team.on_call in text, alert


def test_page_runbooks_say_where_they_page(rendered):
    text = rendered[c.runbook_file("PolicyAllowWithoutPolicyLabel")]
    assert "| severity | page (pages in prod; a ticket in dev, stage) |" in text
    assert "definitions-sha256: " in text.splitlines()[0]


def test_a_project_template_overrides_the_shipped_one_and_changes_only_what_it_renders(tmp_path):
    """templates/runbooks/burn.md.j2 beside slo/ replaces the shipped burn-rate runbook template; its
    hash enters the runbooks rendered from templates, and nothing else changes."""
    from conftest import copy_project, run_cli
    from generator.runbooks.prose import PACKAGE_TEMPLATES

    copy_project(tmp_path)
    folder = tmp_path / "templates" / "runbooks"
    folder.mkdir(parents=True)
    shipped = (PACKAGE_TEMPLATES / "runbooks" / "burn.md.j2").read_text()
    (folder / "burn.md.j2").write_text(shipped.replace("## What it means", "## What it means (KFM edition)"))
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    changed = sorted(p.relative_to(tmp_path / "out").as_posix() for p in before if after[p] != before[p])
    assert changed and all(p.startswith(c.RUNBOOKS_DIR) for p in changed), changed
    burn = [p for p in changed if "ErrorBudgetBurn" in p]
    assert burn and all("(KFM edition)" in (tmp_path / "out" / p).read_text() for p in burn)
    # The other runbooks change only their header line (the overrides' hash), not their text.
    for path in set(changed) - set(burn):
        old, new = before[tmp_path / "out" / path].decode(), after[tmp_path / "out" / path].decode()
        assert old.split("\n", 1)[1] == new.split("\n", 1)[1], path


def test_a_template_naming_something_the_generator_does_not_give_fails_loudly(tmp_path):
    from conftest import copy_project, run_cli

    copy_project(tmp_path)
    folder = tmp_path / "templates" / "runbooks"
    folder.mkdir(parents=True)
    (folder / "no_data.md.j2").write_text("# {{ alert }}\n{{ no_such_value }}\n")
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert ("templates/runbooks/no_data.md.j2: template 'runbooks/no_data.md.j2': template: 'no_such_value' is "
            "undefined") in result.stderr, result.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before
