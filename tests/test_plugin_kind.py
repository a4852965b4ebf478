"""A new SLI kind is one module: a kind written here, outside the compiler, in a project's definitions
file, renders, passes promtool's checks and its own generated promtool tests on 2.x and 3.x, passes
the gates (the metric contract against its Metric declaration, the dashboard lint) and type-checks
against the protocol, with no compiler module changed.

The kind: a saturation SLI over a gauge ("Kafka consumer lag stays under 1,000 messages"): a tick is
bad while the gauge is above its ceiling, and the error ratio of a window is the share of bad ticks.
"""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT, copy_project, run_cli
from generator import conventions as c
from generator.model.windows import PAGE
from promtool_runner import run, run_mutated

SLO_NAME = "orders-consumer-lag"

KIND_SOURCE = '''"""Orders consumers keep up: their Kafka consumer lag stays under a ceiling (a project's own SLI kind)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from generator import SLO, Metric, SLIKind
from generator import conventions as c
from generator.model.durations import format_duration
from generator.grafana import Panel, Query, timeseries
from generator.model.kinds.base import NoDataRun, Problems, Ratios, Run, group_by_problems, parse_field
from generator.promql.selectors import Selector, parse_selector
from generator.prometheus.simulate import RatioSeries, Semantics, TickHistory, tick_text
from generator.model.slo import SLO as SLOType
from generator.prometheus.testseries import notation, series_name

ABOVE_CEILING = c.RECORDED_PREFIX + "above_ceiling:bool"


@dataclass(frozen=True)
class GaugeCeiling(SLIKind):
    """Share of evaluation ticks a gauge stayed at or under its ceiling."""

    gauge: str
    ceiling: int
    group_by: tuple[str, ...] = ()
    kind = "gauge_ceiling"

    def problems(self) -> Problems:
        found: Problems = []
        parse_field("sli.gauge", self.gauge, found)
        if not isinstance(self.ceiling, int) or isinstance(self.ceiling, bool) or not 0 < self.ceiling < 10**9:
            found.append(("sli.ceiling", f"give a whole number above 0, got {self.ceiling!r}"))
        group_by_problems(self.group_by, found)
        return found

    def canonical(self) -> dict:
        return {"kind": self.kind, "gauge": self.gauge, "ceiling": self.ceiling, "group_by": list(self.group_by)}

    def selector(self) -> Selector:
        return parse_selector(self.gauge)

    def source_selectors(self) -> list[Selector]:
        return [self.selector()]

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict]:
        expr = f"max{self.by_clause()}({self.selector().render()}) > bool {self.ceiling}"
        return [{"record": ABOVE_CEILING, "expr": expr, "labels": {c.SLO_LABEL: slo}}]

    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        return f"avg_over_time({ABOVE_CEILING}{c.slo_matcher(slo)}[{format_duration(window)}])"

    def no_data_expr(self, slo: str) -> str:
        return f"absent({self.selector().render()})"

    def scenario_series(self, slo: SLOType) -> "CeilingSeries":
        return CeilingSeries(slo, self)

    def signal_panel(self, slo_selector: str, legend: Callable[[str], str]) -> Panel:
        return timeseries("Above the ceiling", f"1 while the gauge is above {self.ceiling}.",
                          [Query(f"{ABOVE_CEILING}{slo_selector}", legend("above ceiling"))], "none")

    def runbook_queries(self) -> list[str]:
        return [f"max{self.by_clause().rstrip()} ({self.selector().render()})    # the ceiling is {self.ceiling}"]


class CeilingSeries:
    """The gauge at 0 while healthy and at twice the ceiling while bad: an instant selector reads the
    sample of its own tick on 2.x and 3.x alike, so a tick is bad exactly when the scenario says."""

    def __init__(self, slo: SLOType, sli: GaugeCeiling):
        self.sli = sli
        self.budget = Fraction(str(slo.error_budget))
        self.gauge = sli.selector()
        self.labels: dict[str, str] = {}

    def _run(self, why: list[str], ticks: int, bad: Callable[[int], bool]) -> Run:
        pattern = [bad(k) for k in range(ticks + 1)]
        values = [2 * self.sli.ceiling if b else 0 for b in pattern]
        name = series_name(self.gauge.metric, self.gauge.equality_labels())

        def series(end: int) -> list[dict]:
            return [{"series": name, "values": notation(values[: end + 1])}]
        history = TickHistory(pattern)
        return Run(why, series, {sem: RatioSeries(history, sem) for sem in Semantics.ALL}, may_page=True)

    def healthy(self, ticks: int, share: Fraction) -> Run:
        return self._run(["the lag stays at 0: no alert of this SLO, not even pending"], ticks, lambda k: False)

    def zero_traffic(self, ticks: int) -> Run | None:
        return None

    def outage(self, start: int, horizon: int) -> Run:
        return self._run([f"the lag jumps above the ceiling at {tick_text(start)} and stays there"], horizon,
                         lambda k: k > start)

    def outage_checks(self, slo: SLOType, end: int) -> list[dict]:
        return []

    def partial(self, start: int, horizon: int, error: Fraction) -> Run | None:
        return None

    def all_bad(self, ticks: int) -> Run:
        return self._run(["the lag is above the ceiling from the first sample"], ticks, lambda k: True)

    def slow_burn(self, start: int, horizon: int, factor: Fraction, ties: Callable[[Ratios], bool]) -> Run:
        for extra in range(5):
            every = math.ceil(1 / (factor * self.budget)) + extra
            run = self._run([f"healthy for {tick_text(start)}, then one minute in {every} above the ceiling"],
                            horizon, lambda k: k > start and (k - start) % every == 0)
            if run.ratios is not None and not ties(run.ratios):
                break
        return run

    def no_data(self, ticks: int) -> NoDataRun:
        def series(end: int) -> list[dict]:
            return [{"series": 'up{job="unrelated"}', "values": f"1+0x{end}"}]
        return NoDataRun(["no lag series at all: the no-data alert fires"], series, self.gauge.equality_labels())

    def recovery(self, start: int, back: int, horizon: int) -> Run:
        return self._run([f"above the ceiling from {tick_text(start)} to {tick_text(back)}, then caught up"],
                         horizon, lambda k: start < k <= back)


METRICS = [
    Metric("kafka_consumergroup_lag", "gauge", labels={"consumergroup": None, "topic": None, "partition": None},
           source="the Kafka exporter (danielqsj/kafka_exporter)"),
]

SLOS = [
    SLO(
        name="SLO_NAME",
        service="orders",
        owner="data-platform",
        description="The orders consumers keep up with their topic.",
        objective=0.99,
        sli=GaugeCeiling(gauge='kafka_consumergroup_lag{consumergroup="orders", topic="orders"}', ceiling=1000),
        runbook="- Scale the orders consumers; check for a poison message on the partition that lags.\\n",
    ),
]
'''.replace("SLO_NAME", SLO_NAME)


def _project(tmp_path):
    copy_project(tmp_path)
    (tmp_path / "slo" / "consumer_lag.py").write_text(KIND_SOURCE)
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path / "out"


def test_a_kind_written_outside_the_compiler_renders_and_its_generated_tests_pass(tmp_path, promtools):
    out = _project(tmp_path)
    rules = (out / c.rules_file(SLO_NAME)).read_text()
    assert 'max(kafka_consumergroup_lag{consumergroup="orders", topic="orders"}) > bool 1000' in rules, rules
    tests = (out / c.rules_test_file(SLO_NAME)).read_text()
    for scenario in ("healthy", "outage", "annotations", "slow burn", "no data", "recovery"):
        assert f"# --- {SLO_NAME}: {scenario}\n" in tests, scenario
    assert "starts firing at" in tests and "stops firing at" in tests
    for version, promtool in promtools.items():
        checked = run(promtool, "check", "rules", str(out / c.rules_file(SLO_NAME)))
        assert checked.returncode == 0, f"{version}: {checked.stdout}{checked.stderr}"
        done = run(promtool, "test", "rules", c.rules_test_file(SLO_NAME).rsplit("/", 1)[1],
                   cwd=out / "prometheus" / "tests")
        assert done.returncode == 0, f"{version}: {done.stdout[-3000:]}"
    gates = run_cli("gates", cwd=tmp_path)
    assert gates.returncode == 0, gates.stdout + gates.stderr
    assert "FAIL" not in gates.stdout
    runbook = (out / c.runbook_file(c.burn_alert(SLO_NAME, PAGE))).read_text()
    assert "the ceiling is 1000" in runbook and "Kafka exporter" in runbook
    dashboard = (out / c.dashboard_file(c.slo_dashboard_uid(SLO_NAME))).read_text()
    assert "Above the ceiling" in dashboard


def test_its_generated_tests_catch_a_wrong_ceiling(tmp_path, promtool):
    """The generated tests assert something that can be false: with the comparison moved above the
    scenarios' lag, no alert fires and promtool fails them."""
    out = _project(tmp_path)
    folder = tmp_path / "mutated"
    folder.mkdir()
    broken = run_mutated(promtool, out, SLO_NAME, "> bool 1000", "> bool 5000", folder)
    assert broken.returncode != 0 and "FAILED" in broken.stdout + broken.stderr, broken.stdout[-2000:]


def test_the_kind_type_checks_against_the_protocol_and_no_compiler_module_names_it(tmp_path):
    path = tmp_path / "consumer_lag.py"
    path.write_text(KIND_SOURCE)
    checked = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                              "--ignore-missing-imports", "--allow-untyped-calls", "--disable-error-code", "type-arg",
                              str(path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for module in (ROOT / "generator").rglob("*.py"):
        text = module.read_text()
        assert "GaugeCeiling" not in text and "above_ceiling" not in text, module
