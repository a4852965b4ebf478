"""Generate promtool unit tests for every SLO from its definition.

Scenarios per SLO (each one promtool test group, one-minute ticks):
- healthy:   errors at half the budget -> no alert of the SLO at all;
- zero traffic (event SLIs): counters present but flat -> ratios 0, budget
  remaining 1, no alert (never NaN);
- outage:    total outage after an hour -> each pair fires at the tick the
  window math predicts (simulate.py), within one evaluation interval;
- fast burn (event SLIs): errors at twice the first pair's threshold -> the
  same, at times that move with any change of factor or window;
- annotations: outage from the first sample -> every pair of each tier fires
  with exact labels and annotations (the live value is then exactly 100%);
- slow burn: errors at about 2x the budget -> the tickets the math predicts,
  never a page;
- no data:   the SLI's source series absent -> the no-data alert;
- recovery:  outage, then healthy -> each alert resolves when predicted.

Timing checks query the ALERTS series (promql_expr_test), so they do not
depend on the live value rendered into annotations.
"""
from __future__ import annotations

import dataclasses
import functools
import math

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from . import conventions as c
from . import gotemplate
from .durations import format_duration, parse_duration
from .promql import Matcher, Selector, labels_text
from .rules import burn_alert, no_data_alert
from .simulate import TICK, TIE, RatioSeries, Semantics, event_history, firing_ticks
from .testseries import (always_fresh, decimal_text, event_input_series, event_shape, freshness_series,
                         series_name, stale_history)
from .sli import Freshness
from .slo import SLO
from .windows import PAGE, TICKET, TIERS, WindowPair

# Where a scenario's steady ratio would sit exactly on some pair's threshold (3% errors against a 3x
# ticket on a 1% budget), Prometheus' float64 may fire minutes from the prediction: try these.
NUDGES = (Fraction(1), Fraction(101, 100), Fraction(99, 100), Fraction(103, 100), Fraction(97, 100))
PER_TICK = Fraction(60)  # events a minute in generated traffic
TOLERANCE = 1            # ticks either side of a predicted transition


# --- checks -----------------------------------------------------------------

def _at(tick: int) -> str:
    return format_duration(tick * TICK) if tick > 0 else "0s"


def _alerts_selector(matchers: dict[str, str]) -> str:
    return "ALERTS" + labels_text(matchers)


def _expect_none(tick: int, matchers: dict[str, str]) -> dict:
    return {"expr": _alerts_selector(matchers), "eval_time": _at(tick), "exp_samples": []}


def _expanded_labels(alert: dict, extra: dict[str, str]) -> dict[str, str]:
    """The alert's labels as Prometheus expands them (label values are templates too)."""
    return {**{k: gotemplate.expand(v, {}, "") for k, v in alert["labels"].items()}, **extra}


def _expect_firing(tick: int, alert: dict, extra: dict[str, str]) -> dict:
    labels = {**_expanded_labels(alert, extra), "alertname": alert["alert"], "alertstate": "firing"}
    return {"expr": _alerts_selector({"alertname": alert["alert"], c.TIER_LABEL: alert["labels"][c.TIER_LABEL],
                                      "alertstate": "firing"}),
            "eval_time": _at(tick), "exp_samples": [{"labels": _alerts_selector(labels), "value": 1}]}


def _render_annotations(annotations: dict[str, str], labels: dict[str, str], value: str) -> dict[str, str]:
    return {key: gotemplate.expand(text, labels, value) for key, text in annotations.items()}


@dataclass
class Scenario:
    name: str
    explanation: list[str]
    ticks: int
    input_series: list[dict]
    expr_tests: list[dict]
    alert_tests: list[dict]

    def as_test(self) -> dict:
        test: dict = {"interval": _at(1), "input_series": self.input_series}
        if self.alert_tests:
            test["alert_rule_test"] = self.alert_tests
        if self.expr_tests:
            test["promql_expr_test"] = self.expr_tests
        return test


States = dict[str, list[bool]]  # Semantics -> firing at each tick
Ratios = dict[str, RatioSeries]  # Semantics -> the SLI's ratios as that version reads them


def _changes(states: list[bool], start: int) -> list[tuple[int, bool]]:
    """(tick, new state) of each transition at or after `start`."""
    found, previous = [], states[start - 1] if start > 0 else False
    for k in range(start, len(states)):
        if states[k] != previous:
            previous = states[k]
            found.append((k, previous))
    return found


def _transition_checks(slo: SLO, pair: WindowPair, runs: States, extra: dict[str, str],
                       start: int, why: list[str], label: str) -> list[dict]:
    """Assert each firing start and stop after `start` within one evaluation interval, on both
    Prometheus 2.x and 3.x: before the earlier predicted tick and after the later one."""
    alert = burn_alert(slo, pair)
    name = alert["labels"][c.TIER_LABEL]
    tier = {"alertname": alert["alert"], c.TIER_LABEL: name, "alertstate": "firing"}
    closed, left_open = runs[Semantics.CLOSED], runs[Semantics.LEFT_OPEN]
    length = min(len(closed), len(left_open))
    changes = [_changes(closed, start), _changes(left_open, start)]
    if [s for _, s in changes[0]] != [s for _, s in changes[1]]:
        at = {sem: ", ".join(f"{'on' if s else 'off'} {_at(k)}" for k, s in ch) or "never"
              for sem, ch in zip(Semantics.ALL, changes)}
        why.append(f"{label}: {name} changes differently on 2.x ({at[Semantics.CLOSED]}) and 3.x "
                   f"({at[Semantics.LEFT_OPEN]}) (predicted): only its final state is asserted")
        if closed[length - 1] == left_open[length - 1]:
            checks = [(_expect_firing(length - 1, alert, extra) if closed[length - 1]
                       else _expect_none(length - 1, tier))]
            return checks
        return []
    checks = []

    def agreed(k: int, state: bool) -> bool:
        return 0 <= k < length and closed[k] == state and left_open[k] == state

    for (k2, state), (k3, _) in zip(*changes):
        verb = "starts firing" if state else "stops firing"
        when = _at(k2) if k2 == k3 else f"{_at(k2)} on 2.x, {_at(k3)} on 3.x"
        why.append(f"{label}: {name} {verb} at {when} (predicted)")
        before, after = min(k2, k3) - 1 - TOLERANCE, max(k2, k3) + TOLERANCE
        if agreed(before, not state):
            checks.append(_expect_firing(before, alert, extra) if not state else _expect_none(before, tier))
        if agreed(after, state):
            checks.append(_expect_firing(after, alert, extra) if state else _expect_none(after, tier))
    if not changes[0] and not any(closed[start:length]) and not any(left_open[start:length]):
        why.append(f"{label}: {name} never fires (predicted)")
        checks.append(_expect_none(length - 1, tier))
    return checks


# --- scenarios ----------------------------------------------------------------

class _Scenarios:
    def __init__(self, slo: SLO):
        self.slo = slo
        self.budget = Fraction(str(slo.error_budget))
        self.pairs = slo.all_pairs()
        self.freshness = slo.sli.kind == "freshness"  # type: ignore[attr-defined]
        self.longest = max((p.long for p in self.pairs), default=3600) // TICK
        self.slowest_for = max((p.for_ for p in self.pairs), default=0) // TICK
        self.no_data_for = parse_duration(slo.alerting.no_data_for) // TICK
        if self.freshness:
            datasets = sorted(slo.sli.datasets, key=lambda d: (d.max_age_seconds, d.dataset))  # type: ignore[attr-defined]
            self.victim = datasets[0]
            self.max_age_ticks = self.victim.max_age_seconds // TICK
            self.extra = {c.DATASET: self.victim.dataset}
        else:
            self.shape = event_shape(slo)
            self.extra = dict(self.shape.group_labels)
        # Enough traffic that every long window holds twice the minimum-events guard, or no alert
        # could fire and the scenarios would prove nothing.
        shortest_long = min((p.long for p in self.pairs), default=3600) // TICK
        self.per_tick = max(PER_TICK, Fraction(math.ceil(Fraction(2 * slo.alerting.min_events, shortest_long))))

    # series builders ------------------------------------------------------
    def _events(self, ticks: int, error: Callable[[int], Fraction],
                per_tick: Fraction | None = None) -> tuple[Callable[[int], list[dict]], Ratios]:
        history = event_history(ticks, self.per_tick if per_tick is None else per_tick, error)
        shape = self.shape
        # How the base rules combine the series written (each extrapolates on its own in 3.x).
        classic = shape.latency_le is None and shape.native_buckets is None
        total_is_sum = classic and shape.part_metric == shape.total_metric
        bad_is_direct = shape.part_is_bad and classic
        one_histogram = shape.native_buckets is not None

        def upto(end: int) -> list[dict]:
            return event_input_series(shape, history.upto(end))
        return upto, {Semantics.CLOSED: RatioSeries(history, one_histogram=one_histogram),
                      Semantics.LEFT_OPEN: RatioSeries(history, Semantics.LEFT_OPEN, total_is_sum, bad_is_direct,
                                                       one_histogram)}

    def _fresh(self, ticks: int, victim: list[int] | None,
               drop_victim: bool = False) -> tuple[Callable[[int], list[dict]], Ratios | None]:
        datasets = [d.dataset for d in self.slo.sli.datasets]  # type: ignore[attr-defined]
        victim_values = victim if victim is not None else always_fresh(ticks)
        if drop_victim:
            datasets.remove(self.victim.dataset)
            ratio = None
        else:
            history = stale_history(victim_values, self.victim.max_age_seconds)
            ratio = {semantics: RatioSeries(history, semantics) for semantics in Semantics.ALL}

        def upto(end: int) -> list[dict]:
            return freshness_series(self.slo, datasets, end, self.victim.dataset, victim_values)
        return upto, ratio

    def _refreshed_max_age_before(self, tick: int) -> int:
        """A last-success timestamp exactly the victim's max age before `tick`: fresh until then, stale
        after. The scenarios' length then does not grow with the max age (promtool's test engine
        refuses a query over 10,000 samples of one series, and a weekly dataset's would hold that many)."""
        return TICK * tick - self.victim.max_age_seconds

    def _states(self, ratios: Ratios) -> dict[WindowPair, States]:
        min_events = self.slo.alerting.min_events if not self.freshness else 0
        return {p: {sem: firing_ticks(series, p, self.budget, min_events) for sem, series in ratios.items()}
                for p in self.pairs}

    def _ties(self, ratios: Ratios) -> bool:
        return any(self._tie(series) for series in ratios.values())

    def _tie(self, series: RatioSeries) -> bool:
        """Whether some window's ratio sits on a threshold long enough that float64 could fire it
        (or not) more than the tolerance apart from the prediction: the scenario then picks another
        rate. A ratio that only passes through a threshold moves a transition by one tick at most."""
        min_events = self.slo.alerting.min_events if not self.freshness else 0
        for pair in self.pairs:
            low = firing_ticks(series, pair, self.budget, min_events, -TIE)
            high = firing_ticks(series, pair, self.budget, min_events, TIE)
            run = 0
            for a, b in zip(low, high):
                run = run + 1 if a != b else 0
                if run > TOLERANCE:
                    return True
        return False

    def _slo_quiet(self, tick: int, **extra: str) -> dict:
        return _expect_none(tick, {c.SLO_LABEL: self.slo.name, **extra})

    # scenarios ------------------------------------------------------------
    def healthy(self) -> Scenario:
        ticks = self.slowest_for + 60
        # Half the budget, or half the lowest threshold where a pair burns below 1x (a 0.5x ticket
        # would sit exactly on half the budget; found by the fuzzer).
        lowest = min((Fraction(p.factor) for p in self.pairs), default=Fraction(1))
        share = min(Fraction(1, 2), lowest / 2)
        why = ["errors at half the error budget: no alert of this SLO, not even pending" if share == Fraction(1, 2) else
               f"errors at {decimal_text(share)}x the error budget (half the lowest burn factor, "
               f"{decimal_text(lowest)}): no alert of this SLO, not even pending"]
        if self.freshness:
            series, _ = self._fresh(ticks, None)
            why = ["every dataset refreshed every minute: no alert of this SLO, not even pending"]
        else:
            series, _ = self._events(ticks, lambda k: self.budget * share)
        checks = [self._slo_quiet(k) for k in sorted({60, ticks // 2, ticks})]
        return self._scenario("healthy", why, ticks, series, checks)

    def zero_traffic(self) -> Scenario | None:
        if self.freshness:
            return None
        ticks = 90
        series, _ = self._events(ticks, lambda k: Fraction(0), per_tick=Fraction(0))
        sel = {c.SLO_LABEL: self.slo.name, **self.shape.group_labels}
        ratio_labels = series_name(c.error_ratio(min(p.long for p in self.pairs) if self.pairs else 3600), sel)
        checks = [self._slo_quiet(ticks)]
        if self.pairs:
            checks.append({"expr": ratio_labels, "eval_time": _at(ticks),
                           "exp_samples": [{"labels": ratio_labels, "value": 0}]})
        with_period = {**sel, c.PERIOD_LABEL: self.slo.period}
        for record, labels, value in ((c.BUDGET_REMAINING, with_period, 1), (c.PERIOD_BURN_RATE, with_period, 0),
                                      (c.BUDGET_TIME_LEFT, sel, self.slo.period_seconds)):
            name = series_name(record, labels)
            checks.append({"expr": name, "eval_time": _at(ticks), "exp_samples": [{"labels": name, "value": value}]})
        why = ["counters exist but never increase: error ratios and burn rate are 0, the budget is whole "
               "and lasts the whole period (no NaN, no infinity), no alert"]
        return self._scenario("zero traffic", why, ticks, series, checks)

    OUTAGE_START = 60

    @functools.cached_property
    def _outage(self) -> tuple[Callable[[int], list[dict]], dict[WindowPair, States]]:
        """A total outage after an hour (freshness: the victim's last success stops), simulated once:
        the outage scenario asserts it, the recovery scenario sizes itself on it."""
        start = self.OUTAGE_START
        horizon = start + self.longest + self.slowest_for + 10
        if self.freshness:
            series, ratio = self._fresh(horizon, [self._refreshed_max_age_before(start)] * (horizon + 1))
        else:
            series, ratio = self._events(horizon, lambda k: Fraction(int(k > start)))
        assert ratio is not None
        return series, self._states(ratio)

    def outage(self) -> Scenario:
        start = self.OUTAGE_START
        why = [f"healthy for {_at(start)}, then every event fails"]
        if self.freshness:
            why = [f"{self.victim.dataset} (max age {self.victim.max_age}) turns stale at {_at(start)}: its last "
                   f"success was {self.victim.max_age} before; the other datasets stay fresh"]
        series, states = self._outage
        end = _settled(states)
        checks = []
        for pair, runs in states.items():
            checks += _transition_checks(self.slo, pair, _upto(runs, end), self.extra, 1, why, "outage")
        if self.freshness:
            others = Selector("ALERTS", (Matcher(c.SLO_LABEL, "=", self.slo.name),
                                         Matcher(c.DATASET, "!=", self.victim.dataset)))
            checks.append({"expr": others.render(),
                           "eval_time": _at(end), "exp_samples": []})
        alert_tests = []
        if self.slo.query_offset_seconds:
            # The stored series do not show the offset; the state at evaluation time does: nothing of a
            # tier fires before its first predicted minute, asserted where the offset moves it to.
            for tier in TIERS:
                firsts = [_first(s) for p in self.pairs if p.tier == tier for s in states[p].values() if any(s)]
                if firsts and min(firsts) - 1 - TOLERANCE > 0:
                    alert_tests.append({"eval_time": _at(min(firsts) - 1 - TOLERANCE),
                                        "alertname": c.burn_alert(self.slo.name, tier), "exp_alerts": []})
        return self._scenario("outage", why, end, series, checks, alert_tests)

    def fast_burn(self) -> Scenario | None:
        """A partial outage at twice the first page threshold.

        With a tight objective a total outage crosses every threshold within
        the 5m ramp, whatever the factor or window; at twice the threshold the
        fast pair fires half-way through its long window, so a wrong factor
        or window moves the firing minute well outside the tolerance.
        """
        first = (self.pairs[0] if self.pairs else None)
        if self.freshness or first is None:
            return None
        # Healthy for the longest page window first, so every window is full
        # of traffic and a window read wrongly on one side of the ratio shows.
        pages = [p.long for p in self.pairs if p.tier == PAGE] or [3600]
        start = max(pages) // TICK
        horizon = start + self.longest + self.slowest_for + 10
        for times in NUDGES:  # twice the threshold, unless that sits on another pair's threshold
            error = min(Fraction(1), 2 * times * Fraction(first.factor) * self.budget)
            series, ratio = self._events(horizon, lambda k: error if k > start else Fraction(0))
            if not self._ties(ratio):
                break
        why = [f"healthy for {_at(start)}, then {decimal_text(error * 100)}% of events fail "
               f"({decimal_text(2 * times)}x the {first.tier} {first.long_text}/{first.short_text} threshold)"
               if times != 1 else
               f"healthy for {_at(start)}, then {decimal_text(error * 100)}% of events fail "
               f"(twice the {first.tier} {first.long_text}/{first.short_text} threshold)"]
        states = self._states(ratio)
        end = _settled(states)
        checks = []
        for pair, runs in states.items():
            checks += _transition_checks(self.slo, pair, _upto(runs, end), self.extra, 1, why, "fast burn")
        return self._scenario("fast burn", why, end, series, checks)

    def annotations(self) -> Scenario | None:
        if not self.pairs:
            return None
        ticks = self.slowest_for + 5
        why = ["every event fails from the first sample, so every window's error ratio is exactly 1: "
               "each tier fires with its exact labels and annotations"]
        if self.freshness:
            stale = [TICK * k - TICK * (self.max_age_ticks + 1) for k in range(ticks + 1)]
            series, _ = self._fresh(ticks, stale)
            why = [f"{self.victim.dataset} is older than its max age from the first sample: "
                   "each tier fires with its exact labels and annotations"]
        else:
            series, _ = self._events(ticks, lambda k: Fraction(1))
        tests = []
        for tier in TIERS:
            alerts = [burn_alert(self.slo, p) for p in self.pairs if p.tier == tier]
            if not alerts:
                continue
            expected = []
            for alert in alerts:
                labels = _expanded_labels(alert, self.extra)
                expected.append({"exp_labels": labels,
                                 "exp_annotations": _render_annotations(alert["annotations"], labels, "100%")})
            tests.append({"eval_time": _at(ticks), "alertname": alerts[0]["alert"], "exp_alerts": expected})
        return self._scenario("annotations", why, ticks, series, [], tests)

    def slow_burn(self) -> Scenario | None:
        tickets = [p for p in self.pairs if p.tier == TICKET]
        # Healthy for a quarter of the shortest ticket window, so the long
        # windows cross their threshold part-way rather than at once.
        start = (min(p.long for p in tickets) if tickets else 86400) // TICK // 4
        horizon = start + 3 * self.longest + self.slowest_for
        # Twice the budget, or half the lowest page factor if that is lower: a steady burn no page fires on.
        page_factors = [Fraction(p.factor) for p in self.pairs if p.tier == PAGE]
        factor = min([Fraction(2)] + [f / 2 for f in page_factors])
        if self.freshness:
            # One minute in `every` the victim reads older than its max age (a lagging replica), so
            # the burn is steady and no stale block is long enough to page, whatever the max age.
            late = TICK + self.victim.max_age_seconds
            for extra in range(len(NUDGES)):  # a little rarer, where a window's share sits on a threshold
                every = math.ceil(1 / (factor * self.budget)) + extra
                victim = [TICK * k - (late if k > start and (k - start) % every == 0 else 0)
                          for k in range(horizon + 1)]
                series, ratio = self._fresh(horizon, victim)
                if ratio is None or not self._ties(ratio):
                    break
            share = Fraction(1, every)
            why = [f"{self.victim.dataset} fresh for {_at(start)}, then one minute in {every} older than its max age "
                   f"(stale {decimal_text(share * 100)}% of the time, {decimal_text(share / self.budget)}x the budget): "
                   "tickets as predicted, never a page"]
        else:
            for times in NUDGES:
                rate = factor * times * self.budget
                series, ratio = self._events(horizon, lambda k: rate if k > start else Fraction(0))
                if not self._ties(ratio):
                    break
            why = [f"healthy for {_at(start)}, then {decimal_text(rate * 100)}% of events fail "
                   f"({decimal_text(factor * times)}x the budget): tickets as predicted, never a page"]
        assert ratio is not None
        states = self._states(ratio)
        fired = [s for p, runs in states.items() if p.tier == TICKET for s in runs.values() if any(s)]
        end = (max(_first(s) for s in fired) if fired else start + self.longest) + TOLERANCE + 1
        checks = []
        for pair, runs in states.items():
            if pair.tier == PAGE:
                if any(any(s[: end + 1]) for s in runs.values()):
                    if self.freshness:
                        # One stale minute already exceeds the page threshold over the page windows (a
                        # tight objective): no steady slow burn exists at one-minute ticks.
                        return None
                    raise AssertionError(f"{self.slo.name}: slow burn predicted to page; the scenario is wrong")
                continue
            checks += _transition_checks(self.slo, pair, _upto(runs, end), self.extra, 1, why, "slow burn")
        checks += [self._slo_quiet(k, severity=PAGE) for k in sorted({start, (start + end) // 2, end})]
        return self._scenario("slow burn", why, end, series, checks)

    def no_data(self) -> Scenario:
        ticks = self.no_data_for + 5
        alert = no_data_alert(self.slo)
        if self.freshness:
            series, _ = self._fresh(ticks, None, drop_victim=True)
            labels = _expanded_labels(alert, {c.DATASET: self.victim.dataset})
            why = [f"{self.victim.dataset} has no last-success series; the others are fresh: "
                   "the no-data alert fires for it alone"]
        else:
            def series(end: int) -> list[dict]:
                return [{"series": 'up{job="unrelated"}', "values": f"1+0x{end}"}]
            absent_labels = self.slo.sli.sources().total.equality_labels()  # type: ignore[attr-defined]
            labels = _expanded_labels(alert, absent_labels)
            why = ["no series of the SLI at all: the no-data alert fires after its `for`"]
        expected = {"exp_labels": labels, "exp_annotations": _render_annotations(alert["annotations"], labels, "")}
        tests = [
            {"eval_time": _at(self.no_data_for - 1), "alertname": alert["alert"], "exp_alerts": []},
            {"eval_time": _at(ticks), "alertname": alert["alert"], "exp_alerts": [expected]},
        ]
        return self._scenario("no data", why, ticks, series, [], tests)

    def _first_page_after_outage(self, start: int) -> int:
        """Ticks from the start of a total outage until the first page (or ticket) fires."""
        assert start == self.OUTAGE_START
        pages = [p for p in self.pairs if p.tier == PAGE] or list(self.pairs)
        _, states = self._outage
        fired = [max(_first(s) for s in states[p].values()) for p in pages if all(any(s) for s in states[p].values())]
        return (min(fired) - start) if fired else 30

    def recovery(self) -> Scenario:
        why, back, series, _, states = self.recovery_run()
        end = _settled(states, back)
        checks = []
        for pair, runs in states.items():
            checks += _transition_checks(self.slo, pair, _upto(runs, end), self.extra, back, why, "recovery")
        checks.append(self._slo_quiet(end))
        return self._scenario("recovery", why, end, series, checks)

    def recovery_run(self) -> tuple[list[str], int, Callable[[int], list[dict]], Ratios, dict[WindowPair, States]]:
        """The recovery scenario's history: why, the tick traffic recovers, its series, each version's
        ratios and, per pair, each version's predicted firing states (tests/test_promtool.py checks
        them minute by minute)."""
        start = 60
        # Long enough for the first page to fire, so there is something to resolve.
        duration = max(30, self._first_page_after_outage(start) + 10)
        horizon = start + self.longest + self.slowest_for + duration + 10
        if self.freshness:
            back = start + duration
            old = self._refreshed_max_age_before(start)
            victim = [old if k < back else TICK * k for k in range(horizon + 1)]
            why = [f"{self.victim.dataset} stale from {_at(start)} (it last succeeded its max age before) to "
                   f"{_at(back)}, then refreshed again"]
            series, ratio = self._fresh(horizon, victim)
        else:
            back = start + duration
            why = [f"every event fails from {_at(start)} to {_at(back)}, then all succeed"]
            series, ratio = self._events(horizon, lambda k: Fraction(int(start < k <= back)))
        assert ratio is not None
        return why, back, series, ratio, self._states(ratio)

    @staticmethod
    def _scenario(name: str, why: list[str], end: int, series: Callable[[int], list[dict]],
                  checks: list[dict], alert_tests: list[dict] | None = None) -> Scenario:
        return Scenario(name, why, end, series(end), checks, alert_tests or [])

    def all(self) -> list[Scenario]:
        found = [self.healthy(), self.zero_traffic(), self.outage(), self.fast_burn(),
                 self.annotations(), self.slow_burn(),
                 self.no_data(), self.recovery()]
        return [s for s in found if s is not None]


def _first(states: list[bool]) -> int:
    return next(k for k, s in enumerate(states) if s)


def _upto(runs: States, end: int) -> States:
    return {sem: states[: end + 1] for sem, states in runs.items()}


def _settled(pairs: dict[WindowPair, States], quiet_end: int | None = None) -> int:
    """The tick after every predicted transition on either version (one tolerance later); when
    nothing changes, `quiet_end` (default: the last simulated tick)."""
    states = [s for runs in pairs.values() for s in runs.values()]
    if quiet_end is None:
        quiet_end = min((len(s) for s in states), default=1) - 1
    last = max((t for t in map(_last_transition, states) if t), default=None)
    return quiet_end if last is None else last + TOLERANCE + 1


def _last_transition(states: list[bool]) -> int:
    last = 0
    for k in range(1, len(states)):
        if states[k] != states[k - 1]:
            last = k
    return last


MAX_TEST_DATASETS = 20  # promtool loads every series of every window: thousands would exhaust its sample limit


def test_subject(slo: SLO) -> SLO:
    """The SLO the generated tests exercise: itself, or for a freshness SLO over more than
    MAX_TEST_DATASETS datasets the same SLO over a deterministic sample of them (the tightest one,
    which the scenarios make stale, and others evenly spread by name). Every rule but the
    per-dataset max-age constants is shared `by (dataset)`, so the sample runs the same rules."""
    datasets = getattr(slo.sli, "datasets", ())
    if getattr(slo.sli, "kind", "") != "freshness" or len(datasets) <= MAX_TEST_DATASETS:
        return slo
    victim = min(datasets, key=lambda d: (d.max_age_seconds, d.dataset))
    others = sorted((d for d in datasets if d is not victim), key=lambda d: d.dataset)
    step = Fraction(len(others) - 1, MAX_TEST_DATASETS - 2)
    picked = {others[int(step * i)].dataset for i in range(MAX_TEST_DATASETS - 1)}
    sample = tuple(d for d in datasets if d is victim or d.dataset in picked)
    assert isinstance(slo.sli, Freshness)
    return dataclasses.replace(slo, sli=dataclasses.replace(slo.sli, datasets=sample))


def _shift_for_query_offset(slo: SLO, test: dict, offset: int) -> None:
    """promtool evaluates the groups up to the latest eval_time, then runs promql_expr_test over the
    stored series: with a query_offset those hold each sample at t - offset, so they match the
    unshifted predictions once the groups have run `offset` past the last one. alert_rule_test is
    checked during the evaluations, on the state at evaluation time, which lags by the offset.
    (The SLO's query_offset is shorter than its no-data `for`, so the minutes before the data starts,
    which every offset evaluation reads as no data, never fire the no-data alert.)"""
    checks = test.get("alert_rule_test", []) + test.get("promql_expr_test", [])
    last = max(parse_duration(check["eval_time"]) // TICK for check in checks)
    for check in test.get("alert_rule_test", []):
        # Not the no-data alert: its condition (no series) holds from the first evaluation either way,
        # since before the data starts there is no data at any offset.
        if check["alertname"] != c.no_data_alert(slo.name):
            check["eval_time"] = _at(parse_duration(check["eval_time"]) // TICK + offset)
    if test.get("promql_expr_test"):
        # Runs the groups `offset` past the last check; the SLI's series are there at the end of every
        # scenario with a promql check (the no-data scenario has none), so no no-data alert.
        test.setdefault("alert_rule_test", []).append(
            {"eval_time": _at(last + offset), "alertname": c.no_data_alert(slo.name), "exp_alerts": []})


def scenarios(slo: SLO) -> list[Scenario]:
    return _Scenarios(slo).all()


def test_file(rule_file: str, slo: SLO) -> tuple[dict, list[tuple[str, list[str]]]]:
    """The promtool test file of one SLO, and a comment per test group."""
    tests = []
    comments = []
    offset = slo.query_offset_seconds // TICK
    for scenario in scenarios(slo):
        test = scenario.as_test()
        explanation = list(scenario.explanation)
        if offset:
            _shift_for_query_offset(slo, test, offset)
            explanation.append(f"query_offset {_at(offset)}: an evaluation at t reads the data at t - {_at(offset)} "
                               "and stores what it records there, so the stored series (ALERTS, recordings) are "
                               "the predictions above, while alert_rule_test (the state at evaluation time) is "
                               f"asserted {_at(offset)} later; a last check runs the groups {_at(offset)} past the "
                               "end, so every stored sample exists")
        tests.append(test)
        comments.append((f"{slo.name}: {scenario.name}", explanation))
    return {"rule_files": [rule_file], "evaluation_interval": _at(1), "tests": tests}, comments
