"""The event kinds' shared shape: bad and total event rates, and a traffic-weighted ratio.

An event kind records, over the 5m staging window, the rate of bad events and the rate of all
events; any longer window's error ratio is sum_over_time(bad) / sum_over_time(total). A kind of
this family only says which selectors count total, bad or good events (`sources`).
"""
from __future__ import annotations

import functools
import math
from abc import abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, TYPE_CHECKING

from generator import conventions as c
from generator.promql import builder as b
from generator.model.durations import format_duration
from generator.model.windows import recorded_range
from generator.grafana.panels import Panel, Query, timeseries
from generator.promql.selectors import Selector
from generator.prometheus.simulate import EventHistory, RatioSeries, Semantics, step_history, tick_text as at
from generator.prometheus.testseries import EventSeriesShape, decimal_text, event_input_series, event_shape
from generator.model.kinds.base import ZERO_TRAFFIC_FLOOR, NoDataRun, Ratios, Run, SLIKind

if TYPE_CHECKING:
    from generator.model.slo import SLO

PER_TICK = Fraction(60)  # events a minute in generated traffic
# Where a scenario's steady ratio would sit exactly on some pair's threshold (3% errors against a 3x
# ticket on a 1% budget), Prometheus' float64 may fire minutes from the prediction: try these.
NUDGES = (Fraction(1), Fraction(101, 100), Fraction(99, 100), Fraction(103, 100), Fraction(97, 100))


@dataclass(frozen=True)
class EventSources:
    """Selectors of one event SLI after parsing: what the rules read."""

    total: Selector
    bad: Selector | None
    good: Selector | None


class EventSLI(SLIKind):
    """Shared rule shapes of the event kinds."""

    counts_events = True
    # A good-events counter that does not exist yet means no good event. Not
    # for histograms: a missing bucket is a misconfiguration (no-data), not
    # 100% slow requests.
    missing_good_is_bad = True

    @abstractmethod
    def sources(self) -> EventSources:
        """The selectors of total events and of bad or good ones."""

    def example_labels(self) -> dict[str, dict[str, str]]:
        """Label values of one bad and one good series, where the selectors cannot be inverted."""
        return {}

    def bucket_layout(self) -> tuple[str | None, tuple[int, int] | None]:
        """How test series spell the good events: a classic bucket's `le`, or a native histogram's
        (good, bad) bucket indexes; (None, None) for plain counters."""
        return None, None

    def _sum_rate(self, selector: Selector, base: int = c.BASE_WINDOW_SECONDS) -> b.Expr:
        return b.aggregate("sum", b.rate(selector, format_duration(base)), self.group_by)

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict[str, Any]]:
        """The bad and total rates over the staging base (5m: the fast pair's short window, the min_events
        guard), then over the fine window (2m) that every longer window sums."""
        labels = {c.SLO_LABEL: slo}
        rules = []
        for window, bad_record, total_record in ((base, c.BAD_EVENTS_RATE, c.TOTAL_EVENTS_RATE),
                                                 (c.fine_window(base), c.BAD_EVENTS_FINE_RATE,
                                                  c.TOTAL_EVENTS_FINE_RATE)):
            bad, total = self._rates(window)
            rules += [{"record": bad_record, "expr": str(bad), "labels": labels},
                      {"record": total_record, "expr": str(total), "labels": labels}]
        return rules

    def _rates(self, window: int) -> tuple[b.Expr, b.Expr]:
        """The summed rates of bad and of all events over `window` seconds."""
        src = self.sources()
        base = window
        total = self._sum_rate(src.total, base)
        zero_where_traffic = b.binary(0, "*", total)
        if src.bad is not None:
            # A bad-events counter that never incremented may not exist yet:
            # read it as zero wherever there is traffic.
            bad = b.binary(self._sum_rate(src.bad, base), "or", zero_where_traffic, lines=True)
        else:
            assert src.good is not None, "an event kind's sources give bad or good events"
            good = self._sum_rate(src.good, base)
            if self.missing_good_is_bad:
                good = b.paren(b.binary(good, "or", zero_where_traffic, lines=True))
            bad = b.block("clamp_min", b.binary(total, "-", good, lines=True), 0)
        return bad, total

    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        if window == base:   # the 5m rates themselves
            bad, total = b.of_slo(c.BAD_EVENTS_RATE, slo), b.of_slo(c.TOTAL_EVENTS_RATE, slo)
        else:   # any longer window sums the fine rates: a minute's events count in full a minute later
            bad, total = self.window_sums(slo, recorded_range(window, base))
        # Zero traffic is a ratio of 0 (nothing failed), never NaN: there bad is 0 too, and any
        # traffic puts total far above the floor. Reads the window twice, where
        # `bad / (total > 0) or 0 * total` read total twice (bench/eval_cost.py).
        return str(b.binary(bad, "/", b.call("clamp_min", total, ZERO_TRAFFIC_FLOOR), lines=True))

    def window_sums(self, slo: str, window: str) -> tuple[b.Expr, b.Expr]:
        return (b.over_time("sum", b.of_slo(c.BAD_EVENTS_FINE_RATE, slo), window),
                b.over_time("sum", b.of_slo(c.TOTAL_EVENTS_FINE_RATE, slo), window))

    def events_in_window_expr(self, slo: str, window: int) -> str:
        average = b.over_time("avg", b.of_slo(c.TOTAL_EVENTS_RATE, slo), format_duration(window))
        return str(b.binary(average, "*", window))

    def no_data_expr(self, slo: str) -> str:
        return str(b.call("absent", self.sources().total))

    def source_selectors(self) -> list[Selector]:
        src = self.sources()
        return [s for s in (src.total, src.bad, src.good) if s is not None]

    def scenario_series(self, slo: "SLO") -> "EventScenarioSeries":
        return EventScenarioSeries(slo, event_shape(slo, self), self.sources().total.equality_labels())

    def signal_panel(self, slo_selector: str, legend: Callable[[str], str]) -> "Panel":
        return timeseries("Events", "Total and bad events per second (5m rates).",
                          [Query(f"{c.TOTAL_EVENTS_RATE}{slo_selector}", legend("total")),
                           Query(f"{c.BAD_EVENTS_RATE}{slo_selector}", legend("bad"))], "reqps")

    def runbook_queries(self) -> list[str]:
        return [str(b.aggregate("sum", b.rate(selector, "5m"), self.group_by, spaced=True))
                for selector in self.source_selectors()]


@functools.lru_cache(maxsize=256)
def simulated_scenario(ticks: int, per_tick: Fraction, start: int, end: int | None, share: Fraction, total_is_sum: bool,
               bad_is_direct: bool, one_histogram: bool) -> tuple[EventHistory, Ratios]:
    """A scenario's counters and the ratios each Prometheus version reads from them: the same for every SLO
    of the same traffic and rule shape, so a catalogue of many alike SLOs simulates each shape once.
    (RatioSeries caches its windows' ratios and firing predictions; callers only read them.)"""
    history = step_history(ticks, per_tick, start, end, share)
    return history, {Semantics.CLOSED: RatioSeries(history, one_histogram=one_histogram, trimmed=True),
                     Semantics.LEFT_OPEN: RatioSeries(history, Semantics.LEFT_OPEN, total_is_sum, bad_is_direct,
                                                      one_histogram, trimmed=True)}


class EventScenarioSeries:
    """Generated test series of an event SLI: counters of total and bad (or good) events at a steady
    number of events a minute, the bad share of each minute set by the scenario."""

    def __init__(self, slo: "SLO", shape: EventSeriesShape, absent_labels: dict[str, str]):
        self.slo = slo
        self.shape = shape
        self.absent_labels = absent_labels   # what the no-data alert carries: the total's equality matchers
        self.labels = dict(shape.group_labels)
        self.budget = Fraction(str(slo.error_budget))
        # Enough traffic that every long window holds twice the minimum-events guard, or no alert
        # could fire and the scenarios would prove nothing.
        pairs = slo.all_pairs()
        shortest_long = max(1, min((p.long for p in pairs), default=3600) // 60)   # a compressed period: refused elsewhere
        self.per_tick = max(PER_TICK, Fraction(math.ceil(Fraction(2 * slo.alerting.min_events, shortest_long))))

    def _events(self, ticks: int, start: int, end: int | None, share: Fraction,
                per_tick: Fraction | None = None) -> tuple[Callable[[int], list[dict[str, Any]]], Ratios]:
        """Traffic at `per_tick` events a minute, `share` of them failing in the minutes (start, end]."""
        shape = self.shape
        # How the base rules combine the series written (each extrapolates on its own in 3.x).
        classic = shape.latency_le is None and shape.native_buckets is None
        history, ratios = simulated_scenario(ticks, self.per_tick if per_tick is None else per_tick, start, end, share,
                                     classic and shape.part_metric == shape.total_metric,
                                     shape.part_is_bad and classic, shape.native_buckets is not None)

        def upto(end: int) -> list[dict[str, Any]]:
            return event_input_series(shape, history.upto(end))
        return upto, ratios

    def healthy(self, ticks: int, share: Fraction) -> Run:
        series, ratios = self._events(ticks, 0, None, self.budget * share)
        return Run([], series, ratios)

    def zero_traffic(self, ticks: int) -> Run | None:
        series, ratios = self._events(ticks, 0, None, Fraction(0), per_tick=Fraction(0))
        return Run(["counters exist but never increase: error ratios and burn rate are 0, the budget is whole "
                    "and lasts the whole period (no NaN, no infinity), no alert"], series, ratios)

    def outage(self, start: int, horizon: int) -> Run:
        series, ratios = self._events(horizon, start, None, Fraction(1))
        return Run([f"healthy for {at(start)}, then every event fails"], series, ratios)

    def outage_checks(self, slo: "SLO", end: int) -> list[dict[str, Any]]:
        return []

    def partial(self, start: int, horizon: int, error: Fraction) -> Run | None:
        series, ratios = self._events(horizon, start, None, error)
        return Run([], series, ratios)

    def all_bad(self, ticks: int) -> Run:
        series, ratios = self._events(ticks, 0, None, Fraction(1))
        return Run(["every event fails from the first sample, so every window's error ratio is exactly 1: "
                    "each tier fires with its exact labels and annotations"], series, ratios)

    def slow_burn(self, start: int, horizon: int, factor: Fraction, ties: Callable[[Ratios], bool]) -> Run:
        for times in NUDGES:
            rate = factor * times * self.budget
            series, ratios = self._events(horizon, start, None, rate)
            if not ties(ratios):
                break
        return Run([f"healthy for {at(start)}, then {decimal_text(rate * 100)}% of events fail "
                    f"({decimal_text(factor * times)}x the budget): tickets as predicted, never a page"],
                   series, ratios)

    def no_data(self, ticks: int) -> NoDataRun:
        def series(end: int) -> list[dict[str, Any]]:
            return [{"series": 'up{job="unrelated"}', "values": f"1+0x{end}"}]
        return NoDataRun(["no series of the SLI at all: the no-data alert fires after its `for`"], series,
                         self.absent_labels)

    def recovery(self, start: int, back: int, horizon: int) -> Run:
        series, ratios = self._events(horizon, start, back, Fraction(1))
        return Run([f"every event fails from {at(start)} to {at(back)}, then all succeed"], series, ratios)
