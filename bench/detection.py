"""Detection, side by side with Sloth, on the real promtool: when each alert fires for the same traffic.

One 99.9% availability SLO over 30d (10 requests/s, 1-minute samples and evaluations), compiled by
kfm and by Sloth v0.16.0 (scripts/install-sloth.sh). Each scenario is a promtool test whose input
series carry the traffic; promtool evaluates both rule sets and the bench reads when the alerts
fired from the ALERTS series it stored (a query whose expected value is deliberately empty, so
promtool prints what it got). Run on promtool 3.16 (kfm also on 2.42, whose range selectors are
closed).

The bad-requests counter starts at 1,000 (earlier errors): a counter that is still 0 when errors
begin makes Prometheus extrapolate its first rate only back to zero, one minute later for both tools.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from prometheus_tools import build_prometheus3, find_promtool2  # noqa: E402

from generator.model.kinds.events_ratio import EventsRatio  # noqa: E402
from generator.model.slo import SLO  # noqa: E402
from generator.prometheus.rules import slo_groups  # noqa: E402
from generator.prometheus.testgen import group_eval_order  # noqa: E402
from generator.prometheus.testseries import notation  # noqa: E402
from generator.writer import yamlout  # noqa: E402

METRIC = "http_requests_total"
ROUTE = '{job="myservice"}'
PER_MINUTE = 600            # 10 requests a second
WARM = 6 * 60               # minutes of healthy traffic before a page scenario's trouble
BAD_START = 1000            # the bad counter's value before the test (earlier errors)
SLO_NAME = "myservice-availability"
SLOTH_ALERT = "MyserviceAvailability"


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str
    minutes: int
    bad_share: Callable[[int], float]      # share of minute k's requests that fail
    vanish_from: int | None = None        # no samples from this minute on (no stale markers)


SCENARIOS = [
    Scenario("outage", "30-minute total outage: page <= 2 min after it starts; fast page tier stops <= 6 min "
             "after recovery", WARM + 180, lambda k: 1.0 if WARM < k <= WARM + 30 else 0.0),
    Scenario("burn20x", "2% errors (20x) for 2 h: page within 43.2 min + 1 evaluation", WARM + 180,
             lambda k: 0.02 if WARM < k <= WARM + 120 else 0.0),
    Scenario("blip", "1 minute at 80% errors (480 errors, under the 2% page share of 518): no page", WARM + 120,
             lambda k: 0.8 if k == WARM + 1 else 0.0),
    Scenario("low", "0.05% errors for 3 days: nothing fires", 3 * 1440, lambda k: 0.0005 if k > 0 else 0.0),
    Scenario("slow", "0.2% errors (2x) for 3 days: a ticket, never a page", 3 * 1440,
             lambda k: 0.002 if k > 0 else 0.0),
    Scenario("vanish", "the SLI's series vanish (no stale markers): a no-data alert <= 10 min", WARM + 60,
             lambda k: 0.0, vanish_from=WARM + 1),
]


def kfm_rules() -> tuple[str, dict[str, str], list[str]]:
    slo = SLO(name=SLO_NAME, service="myservice", owner="platform", description="Requests succeed.",
              objective=0.999, runbook="- check\n",
              sli=EventsRatio(total=METRIC + ROUTE, bad=f'{METRIC}{{job="myservice", code=~"5..|429"}}'))
    selectors = {"page": 'alertname="MyserviceAvailabilityErrorBudgetBurnPage"',
                 "fast page": 'alertname="MyserviceAvailabilityErrorBudgetBurnPage", tier="page-1h-5m"',
                 "ticket": 'alertname="MyserviceAvailabilityErrorBudgetBurnTicket"',
                 "no data": 'alertname="MyserviceAvailabilitySLINoData"',
                 "any": f'slo="{SLO_NAME}"'}
    # The group order the simulator plays (and the generated tests set): promtool's own is random.
    return yamlout.dump({"groups": slo_groups(slo)[0]}), selectors, group_eval_order(slo)


def sloth_rules(sloth: str) -> tuple[str, dict[str, str], list[str]]:
    spec = {"version": "prometheus/v1", "service": "myservice", "slos": [{
        "name": "availability", "objective": 99.9, "description": "Requests succeed.",
        "sli": {"events": {"error_query": f'sum(rate({METRIC}{{job="myservice",code=~"5..|429"}}[{{{{.window}}}}]))',
                           "total_query": f"sum(rate({METRIC}{ROUTE}[{{{{.window}}}}]))"}},
        "alerting": {"name": SLOTH_ALERT, "page_alert": {"labels": {"severity": "page"}},
                     "ticket_alert": {"labels": {"severity": "ticket"}}}}]}
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "spec.yaml", Path(folder) / "rules.yaml"
        source.write_text(yaml.safe_dump(spec))
        subprocess.run([sloth, "generate", "-i", str(source), "-o", str(out)], check=True, capture_output=True)
        text = out.read_text()
    selectors = {"page": f'alertname="{SLOTH_ALERT}", sloth_severity="page"',
                 "fast page": f'alertname="{SLOTH_ALERT}", sloth_severity="page"',   # one page alert, both pairs
                 "ticket": f'alertname="{SLOTH_ALERT}", sloth_severity="ticket"',
                 "no data": 'alertname="no-such-alert"',                                # Sloth has none
                 "any": f'alertname="{SLOTH_ALERT}"'}
    return text, selectors, []


def input_series(scenario: Scenario) -> list[dict[str, str]]:
    good, bad = [0], [BAD_START]
    for k in range(1, scenario.minutes + 1):
        share = scenario.bad_share(k)
        failing = round(PER_MINUTE * share)
        good.append(good[-1] + PER_MINUTE - failing)
        bad.append(bad[-1] + failing)

    def values(counter: list[int]) -> str:
        if scenario.vanish_from is None:
            return notation(counter)
        kept = counter[: scenario.vanish_from]
        return notation(kept) + f" _x{scenario.minutes - len(kept) + 1}"
    return [{"series": f'{METRIC}{{job="myservice", code="200"}}', "values": values(good)},
            {"series": f'{METRIC}{{job="myservice", code="500"}}', "values": values(bad)}]


def questions(selectors: dict[str, str], minutes: int) -> dict[str, str]:
    """name -> PromQL whose value promtool prints (evaluated at the last minute)."""
    window = f"[{minutes}m:1m]"
    firing = lambda key: f'timestamp(ALERTS{{{selectors[key]}, alertstate="firing"}})'  # noqa: E731
    return {
        "first page": f"min(min_over_time({firing('page')}{window}))",
        "last fast page": f"max(max_over_time({firing('fast page')}{window}))",
        "first ticket": f"min(min_over_time({firing('ticket')}{window}))",
        "first no data": f"min(min_over_time({firing('no data')}{window}))",
        "pages": f"sum(count_over_time(ALERTS{{{selectors['page']}, alertstate=\"firing\"}}[{minutes}m]))",
        "any firing": f"sum(count_over_time(ALERTS{{{selectors['any']}, alertstate=\"firing\"}}[{minutes}m]))",
    }


GOT = re.compile(r'expr: "(.*)", time: .*\n\s+exp: .*\n\s+got: .*?([-+0-9.eE]+)\s*$', re.M)


def measure(promtool: str, rules: str, selectors: dict[str, str], order: list[str], scenario: Scenario,
            folder: Path) -> dict[str, float]:
    (folder / "rules.yaml").write_text(rules)
    asked = questions(selectors, scenario.minutes)
    test = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", **({"group_eval_order": order} if order else {}),
            "tests": [{
        "interval": "1m", "input_series": input_series(scenario),
        "promql_expr_test": [{"expr": expr, "eval_time": f"{scenario.minutes}m", "exp_samples": []}
                             for expr in asked.values()]}]}
    (folder / "test.yaml").write_text(yaml.safe_dump(test, width=10**9))
    done = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=folder, capture_output=True, text=True,
                          timeout=3600)
    printed = done.stdout + done.stderr
    if done.returncode != 0 and "FAILED" not in printed:
        raise SystemExit(printed[-3000:])
    values = {m.group(1).replace('\\"', '"'): float(m.group(2)) for m in GOT.finditer(printed)}
    return {name: values[expr] for name, expr in asked.items() if expr in values}


def minutes_after(value: float | None, start: int) -> str:
    return "never" if value is None else f"+{value / 60 - start:g} min"


def row(scenario: Scenario, found: dict[str, float]) -> str:
    if scenario.name == "outage":
        stop = found.get("last fast page")
        stopped = "never fired" if stop is None else f"+{stop / 60 + 1 - (WARM + 30):g} min"
        return f"page {minutes_after(found.get('first page'), WARM)}; fast page tier stops {stopped} after recovery"
    if scenario.name == "burn20x":
        return f"page {minutes_after(found.get('first page'), WARM)}"
    if scenario.name == "blip":
        return f"{found.get('pages', 0):g} page evaluations"
    if scenario.name == "low":
        return "nothing fires" if not found.get("any firing") else f"{found['any firing']:g} firing evaluations"
    if scenario.name == "slow":
        return (f"ticket {minutes_after(found.get('first ticket'), 0)}, "
                f"{'no page' if not found.get('pages') else str(int(found['pages'])) + ' page evaluations'}")
    return f"no-data alert {minutes_after(found.get('first no data'), scenario.vanish_from - 1)} after the last sample"


def main() -> int:
    sloth = shutil.which("sloth") or str(Path.home() / ".cache/kfm-observability/sloth-v0.16.0/sloth")
    promtool3, why3 = build_prometheus3("promtool")
    promtool2, why2 = find_promtool2()
    if not Path(sloth).exists() or not promtool3 or not promtool2:
        print("needs sloth (scripts/install-sloth.sh), promtool 3 and 2.x:", why3 or why2, file=sys.stderr)
        return 1
    tools = [("kfm, promtool 3.16", promtool3, *kfm_rules()), ("kfm, promtool 2.42", promtool2, *kfm_rules()),
             ("Sloth, promtool 3.16", promtool3, *sloth_rules(sloth))]
    results: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as base:
        jobs = []
        for scenario in SCENARIOS:
            for label, promtool, rules, selectors, order in tools:
                folder = Path(base) / f"{scenario.name}-{len(jobs)}"
                folder.mkdir()
                jobs.append((scenario, label, promtool, rules, selectors, order, folder))
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {pool.submit(measure, promtool, rules, selectors, order, scenario, folder): (scenario, label)
                       for scenario, label, promtool, rules, selectors, order, folder in jobs}
            for future, (scenario, label) in futures.items():
                results[(scenario.name, label)] = row(scenario, future.result())
    for scenario in SCENARIOS:
        print(f"\n{scenario.name}: {scenario.target}")
        for label, *_ in tools:
            print(f"  {label:<22} {results[(scenario.name, label)]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
