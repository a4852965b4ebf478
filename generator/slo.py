"""The SLO definition model: frozen, typed, validated at construction."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import conventions as c
from .durations import format_duration, parse_duration
from .numbers import exact
from .problems import Collector, caller_file
from .promql import is_valid_label_name
from .sli import SLI_KINDS
from .windows import TIERS, WindowPair, base_window, default_pairs, period_seconds

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def freeze_labels(labels: object) -> tuple[tuple[str, str], ...]:
    if isinstance(labels, dict):
        return tuple(sorted(labels.items()))
    return tuple(labels)  # type: ignore[arg-type]


def check_labels(labels: tuple, where: str, problems: Collector) -> None:
    for name, value in labels:
        if not is_valid_label_name(name):
            problems.add(where, f"{name!r} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*)")
        elif name in c.RESERVED_LABELS:
            problems.add(where, f"{name!r} is set by the generator and cannot be overridden")
        if not isinstance(value, str):
            problems.add(where, f"label {name!r} needs a string value, got {value!r}")


@dataclass(frozen=True)
class BurnWindow:
    """A custom window pair for a tier: long and short windows, burn factor."""

    long: str
    short: str
    factor: float | str
    for_: str = "2m"


def _check_waiver(waiver: object, where: str, p: Collector) -> None:
    if not isinstance(waiver, Waiver):
        p.add(where, f"expected Waiver(...), got {waiver!r}")
        return
    try:
        date.fromisoformat(waiver.expires)
        valid = len(waiver.expires) == 10
    except (TypeError, ValueError):
        valid = False
    p.check(valid, f"{where}.expires", f"{waiver.expires!r} must be a date, YYYY-MM-DD")
    p.check(isinstance(waiver.approved_by, str) and waiver.approved_by.strip() != "", f"{where}.approved_by",
            "say who approved the waiver")


@dataclass(frozen=True)
class Waiver:
    """Permission to ship without a page tier where the environment pages.

    The policy gates accept it until its expiry date (inclusive), then fail."""

    reason: str
    expires: str           # YYYY-MM-DD
    approved_by: str


@dataclass(frozen=True)
class Tier:
    """One alert tier (page or ticket). Disable it only with a stated reason;
    a disabled page tier also needs a waiver (policy gate `page-tier-waiver`)."""

    enabled: bool = True
    disabled_reason: str = ""
    labels: tuple | dict = ()
    windows: tuple[BurnWindow, ...] = ()  # empty: the Workbook pairs, scaled to the period
    waiver: Waiver | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        object.__setattr__(self, "windows", tuple(self.windows))

    @classmethod
    def disabled(cls, reason: str, waiver: Waiver | None = None) -> "Tier":
        return cls(enabled=False, disabled_reason=reason, waiver=waiver)


@dataclass(frozen=True)
class Alerting:
    page: Tier = Tier()
    ticket: Tier = Tier()
    min_events: int = 0            # events the long window must hold before a pair may fire
    no_data_for: str = "10m"
    no_data_severity: str = ""     # default: page if the page tier is on, else ticket

    def tier(self, name: str) -> Tier:
        return self.page if name == "page" else self.ticket


@dataclass(frozen=True)
class SLO:
    name: str
    service: str
    owner: str
    description: str
    objective: float | str | Decimal
    sli: object
    runbook: str = ""   # hand-written first steps (Markdown), merged into the generated runbooks
    period: str = "30d"
    alerting: Alerting = Alerting()
    labels: tuple | dict = ()
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        problems = Collector("SLO", str(self.name), self.defined_in)
        self._validate(problems)
        problems.raise_if_any()
        object.__setattr__(self, "objective", exact(self.objective))

    # --- validation -------------------------------------------------------
    def _validate(self, p: Collector) -> None:
        p.check(isinstance(self.name, str) and NAME.match(self.name) is not None, "name",
                f"{self.name!r} must be lower-case words joined by '-' (e.g. 'evidence-availability')")
        p.check(not isinstance(self.name, str) or len(self.name) <= c.MAX_SLO_NAME, "name",
                f"at most {c.MAX_SLO_NAME} characters, so its dashboard uid fits Grafana's 40")
        p.check(isinstance(self.service, str) and NAME.match(self.service) is not None, "service",
                f"{self.service!r} must be lower-case words joined by '-'")
        p.check(isinstance(self.owner, str) and self.owner.strip() != "", "owner",
                "every SLO needs an owning team")
        p.check(isinstance(self.description, str) and self.description.strip() != "", "description",
                "say what the SLO protects, for the on-call engineer")
        p.check(isinstance(self.runbook, str), "runbook", "hand-written first steps, as Markdown text")
        try:
            objective = exact(self.objective)
            p.check(Decimal(0) < objective < Decimal(1), "objective",
                    f"{self.objective!r} must be a ratio strictly between 0 and 1 (e.g. 0.999)")
        except ValueError as error:
            p.add("objective", str(error))
            objective = None
        try:
            period_seconds(self.period)
        except ValueError as error:
            p.add("period", str(error))
        check_labels(self.labels, "labels", p)
        self._check_no_overlap(p, self.labels, "labels")
        if not isinstance(self.sli, SLI_KINDS):
            p.add("sli", f"expected one of {', '.join(k.__name__ for k in SLI_KINDS)}, got {type(self.sli).__name__}")
        else:
            for where, message in self.sli.problems():
                p.add(where, message)
        if not isinstance(self.alerting, Alerting):
            p.add("alerting", f"expected Alerting(...), got {self.alerting!r}")
            return
        self._validate_alerting(p, objective)

    def _validate_alerting(self, p: Collector, objective: Decimal | None) -> None:
        a = self.alerting
        p.check(isinstance(a.min_events, int) and a.min_events >= 0, "alerting.min_events",
                f"{a.min_events!r} must be a whole number of events, 0 or more")
        p.check(not a.min_events or getattr(self.sli, "uses_events", True), "alerting.min_events",
                "a freshness SLI counts evaluation ticks, not events: leave min_events at 0")
        try:
            parse_duration(a.no_data_for)
        except ValueError as error:
            p.add("alerting.no_data_for", str(error))
        p.check(a.no_data_severity in ("", *TIERS), "alerting.no_data_severity",
                f"{a.no_data_severity!r} must be 'page' or 'ticket'")
        try:
            period: int | None = period_seconds(self.period)
        except ValueError:
            period = None
        budget = (1 - objective) if objective is not None and Decimal(0) < objective < Decimal(1) else None
        for tier_name in TIERS:
            tier = a.tier(tier_name)
            where = f"alerting.{tier_name}"
            if not isinstance(tier, Tier):
                p.add(where, f"expected Tier(...), got {tier!r}")
                continue
            check_labels(tier.labels, f"{where}.labels", p)
            self._check_no_overlap(p, tier.labels, f"{where}.labels")
            if not tier.enabled:
                p.check(tier.disabled_reason.strip() != "", f"{where}.disabled_reason",
                        "a disabled tier needs a stated reason")
                if tier.waiver is not None:
                    _check_waiver(tier.waiver, f"{where}.waiver", p)
                continue
            for index, window in enumerate(tier.windows):
                self._validate_window(p, f"{where}.windows[{index}]", window, period, objective)
            if not tier.windows and budget is not None and period is not None:
                for pair in default_pairs(period, tier_name):
                    p.check(pair.factor * budget < 1, f"{where}",
                            f"the {pair.long_text}/{pair.short_text} pair fires above {pair.factor}x the "
                            f"{budget} budget, an error ratio over 100%: it could never fire. Give windows "
                            f"with lower factors, or disable the tier with a reason")

    def _check_no_overlap(self, p: Collector, labels: tuple, where: str) -> None:
        grouped = set(getattr(self.sli, "group_by", ()) or ())
        for name, _ in labels:
            p.check(name not in grouped, where,
                    f"{name!r} is a dimension of the SLI (group_by); a fixed label would overwrite it")

    def _validate_window(self, p: Collector, where: str, window: BurnWindow, period: int | None,
                         objective: Decimal | None) -> None:
        seconds = {}
        for part in ("long", "short", "for_"):
            try:
                seconds[part] = parse_duration(getattr(window, part))
            except ValueError as error:
                p.add(f"{where}.{part}", str(error))
        if "long" in seconds and "short" in seconds:
            p.check(seconds["short"] < seconds["long"], f"{where}.short",
                    "the short window must be shorter than the long one")
            base = base_window(period) if period is not None else c.BASE_WINDOW_SECONDS
            p.check(seconds["short"] >= base, f"{where}.short",
                    f"windows shorter than the {format_duration(base)} staging base are not supported")
            if period is not None:
                p.check(seconds["long"] <= period, f"{where}.long",
                        f"{window.long} is longer than the SLO period {self.period}")
        try:
            factor = exact(window.factor)
        except ValueError as error:
            p.add(f"{where}.factor", str(error))
            return
        if not p.check(factor > 0, f"{where}.factor", "a burn factor must be above 0"):
            return
        if objective is not None and Decimal(0) < objective < Decimal(1):
            p.check(factor * (1 - objective) < 1, f"{where}.factor",
                    f"{factor} x the {1 - objective} error budget is 100% errors or more: the alert could never fire")

    # --- derived ----------------------------------------------------------
    @property
    def error_budget(self) -> Decimal:
        return Decimal(1) - self.objective  # type: ignore[operator]

    @property
    def period_seconds(self) -> int:
        return period_seconds(self.period)

    @property
    def base_window_seconds(self) -> int:
        """The staging base: 5m, shorter only for a compressed (test) period."""
        return base_window(self.period_seconds)

    def pairs(self, tier: str) -> tuple[WindowPair, ...]:
        t = self.alerting.tier(tier)
        if not t.enabled:
            return ()
        if not t.windows:
            return default_pairs(self.period_seconds, tier)
        return tuple(WindowPair(tier, parse_duration(w.long), parse_duration(w.short), exact(w.factor),
                                parse_duration(w.for_)) for w in t.windows)

    def all_pairs(self) -> tuple[WindowPair, ...]:
        return self.pairs("page") + self.pairs("ticket")

    @property
    def no_data_severity(self) -> str:
        if self.alerting.no_data_severity:
            return self.alerting.no_data_severity
        return "page" if self.alerting.page.enabled else "ticket"

    def canonical(self) -> dict:
        """Everything that shapes the output, for the definitions hash."""
        a = self.alerting
        return {
            "name": self.name, "service": self.service, "owner": self.owner,
            "description": self.description, "objective": str(self.objective), "period": self.period,
            "runbook": self.runbook, "labels": dict(self.labels), "sli": self.sli.canonical(),  # type: ignore[attr-defined]
            "alerting": {
                "min_events": a.min_events, "no_data_for": a.no_data_for, "no_data_severity": self.no_data_severity,
                **{t: {"enabled": a.tier(t).enabled, "disabled_reason": a.tier(t).disabled_reason,
                       "waiver": (None if a.tier(t).waiver is None else
                                  [a.tier(t).waiver.reason, a.tier(t).waiver.expires,  # type: ignore[union-attr]
                                   a.tier(t).waiver.approved_by]),  # type: ignore[union-attr]
                       "labels": dict(a.tier(t).labels),
                       "windows": [[w.long, w.short, str(w.factor), w.for_] for w in a.tier(t).windows]}
                   for t in TIERS},
            },
        }
