"""The series a query may select, with type and label names, by origin.

- the helpers' exposition text (what KFM services serve on /metrics), parsed
  with prometheus-client's own parser;
- the span metrics each collector config derives from spans (the
  span_metrics connector), worked out from the config the way the connector
  and the Prometheus exporters name them;
- series Prometheus makes itself (up, scrape_*); ALERTS and ALERTS_FOR_STATE
  and recorded series are worked out from the rules by contract.py.

Every scraped or exported series also carries the target labels job and
instance.
"""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

TARGET_LABELS = frozenset({"job", "instance"})
HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")
PROMETHEUS_SERIES = ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added")
SPAN_CONNECTOR_TYPES = ("span_metrics", "spanmetrics")
SPAN_DEFAULT_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")
SPAN_DEFAULT_NAMESPACE = "traces.span.metrics"
PROMETHEUS_EXPORTER_TYPES = ("prometheus_remote_write", "prometheusremotewrite", "prometheus")
UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds"}
NATIVE_HISTOGRAM = "native histogram"


@dataclass(frozen=True)
class Series:
    name: str                        # the sample name a selector uses
    family: str
    kind: str                        # counter, gauge, histogram, native histogram, summary, unknown
    labels: frozenset[str] | None    # None: the exposition has no sample to read them from
    origin: str


def from_exposition(text: str, origin: str = "the helpers' exposition") -> dict[str, Series]:
    found: dict[str, Series] = {}
    for family in text_string_to_metric_families(text):
        names = {sample.name for sample in family.samples} or set(_sample_names(family.name, family.type))
        for name in sorted(names):
            samples = [s for s in family.samples if s.name == name]
            labels = frozenset(k for s in samples for k in s.labels) | TARGET_LABELS if samples else None
            found[name] = Series(name, family.name, family.type, labels, origin)
    return found


def _sample_names(family: str, kind: str) -> tuple[str, ...]:
    if kind == "counter":
        return (family + "_total",)
    if kind == "histogram":
        return tuple(family + part for part in HISTOGRAM_PARTS)
    if kind == "summary":
        return (family, family + "_count", family + "_sum")
    return (family,)


def native_histograms() -> dict[str, Series]:
    """The contract's native histograms (conventions.NATIVE_HISTOGRAMS): one series each, no `le`."""
    from generator import conventions as c

    return {name: Series(name, name, NATIVE_HISTOGRAM, frozenset(labels) | TARGET_LABELS,
                         "services exporting it over OTLP (a native histogram)")
            for name, labels in c.NATIVE_HISTOGRAMS.items()}


def declared_series(declared: tuple[Any, ...]) -> dict[str, Series]:
    """Series of the definitions' Metric declarations (generator/model/declared_metrics.py)."""
    kinds = {"native_histogram": NATIVE_HISTOGRAM}
    found = {}
    for metric in declared:
        origin = f"{metric.source} (declared as {metric.name})"
        for name, labels in metric.series_names().items():
            found[name] = Series(name, metric.name, kinds.get(metric.type, metric.type), labels, origin)
    return found


def prometheus_series() -> dict[str, Series]:
    return {name: Series(name, name, "gauge", TARGET_LABELS, "Prometheus") for name in PROMETHEUS_SERIES}


def _prometheus_name(otel_name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_:]", "_", otel_name)


def span_metrics(path: str, config: dict[str, Any]) -> tuple[dict[str, Series], list[str]]:
    """Span metrics one collector config exports to Prometheus, and why any are missing."""
    found: dict[str, Series] = {}
    notes: list[str] = []
    config = config if isinstance(config, dict) else {}
    pipelines = ((config.get("service") or {}).get("pipelines") or {})
    exporters = config.get("exporters") or {}
    for connector, settings in sorted((config.get("connectors") or {}).items()):
        if connector.split("/")[0] not in SPAN_CONNECTOR_TYPES:
            continue
        settings = settings or {}
        fed = any(connector in (p or {}).get("exporters", []) for n, p in pipelines.items() if n.startswith("traces"))
        outputs = [e for n, p in sorted(pipelines.items()) if n.startswith("metrics")
                   and connector in (p or {}).get("receivers", []) for e in (p or {}).get("exporters", [])
                   if e.split("/")[0] in PROMETHEUS_EXPORTER_TYPES]
        if not fed or not outputs:
            notes.append(f"connector {connector} is not fed by a traces pipeline and exported to Prometheus "
                         "by a metrics pipeline")
            continue
        dimensions = [d for d in SPAN_DEFAULT_DIMENSIONS if d not in (settings.get("exclude_dimensions") or [])]
        dimensions += [d["name"] for d in settings.get("dimensions") or [] if isinstance(d, dict) and "name" in d]
        labels = frozenset(_prometheus_name(d) for d in dimensions) | TARGET_LABELS
        prefix = _prometheus_name(settings.get("namespace", SPAN_DEFAULT_NAMESPACE))
        histogram = settings.get("histogram") or {}
        origin = f"the {connector} connector of {path}"
        for exporter in outputs:
            suffixes = (exporters.get(exporter) or {}).get("add_metric_suffixes", True) is not False
            calls = f"{prefix}_calls" + ("_total" if suffixes else "")
            found[calls] = Series(calls, f"{prefix}_calls", "counter", labels, origin)
            if (settings.get("events") or {}).get("enabled"):
                events = f"{prefix}_events" + ("_total" if suffixes else "")
                found[events] = Series(events, f"{prefix}_events", "counter", labels, origin)
            if histogram.get("disable"):
                continue
            unit = histogram.get("unit")
            if suffixes and (not isinstance(unit, str) or unit not in UNIT_SUFFIXES):
                notes.append(f"connector {connector}: histogram.unit is {unit!r}; set it to s or ms, as the "
                             "duration metric's name depends on it")
                continue
            family = f"{prefix}_duration" + (f"_{UNIT_SUFFIXES[str(unit)]}" if suffixes else "")
            for part in HISTOGRAM_PARTS:
                part_labels = labels | {"le"} if part == "_bucket" else labels
                found[family + part] = Series(family + part, family, "histogram", part_labels, origin)
    if not found and not notes:
        notes.append("no span_metrics connector")
    return found, notes
