"""SLI kinds: what counts as an error, and how it becomes staged recordings.

Every kind reduces to two things the rest of the compiler shares:
- base recordings over the 5m staging window (the only rules that read raw
  series), and
- an error-ratio expression for any longer window, built on those base
  recordings only.

Event kinds (events ratio, latency, policy-decision health) record bad and
total event rates and take a traffic-weighted ratio over a window:
sum_over_time(bad) / sum_over_time(total). Freshness records, per dataset,
whether the dataset is stale at each evaluation tick and takes the share of
stale ticks: avg_over_time(stale).
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from . import conventions as c
from . import fields
from .durations import format_duration, parse_duration
from .promql import Selector, SelectorError, is_valid_label_name, parse_selector


# Below any summed rate of real traffic: one event in a 5m window is already a rate of 1/300.
ZERO_TRAFFIC_FLOOR = "1e-9"


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)}) " if labels else ""


def _slo_matcher(slo: str) -> str:
    return c.slo_matcher(slo)


def _parse(field_name: str, text: object, problems: list[tuple[str, str]]) -> Selector | None:
    try:
        return parse_selector(text)  # type: ignore[arg-type]
    except SelectorError as error:
        problems.append((field_name, str(error)))
        return None


def _check_group_by(group_by: object, problems: list[tuple[str, str]]) -> None:
    trouble = fields.tuple_problem(group_by, "label names")
    if trouble:
        problems.append(("sli.group_by", trouble))
        return
    assert isinstance(group_by, tuple)
    if len(set(group_by)) != len(group_by):
        problems.append(("sli.group_by", "a label is given twice"))
    for label in group_by:
        if not is_valid_label_name(label):
            problems.append(("sli.group_by", f"{label!r} is not a valid label name"))
        elif label in c.RESERVED_LABELS:
            problems.append(("sli.group_by", f"{label!r} is set by the generator; group by another label"))
        elif label in c.CORRELATION_IDS:
            problems.append(("sli.group_by", f"{label!r} is a correlation ID: unbounded, never a metric dimension"))


@dataclass(frozen=True)
class EventSources:
    """Selectors of one event SLI after parsing: what the rules read."""

    total: Selector
    bad: Selector | None
    good: Selector | None


class EventSLI:
    """Shared rule shapes of the event kinds."""

    group_by: tuple[str, ...]
    kind = "events"
    uses_events = True
    # A good-events counter that does not exist yet means no good event. Not
    # for histograms: a missing bucket is a misconfiguration (no-data), not
    # 100% slow requests.
    missing_good_is_bad = True

    def sources(self) -> EventSources:  # pragma: no cover - abstract
        raise NotImplementedError

    def example_labels(self) -> dict[str, dict[str, str]]:
        return {}

    def _sum_rate(self, selector: Selector, base: int = c.BASE_WINDOW_SECONDS) -> str:
        return f"sum{_by(self.group_by)}(rate({selector.render()}[{format_duration(base)}]))"

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict]:
        """`base`: the staging window (5m; shorter only for a compressed test period)."""
        src = self.sources()
        total = self._sum_rate(src.total, base)
        if src.bad is not None:
            # A bad-events counter that never incremented may not exist yet:
            # read it as zero wherever there is traffic.
            bad = f"{self._sum_rate(src.bad, base)}\nor\n0 * {total}"
        else:
            assert src.good is not None
            good = f"{self._sum_rate(src.good, base)}"
            if self.missing_good_is_bad:
                good = f"({good}\nor\n0 * {total})"
            bad = f"clamp_min(\n  {total}\n  -\n  {good.replace(chr(10), chr(10) + '  ')},\n  0\n)"
        labels = {c.SLO_LABEL: slo}
        return [
            {"record": c.BAD_EVENTS_RATE, "expr": bad, "labels": labels},
            {"record": c.TOTAL_EVENTS_RATE, "expr": total, "labels": labels},
        ]

    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        sel = _slo_matcher(slo)
        if window == base:
            bad, total = f"{c.BAD_EVENTS_RATE}{sel}", f"{c.TOTAL_EVENTS_RATE}{sel}"
        else:
            w = format_duration(window)
            bad = f"sum_over_time({c.BAD_EVENTS_RATE}{sel}[{w}])"
            total = f"sum_over_time({c.TOTAL_EVENTS_RATE}{sel}[{w}])"
        # Zero traffic is a ratio of 0 (nothing failed), never NaN: there bad is 0 too, and any
        # traffic puts total far above the floor. Reads the window twice, where
        # `bad / (total > 0) or 0 * total` read total twice (bench/eval_cost.py).
        return f"{bad}\n/\nclamp_min({total}, {ZERO_TRAFFIC_FLOOR})"

    def events_in_window_expr(self, slo: str, window: int) -> str:
        w = format_duration(window)
        return f"avg_over_time({c.TOTAL_EVENTS_RATE}{_slo_matcher(slo)}[{w}]) * {window}"

    def no_data_expr(self, slo: str) -> str:
        return f"absent({self.sources().total.render()})"

    def source_selectors(self) -> list[Selector]:
        src = self.sources()
        return [s for s in (src.total, src.bad, src.good) if s is not None]


@dataclass(frozen=True)
class EventsRatio(EventSLI):
    """Bad (or good) events over total events, both counters.

    ``examples`` gives label values of one bad and one good series, as
    ``{"bad": {...}, "good": {...}}``, for generated tests when the selectors
    use regular expressions the generator cannot invert; otherwise they are
    derived from the matchers.
    """

    total: str
    bad: str | None = None
    good: str | None = None
    group_by: tuple[str, ...] = ()
    examples: tuple | dict = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_by", fields.ordered(self.group_by))
        if isinstance(self.examples, dict):
            try:
                frozen = tuple(sorted(
                    (side, tuple(sorted(labels.items())) if isinstance(labels, dict) else labels)
                    for side, labels in self.examples.items()))
            except TypeError:
                frozen = tuple((side, labels) for side, labels in self.examples.items())
            object.__setattr__(self, "examples", frozen)

    def example_labels(self) -> dict[str, dict[str, str]]:
        return {side: dict(labels) for side, labels in self.examples}

    def sources(self) -> EventSources:
        return EventSources(
            total=parse_selector(self.total),
            bad=parse_selector(self.bad) if self.bad is not None else None,
            good=parse_selector(self.good) if self.good is not None else None,
        )

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        total = _parse("sli.total", self.total, found)
        if (self.bad is None) == (self.good is None):
            found.append(("sli.bad", "give exactly one of bad= or good= (events counted against total)"))
        chosen_field = "sli.bad" if self.bad is not None else "sli.good"
        chosen = self.bad if self.bad is not None else self.good
        part = _parse(chosen_field, chosen, found) if chosen is not None else None
        if total is not None and part is not None and part.metric == total.metric:
            missing = [m.render() for m in total.matchers if m not in part.matchers]
            if missing:
                found.append((chosen_field, f"must keep every matcher of total ({', '.join(missing)}), "
                                            "or it counts events that total does not"))
        shape_ok = isinstance(self.examples, tuple) and all(
            isinstance(item, tuple) and len(item) == 2 and item[0] in ("bad", "good") and isinstance(item[1], tuple)
            and all(isinstance(pair, tuple) and len(pair) == 2 for pair in item[1]) for item in self.examples)
        if not shape_ok:
            found.append(("sli.examples", "give examples as {'bad': {label: value}, 'good': {label: value}}"))
        else:
            for side, labels in self.examples:
                for name, value in labels:
                    if not is_valid_label_name(name):
                        found.append(("sli.examples", f"{side}: {name!r} is not a valid label name"))
                    trouble = fields.label_value_problem(value)
                    if trouble:
                        found.append(("sli.examples", f"{side}: label {name!r}: {trouble}"))
        _check_group_by(self.group_by, found)
        return found

    def canonical(self) -> dict:
        return {"kind": "events_ratio", "total": self.total, "bad": self.bad, "good": self.good,
                "group_by": list(self.group_by), "examples": self.example_labels()}


MAX_LATENCY_THRESHOLD = 86400.0  # seconds: a day; a larger "latency" is a unit mistake


@dataclass(frozen=True)
class Latency(EventSLI):
    """Share of requests slower than a threshold, from a histogram.

    ``histogram`` is the histogram's base name with optional matchers
    (``http_server_request_duration_seconds{http_route="/v1/query"}``).

    A classic histogram (``_bucket``/``_count`` series) needs the threshold to be one of its
    bucket boundaries. With ``native=True`` the histogram is a native one (Prometheus 3: one
    series with exponential buckets): the rules use ``histogram_fraction`` and
    ``histogram_count``, and any threshold works (inside a bucket, Prometheus interpolates).
    A native histogram's generated tests need promtool 3.x.
    """

    histogram: str
    threshold_seconds: float
    group_by: tuple[str, ...] = ()
    native: bool = False
    kind = "latency"
    missing_good_is_bad = False

    def no_data_expr(self, slo: str) -> str:
        src = self.sources()
        if self.native:
            return f"absent({src.total.render()})"
        assert src.good is not None
        return f"absent({src.total.render()})\nor on ()\nabsent({src.good.render()})"

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_by", fields.ordered(self.group_by))

    def sources(self) -> EventSources:
        hist = parse_selector(self.histogram)
        if self.native:
            return EventSources(total=hist, bad=None, good=hist)
        op, value = c.le_matcher_value(self.threshold_seconds)
        return EventSources(
            total=hist.with_metric(hist.metric + "_count"),
            bad=None,
            good=hist.with_metric(hist.metric + "_bucket").with_matcher("le", op, value),
        )

    def source_selectors(self) -> list[Selector]:
        return [self.sources().total] if self.native else super().source_selectors()

    def threshold_text(self) -> str:
        """The threshold as PromQL reads it (the shortest form: 0.3, 2, 1e-05)."""
        return c.go_float(self.threshold_seconds)

    def histogram_rate(self, base: int = c.BASE_WINDOW_SECONDS) -> str:
        """The native histogram's summed rate over the staging window."""
        return self._sum_rate(self.sources().total, base)

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict]:
        if not self.native:
            return super().base_rules(slo, base)
        rate = self.histogram_rate(base)
        total = f"histogram_count({rate})"
        # The share above the threshold, times the count; with no traffic the share is NaN
        # (0/0), so the rate is 0 there instead.
        bad = (f"histogram_fraction({self.threshold_text()}, +Inf, {rate})\n"
               f"* ({total} > 0)\nor\n0 * {total}")
        labels = {c.SLO_LABEL: slo}
        return [
            {"record": c.BAD_EVENTS_RATE, "expr": bad, "labels": labels},
            {"record": c.TOTAL_EVENTS_RATE, "expr": total, "labels": labels},
        ]

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not isinstance(self.native, bool):
            found.append(("sli.native", f"expected True or False, got {self.native!r}"))
            return found
        hist = _parse("sli.histogram", self.histogram, found)
        if hist is not None and self.native:
            self._native_problems(hist, found)
        elif hist is not None:
            # A histogram outside KFM's contract is checked against its Metric(...) declaration when the
            # catalog loads (generator/catalog.py), where the declarations are known.
            buckets = c.HISTOGRAM_BUCKETS.get(hist.metric)
            native_twin = " (or give native=True: its native histogram takes any threshold)" \
                if hist.metric in c.NATIVE_HISTOGRAMS else ""
            if buckets is None:
                pass
            elif not fields.is_number(self.threshold_seconds):
                found.append(("sli.threshold_seconds", f"expected seconds as a number, got {self.threshold_seconds!r}"))
            elif float(self.threshold_seconds) not in buckets:
                found.append(("sli.threshold_seconds", f"{self.threshold_seconds!r} is not a bucket boundary of "
                              f"{hist.metric} ({', '.join(map(repr, buckets))}){native_twin}"))
        if hist is not None and any(m.label == "le" for m in hist.matchers):
            found.append(("sli.histogram", "do not match on 'le'; give threshold_seconds instead"))
        _check_group_by(self.group_by, found)
        return found

    def _native_problems(self, hist: Selector, found: list[tuple[str, str]]) -> None:
        if hist.metric.endswith(c.HISTOGRAM_SUFFIXES):
            found.append(("sli.histogram", f"{hist.metric!r}: a native histogram is one series; give its name "
                                           "without _bucket, _count or _sum"))
        if not fields.is_number(self.threshold_seconds):
            found.append(("sli.threshold_seconds", f"expected seconds as a number, got {self.threshold_seconds!r}"))
        elif not 0 < float(self.threshold_seconds) <= MAX_LATENCY_THRESHOLD:
            found.append(("sli.threshold_seconds", f"{self.threshold_seconds!r}: give a threshold above 0 and at "
                                                   f"most {MAX_LATENCY_THRESHOLD:g} seconds"))

    def canonical(self) -> dict:
        found = {"kind": "latency", "histogram": self.histogram,
                 "threshold_seconds": self.threshold_seconds, "group_by": list(self.group_by)}
        if self.native:
            found["native"] = True   # only when set: classic SLOs keep their definitions hash
        return found


@dataclass(frozen=True)
class PolicyDecisionHealth(EventSLI):
    """Share of policy decisions that evaluated (allow or deny) rather than errored.

    A decision that errors is a deny (default deny), so it is safe but it is
    still the policy engine failing; this SLI measures that.
    """

    route: str | None = None
    group_by: tuple[str, ...] = ()
    kind = "policy_decision_health"

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_by", fields.ordered(self.group_by))

    def sources(self) -> EventSources:
        total = Selector(c.POLICY_DECISIONS)
        if self.route is not None:
            total = total.with_matcher(c.ROUTE, "=", self.route)
        return EventSources(total=total, bad=total.with_matcher(c.DECISION, "=", "error"), good=None)

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.route is not None:
            trouble = fields.label_value_problem(self.route)
            if trouble:
                found.append(("sli.route", f"give a route or leave it out: {trouble}"))
        _check_group_by(self.group_by, found)
        return found

    def canonical(self) -> dict:
        return {"kind": "policy_decision_health", "route": self.route, "group_by": list(self.group_by)}


MAX_DATASET_AGE = 35 * 86400  # a monthly cadence (31d) and some slack; generated tests run through one max age


@dataclass(frozen=True)
class DatasetMaxAge:
    """One dataset of a freshness SLO and how old its last success may get."""

    dataset: str
    max_age: str
    cadence: str = ""
    origin: str = dataclass_field(default="", compare=False)  # "slo/datasets.csv line 4", for messages

    @property
    def max_age_seconds(self) -> int:
        return parse_duration(self.max_age)


def dataset_problems(item: DatasetMaxAge) -> list[tuple[str, str]]:
    """(column, message) for one dataset: its name is a label value, its max age a bounded duration."""
    found = []
    trouble = fields.label_value_problem(item.dataset)
    if trouble:
        found.append(("dataset", "give the dataset's name" if "empty value" in trouble else trouble))
    elif item.dataset != item.dataset.strip():
        found.append(("dataset", f"{item.dataset!r} has spaces around it"))
    try:
        seconds = item.max_age_seconds
        if seconds > MAX_DATASET_AGE:
            found.append(("max_age", f"{item.max_age} is longer than {format_duration(MAX_DATASET_AGE)}, the "
                                     "longest maximum age (docs/definitions.md)"))
    except ValueError as error:
        found.append(("max_age", str(error)))
    if not isinstance(item.cadence, str):
        found.append(("cadence", f"expected text, got {type(item.cadence).__name__}"))
    return found


@dataclass(frozen=True)
class Freshness:
    """Share of evaluation ticks each dataset was fresher than its maximum age.

    Each dataset adds one constant rule (its maximum age); the staleness and
    window rules are shared by all datasets (``by (dataset)``), so a thousand
    datasets cost a thousand constants, not a thousand SLI pipelines.
    """

    datasets: tuple[DatasetMaxAge, ...]
    metric: str = c.DATASET_LAST_SUCCESS
    kind = "freshness"
    uses_events = False
    group_by: tuple[str, ...] = (c.DATASET,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", fields.ordered(self.datasets))
        object.__setattr__(self, "group_by", (c.DATASET,))

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        _parse("sli.metric", self.metric, found)
        trouble = fields.tuple_problem(self.datasets, "DatasetMaxAge(...)")
        if trouble:
            return found + [("sli.datasets", trouble)]
        if not self.datasets:
            found.append(("sli.datasets", "a freshness SLO needs at least one dataset"))
        seen: dict[str, DatasetMaxAge] = {}
        for index, item in enumerate(self.datasets):
            where = f"sli.datasets[{index}]"
            if not isinstance(item, DatasetMaxAge):
                found.append((where, f"expected DatasetMaxAge, got {type(item).__name__}"))
                continue
            named = f"{where} ({item.origin})" if item.origin else where
            for column, message in dataset_problems(item):
                found.append((f"{named}.{column}", f"dataset {item.dataset!r}: {message}"[:300]))
            if isinstance(item.dataset, str):
                if item.dataset in seen:
                    first = seen[item.dataset]
                    also = f" (also {first.origin})" if first.origin else ""
                    found.append((f"{named}.dataset", f"{item.dataset!r} is listed twice{also}"))
                seen.setdefault(item.dataset, item)
        return found

    def selector(self) -> Selector:
        return parse_selector(self.metric)

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict]:
        rules = [
            {"record": c.FRESHNESS_MAX_AGE, "expr": f"vector({item.max_age_seconds})",
             "labels": {c.SLO_LABEL: slo, c.DATASET: item.dataset}}
            for item in sorted(self.datasets, key=lambda d: d.dataset)
        ]
        last_success = f"max by ({c.DATASET}) ({self.selector().render()})"
        stale = (f"(time() - {last_success})\n> bool on ({c.DATASET})\n"
                 f"{c.FRESHNESS_MAX_AGE}{_slo_matcher(slo)}")
        rules.append({"record": c.DATASET_STALE, "expr": stale, "labels": {c.SLO_LABEL: slo}})
        return rules

    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        return f"avg_over_time({c.DATASET_STALE}{_slo_matcher(slo)}[{format_duration(window)}])"

    def no_data_expr(self, slo: str) -> str:
        return (f"{c.FRESHNESS_MAX_AGE}{_slo_matcher(slo)}\n"
                f"unless on ({c.DATASET})\n{self.selector().render()}")

    def source_selectors(self) -> list[Selector]:
        return [self.selector()]

    def canonical(self) -> dict:
        return {"kind": "freshness", "metric": self.metric,
                "datasets": [[d.dataset, d.max_age, d.cadence] for d in self.datasets]}


SLI = EventsRatio | Latency | PolicyDecisionHealth | Freshness
SLI_KINDS = (EventsRatio, Latency, PolicyDecisionHealth, Freshness)
