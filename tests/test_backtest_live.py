"""The backtest over a real Prometheus 3.16: the synthetic month of focus-mode-errors' counter, backfilled
with `promtool tsdb create-blocks-from openmetrics` and served on 127.0.0.1, read by
`diff --history prometheus=URL` (43,201 minutes: five range queries of at most 10,000 points each, where
Prometheus refuses more than 11,000). The Markdown must be the one the same month gives from a file, to
the character (the source's name aside), and a period where the server holds nothing is exit 2 naming it."""
from __future__ import annotations

import pytest

from backfill_history import MONTH_START
from backtest_support import diff_project
from conftest import run_cli
from live_prometheus import find_prometheus
from test_backtest_cli import backtest_part, check_month_backtest, write_month
from tsdb_backfill import PrometheusOnData, import_openmetrics

pytestmark = [pytest.mark.live, pytest.mark.git]

MONTH_END = MONTH_START + 30 * 86400


def test_a_backfilled_month_served_by_prometheus_backtests_as_the_file_does(promtool3, tmp_path):
    assert find_prometheus()   # fails, with how to build it, when missing
    project = diff_project(tmp_path / "project")
    month = tmp_path / "month.om"
    write_month(month)
    data = tmp_path / "data"
    import_openmetrics(promtool3, month, data)
    server = PrometheusOnData(tmp_path, data)
    server.start()
    try:
        period = ("--history-start", "2024-03-01T00:00:00Z", "--history-end", str(MONTH_END))
        live = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"prometheus={server.url}",
                       *period)
        empty = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"prometheus={server.url}",
                        "--history-start", "2020-01-01T00:00:00Z", "--history-end", "2020-01-02T00:00:00Z")
    finally:
        server.stop()
    assert live.returncode == 0, live.stderr[-3000:]
    text = backtest_part(live.stdout)
    check_month_backtest(text)
    from_file = run_cli("diff", "--root", str(project), "--base", "HEAD", "--history", f"file={month}", *period)
    assert from_file.returncode == 0, from_file.stderr[-3000:]
    assert text.replace(f"prometheus={server.url}", "SOURCE") == \
        backtest_part(from_file.stdout).replace(f"file={month}", "SOURCE")
    assert empty.returncode == 2, (empty.returncode, empty.stderr)
    [line] = empty.stderr.strip().splitlines()
    assert line == (f"error: history source prometheus={server.url}: the query 'kfm_focus_answers_total' returned no "
                    "samples from 1577577600 to 1577923200: no history to backtest"), line
