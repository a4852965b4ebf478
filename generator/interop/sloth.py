"""Sloth specs as imported SLOs: `prometheus/v1` files and the `PrometheusServiceLevel` CRD
(`sloth.slok.dev/v1`). Sloth's OpenSLO v1alpha input is read by interop.openslo.

What maps and what is refused is tabled in docs/migrating.md. In short: `events` SLIs whose queries are
`sum(rate(selector[{{.window}}]))` become EventsRatio (count minus bucket{le} over count: Latency);
`raw` and `plugin` SLIs, SLO plugins that change the rules, and other query shapes are refused.
Sloth's default alerts are the Workbook pairs over 30 days, which are our default tiers.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from generator.interop.model import (ImportedSLO, spec_file, Refused, TierSpec, events_from_queries, labels_value, mapping,
                                     name_value, number, sequence, text_value)

PROMETHEUS_V1 = "prometheus/v1"
CRD_API = "sloth.slok.dev/v1"
# Plugins that only log: they change no rule, so an SLO that lists them imports as if they were not there.
HARMLESS_PLUGINS = frozenset({"sloth.dev/core/debug/v1"})

Problem = Callable[[str, str, str], None]   # (slo, field, message)


class Keys:
    """The spec's key spelling: snake_case in prometheus/v1, camelCase in the CRD."""

    def __init__(self, crd: bool) -> None:
        self.crd = crd

    def __call__(self, snake: str) -> str:
        if not self.crd:
            return snake
        head, *rest = snake.split("_")
        return head + "".join(part.title() for part in rest)


def is_sloth(document: dict[str, Any]) -> bool:
    return document.get("version") == PROMETHEUS_V1 or str(document.get("apiVersion", "")).startswith("sloth.slok.dev/")


def read(document: dict[str, Any], source: str, problem: Problem) -> list[ImportedSLO]:
    """The SLOs of one Sloth document; every problem goes to `problem` (the SLO is then left out)."""
    if document.get("version") == PROMETHEUS_V1:
        return _service_level(document, Keys(crd=False), source, problem)
    api, kind = document.get("apiVersion"), document.get("kind")
    if api == CRD_API and kind == "PrometheusServiceLevel":
        try:
            spec = mapping(document.get("spec"), "spec")
        except Refused as refused:
            problem("", refused.field, refused.message)
            return []
        return _service_level(spec, Keys(crd=True), source, problem, prefix="spec.")
    if api == CRD_API and kind == "AlertWindows":
        problem("", "kind", "AlertWindows (Sloth's --slo-period-windows-path) is not an SLO spec: give the SLO's "
                            "period and, for other window pairs, Tier(windows=...) in the definitions")
        return []
    problem("", "kind", f"{str(api)[:60]} {str(kind)[:60]} is not a Sloth spec this importer reads "
                        f"(version: {PROMETHEUS_V1}, or {CRD_API} PrometheusServiceLevel)")
    return []


def _service_level(spec: dict[str, Any], key: Keys, source: str, problem: Problem,
                   prefix: str = "") -> list[ImportedSLO]:
    try:
        service = name_value(spec.get("service"), f"{prefix}service", "service name")
        notes: list[str] = []
        service_labels_raw = mapping(spec.get("labels"), f"{prefix}labels", required=False)
        plugins = _plugins(spec.get(key("slo_plugins")), f"{prefix}{key('slo_plugins')}")
        slos = sequence(spec.get("slos"), f"{prefix}slos")
    except Refused as refused:
        problem("", refused.field, refused.message)
        return []
    found = []
    for index, raw in enumerate(slos):
        where = f"{prefix}slos[{index}]"
        slo_name = str(raw["name"]) if isinstance(raw, dict) and isinstance(raw.get("name"), str) else ""
        try:
            if plugins:
                raise Refused(f"{prefix}{key('slo_plugins')}", f"SLO plugins {', '.join(plugins)} change the "
                              "generated rules; the definition API has no plugins (write the SLO by hand)")
            found.append(_slo(mapping(raw, where), where, service, service_labels_raw, key, source, list(notes)))
        except Refused as refused:
            problem(slo_name[:80], refused.field, refused.message)
    return found


def _plugins(value: object, where: str) -> list[str]:
    """The ids of plugins that change rules (debug plugins only log)."""
    if value is None:
        return []
    chain = sequence(mapping(value, where).get("chain"), f"{where}.chain", required=False)
    ids = []
    for index, plugin in enumerate(chain):
        plugin_id = text_value(mapping(plugin, f"{where}.chain[{index}]").get("id"), f"{where}.chain[{index}].id",
                               multiline=False, limit=200)
        if plugin_id not in HARMLESS_PLUGINS:
            ids.append(plugin_id)
    if mapping(value, where).get("overridePrevious") and not ids:
        ids.append("overridePrevious")
    return sorted(set(ids))


def objective_of(value: object, where: str) -> Decimal:
    """Sloth's objective is a percentage (99.9); ours a ratio (0.999)."""
    percent = number(value, where)
    if not Decimal(0) < percent < Decimal(100):
        raise Refused(where, f"{percent} must be a percentage strictly between 0 and 100")
    return percent / Decimal(100)


def _slo(raw: dict[str, Any], where: str, service: str, service_labels: dict[str, Any], key: Keys,
         source: str, notes: list[str]) -> ImportedSLO:
    name = name_value(raw.get("name"), f"{where}.name", "SLO name")
    # Sloth's SLO names are unique within a service (its id is <service>-<name>); ours across slo/.
    if not name.startswith(service + "-") and len(f"{service}-{name}") <= 32:
        name = f"{service}-{name}"
    objective = objective_of(raw.get("objective"), f"{where}.objective")
    plugins = _plugins(raw.get("plugins"), f"{where}.plugins")
    if plugins:
        raise Refused(f"{where}.plugins", f"SLO plugins {', '.join(plugins)} change the generated rules; the "
                                          "definition API has no plugins (write the SLO by hand)")
    merged = {**mapping(service_labels, "labels", required=False),
              **mapping(raw.get("labels"), f"{where}.labels", required=False)}
    owner = ""
    for owner_key in ("owner", "team"):
        if isinstance(merged.get(owner_key), str) and merged[owner_key]:
            owner = merged[owner_key]
            break
    labels = labels_value(merged, f"{where}.labels", notes)
    description = text_value(raw.get("description"), f"{where}.description", required=False)
    if not description:
        description = f"{service} {name} (imported from Sloth, which gave no description)."
        notes.append("the spec gives no description: write what the SLO protects, for the on-call engineer")
    sli = mapping(raw.get("sli"), f"{where}.sli")
    if "raw" in sli:
        raise Refused(f"{where}.sli.raw", "a raw SLI (an error ratio query) cannot be expressed: the API counts "
                      "bad and total events (EventsRatio) so every window is traffic-weighted; rewrite it as events")
    if "plugin" in sli:
        plugin = mapping(sli["plugin"], f"{where}.sli.plugin")
        raise Refused(f"{where}.sli.plugin", f"an SLI plugin ({str(plugin.get('id'))[:80]}) builds its queries in "
                                             "Go code the importer cannot read; write the SLI as events")
    events = mapping(sli.get("events"), f"{where}.sli.events")
    error_key, total_key = key("error_query"), key("total_query")
    indicator = events_from_queries("bad", events.get(error_key), events.get(total_key),
                                    f"{where}.sli.events.{error_key}", f"{where}.sli.events.{total_key}")
    alerting = mapping(raw.get("alerting"), f"{where}.alerting", required=False)
    page, ticket, runbook = _alerting(alerting, f"{where}.alerting", key, source, name, notes)
    return ImportedSLO(source=source, name=name, service=service, owner=owner, description=description,
                       objective=objective, sli=indicator, labels=labels, page=page, ticket=ticket,
                       runbook=runbook, notes=notes)


def _alerting(alerting: dict[str, Any], where: str, key: Keys, source: str, slo: str,
              notes: list[str]) -> tuple[TierSpec, TierSpec, str]:
    common = labels_value(alerting.get("labels"), f"{where}.labels", notes)
    annotations = _annotations(alerting.get("annotations"), f"{where}.annotations")
    alert_name = text_value(alerting.get("name"), f"{where}.name", required=False, multiline=False, limit=200)
    if alert_name:
        common = {**common, "sloth_alert": alert_name}
    tiers = []
    lines = [f"- Imported from the Sloth spec `{spec_file(source)}`: replace these lines with the first steps for on-call."]
    lines += [f"- Sloth alert annotation `{k}`: {v}" for k, v in sorted(annotations.items())]
    for tier_name, tier_key in (("page", key("page_alert")), ("ticket", key("ticket_alert"))):
        tier = mapping(alerting.get(tier_key), f"{where}.{tier_key}", required=False)
        disable = tier.get("disable", False)
        if not isinstance(disable, bool):
            raise Refused(f"{where}.{tier_key}.disable", "expected true or false")
        own = labels_value(tier.get("labels"), f"{where}.{tier_key}.labels", notes)
        for k, v in sorted(_annotations(tier.get("annotations"), f"{where}.{tier_key}.annotations").items()):
            lines.append(f"- Sloth {tier_name} alert annotation `{k}`: {v}")
        if disable:
            reason = f"The Sloth spec {spec_file(source)} disables the {tier_name} alert of this SLO."
            tiers.append(TierSpec(enabled=False, disabled_reason=reason[:500]))
            if tier_name == "page":
                notes.append("the page tier is disabled as in the spec: where an environment pages (prod), the "
                             "page-tier-waiver gate needs Tier.disabled(..., waiver=Waiver(...)) approved by someone")
        else:
            tiers.append(TierSpec(labels={**common, **own}))
    runbook = "".join(line.replace("\n", " ") + "\n" for line in lines)
    return tiers[0], tiers[1], runbook


def _annotations(value: object, where: str) -> dict[str, str]:
    return {k: " ".join(text_value(v, f"{where}.{k}", limit=2000).split())
            for k, v in mapping(value, where, required=False).items()}
