"""Where the backtest's history comes from: a Prometheus server (range queries) or an exported file.

Either way the result is, for one selector, the per-minute value of the sum of the counters it selects,
at the base resolution the generated rules are evaluated at (one point a minute, on whole minutes):

- `prometheus=URL`: `GET URL/api/v1/query_range` of the selector itself (the one the base recordings
  read with `rate()`), one series per counter, at a 60s step. Prometheus refuses a query of more than
  11,000 points per series, so the period is read in chunks of at most MAX_POINTS points.
- `file=PATH`: an OpenMetrics text export (`name{labels} value timestamp`, timestamps in seconds; the
  format of `promtool tsdb create-blocks-from openmetrics`), or a CSV file with the header
  `series,timestamp,value` (series as `name{label="value",...}`, timestamps in seconds).

Counters are summed the way `sum(rate(...))` reads them: each series' resets are taken out (a value
below the one before starts again from 0, as rate() does), and a series counts from its first sample
(before it, it holds its first value; a missing minute holds its last value). An unreachable source, an
error answer, or a selector that selects nothing is a HistoryError naming the source and the query.
"""
from __future__ import annotations

import csv
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from generator.promql.selectors import Selector, SelectorError, parse_selector

STEP = 60            # seconds: the base resolution (the rules' evaluation interval)
MAX_POINTS = 10_000  # points per series per query (Prometheus refuses more than 11,000)
TIMEOUT = 60         # seconds per HTTP request

Labels = tuple[tuple[str, str], ...]


class HistoryError(Exception):
    """The history source cannot give what the backtest needs; the message names the source and the query."""


@dataclass(frozen=True)
class Counter:
    """The summed counter of one selector: value at start + k * STEP for each tick k."""

    selector: str
    start: int
    values: list[float]
    series: int      # how many series it sums
    first: int = 0   # the first tick any of them has a sample at


class Source(Protocol):
    name: str

    def read(self, selector: Selector, start: int, end: int) -> dict[Labels, list[tuple[int, float]]]:
        """Every series the selector selects: its samples (unix seconds on the STEP grid, value) in [start, end]."""

    def extent(self, selectors: tuple[Selector, ...]) -> tuple[int, int] | None:
        """The first and last sample time of these selectors, where the source knows it cheaply (None: unknown)."""


def parse_source(text: str) -> Source:
    """`prometheus=URL` or `file=PATH` (ValueError with what is accepted otherwise)."""
    kind, _, where = text.partition("=")
    if kind == "prometheus" and re.match(r"https?://[^\s]+$", where):
        return PrometheusSource(where.rstrip("/"))
    if kind == "file" and where:
        return FileSource(Path(where))
    raise ValueError(f"--history {text!r}: give prometheus=http(s)://HOST:PORT or file=PATH "
                     "(OpenMetrics text, or CSV with the header series,timestamp,value)")


class PrometheusSource:
    def __init__(self, url: str):
        self.url = url
        self.name = f"prometheus={url}"

    def read(self, selector: Selector, start: int, end: int) -> dict[Labels, list[tuple[int, float]]]:
        query = selector.render()
        found: dict[Labels, list[tuple[int, float]]] = {}
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + (MAX_POINTS - 1) * STEP)
            for labels, points in self._range(query, chunk_start, chunk_end).items():
                found.setdefault(labels, []).extend(points)
            chunk_start = chunk_end + STEP
        return found

    def extent(self, selectors: tuple[Selector, ...]) -> tuple[int, int] | None:
        return None

    def _range(self, query: str, start: int, end: int) -> dict[Labels, list[tuple[int, float]]]:
        params = urllib.parse.urlencode({"query": query, "start": str(start), "end": str(end), "step": f"{STEP}s"})
        where = f"history source {self.url}: query_range {query!r} from {start} to {end}"
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/query_range?{params}", timeout=TIMEOUT) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            detail = ""
            try:
                detail = json.load(error).get("error", "")
            except (ValueError, OSError):
                pass
            raise HistoryError(f"{where}: HTTP {error.code} {detail}".rstrip()) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise HistoryError(f"{where}: unreachable or not a Prometheus API ({reason})") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise HistoryError(f"{where}: {body.get('error') if isinstance(body, dict) else body!r}")
        data = body.get("data") or {}
        if data.get("resultType") != "matrix":
            raise HistoryError(f"{where}: expected a matrix, got {data.get('resultType')!r}")
        out: dict[Labels, list[tuple[int, float]]] = {}
        for item in data.get("result") or []:
            labels = tuple(sorted(item.get("metric", {}).items()))
            out[labels] = [(int(float(t)), float(v)) for t, v in item.get("values") or []]
        return out


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(\S+))?\s*$")


class FileSource:
    def __init__(self, path: Path):
        self.path = path
        self.name = f"file={path}"
        self._series: dict[Labels, list[tuple[int, float]]] | None = None

    def _load(self) -> dict[Labels, list[tuple[int, float]]]:
        if self._series is not None:
            return self._series
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HistoryError(f"history source {self.path}: cannot be read ({error})") from None
        series: dict[Labels, list[tuple[int, float]]] = {}
        cache: dict[str, Labels] = {}

        def labels_of(name_and_labels: str, line: int) -> Labels:
            if name_and_labels not in cache:
                try:
                    parsed = parse_selector(name_and_labels)
                except SelectorError as error:
                    raise HistoryError(f"history source {self.path}: line {line}: {error}") from None
                cache[name_and_labels] = tuple(sorted({"__name__": parsed.metric, **parsed.equality_labels()}.items()))
            return cache[name_and_labels]

        def add(name_and_labels: str, stamp: str, value: str, line: int) -> None:
            try:
                t, v = float(stamp), float(value)
            except ValueError:
                raise HistoryError(f"history source {self.path}: line {line}: not a timestamp and a value: "
                                   f"{stamp!r} {value!r}") from None
            if math.isnan(v):
                return
            series.setdefault(labels_of(name_and_labels, line), []).append((int(round(t)), v))

        lines = text.splitlines()
        if lines and lines[0].replace(" ", "").lower().startswith("series,timestamp,value"):
            for number, row in enumerate(csv.reader(lines[1:]), start=2):
                if row:
                    if len(row) != 3:
                        raise HistoryError(f"history source {self.path}: line {number}: expected series,timestamp,value")
                    add(row[0], row[1], row[2], number)
        else:
            for number, line in enumerate(lines, start=1):
                if not line.strip() or line.startswith("#"):
                    continue
                match = SAMPLE.match(line)
                if not match or match.group(4) is None:
                    raise HistoryError(f"history source {self.path}: line {number}: not an OpenMetrics sample "
                                       f"with a timestamp: {line[:80]!r}")
                add(match.group(1) + (match.group(2) or ""), match.group(4), match.group(3), number)
        for points in series.values():
            points.sort()
        self._series = series
        return series

    def read(self, selector: Selector, start: int, end: int) -> dict[Labels, list[tuple[int, float]]]:
        out = {}
        for labels, points in self._load().items():
            as_dict = dict(labels)
            if as_dict.get("__name__") == selector.metric and selector.matches(as_dict):
                chosen = [(t, v) for t, v in points if start <= t <= end and t % STEP == 0]
                if chosen:
                    out[labels] = chosen
        return out

    def extent(self, selectors: tuple[Selector, ...]) -> tuple[int, int] | None:
        times = [t for labels, points in self._load().items() for t, _ in (points[0], points[-1])
                 if any(dict(labels).get("__name__") == s.metric and s.matches(dict(labels)) for s in selectors)]
        return (min(times), max(times)) if times else None


def summed_counter(source: Source, selector: Selector, start: int, end: int, required: bool = True) -> Counter:
    """The per-tick sum of the selected counters over [start, end] (both on the STEP grid)."""
    found = source.read(selector, start, end)
    if not found and required:
        raise HistoryError(f"history source {source.name}: the query {selector.render()!r} returned no samples "
                           f"from {start} to {end}: no history to backtest")
    ticks = (end - start) // STEP + 1
    total = [0.0] * ticks
    firsts = []
    for points in found.values():
        by_tick: dict[int, float] = {}
        offset, previous = 0.0, None
        for t, v in points:
            if previous is not None and v < previous:
                offset += previous       # a reset: counting starts again from 0
            previous = v
            by_tick[(t - start) // STEP] = v + offset
        first = min(by_tick)
        firsts.append(first)
        value = by_tick[first]
        for k in range(ticks):
            value = by_tick.get(k, value)
            total[k] += value
    return Counter(selector.render(), start, total, len(found), min(firsts, default=0))
