"""An SLO's alerting logic, read back from its rendered rule file (out/prometheus/rules/<slo>.rules.yaml).

Reading the rendered rules rather than the definitions lets the base ref be judged by the rules its own
generator wrote: whatever changed (objective, windows, factors, `for`, the generator itself) shows.
Supported: event SLIs without `group_by` whose base recordings read plain counters (EventsRatio with a
bad or a good selector; Latency over a classic histogram). Anything else is refused with a reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import yaml

from generator import conventions as c
from generator.model.durations import parse_duration
from generator.model.windows import WindowPair
from generator.promql.selectors import Selector, SelectorError, parse_selector

RATE = re.compile(r"rate\((.+?)\[5m\]\)")
MIN_EVENTS = re.compile(r">=\s*([0-9]+)\s*$")


class Unsupported(ValueError):
    """The rule file holds an SLO the backtest cannot evaluate (the message says why)."""


@dataclass(frozen=True)
class AlertingSpec:
    slo: str
    objective: Decimal
    budget: Decimal
    period: str
    total: Selector
    bad: Selector | None          # the bad events' selector, or
    good: Selector | None         # the good events' (bad = total - good)
    pairs: tuple[WindowPair, ...]
    tiers: tuple[str, ...]        # each pair's tier label (page-1h-5m), in the same order
    min_events: int = 0

    @property
    def period_seconds(self) -> int:
        return parse_duration(self.period)

    @property
    def budget_fraction(self) -> Fraction:
        return Fraction(self.budget)

    def selectors(self) -> tuple[Selector, ...]:
        return tuple(s for s in (self.total, self.bad, self.good) if s is not None)


def _rules(document: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(group, rule) for group in document.get("groups") or [] for rule in group.get("rules") or []]


def _selector(text: str, slo: str, what: str) -> Selector:
    try:
        return parse_selector(text.strip())
    except SelectorError as error:
        raise Unsupported(f"{slo}: the {what} selector {text!r} cannot be read back: {error}") from None


def _seconds(text: object) -> int:
    return 0 if text in (None, "", "0", "0s") else parse_duration(str(text))


def read_spec(text: str, slo: str) -> AlertingSpec:
    """The alerting logic of `slo` from the text of its rendered rule file."""
    rules = _rules(yaml.safe_load(text) or {})
    records = {(r["record"], r.get("labels", {}).get(c.SLO_LABEL)): r for _, r in rules if "record" in r}

    def record(name: str) -> dict[str, Any] | None:
        return records.get((name, slo))

    bad_rule, total_rule = record(c.BAD_EVENTS_RATE), record(c.TOTAL_EVENTS_RATE)
    if bad_rule is None or total_rule is None:
        raise Unsupported(f"{slo}: not an event SLI (no {c.BAD_EVENTS_RATE} recording); the backtest reads "
                          "events ratios and latency SLIs only")
    if " by " in total_rule["expr"] or " by " in bad_rule["expr"]:
        raise Unsupported(f"{slo}: its SLI is split by labels (group_by); the backtest reads SLIs without group_by")
    if "histogram_" in bad_rule["expr"]:
        raise Unsupported(f"{slo}: a native-histogram SLI; the backtest reads counters and classic histograms")
    totals = RATE.findall(total_rule["expr"])
    if len(totals) != 1:
        raise Unsupported(f"{slo}: the total events are not one rate of one selector: {total_rule['expr']!r}")
    total = _selector(totals[0], slo, "total")
    rates = RATE.findall(bad_rule["expr"])
    bad = good = None
    if bad_rule["expr"].lstrip().startswith("clamp_min(") and len(rates) >= 2 and rates[0] == totals[0]:
        good = _selector(rates[1], slo, "good")
    elif rates and rates[0] != totals[0]:
        bad = _selector(rates[0], slo, "bad")
    else:
        raise Unsupported(f"{slo}: the bad events cannot be read back from {bad_rule['expr']!r}")
    objective_rule, budget_rule = record(c.OBJECTIVE), record(c.ERROR_BUDGET)
    if objective_rule is None or budget_rule is None:
        raise Unsupported(f"{slo}: no {c.OBJECTIVE} or {c.ERROR_BUDGET} recording")
    objective = Decimal(re.sub(r"^vector\((.*)\)$", r"\1", objective_rule["expr"].strip()))
    budget = Decimal(re.sub(r"^vector\((.*)\)$", r"\1", budget_rule["expr"].strip()))
    period = str(objective_rule.get("labels", {}).get(c.PERIOD_LABEL, "30d"))
    pairs, tiers, min_events = [], [], 0
    for _, rule in rules:
        labels = rule.get("labels", {})
        if "alert" not in rule or labels.get(c.SLO_LABEL) != slo or c.LONG_WINDOW_LABEL not in labels:
            continue
        if "query_offset" in str(rule):
            raise Unsupported(f"{slo}: query_offset is not modelled by the backtest")
        long, short = parse_duration(labels[c.LONG_WINDOW_LABEL]), parse_duration(labels[c.SHORT_WINDOW_LABEL])
        tiles, warm_up = 0, 0
        long_rule = record(c.error_ratio(long))
        if long_rule is not None and c.TOTAL_TILE_SUM in long_rule["expr"]:
            tiles = c.TILE_SECONDS
            fallback = re.search(r"kfm_slo:error_ratio:([0-9a-z]+)\{", long_rule["expr"].split(" or")[-1])
            warm_up = parse_duration(fallback.group(1)) if fallback else 0
        found = MIN_EVENTS.search(rule["expr"].strip())
        if found:
            min_events = int(found.group(1))
        pairs.append(WindowPair(
            tier=str(labels.get(c.SEVERITY_LABEL, "")), long=long, short=short,
            factor=Decimal(str(labels[c.BURN_RATE_LABEL])),
            for_=_seconds(rule.get("for")), keep_firing_for=_seconds(rule.get("keep_firing_for")),
            long_tiles=tiles, long_warm_up=warm_up))
        tiers.append(str(labels.get(c.TIER_LABEL, "")))
    return AlertingSpec(slo, objective, budget, period, total, bad, good, tuple(pairs), tuple(tiers), min_events)


def rule_files(files: dict[str, str]) -> dict[str, str]:
    """SLO name -> the text of its rule file, from a rendered tree (paths relative to out/)."""
    found = {}
    for path, text in files.items():
        if path.startswith(c.RULES_DIR) and path.endswith(".rules.yaml"):
            for _, rule in _rules(yaml.safe_load(text) or {}):
                if rule.get("record") == c.OBJECTIVE and c.SLO_LABEL in rule.get("labels", {}):
                    found[str(rule["labels"][c.SLO_LABEL])] = text
    return found


def changed_slos(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """SLOs whose rules differ between two rendered trees (comments aside), added or removed ones too."""
    before, after = rule_files(old), rule_files(new)
    return sorted(name for name in set(before) | set(after)
                  if name not in before or name not in after
                  or yaml.safe_load(before[name]) != yaml.safe_load(after[name]))
