"""Metrics that services or exporters emit and KFM's instrumentation helpers do not, declared in the
definitions (`METRICS = [Metric(...)]` in any file of slo/, alerts/ or dashboards/).

    from generator import Metric

    METRICS = [
        Metric("nginx_ingress_controller_requests", "counter",
               labels={"ingress": None, "status": None, "method": None},
               source="the ingress-nginx controller's /metrics"),
    ]

A declaration tells the metric contract gate which series exist, with which type and labels, so a
query over an exporter's metric is checked like one over KFM's own; an undeclared metric still fails
the gate. It also gives a classic histogram's buckets (for `Latency` thresholds) and where the
metric comes from (the runbooks say so).
"""
from __future__ import annotations

from typing import Any

import math
from dataclasses import dataclass, field

from generator import conventions as c
from generator.model import fields
from generator.model.problems import Collector, caller_file
from generator.promql.selectors import METRIC_NAME, is_valid_label_name

METRIC_TYPES = ("counter", "gauge", "histogram", "native_histogram", "summary")
MAX_BUCKETS = 100
MAX_BOUNDED_VALUES = 1000


@dataclass(frozen=True)
class Metric:
    """One metric as a selector names it: a counter or gauge by its sample name
    (``nginx_ingress_controller_requests``, ``kube_pod_status_ready``), a classic histogram or a
    summary by its base name (its ``_bucket``/``_count``/``_sum`` series follow), a native histogram
    by its one series' name.

    ``labels`` maps each label name to its bounded values (a tuple; the gate refuses a matcher no
    value satisfies) or None (unbounded). The scrape's ``job`` and ``instance`` are always there.
    """

    name: str
    type: str
    labels: tuple[Any, ...] | dict[str, Any] = ()
    source: str = ""                  # where it comes from, for the runbooks and the contract report
    buckets: tuple[float, ...] = ()   # a classic histogram's bucket boundaries (seconds), for Latency
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.labels, dict):
            try:
                frozen = tuple(sorted((name, tuple(values) if isinstance(values, (list, tuple)) else values)
                                      for name, values in self.labels.items()))
            except TypeError:
                frozen = tuple(self.labels.items())
            object.__setattr__(self, "labels", frozen)
        object.__setattr__(self, "buckets", fields.ordered(self.buckets))
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("metric", self.name, self.defined_in)
        p.guard("definition", self._validate, p)
        p.raise_if_any()

    def _validate(self, p: Collector) -> None:
        if not p.check(isinstance(self.name, str) and METRIC_NAME.fullmatch(self.name) is not None
                       and ":" not in self.name, "name",
                       f"{self.name!r} must be a metric name (letters, digits and '_'; ':' is for recorded series)"[:200]):
            return
        p.check(self.name not in c.METRIC_LABELS and self.name not in c.NATIVE_HISTOGRAMS, "name",
                f"{self.name} is a metric of KFM's own contract (kfm_instrument/contract.py): it needs no declaration")
        if not p.check(isinstance(self.type, str) and self.type in METRIC_TYPES, "type",
                       f"{self.type!r} must be one of {', '.join(METRIC_TYPES)}"[:200]):
            return
        if self.type in ("histogram", "summary", "native_histogram"):
            p.check(not self.name.endswith(c.HISTOGRAM_SUFFIXES), "name",
                    f"give the {self.type.replace('_', ' ')}'s base name, without _bucket, _count or _sum")
        self._validate_labels(p)
        p.check(fields.text_problem(self.source, "source", multiline=False, limit=300) is None, "source",
                "say where the metric comes from (an exporter, a service), in one line")
        self._validate_buckets(p)

    def _label_items(self) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        """The labels after __post_init__: (name, bounded values or None) pairs."""
        return self.labels if isinstance(self.labels, tuple) else ()

    def _validate_labels(self, p: Collector) -> None:
        if not isinstance(self.labels, tuple) or not all(isinstance(item, tuple) and len(item) == 2
                                                          for item in self.labels):
            p.add("labels", "give labels as a dict of label name to bounded values (a tuple) or None")
            return
        for name, values in self._label_items():
            if not is_valid_label_name(name) or name == "le" or name in ("job", "instance"):
                p.add("labels", f"{name!r} cannot be declared: not a label name, or one Prometheus sets itself "
                                "(job, instance; le on histogram buckets)"[:200])
                continue
            if values is None:
                continue
            if not isinstance(values, tuple) or not values or len(values) > MAX_BOUNDED_VALUES:
                p.add("labels", f"{name}: give its values as a tuple of 1 to {MAX_BOUNDED_VALUES} strings, "
                                "or None when it is unbounded")
                continue
            for value in values:
                problem = fields.label_value_problem(value)
                if problem:
                    p.add("labels", f"{name}: {problem}"[:300])

    def _validate_buckets(self, p: Collector) -> None:
        if self.type != "histogram":
            p.check(not self.buckets, "buckets", "only a classic histogram has buckets to declare")
            return
        if not p.check(isinstance(self.buckets, tuple) and 0 < len(self.buckets) <= MAX_BUCKETS
                       and all(fields.is_number(b) and 0 < float(b) < math.inf for b in self.buckets), "buckets",
                       f"give the histogram's bucket boundaries, 1 to {MAX_BUCKETS} numbers above 0 (not +Inf)"):
            return
        p.check(len(set(map(float, self.buckets))) == len(self.buckets), "buckets", "a boundary is given twice")

    @property
    def label_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self._label_items())

    def bounded_values(self, label: str) -> tuple[str, ...]:
        return next((tuple(values) for name, values in self._label_items() if name == label and values), ())

    def series_names(self) -> dict[str, frozenset[str]]:
        """Each sample name a selector may use, with its label names (job and instance added)."""
        labels = self.label_names | {"job", "instance"}
        if self.type == "histogram":
            return {self.name + "_bucket": labels | {"le"}, self.name + "_count": labels, self.name + "_sum": labels}
        if self.type == "summary":
            return {self.name: labels | {"quantile"}, self.name + "_count": labels, self.name + "_sum": labels}
        return {self.name: labels}

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type,
                "labels": [[n, list(v) if v else None] for n, v in self._label_items()],
                "source": self.source, "buckets": [float(b) for b in self.buckets]}
