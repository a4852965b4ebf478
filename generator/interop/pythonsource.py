"""Readable, deterministic Python definitions from imported SLOs: the same input gives the same bytes.

The file reads like slo/tiles.py: metric names as module constants (conventions-style), selectors as
f-strings over them, one SLO(...) per imported SLO with the public API's keyword arguments in the
order docs/definitions.md lists them, and only the options that differ from their defaults.
"""
from __future__ import annotations

import re
import textwrap

from generator.interop.model import (EventsSpec, ImportedSLO, LatencySpec, MetricSpec, TierSpec, decimal_text)
from generator.promql.selectors import parse_selector

INDENT = "    "


def literal(value: str) -> str:
    """A Python string literal: repr (deterministic, always valid source), in double quotes where the text
    has none, as the project's files are written."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def constant_name(metric: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]", "_", metric).upper()
    return name if not name[:1].isdigit() else "M_" + name


def selector_source(text: str, constants: dict[str, str]) -> str:
    """`f'{CONSTANT}{{matchers}}'` when the metric has a constant, else a plain literal."""
    selector = parse_selector(text)
    constant = constants.get(selector.metric)
    if constant is None or not text.startswith(selector.metric):
        return literal(text)
    rest = text[len(selector.metric):]
    if not rest:
        return constant
    body = literal("\x00" + rest.replace("{", "{{").replace("}", "}}"))
    return "f" + body.replace("\\x00", "{" + constant + "}", 1)


def dict_source(values: dict[str, object], indent: str) -> str:
    if not values:
        return "{}"
    items = [f"{literal(k)}: {literal(v) if isinstance(v, str) else repr(v)}" for k, v in sorted(values.items())]
    one_line = "{" + ", ".join(items) + "}"
    if len(one_line) + len(indent) <= 100:
        return one_line
    inner = indent + INDENT
    return "{\n" + "".join(f"{inner}{item},\n" for item in items) + indent + "}"


def text_block(text: str, indent: str) -> str:
    """A long text as adjacent literals, one per line of the text, in parentheses."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= 1:
        return literal(text)
    inner = indent + INDENT
    return "(\n" + "".join(f"{inner}{literal(line)}\n" for line in lines) + indent + ")"


def _tier_source(tier: TierSpec, indent: str) -> str | None:
    """Tier(...) source, or None for the default tier."""
    inner = indent + INDENT
    if not tier.enabled:
        args = [text_block(tier.disabled_reason, inner)]
        if tier.labels or tier.keep_firing_for:   # no effect on a disabled tier, but kept as the spec said
            args = [f"enabled=False", f"disabled_reason={args[0]}"]
            if tier.labels:
                args.append(f"labels={dict_source(dict(tier.labels), inner)}")
            if tier.keep_firing_for:
                args.append(f"keep_firing_for={literal(tier.keep_firing_for)}")
        if tier.waiver:
            reason, expires, approved_by = tier.waiver
            args.append(f"waiver=Waiver(\n{inner}{INDENT}reason={literal(reason)},\n{inner}{INDENT}expires="
                        f"{literal(expires)},\n{inner}{INDENT}approved_by={literal(approved_by)},\n{inner})")
        call = "Tier" if args[0] == "enabled=False" else "Tier.disabled"
        if len(args) == 1 and len(args[0]) + len(indent) < 80:
            return f"{call}({args[0]})"
        return f"{call}(\n" + "".join(f"{inner}{a},\n" for a in args) + indent + ")"
    args = []
    if tier.labels:
        args.append(f"labels={dict_source(dict(tier.labels), indent)}")
    if tier.windows:
        windows = "".join(
            f"{inner}BurnWindow({literal(w.long)}, {literal(w.short)}, {literal(w.factor)}"
            + (f", for_={literal(w.for_)}" if w.for_ != "2m" else "") + "),\n" for w in tier.windows)
        args.append(f"windows=(\n{windows}{indent})")
    if tier.keep_firing_for:
        args.append(f"keep_firing_for={literal(tier.keep_firing_for)}")
    if not args:
        return None
    return "Tier(" + ", ".join(args) + ")"


def _alerting_source(slo: ImportedSLO, indent: str) -> str | None:
    inner = indent + INDENT
    args = []
    for name, tier in (("page", slo.page), ("ticket", slo.ticket)):
        source = _tier_source(tier, inner)
        if source is not None:
            args.append(f"{inner}{name}={source},\n")
    if slo.min_events:
        args.append(f"{inner}min_events={slo.min_events!r},\n")
    if slo.no_data_for != "4m":
        args.append(f"{inner}no_data_for={literal(slo.no_data_for)},\n")
    if slo.no_data_severity:
        args.append(f"{inner}no_data_severity={literal(slo.no_data_severity)},\n")
    if slo.query_offset:
        args.append(f"{inner}query_offset={literal(slo.query_offset)},\n")
    if not args:
        return None
    return "Alerting(\n" + "".join(args) + indent + ")"


def _sli_source(sli: EventsSpec | LatencySpec, constants: dict[str, str], indent: str) -> str:
    inner = indent + INDENT
    args: list[str] = []
    if isinstance(sli, EventsSpec):
        args.append(f"total={selector_source(sli.total, constants)}")
        if sli.bad is not None:
            args.append(f"bad={selector_source(sli.bad, constants)}")
        if sli.good is not None:
            args.append(f"good={selector_source(sli.good, constants)}")
        if sli.group_by:
            args.append(f"group_by={tuple(sli.group_by)!r}")
        if sli.examples:
            args.append("examples={" + ", ".join(f"{literal(side)}: {dict_source(dict(labels), inner)}"
                                                for side, labels in sorted(sli.examples.items())) + "}")
        kind = "EventsRatio"
    else:
        args.append(f"histogram={selector_source(sli.histogram, constants)}")
        args.append(f"threshold_seconds={sli.threshold_seconds!r}")
        if sli.group_by:
            args.append(f"group_by={tuple(sli.group_by)!r}")
        if sli.native:
            args.append("native=True")
        kind = "Latency"
    return f"{kind}(\n" + "".join(f"{inner}{a},\n" for a in args) + indent + ")"


def _comment(text: str, indent: str) -> str:
    lines = textwrap.wrap(" ".join(text.split()), width=104 - len(indent), break_on_hyphens=False) or [""]
    return "".join(f"{indent}# {line}\n" for line in lines)


def _slo_source(slo: ImportedSLO, constants: dict[str, str]) -> str:
    indent = INDENT * 2
    out = []
    for note in sorted(set(slo.notes)):
        out.append(_comment(note, INDENT))
    out.append(f"{INDENT}SLO(\n")
    out.append(f"{indent}name={literal(slo.name)},\n")
    out.append(f"{indent}service={literal(slo.service)},\n")
    out.append(f"{indent}owner={literal(slo.owner)},\n")
    out.append(f"{indent}description={text_block(slo.description, indent)},\n")
    out.append(f"{indent}objective={decimal_text(slo.objective)},\n")
    if slo.period != "30d":
        out.append(f"{indent}period={literal(slo.period)},\n")
    if slo.labels:
        out.append(f"{indent}labels={dict_source(dict(slo.labels), indent)},\n")
    out.append(f"{indent}sli={_sli_source(slo.sli, constants, indent)},\n")
    alerting = _alerting_source(slo, indent)
    if alerting is not None:
        out.append(f"{indent}alerting={alerting},\n")
    out.append(f"{indent}runbook={text_block(slo.runbook, indent)},\n")
    out.append(f"{INDENT}),\n")
    return "".join(out)


def _metric_source(metric: MetricSpec, constants: dict[str, str]) -> str:
    indent = INDENT * 2
    lines = [f"{INDENT}Metric(\n", f"{indent}{constants[metric.name]}, {literal(metric.type)},\n"]
    if metric.type == "summary":
        lines.insert(0, f"{INDENT}# Only its _count/_sum series are read, which a histogram and a summary share; if it is a\n"
                        f"{INDENT}# histogram, declare it as one with its buckets (a Latency SLI over it needs them).\n")
    lines.append(f"{indent}labels={dict_source(dict(metric.labels), indent)},\n")
    if metric.buckets:
        lines.append(f"{indent}buckets={tuple(metric.buckets)!r},\n")
    lines.append(f"{indent}source={literal(metric.source)},\n")
    lines.append(f"{INDENT}),\n")
    return "".join(lines)


def module_source(docstring: str, slos: list[ImportedSLO], metrics: list[MetricSpec]) -> str:
    """The whole definitions file."""
    names = sorted({parse_selector(text).metric for slo in slos for text in _selectors(slo)}
                   | {metric.name for metric in metrics})
    constants: dict[str, str] = {}
    taken = {"SLO", "SLOS", "METRICS", "INDENT"}
    for metric in names:   # distinct, and never one of the file's other names
        base = constant_name(metric)
        name, number = base, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        constants[metric] = name
    uses = {"SLO"}
    uses.add("EventsRatio" if any(isinstance(s.sli, EventsSpec) for s in slos) else "Latency")
    if any(isinstance(s.sli, LatencySpec) for s in slos):
        uses.add("Latency")
    if metrics:
        uses.add("Metric")
    for slo in slos:
        if _alerting_source(slo, "") is not None:
            uses.add("Alerting")
        for tier in (slo.page, slo.ticket):
            if _tier_source(tier, "") is not None:
                uses.add("Tier")
            if tier.windows:
                uses.add("BurnWindow")
            if tier.waiver:
                uses.add("Waiver")
    out = ['"""' + docstring.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip() + '\n"""\n']
    out.append(f"from generator import {', '.join(sorted(uses))}\n\n")
    for metric in names:
        out.append(f"{constants[metric]} = {literal(metric)}\n")
    if metrics:
        out.append("\n# Metrics the SLIs read that KFM's contract does not know: the metric-contract gate checks the\n"
                   "# queries against these declarations (docs/metrics.md). Add bounded values where you know them.\n")
        out.append("METRICS = [\n" + "".join(_metric_source(m, constants) for m in metrics) + "]\n")
    out.append("\nSLOS = [\n" + "".join(_slo_source(s, constants) for s in slos) + "]\n")
    return "".join(out)


def _selectors(slo: ImportedSLO) -> list[str]:
    if isinstance(slo.sli, EventsSpec):
        return [t for t in (slo.sli.total, slo.sli.bad, slo.sli.good) if t is not None]
    return [slo.sli.histogram]
