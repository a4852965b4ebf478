"""A month of synthetic counter history for one events-ratio SLO, in Python.

Traffic is not uniform: busy working hours (about 600 events a minute at the
peak), quiet nights (about 20 a minute) and quieter weekends. Errors sit at a
small baseline, plus an incident (a 45-minute outage of a dependency at a busy
hour, where about one event in eight fails) and a degradation over six quiet
night hours (2%). Counts are integers drawn from a seeded generator, so the
history is the same on every run.

The exact, traffic-weighted period error ratio is computed here from the
counts themselves (bad events / events), independently of any PromQL, and the
history is written as OpenMetrics for `promtool tsdb create-blocks-from
openmetrics`.

Sampling: one sample a minute, on whole minutes. The staged period ratio is
a sum of 5m rate samples; every event is counted in the same number of rate
windows (so the ratio of the two sums is exact away from the period's edges)
only when the scrape interval is a multiple of the evaluation interval. See
tests/test_backfill.py for why, and for what a 30s scrape does instead.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

DAY = 86400
# 2024-03-01T00:00:00Z, a Friday: a fixed month in the past, so the history is
# the same on every run and never touches the live head block.
MONTH_START = 1709251200


@dataclass(frozen=True)
class Incident:
    start: int       # seconds from the start of the month
    duration: int    # seconds
    error_share: float
    what: str


INCIDENTS = (
    Incident(start=11 * DAY + 14 * 3600 + 5 * 60, duration=45 * 60, error_share=0.12,
             what="dependency outage at a busy hour"),
    Incident(start=22 * DAY + 1 * 3600, duration=6 * 3600, error_share=0.02,
             what="degradation over quiet night hours"),
)
BASELINE_ERROR_SHARE = 0.0002
OTHER_GOOD_SHARE = 0.1  # share of each good outcome but the first (unresolved: an answer, not an error)


@dataclass(frozen=True)
class History:
    """Per-sample cumulative counters of one metric, by label value."""

    start: int                         # unix seconds of the first sample
    step: int                          # seconds between samples
    counters: dict[str, list[int]]     # outcome -> cumulative value at each sample
    bad_outcome: str

    @property
    def samples(self) -> int:
        return len(next(iter(self.counters.values())))

    def time(self, index: int) -> int:
        return self.start + index * self.step

    @property
    def end(self) -> int:
        return self.time(self.samples - 1)

    def index_at_or_before(self, t: float) -> int:
        return max(0, min(self.samples - 1, int(math.floor((t - self.start) / self.step))))

    def events(self, since: float, until: float) -> tuple[int, int]:
        """(bad, total) events counted between the samples at or before `since` and `until`."""
        a, b = self.index_at_or_before(since), self.index_at_or_before(until)
        bad = self.counters[self.bad_outcome][b] - self.counters[self.bad_outcome][a]
        total = sum(values[b] - values[a] for values in self.counters.values())
        return bad, total

    def period_ratio(self, at: float, period: int) -> float:
        """Traffic-weighted error ratio over (at - period, at]: bad events / events."""
        bad, total = self.events(at - period, at)
        return bad / total


def traffic_per_minute(t: int) -> float:
    """Expected events a minute at `t` seconds into the month (UTC as local time)."""
    day, second = divmod(t, DAY)
    hour = second / 3600
    busy = math.sin(math.pi * (hour - 6) / 14) ** 2 if 6 <= hour <= 20 else 0.0
    weekday = (4 + day) % 7  # 2024-03-01 is a Friday (Monday = 0)
    weekend = 0.4 if weekday >= 5 else 1.0
    return 20 + 580 * busy * weekend


def error_share(t: int) -> float:
    for incident in INCIDENTS:
        if incident.start <= t < incident.start + incident.duration:
            return incident.error_share
    return BASELINE_ERROR_SHARE


def _poisson(rnd: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean < 30:  # Knuth
        limit, k, p = math.exp(-mean), 0, rnd.random()
        while p > limit:
            k += 1
            p *= rnd.random()
        return k
    return max(0, round(rnd.gauss(mean, math.sqrt(mean))))


def generate(days: int = 30, step: int = 60, seed: int = 2024, start: int = MONTH_START,
             outcomes: tuple[str, ...] = ("resolved", "unresolved", "error"), bad_outcome: str = "error") -> History:
    """Counters sampled every `step` seconds for `days` days (one sample more than steps).

    Counters start at values a long-running service would have, not at zero:
    rate() never extrapolates a window's start below zero, which for a counter
    born at zero treats its first windows differently for bad and total.
    """
    rnd = random.Random(seed)
    main, *others = [o for o in outcomes if o != bad_outcome]
    values = {o: rnd.randrange(10**3, 10**4) if o == bad_outcome else rnd.randrange(10**6, 10**7) for o in outcomes}
    counters: dict[str, list[int]] = {o: [values[o]] for o in outcomes}
    for index in range(1, days * DAY // step + 1):
        t = index * step  # the increments land in (t - step, t]
        events = _poisson(rnd, traffic_per_minute(t - step) * step / 60)
        increments = {bad_outcome: min(events, _poisson(rnd, events * error_share(t - step)))}
        rest = events - increments[bad_outcome]
        for outcome in others:  # e.g. unresolved: an answer, not an error
            increments[outcome] = min(rest, _poisson(rnd, (events - increments[bad_outcome]) * OTHER_GOOD_SHARE))
            rest -= increments[outcome]
        increments[main] = rest
        for outcome in outcomes:
            values[outcome] += increments[outcome]
            counters[outcome].append(values[outcome])
    return History(start, step, counters, bad_outcome)


def write_openmetrics(history: History, metric: str, label: str, path: Path, help_text: str = "") -> int:
    """Write the history as OpenMetrics text (timestamps in seconds); returns the number of samples."""
    family = metric.removesuffix("_total")
    lines = [f"# HELP {family} {help_text or family}", f"# TYPE {family} counter"]
    for value, series in sorted(history.counters.items()):
        prefix = f'{metric}{{{label}="{value}"}} '
        lines.extend(f"{prefix}{v} {history.time(i)}" for i, v in enumerate(series))
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return history.samples * len(history.counters)
