"""`export openslo --out DIR`: every SLO as OpenSLO v1 documents, one file per service, byte-stable.

Per service `DIR/<service>.yaml` holds, in this order: the Service; then per SLO (by name) its SLI (with
--referenced), one AlertCondition per window pair and one AlertPolicy per enabled tier, and the SLO.
An SLO's ratio SLI is a `ratioMetric` over counters (`counter: true`, the selectors as written), a latency
SLI a `thresholdMetric` over the histogram with `op: lte` and `value` in seconds; budgeting is
Occurrences over a rolling window. What OpenSLO has no field for (the owner, runbook, guards, disabled
tiers and their waivers, short windows) travels in `kfm.dev/...` annotations, so `import openslo` of the
export defines the same SLOs, and renders the same rules byte for byte.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from generator.interop.model import decimal_text
from generator.model.catalog import Catalog, load
from generator.model.durations import format_duration
from generator.model.kinds.events_ratio import EventsRatio
from generator.model.kinds.latency import Latency
from generator.model.numbers import exact
from generator.model.slo import SLO, Tier
from generator.model.windows import TIERS, default_pairs

API = "openslo/v1"
ANNOTATION = "kfm.dev/"


class Unsupported(Exception):
    pass


def _source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _indicator(slo: SLO) -> dict[str, Any]:
    sli = slo.sli
    if isinstance(sli, EventsRatio):
        ratio: dict[str, Any] = {"counter": True}
        if sli.good is not None:
            ratio["good"] = _source(sli.good)
        if sli.bad is not None:
            ratio["bad"] = _source(sli.bad)
        ratio["total"] = _source(sli.total)
        return {"ratioMetric": ratio}
    if isinstance(sli, Latency):
        return {"thresholdMetric": _source(sli.histogram)}
    raise Unsupported(f"a {getattr(sli, 'kind', type(sli).__name__)} SLI has no OpenSLO form (only event ratios and "
                      "latency over a histogram have one)")


def _annotations(slo: SLO) -> dict[str, str]:
    found: dict[str, str] = {f"{ANNOTATION}runbook": slo.runbook} if slo.runbook else {}
    sli, alerting = slo.sli, slo.alerting
    if isinstance(sli, (EventsRatio, Latency)) and sli.group_by:
        found[f"{ANNOTATION}group-by"] = json.dumps(list(sli.group_by))
    if isinstance(sli, EventsRatio) and sli.example_labels():
        found[f"{ANNOTATION}examples"] = json.dumps(sli.example_labels(), sort_keys=True)
    if isinstance(sli, Latency) and sli.native:
        found[f"{ANNOTATION}native"] = "true"
    if alerting.min_events:
        found[f"{ANNOTATION}min-events"] = str(alerting.min_events)
    if alerting.no_data_for != "4m":
        found[f"{ANNOTATION}no-data-for"] = alerting.no_data_for
    if alerting.no_data_severity:
        found[f"{ANNOTATION}no-data-severity"] = alerting.no_data_severity
    if alerting.query_offset:
        found[f"{ANNOTATION}query-offset"] = alerting.query_offset
    for name in TIERS:
        tier = alerting.tier(name)
        if tier.enabled:
            continue
        found[f"{ANNOTATION}{name}-disabled"] = tier.disabled_reason
        if tier.waiver is not None:
            found[f"{ANNOTATION}{name}-waiver"] = json.dumps([tier.waiver.reason, tier.waiver.expires,
                                                              tier.waiver.approved_by])
        if tier.keep_firing_for:
            found[f"{ANNOTATION}{name}-keep-firing-for"] = tier.keep_firing_for
        if tier.label_pairs():
            raise Unsupported(f"the disabled {name} tier has labels, which OpenSLO cannot carry")
    return found


def _conditions(slo: SLO, tier_name: str, tier: Tier) -> list[dict[str, Any]]:
    if tier.windows:
        pairs = [(w.long, w.short, str(exact(w.factor)) if not isinstance(w.factor, str) else w.factor, w.for_)
                 for w in tier.windows]
    else:
        pairs = [(p.long_text, p.short_text, decimal_text(p.factor), format_duration(p.for_) if p.for_ else "0m")
                 for p in default_pairs(slo.period_seconds, tier_name)]
    documents = []
    for long, short, factor, for_ in pairs:
        documents.append({
            "apiVersion": API, "kind": "AlertCondition",
            "metadata": {"name": f"{slo.name}-{tier_name}-{long}-{short}".lower(),
                         "annotations": {f"{ANNOTATION}short-window": short}},
            "spec": {
                "description": f"{slo.name}: the error budget burns faster than {factor}x over {long} (and {short})",
                "severity": tier_name,
                "condition": {"kind": "burnrate", "op": "gt", "threshold": _number(factor),
                              "lookbackWindow": long, "alertAfter": for_},
            },
        })
    return documents


def _number(text: str) -> int | float:
    value = exact(text)
    return int(value) if value == value.to_integral_value() and "." not in text and "e" not in text.lower() \
        else float(text)


def slo_documents(slo: SLO, referenced: bool) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    indicator = {"metadata": {"name": f"{slo.name}-sli"}, "spec": _indicator(slo)}
    annotations = _annotations(slo)
    policies = []
    for name in TIERS:
        tier = slo.alerting.tier(name)
        if not tier.enabled:
            continue
        conditions = _conditions(slo, name, tier)
        documents.extend(conditions)
        policy_annotations = {f"{ANNOTATION}windows": "custom" if tier.windows else "default"}
        if tier.keep_firing_for:
            policy_annotations[f"{ANNOTATION}keep-firing-for"] = tier.keep_firing_for
        metadata: dict[str, Any] = {"name": f"{slo.name}-{name}"}
        if tier.label_pairs():
            metadata["labels"] = dict(tier.label_pairs())
        metadata["annotations"] = policy_annotations
        documents.append({"apiVersion": API, "kind": "AlertPolicy", "metadata": metadata, "spec": {
            "description": f"The {name} tier of {slo.name}",
            "alertWhenBreaching": True,
            "conditions": [{"conditionRef": c["metadata"]["name"]} for c in conditions]}})
        policies.append(f"{slo.name}-{name}")
    objective: dict[str, Any] = {}
    if isinstance(slo.sli, Latency):
        objective.update({"op": "lte", "value": slo.sli.threshold_seconds})
    objective["target"] = float(slo.target)
    if str(exact(objective["target"])) != str(slo.target):
        objective["target"] = str(slo.target)   # keep every digit: a string the importer reads exactly
    spec: dict[str, Any] = {"description": slo.description, "service": slo.service}
    if referenced:
        documents.insert(0, {"apiVersion": API, "kind": "SLI", "metadata": indicator["metadata"],
                             "spec": indicator["spec"]})
        spec["indicatorRef"] = indicator["metadata"]["name"]
    else:
        spec["indicator"] = indicator
    spec.update({"budgetingMethod": "Occurrences", "timeWindow": [{"duration": slo.period, "isRolling": True}],
                 "objectives": [objective], "alertPolicies": [{"alertPolicyRef": p} for p in policies]})
    metadata = {"name": slo.name, "labels": {**dict(slo.label_pairs()), "team": slo.owner}}
    if annotations:
        metadata["annotations"] = annotations
    documents.append({"apiVersion": API, "kind": "SLO", "metadata": metadata, "spec": spec})
    return documents


def export(catalog: Catalog, referenced: bool, skip: bool) -> tuple[dict[str, str], list[str]]:
    """{file name: text}, and the problems (SLOs OpenSLO cannot express)."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    problems = []
    for slo in sorted(catalog.slos, key=lambda s: (s.service, s.name)):
        try:
            documents = slo_documents(slo, referenced)
        except Unsupported as error:
            problems.append(f"{catalog.relative(slo.defined_in)}: SLO {slo.name!r}: sli: {error}")
            continue
        by_service.setdefault(slo.service, [{"apiVersion": API, "kind": "Service", "metadata": {"name": slo.service},
                                             "spec": {"description": f"The {slo.service} service"}}])
        by_service[slo.service].extend(documents)
    files = {f"{service}.yaml": yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, width=10**6,
                                                     explicit_start=True)
             for service, documents in sorted(by_service.items())}
    return files, problems


def run(root: Path, out: Path, referenced: bool, skip: bool) -> int:
    try:
        catalog = load(root)
    except Exception as error:
        from generator.model.problems import DefinitionError
        if not isinstance(error, DefinitionError):
            raise
        print(f"error: the definitions do not load; nothing exported", file=sys.stderr)
        for problem in error.problems:
            print(problem.relative_to(root).line(), file=sys.stderr)
        return 2
    files, problems = export(catalog, referenced, skip)
    if problems and not skip:
        print(f"error: {len(problems)} SLO(s) have no OpenSLO form; nothing exported (--skip-unsupported leaves "
              "them out)", file=sys.stderr)
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    for line in problems:
        print(f"skipped: {line}", file=sys.stderr)
    if out.exists() and (not out.is_dir() or any(not p.is_file() or not p.name.endswith(".yaml")
                                                 for p in out.iterdir())):
        print(f"error: {out} holds something other than exported .yaml files: refusing to replace it", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    print(f"exported {sum(t.count('kind: SLO') for t in files.values())} SLO(s) into {len(files)} file(s) "
          f"under {out.name}/")
    return 0
