"""The SLO definition model: frozen, typed, validated at construction."""
from __future__ import annotations

import functools

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from generator import conventions as c
from generator.model import fields
from generator.model.durations import format_duration, parse_duration
from generator.model.numbers import exact
from generator.model.problems import Collector, caller_file
from generator.promql.selectors import is_valid_label_name
from generator.model.kinds import BUILT_IN
from generator.model.kinds.base import SLIKind
from generator.model.windows import (PAGE, PERIODS, SHORTEST_PERIOD, TICKET, TIERS, WindowPair, base_window,
                                     default_pairs, period_seconds, tiled_pairs)

NAME = fields.NAME
MAX_NO_DATA_FOR = 86400          # a no-data alert that waits longer than a day is no alert
MAX_KEEP_FIRING_FOR = 3600       # a page kept firing longer than an hour after recovery hides the next burn
MAX_QUERY_OFFSET = 600           # a remote-write or federation lag longer than 10m is an outage, not a lag
MAX_WINDOW = 3 * 86400           # generated tests simulate every minute of the longest window, three times
MAX_MIN_EVENTS = 10**9           # generated test traffic meets the guard; counters stay exact in float64
MIN_BUDGET_SECONDS = 1           # a budget under a second of outage per period cannot be alerted on
MAX_PAIRS = 4                    # the SLO's dashboard shows every pair's burn rate in one row (at least 6 of 24 columns)
MIN_FACTOR = Decimal("0.001")    # below, a whole budget lasts over 1,000 periods: any error at all fires


def freeze_labels(labels: object) -> object:
    """Labels as sorted (name, value) pairs; anything that is not a dict or pairs is kept for the validator."""
    if isinstance(labels, dict):
        try:
            return tuple(sorted(labels.items()))
        except TypeError:
            return tuple(sorted(labels.items(), key=repr))
    return fields.ordered(labels)


def check_labels(labels: object, where: str, problems: Collector) -> None:
    if not isinstance(labels, tuple) or not all(isinstance(item, tuple) and len(item) == 2 for item in labels):
        problems.add(where, f"give labels as a dict of names to values, got {type(labels).__name__}")
        return
    for name, value in labels:
        if not is_valid_label_name(name):
            problems.add(where, f"{name!r} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*)")
        elif name in c.RESERVED_LABELS:
            problems.add(where, f"{name!r} is set by the generator and cannot be overridden")
        trouble = fields.label_value_problem(value)
        if trouble:
            problems.add(where, f"label {name!r}: {trouble}")


def runbook_problem(text: object) -> str | None:
    """Hand-written first steps: Markdown text whose code fences close, so the generated
    sections after it are not swallowed into a code block."""
    trouble = fields.text_problem(text, "first steps", required=False, limit=20000)
    if trouble:
        return trouble
    fences = sum(1 for line in str(text).splitlines() if line.lstrip().startswith(("```", "~~~")))
    if fences % 2:
        return "a code fence (```) is opened and never closed"
    return None


@dataclass(frozen=True)
class BurnWindow:
    """A custom window pair for a tier: long and short windows, burn factor."""

    long: str
    short: str
    factor: float | str
    for_: str = "2m"


def _check_waiver(waiver: object, where: str, p: Collector) -> None:
    if not isinstance(waiver, Waiver):
        p.add(where, f"expected Waiver(...), got {type(waiver).__name__}")
        return
    valid = isinstance(waiver.expires, str) and len(waiver.expires) == 10
    if valid:
        try:
            date.fromisoformat(waiver.expires)
        except ValueError:
            valid = False
    p.check(valid, f"{where}.expires", f"{waiver.expires!r} must be a date, YYYY-MM-DD")
    p.check(fields.text_problem(waiver.reason, "reason", multiline=False, limit=500) is None, f"{where}.reason",
            "say why the page tier may be off, in one line")
    p.check(fields.text_problem(waiver.approved_by, "approver", multiline=False, limit=200) is None,
            f"{where}.approved_by", "say who approved the waiver, in one line")


def _check_duration(p: Collector, where: str, value: object, longest: int, why: str,
                    whole_minutes: bool = False) -> bool:
    """A Prometheus duration above 0 and at most `longest` (whole minutes where asked); False if not."""
    if not isinstance(value, str):
        p.add(where, f"expected a duration such as '5m', got {type(value).__name__}")
        return False
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        p.add(where, f"{error}; leave it out to turn it off")
        return False
    return (p.check(0 < seconds <= longest, where, f"{value} must be above 0 and at most "
                    f"{format_duration(longest)} ({why}); leave it out to turn it off")
            and p.check(not whole_minutes or seconds % 60 == 0, where,
                        f"{value} must be whole minutes: the generated tests evaluate every minute"))


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
    labels: tuple[tuple[str, str], ...] | dict[str, str] = ()  # (name, value) pairs once constructed
    windows: tuple[BurnWindow, ...] = ()  # empty: the Workbook pairs, scaled to the period
    waiver: Waiver | None = None
    # Keep the tier's alerts firing this long after their condition clears (Prometheus'
    # keep_firing_for), so a burn that flaps around the threshold pages once. "" is off.
    keep_firing_for: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        object.__setattr__(self, "windows", fields.ordered(self.windows))

    @classmethod
    def disabled(cls, reason: str, waiver: Waiver | None = None) -> "Tier":
        return cls(enabled=False, disabled_reason=reason, waiver=waiver)

    def label_pairs(self) -> tuple[tuple[str, str], ...]:
        """The labels as (name, value) pairs (they are, once constructed and valid)."""
        return self.labels if isinstance(self.labels, tuple) else ()

    def canonical(self) -> dict[str, Any]:
        """The tier's part of SLO.canonical()."""
        waiver = self.waiver
        return {"enabled": self.enabled, "disabled_reason": self.disabled_reason,
                "waiver": None if waiver is None else [waiver.reason, waiver.expires, waiver.approved_by],
                "labels": dict(self.labels),
                "windows": [[w.long, w.short, str(w.factor), w.for_] for w in self.windows],
                # options newer than the hash format appear only when set: unchanged SLOs keep their hash
                **({"keep_firing_for": self.keep_firing_for} if self.keep_firing_for else {})}


@dataclass(frozen=True)
class Alerting:
    page: Tier = Tier()
    ticket: Tier = Tier()
    min_events: int = 0            # events the long window must hold before a pair may fire
    # An SLI whose series vanish without stale markers (a remote-write or federation gap) reads as
    # absent once the 5m look-back has passed: 4m more, and the no-data alert fires within 10m.
    no_data_for: str = "4m"
    no_data_severity: str = ""     # default: page if the page tier is on, else ticket
    # Evaluate the SLO's rule groups this far in the past (the group's query_offset), for series that
    # arrive late (remote write, federation). Whole minutes; needs Prometheus 2.53 or later in every
    # environment (telemetry/: Environment.prometheus_version). "" is off.
    query_offset: str = ""

    def tier(self, name: str) -> Tier:
        return self.page if name == PAGE else self.ticket


@dataclass(frozen=True)
class SLO:
    name: str
    service: str
    owner: str
    description: str
    objective: float | str | Decimal  # a Decimal once constructed (read it typed as `target`)
    sli: SLIKind
    runbook: str = ""   # hand-written first steps (Markdown), merged into the generated runbooks
    period: str = "30d"
    alerting: Alerting = Alerting()
    labels: tuple[tuple[str, str], ...] | dict[str, str] = ()  # (name, value) pairs once constructed
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze_labels(self.labels))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        problems = Collector("SLO", self.name, self.defined_in)
        problems.guard("definition", self._validate, problems)
        if problems.raise_if_any():
            object.__setattr__(self, "objective", exact(self.objective))

    # --- validation -------------------------------------------------------
    def _validate(self, p: Collector) -> None:
        p.check(isinstance(self.name, str) and NAME.match(self.name) is not None, "name",
                f"{self.name!r} must be lower-case words joined by '-' (e.g. 'evidence-availability')"[:200])
        p.check(not isinstance(self.name, str) or len(self.name) <= c.MAX_SLO_NAME, "name",
                f"at most {c.MAX_SLO_NAME} characters, so its dashboard uid fits Grafana's 40")
        p.check(isinstance(self.service, str) and NAME.match(self.service) is not None, "service",
                f"{self.service!r} must be lower-case words joined by '-'"[:200])
        p.check(not isinstance(self.service, str) or len(self.service) <= fields.MAX_SERVICE_NAME, "service",
                f"at most {fields.MAX_SERVICE_NAME} characters: it names a Kubernetes object and a label value")
        p.check(isinstance(self.owner, str) and self.owner.strip() != "", "owner",
                "every SLO needs an owning team")
        if isinstance(self.owner, str) and self.owner.strip():
            p.check(NAME.match(self.owner) is not None and len(self.owner) <= 63, "owner",
                    f"{self.owner!r} must be a team name: lower-case words joined by '-'"[:200])
        trouble = fields.text_problem(self.description, "description")
        if trouble:
            p.add("description", "say what the SLO protects, for the on-call engineer" if "give the" in trouble
                  else trouble)
        trouble = runbook_problem(self.runbook)
        if trouble:
            p.add("runbook", f"hand-written first steps, as Markdown text: {trouble}")
        objective: Decimal | None
        try:
            objective = exact(self.objective)
            if not p.check(Decimal(0) < objective < Decimal(1), "objective",
                           f"{self.objective!r} must be a ratio strictly between 0 and 1 (e.g. 0.999)"):
                objective = None
        except ValueError as error:
            p.add("objective", str(error))
            objective = None
        period: int | None
        try:
            period = period_seconds(self.period)
        except ValueError as error:
            p.add("period", str(error))
            period = None
        if objective is not None and period is not None:
            p.check((1 - objective) * period >= MIN_BUDGET_SECONDS, "objective",
                    f"{self.objective!r} leaves an error budget of {format(((1 - objective) * period).normalize(), 'f')}s per "
                    f"{self.period}: at least {MIN_BUDGET_SECONDS}s, or no alert can tell burning from healthy")
        check_labels(self.labels, "labels", p)
        self._check_no_overlap(p, self.labels, "labels")
        if not isinstance(self.sli, SLIKind):
            p.add("sli", f"expected one of {', '.join(k.__name__ for k in BUILT_IN)} (or another SLIKind), "
                         f"got {type(self.sli).__name__}")
        else:
            for where, message in self.sli.problems():
                p.add(where, message)
        if not isinstance(self.alerting, Alerting):
            p.add("alerting", f"expected Alerting(...), got {type(self.alerting).__name__}")
            return
        self._validate_alerting(p, objective, period)

    def _validate_alerting(self, p: Collector, objective: Decimal | None, period: int | None) -> None:
        a = self.alerting
        if p.check(fields.is_whole(a.min_events) and 0 <= a.min_events <= MAX_MIN_EVENTS, "alerting.min_events",
                   f"{a.min_events!r} must be a whole number of events from 0 to {MAX_MIN_EVENTS:,}"[:200]):
            p.check(not a.min_events or not isinstance(self.sli, SLIKind) or self.sli.counts_events,
                    "alerting.min_events", f"a {getattr(self.sli, 'kind', '')} SLI counts evaluation ticks, not "
                                           "events: leave min_events at 0")
        try:
            p.check(parse_duration(a.no_data_for) <= MAX_NO_DATA_FOR, "alerting.no_data_for",
                    f"{a.no_data_for} is longer than {format_duration(MAX_NO_DATA_FOR)}: an SLI without data "
                    "for that long is unobserved and must page sooner")
        except ValueError as error:
            p.add("alerting.no_data_for", str(error))
        p.check(isinstance(a.no_data_severity, str) and a.no_data_severity in ("", *TIERS),
                "alerting.no_data_severity", f"{a.no_data_severity!r} must be 'page' or 'ticket'"[:200])
        if a.query_offset != "" and _check_duration(p, "alerting.query_offset", a.query_offset, MAX_QUERY_OFFSET,
                                                    whole_minutes=True, why="the lag of the slowest series the SLI reads"):
            try:
                p.check(parse_duration(a.query_offset) < parse_duration(a.no_data_for), "alerting.query_offset",
                        f"{a.query_offset} must be shorter than no_data_for ({a.no_data_for}): an SLI whose data "
                        "lags longer than the no-data alert waits looks absent to it")
            except ValueError:
                pass  # no_data_for's own problem is named above
        budget = (1 - objective) if objective is not None else None
        for tier_name in TIERS:
            tier = a.tier(tier_name)
            where = f"alerting.{tier_name}"
            if not isinstance(tier, Tier):
                p.add(where, f"expected Tier(...), got {type(tier).__name__}")
                continue
            check_labels(tier.labels, f"{where}.labels", p)
            self._check_no_overlap(p, tier.labels, f"{where}.labels")
            if not p.check(isinstance(tier.enabled, bool), f"{where}.enabled", "True or False"):
                continue
            if tier.keep_firing_for != "":
                _check_duration(p, f"{where}.keep_firing_for", tier.keep_firing_for, MAX_KEEP_FIRING_FOR,
                                why="how long a recovered burn may keep its alert firing")
            if not tier.enabled:
                p.check(isinstance(tier.disabled_reason, str) and tier.disabled_reason.strip() != "",
                        f"{where}.disabled_reason", "a disabled tier needs a stated reason")
                if isinstance(tier.disabled_reason, str) and tier.disabled_reason.strip():
                    trouble = fields.text_problem(tier.disabled_reason, "reason", multiline=False, limit=500)
                    p.check(trouble is None, f"{where}.disabled_reason", str(trouble))
                if tier.waiver is not None:
                    _check_waiver(tier.waiver, f"{where}.waiver", p)
                continue
            trouble = fields.tuple_problem(tier.windows, "BurnWindow(...)")
            if trouble:
                p.add(f"{where}.windows", trouble)
                continue
            seen: dict[tuple[int, int], int] = {}
            for index, window in enumerate(tier.windows):
                key = self._validate_window(p, f"{where}.windows[{index}]", window, period, objective)
                if key is not None:
                    if key in seen:
                        p.add(f"{where}.windows[{index}]", f"the same long/short windows as windows[{seen[key]}]: "
                                                           "one pair per pair of windows (its tier label names them)")
                    seen.setdefault(key, index)
            if not tier.windows and budget is not None and period is not None:
                for pair in default_pairs(period, tier_name):
                    p.check(pair.factor * budget < 1, f"{where}",
                            f"the {pair.long_text}/{pair.short_text} pair fires above {pair.factor}x the "
                            f"{budget} budget, an error ratio over 100%: it could never fire. Give windows "
                            f"with lower factors, or disable the tier with a reason")
        self._check_pair_count(p, period)

    def _check_pair_count(self, p: Collector, period: int | None) -> None:
        counts = {}
        for tier_name in TIERS:
            tier = self.alerting.tier(tier_name)
            if isinstance(tier, Tier) and tier.enabled is True and isinstance(tier.windows, tuple):
                counts[tier_name] = len(tier.windows) or len(default_pairs(period or PERIODS["30d"], tier_name))
        total = sum(counts.values())
        custom = [t for t in counts if self.alerting.tier(t).windows]
        if total > MAX_PAIRS and custom:
            tier_name = max(custom, key=lambda t: counts[t])
            p.add(f"alerting.{tier_name}.windows",
                  f"{total} window pairs in all (page and ticket, the default tiers count 2 each); at most "
                  f"{MAX_PAIRS}: the SLO's dashboard shows each pair's burn rate in one row")

    def _check_no_overlap(self, p: Collector, labels: object, where: str) -> None:
        grouped = getattr(self.sli, "group_by", ())
        grouped = set(grouped) if isinstance(grouped, tuple) else set()
        if not isinstance(labels, tuple):
            return
        for item in labels:
            if isinstance(item, tuple) and len(item) == 2:
                p.check(item[0] not in grouped, where,
                        f"{item[0]!r} is a dimension of the SLI (group_by); a fixed label would overwrite it")

    def _validate_window(self, p: Collector, where: str, window: object, period: int | None,
                         objective: Decimal | None) -> tuple[int, int] | None:
        """Problems of one custom window; its (long, short) seconds when they are valid."""
        if not isinstance(window, BurnWindow):
            p.add(where, f"expected BurnWindow(long, short, factor), got {type(window).__name__}")
            return None
        seconds = {}
        for part in ("long", "short", "for_"):
            try:
                seconds[part] = parse_duration(getattr(window, part))
            except ValueError as error:
                p.add(f"{where}.{part}", str(error))
        key = None
        if "long" in seconds and "short" in seconds:
            ok = p.check(seconds["short"] < seconds["long"], f"{where}.short",
                         "the short window must be shorter than the long one")
            base = base_window(period) if period is not None else c.BASE_WINDOW_SECONDS
            ok &= p.check(seconds["short"] >= base, f"{where}.short",
                          f"windows shorter than the {format_duration(base)} staging base are not supported")
            if period is not None:
                ok &= p.check(seconds["long"] <= period, f"{where}.long",
                              f"{window.long} is longer than the SLO period {self.period}")
            ok &= p.check(seconds["long"] <= MAX_WINDOW, f"{where}.long",
                          f"{window.long} is longer than {format_duration(MAX_WINDOW)}, the longest window the "
                          "generated promtool tests can simulate (docs/definitions.md)")
            if "for_" in seconds:
                p.check(seconds["for_"] <= seconds["long"], f"{where}.for_",
                        f"{window.for_} is longer than the long window {window.long}: the condition would have "
                        "to hold longer than the window that measures it")
            key = (seconds["long"], seconds["short"]) if ok else None
        try:
            factor = exact(window.factor)
        except ValueError as error:
            p.add(f"{where}.factor", str(error))
            return key
        if not p.check(factor > 0, f"{where}.factor", "a burn factor must be above 0"):
            return key
        if not p.check(factor >= MIN_FACTOR, f"{where}.factor",
                       f"{str(factor)[:40]} must be at least {MIN_FACTOR}: below, a whole budget lasts "
                       f"over {int(1 / MIN_FACTOR):,} periods and the alert fires on any error at all"):
            return key
        if objective is not None:
            try:
                never = factor * (1 - objective) >= 1
            except ArithmeticError:   # a factor with an exponent past Decimal's range: far above 1 / budget
                never = True
            p.check(not never, f"{where}.factor",
                    f"{str(factor)[:40]} x the {1 - objective} error budget is 100% errors or more: the alert "
                    "could never fire")
        return key

    # --- derived ----------------------------------------------------------
    @property
    def target(self) -> Decimal:
        """The objective, as the exact Decimal the constructor made of it."""
        return exact(self.objective)

    @property
    def error_budget(self) -> Decimal:
        return Decimal(1) - self.target

    def label_pairs(self) -> tuple[tuple[str, str], ...]:
        """The labels as (name, value) pairs (they are, once constructed and valid)."""
        return self.labels if isinstance(self.labels, tuple) else ()

    @property
    def period_seconds(self) -> int:
        return period_seconds(self.period)

    @property
    def base_window_seconds(self) -> int:
        """The staging base: 5m, shorter only for a compressed (test) period."""
        return base_window(self.period_seconds)

    def pairs(self, tier: str) -> tuple[WindowPair, ...]:
        """The window pairs of one tier, as all_pairs gives them."""
        return tuple(p for p in self.all_pairs() if p.tier == tier)

    def _declared_pairs(self, tier: str) -> tuple[WindowPair, ...]:
        t = self.alerting.tier(tier)
        if not t.enabled:
            return ()
        keep = parse_duration(t.keep_firing_for) if t.keep_firing_for else 0
        if not t.windows:
            return tuple(replace(pair, keep_firing_for=keep) for pair in default_pairs(self.period_seconds, tier))
        return tuple(WindowPair(tier, parse_duration(w.long), parse_duration(w.short), exact(w.factor),
                                parse_duration(w.for_), keep) for w in t.windows)

    @property
    def query_offset_seconds(self) -> int:
        return parse_duration(self.alerting.query_offset) if self.alerting.query_offset else 0

    def all_pairs(self) -> tuple[WindowPair, ...]:
        """The page pairs, then the ticket pairs; long ticket windows marked where they read tiles."""
        return self._all_pairs

    @functools.cached_property
    def _all_pairs(self) -> tuple[WindowPair, ...]:   # every backend asks, many times per SLO
        pairs = self._declared_pairs(PAGE) + self._declared_pairs(TICKET)
        return tiled_pairs(pairs, self.period_seconds) if self.reads_tiles else pairs

    @property
    def reads_tiles(self) -> bool:
        """Whether the period and long ticket windows are summed from tiles (model/windows.py): for a
        kind whose windows are sums, over a period of 7d or longer (a compressed period reads whole)."""
        return self.period_seconds >= SHORTEST_PERIOD and self.sli.window_sums(self.name, "1m") is not None

    @property
    def no_data_severity(self) -> str:
        if self.alerting.no_data_severity:
            return self.alerting.no_data_severity
        return PAGE if self.alerting.page.enabled else TICKET

    def canonical(self) -> dict[str, Any]:
        """Everything that shapes the output, for the definitions hash."""
        a = self.alerting
        return {
            "name": self.name, "service": self.service, "owner": self.owner,
            "description": self.description, "objective": str(self.objective), "period": self.period,
            "runbook": self.runbook, "labels": dict(self.labels), "sli": self.sli.canonical(),
            "alerting": {
                "min_events": a.min_events, "no_data_for": a.no_data_for, "no_data_severity": self.no_data_severity,
                **{t: a.tier(t).canonical() for t in TIERS},
                # options newer than the hash format appear only when set: unchanged SLOs keep their hash
                **({"query_offset": a.query_offset} if a.query_offset else {}),
            },
        }
