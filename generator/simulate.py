"""Predict when the generated alerts fire, from the window math alone.

Generated promtool tests need the evaluation time at which each alert should
start (and stop) firing for a scenario. This module computes it by playing
the staged rules forward on one-minute ticks, independently of PromQL:

- a counter's 5m base rate at tick k is its increase over [k-5m, k] / 5m;
- a window's error ratio is the sum of the bad base rates over the window's
  ticks divided by the sum of the total base rates (freshness: the share of
  stale ticks);
- a pair is active while both of its windows are above factor x budget (and
  the long window holds min_events), and fires once active for its `for`.

Prometheus computes in float64 and its extrapolation at window edges is
modelled only for counters starting at zero; the generated tests therefore
allow one evaluation interval either side of the prediction.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from math import lcm
from typing import Callable, Sequence

from .conventions import BASE_WINDOW_SECONDS
from .windows import WindowPair

TICK = 60  # seconds: scrape and evaluation interval of generated tests
BASE_TICKS = BASE_WINDOW_SECONDS // TICK


@dataclass(frozen=True)
class EventHistory:
    """Per-tick counter values of total and bad events (tick 0 is the first sample).

    Values are integers in units of 1/scale, so they stay exact and cheap.
    """

    total: Sequence[int]
    bad: Sequence[int]
    scale: int = 1

    def upto(self, end: int) -> "EventHistory":
        return EventHistory(self.total[: end + 1], self.bad[: end + 1], self.scale)


@dataclass(frozen=True)
class StaleHistory:
    """Per-tick staleness (True when older than the maximum age) of one dataset."""

    stale: Sequence[bool]


def event_history(ticks: int, per_tick: Fraction, error_fraction: Callable[[int], Fraction]) -> EventHistory:
    """Counters for `per_tick` events a minute, of which error_fraction(k) fail in (k-1, k]."""
    fractions = [Fraction(0)] + [error_fraction(k) for k in range(1, ticks + 1)]
    steps = {f: Fraction(per_tick) * Fraction(f) for f in set(fractions)}
    scale = lcm(Fraction(per_tick).denominator, *(step.denominator for step in steps.values()))
    as_int = {f: int(step * scale) for f, step in steps.items()}
    unit = int(per_tick * scale)
    total = [unit * k for k in range(ticks + 1)]
    bad = list(accumulate(as_int[f] for f in fractions))
    return EventHistory(total, bad, scale)


class RatioSeries:
    """Error ratio over any window, at any tick, for one history."""

    def __init__(self, history: EventHistory | StaleHistory):
        self.history = history
        if isinstance(history, EventHistory):
            self.length = len(history.total)
            bad = [v / history.scale for v in history.bad]
            total = [v / history.scale for v in history.total]
            self.bad_rate = [self._rate(bad, k) for k in range(self.length)]
            self.total_rate = [self._rate(total, k) for k in range(self.length)]
        else:
            self.length = len(history.stale)
            self.bad_rate = [float(s) for s in history.stale]
            self.total_rate = [1.0] * self.length
        self._bad_prefix = _prefix(self.bad_rate)
        self._total_prefix = _prefix(self.total_rate)
        self.first = 1 if isinstance(history, EventHistory) else 0
        self._cache: dict[int, list[float | None]] = {}

    @staticmethod
    def _rate(counter: Sequence[float], k: int) -> float | None:
        """rate(counter[5m]) at tick k.

        Counters in generated tests start at 0, so in the first minutes
        Prometheus extrapolates no further back than the first sample and
        still divides by the whole 5m range.
        """
        if k == 0:
            return None
        return (counter[k] - counter[max(0, k - BASE_TICKS)]) / BASE_WINDOW_SECONDS

    def ratios(self, window: int) -> list[float | None]:
        """The window's error ratio at every tick (computed once per window)."""
        if window in self._cache:
            return self._cache[window]
        first, span = self.first, window // TICK
        bad_prefix, total_prefix = self._bad_prefix, self._total_prefix
        out: list[float | None] = [None] * first
        if isinstance(self.history, EventHistory) and window == BASE_WINDOW_SECONDS:
            for k in range(first, self.length):
                bad, total = self.bad_rate[k], self.total_rate[k]
                out.append(bad / total if total > 0 else 0.0)  # type: ignore[operator]
        else:
            for k in range(first, self.length):
                lo = k - span if k - span > first else first
                total = total_prefix[k + 1] - total_prefix[lo]
                out.append((bad_prefix[k + 1] - bad_prefix[lo]) / total if total > 0 else 0.0)
        self._cache[window] = out
        return out

    def events_in_window(self, k: int, window: int) -> float:
        lo = max(self.first, k - window // TICK)
        count = k - lo + 1
        return self._sum(self._total_prefix, lo, k) / count * window

    @staticmethod
    def _sum(prefix: list[float], lo: int, hi: int) -> float:
        return prefix[hi + 1] - prefix[lo]


def _prefix(values: list[float | None]) -> list[float]:
    out = [0.0]
    for value in values:
        out.append(out[-1] + (value or 0.0))
    return out


TIE = 1e-9  # relative: a ratio this close to a threshold may compare either way in Prometheus' float64


def firing_ticks(series: RatioSeries, pair: WindowPair, budget: Fraction, min_events: int = 0,
                 tie: float = 0.0) -> list[bool]:
    """For each tick, whether the pair's alert is firing (active for at least `for`). `tie` moves the
    threshold by that share, to see whether a ratio sitting on it changes the prediction."""
    threshold = float(Fraction(pair.factor) * budget) * (1 + tie)
    firing = []
    active_since: int | None = None
    longs, shorts = series.ratios(pair.long), series.ratios(pair.short)
    for k in range(series.length):
        long_ratio, short_ratio = longs[k], shorts[k]
        active = (long_ratio is not None and short_ratio is not None
                  and long_ratio > threshold and short_ratio > threshold)
        if active and min_events:
            active = series.events_in_window(k, pair.long) >= min_events
        if not active:
            active_since = None
        elif active_since is None:
            active_since = k
        firing.append(active_since is not None and (k - active_since) * TICK >= pair.for_)
    return firing
