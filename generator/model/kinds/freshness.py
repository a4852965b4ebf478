"""Freshness: the share of evaluation ticks each dataset was fresher than its maximum age.

Freshness records, per dataset, whether the dataset is stale at each evaluation tick, and takes the
share of stale ticks over a window: avg_over_time(stale).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from fractions import Fraction
from typing import Any, Callable, TYPE_CHECKING

from generator import conventions as c
from generator.promql import builder as b
from generator.model import fields
from generator.model.windows import recorded_range
from generator.model.durations import format_duration, parse_duration
from generator.grafana.panels import Panel, Query, timeseries
from generator.promql.selectors import Matcher, Selector, parse_selector
from generator.prometheus.simulate import TICK, RatioSeries, Semantics, tick_text as at
from generator.prometheus.testseries import always_fresh, decimal_text, freshness_series, stale_history
from generator.model.kinds.base import NoDataRun, Problems, Ratios, Run, SLIKind, parse_field
from generator.model.kinds.events import NUDGES

if TYPE_CHECKING:
    from generator.model.slo import SLO

MAX_DATASET_AGE = 35 * 86400  # a monthly cadence (31d) and some slack; generated tests run through one max age
MAX_TEST_DATASETS = 20  # promtool loads every series of every window: thousands would exhaust its sample limit


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


def dataset_problems(item: DatasetMaxAge) -> Problems:
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
class Freshness(SLIKind):
    """Share of evaluation ticks each dataset was fresher than its maximum age.

    Each dataset adds one constant rule (its maximum age); the staleness and
    window rules are shared by all datasets (``by (dataset)``), so a thousand
    datasets cost a thousand constants, not a thousand SLI pipelines.
    """

    datasets: tuple[DatasetMaxAge, ...]
    metric: str = c.DATASET_LAST_SUCCESS
    kind = "freshness"
    group_by: tuple[str, ...] = (c.DATASET,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", fields.ordered(self.datasets))
        object.__setattr__(self, "group_by", (c.DATASET,))

    def problems(self) -> Problems:
        found: Problems = []
        parse_field("sli.metric", self.metric, found)
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

    def base_rules(self, slo: str, base: int = c.BASE_WINDOW_SECONDS) -> list[dict[str, Any]]:
        rules = [
            {"record": c.FRESHNESS_MAX_AGE, "expr": str(b.call("vector", item.max_age_seconds)),
             "labels": {c.SLO_LABEL: slo, c.DATASET: item.dataset}}
            for item in sorted(self.datasets, key=lambda d: d.dataset)
        ]
        last_success = b.aggregate("max", self.selector(), [c.DATASET])
        age = b.paren(b.binary(b.call("time"), "-", last_success))
        stale = b.binary(age, ">", b.of_slo(c.FRESHNESS_MAX_AGE, slo), lines=True, modifier="bool " + b.on([c.DATASET]))
        rules.append({"record": c.DATASET_STALE, "expr": str(stale), "labels": {c.SLO_LABEL: slo}})
        return rules

    def window_ratio_expr(self, slo: str, window: int, base: int = c.BASE_WINDOW_SECONDS) -> str:
        return str(b.over_time("avg", b.of_slo(c.DATASET_STALE, slo), recorded_range(window, base)))

    def window_sums(self, slo: str, window: str) -> tuple[b.Expr, b.Expr]:
        """Stale ticks and all ticks: their ratio is the avg_over_time of the stale indicator."""
        return (b.over_time("sum", b.of_slo(c.DATASET_STALE, slo), window),
                b.over_time("count", b.of_slo(c.DATASET_STALE, slo), window))

    def no_data_expr(self, slo: str) -> str:
        return str(b.binary(b.of_slo(c.FRESHNESS_MAX_AGE, slo), "unless", self.selector(), lines=True,
                            modifier=b.on([c.DATASET])))

    def no_data_subject(self) -> str:
        return f"dataset {{{{ $labels.{c.DATASET} }}}} of "

    def source_selectors(self) -> list[Selector]:
        return [self.selector()]

    def canonical(self) -> dict[str, Any]:
        return {"kind": "freshness", "metric": self.metric,
                "datasets": [[d.dataset, d.max_age, d.cadence] for d in self.datasets]}

    def scenario_series(self, slo: "SLO") -> "FreshnessScenarioSeries":
        return FreshnessScenarioSeries(slo, self)

    def for_generated_tests(self) -> tuple["Freshness", list[str]] | None:
        """Over more than MAX_TEST_DATASETS datasets, a deterministic sample of them: the tightest one,
        which the scenarios make stale, and others evenly spread by name. Every rule but the
        per-dataset max-age constants is shared `by (dataset)`, so the sample runs the same rules."""
        if len(self.datasets) <= MAX_TEST_DATASETS:
            return None
        victim = min(self.datasets, key=lambda d: (d.max_age_seconds, d.dataset))
        others = sorted((d for d in self.datasets if d is not victim), key=lambda d: d.dataset)
        step = Fraction(len(others) - 1, MAX_TEST_DATASETS - 2)
        picked = {others[int(step * i)].dataset for i in range(MAX_TEST_DATASETS - 1)}
        sample = tuple(d for d in self.datasets if d is victim or d.dataset in picked)
        return replace(self, datasets=sample), [
            f"over {len(sample)} of its {len(self.datasets)} datasets, for its generated tests:",
            "every rule is the same except the per-dataset max-age constants of the others."]

    def signal_panel(self, slo_selector: str, legend: Callable[[str], str]) -> "Panel":
        return timeseries("Stale datasets", "Datasets older than their maximum age (1 = stale).",
                          [Query(f"sum({c.DATASET_STALE}{slo_selector})", "stale datasets")], "none")

    def runbook_queries(self) -> list[str]:
        return [str(b.aggregate("max", b.binary(b.call("time"), "-", selector), self.group_by, spaced=True))
                for selector in self.source_selectors()]


class FreshnessScenarioSeries:
    """Generated test series of a freshness SLO: every dataset's last-success timestamp, all refreshed
    every minute except one victim, the dataset with the tightest maximum age, whose timestamps each
    scenario sets."""

    def __init__(self, slo: "SLO", sli: Freshness):
        self.slo = slo
        self.sli = sli
        self.budget = Fraction(str(slo.error_budget))
        datasets = sorted(sli.datasets, key=lambda d: (d.max_age_seconds, d.dataset))
        self.victim = datasets[0]
        self.max_age_ticks = self.victim.max_age_seconds // TICK
        self.labels = {c.DATASET: self.victim.dataset}

    def _fresh(self, ticks: int, victim: list[int] | None,
               drop_victim: bool = False) -> tuple[Callable[[int], list[dict[str, Any]]], Ratios | None]:
        datasets = [d.dataset for d in self.sli.datasets]
        victim_values = victim if victim is not None else always_fresh(ticks)
        ratio: Ratios | None
        if drop_victim:
            datasets.remove(self.victim.dataset)
            ratio = None
        else:
            history = stale_history(victim_values, self.victim.max_age_seconds)
            ratio = {semantics: RatioSeries(history, semantics, trimmed=True) for semantics in Semantics.ALL}
        metric = self.sli.selector()

        def upto(end: int) -> list[dict[str, Any]]:
            return freshness_series(metric, datasets, end, self.victim.dataset, victim_values)
        return upto, ratio

    def _refreshed_max_age_before(self, tick: int) -> int:
        """A last-success timestamp exactly the victim's max age before `tick`: fresh until then, stale
        after. The scenarios' length then does not grow with the max age (promtool's test engine
        refuses a query over 10,000 samples of one series, and a weekly dataset's would hold that many)."""
        return TICK * tick - self.victim.max_age_seconds

    def healthy(self, ticks: int, share: Fraction) -> Run:
        series, ratios = self._fresh(ticks, None)
        return Run(["every dataset refreshed every minute: no alert of this SLO, not even pending"], series, ratios)

    def zero_traffic(self, ticks: int) -> Run | None:
        return None

    def outage(self, start: int, horizon: int) -> Run:
        series, ratios = self._fresh(horizon, [self._refreshed_max_age_before(start)] * (horizon + 1))
        return Run([f"{self.victim.dataset} (max age {self.victim.max_age}) turns stale at {at(start)}: its last "
                    f"success was {self.victim.max_age} before; the other datasets stay fresh"], series, ratios)

    def outage_checks(self, slo: "SLO", end: int) -> list[dict[str, Any]]:
        others = Selector("ALERTS", (Matcher(c.SLO_LABEL, "=", slo.name),
                                     Matcher(c.DATASET, "!=", self.victim.dataset)))
        return [{"expr": others.render(), "eval_time": at(end), "exp_samples": []}]

    def partial(self, start: int, horizon: int, error: Fraction) -> Run | None:
        return None   # a dataset is stale or not: no partial failure

    def all_bad(self, ticks: int) -> Run:
        stale = [TICK * k - TICK * (self.max_age_ticks + 1) for k in range(ticks + 1)]
        series, ratios = self._fresh(ticks, stale)
        return Run([f"{self.victim.dataset} is older than its max age from the first sample: "
                    "each tier fires with its exact labels and annotations"], series, ratios)

    def slow_burn(self, start: int, horizon: int, factor: Fraction, ties: Callable[[Ratios], bool]) -> Run:
        # One minute in `every` the victim reads older than its max age (a lagging replica), so
        # the burn is steady and no stale block is long enough to page, whatever the max age.
        late = TICK + self.victim.max_age_seconds
        for extra in range(len(NUDGES)):  # a little rarer, where a window's share sits on a threshold
            every = math.ceil(1 / (factor * self.budget)) + extra
            victim = [TICK * k - (late if k > start and (k - start) % every == 0 else 0)
                      for k in range(horizon + 1)]
            series, ratios = self._fresh(horizon, victim)
            if ratios is None or not ties(ratios):
                break
        share = Fraction(1, every)
        # One stale minute can already exceed the page threshold over the page windows (a tight
        # objective): no steady slow burn exists at one-minute ticks then.
        return Run([f"{self.victim.dataset} fresh for {at(start)}, then one minute in {every} older than its max age "
                    f"(stale {decimal_text(share * 100)}% of the time, {decimal_text(share / self.budget)}x the budget): "
                    "tickets as predicted, never a page"], series, ratios, may_page=True)

    def no_data(self, ticks: int) -> NoDataRun:
        series, _ = self._fresh(ticks, None, drop_victim=True)
        return NoDataRun([f"{self.victim.dataset} has no last-success series; the others are fresh: "
                          "the no-data alert fires for it alone"], series, {c.DATASET: self.victim.dataset})

    def recovery(self, start: int, back: int, horizon: int) -> Run:
        old = self._refreshed_max_age_before(start)
        victim = [old if k < back else TICK * k for k in range(horizon + 1)]
        series, ratios = self._fresh(horizon, victim)
        return Run([f"{self.victim.dataset} stale from {at(start)} (it last succeeded its max age before) to "
                    f"{at(back)}, then refreshed again"], series, ratios)
