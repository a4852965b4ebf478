"""The contract's metrics as prometheus-client objects, and label checks.

Names, types, label names, bounded values and buckets all come from
contract.METRIC_LABELS and HISTOGRAM_BUCKETS; this module only turns them
into Counter/Histogram/Gauge objects and refuses a value a bounded label does
not allow (a new value would be a new series nobody alerts on).
"""
from __future__ import annotations

from typing import Any

import math

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from . import contract as c

# What the helpers expose: the contract minus the span metrics, which the
# collector's span_metrics connector derives from spans.
SPAN_METRICS = (c.SPAN_CALLS, c.SPAN_DURATION)
HELP = {
    c.PIPELINE_RUNS: "Pipeline runs by dataset, stage and status.",
    c.PIPELINE_RUN_DURATION: "Pipeline run duration in seconds.",
    c.DATASET_LAST_SUCCESS: "Unix time of the dataset's last successful pipeline run.",
    c.PROMOTION_GATE_RESULTS: "Promotion gate evaluations by gate and result.",
    c.PROMOTIONS: "Dataset promotions by the worst result of their gates.",
    c.EVIDENCE_RESOLUTIONS: "Evidence resolutions by outcome.",
    c.EVIDENCE_RESOLUTION_DURATION: "Evidence resolution duration in seconds.",
    c.FOCUS_ANSWERS: "Focus Mode answers by outcome.",
    c.POLICY_DECISIONS: "Policy decisions by decision, route and policy label.",
    c.HTTP_SERVER_DURATION: "Governed API request duration in seconds.",
}
HELPER_METRICS = tuple(name for name in c.METRIC_LABELS if name not in SPAN_METRICS)
_TYPES = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}


def label_names(metric: str) -> tuple[str, ...]:
    return tuple(c.METRIC_LABELS[metric][1])


def build(metric: str, registry: CollectorRegistry) -> Any:
    """One contract metric, registered in registry."""
    kind, _ = c.METRIC_LABELS[metric]
    if kind == "counter" and not metric.endswith("_total"):
        # prometheus-client exposes a counter as <name>_total whatever it is given
        raise ValueError(f"{metric}: a counter's name must end in _total (prometheus-client appends it)")
    extra = {"buckets": c.HISTOGRAM_BUCKETS[metric]} if kind == "histogram" else {}
    return _TYPES[kind](metric, HELP[metric], label_names(metric), registry=registry, **extra)


def checked(metric: str, labels: dict[str, str]) -> tuple[str, ...]:
    """The label values of one series in label-name order; unknown bounded values refused."""
    names = label_names(metric)
    if set(labels) != set(names):
        raise ValueError(f"{metric}: labels {sorted(labels)} differ from the contract's {list(names)}")
    values = []
    for name in names:
        value = labels[name]
        allowed = c.METRIC_LABELS[metric][1][name]
        if not isinstance(value, str) or not value:
            raise ValueError(f"{metric}: label {name} needs a non-empty string, got {value!r}")
        if allowed is not None and value not in allowed:
            raise ValueError(f"{metric}: label {name}={value!r} is not one of {', '.join(allowed)}; "
                             "the contract's bounded values are the only ones accepted")
        values.append(value)
    return tuple(values)


def duration(metric: str, seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds < 0:
        raise ValueError(f"{metric}: a duration must be a finite number of seconds >= 0, got {seconds!r}")
    return float(seconds)
