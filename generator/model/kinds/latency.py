"""Latency: the share of requests slower than a threshold, from a classic or a native histogram."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TYPE_CHECKING

from generator import conventions as c
from generator.promql import builder as b
from generator.model import fields
from generator.promql.selectors import Selector, SelectorError, parse_selector
from generator.prometheus.testseries import native_bucket_indexes
from generator.model.kinds.base import Problems, group_by_problems, parse_field
from generator.model.kinds.events import EventSLI, EventSources

if TYPE_CHECKING:
    from generator.model.declared_metrics import Metric

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

    def bucket_layout(self) -> tuple[str | None, tuple[int, int] | None]:
        if self.native:
            return None, native_bucket_indexes(float(self.threshold_seconds))
        return c.le_normalised(self.threshold_seconds), None   # the spelling Prometheus 3 stores

    def threshold_text(self) -> str:
        """The threshold as PromQL reads it (the shortest form: 0.3, 2, 1e-05)."""
        return c.go_float(self.threshold_seconds)

    def histogram_rate(self, base: int = c.BASE_WINDOW_SECONDS) -> b.Expr:
        """The native histogram's summed rate over the staging window."""
        return self._sum_rate(self.sources().total, base)

    def _rates(self, window: int) -> tuple[b.Expr, b.Expr]:
        if not self.native:
            return super()._rates(window)
        rate = self.histogram_rate(window)
        total = b.call("histogram_count", rate)
        # The share above the threshold, times the count; with no traffic the share is NaN
        # (0/0), so the rate is 0 there instead.
        share = b.call("histogram_fraction", self.threshold_text(), "+Inf", rate)
        bad = b.binary(b.binary(share, "*", b.paren(b.binary(total, ">", 0)), wrap=True), "or",
                       b.binary(0, "*", total), lines=True)
        return bad, total

    def no_data_expr(self, slo: str) -> str:
        src = self.sources()
        if self.native or src.good is None:
            return str(b.call("absent", src.total))
        return str(b.binary(b.call("absent", src.total), "or", b.call("absent", src.good), lines=True, modifier=b.on(())))

    def prometheus_features(self) -> list[tuple[str, str]]:
        return [("sli.native", "native_histograms")] if self.native else []

    def runbook_queries(self) -> list[str]:
        if not self.native:
            return super().runbook_queries()
        rate = self.histogram_rate()   # one native histogram: its count, the share above the threshold
        return [f"{b.call('histogram_count', rate)}    # requests per second",
                f"{b.call('histogram_fraction', self.threshold_text(), '+Inf', rate)}    # share slower than the threshold"]

    def problems(self) -> Problems:
        found: Problems = []
        if not isinstance(self.native, bool):
            found.append(("sli.native", f"expected True or False, got {self.native!r}"))
            return found
        hist = parse_field("sli.histogram", self.histogram, found)
        if hist is not None and self.native:
            self._native_problems(hist, found)
        elif hist is not None:
            # A histogram outside KFM's contract is checked against its Metric(...) declaration when the
            # catalog loads (declared_metric_problems), where the declarations are known.
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
        group_by_problems(self.group_by, found)
        return found

    def _native_problems(self, hist: Selector, found: Problems) -> None:
        if hist.metric.endswith(c.HISTOGRAM_SUFFIXES):
            found.append(("sli.histogram", f"{hist.metric!r}: a native histogram is one series; give its name "
                                           "without _bucket, _count or _sum"))
        if not fields.is_number(self.threshold_seconds):
            found.append(("sli.threshold_seconds", f"expected seconds as a number, got {self.threshold_seconds!r}"))
        elif not 0 < float(self.threshold_seconds) <= MAX_LATENCY_THRESHOLD:
            found.append(("sli.threshold_seconds", f"{self.threshold_seconds!r}: give a threshold above 0 and at "
                                                   f"most {MAX_LATENCY_THRESHOLD:g} seconds"))

    def declared_metric_problems(self, metrics: list["Metric"], relative: Callable[[str], str]) -> Problems:
        """A histogram outside KFM's contract must be a declared histogram of its kind, at a declared bucket."""
        try:
            metric = parse_selector(self.histogram).metric
        except SelectorError:
            return []  # named by the SLI's own checks
        kind = "native_histogram" if self.native else "histogram"
        known = c.NATIVE_HISTOGRAMS if self.native else c.HISTOGRAM_BUCKETS
        if metric in known:
            return []
        declaration = next((m for m in metrics if m.name == metric), None)
        if declaration is None or declaration.type != kind:
            what = "a native histogram" if self.native else "a classic histogram"
            twin = " (it is a native histogram: give native=True)" if not self.native and (
                metric in c.NATIVE_HISTOGRAMS or (declaration and declaration.type == "native_histogram")) else ""
            return [("sli.histogram",
                     f"{metric!r} is not {what} of KFM's contract or of a Metric declaration{twin}; "
                     f"declare it: METRICS = [Metric({metric!r}, {kind!r}, labels={{...}}, source=..."
                     + (", buckets=(...)" if not self.native else "") + ")] (docs/metrics.md)")]
        if not self.native and fields.is_number(self.threshold_seconds) \
                and float(self.threshold_seconds) not in map(float, declaration.buckets):
            return [("sli.threshold_seconds",
                     f"{self.threshold_seconds!r} is not a bucket boundary of {metric} "
                     f"({', '.join(map(repr, declaration.buckets))}; {relative(declaration.defined_in)})")]
        return []

    def canonical(self) -> dict[str, Any]:
        found = {"kind": "latency", "histogram": self.histogram,
                 "threshold_seconds": self.threshold_seconds, "group_by": list(self.group_by)}
        if self.native:
            found["native"] = True   # only when set: classic SLOs keep their definitions hash
        return found
