"""`python -m generator diff` (`make diff`) on real changes to a copy of the project in its own
git repository: the summary names what changed, with budgets as time, and is deterministic."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from test_bad_definitions import slo_file

pytestmark = pytest.mark.git

PROJECT_DIRS = ("generator", "kfm_instrument", "slo", "alerts", "dashboards", "telemetry", "out")


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture()
def repo(tmp_path) -> Path:
    """A copy of the project, committed as the base of a change."""
    project = tmp_path / "project"
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    return project


def diff(project: Path, seed: str = "0", gates_pass: bool = True) -> str:
    result = run_cli("diff", "--root", str(project), "--base", "main", "--today", "2026-11-29", cwd=project,
                     env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(project)})
    assert result.returncode == (0 if gates_pass else 1), result.stderr
    return result.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_raising_an_objective_prints_the_budget_as_time_and_the_alerts_it_moves(repo):
    edit(repo / "slo" / "focus_mode.py", "objective=0.995,", "objective=0.999,")
    summary = diff(repo)
    assert "| `focus-mode-errors` | changed | 99.5% → 99.9% | 30d | 3h36m → 43m12s per 30 days |" in summary
    # Every burn alert of the SLO moves its threshold with the budget (factor x budget).
    assert "| `FocusModeErrorsErrorBudgetBurnPage` `page-1h-5m` | threshold 0.072 → 0.0144; annotations description changed |" in summary
    assert "| `FocusModeErrorsErrorBudgetBurnPage` `page-6h-30m` | threshold 0.03 → 0.006; annotations description changed |" in summary
    assert "| `FocusModeErrorsErrorBudgetBurnTicket` `ticket-3d-6h` | threshold 0.005 → 0.001; annotations description changed |" in summary
    assert "Changed (4):" in summary  # the four window pairs, and nothing else
    assert "| `kfm-slo-focus-mode-errors` | panels | ~ Burn rate page 1h/5m;" in summary
    assert "**the SLI itself changed**" not in summary
    assert "No collector pipeline or setting changed." in summary
    assert "No route, receiver or inhibition changed." in summary
    assert "**Policy gates: 5 of 5 pass**" in summary
    # Deterministic: the same change gives the same summary under another hash seed.
    assert diff(repo, seed="4242") == summary


def test_added_slo_collector_change_and_a_failing_gate(repo):
    (repo / "slo" / "zz_new.py").write_text(slo_file(owner='"ghost-team"'))
    edit(repo / "telemetry" / "kfm.py", 'Environment("prod", trace_sampling_percent=5',
         'Environment("prod", trace_sampling_percent=10')
    summary = diff(repo, gates_pass=False)
    assert "| `broken-example` | added | 99% | 30d | 7h12m per 30 days |" in summary
    assert "Added (5):" in summary and "- `BrokenExampleErrorBudgetBurnPage` `page-1h-5m`: page, 14.4x over 1h/5m" \
        in summary
    assert "| `kfm-slo-broken-example` | added | 12 panels |" in summary
    assert "- `prod` (1 change):" in summary
    assert "/processors/tail_sampling/policies/2/probabilistic/sampling_percentage`: 5 → 10" in summary
    assert "**Policy gates: owner-and-runbook FAIL: this change may not ship**" in summary
    assert "'ghost-team' is not a team" in summary


def test_an_sli_change_and_a_dashboard_query_change_are_named(repo):
    edit(repo / "slo" / "focus_mode.py", """bad=f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}="error"}}',""",
         """bad=f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}=~"error|abstained"}}',""")
    edit(repo / "dashboards" / "pipeline_stages.py", "histogram_quantile(0.9,", "histogram_quantile(0.95,")
    edit(repo / "telemetry" / "kfm.py", 'Environment("prod", trace_sampling_percent=5, pages=True)',
         'Environment("prod", trace_sampling_percent=5)')
    summary = diff(repo)
    assert "- `focus-mode-errors`: **the SLI itself changed**" in summary
    assert "~ `kfm_slo:bad_events:rate5m`" in summary
    assert "| `kfm-pipeline-stages` | panels | ~ " in summary
    assert "- `prod` (" in summary.split("### Alertmanager routing")[1]
    assert "kfm-page → kfm-ticket" in summary


def test_no_change_says_so(repo):
    summary = diff(repo)
    for line in ("No SLO added, removed or changed (10 SLOs).", "No alert added, removed or changed",
                 "No recording rule added, removed or changed.", "No panel added, removed or changed",
                 "No collector pipeline or setting changed.", "No environment lets more or less through.", "0 files under out/ differ"):
        assert line in summary


def test_an_unknown_ref_is_an_error(repo):
    result = run_cli("diff", "--root", str(repo), "--base", "no-such-ref", cwd=repo)
    assert result.returncode == 2 and "cannot read 'no-such-ref'" in result.stderr


def test_what_prod_lets_through_is_listed(repo):
    edit(repo / "telemetry" / "kfm.py", 'hash_attributes=("client.address", "user.id"),',
         'hash_attributes=("client.address", "user.id"),\n    allowed_attributes=("http.request.header.x-request-id",),')
    summary = diff(repo)
    section = summary.split("### What leaves the collector", 1)[1].split("###", 1)[0]
    assert "- `prod` **(pages: production data)** lets through 1 more key: `http.request.header.x-request-id`" in section
    assert section.index("`prod`") < section.index("`dev`")  # the paging environment first
