"""What an importer reads a spec into: plain data, independent of the spec's format.

`build` turns it into the real definition objects (so every rule of the definition API applies to an
import before anything is written), `pythonsource` turns it into the definitions file.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from generator import conventions as c
from generator.model import fields
from generator.model.declared_metrics import Metric
from generator.model.kinds.events_ratio import EventsRatio
from generator.model.kinds.latency import Latency
from generator.model.problems import DefinitionError
from generator.model.slo import SLO, Alerting, BurnWindow, Tier, Waiver
from generator.promql.parser import (Aggregation, Binary, Call, PromQLError, VectorSelector, parse_expr)
from generator.promql.selectors import Selector, SelectorError, is_valid_label_name

MAX_TEXT = 2000          # descriptions (docs/definitions.md: Bounds)
MAX_DOCUMENTS = 10000    # documents in one spec file
MAX_FILE_BYTES = 16 * 1024 * 1024
IMPORTED_PREFIX = "imported_"   # a spec label whose name the generator sets itself is kept under this prefix
WINDOW_TOKEN = re.compile(r"\{\{\s*\.window\s*\}\}")
WINDOW_SENTINEL = "99999999s"    # stands for {{.window}} while a query is parsed


def spec_file(source: str) -> str:
    """The spec's file name, for text in generated files (never a path of the machine that imported it)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]


class Refused(Exception):
    """One problem of one spec: `file: SLO 'name': field: why` (exit 2)."""

    def __init__(self, field_: str, message: str) -> None:
        super().__init__(message)
        self.field = field_
        self.message = message


@dataclass(frozen=True)
class ImportProblem:
    file: str
    slo: str
    field: str
    message: str

    def line(self) -> str:
        where = f"SLO {self.slo!r}" if self.slo else "spec"
        return f"{self.file}: {where}: {self.field}: {' '.join(self.message.split())}"[:1000]


@dataclass
class EventsSpec:
    total: str
    bad: str | None = None
    good: str | None = None
    group_by: tuple[str, ...] = ()
    examples: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class LatencySpec:
    histogram: str
    threshold_seconds: float
    group_by: tuple[str, ...] = ()
    native: bool = False
    buckets: tuple[float, ...] = ()   # the boundaries the spec shows (for a declaration)


@dataclass
class WindowSpec:
    long: str
    short: str
    factor: str
    for_: str = "2m"


@dataclass
class TierSpec:
    enabled: bool = True
    disabled_reason: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    windows: list[WindowSpec] = field(default_factory=list)
    keep_firing_for: str = ""
    waiver: tuple[str, str, str] | None = None   # reason, expires, approved_by


@dataclass
class ImportedSLO:
    source: str                   # the spec file, as the user named it
    name: str
    service: str
    owner: str
    description: str
    objective: Decimal
    sli: EventsSpec | LatencySpec
    period: str = "30d"
    labels: dict[str, str] = field(default_factory=dict)
    page: TierSpec = field(default_factory=TierSpec)
    ticket: TierSpec = field(default_factory=TierSpec)
    runbook: str = ""
    min_events: int = 0
    no_data_for: str = "4m"
    no_data_severity: str = ""
    query_offset: str = ""
    notes: list[str] = field(default_factory=list)   # comments above the SLO in the generated file


@dataclass
class MetricSpec:
    name: str
    type: str
    labels: dict[str, None]
    source: str
    buckets: tuple[float, ...] = ()


# --- scalar values ---------------------------------------------------------------------------------

def text_value(value: object, where: str, *, required: bool = True, limit: int = MAX_TEXT,
               multiline: bool = True) -> str:
    """A string field of a spec (YAML may give a number or a bool where a string is meant)."""
    if value is None:
        if required:
            raise Refused(where, "missing")
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise Refused(where, f"{value!r} is not text")
        value = str(value)
    if not isinstance(value, str):
        raise Refused(where, f"expected text, got {type(value).__name__}")
    trouble = fields.text_problem(value, "text", multiline=multiline, limit=limit, required=required)
    if trouble:
        raise Refused(where, trouble)
    return value


def mapping(value: object, where: str, *, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Refused(where, f"expected a mapping, got {type(value).__name__ if value is not None else 'nothing'}")
    for key in value:
        if not isinstance(key, str):
            raise Refused(where, f"key {str(key)[:40]!r} is not text")
    return value


def sequence(value: object, where: str, *, required: bool = True) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise Refused(where, f"expected a list, got {type(value).__name__ if value is not None else 'nothing'}")
    return value


def number(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Refused(where, f"expected a number, got {type(value).__name__}")
    if isinstance(value, str) and len(value) > 40:
        raise Refused(where, "expected a number, got long text")
    try:
        result = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise Refused(where, f"expected a number, got {str(value)[:40]!r}") from None
    if not result.is_finite() or abs(result.adjusted()) > 30:
        raise Refused(where, f"{str(value)[:40]} is not a usable number")
    return result


def decimal_text(value: Decimal) -> str:
    rendered = format(value.normalize(), "f")
    return rendered


def name_value(value: object, where: str, what: str) -> str:
    text = text_value(value, where, multiline=False, limit=200)
    if not fields.NAME.match(text):
        raise Refused(where, f"{text[:80]!r} is not a valid {what}: lower-case words joined by '-' "
                             "(rename it in the spec; the importer does not guess names)")
    return text


def labels_value(value: object, where: str, notes: list[str]) -> dict[str, str]:
    """Spec labels as ours: valid names and one-line values; a name the generator sets itself is kept as
    imported_<name> (said in a note)."""
    found: dict[str, str] = {}
    for key, raw in sorted(mapping(value, where, required=False).items()):
        if isinstance(raw, list):
            if len(raw) != 1:
                raise Refused(f"{where}.{key}", "a label with several values has no single value to keep")
            raw = raw[0]
        label_value = text_value(raw, f"{where}.{key}", multiline=False, limit=200)
        if not is_valid_label_name(key):
            raise Refused(f"{where}.{key}", f"{key[:80]!r} is not a valid Prometheus label name")
        name = key
        if key in c.RESERVED_LABELS:
            name = IMPORTED_PREFIX + key
            notes.append(f"label {key!r} is set by the generator (it is its own {key!r}): kept as {name!r}")
        found[name] = label_value
    return found


# --- queries ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RateSum:
    """`sum [by (...)] (rate(selector[{{.window}}]))`, or `+`/`-` of such."""

    selector: Selector
    group_by: tuple[str, ...]


def parse_query(text: object, where: str, windowed: bool = True) -> Any:
    query = text_value(text, where, limit=20000)
    if windowed:
        if not WINDOW_TOKEN.search(query):
            raise Refused(where, "the query has no {{.window}}: its window would not follow the alert windows")
        query = WINDOW_TOKEN.sub(WINDOW_SENTINEL, query)
    try:
        return parse_expr(query)
    except (PromQLError, SelectorError, RecursionError) as error:
        raise Refused(where, f"not a PromQL expression the importer reads: {str(error)[:200]}") from None


def rate_sum(node: Any, where: str) -> RateSum | None:
    """The selector and grouping of `sum [by (labels)] (rate(selector[{{.window}}]))`, else None."""
    if not isinstance(node, Aggregation) or node.op != "sum" or node.param is not None \
            or node.grouping not in (None, "by"):
        return None
    inner = node.expr
    if not isinstance(inner, Call) or inner.function not in ("rate", "increase") or len(inner.args) != 1:
        return None
    arg = inner.args[0]
    if not isinstance(arg, VectorSelector) or arg.range != f"[{WINDOW_SENTINEL}]":
        return None
    return RateSum(arg.selector, tuple(sorted(node.labels)))


SHAPE = ("sum(rate(metric{...}[{{.window}}])) (or sum by (labels) (...)); other shapes (subqueries, "
         "offsets, functions, arithmetic) change the SLI's meaning and have no counterpart in the API")


def counter_selector(selector: Selector, where: str) -> str:
    if selector.metric.endswith("_bucket") or any(m.label == "le" for m in selector.matchers):
        raise Refused(where, f"{selector.render()[:200]}: a histogram bucket as a counter; a latency SLI is "
                             "count minus bucket{le=...} over count")
    if any(m.label == "__name__" for m in selector.matchers):
        raise Refused(where, "a __name__ matcher has no counterpart in the API")
    return selector.render()


def events_from_queries(bad_or_good: str, part_query: object, total_query: object, where_part: str,
                        where_total: str, windowed: bool = True) -> EventsSpec | LatencySpec:
    """A ratio of rate sums: EventsRatio, or Latency when the part reads a histogram's buckets."""
    total_node = parse_query(total_query, where_total, windowed)
    part_node = parse_query(part_query, where_part, windowed)
    total = rate_sum(total_node, where_total)
    if total is None:
        raise Refused(where_total, f"the query is not {SHAPE}")
    latency = _latency(bad_or_good, part_node, total, where_part)
    if latency is not None:
        return latency
    part = rate_sum(part_node, where_part)
    if part is None:
        raise Refused(where_part, f"the query is not {SHAPE}")
    if part.group_by != total.group_by:
        raise Refused(where_part, f"grouped by ({', '.join(part.group_by)}) but the total by "
                                  f"({', '.join(total.group_by)}): both must keep the same labels")
    spec = EventsSpec(total=counter_selector(total.selector, where_total), group_by=total.group_by)
    setattr(spec, bad_or_good, counter_selector(part.selector, where_part))
    return spec


def _latency(bad_or_good: str, part_node: Any, total: RateSum, where: str) -> LatencySpec | None:
    """count - bucket{le=T} (bad) or bucket{le=T} (good), over count of the same histogram."""
    if not total.selector.metric.endswith("_count"):
        return None
    base = total.selector.metric[:-len("_count")]
    if bad_or_good == "bad":
        if not (isinstance(part_node, Binary) and part_node.op == "-" and part_node.matching is None
                and not part_node.bool_modifier):
            return None
        count, bucket = rate_sum(part_node.lhs, where), rate_sum(part_node.rhs, where)
        if count is None or bucket is None or count != total:
            return None
    else:
        bucket = rate_sum(part_node, where)
        if bucket is None:
            return None
    if bucket.selector.metric != base + "_bucket":
        return None
    le = [m for m in bucket.selector.matchers if m.label == "le"]
    rest = tuple(m for m in bucket.selector.matchers if m.label != "le")
    if len(le) != 1 or le[0].op != "=":
        raise Refused(where, "a latency SLI needs exactly one le=\"<seconds>\" matcher on the bucket")
    if sorted(rest, key=repr) != sorted(total.selector.matchers, key=repr):
        raise Refused(where, "the bucket and the count select different series (their matchers differ)")
    if bucket.group_by != total.group_by:
        raise Refused(where, "the bucket and the count are grouped by different labels")
    threshold = number(le[0].value, where)
    if threshold <= 0:
        raise Refused(where, f"le={le[0].value!r}: a latency threshold must be above 0")
    return LatencySpec(histogram=Selector(base, rest).render(), threshold_seconds=float(threshold),
                       group_by=total.group_by, buckets=(float(threshold),))


# --- metric declarations ---------------------------------------------------------------------------

def declarations(slos: list[ImportedSLO], known: list[Metric]) -> list[MetricSpec]:
    """A Metric declaration for every series the SLIs read that neither KFM's contract nor an existing
    declaration covers (labels from the matchers, unbounded)."""
    covered: set[str] = set(c.METRIC_LABELS) | set(c.NATIVE_HISTOGRAMS)
    for metric in known:
        covered |= set(metric.series_names())
    for contract_histogram in c.HISTOGRAM_BUCKETS:
        covered |= {contract_histogram + suffix for suffix in ("_bucket", "_count", "_sum")}
    histograms: dict[str, MetricSpec] = {}
    counters: dict[str, MetricSpec] = {}
    readers: dict[str, set[str]] = {}
    source = ""
    from generator.promql.selectors import parse_selector
    base: str | None
    for slo in slos:
        if isinstance(slo.sli, LatencySpec):
            hist = parse_selector(slo.sli.histogram)
            if hist.metric in covered or hist.metric + "_count" in covered:
                continue
            spec = histograms.setdefault(hist.metric, MetricSpec(hist.metric, "histogram", {}, source))
            spec.labels.update({m.label: None for m in hist.matchers})
            spec.labels.update({label: None for label in slo.sli.group_by})
            spec.buckets = tuple(sorted(set(spec.buckets) | set(slo.sli.buckets)))
            readers.setdefault(spec.name, set()).add(spec_file(slo.source))
    for slo in slos:
        if not isinstance(slo.sli, EventsSpec):
            continue
        for text in (slo.sli.total, slo.sli.bad, slo.sli.good):
            if text is None:
                continue
            selector = parse_selector(text)
            if selector.metric in covered:
                continue
            base = next((b for b in histograms if selector.metric in (b + "_count", b + "_sum")), None)
            if base is None and selector.metric.endswith(("_count", "_sum")):
                # A histogram's or a summary's _count/_sum: the series the SLI reads are the same for both,
                # and the buckets are unknown, so it is declared as a summary (say so in the file).
                base = selector.metric.rsplit("_", 1)[0]
                if base in covered:
                    continue
                histograms.setdefault(base, MetricSpec(base, "summary", {}, source))
            spec = histograms[base] if base else counters.setdefault(
                selector.metric, MetricSpec(selector.metric, "counter", {}, source))
            spec.labels.update({m.label: None for m in selector.matchers})
            spec.labels.update({label: None for label in slo.sli.group_by})
            readers.setdefault(spec.name, set()).add(spec_file(slo.source))
    found = sorted([*histograms.values(), *counters.values()], key=lambda m: m.name)
    for spec in found:
        spec.source = (f"read by the SLOs imported from {', '.join(sorted(readers.get(spec.name, ())))}"[:200]
                       + "; say which exporter or service exposes it")
        spec.labels = {k: None for k in sorted(spec.labels) if k not in ("job", "instance", "le")}
    return found


# --- the real definition objects -------------------------------------------------------------------

def build_slo(spec: ImportedSLO, defined_in: str) -> SLO:
    """The SLO the generated file defines (raises DefinitionError with the API's own problems)."""
    sli: EventsRatio | Latency
    if isinstance(spec.sli, EventsSpec):
        sli = EventsRatio(total=spec.sli.total, bad=spec.sli.bad, good=spec.sli.good, group_by=spec.sli.group_by,
                          examples=spec.sli.examples)
    else:
        sli = Latency(histogram=spec.sli.histogram, threshold_seconds=spec.sli.threshold_seconds,
                      group_by=spec.sli.group_by, native=spec.sli.native)
    return SLO(name=spec.name, service=spec.service, owner=spec.owner, description=spec.description,
               objective=decimal_text(spec.objective), sli=sli, runbook=spec.runbook, period=spec.period,
               alerting=Alerting(page=build_tier(spec.page), ticket=build_tier(spec.ticket),
                                 min_events=spec.min_events, no_data_for=spec.no_data_for,
                                 no_data_severity=spec.no_data_severity, query_offset=spec.query_offset),
               labels=spec.labels, defined_in=defined_in)


def build_tier(tier: TierSpec) -> Tier:
    if not tier.enabled:
        waiver = Waiver(*tier.waiver) if tier.waiver else None
        return Tier(enabled=False, disabled_reason=tier.disabled_reason, labels=tier.labels, waiver=waiver,
                    keep_firing_for=tier.keep_firing_for)
    return Tier(labels=tier.labels, keep_firing_for=tier.keep_firing_for,
                windows=tuple(BurnWindow(w.long, w.short, w.factor, w.for_) for w in tier.windows))


def build_metric(spec: MetricSpec, defined_in: str) -> Metric:
    return Metric(spec.name, spec.type, labels=dict(spec.labels), source=spec.source, buckets=spec.buckets,
                  defined_in=defined_in)


def definition_problems(error: DefinitionError) -> list[tuple[str, str]]:
    return [(problem.field, problem.message) for problem in error.problems]
