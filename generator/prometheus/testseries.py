"""Input series for generated promtool tests: expanding notation, and series
whose labels match an SLI's selectors (bad, good, histogram buckets, freshness)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TYPE_CHECKING
from decimal import Decimal
from fractions import Fraction

from generator import conventions as c
from generator.model.problems import DefinitionError, Problem
from generator.promql.selectors import Matcher, Selector, labels_text
from generator.prometheus.simulate import TICK, EventHistory, TickHistory

if TYPE_CHECKING:
    from generator.model.kinds.events import EventSLI
    from generator.model.slo import SLO

GENERIC_VALUES = ("ok", "200", "500", "503", "other")


# --- series text ------------------------------------------------------------

def decimal_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    dec = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("1e-12")).normalize()
    return format(dec, "f")


_NOTATIONS: dict[tuple[tuple[int, ...], int], str] = {}   # alike SLOs write the same simulated counters


def notation(values: list[int], scale: int = 1) -> str:
    """promtool's expanding notation: 'a+bxn' is a, a+b, ..., a+n*b (n+1 values).

    `values` are integers in units of 1/scale.
    """
    key = (tuple(values), scale)
    found = _NOTATIONS.get(key)
    if found is None:
        if len(_NOTATIONS) > 10_000:
            _NOTATIONS.clear()
        found = _NOTATIONS[key] = _notation(values, scale)
    return found


def _notation(values: list[int], scale: int) -> str:
    parts = []
    i = 0
    while i < len(values):
        if i == len(values) - 1:
            parts.append(decimal_text(Fraction(values[i], scale)))
            break
        step = values[i + 1] - values[i]
        j = i + 1
        while j + 1 < len(values) and values[j + 1] - values[j] == step:
            j += 1
        sign = "+" if step >= 0 else "-"
        parts.append(f"{decimal_text(Fraction(values[i], scale))}{sign}{decimal_text(Fraction(abs(step), scale))}x{j - i}")
        i = j + 1
    return " ".join(parts)


def series_name(metric: str, labels: dict[str, str]) -> str:
    return metric + labels_text(labels)


# --- example label values for event SLIs ------------------------------------

@dataclass(frozen=True)
class EventSeriesShape:
    """Which series to write so the SLI's selectors see bad and good events."""

    total_metric: str
    part_metric: str
    part_is_bad: bool
    part_labels: dict[str, str]     # labels of the series the part selector (bad or good) matches
    other_labels: dict[str, str]    # labels of a series the total matches but the part does not
    group_labels: dict[str, str]
    latency_le: str | None = None   # latency: the bucket series' le value
    native_buckets: tuple[int, int] | None = None   # native latency: (good, bad) bucket index at schema 0


def _value_for(metric: str, matcher: Matcher, want: bool) -> str | None:
    """A label value that does (want=True) or does not match the matcher.

    Values the metric contract knows come first, so a "good" evidence
    resolution is outcome="resolved", not an invented value.
    """
    candidates = ([matcher.value] if matcher.op == "=" and want else [])
    candidates += list(c.known_label_values(metric, matcher.label)) + list(GENERIC_VALUES)
    return next((v for v in candidates if matcher.matches(v) == want), None)


def group_labels(group_by: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for label in group_by:
        labels[label] = c.LABEL_VALUES.get(label, ("example",))[0]
    return labels


def event_shape(slo: "SLO", sli: "EventSLI") -> EventSeriesShape:
    """`sli`: the SLO's SLI (given typed: the SLO holds any kind)."""
    src = sli.sources()
    problems: list[str] = []
    part = src.bad if src.bad is not None else src.good
    assert part is not None, "an event kind's sources give bad or good events"
    groups = group_labels(sli.group_by)
    latency_le, native_buckets = sli.bucket_layout()
    base = src.total.equality_labels()
    for m in src.total.matchers:
        if m.op != "=":
            value = _value_for(src.total.metric, m, True)
            if value is None:
                problems.append(f"no example value matches {m.render()}")
            else:
                base[m.label] = value
    # A dimension the selector already fixes (group_by http_route over {http_route="/v1/query"})
    # keeps the selector's value, or the series would not be selected at all.
    groups = {label: base.get(label, value) for label, value in groups.items()}
    part_labels = dict(base)
    other_labels = dict(base)
    extra = [m for m in part.matchers if m.label != "le" and not any(
        t.label == m.label and t.op == m.op and t.value == m.value for t in src.total.matchers)]
    for m in extra:
        value = _value_for(part.metric, m, True)
        if value is None:
            problems.append(f"no example value matches {m.render()}")
        else:
            part_labels[m.label] = value
            other_labels[m.label] = value
    if extra and part.metric == src.total.metric:
        value = _value_for(part.metric, extra[0], False)
        if value is None:
            problems.append(f"no example value fails {extra[0].render()}")
        else:
            other_labels[extra[0].label] = value
    examples = sli.example_labels()
    bad_side, good_side = ("bad", "good")
    part_labels.update(examples.get(bad_side if src.bad is not None else good_side, {}))
    other_labels.update(examples.get(good_side if src.bad is not None else bad_side, {}))
    part_labels.update(groups)
    other_labels.update(groups)
    if latency_le is None and native_buckets is None and part.metric == src.total.metric:
        if not (part.matches(part_labels) and src.total.matches(part_labels)):
            problems.append(f"example labels {part_labels} do not match {part.render()}")
        if part.matches(other_labels) or not src.total.matches(other_labels):
            problems.append(f"example labels {other_labels} must match {src.total.render()} only")
    if problems:
        raise DefinitionError([Problem(slo.defined_in, f"SLO {slo.name!r}", "sli.examples",
                                       "; ".join(problems) + " (give examples={'bad': {...}, 'good': {...}})")])
    return EventSeriesShape(src.total.metric, part.metric, src.bad is not None, part_labels, other_labels,
                            groups, latency_le, native_buckets)


def native_bucket_indexes(threshold: float) -> tuple[int, int]:
    """Buckets of a schema-0 native histogram (bucket i holds (2^(i-1), 2^i]) for a latency test:
    the highest whose upper bound is at most the threshold (good requests) and the lowest whose
    lower bound is at least it (slow ones). Nothing lands in a bucket the threshold cuts, so
    histogram_fraction needs no interpolation and the share above the threshold is exact."""
    mantissa, exponent = math.frexp(threshold)    # threshold = mantissa * 2^exponent, 0.5 <= mantissa < 1
    if mantissa == 0.5:                           # a power of two: 2^(exponent-1) is a bucket boundary
        return exponent - 1, exponent
    return exponent - 1, exponent + 1


def native_notation(good: list[int], bad: list[int], scale: int, buckets: tuple[int, int]) -> str:
    """promtool's expanding notation for a native histogram's samples ({{...}}+{{...}}xN), with the
    good events in one bucket and the bad in another (units of 1/scale, like notation())."""
    low, high = buckets
    gap = " 0" * (high - low - 1)
    good_bound, bad_bound = Fraction(2) ** low, Fraction(2) ** high

    def sample(g: int, b: int) -> str:
        count, total = Fraction(g + b, scale), Fraction(g, scale) * good_bound + Fraction(b, scale) * bad_bound
        return (f"{{{{schema:0 count:{decimal_text(count)} sum:{decimal_text(total)} "
                f"buckets:[{decimal_text(Fraction(g, scale))}{gap} {decimal_text(Fraction(b, scale))}] offset:{low}}}}}")

    parts = []
    i = 0
    while i < len(good):
        if i == len(good) - 1:
            parts.append(sample(good[i], bad[i]))
            break
        step = (good[i + 1] - good[i], bad[i + 1] - bad[i])
        j = i + 1
        while j + 1 < len(good) and (good[j + 1] - good[j], bad[j + 1] - bad[j]) == step:
            j += 1
        parts.append(f"{sample(good[i], bad[i])}+{sample(*step)}x{j - i}")
        i = j + 1
    return " ".join(parts)


def event_input_series(shape: EventSeriesShape, history: EventHistory) -> list[dict[str, Any]]:
    scale = history.scale
    total = list(history.total)
    bad = list(history.bad)
    good = [t - b for t, b in zip(total, bad)]
    if shape.native_buckets is not None:
        return [{"series": series_name(shape.total_metric, shape.part_labels),
                 "values": native_notation(good, bad, scale, shape.native_buckets)}]
    if shape.latency_le is not None:
        labels = {k: v for k, v in shape.part_labels.items() if k != "le"}
        return [
            {"series": series_name(shape.total_metric, labels), "values": notation(total, scale)},
            {"series": series_name(shape.part_metric, {**labels, "le": shape.latency_le}),
             "values": notation(good, scale)},
            {"series": series_name(shape.part_metric, {**labels, "le": "+Inf"}),
             "values": notation(total, scale)},
        ]
    part_values = bad if shape.part_is_bad else good
    other_values = good if shape.part_is_bad else bad
    if shape.part_metric == shape.total_metric:
        return [
            {"series": series_name(shape.part_metric, shape.part_labels), "values": notation(part_values, scale)},
            {"series": series_name(shape.total_metric, shape.other_labels), "values": notation(other_values, scale)},
        ]
    return [
        {"series": series_name(shape.total_metric, shape.other_labels), "values": notation(total, scale)},
        {"series": series_name(shape.part_metric, shape.part_labels), "values": notation(part_values, scale)},
    ]


# --- freshness series ---------------------------------------------------------

def freshness_series(metric: Selector, datasets: list[str], end: int, victim: str | None,
                      victim_values: list[int] | None) -> list[dict[str, Any]]:
    """Last-success series of `metric`: every dataset refreshed each tick, except the victim's own values."""
    base = metric.equality_labels()
    fresh = f"0+{TICK}x{end}"  # the last success is always "now"
    return [{"series": series_name(metric.metric, {**base, c.DATASET: name}),
             "values": notation(victim_values[: end + 1]) if name == victim and victim_values else fresh}
            for name in sorted(datasets)]


def always_fresh(ticks: int) -> list[int]:
    return [TICK * k for k in range(ticks + 1)]


def stale_history(values: list[int], max_age: int) -> TickHistory:
    return TickHistory([TICK * k - v > max_age for k, v in enumerate(values)])
