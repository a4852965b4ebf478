"""The backtest agrees with promtool 2.42 under 2.x range-selector semantics (see test_backtest_promtool.py)."""
from __future__ import annotations

from test_backtest_promtool import agreement


def test_backtest_firing_minutes_match_promtool_2_for_both_refs(catalog, promtool, tmp_path):
    agreement(catalog, "2.x", promtool, tmp_path)
