"""Predict when the generated alerts fire, from the window math alone.

Generated promtool tests need the evaluation time at which each alert should
start (and stop) firing for a scenario. This module computes it by playing
the staged rules forward on one-minute ticks, independently of PromQL:

- a counter's 5m base rate at tick k is its increase over [k-5m, k] / 5m, and its fine
  rate the same over 2m;
- the 5m window's error ratio is the bad base rate over the total base rate; any longer
  window's is the sum of the bad fine rates over the window's ticks divided by the sum of
  the total fine rates (freshness: the share of stale ticks);
- a pair is active while both of its windows are above factor x budget (and
  the long window holds min_events), fires once active for its `for`, and, with
  keep_firing_for, stays firing that long after it stops being active.

Two range-selector semantics are modelled exactly (`Semantics`):

- Prometheus 2.x: closed windows [t-r, t]. rate(x[5m]) at tick k reads the samples
  of ticks k-5..k and needs no extrapolation; sum_over_time(y[30m]) sums 31 samples (the event
  and freshness kinds sum over y[29m59s], 30 samples on either version: `trimmed`).
- Prometheus 3.x: left-open windows (t-r, t]. rate(x[5m]) reads ticks k-4..k and
  extrapolates the 4 minutes it saw to 5 (by at most the time back to where the
  counter would be zero, the way extrapolatedRate does); sum_over_time sums 30.

A generated test must hold on both (out/ is committed; users run whatever promtool
they have), so it asserts each transition only at ticks where both agree. Prometheus
computes in float64, so the tests also allow one evaluation interval either side.
"""
from __future__ import annotations

import functools

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from math import lcm
from typing import Callable, Sequence

from generator.conventions import BASE_WINDOW_SECONDS, FINE_WINDOW_SECONDS
from generator.model.durations import format_duration
from generator.model.windows import WindowPair

TICK = 60  # seconds: scrape and evaluation interval of generated tests
BASE_TICKS = BASE_WINDOW_SECONDS // TICK    # the 5m rates: the fast page pair's short window, min_events
FINE_TICKS = FINE_WINDOW_SECONDS // TICK    # the 2m rates every longer window sums


def tick_text(tick: int) -> str:
    """A tick as a promtool duration (eval_time, interval): 0s, 1m, 1h30m."""
    return format_duration(tick * TICK) if tick > 0 else "0s"


class Semantics:
    """How a range selector reads the samples of a window ending at tick k."""

    CLOSED = "2.x"       # [k - r, k]
    LEFT_OPEN = "3.x"    # (k - r, k]
    ALL = (CLOSED, LEFT_OPEN)


def _first_in_window(k: int, span: int, semantics: str) -> int:
    """The earliest tick a window of `span` ticks ending at k reads (before clamping at the data's start)."""
    return k - span + (1 if semantics == Semantics.LEFT_OPEN else 0)


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
class TickHistory:
    """Per-tick bad indicator of a kind that counts evaluation ticks (freshness: True while the
    dataset is older than its maximum age); None where the indicator has no sample at that tick."""

    bad: Sequence[bool | None]


def step_history(ticks: int, per_tick: Fraction, start: int, end: int | None, share: Fraction) -> EventHistory:
    """event_history for a share of errors in every minute (start, end] (end None: to the last tick) and
    none outside, without a call per tick; the same counters."""
    step = Fraction(per_tick) * Fraction(share)
    scale = lcm(Fraction(per_tick).denominator, 1, step.denominator)
    unit, bad_step = int(per_tick * scale), int(step * scale)
    last = ticks if end is None else min(end, ticks)
    bad = [0] * (ticks + 1)
    count = 0
    for k in range(1, ticks + 1):
        if start < k <= last:
            count += bad_step
        bad[k] = count
    return EventHistory([unit * k for k in range(ticks + 1)], bad, scale)


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
    """Error ratio over any window, at any tick, for one history, as one Prometheus version reads it.

    For events, how the SLI's base rules combine the counters matters once windows extrapolate
    (3.x), since each series extrapolates on its own: `total_is_sum` when the total is the sum of
    the bad and the good series (one metric, split by a label), `bad_is_direct` when the bad rate is
    a bad series' own rate (else it is the total minus the good series' rate, clamped at 0), and
    `one_histogram` when total and bad are one native histogram's count and share above a threshold.
    """

    def __init__(self, history: EventHistory | TickHistory, semantics: str = Semantics.CLOSED,
                 total_is_sum: bool = False, bad_is_direct: bool = True, one_histogram: bool = False,
                 trimmed: bool = False):
        self.history = history
        self.semantics = semantics
        # The rules' sums over recordings use a range 1s short of the window (windows.recorded_range):
        # `span` samples on either version, where a whole closed range on 2.x holds span + 1.
        self.sum_semantics = Semantics.LEFT_OPEN if trimmed else semantics
        if isinstance(history, EventHistory):
            self.length = len(history.total)
            self.bad_rate, self.total_rate = self._event_rates(history, BASE_TICKS, total_is_sum, bad_is_direct,
                                                               one_histogram)
            fine_bad, fine_total = self._event_rates(history, FINE_TICKS, total_is_sum, bad_is_direct, one_histogram)
        else:
            self.length = len(history.bad)
            self.bad_rate = [None if s is None else float(s) for s in history.bad]
            self.total_rate = [None if s is None else 1.0 for s in history.bad]
            fine_bad, fine_total = self.bad_rate, self.total_rate
        # Every window but the 5m base sums the fine rates (a tick kind has one sample per tick either way).
        self._fine_bad_prefix = _prefix(fine_bad)
        self._fine_total_prefix = _prefix(fine_total)
        self._fine_present_prefix = _prefix([None if v is None else 1.0 for v in fine_total])
        self._bad_prefix = _prefix(self.bad_rate)
        self._total_prefix = _prefix(self.total_rate)
        self.first = 1 if isinstance(history, EventHistory) else 0
        self._cache: dict[tuple[int, int, int], list[float | None]] = {}
        self.firing_cache: dict[tuple[WindowPair, Fraction, int, float], list[bool]] = {}   # firing_ticks
        self._sorted: dict[tuple[int, int, int], list[float]] = {}

    def any_ratio_in(self, window: int, low: float, high: float, tiles: int = 0, warm_up: int = 0) -> bool:
        """Whether the window's ratio (read as `ratios` reads it) lies in (low, high] at some tick."""
        key = (window, tiles, warm_up)
        values = self._sorted.get(key)
        if values is None:
            values = self._sorted[key] = sorted(r for r in self.ratios(*key) if r is not None)
        index = bisect_right(values, low)
        return index < len(values) and values[index] <= high

    def _event_rates(self, history: EventHistory, span: int, total_is_sum: bool, bad_is_direct: bool,
                     one_histogram: bool) -> tuple[list[float | None], list[float | None]]:
        """The bad and total rates over `span` ticks at every tick, as the SLI's base rules combine them."""
        semantics = self.semantics
        bad = [v / history.scale for v in history.bad]
        total = [v / history.scale for v in history.total]
        good = [t - b for t, b in zip(total, bad)]
        bad_rate = counter_rates(bad, semantics, span)
        good_rate = counter_rates(good, semantics, span)
        if total_is_sum:
            total_rate = [None if b is None or g is None else b + g for b, g in zip(bad_rate, good_rate)]
        else:
            total_rate = counter_rates(total, semantics, span)
        if one_histogram:
            # A native histogram is one series: its rate extrapolates the count and every bucket by
            # the same factor, so the bad rate is the total's times the bad share of the increase.
            bad_rate = [None if t is None else t * self._share(bad, total, k, span) for k, t in enumerate(total_rate)]
        elif not bad_is_direct:
            bad_rate = [None if t is None or g is None else max(0.0, t - g) for t, g in zip(total_rate, good_rate)]
        return bad_rate, total_rate

    def _share(self, part: Sequence[float], whole: Sequence[float], k: int, span: int) -> float:
        """part's share of whole's increase over `span` ticks at tick k (0 without any increase)."""
        first = max(0, _first_in_window(k, span, self.semantics))
        increase = whole[k] - whole[first]
        return (part[k] - part[first]) / increase if increase > 0 else 0.0

    def ratios(self, window: int, tiles: int = 0, warm_up: int = 0) -> list[float | None]:
        """The window's error ratio at every tick (computed once per window); `tiles`: seconds of the
        tiles it is summed from (0: summed whole from the fine rates), and `warm_up` the exact window it
        reads until its first tile point."""
        key = (window, tiles, warm_up if tiles else 0)
        if key in self._cache:
            return self._cache[key]
        if tiles:
            tiled = self._cache[key] = self._tiled_ratios(window // TICK, tiles // TICK, warm_up)
            return tiled
        first, span = self.first, window // TICK
        bad_prefix, total_prefix = self._fine_bad_prefix, self._fine_total_prefix
        out: list[float | None] = [None] * first
        if isinstance(self.history, EventHistory) and window == BASE_WINDOW_SECONDS:
            for k in range(first, self.length):
                bad, total = self.bad_rate[k], self.total_rate[k]
                assert bad is not None and total is not None  # events have a rate at every tick after the first
                out.append(bad / total if total > 0 else 0.0)
        else:
            # No traffic is a ratio of 0 (the rules' floor); a tick kind's window without a sample has none.
            empty = 0.0 if isinstance(self.history, EventHistory) else None
            back = span - (1 if self.sum_semantics == Semantics.LEFT_OPEN else 0)   # _first_in_window, inlined
            for k in range(first, self.length):
                lo = k - back
                if lo < first:
                    lo = first
                total = total_prefix[k + 1] - total_prefix[lo]
                out.append((bad_prefix[k + 1] - bad_prefix[lo]) / total if total > 0 else empty)
        self._cache[key] = out
        return out

    def _tiles(self, tile: int) -> tuple[list[float], list[float], list[bool]]:
        """The tiles recorded at every tick, as promtool records them (every group at every tick): the bad
        and total sums of the fine rates over the `tile` ticks ending there, and whether the tile has a
        sample at all (any fine sample in it)."""
        back = tile - (1 if self.sum_semantics == Semantics.LEFT_OPEN else 0)
        bad, total, present = [], [], []
        for k in range(self.length):
            lo = max(0, k - back)
            bad.append(self._fine_bad_prefix[k + 1] - self._fine_bad_prefix[lo])
            total.append(self._fine_total_prefix[k + 1] - self._fine_total_prefix[lo])
            present.append(self._fine_present_prefix[k + 1] - self._fine_present_prefix[lo] > 0)
        return bad, total, present

    def _tiled_ratios(self, span: int, tile: int, warm_up: int) -> list[float | None]:
        """A window of `span` ticks read from tiles: the subquery's points are the multiples of `tile` in
        the window ((k - span, k] on 3.x, [k - span, k] on 2.x); each reads the latest tile sample within
        the lookback. The generated tests evaluate the budget group (which records the tiled windows),
        then the alerting group, then the tiles group (their group_eval_order), so at tick k a point at k
        itself reads the tile of tick k - 1. While no point reads a tile, the rule's fallback: the exact
        ratio over `warm_up`, recorded by the alerting group, so read as it was at tick k - 1."""
        bad, total, present = self._tiles(tile)
        young = self.ratios(warm_up)   # before the first tile point: an exact window
        lookback = BASE_TICKS - (1 if self.semantics == Semantics.LEFT_OPEN else 0)

        def read(p: int, latest: int) -> tuple[float, float] | None:
            for q in range(latest, max(-1, p - lookback - 1), -1):
                if present[q]:
                    return bad[q], total[q]
            return None
        # Sums over the points p < k, as prefix sums over the points (point i is tick i * tile).
        points = range(0, self.length, tile)
        bad_prefix, total_prefix, count_prefix = [0.0], [0.0], [0]
        for p in points:
            value = read(p, p)
            bad_prefix.append(bad_prefix[-1] + (value[0] if value else 0.0))
            total_prefix.append(total_prefix[-1] + (value[1] if value else 0.0))
            count_prefix.append(count_prefix[-1] + (1 if value else 0))
        empty = 0.0 if isinstance(self.history, EventHistory) else None
        left_open = self.semantics == Semantics.LEFT_OPEN
        out: list[float | None] = []
        for k in range(self.length):
            start = k - span + (1 if left_open else 0)
            lo = max(0, -(-start // tile))          # the first point index in the window
            hi = k // tile                           # the last
            aligned = k % tile == 0
            below = hi if aligned else hi + 1        # points strictly before tick k: lo .. below - 1
            b_sum = bad_prefix[below] - bad_prefix[lo] if below > lo else 0.0
            t_sum = total_prefix[below] - total_prefix[lo] if below > lo else 0.0
            count = count_prefix[below] - count_prefix[lo] if below > lo else 0
            if aligned and hi >= lo and k >= 1:
                value = read(k, k - 1)
                if value:
                    b_sum, t_sum, count = b_sum + value[0], t_sum + value[1], count + 1
            out.append((young[k - 1] if k >= 1 else None) if not count else b_sum / t_sum if t_sum > 0 else empty)
        return out

    def events_in_window(self, k: int, window: int) -> float:
        lo = max(self.first, _first_in_window(k, window // TICK, self.semantics))
        count = k - lo + 1
        return self._sum(self._total_prefix, lo, k) / count * window

    @staticmethod
    def _sum(prefix: list[float], lo: int, hi: int) -> float:
        return prefix[hi + 1] - prefix[lo]


def counter_rate(counter: Sequence[float], k: int, semantics: str, span: int = BASE_TICKS) -> float | None:
    """rate(counter[span ticks]) at tick k, per second, as Prometheus' extrapolatedRate computes it;
    None with fewer than two samples in the window. Counters in generated tests start at 0 and
    never reset."""
    first = max(0, _first_in_window(k, span, semantics))
    if k - first < 1:
        return None
    sampled = k - first
    increase = counter[k] - counter[first]
    to_start: float = first - (k - span)     # ticks between the window's start and its first sample
    if to_start >= 1.1:                      # more than 1.1 average intervals: extrapolate half of one
        to_start = 0.5
    if increase > 0 and counter[first] >= 0:
        to_start = min(to_start, sampled * counter[first] / increase)  # never back past zero
    return increase * (sampled + to_start) / sampled / (span * TICK)


def counter_rates(counter: Sequence[float], semantics: str, span: int = BASE_TICKS) -> list[float | None]:
    """counter_rate at every tick: the same arithmetic, without a call per tick."""
    out: list[float | None] = []
    back = span - (1 if semantics == Semantics.LEFT_OPEN else 0)
    seconds = span * TICK
    for k in range(len(counter)):
        first = k - back
        if first < 0:
            first = 0
        sampled = k - first
        if sampled < 1:
            out.append(None)
            continue
        at_first = counter[first]
        increase = counter[k] - at_first
        to_start: float = first - (k - span)
        if to_start >= 1.1:
            to_start = 0.5
        if increase > 0 and at_first >= 0:
            to_start = min(to_start, sampled * at_first / increase)
        out.append(increase * (sampled + to_start) / sampled / seconds)
    return out


def _prefix(values: list[float | None]) -> list[float]:
    out = [0.0]
    for value in values:
        out.append(out[-1] + (value or 0.0))
    return out


class Firing(list[bool]):
    """A pair's firing state at each tick (firing_ticks), asked the same questions by many alike SLOs."""

    @functools.cached_property
    def last_transition(self) -> int:
        """The last tick whose state differs from the tick before (0 if none)."""
        flags = bytes(self)
        return max(flags.rfind(b"\x00\x01"), flags.rfind(b"\x01\x00")) + 1


TIE = 1e-9  # relative: a ratio this close to a threshold may compare either way in Prometheus' float64


def firing_ticks(series: RatioSeries, pair: WindowPair, budget: Fraction, min_events: int = 0,
                 tie: float = 0.0) -> list[bool]:
    """For each tick, whether the pair's alert is firing (active for at least `for`). `tie` moves the
    threshold by that share, to see whether a ratio sitting on it changes the prediction."""
    key = (pair, budget, min_events, tie)
    cached = series.firing_cache.get(key)
    if cached is not None:
        return cached   # the same list for the same question: callers read it, never change it
    threshold = float(Fraction(pair.factor) * budget) * (1 + tie)
    keep_ticks = -(-pair.keep_firing_for // TICK)  # resolved once keep_firing_for has passed since it cleared
    firing: list[bool] = []
    active_since: int | None = None
    cleared_at: int | None = None
    longs, shorts = series.ratios(pair.long, pair.long_tiles, pair.long_warm_up), series.ratios(pair.short)
    for k in range(series.length):
        long_ratio, short_ratio = longs[k], shorts[k]
        active = (long_ratio is not None and short_ratio is not None
                  and long_ratio > threshold and short_ratio > threshold)
        if active and min_events:
            active = series.events_in_window(k, pair.long) >= min_events
        was_firing = bool(firing) and firing[-1]
        if active:
            cleared_at = None
            if active_since is None:
                active_since = k
            firing.append(was_firing or (k - active_since) * TICK >= pair.for_)
        elif was_firing and keep_ticks:
            cleared_at = k if cleared_at is None else cleared_at
            kept = k - cleared_at < keep_ticks
            firing.append(kept)
            if not kept:
                active_since = cleared_at = None
        else:
            active_since = cleared_at = None
            firing.append(False)
    series.firing_cache[key] = firing = Firing(firing)
    return firing
