"""OpenSLO documents as imported SLOs: `openslo/v1` (SLO, SLI, Service, AlertPolicy, AlertCondition,
DataSource, AlertNotificationTarget) and `openslo/v1alpha` (SLO, Service), the form Sloth reads.

Supported (docs/migrating.md has the whole table): ratio metrics over Prometheus counters (good or bad
over total; a counter selector with `counter: true`, `sum(counter)`, or Sloth's
`sum(rate(selector[{{.window}}]))`), threshold metrics over a histogram (`op: lte`, `value` in seconds:
Latency), `Occurrences` budgeting, rolling 7d/28d/30d windows, and AlertPolicies whose burn-rate
AlertConditions match one of a tier's window pairs. References (`indicatorRef`, `alertPolicyRef`,
`conditionRef`, `metricSourceRef`) resolve across every file of one import.

What the export writes and OpenSLO has no field for travels in `kfm.dev/...` annotations, so export and
import round-trip exactly.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from generator.interop.model import (EventsSpec, spec_file, ImportedSLO, LatencySpec, Refused, TierSpec, WindowSpec,
                                     counter_selector, decimal_text, events_from_queries, labels_value, mapping,
                                     name_value, number, parse_query, sequence, text_value)
from generator.model.durations import format_duration, parse_duration
from generator.model.windows import PAGE, PERIODS, TICKET, TIERS, default_pairs
from generator.promql.parser import Aggregation, VectorSelector
from generator.promql.selectors import SelectorError, parse_selector

V1, V1ALPHA = "openslo/v1", "openslo/v1alpha"
KINDS_V1 = ("SLO", "SLI", "Service", "AlertPolicy", "AlertCondition", "DataSource", "AlertNotificationTarget")
ANNOTATION = "kfm.dev/"
PERIOD_ALIASES = {"30d": "30d", "28d": "28d", "4w": "28d", "7d": "7d", "1w": "7d"}

Problem = Callable[[str, str, str], None]   # (slo, field, message), for one file


def is_openslo(document: dict[str, Any]) -> bool:
    return str(document.get("apiVersion", "")).startswith("openslo/")


@dataclass
class Document:
    body: dict[str, Any]
    source: str
    index: int

    @property
    def name(self) -> str:
        metadata = self.body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        return name if isinstance(name, str) else ""


class Index:
    """Every named document of an import, by kind and name (references resolve across files)."""

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, Document]] = {}

    def add(self, kind: str, document: Document) -> str | None:
        table = self.by_kind.setdefault(kind, {})
        if document.name in table:
            return f"a {kind} named {document.name!r} is defined twice (also in {table[document.name].source})"
        table[document.name] = document
        return None

    def get(self, kind: str, name: object, where: str) -> dict[str, Any]:
        if not isinstance(name, str) or name not in self.by_kind.get(kind, {}):
            raise Refused(where, f"refers to {kind} {str(name)[:80]!r}, which no file of this import defines")
        return self.by_kind[kind][name].body


def read(documents: list[dict[str, Any]], source: str, problem: Problem) -> list[ImportedSLO]:
    """The SLOs of one file's documents (references resolve within it)."""
    return read_all([(d, source) for d in documents], {source: problem})


def read_all(documents: list[tuple[dict[str, Any], str]], problems: dict[str, Problem]) -> list[ImportedSLO]:
    index = Index()
    slos: list[Document] = []
    for position, (body, source) in enumerate(documents):
        problem = problems[source]
        api, kind = body.get("apiVersion"), body.get("kind")
        document = Document(body, source, position)
        if api not in (V1, V1ALPHA):
            problem("", "apiVersion", f"{str(api)[:60]!r} is not {V1} or {V1ALPHA}")
            continue
        if api == V1ALPHA and kind not in ("SLO", "Service"):
            problem("", "kind", f"{str(kind)[:60]!r} is not an {V1ALPHA} kind (SLO, Service)")
            continue
        if kind not in KINDS_V1:
            problem("", "kind", f"{str(kind)[:60]!r} is not an OpenSLO kind ({', '.join(KINDS_V1)})")
            continue
        try:
            mapping(body.get("metadata"), "metadata")
            name_value(document.name or None, "metadata.name", f"{kind} name")
        except Refused as refused:
            problem("", refused.field, refused.message)
            continue
        if kind == "SLO":
            slos.append(document)
        trouble = index.add(str(kind), document)
        if trouble:
            problem(document.name, "metadata.name", trouble)
    found: list[ImportedSLO] = []
    for document in slos:
        problem = problems[document.source]
        try:
            if document.body.get("apiVersion") == V1ALPHA:
                found.extend(_v1alpha(document, problem))
            else:
                found.extend(_v1(document, index))
        except Refused as refused:
            problem(document.name, refused.field, refused.message)
    return found


# --- openslo/v1alpha (Sloth's OpenSLO input) ---------------------------------------------------------

def _v1alpha(document: Document, problem: Problem) -> list[ImportedSLO]:
    spec = mapping(document.body.get("spec"), "spec")
    service = name_value(spec.get("service"), "spec.service", "service name")
    _budgeting(spec.get("budgetingMethod"))
    windows = sequence(spec.get("timeWindows"), "spec.timeWindows")
    if len(windows) != 1:
        raise Refused("spec.timeWindows", "give exactly one time window")
    window = mapping(windows[0], "spec.timeWindows[0]")
    if str(window.get("unit", "")).lower() != "day":
        raise Refused("spec.timeWindows[0].unit", f"{str(window.get('unit'))[:40]!r}: only Day windows map to a period")
    count = number(window.get("count"), "spec.timeWindows[0].count")
    period = _period(f"{count}d", "spec.timeWindows[0].count")
    description = text_value(spec.get("description"), "spec.description", required=False)
    notes: list[str] = []
    metadata = mapping(document.body.get("metadata"), "metadata")
    raw_labels = dict(mapping(metadata.get("labels"), "metadata.labels", required=False))
    team = raw_labels.pop("team", None)
    labels = labels_value(raw_labels, "metadata.labels", notes)
    owner = _one(team, "metadata.labels.team") or _one(raw_labels.get("owner"), "metadata.labels.owner")
    found = []
    objectives = sequence(spec.get("objectives"), "spec.objectives")
    if not objectives:
        raise Refused("spec.objectives", "no objective")
    for position, raw in enumerate(objectives):
        where = f"spec.objectives[{position}]"
        name = f"{document.name}-{position}"   # as Sloth names them
        try:
            objective = mapping(raw, where)
            ratio = mapping(objective.get("ratioMetrics"), f"{where}.ratioMetrics")
            if not isinstance(ratio.get("counter", True), bool):
                raise Refused(f"{where}.ratioMetrics.counter", "expected true or false")
            part = "good" if "good" in ratio else "bad"
            queries = {}
            for side in (part, "total"):
                metric = mapping(ratio.get(side), f"{where}.ratioMetrics.{side}")
                if str(metric.get("source", "prometheus")).lower() != "prometheus":
                    raise Refused(f"{where}.ratioMetrics.{side}.source",
                                  f"{str(metric.get('source'))[:40]!r}: only Prometheus sources map to rules")
                queries[side] = metric.get("query")
            sli = events_from_queries(part, queries[part], queries["total"], f"{where}.ratioMetrics.{part}.query",
                                      f"{where}.ratioMetrics.total.query")
            target = _target(objective, where)
            found.append(_finish(document, name, service, owner, description, target, sli, period, dict(labels),
                                 _no_alerts(V1ALPHA), {}, list(notes) + [NO_ALERTS_NOTE]))
        except Refused as refused:
            problem(name, refused.field, refused.message)
    return found


# --- openslo/v1 ------------------------------------------------------------------------------------

def _v1(document: Document, index: Index) -> list[ImportedSLO]:
    body = document.body
    metadata = mapping(body.get("metadata"), "metadata")
    annotations = _annotations(metadata.get("annotations"))
    spec = mapping(body.get("spec"), "spec")
    service = name_value(spec.get("service"), "spec.service", "service name")
    _budgeting(spec.get("budgetingMethod"))
    period = _time_window(spec.get("timeWindow"))
    notes: list[str] = []
    raw_labels = dict(mapping(metadata.get("labels"), "metadata.labels", required=False))
    team = raw_labels.pop("team", None)
    labels = labels_value(raw_labels, "metadata.labels", notes)
    owner = _one(team, "metadata.labels.team") or _one(raw_labels.get("owner"), "metadata.labels.owner")
    description = text_value(spec.get("description"), "spec.description", required=False)
    indicator = _indicator(spec, index, "spec")
    objectives = sequence(spec.get("objectives"), "spec.objectives")
    if not objectives:
        raise Refused("spec.objectives", "no objective")
    tiers = _alert_policies(spec.get("alertPolicies"), index, annotations, period, notes)
    found = []
    for position, raw in enumerate(objectives):
        where = f"spec.objectives[{position}]"
        objective = mapping(raw, where)
        own = _indicator(objective, index, where) if ("indicator" in objective or "indicatorRef" in objective) \
            else indicator
        if own is None:
            raise Refused(f"{where}", "no indicator: give spec.indicator or spec.indicatorRef")
        if "timeSliceTarget" in objective or "timeSliceWindow" in objective:
            raise Refused(f"{where}.timeSliceTarget", "time slices are not supported: budgeting is Occurrences")
        sli = _sli(own, objective, annotations, where, index)
        name = document.name if len(objectives) == 1 else f"{document.name}-{position}"
        found.append(_finish(document, name, service, owner, description, _target(objective, where), sli, period,
                             dict(labels), tiers, annotations, list(notes)))
    return found


def _finish(document: Document, name: str, service: str, owner: str, description: str, target: Decimal,
            sli: EventsSpec | LatencySpec, period: str, labels: dict[str, str], tiers: tuple[TierSpec, TierSpec],
            annotations: dict[str, str], notes: list[str]) -> ImportedSLO:
    name = name_value(name, "metadata.name", "SLO name")
    if not description:
        description = f"{service} {name} (imported from OpenSLO, which gave no description)."
        notes.append("the spec gives no description: write what the SLO protects, for the on-call engineer")
    runbook = annotations.get("runbook", "")
    if not runbook:
        runbook = (f"- Imported from the OpenSLO spec `{spec_file(document.source)}`: replace these lines with the first "
                   "steps for on-call.\n")
    slo = ImportedSLO(source=document.source, name=name, service=service, owner=owner, description=description,
                      objective=target, sli=sli, period=period, labels=labels, page=tiers[0], ticket=tiers[1],
                      runbook=runbook, notes=notes)
    if "min-events" in annotations:
        value = number(annotations["min-events"], "metadata.annotations.kfm.dev/min-events")
        if value != value.to_integral_value() or not 0 <= value <= 10**9:
            raise Refused("metadata.annotations.kfm.dev/min-events", "a whole number of events")
        slo.min_events = int(value)
    slo.no_data_for = annotations.get("no-data-for", slo.no_data_for)
    slo.no_data_severity = annotations.get("no-data-severity", "")
    slo.query_offset = annotations.get("query-offset", "")
    return slo


def _one(value: object, where: str) -> str:
    """A label's one value (OpenSLO allows a list): the owning team."""
    if value is None:
        return ""
    if isinstance(value, list):
        if len(value) != 1:
            raise Refused(where, "several teams: an SLO has one owner (give --owner TEAM)")
        value = value[0]
    return text_value(value, where, multiline=False, limit=63)


def _annotations(value: object) -> dict[str, str]:
    """Our own annotations (kfm.dev/<key>), others ignored."""
    found = {}
    for key, raw in mapping(value, "metadata.annotations", required=False).items():
        if key.startswith(ANNOTATION):
            found[key[len(ANNOTATION):]] = text_value(raw, f"metadata.annotations.{key}", limit=20000)
    return found


def _budgeting(value: object) -> None:
    method = text_value(value, "spec.budgetingMethod", multiline=False, limit=100)
    if method != "Occurrences":
        raise Refused("spec.budgetingMethod", f"{method[:40]!r} is not supported: only Occurrences (bad events over "
                                              "all events) maps to the rules; Timeslices and RatioTimeslices do not")


def _period(text: str, where: str) -> str:
    if text not in PERIOD_ALIASES:
        raise Refused(where, f"{text[:40]!r}: the period must be 7d, 28d or 30d")
    return PERIOD_ALIASES[text]


def _time_window(value: object) -> str:
    windows = sequence(value, "spec.timeWindow")
    if len(windows) != 1:
        raise Refused("spec.timeWindow", "give exactly one time window")
    window = mapping(windows[0], "spec.timeWindow[0]")
    if window.get("isRolling") is not True or "calendar" in window:
        raise Refused("spec.timeWindow[0].isRolling", "only rolling windows are supported (calendar-aligned "
                                                      "budgets have no counterpart in the rules)")
    duration = text_value(window.get("duration"), "spec.timeWindow[0].duration", multiline=False, limit=40)
    return _period(duration, "spec.timeWindow[0].duration")


def _target(objective: dict[str, Any], where: str) -> Decimal:
    if "target" in objective:
        target = number(objective["target"], f"{where}.target")
    elif "targetPercent" in objective:
        target = number(objective["targetPercent"], f"{where}.targetPercent") / 100
    else:
        raise Refused(f"{where}.target", "missing")
    if not Decimal(0) < target < Decimal(1):
        raise Refused(f"{where}.target", f"{target} must be a ratio strictly between 0 and 1")
    return target


def _indicator(holder: dict[str, Any], index: Index, where: str) -> dict[str, Any] | None:
    if "indicator" in holder:
        inline = mapping(holder["indicator"], f"{where}.indicator")
        return mapping(inline.get("spec"), f"{where}.indicator.spec")
    if "indicatorRef" in holder:
        sli = index.get("SLI", holder["indicatorRef"], f"{where}.indicatorRef")
        return mapping(sli.get("spec"), f"{where}.indicatorRef")
    return None


def _query(metric: object, where: str, index: Index) -> str:
    source = mapping(mapping(metric, where).get("metricSource"), f"{where}.metricSource")
    kind = source.get("type")
    if "metricSourceRef" in source:
        data = index.get("DataSource", source["metricSourceRef"], f"{where}.metricSource.metricSourceRef")
        kind = mapping(data.get("spec"), "DataSource spec").get("type", kind)
    if str(kind).lower() != "prometheus":
        raise Refused(f"{where}.metricSource.type", f"{str(kind)[:40]!r}: only Prometheus data sources map to rules")
    spec = mapping(source.get("spec"), f"{where}.metricSource.spec")
    return text_value(spec.get("query", spec.get("promql")), f"{where}.metricSource.spec.query", limit=20000)


def _counter(query: str, where: str) -> tuple[str, tuple[str, ...]]:
    """A counter's selector as written, and its grouping: `selector`, `sum(selector)`, `sum by (l) (selector)`."""
    try:
        return counter_selector(parse_selector(query.strip()), where) and query.strip(), ()
    except SelectorError:
        pass
    node = parse_query(query, where, windowed=False)
    if isinstance(node, Aggregation) and node.op == "sum" and node.grouping in (None, "by") and node.param is None \
            and isinstance(node.expr, VectorSelector) and not node.expr.range:
        return counter_selector(node.expr.selector, where), tuple(sorted(node.labels))
    raise Refused(where, "with counter: true the query must select a counter: metric{...}, sum(metric{...}) or "
                         "sum by (labels) (metric{...})")


def _sli(indicator: dict[str, Any], objective: dict[str, Any], annotations: dict[str, str],
         where: str, index: Index) -> EventsSpec | LatencySpec:
    if "ratioMetric" in indicator:
        if "op" in objective or "value" in objective:
            raise Refused(f"{where}.op", "op and value apply to threshold metrics, not to a ratio metric")
        ratio = mapping(indicator["ratioMetric"], "indicator.ratioMetric")
        if "raw" in ratio or "rawType" in ratio:
            raise Refused("indicator.ratioMetric.raw", "a raw (precomputed) ratio cannot be expressed: give good or "
                                                       "bad events over total events")
        parts = [side for side in ("good", "bad") if side in ratio]
        if len(parts) != 1 or "total" not in ratio:
            raise Refused("indicator.ratioMetric", "give total and exactly one of good or bad")
        part = parts[0]
        part_query = _query(ratio[part], f"indicator.ratioMetric.{part}", index)
        total_query = _query(ratio["total"], "indicator.ratioMetric.total", index)
        if "{{" in total_query:   # Sloth's form: sum(rate(selector[{{.window}}]))
            return events_from_queries(part, part_query, total_query, f"indicator.ratioMetric.{part}",
                                       "indicator.ratioMetric.total")
        counter = ratio.get("counter")
        if counter is not True:
            raise Refused("indicator.ratioMetric.counter", "only counters map to events (counter: true); a gauge "
                                                           "ratio has no counterpart in the API")
        total, total_group = _counter(total_query, "indicator.ratioMetric.total")
        selected, part_group = _counter(part_query, f"indicator.ratioMetric.{part}")
        if total_group != part_group:
            raise Refused(f"indicator.ratioMetric.{part}", "grouped by other labels than the total")
        group = _json_list(annotations, "group-by") if "group-by" in annotations else total_group
        spec = EventsSpec(total=total, group_by=tuple(group), examples=_examples(annotations))
        setattr(spec, part, selected)
        return spec
    if "thresholdMetric" in indicator:
        op = objective.get("op")
        if op != "lte":
            raise Refused(f"{where}.op", f"{str(op)[:20]!r}: a threshold metric maps to a latency SLI with op: lte "
                                         "(requests at or under `value` seconds are good)")
        threshold = number(objective.get("value"), f"{where}.value")
        if threshold <= 0:
            raise Refused(f"{where}.value", "a latency threshold must be above 0 seconds")
        query = _query(indicator["thresholdMetric"], "indicator.thresholdMetric", index)
        try:
            histogram = parse_selector(query.strip())
        except SelectorError:
            raise Refused("indicator.thresholdMetric.metricSource.spec.query",
                          "give the histogram as a selector (metric{...}, its base name or its _bucket series)") from None
        if histogram.metric.endswith("_bucket"):
            histogram = histogram.with_metric(histogram.metric[:-len("_bucket")])
            query = histogram.render()
        if any(m.label == "le" for m in histogram.matchers):
            raise Refused("indicator.thresholdMetric", "do not match on le: the objective's value is the threshold")
        native = annotations.get("native") == "true"
        group = tuple(_json_list(annotations, "group-by")) if "group-by" in annotations else ()
        raw_value = objective.get("value")
        kept = raw_value if isinstance(raw_value, int) and not isinstance(raw_value, bool) else float(threshold)
        return LatencySpec(histogram=query.strip(), threshold_seconds=kept, group_by=group, native=native,
                           buckets=(float(threshold),))
    raise Refused("indicator.spec", "give a ratioMetric or a thresholdMetric")


def _json_list(annotations: dict[str, str], key: str) -> list[str]:
    try:
        value = json.loads(annotations[key])
    except ValueError:
        raise Refused(f"metadata.annotations.{ANNOTATION}{key}", "not JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refused(f"metadata.annotations.{ANNOTATION}{key}", "expected a JSON list of label names")
    return value


def _examples(annotations: dict[str, str]) -> dict[str, dict[str, str]]:
    if "examples" not in annotations:
        return {}
    try:
        value = json.loads(annotations["examples"])
    except ValueError:
        raise Refused(f"metadata.annotations.{ANNOTATION}examples", "not JSON") from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
                                              for v in value.values()):
        raise Refused(f"metadata.annotations.{ANNOTATION}examples", "expected {\"bad\": {...}, \"good\": {...}}")
    return {str(k): {str(a): b for a, b in v.items()} for k, v in value.items()}


# --- alert policies -> tiers -----------------------------------------------------------------------

def _seconds(text: object, where: str, zero_ok: bool = False) -> int:
    value = text_value(text, where, multiline=False, limit=40)
    if zero_ok and value in ("0", "0s", "0m", "0h"):
        return 0
    try:
        return parse_duration(value)
    except ValueError as error:
        raise Refused(where, str(error)) from None


def _alert_policies(value: object, index: Index, annotations: dict[str, str], period: str,
                    notes: list[str]) -> tuple[TierSpec, TierSpec]:
    tiers = {PAGE: TierSpec(), TICKET: TierSpec()}
    conditions: dict[str, list[tuple[int, int, Decimal, int | None, str, tuple[str, str]]]] = {PAGE: [], TICKET: []}
    explicit = {PAGE: False, TICKET: False}
    seen = {PAGE: False, TICKET: False}
    policies = sequence(value, "spec.alertPolicies", required=False)
    for position, raw in enumerate(policies):
        where = f"spec.alertPolicies[{position}]"
        if isinstance(raw, str):
            policy = index.get("AlertPolicy", raw, where)
        elif isinstance(raw, dict) and "alertPolicyRef" in raw:
            policy = index.get("AlertPolicy", raw["alertPolicyRef"], f"{where}.alertPolicyRef")
        else:
            policy = mapping(raw, where)
        metadata = mapping(policy.get("metadata"), f"{where}.metadata", required=False)
        own = _annotations(metadata.get("annotations"))
        labels = labels_value(metadata.get("labels"), f"{where}.metadata.labels", notes)
        spec = mapping(policy.get("spec"), f"{where}.spec")
        for number_, entry in enumerate(sequence(spec.get("conditions"), f"{where}.spec.conditions")):
            cwhere = f"{where}.spec.conditions[{number_}]"
            if isinstance(entry, dict) and "conditionRef" in entry:
                condition = index.get("AlertCondition", entry["conditionRef"], f"{cwhere}.conditionRef")
            else:
                condition = mapping(entry, cwhere)
            tier, parsed = _condition(condition, cwhere)
            conditions[tier].append(parsed)
            seen[tier] = True
            if labels:
                if tiers[tier].labels and tiers[tier].labels != labels:
                    raise Refused(f"{where}.metadata.labels", f"the {tier} tier's conditions come from policies "
                                                              "with different labels")
                tiers[tier].labels = dict(labels)
            if own.get("windows") == "custom":
                explicit[tier] = True
            if "keep-firing-for" in own:
                tiers[tier].keep_firing_for = own["keep-firing-for"]
    for tier in TIERS:
        disabled = annotations.get(f"{tier}-disabled")
        if disabled is not None:
            if seen[tier]:
                raise Refused(f"metadata.annotations.{ANNOTATION}{tier}-disabled", f"the {tier} tier is disabled "
                                                                                   "but has alert conditions")
            waiver = None
            if f"{tier}-waiver" in annotations:
                raw_waiver = _json_list(annotations, f"{tier}-waiver")
                if len(raw_waiver) != 3:
                    raise Refused(f"metadata.annotations.{ANNOTATION}{tier}-waiver", "[reason, expires, approved_by]")
                waiver = (raw_waiver[0], raw_waiver[1], raw_waiver[2])
            tiers[tier] = TierSpec(enabled=False, disabled_reason=disabled, labels=tiers[tier].labels,
                                   keep_firing_for=annotations.get(f"{tier}-keep-firing-for", ""), waiver=waiver)
            continue
        if not policies:
            continue
        if not seen[tier]:
            tiers[tier] = TierSpec(enabled=False, disabled_reason=f"The OpenSLO spec has no {tier} alert condition.")
            if tier == PAGE:
                notes.append("no page condition: the page tier is disabled; where an environment pages (prod), "
                             "the page-tier-waiver gate needs a Waiver(...) approved by someone")
            continue
        tiers[tier].windows = _windows(conditions[tier], tier, period, explicit[tier])
    if not policies and not any(f"{t}-disabled" in annotations for t in TIERS):
        notes.append(NO_ALERTS_NOTE)
        return _no_alerts(V1)
    return tiers[PAGE], tiers[TICKET]


NO_ALERTS_NOTE = ("the spec has no alert policy, so, as with Sloth, no burn-rate alert: both tiers are disabled; "
                  "delete the two Tier.disabled(...) lines for the default page and ticket tiers")


def _no_alerts(version: str) -> tuple[TierSpec, TierSpec]:
    return (TierSpec(enabled=False, disabled_reason=f"The {version} spec defines no alert policy for this SLO."),
            TierSpec(enabled=False, disabled_reason=f"The {version} spec defines no alert policy for this SLO."))


def _condition(condition: dict[str, Any],
               where: str) -> tuple[str, tuple[int, int, Decimal, int | None, str, tuple[str, str]]]:
    metadata = mapping(condition.get("metadata"), f"{where}.metadata", required=False)
    own = _annotations(metadata.get("annotations"))
    spec = mapping(condition.get("spec"), f"{where}.spec")
    severity = text_value(spec.get("severity"), f"{where}.spec.severity", multiline=False, limit=40)
    if severity not in TIERS:
        raise Refused(f"{where}.spec.severity", f"{severity!r}: give page or ticket (the generator's tiers)")
    body = mapping(spec.get("condition"), f"{where}.spec.condition")
    if str(body.get("kind", "")).lower() != "burnrate":
        raise Refused(f"{where}.spec.condition.kind", f"{str(body.get('kind'))[:40]!r}: only burnrate conditions map "
                                                      "to the multiwindow burn-rate alerts")
    if body.get("op") != "gt":
        raise Refused(f"{where}.spec.condition.op", f"{str(body.get('op'))[:20]!r}: the alerts fire when the burn "
                                                    "rate is above the threshold (op: gt)")
    factor = number(body.get("threshold"), f"{where}.spec.condition.threshold")
    long = _seconds(body.get("lookbackWindow"), f"{where}.spec.condition.lookbackWindow")
    after = _seconds(body["alertAfter"], f"{where}.spec.condition.alertAfter", zero_ok=True) \
        if "alertAfter" in body else None
    short = own.get("short-window", "")
    if short:
        _seconds(short, f"{where}.metadata.annotations.{ANNOTATION}short-window")
    texts = (str(body.get("lookbackWindow")), str(body.get("alertAfter", "")))
    return severity, (long, 0, factor, after, short, texts)


def _windows(found: list[tuple[int, int, Decimal, int | None, str, tuple[str, str]]], tier: str, period: str,
             explicit: bool) -> list[WindowSpec]:
    """Each condition matches one of the tier's window pairs (the Workbook pairs scaled to the period) or
    carries its short window (kfm.dev/short-window, as the export writes); the default pairs give Tier()."""
    pairs = default_pairs(PERIODS[period], tier)
    windows = []
    for long, _, factor, after, short, (long_text, after_text) in found:
        match = next((p for p in pairs if p.long == long and p.factor == factor), None)
        if short:
            short_seconds = parse_duration(short)
        elif match is not None:
            short_seconds = match.short
        else:
            offered = ", ".join(f"{p.long_text} at {p.factor}x" for p in pairs)
            raise Refused("spec.alertPolicies", f"the {tier} condition over {format_duration(long)} at {factor}x "
                          f"matches none of the {tier} tier's window pairs for a {period} period ({offered}); "
                          "the generator needs each pair's short window")
        for_ = after if after is not None else (match.for_ if match is not None else 120)
        windows.append(WindowSpec(format_duration(long), format_duration(short_seconds), decimal_text(factor),
                                  format_duration(for_) if for_ else "0s"))
        if explicit:   # our own export: the texts as the definitions wrote them
            windows[-1] = WindowSpec(long_text, short or format_duration(short_seconds), decimal_text(factor),
                                     after_text if after is not None and after else windows[-1].for_)
    if not explicit and sorted(windows, key=repr) == sorted(_defaults(pairs), key=repr):
        return []
    for window in windows:
        if window.for_ == "0s":
            raise Refused("spec.alertPolicies", f"the {tier} condition over {window.long}: alertAfter must be above 0 "
                                                "for a window pair other than the tier's defaults")
    return windows


def _defaults(pairs: Any) -> list[WindowSpec]:
    return [WindowSpec(p.long_text, p.short_text, decimal_text(p.factor), format_duration(p.for_) if p.for_ else "0s")
            for p in pairs]
