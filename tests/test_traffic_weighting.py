"""The period SLI is traffic-weighted: errors over the period / events over the period.

Busy hours with few errors alternate with quiet hours with many: the exact
traffic-weighted ratio is about 0.2%, while an average of 5m ratios (Sloth's
period SLI) reads about 5%. promtool evaluates the rendered rules."""
from __future__ import annotations

import yaml

from generator import conventions as c
from promtool_runner import run

SLO = "evidence-resolver-availability"
HOURS = 6
BUSY, QUIET = (600, 0.001), (6, 0.1)  # events a minute, error share


def _history() -> tuple[list[float], list[float]]:
    total, bad = [0.0], [0.0]
    for minute in range(1, HOURS * 60 + 1):
        per_minute, share = BUSY if (minute - 1) // 60 % 2 == 0 else QUIET
        total.append(total[-1] + per_minute)
        bad.append(bad[-1] + per_minute * share)
    return total, bad


def test_period_ratio_is_traffic_weighted_not_an_average_of_ratios(promtool, rendered_dir, tmp_path):
    total, bad = _history()
    exact = bad[-1] / total[-1]
    average_of_ratios = (BUSY[1] + QUIET[1]) / 2
    assert average_of_ratios > 20 * exact  # the scenario is one where the two disagree
    good = [t - b for t, b in zip(total, bad)]
    sel = c.slo_matcher(SLO)
    end = f"{HOURS}h"
    test = {
        "rule_files": [str(rendered_dir / c.rules_file(SLO))],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'kfm_evidence_resolutions_total{outcome="error"}', "values": " ".join(map(repr, bad))},
                {"series": 'kfm_evidence_resolutions_total{outcome="resolved"}', "values": " ".join(map(repr, good))},
            ],
            "promql_expr_test": [
                # Ours: within 3% of the exact traffic-weighted ratio (edges of the 5m staging).
                {"expr": f"abs({c.PERIOD_ERROR_RATIO}{sel} - {exact!r}) < bool {exact * 0.03!r}",
                 "eval_time": end, "exp_samples": [{"labels": f'{{period="30d", slo="{SLO}"}}', "value": 1}]},
                # An average of 5m ratios over the same data is off by more than 10x.
                {"expr": f"avg_over_time({c.error_ratio(300)}{sel}[{end}]) > bool {10 * exact!r}",
                 "eval_time": end, "exp_samples": [{"labels": f'{{slo="{SLO}"}}', "value": 1}]},
            ],
        }],
    }
    path = tmp_path / "traffic-weighting.test.yaml"
    path.write_text(yaml.safe_dump(test, width=10**9))
    result = run(promtool, "test", "rules", str(path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
