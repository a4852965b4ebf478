"""SLO and invariant definitions -> Prometheus rule groups (plain data).

Two or three groups per SLO. The alerting group, in evaluation order: constants
(maximum ages), base recordings (the only rules that read raw series), error
ratios for every window the alerts read, then the alerts; keeping them in
one group means every alert sees recordings of the same evaluation tick. The tiles
group (every 5m; model/windows.py): bad and total sums over 10m, which long ticket
windows and the period read at 10m steps. The budget group (every 4m), which no alert
reads: objective and budget constants, the traffic-weighted period ratio, the remaining
budget and burn rates.
"""
from __future__ import annotations

from typing import Any

import functools
from dataclasses import dataclass

from generator import conventions as c
from generator.promql import builder as b
from generator.model.durations import format_duration, parse_duration
from generator.model.gotemplate import literal
from generator.model.invariants import Invariant
from generator.model.numbers import percent, text
from generator.model.slo import SLO
from generator.model.windows import WindowPair, tiled_windows, warm_up_window, windows_needed


@dataclass(frozen=True)
class RuleCounts:
    """How many rules of each cost class a set of groups holds."""

    raw: int        # recordings that read raw series (base rates, staleness)
    constant: int   # recordings of constants (objective, budget, max ages)
    staged: int     # recordings built on other recordings
    alerts: int

    def __add__(self, other: "RuleCounts") -> "RuleCounts":
        return RuleCounts(self.raw + other.raw, self.constant + other.constant,
                          self.staged + other.staged, self.alerts + other.alerts)


# Constants (a freshness SLO's max ages) beyond this many go to groups of their own, this many each: a
# group, and the PrometheusRule object that holds it, stays far under Kubernetes' 1 MiB per object.
CONSTANTS_PER_GROUP = 1000


@functools.lru_cache(maxsize=4096)
def slo_groups(slo: SLO, max_rules: int = 0) -> tuple[list[dict[str, Any]], RuleCounts]:
    """The SLO's alerting group and its period (budget) group (computed once per SLO: the rule files, the
    PrometheusRule objects and the rule counts all read them; callers never change them). `max_rules`:
    the most rules a group may hold where they are evaluated (a Cortex or Mimir ruler), 0 for none; the
    constants then go to groups of that many (every other group stays whole: checked at load)."""
    sli = slo.sli
    base = sli.base_rules(slo.name, slo.base_window_seconds)
    constants = [r for r in base if r["expr"].startswith("vector(")]
    raw = [r for r in base if not r["expr"].startswith("vector(")]
    windows: list[dict[str, Any]] = []
    pairs = slo.all_pairs()
    tiled = tiled_windows(pairs)
    warm_up = warm_up_window(pairs, set(tiled))

    def from_tiles(window: int) -> str:
        """A tiled window, or until its series' first tile point, an exact one that holds all of its data
        (the recorded one, or its expression where the alerts read no window long enough)."""
        young = (b.of_slo(c.error_ratio(warm_up), slo.name) if warm_up in windows_needed(pairs)
                 else b.paren(sli.window_ratio_expr(slo.name, warm_up, slo.base_window_seconds)))
        return str(b.binary(b.paren(sli.tiled_window_ratio_expr(slo.name, window)), "or", young, lines=True))
    # A window read from tiles changes when a tile does (every 5m), so it is recorded in the budget group
    # (every 4m, within the alerts' 5m lookback) rather than every minute with the alerts: the windows it
    # serves are a day or more, the 4 minutes it may add to their lag (docs/slo-semantics.md) are nothing there.
    tiled_ratios: list[dict[str, Any]] = []
    for window in windows_needed(pairs):
        if window in tiled:
            tiled_ratios.append({"record": c.error_ratio(window), "expr": from_tiles(window),
                                 "labels": {c.SLO_LABEL: slo.name}})
        else:
            windows.append({"record": c.error_ratio(window),
                            "expr": sli.window_ratio_expr(slo.name, window, slo.base_window_seconds),
                            "labels": {c.SLO_LABEL: slo.name}})
    tiles = sli.tile_rules(slo.name) if slo.reads_tiles else []
    budget = text(slo.error_budget)
    metadata_labels = {c.SLO_LABEL: slo.name, c.SERVICE_LABEL: slo.service, c.TEAM_LABEL: slo.owner,
                       c.PERIOD_LABEL: slo.period}
    metadata = [
        {"record": c.OBJECTIVE, "expr": str(b.call("vector", text(slo.target))), "labels": metadata_labels},
        {"record": c.ERROR_BUDGET, "expr": str(b.call("vector", budget)), "labels": metadata_labels},
    ]
    period_ratio = b.of_slo(c.PERIOD_ERROR_RATIO, slo.name)
    period = [
        {"record": c.PERIOD_ERROR_RATIO, "expr": (from_tiles(slo.period_seconds) if tiles
                                                  else sli.window_ratio_expr(slo.name, slo.period_seconds,
                                                                            slo.base_window_seconds)),
         "labels": {c.SLO_LABEL: slo.name, c.PERIOD_LABEL: slo.period}},
        {"record": c.BUDGET_REMAINING, "expr": str(b.binary(1, "-", b.binary(period_ratio, "/", budget))),
         "labels": {c.SLO_LABEL: slo.name}},
        {"record": c.PERIOD_BURN_RATE, "expr": str(b.binary(period_ratio, "/", budget)),
         "labels": {c.SLO_LABEL: slo.name}},
    ]
    period += [{"record": c.burn_rate(window), "expr": str(b.binary(b.of_slo(c.error_ratio(window), slo.name), "/", budget)),
                "labels": {c.SLO_LABEL: slo.name}} for window in windows_needed(pairs)]
    for pair in pairs:
        long_burn, short_burn = b.of_slo(c.burn_rate(pair.long), slo.name), b.of_slo(c.burn_rate(pair.short), slo.name)
        period.append({"record": c.PAIR_BURN_RATE,
                       "expr": str(b.binary(b.paren(b.binary(long_burn, "<", short_burn)), "or", short_burn)),
                       "labels": {c.SLO_LABEL: slo.name, c.SEVERITY_LABEL: pair.tier,
                                  c.TIER_LABEL: f"{pair.tier}-{pair.long_text}-{pair.short_text}",
                                  c.BURN_RATE_LABEL: text(pair.factor)}})
    # Time until the budget is gone if the burn of the first pair's long window goes on.
    current = (b.paren(b.binary(b.of_slo(c.error_ratio(pairs[0].long), slo.name), "/", budget)) if pairs
               else b.of_slo(c.PERIOD_BURN_RATE, slo.name))
    seconds_left = b.binary(b.binary(b.of_slo(c.BUDGET_REMAINING, slo.name), "*", slo.period_seconds), "/", current,
                            wrap=True, modifier=b.ignoring([c.PERIOD_LABEL]))
    period.append({"record": c.BUDGET_TIME_LEFT,
                   "expr": str(b.call("clamp_min", b.block("clamp_max", seconds_left, slo.period_seconds), 0)),
                   "labels": {c.SLO_LABEL: slo.name}})
    alerts = [burn_alert(slo, pair) for pair in pairs] + [no_data_alert(slo)]
    per_group = min(CONSTANTS_PER_GROUP, max_rules) if max_rules else CONSTANTS_PER_GROUP
    fits = len(constants) <= per_group and (not max_rules or len(constants + raw + windows + alerts) <= max_rules)
    inline = constants if fits else []
    groups = [
        {"name": c.rule_group(slo.name), "rules": inline + raw + windows + alerts},
        *([{"name": c.tiles_rule_group(slo.name), "interval": format_duration(c.TILE_RECORD_INTERVAL_SECONDS),
            "rules": tiles}] if tiles else []),
        {"name": c.budget_rule_group(slo.name), "interval": c.BUDGET_GROUP_INTERVAL,
         "rules": tiled_ratios + metadata + period},
    ]
    if not inline:   # thousands of datasets: their max ages in groups (and PrometheusRule objects) of their own,
        # first, so that promtool (which evaluates groups in file order) has them when the alerting group runs
        groups = [{"name": c.constants_rule_group(slo.name, part), "rules": constants[start:start + per_group]}
                  for part, start in enumerate(range(0, len(constants), per_group), start=1)] + groups
    if slo.query_offset_seconds:  # every group of the SLO, so the budget reads what the alerts read
        offset = format_duration(slo.query_offset_seconds)
        groups = [{"name": g["name"], **({"interval": g["interval"]} if "interval" in g else {}),
                   "query_offset": offset, "rules": g["rules"]} for g in groups]
    counts = RuleCounts(raw=len(raw), constant=len(constants) + len(metadata),
                        staged=len(windows) + len(tiled_ratios) + len(tiles) + len(period),
                        alerts=len(alerts))
    return groups, counts


def _common_labels(slo: SLO, tier: str) -> dict[str, str]:
    labels = {c.SEVERITY_LABEL: tier, c.SLO_LABEL: slo.name, c.SERVICE_LABEL: slo.service,
              c.TEAM_LABEL: literal(slo.owner)}
    labels.update({name: literal(value) for name, value in slo.label_pairs()})
    return labels


def _subject(slo: SLO) -> str:
    group_by = slo.sli.group_by
    if not group_by:
        return slo.name
    return slo.name + " (" + ", ".join(f"{label} {{{{ $labels.{label} }}}}" for label in group_by) + ")"


def _annotations(slo: SLO, alert: str, summary: str, description: str, panel: int | None = None) -> dict[str, str]:
    uid = c.slo_dashboard_uid(slo.name)
    return {
        "summary": summary,
        "description": description,
        "runbook_url": c.runbook_url(alert),
        "dashboard_uid": uid,
        "dashboard_url": f"/d/{uid}" + (f"?viewPanel={panel}" if panel is not None else ""),
    }


def burn_alert(slo: SLO, pair: WindowPair) -> dict[str, Any]:
    threshold = text(pair.threshold(slo.error_budget))
    condition = b.binary(b.binary(b.of_slo(c.error_ratio(pair.long), slo.name), ">", threshold), "and",
                         b.binary(b.of_slo(c.error_ratio(pair.short), slo.name), ">", threshold), lines=True)
    min_events = slo.alerting.min_events
    if min_events and slo.sli.counts_events:
        condition = b.binary(condition, "and",
                             b.binary(slo.sli.events_in_window_expr(slo.name, pair.long), ">=", min_events), lines=True)
    expr = str(condition)
    labels = _common_labels(slo, pair.tier)
    labels.update({c.TIER_LABEL: f"{pair.tier}-{pair.long_text}-{pair.short_text}",
                   c.LONG_WINDOW_LABEL: pair.long_text, c.SHORT_WINDOW_LABEL: pair.short_text,
                   c.BURN_RATE_LABEL: text(pair.factor)})
    labels.update({name: literal(value) for name, value in slo.alerting.tier(pair.tier).label_pairs()})
    lasts = format_duration(int(slo.period_seconds / pair.factor) // 60 * 60)
    summary = (f"{_subject(slo)}: error budget burning faster than {text(pair.factor)}x "
               f"over {pair.long_text} and {pair.short_text}")
    description = (
        f"{literal(slo.description.strip())} The error ratio over the last {pair.long_text} is "
        f"{{{{ $value | humanizePercentage }}}}, above {percent(pair.threshold(slo.error_budget))} "
        f"({text(pair.factor)}x the {percent(slo.error_budget)} error budget of the "
        f"{percent(slo.target)} objective), and it is above that over {pair.short_text} too, "
        f"so it is still happening. At {text(pair.factor)}x a whole {slo.period} budget lasts {lasts}.")
    panel = c.SLO_BURN_PANEL_FIRST_ID + slo.all_pairs().index(pair)
    alert = c.burn_alert(slo.name, pair.tier)
    rule: dict[str, Any] = {"alert": alert, "expr": expr}
    if pair.for_:   # the page pairs fire at the first evaluation that sees the burn (no `for`)
        rule["for"] = format_duration(pair.for_)
    if pair.keep_firing_for:
        rule["keep_firing_for"] = format_duration(pair.keep_firing_for)
    return {**rule, "labels": dict(sorted(labels.items())),
            "annotations": _annotations(slo, alert, summary, description, panel)}


def no_data_alert(slo: SLO) -> dict[str, Any]:
    sources = literal(", ".join(s.render() for s in slo.sli.source_selectors()))
    subject = slo.sli.no_data_subject()
    summary = f"No data for the SLI of {subject}{slo.name}: its burn-rate alerts cannot fire"
    description = (f"A source series of the {slo.name} SLI ({sources}) is absent, so the SLO "
                   f"cannot be computed and reads as neither healthy nor burning. Check that the "
                   f"{slo.service} exporters are up and scraped, and that the metric names match "
                   f"the metric contract.")
    return {"alert": c.no_data_alert(slo.name), "expr": slo.sli.no_data_expr(slo.name),
            "for": format_duration(parse_duration(slo.alerting.no_data_for)),
            "labels": dict(sorted(_common_labels(slo, slo.no_data_severity).items())),
            "annotations": _annotations(slo, c.no_data_alert(slo.name), summary, description)}


def invariants_group(invariants: tuple[Invariant, ...]) -> tuple[dict[str, Any], RuleCounts]:
    rules = []
    for inv in invariants:
        labels = {c.SEVERITY_LABEL: inv.severity, c.TEAM_LABEL: literal(inv.owner)}
        labels.update({name: literal(value) for name, value in inv.label_pairs()})
        rules.append({"alert": inv.name, "expr": inv.expr(), "labels": dict(sorted(labels.items())),
                      "annotations": {"summary": inv.summary, "description": inv.description,
                                      "runbook_url": c.runbook_url(inv.name),
                                      "dashboard_uid": inv.dashboard_uid,
                                      "dashboard_url": f"/d/{inv.dashboard_uid}"}})
    return {"name": c.INVARIANTS_GROUP, "rules": rules}, RuleCounts(0, 0, 0, len(rules))
