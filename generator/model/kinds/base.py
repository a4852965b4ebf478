"""What an SLI kind is: the one protocol every kind implements, and what its generated tests need.

A kind is one module (`generator/kinds/<kind>.py`, or a definitions file for a project's own kind).
It owns everything that depends on what the SLI measures:

- its validation (`problems`) and its canonical form (the definitions hash);
- its source selectors, its base recordings (the only rules that read raw series) and the error
  ratio of any longer window, built on those base recordings only;
- its no-data condition and what the no-data alert names;
- the series its generated promtool tests write and the ratios the simulator predicts from them
  (`scenario_series`);
- the panel of its detail dashboard that shows its raw signal, and its runbook queries.

The rest of the compiler (rules, tests, dashboards, runbooks, checks) reads a kind only through this
protocol; none of it branches on which kind it is.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, ClassVar, Protocol, TYPE_CHECKING

from generator import conventions as c
from generator.model import fields
from generator.model.durations import format_duration
from generator.model.windows import recorded_range
from generator.promql import builder as b
from generator.promql.selectors import Selector, SelectorError, is_valid_label_name, parse_selector

if TYPE_CHECKING:
    from generator.model.declared_metrics import Metric
    from generator.grafana.panels import Panel
    from generator.prometheus.simulate import RatioSeries
    from generator.model.slo import SLO

# Below any summed rate of real traffic: one event in a 5m window is already a rate of 1/300.
ZERO_TRAFFIC_FLOOR = "1e-9"

Problems = list[tuple[str, str]]          # (field, message) of one definition
SeriesAt = Callable[[int], list[dict[str, Any]]]    # the input series of a scenario up to a tick
Ratios = dict[str, "RatioSeries"]         # Semantics -> the SLI's ratios as that Prometheus reads them


@dataclass(frozen=True)
class Run:
    """One scenario's history as a kind writes it: why (for the test's comment), the input series up
    to any tick, and the error ratios each Prometheus version reads from them (None when the
    scenario asserts no ratio). `may_page`: a steady burn below the page thresholds can still page
    this kind (one stale tick already exceeds a tight page threshold), so a slow-burn scenario that
    pages is skipped rather than a bug."""

    why: list[str]
    series: SeriesAt
    ratios: Ratios | None = None
    may_page: bool = False


@dataclass(frozen=True)
class NoDataRun:
    """The no-data scenario: why, the series written, and the labels the no-data alert carries."""

    why: list[str]
    series: SeriesAt
    labels: dict[str, str]


class ScenarioSeries(Protocol):
    """The series a kind's generated promtool tests write, per scenario (generator/prometheus/testgen.py).

    Ticks are one minute; `start` is the tick a scenario's trouble begins, `horizon` its last tick.
    Every Run's ratios must be exactly what Prometheus 2.x and 3.x compute from its series (the
    simulator's `RatioSeries` over an `EventHistory` or a `TickHistory`); the tests assert the alert
    minutes predicted from them.
    """

    labels: dict[str, str]   # labels every burn alert of the scenarios carries beyond the SLO's own

    def healthy(self, ticks: int, share: Fraction) -> Run:
        """Errors at `share` of the error budget (a kind of bad ticks: none at all)."""

    def zero_traffic(self, ticks: int) -> Run | None:
        """Series that exist but carry no events (None: the kind has no traffic to be zero)."""

    def outage(self, start: int, horizon: int) -> Run:
        """Healthy until `start`, then everything bad."""

    def outage_checks(self, slo: "SLO", end: int) -> list[dict[str, Any]]:
        """Extra promql_expr_test checks of the outage scenario at its last tick."""

    def partial(self, start: int, horizon: int, error: Fraction) -> Run | None:
        """Healthy until `start`, then `error` of the events bad (None: no partial failure exists)."""

    def all_bad(self, ticks: int) -> Run:
        """Everything bad from the first sample: every window's ratio is exactly 1."""

    def slow_burn(self, start: int, horizon: int, factor: Fraction, ties: Callable[[Ratios], bool]) -> Run:
        """Healthy until `start`, then a steady burn of about `factor` times the budget; avoid a
        history whose ratios `ties` says sit on a threshold."""

    def no_data(self, ticks: int) -> NoDataRun:
        """No series of the SLI (or of one of its subjects): the no-data alert fires."""

    def recovery(self, start: int, back: int, horizon: int) -> Run:
        """Everything bad from `start` to `back`, then healthy again."""


class SLIKind(ABC):
    """The protocol of an SLI kind. Subclass it (a frozen dataclass) and implement the abstract methods.

    `kind` names the kind in its canonical form and in messages; `counts_events` says whether its
    ratio is one of events (traffic-weighted: `min_events`, the zero-traffic and partial-burn test
    scenarios apply) rather than of evaluation ticks.
    """

    kind: ClassVar[str]
    counts_events: ClassVar[bool] = False
    group_by: tuple[str, ...]

    # --- the definition -------------------------------------------------------
    @abstractmethod
    def problems(self) -> Problems:
        """Every problem of this SLI, as (field, message); the field starts with `sli.`."""

    @abstractmethod
    def canonical(self) -> dict[str, Any]:
        """The SLI as plain data: what the definitions hash of its files covers."""

    # --- rules -----------------------------------------------------------------
    @abstractmethod
    def source_selectors(self) -> list[Selector]:
        """The raw series the SLI reads (the metric contract checks them; the no-data alert names them)."""

    @abstractmethod
    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict[str, Any]]:
        """The base recordings: constants first (`vector(...)`), then the rules that read raw series
        over the staging window `base` (5m; shorter only for a compressed test period)."""

    @abstractmethod
    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        """The error ratio over `window` seconds, from the base recordings only."""

    def window_sums(self, slo: str, window: str) -> tuple[b.Expr, b.Expr] | None:
        """The sums of bad and of all over a range (`window`, a PromQL range) of the base recordings whose
        ratio is the error ratio of that window, for a kind whose windows are such sums; None (the
        default) for one whose are not: none of its windows is then read from tiles."""
        return None

    def tile_rules(self, slo: str) -> list[dict[str, Any]]:
        """The tiles (conventions.TILE_SECONDS): the bad and total sums over the last tile, which long
        ticket windows and the period read at tile steps (model/windows.py). Only for a kind with
        `window_sums`."""
        sums = self.window_sums(slo, recorded_range(c.TILE_SECONDS))
        assert sums is not None, "only a kind with window sums records tiles"
        labels = {c.SLO_LABEL: slo}
        return [{"record": c.BAD_TILE_SUM, "expr": str(sums[0]), "labels": labels},
                {"record": c.TOTAL_TILE_SUM, "expr": str(sums[1]), "labels": labels}]

    def tiled_window_ratio_expr(self, slo: str, window: int) -> str:
        """The error ratio over `window` seconds from the tiles that end in it (a subquery at tile steps)."""
        tile = format_duration(c.TILE_SECONDS)
        bad, total = (b.call("sum_over_time", b.subquery(b.of_slo(record, slo), format_duration(window), tile))
                      for record in (c.BAD_TILE_SUM, c.TOTAL_TILE_SUM))
        return str(b.binary(bad, "/", b.call("clamp_min", total, ZERO_TRAFFIC_FLOOR), lines=True))

    def events_in_window_expr(self, slo: str, window: int) -> str:
        """How many events the window holds (the `min_events` guard); only for kinds that count events."""
        raise NotImplementedError(f"{self.kind} does not count events")

    @abstractmethod
    def no_data_expr(self, slo: str) -> str:
        """True (a series) when the SLI cannot be computed."""

    def no_data_subject(self) -> str:
        """What the no-data alert's summary names before the SLO (a Prometheus template), if anything."""
        return ""

    def prometheus_features(self) -> list[tuple[str, str]]:
        """(field, feature of generator/model/prometheus_versions.py) that this SLI's rules need."""
        return []

    def declared_metric_problems(self, metrics: list["Metric"], relative: Callable[[str], str]) -> Problems:
        """Problems of this SLI against the metrics the definitions declare (generator/model/declared_metrics.py);
        `relative` names a declaration's file for a message."""
        return []

    # --- generated tests ------------------------------------------------------------
    @abstractmethod
    def scenario_series(self, slo: "SLO") -> ScenarioSeries:
        """The series of this SLO's generated promtool tests. Raise DefinitionError when none can be
        written (the catalog calls this at load, so the problem is reported with all others)."""

    def for_generated_tests(self) -> tuple["SLIKind", list[str]] | None:
        """A smaller SLI for the generated tests, when the whole one would exceed promtool's limits, and
        the comment lines that say what was left out; None to test the SLI itself."""
        return None

    # --- dashboards and runbooks ---------------------------------------------------
    @abstractmethod
    def signal_panel(self, slo_selector: str, legend: Callable[[str], str]) -> "Panel":
        """The detail dashboard's panel of the SLI's raw signal (events, stale datasets, ...), from its
        base recordings; `legend(name)` is the legend format of a series of this SLO."""

    @abstractmethod
    def runbook_queries(self) -> list[str]:
        """PromQL lines (with `# comments`) that show the raw signal, for the runbook."""

    # --- shared helpers ---------------------------------------------------------------
    def by_clause(self) -> str:
        """` by (a, b) ` for the SLI's group_by, or nothing."""
        return f" by ({', '.join(self.group_by)}) " if self.group_by else ""


def parse_field(field_name: str, text: object, problems: Problems) -> Selector | None:
    """The selector of a definition field, or None with its problem added."""
    try:
        return parse_selector(text)
    except SelectorError as error:
        problems.append((field_name, str(error)))
        return None


def group_by_problems(group_by: object, problems: Problems) -> None:
    trouble = fields.tuple_problem(group_by, "label names")
    if trouble:
        problems.append(("sli.group_by", trouble))
        return
    assert isinstance(group_by, tuple)
    if len(set(group_by)) != len(group_by):
        problems.append(("sli.group_by", "a label is given twice"))
    for label in group_by:
        if not is_valid_label_name(label):
            problems.append(("sli.group_by", f"{label!r} is not a valid label name"))
        elif label in c.RESERVED_LABELS:
            problems.append(("sli.group_by", f"{label!r} is set by the generator; group by another label"))
        elif label in c.CORRELATION_IDS:
            problems.append(("sli.group_by", f"{label!r} is a correlation ID: unbounded, never a metric dimension"))
