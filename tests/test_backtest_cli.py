"""`python -m generator diff --history`: the backtest in the review summary, from the command line.

The project is a copy of this one in a git repository whose base commit has focus-mode-errors at 99.5%
and whose working tree at 99.9%; the history is the backfilled synthetic month (tests/backfill_history.py)
of its counter, as an OpenMetrics file (tests/test_backtest_live.py serves the same month from a real
Prometheus)."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator import conventions as c
from backfill_history import MONTH_START, generate, write_openmetrics
from backtest_support import OUTCOMES, diff_project
from conftest import run_cli

pytestmark = pytest.mark.git


def write_month(path: Path) -> None:
    history = generate(days=30, outcomes=OUTCOMES, bad_outcome="error")
    write_openmetrics(history, c.FOCUS_ANSWERS, c.OUTCOME, path, "Focus Mode answers")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return diff_project(tmp_path_factory.mktemp("backtest") / "project")


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("history") / "month.om"
    write_month(path)
    return path


def backtest_part(stdout: str) -> str:
    assert "### Backtest" in stdout, stdout[-2000:]
    return stdout[stdout.index("### Backtest"):]


def check_month_backtest(text: str) -> None:
    """What 99.9% would have done over the month that 99.5% did not, with its minutes."""
    assert "#### `focus-mode-errors`: 99.5% → 99.9%" in text
    assert text.count("#### ") == 1, text   # only the changed SLO
    new_only = text.split("Alerts this change would have raised that the base did not: ")[1].split("\n\n")[0]
    count, *listed = new_only.splitlines()
    assert int(count) == len(listed) >= 3, new_only
    # the quiet-night degradation (day 23, 01:00 to 07:00, 2% errors): 99.9%'s slower page (6x 0.1%) fires
    # there, 99.5%'s (6x 0.5% = 3%) cannot
    assert any(line.startswith("- page `page-6h-30m`: fired 2024-03-23 0") for line in listed), listed
    assert any(line.startswith("- ticket `") for line in listed), listed
    assert "Alerts the base raised that this change would not: none." in text
    # the busy-hour outage (day 12, 14:05, 12% errors) pages on both, 99.9% sooner
    assert "- page `page-1h-5m`: fired 2024-03-12 14:" in text and "min earlier)" in text
    rows = dict(line.split(" | ", 1) for line in text.splitlines() if line.startswith("| pages"))
    old_pages, new_pages = (int(v) for v in rows["| pages"].strip(" |").split(" | "))
    assert 1 <= old_pages < new_pages


def test_diff_with_a_file_history_reports_what_the_new_objective_would_have_raised(project, month):
    result = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"file={month}")
    assert result.returncode == 0, result.stderr[-3000:]
    text = backtest_part(result.stdout)
    assert f"file={month}" in text and "from 2024-03-01 00:00 UTC to 2024-03-31 00:00 UTC" in text
    check_month_backtest(text)
    assert result.stdout.index("### Policy gates") < result.stdout.index("### Backtest")


def test_an_unreachable_history_source_is_exit_2_naming_it_and_the_query(project):
    url = "http://127.0.0.1:9"   # the discard port: nothing listens there
    result = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"prometheus={url}",
                     "--history-end", str(MONTH_START + 86400))
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: history source {url}: query_range 'kfm_focus_answers_total'"), line
    assert "unreachable" in line and "no alerts" not in result.stderr


def test_a_history_source_without_the_slis_series_is_exit_2_naming_it_and_the_query(project, tmp_path):
    other = tmp_path / "other.om"
    other.write_text('kfm_other_total{outcome="error"} 1 1709251200\nkfm_other_total{outcome="error"} 2 1709251260\n# EOF\n')
    result = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"file={other}",
                     "--history-start", "1709251200", "--history-end", "2024-03-01T01:00:00Z")
    assert result.returncode == 2, (result.returncode, result.stderr)
    [line] = result.stderr.strip().splitlines()
    # the query reaches back the longest window (3d) before the period, to fill the windows
    assert line == (f"error: history source file={other}: the query 'kfm_focus_answers_total' returned no samples "
                    "from 1708992000 to 1709254800: no history to backtest"), line


def test_a_malformed_history_option_is_exit_2_before_rendering(project):
    result = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", "influx=http://x")
    assert result.returncode == 2 and "give prometheus=http(s)://HOST:PORT or file=PATH" in result.stderr
    result = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", "file=x",
                     "--history-start", "yesterday")
    assert result.returncode == 2 and "--history-start 'yesterday' is not an ISO 8601 time" in result.stderr
