"""Invariant alerts: counters of things that must never happen.

Each invariant names a counter of violations (an ``allow`` on a dataset with
no policy label, a promotion that went through a gate that errored). The
alert fires on any increase, including the very first violation, which
creates the series at 1 and which ``increase()`` alone cannot see.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import conventions as c
from .durations import parse_duration
from .problems import Collector, caller_file
from .promql import SelectorError, is_valid_label_name, parse_selector
from .slo import check_labels, freeze_labels
from .windows import TIERS

ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
NEW_SERIES_LOOKBACK = "1h"
MIN_WINDOW_SECONDS = 120  # increase() needs two samples at the usual 15s-1m scrape intervals


@dataclass(frozen=True)
class Invariant:
    name: str
    counter: str
    summary: str
    description: str
    owner: str
    runbook: str = ""   # hand-written first steps (Markdown), merged into the generated runbook
    by: tuple[str, ...] = ()
    window: str = "10m"
    severity: str = "page"
    labels: tuple | dict = ()
    dashboard_uid: str = c.OVERVIEW_DASHBOARD_UID
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        object.__setattr__(self, "by", tuple(self.by))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("invariant", str(self.name), self.defined_in)
        p.check(isinstance(self.name, str) and ALERT_NAME.match(self.name) is not None, "name",
                f"{self.name!r} must be an alert name in PascalCase")
        try:
            parse_selector(self.counter)
        except SelectorError as error:
            p.add("counter", str(error))
        for label in self.by:
            p.check(is_valid_label_name(label) and label not in c.CORRELATION_IDS
                    and label not in c.RESERVED_LABELS, "by", f"{label!r} cannot be an alert dimension")
        try:
            p.check(parse_duration(self.window) >= MIN_WINDOW_SECONDS, "window",
                    f"{self.window} is too short to see an increase; use 2m or more")
        except ValueError as error:
            p.add("window", str(error))
        p.check(self.severity in TIERS, "severity", f"{self.severity!r} must be 'page' or 'ticket'")
        p.check(isinstance(self.runbook, str), "runbook", "hand-written first steps, as Markdown text")
        for name in ("summary", "description", "owner"):
            value = getattr(self, name)
            p.check(isinstance(value, str) and value.strip() != "", name, f"an invariant needs a {name}")
        check_labels(self.labels, "labels", p)
        p.raise_if_any()

    def expr(self) -> str:
        sel = parse_selector(self.counter).render()
        by = f" by ({', '.join(self.by)})" if self.by else ""
        # A series is new if it had no sample in the hour before the window;
        # a range selector skips staleness markers, so a failed scrape does
        # not make an old counter look new.
        return (f"sum{by} (increase({sel}[{self.window}])) > 0\n"
                f"or\n"
                f"sum{by} ({sel} unless last_over_time({sel}[{NEW_SERIES_LOOKBACK}] offset {self.window})) > 0")

    def canonical(self) -> dict:
        return {"name": self.name, "counter": self.counter, "summary": self.summary,
                "description": self.description, "owner": self.owner, "runbook": self.runbook,
                "by": list(self.by), "window": self.window, "severity": self.severity,
                "labels": dict(self.labels), "dashboard_uid": self.dashboard_uid}
