"""Multiwindow, multi-burn-rate math, kept apart from PromQL text.

The Google SRE Workbook ("Alerting on SLOs") gives, for a 30-day period:
page at 14.4x over 1h (short 5m) and 6x over 6h (short 30m); ticket at 3x
over 1d (short 2h) and 1x over 3d (short 6h). Each pair spends a fixed share
of the budget before it fires: factor x long window / period (2%, 5%, 10%,
10%). For 28d and 7d periods the windows (and `for` durations) are scaled by
period/30d and the factors kept, so every pair still spends the same share.

A period shorter than 7d is a compressed period, for end-to-end tests that
watch alerts fire in real time: the windows and `for` durations scale the same
way but to whole seconds, and the staging base (5m for 7d and longer) shrinks
with the period (5m x period/7d), so the SLO keeps the shape of a 7d one.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from generator.conventions import BASE_WINDOW_SECONDS, TILE_SECONDS
from generator.model.durations import format_duration, parse_duration

DAY = 86400
REFERENCE_PERIOD = 30 * DAY
PERIODS = {"30d": 30 * DAY, "28d": 28 * DAY, "7d": 7 * DAY}
PAGE, TICKET = "page", "ticket"   # the alert tiers: severity label values, tier label prefixes
TIERS = (PAGE, TICKET)
SHORTEST_PERIOD = PERIODS["7d"]  # shorter ones are compressed (tests)
MIN_BASE_WINDOW_SECONDS = 5  # a compressed period's base must hold a few samples at a 1s scrape


def base_window(period: int) -> int:
    """Seconds of the staging base: 5m, or for a compressed period 5m x period/7d (whole seconds)."""
    if period >= SHORTEST_PERIOD:
        return BASE_WINDOW_SECONDS
    return max(1, round(Fraction(BASE_WINDOW_SECONDS) * period / SHORTEST_PERIOD))


def period_seconds(text: str) -> int:
    """Seconds of a period: 30d, 28d, 7d, or a compressed period shorter than 7d; ValueError otherwise."""
    if text in PERIODS:
        return PERIODS[text]
    message = f"{text!r} is not one of {', '.join(sorted(PERIODS))} (or a compressed test period under 7d)"
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(message) from None
    if seconds >= SHORTEST_PERIOD:
        raise ValueError(message)
    if base_window(seconds) < MIN_BASE_WINDOW_SECONDS:
        raise ValueError(f"{text!r} is too short: its staging base would be {base_window(seconds)}s, "
                         f"under {MIN_BASE_WINDOW_SECONDS}s")
    return seconds


@dataclass(frozen=True)
class WindowPair:
    tier: str
    long: int        # seconds
    short: int       # seconds
    factor: Decimal  # burn rate that fires the pair
    for_: int        # seconds the condition must hold
    keep_firing_for: int = 0  # seconds a firing alert stays firing after the condition clears (its tier's)
    long_tiles: int = 0  # seconds of the tiles the long window is summed from (tiled_pairs), 0: summed whole
    long_warm_up: int = 0  # with tiles: the exact window it reads until its series' first tile point

    @property
    def long_text(self) -> str:
        return format_duration(self.long)

    @property
    def short_text(self) -> str:
        return format_duration(self.short)

    def budget_share(self, period: int) -> Fraction:
        """Share of the period's error budget spent when the pair fires."""
        return Fraction(self.factor) * self.long / period

    def threshold(self, error_budget: Decimal) -> Decimal:
        """Error ratio above which the pair's windows fire."""
        return self.factor * error_budget


# Page pairs fire at once (`for` 0, as the Workbook has them): their short window already shows the burn
# is still going on, and the staging does not lag (a minute's errors count in full a minute later), so
# waiting would only add minutes to the page. Ticket pairs keep a `for`: nothing about a ticket is urgent.
WORKBOOK_30D = (
    WindowPair(PAGE, 3600, 300, Decimal("14.4"), 0),
    WindowPair(PAGE, 6 * 3600, 1800, Decimal("6"), 0),
    WindowPair(TICKET, DAY, 2 * 3600, Decimal("3"), 3600),
    WindowPair(TICKET, 3 * DAY, 6 * 3600, Decimal("1"), 3 * 3600),
)


def _scale_to_minutes(seconds: int, period: int) -> int:
    scaled = Fraction(seconds) * period / REFERENCE_PERIOD
    if seconds == 0:
        return 0
    if period < SHORTEST_PERIOD:  # compressed: whole seconds
        return max(1, round(scaled))
    return max(60, round(scaled / 60) * 60)


@functools.lru_cache(maxsize=64)
def default_pairs(period: int, tier: str) -> tuple[WindowPair, ...]:
    """The Workbook pairs of one tier, scaled to the period."""
    pairs = []
    for pair in WORKBOOK_30D:
        if pair.tier != tier:
            continue
        pairs.append(WindowPair(
            tier=tier,
            long=_scale_to_minutes(pair.long, period),
            # A short window below the staging base would read one 5m sample.
            short=max(base_window(period), _scale_to_minutes(pair.short, period)),
            factor=pair.factor,
            for_=_scale_to_minutes(pair.for_, period),
        ))
    return tuple(pairs)


# Long ticket windows and the period are summed from tiles, not from the fine rates: a group of its own
# records, every TILE_RECORD_INTERVAL, the bad and total sums over the last TILE_SECONDS, and a window
# reads those at TILE_SECONDS steps (a subquery `[1d:10m]`, aligned to the clock). A 1d window then reads
# 144 samples where the fine rates hold 1,440, and a 30d period 4,320 where they hold 43,200. The window
# covers the whole tiles that end in it, so it lags by up to one tile (and one recording interval on a
# real server): nothing urgent reads it. A page pair's windows are always summed whole.
# The tiles' group records every TILE_RECORD_INTERVAL_SECONDS (5m): at most the 5m lookback, so every tile
# point finds a sample whatever the groups' phases, and half a tile, so consecutive points read samples
# exactly one tile apart; a server stores 288 tile samples a day where the fine rates take 1,440.
MIN_TILED_WINDOW = 12 * TILE_SECONDS   # shorter windows gain little from tiles and would lag by a larger share
# A series' first tile point comes at most 15 minutes after its first sample (10m to the point, 5m for the
# tiles group's phase); until then a tiled window reads an exact window that holds all of its data.
MIN_WARM_UP = 20 * 60


def tiled_pairs(pairs: tuple[WindowPair, ...], period: int) -> tuple[WindowPair, ...]:
    """The pairs with `long_tiles` set where the long window is summed from tiles: a ticket pair's long
    window of at least 2h, of a period of 7d or longer, that no page pair reads and no pair reads as its
    short window (those stay exact: they say when an alert fires and stops)."""
    if period < SHORTEST_PERIOD:
        return pairs
    exact = {w for p in pairs if p.tier == PAGE for w in (p.long, p.short)} | {p.short for p in pairs}
    tiled = {p.long for p in pairs if p.tier == TICKET and p.long not in exact and p.long >= MIN_TILED_WINDOW}
    warm_up = warm_up_window(pairs, tiled)
    return tuple(replace(p, long_tiles=TILE_SECONDS, long_warm_up=warm_up) if p.long in tiled else p
                 for p in pairs)


def warm_up_window(pairs: tuple[WindowPair, ...], tiled: set[int]) -> int:
    """What a tiled window (and the period) reads until its series' first tile point: the shortest exact
    window of at least MIN_WARM_UP that the alerts read (its recording is there: one sample to read), or
    MIN_WARM_UP."""
    return min((w for w in windows_needed(pairs) if w not in tiled and w >= MIN_WARM_UP), default=MIN_WARM_UP)


def tiled_windows(pairs: tuple[WindowPair, ...]) -> dict[int, int]:
    """Window -> seconds of its tiles, for every window summed from tiles."""
    return {p.long: p.long_tiles for p in pairs if p.long_tiles}


def recorded_range(window: int, base: int = BASE_WINDOW_SECONDS) -> str:
    """The PromQL range of a window summed over recordings: one second short of it, so that it holds one
    sample per evaluation interval on 2.x, whose ranges are closed ([t-1h, t]: 61 one-minute samples,
    which dilutes a burn by one sample), as on 3.x, whose are left-open ((t-1h, t]: 60). Recordings are
    written at exact evaluation timestamps, so no sample sits in that second. Over a compressed period
    (evaluations every second; `base` under 5m) the window stays whole."""
    return format_duration(window - 1 if base >= BASE_WINDOW_SECONDS else window)


def windows_needed(pairs: tuple[WindowPair, ...]) -> tuple[int, ...]:
    """Every window an SLO's alerts read, shortest first, without repeats."""
    return tuple(sorted({w for p in pairs for w in (p.long, p.short)}))


def budget_as_time(error_budget: Decimal, period: int) -> int:
    """Seconds of total outage the budget allows per period (whole seconds)."""
    return int((error_budget * period).to_integral_value())
