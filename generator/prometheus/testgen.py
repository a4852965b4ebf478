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
import operator
import weakref

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from generator import conventions as c
from generator.model import gotemplate
from generator.model.durations import format_duration, parse_duration
from generator.promql.selectors import Matcher, Selector, labels_text
from generator.prometheus.rules import burn_alert, no_data_alert
from generator.model.kinds.base import Ratios, Run, SeriesAt
from generator.model.kinds.events import NUDGES
from generator.prometheus.simulate import TICK, TIE, Firing, RatioSeries, Semantics, firing_ticks, tick_text
from generator.prometheus.testseries import decimal_text, series_name
from generator.model.slo import SLO
from generator.model.windows import PAGE, TICKET, TIERS, WindowPair

TOLERANCE = 1            # ticks either side of a predicted transition
# Per simulated series (shared by alike SLOs, see simulated_scenario): (pairs, budget, min_events) -> tie?
_TIES: weakref.WeakKeyDictionary[RatioSeries, dict[tuple[Any, ...], bool]] = weakref.WeakKeyDictionary()


# --- checks -----------------------------------------------------------------

_at = functools.lru_cache(maxsize=4096)(tick_text)   # a few hundred ticks, asked for again and again


def _alerts_selector(matchers: dict[str, str]) -> str:
    return "ALERTS" + labels_text(matchers)


def _expect_none(tick: int, matchers: dict[str, str]) -> dict[str, Any]:
    return {"expr": _alerts_selector(matchers), "eval_time": _at(tick), "exp_samples": []}


def _expanded_labels(alert: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    """The alert's labels as Prometheus expands them (label values are templates too)."""
    return {**{k: gotemplate.expand(v, {}, "") for k, v in alert["labels"].items()}, **extra}


def _expect_firing(tick: int, alert: dict[str, Any], extra: dict[str, str]) -> dict[str, Any]:
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
    input_series: list[dict[str, Any]]
    expr_tests: list[dict[str, Any]]
    alert_tests: list[dict[str, Any]]

    def as_test(self) -> dict[str, Any]:
        test: dict[str, Any] = {"interval": _at(1), "input_series": self.input_series}
        if self.alert_tests:
            test["alert_rule_test"] = self.alert_tests
        if self.expr_tests:
            test["promql_expr_test"] = self.expr_tests
        return test


States = dict[str, list[bool]]  # Semantics -> firing at each tick


def _changes(states: list[bool], start: int) -> list[tuple[int, bool]]:
    """(tick, new state) of each transition at or after `start`."""
    flags = bytes(states)
    found: list[tuple[int, bool]] = []
    previous = bool(flags[start - 1]) if start > 0 else False
    k = start
    while True:   # the next tick in the other state, found by bytes.find: a run is thousands of ticks
        k = flags.find(b"\x00" if previous else b"\x01", k)
        if k < 0:
            return found
        previous = not previous
        found.append((k, previous))


def _transition_checks(alert: dict[str, Any], runs: States, extra: dict[str, str],
                       start: int, why: list[str], label: str) -> list[dict[str, Any]]:
    """Assert each firing start and stop of a pair's `alert` after `start` within one evaluation
    interval, on both Prometheus 2.x and 3.x: before the earlier predicted tick and after the later one."""
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
    """The scenarios of one SLO. What the series are is the SLI kind's (`scenario_series`); what is
    asserted, and when, comes from the window math here."""

    def __init__(self, slo: SLO):
        self.slo = slo
        self.budget = Fraction(str(slo.error_budget))
        self.pairs = slo.all_pairs()
        self.longest = max((p.long for p in self.pairs), default=3600) // TICK
        self.slowest_for = max((p.for_ for p in self.pairs), default=0) // TICK
        self.no_data_for = parse_duration(slo.alerting.no_data_for) // TICK
        self.series = slo.sli.scenario_series(slo)
        self.extra = dict(self.series.labels)
        self.min_events = slo.alerting.min_events if slo.sli.counts_events else 0
        self._alerts: dict[WindowPair, dict[str, Any]] = {}

    def alert(self, pair: WindowPair) -> dict[str, Any]:
        """The pair's burn alert, built once for the SLO's scenarios (they read it, never change it)."""
        found = self._alerts.get(pair)
        if found is None:
            found = self._alerts[pair] = burn_alert(self.slo, pair)
        return found

    def _states(self, ratios: Ratios) -> dict[WindowPair, States]:
        return {p: {sem: firing_ticks(series, p, self.budget, self.min_events) for sem, series in ratios.items()}
                for p in self.pairs}

    def _ties(self, ratios: Ratios) -> bool:
        return any(self._tie(series) for series in ratios.values())

    def _tie(self, series: RatioSeries) -> bool:
        """Whether some window's ratio sits on a threshold long enough that float64 could fire it
        (or not) more than the tolerance apart from the prediction: the scenario then picks another
        rate. A ratio that only passes through a threshold moves a transition by one tick at most.
        Alike SLOs share their simulated series: the answer is kept with the series."""
        answers = _TIES.setdefault(series, {})
        key = (tuple(self.pairs), self.budget, self.min_events)
        if key not in answers:
            answers[key] = self._find_tie(series)
        return answers[key]

    def _find_tie(self, series: RatioSeries) -> bool:
        for pair in self.pairs:
            # The comparisons differ between the two thresholds only for a ratio in (low, high]: without
            # one, the two predictions are the same and need not be computed.
            exact = float(Fraction(pair.factor) * self.budget)
            below, above = exact * (1 - TIE), exact * (1 + TIE)
            if not (series.any_ratio_in(pair.long, below, above, pair.long_tiles, pair.long_warm_up) or series.any_ratio_in(pair.short, below, above)):
                continue
            low = firing_ticks(series, pair, self.budget, self.min_events, -TIE)
            high = firing_ticks(series, pair, self.budget, self.min_events, TIE)
            differs = bytes(map(operator.ne, low, high))
            if b"\x01" * (TOLERANCE + 1) in differs:   # more than TOLERANCE ticks in a row
                return True
        return False

    def _slo_quiet(self, tick: int, **extra: str) -> dict[str, Any]:
        return _expect_none(tick, {c.SLO_LABEL: self.slo.name, **extra})

    # scenarios ------------------------------------------------------------
    def healthy(self) -> Scenario:
        ticks = self.slowest_for + 60
        # Half the budget, or half the lowest threshold where a pair burns below 1x (a 0.5x ticket
        # would sit exactly on half the budget; found by the fuzzer).
        lowest = min((Fraction(p.factor) for p in self.pairs), default=Fraction(1))
        share = min(Fraction(1, 2), lowest / 2)
        run = self.series.healthy(ticks, share)
        why = run.why or ["errors at half the error budget: no alert of this SLO, not even pending"
                          if share == Fraction(1, 2) else
                          f"errors at {decimal_text(share)}x the error budget (half the lowest burn factor, "
                          f"{decimal_text(lowest)}): no alert of this SLO, not even pending"]
        checks = [self._slo_quiet(k) for k in sorted({60, ticks // 2, ticks})]
        return self._scenario("healthy", why, ticks, run.series, checks)

    def zero_traffic(self) -> Scenario | None:
        ticks = 90
        run = self.series.zero_traffic(ticks)
        if run is None:
            return None
        sel = {c.SLO_LABEL: self.slo.name, **self.extra}
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
        return self._scenario("zero traffic", run.why, ticks, run.series, checks)

    OUTAGE_START = 60

    @functools.cached_property
    def _outage(self) -> tuple[Run, dict[WindowPair, States]]:
        """A total outage after an hour, simulated once: the outage scenario asserts it, the recovery
        scenario sizes itself on it."""
        start = self.OUTAGE_START
        horizon = start + self.longest + self.slowest_for + 10
        run = self.series.outage(start, horizon)
        assert run.ratios is not None, "an outage run predicts its ratios"
        return run, self._states(run.ratios)

    def outage(self) -> Scenario:
        run, states = self._outage
        why = list(run.why)
        end = _settled(states)
        checks = []
        for pair, runs in states.items():
            checks += _transition_checks(self.alert(pair), _upto(runs, end), self.extra, 1, why, "outage")
        checks += self.series.outage_checks(self.slo, end)
        alert_tests = []
        if self.slo.query_offset_seconds:
            # The stored series do not show the offset; the state at evaluation time does: nothing of a
            # tier fires before its first predicted minute, asserted where the offset moves it to.
            for tier in TIERS:
                firsts = [_first(s) for p in self.pairs if p.tier == tier for s in states[p].values() if any(s)]
                if firsts and min(firsts) - 1 - TOLERANCE > 0:
                    alert_tests.append({"eval_time": _at(min(firsts) - 1 - TOLERANCE),
                                        "alertname": c.burn_alert(self.slo.name, tier), "exp_alerts": []})
        return self._scenario("outage", why, end, run.series, checks, alert_tests)

    def fast_burn(self) -> Scenario | None:
        """A partial outage at twice the first page threshold.

        With a tight objective a total outage crosses every threshold within
        the 5m ramp, whatever the factor or window; at twice the threshold the
        fast pair fires half-way through its long window, so a wrong factor
        or window moves the firing minute well outside the tolerance.
        """
        first = (self.pairs[0] if self.pairs else None)
        if first is None:
            return None
        # Healthy for the longest page window first, so every window is full
        # of traffic and a window read wrongly on one side of the ratio shows.
        pages = [p.long for p in self.pairs if p.tier == PAGE] or [3600]
        start = max(pages) // TICK
        horizon = start + self.longest + self.slowest_for + 10
        for times in NUDGES:  # twice the threshold, unless that sits on another pair's threshold
            error = min(Fraction(1), 2 * times * Fraction(first.factor) * self.budget)
            run = self.series.partial(start, horizon, error)
            if run is None:
                return None
            assert run.ratios is not None, "a partial run predicts its ratios"
            if not self._ties(run.ratios):
                break
        why = [f"healthy for {_at(start)}, then {decimal_text(error * 100)}% of events fail "
               f"({decimal_text(2 * times)}x the {first.tier} {first.long_text}/{first.short_text} threshold)"
               if times != 1 else
               f"healthy for {_at(start)}, then {decimal_text(error * 100)}% of events fail "
               f"(twice the {first.tier} {first.long_text}/{first.short_text} threshold)"]
        assert run is not None and run.ratios is not None
        states = self._states(run.ratios)
        end = _settled(states)
        checks = []
        for pair, runs in states.items():
            checks += _transition_checks(self.alert(pair), _upto(runs, end), self.extra, 1, why, "fast burn")
        return self._scenario("fast burn", why, end, run.series, checks)

    def annotations(self) -> Scenario | None:
        if not self.pairs:
            return None
        ticks = self.slowest_for + 5
        run = self.series.all_bad(ticks)
        tests = []
        for tier in TIERS:
            alerts = [self.alert(p) for p in self.pairs if p.tier == tier]
            if not alerts:
                continue
            expected = []
            for alert in alerts:
                labels = _expanded_labels(alert, self.extra)
                expected.append({"exp_labels": labels,
                                 "exp_annotations": _render_annotations(alert["annotations"], labels, "100%")})
            tests.append({"eval_time": _at(ticks), "alertname": alerts[0]["alert"], "exp_alerts": expected})
        return self._scenario("annotations", run.why, ticks, run.series, [], tests)

    def slow_burn(self) -> Scenario | None:
        tickets = [p for p in self.pairs if p.tier == TICKET]
        # Healthy for a quarter of the shortest ticket window, so the long
        # windows cross their threshold part-way rather than at once.
        start = (min(p.long for p in tickets) if tickets else 86400) // TICK // 4
        horizon = start + 3 * self.longest + self.slowest_for
        # Twice the budget, or half the lowest page factor if that is lower: a steady burn no page fires on.
        page_factors = [Fraction(p.factor) for p in self.pairs if p.tier == PAGE]
        factor = min([Fraction(2)] + [f / 2 for f in page_factors])
        run = self.series.slow_burn(start, horizon, factor, self._ties)
        why = list(run.why)
        assert run.ratios is not None, "a slow-burn run predicts its ratios"
        states = self._states(run.ratios)
        fired = [s for p, runs in states.items() if p.tier == TICKET for s in runs.values() if any(s)]
        end = (max(_first(s) for s in fired) if fired else start + self.longest) + TOLERANCE + 1
        checks = []
        for pair, runs in states.items():
            if pair.tier == PAGE:
                if any(any(s[: end + 1]) for s in runs.values()):
                    if run.may_page:
                        return None
                    raise AssertionError(f"{self.slo.name}: slow burn predicted to page; the scenario is wrong")
                continue
            checks += _transition_checks(self.alert(pair), _upto(runs, end), self.extra, 1, why, "slow burn")
        checks += [self._slo_quiet(k, severity=PAGE) for k in sorted({start, (start + end) // 2, end})]
        return self._scenario("slow burn", why, end, run.series, checks)

    def no_data(self) -> Scenario:
        ticks = self.no_data_for + 5
        alert = no_data_alert(self.slo)
        run = self.series.no_data(ticks)
        labels = _expanded_labels(alert, run.labels)
        expected = {"exp_labels": labels, "exp_annotations": _render_annotations(alert["annotations"], labels, "")}
        tests = [
            {"eval_time": _at(self.no_data_for - 1), "alertname": alert["alert"], "exp_alerts": []},
            {"eval_time": _at(ticks), "alertname": alert["alert"], "exp_alerts": [expected]},
        ]
        return self._scenario("no data", run.why, ticks, run.series, [], tests)

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
            checks += _transition_checks(self.alert(pair), _upto(runs, end), self.extra, back, why, "recovery")
        checks.append(self._slo_quiet(end))
        return self._scenario("recovery", why, end, series, checks)

    def recovery_run(self) -> tuple[list[str], int, SeriesAt, Ratios, dict[WindowPair, States]]:
        """The recovery scenario's history: why, the tick traffic recovers, its series, each version's
        ratios and, per pair, each version's predicted firing states (tests/test_promtool.py checks
        them minute by minute)."""
        start = 60
        # Long enough for the first page to fire, so there is something to resolve.
        duration = max(30, self._first_page_after_outage(start) + 10)
        horizon = start + self.longest + self.slowest_for + duration + 10
        back = start + duration
        run = self.series.recovery(start, back, horizon)
        assert run.ratios is not None, "a recovery run predicts its ratios"
        return list(run.why), back, run.series, run.ratios, self._states(run.ratios)

    @staticmethod
    def _scenario(name: str, why: list[str], end: int, series: SeriesAt,
                  checks: list[dict[str, Any]], alert_tests: list[dict[str, Any]] | None = None) -> Scenario:
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
    """The last tick whose state differs from the tick before (0 if none)."""
    if isinstance(states, Firing):   # kept with the prediction: alike SLOs ask it again and again
        return states.last_transition
    flags = bytes(states)
    return max(flags.rfind(b"\x00\x01"), flags.rfind(b"\x01\x00")) + 1


def test_subject(slo: SLO) -> tuple[SLO, list[str]]:
    """The SLO the generated tests exercise: itself, or the same SLO over a smaller SLI where the whole
    one would exceed promtool's limits (its kind decides), with the comment lines that say so."""
    smaller = slo.sli.for_generated_tests()
    if smaller is None:
        return slo, []
    sli, comment = smaller
    return dataclasses.replace(slo, sli=sli), comment


def _shift_for_query_offset(slo: SLO, test: dict[str, Any], offset: int) -> None:
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


def test_file(rule_file: str, slo: SLO) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
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
    document: dict[str, Any] = {"rule_files": [rule_file], "evaluation_interval": _at(1)}
    order = group_eval_order(slo)
    if order:
        document["group_eval_order"] = order
    return {**document, "tests": tests}, comments


def group_eval_order(slo: SLO) -> list[str]:
    """The order a promtool test must evaluate the SLO's groups in for the simulator's predictions to
    hold ([] where any order does). promtool evaluates every group at every tick, in an order of its
    own unless told: as the simulator plays them (_tiled_ratios), the budget group (its windows read
    from tiles) first, so the alerts read those windows at the same tick, and the tiles after the
    alerting group."""
    if not slo.reads_tiles:
        return []
    return [c.budget_rule_group(slo.name), c.rule_group(slo.name), c.tiles_rule_group(slo.name)]
