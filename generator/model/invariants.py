"""Invariant alerts: counters of things that must never happen.

Each invariant names a counter of violations (an ``allow`` on a dataset with
no policy label, a promotion that went through a gate that errored). The
alert fires on any increase, including the very first violation, which
creates the series at 1 and which ``increase()`` alone cannot see.
"""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass, field

from generator import conventions as c
from generator.model import fields
from generator.model import gotemplate
from generator.promql import builder as b
from generator.model.durations import format_duration, parse_duration
from generator.model.fields import NAME
from generator.model.problems import Collector, caller_file
from generator.promql.selectors import SelectorError, is_valid_label_name, parse_selector
from generator.model.slo import check_labels, freeze_labels, runbook_problem
from generator.model.windows import PAGE, TIERS

ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
NEW_SERIES_LOOKBACK = "1h"
MAX_WINDOW_SECONDS = 86400  # a day
MAX_ALERT_NAME = 120  # it names the runbook file
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
    severity: str = PAGE
    labels: tuple[Any, ...] | dict[str, Any] = ()
    dashboard_uid: str = c.OVERVIEW_DASHBOARD_UID
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        object.__setattr__(self, "by", fields.ordered(self.by))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("invariant", self.name, self.defined_in)
        p.guard("definition", self._validate, p)
        p.raise_if_any()

    def _validate(self, p: Collector) -> None:
        p.check(isinstance(self.name, str) and ALERT_NAME.match(self.name) is not None
                and len(self.name) <= MAX_ALERT_NAME, "name",
                f"{self.name!r} must be an alert name in PascalCase, at most {MAX_ALERT_NAME} characters"[:200])
        try:
            parse_selector(self.counter)
        except SelectorError as error:
            p.add("counter", str(error))
        trouble = fields.tuple_problem(self.by, "label names")
        by: tuple[Any, ...] = self.by if trouble is None else ()
        if trouble:
            p.add("by", trouble)
        for label in by:
            p.check(is_valid_label_name(label) and label not in c.CORRELATION_IDS
                    and label not in c.RESERVED_LABELS, "by", f"{label!r} cannot be an alert dimension"[:200])
        try:
            seconds = parse_duration(self.window)
            p.check(seconds >= MIN_WINDOW_SECONDS, "window",
                    f"{self.window} is too short to see an increase; use 2m or more")
            p.check(seconds <= MAX_WINDOW_SECONDS, "window",
                    f"{self.window} is longer than {format_duration(MAX_WINDOW_SECONDS)}: a violation must fire "
                    "while someone can still act on it")
        except ValueError as error:
            p.add("window", str(error))
        p.check(isinstance(self.severity, str) and self.severity in TIERS, "severity",
                f"{self.severity!r} must be 'page' or 'ticket'"[:200])
        trouble = runbook_problem(self.runbook)
        p.check(trouble is None, "runbook", f"hand-written first steps, as Markdown text: {trouble}")
        # Summary and description are alert templates: {{ $labels.x }} for a label of `by`.
        for name in ("summary", "description"):
            value = getattr(self, name)
            trouble = fields.text_problem(value, name)
            if trouble:
                p.add(name, f"an invariant needs a {name}" if "give the" in trouble else trouble)
                continue
            for message in gotemplate.problems(value, tuple(str(label) for label in by)):
                p.add(name, message)
        if not isinstance(self.owner, str) or not self.owner.strip():
            p.add("owner", "an invariant needs an owning team")
        elif NAME.match(self.owner) is None:
            p.add("owner", f"{self.owner!r} must be a team name: lower-case words joined by '-'"[:200])
        p.check(isinstance(self.dashboard_uid, str) and NAME.match(self.dashboard_uid) is not None
                and len(self.dashboard_uid) <= 40, "dashboard_uid",
                f"{self.dashboard_uid!r} must be a dashboard uid (lower-case words joined by '-')"[:200])
        check_labels(self.labels, "labels", p)
        if isinstance(self.labels, tuple):
            for item in self.labels:
                if isinstance(item, tuple) and len(item) == 2 and item[0] in by:
                    p.add("labels", f"{item[0]!r} is a dimension of the alert (by); a fixed label would overwrite it")

    def label_pairs(self) -> tuple[tuple[str, str], ...]:
        """The labels as (name, value) pairs (they are, once constructed and valid)."""
        return self.labels if isinstance(self.labels, tuple) else ()

    def expr(self) -> str:
        sel = parse_selector(self.counter)
        # A series is new if it had no sample in the hour before the window;
        # a range selector skips staleness markers, so a failed scrape does
        # not make an old counter look new.
        increased = b.aggregate("sum", b.increase(sel, self.window), self.by, spaced=True)
        seen_before = b.call("last_over_time", b.ranged(sel, NEW_SERIES_LOOKBACK, offset=self.window))
        new_series = b.aggregate("sum", b.binary(sel, "unless", seen_before), self.by, spaced=True)
        return str(b.binary(b.binary(increased, ">", 0), "or", b.binary(new_series, ">", 0), lines=True))

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "counter": self.counter, "summary": self.summary,
                "description": self.description, "owner": self.owner, "runbook": self.runbook,
                "by": list(self.by), "window": self.window, "severity": self.severity,
                "labels": dict(self.labels), "dashboard_uid": self.dashboard_uid}
