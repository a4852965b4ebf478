"""Run the real promtool, several files at once (the machines have 2 cores)."""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def run(promtool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def run_tests_concurrently(promtool: str, files: list[Path]) -> dict[Path, subprocess.CompletedProcess]:
    workers = max(1, min(len(files), os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda f: run(promtool, "test", "rules", f.name, cwd=f.parent), files)
        return dict(zip(files, results))


def needs_prometheus_3(path: Path) -> bool:
    """Whether a generated test file says only promtool 3.x can run it (native histograms)."""
    from generator import conventions as c

    return any(line.startswith(c.NEEDS_PROMETHEUS_3) for line in path.read_text().splitlines()[:10])


def exact_recovery_test(slo, rules_file: Path, semantics: str) -> tuple[dict, int, int]:
    """A promtool test of the SLO's recovery scenario asserting, at every minute and for every pair,
    that version's own predicted firing state with no tolerance, except at a minute where a ratio
    sits within float64 rounding (1e-9) of the threshold (the prediction moved by that much
    changes). Returns (the test document, minutes asserted, minutes skipped as ties)."""
    from generator import conventions as c
    from generator.prometheus.rules import burn_alert
    from generator.prometheus.simulate import TIE, firing_ticks
    from generator.prometheus.testgen import _Scenarios, _settled, group_eval_order

    runner = _Scenarios(slo)
    _, back, series, ratios, states = runner.recovery_run()
    end = _settled(states, back)
    checks, asserted, skipped = [], 0, 0
    series_of = ratios[semantics]
    for pair, runs in states.items():
        low, high = (firing_ticks(series_of, pair, runner.budget, slo.alerting.min_events, t) for t in (-TIE, TIE))
        tier = burn_alert(slo, pair)["labels"][c.TIER_LABEL]
        expr = f'count(ALERTS{{{c.SLO_LABEL}="{slo.name}",{c.TIER_LABEL}="{tier}",alertstate="firing"}}) or vector(0)'
        for k in range(1, end + 1):  # the firing pair's one series (its group, or the stale dataset)
            if low[k] != high[k]:
                skipped += 1
                continue
            asserted += 1
            checks.append({"expr": expr, "eval_time": f"{k}m",
                           "exp_samples": [{"labels": "{}", "value": int(runs[semantics][k])}]})
    document = {"rule_files": [str(rules_file)], "evaluation_interval": "1m",
                **({"group_eval_order": group_eval_order(slo)} if group_eval_order(slo) else {}),
                "tests": [{"interval": "1m", "input_series": series(end), "promql_expr_test": checks}]}
    return document, asserted, skipped


def run_mutated(promtool: str, out: Path, slo_name: str, old: str, new: str, folder: Path) -> subprocess.CompletedProcess:
    """The SLO's generated tests (in `out`) run against its rule file with `old` replaced by `new`."""
    import yaml

    from generator import conventions as c

    rules = (out / c.rules_file(slo_name)).read_text()
    assert old in rules, old
    (folder / "rules.yaml").write_text(rules.replace(old, new))
    document = yaml.safe_load((out / c.rules_test_file(slo_name)).read_text())
    document["rule_files"] = ["rules.yaml"]
    (folder / "test.yaml").write_text(yaml.safe_dump(document))
    return run(promtool, "test", "rules", "test.yaml", cwd=folder)
