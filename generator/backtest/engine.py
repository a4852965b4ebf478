"""Evaluate one SLO's alerting (read from a rendered rule file) over a history, minute by minute.

The firing state of each window pair at each minute comes from the simulator
(generator/prometheus/simulate.py: `RatioSeries`, `firing_ticks`), which plays the staged rules
forward from the window math: the 5m and 2m base rates (with Prometheus' rate extrapolation), the
exact windows summed from the 2m rates, the long ticket windows read from 10m tiles, the thresholds,
`for` and `keep_firing_for`. It is checked minute by minute against promtool
(tests/test_promtool.py, and for backtests tests/test_backtest_promtool.py). Tick k is the evaluation
at start + k minutes, tick 0 the first sample: windows that reach back before the history read what
they hold, as on a server whose data starts there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from generator.backtest.history import STEP, Counter, Source, summed_counter
from generator.backtest.spec import AlertingSpec
from generator.prometheus.simulate import EventHistory, RatioSeries, Semantics, firing_ticks

SCALE = 1000   # counters are kept as integers in thousandths (exact, as the simulator wants them)


@dataclass(frozen=True)
class Episode:
    """One alert of one window pair: from the first firing evaluation to the first that is not firing."""

    tier: str          # the tier label: page-1h-5m
    severity: str      # page or ticket
    fired: int         # unix seconds of the first firing evaluation
    resolved: int | None   # unix seconds of the first evaluation no longer firing (None: firing at the end)
    end: int           # unix seconds of the history's last evaluation

    @property
    def until(self) -> int:
        """Unix seconds it stops firing (the evaluation after the history's last when still firing)."""
        return self.resolved if self.resolved is not None else self.end + STEP

    @property
    def minutes(self) -> int:
        """Minutes firing (to the end of the history when still firing)."""
        return (self.until - self.fired) // STEP

    def overlaps(self, other: "Episode") -> bool:
        return self.fired < other.until and other.fired < self.until


@dataclass(frozen=True)
class Backtest:
    spec: AlertingSpec
    start: int                      # unix seconds of tick 0
    end: int                        # unix seconds of the last tick
    episodes: tuple[Episode, ...]
    firing: dict[str, list[bool]] = field(repr=False)   # tier label -> firing state per tick
    budget_from: int = 0            # the window the remaining budget is computed over (at most the period)
    events: float = 0.0
    bad_events: float = 0.0

    @property
    def error_ratio(self) -> float:
        return self.bad_events / self.events if self.events > 0 else 0.0

    @property
    def budget_remaining(self) -> float:
        """1 - error ratio / budget over the last period (or the whole history when shorter), at the end."""
        return 1 - self.error_ratio / float(self.spec.budget)

    def count(self, severity: str) -> int:
        return sum(1 for e in self.episodes if e.severity == severity)

    def minutes(self, severity: str) -> int:
        return sum(e.minutes for e in self.episodes if e.severity == severity)


def history_for(spec: AlertingSpec, counters: dict[str, Counter]) -> EventHistory:
    """The simulator's counters (total and bad, per tick) from the summed source counters."""
    total = counters[spec.total.render()].values
    if spec.bad is not None:
        bad = counters[spec.bad.render()].values
    else:
        assert spec.good is not None
        good = counters[spec.good.render()].values
        bad = [t - g for t, g in zip(total, good)]
    return EventHistory([round(v * SCALE) for v in total], [round(v * SCALE) for v in bad], SCALE)


def read_counters(spec: AlertingSpec, source: Source, start: int, end: int,
                  cache: dict[str, Counter] | None = None) -> dict[str, Counter]:
    """The summed counter of each selector the SLI reads, from the source (each query once per cache)."""
    cache = {} if cache is None else cache
    for selector in spec.selectors():
        key = selector.render()
        if key not in cache:
            # A bad-events counter that never incremented may not exist: it reads as zero, as in the rules.
            cache[key] = summed_counter(source, selector, start, end, required=selector != spec.bad)
    return cache


def trimmed(counters: dict[str, Counter], spec: AlertingSpec) -> tuple[int, dict[str, Counter]]:
    """Drop the leading ticks before the total's first sample: the history starts where the data does."""
    total = counters[spec.total.render()]
    first = total.first
    return total.start + first * STEP, {key: Counter(c.selector, c.start + first * STEP, c.values[first:], c.series, 0)
                                        for key, c in counters.items()}


def evaluate(spec: AlertingSpec, history: EventHistory, start: int,
             semantics: str = Semantics.LEFT_OPEN, tie: float = 0.0, report_from: int | None = None) -> Backtest:
    """The backtest of one SLO's alerting over a history whose tick 0 is at `start` (unix seconds), as
    Prometheus 3.x (Semantics.LEFT_OPEN) or 2.x reads range selectors; `tie` moves every threshold by
    that share (to find minutes where a ratio sits within float rounding of one). With `report_from`,
    the history before it only fills the windows: alerts that resolved before it are left out, and the
    budget is counted from it."""
    series = RatioSeries(history, semantics, trimmed=True, bad_is_direct=spec.bad is not None)
    end = start + (series.length - 1) * STEP
    episodes, firing = [], {}
    for pair, tier in zip(spec.pairs, spec.tiers):
        states = firing_ticks(series, pair, spec.budget_fraction, spec.min_events, tie)
        firing[tier] = list(states)
        fired: int | None = None
        for k, on in enumerate(states):
            if on and fired is None:
                fired = k
            elif not on and fired is not None:
                episodes.append(Episode(tier, pair.tier, start + fired * STEP, start + k * STEP, end))
                fired = None
        if fired is not None:
            episodes.append(Episode(tier, pair.tier, start + fired * STEP, None, end))
    if report_from is not None and report_from > start:
        episodes = [e for e in episodes if e.resolved is None or e.resolved > report_from]
    last = series.length - 1
    first = max(0, last - spec.period_seconds // STEP,
                0 if report_from is None else min(last, -(-(report_from - start) // STEP)))
    events = (history.total[last] - history.total[first]) / history.scale
    bad = (history.bad[last] - history.bad[first]) / history.scale
    return Backtest(spec, start, end, tuple(sorted(episodes, key=lambda e: (e.fired, e.tier))), firing,
                    start + first * STEP, events, bad)
