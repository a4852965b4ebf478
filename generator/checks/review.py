"""The PR review summary: what a change does to SLOs, budgets, alerts,
dashboards and the collector, read from two rendered trees (base and change).

Both trees are rendered by their own generator, so a change to the generator
shows up as well as a change to the definitions. Everything is compared on the
rendered output, sorted, so the summary is deterministic.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import yaml

from generator import conventions as c
from generator.alertmanager.routing import PAGE_RECEIVER
from generator.grafana.panels import all_panels
from generator.kubernetes import jsonpatch
from generator.model.durations import format_duration, parse_duration
from generator.checks.gates import GateResult
from generator.model.numbers import percent

THRESHOLD = re.compile(r">\s*([0-9][0-9.e+-]*)")
MAX_CONFIG_CHANGES = 25


@dataclass(frozen=True)
class SLOFacts:
    objective: Decimal
    period: str

    @property
    def budget_seconds(self) -> int:
        return int(((1 - self.objective) * parse_duration(self.period)).to_integral_value())


def _rule_documents(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {p: yaml.safe_load(t) for p, t in sorted(files.items())
            if p.startswith(c.RULES_DIR) and p.endswith(".rules.yaml")}


def slos(files: dict[str, str]) -> dict[str, SLOFacts]:
    found = {}
    for document in _rule_documents(files).values():
        for group in document.get("groups", []):
            for rule in group["rules"]:
                if rule.get("record") == c.OBJECTIVE:
                    value = re.search(r"vector\(([0-9.e-]+)\)", rule["expr"])
                    labels = rule.get("labels", {})
                    if value and c.SLO_LABEL in labels:
                        found[labels[c.SLO_LABEL]] = SLOFacts(Decimal(value.group(1)),
                                                              str(labels.get(c.PERIOD_LABEL, "30d")))
    return found


def alerts(files: dict[str, str]) -> dict[tuple[str, str], dict[str, str]]:
    """(alert, tier) -> the facts a reviewer compares."""
    found = {}
    for document in _rule_documents(files).values():
        for group in document.get("groups", []):
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                labels = rule.get("labels", {})
                threshold = THRESHOLD.search(rule["expr"])
                found[(rule["alert"], labels.get(c.TIER_LABEL, ""))] = {
                    "severity": str(labels.get(c.SEVERITY_LABEL, "")),
                    "threshold": threshold.group(1) if threshold else "",
                    "burn rate": str(labels.get(c.BURN_RATE_LABEL, "")),
                    "for": str(rule.get("for", "0s")),
                    "windows": (f"{labels[c.LONG_WINDOW_LABEL]}/{labels[c.SHORT_WINDOW_LABEL]}"
                                if c.LONG_WINDOW_LABEL in labels else ""),
                    "expr": rule["expr"],
                    "annotations": json.dumps(rule.get("annotations", {}), sort_keys=True),
                    "labels": json.dumps(labels, sort_keys=True),
                }
    return found


def dashboards(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """uid -> {panel title (numbered if repeated): canonical JSON of the panel}."""
    found = {}
    for path, text in sorted(files.items()):
        if path.startswith(c.DASHBOARDS_DIR) and path.endswith(".json"):
            board = json.loads(text)
            panels: dict[str, str] = {}
            for panel in all_panels(board):
                if panel.get("type") == "row":
                    continue
                body = {k: v for k, v in panel.items() if k not in ("gridPos", "id", "panels")}
                title, n = panel.get("title", ""), 2
                key = title
                while key in panels:
                    key, n = f"{title} ({n})", n + 1
                panels[key] = json.dumps(body, sort_keys=True)
            found[board["uid"]] = panels
    return found


def per_environment(files: dict[str, str], path_of: Callable[[str], str]) -> dict[str, dict[str, Any]]:
    """environment -> parsed YAML of the files named by a conventions path function."""
    prefix, _, suffix = path_of("\0").partition("\0")
    found = {}
    for path, text in sorted(files.items()):
        env = path[len(prefix):len(path) - len(suffix)]
        if path.startswith(prefix) and path.endswith(suffix) and env and "/" not in env:
            found[env] = yaml.safe_load(text)
    return found


# --- the summary ------------------------------------------------------------------

def per_period(period: str) -> str:
    match = re.fullmatch(r"(\d+)d", period)
    return f"per {match.group(1)} days" if match else f"per {period}"


def _budget(facts: SLOFacts) -> str:
    return f"{format_duration(facts.budget_seconds)} {per_period(facts.period)}"


def _slo_section(old: dict[str, SLOFacts], new: dict[str, SLOFacts]) -> list[str]:
    rows = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if a is None:
            assert b is not None
            rows.append(f"| `{name}` | added | {percent(b.objective)} | {b.period} | {_budget(b)} |")
        elif b is None:
            rows.append(f"| `{name}` | removed | {percent(a.objective)} | {a.period} | {_budget(a)} |")
        else:
            objective = (percent(b.objective) if a.objective == b.objective
                         else f"{percent(a.objective)} → {percent(b.objective)}")
            period = b.period if a.period == b.period else f"{a.period} → {b.period}"
            budget = (f"{format_duration(a.budget_seconds)} {per_period(a.period)} → "
                      f"{format_duration(b.budget_seconds)} {per_period(b.period)}")
            if a.period == b.period:
                budget = (f"{format_duration(a.budget_seconds)} → {format_duration(b.budget_seconds)} "
                          f"{per_period(b.period)}")
            rows.append(f"| `{name}` | changed | {objective} | {period} | {budget} |")
    if not rows:
        return ["### SLOs", "", f"No SLO added, removed or changed ({len(new)} SLOs).", ""]
    return ["### SLOs", "", "| SLO | change | objective | period | error budget (total outage) |",
            "|---|---|---|---|---|", *rows, ""]


def _alert_name(key: tuple[str, str]) -> str:
    return f"`{key[0]}`" + (f" `{key[1]}`" if key[1] else "")


def _alert_section(old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]) -> list[str]:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = []
    for key in sorted(set(old) & set(new)):
        diffs = [f"{field} {old[key][field] or '-'} → {new[key][field] or '-'}"
                 for field in ("severity", "threshold", "burn rate", "windows", "for")
                 if old[key][field] != new[key][field]]
        if not diffs and old[key]["expr"] != new[key]["expr"]:
            diffs = ["expression changed"]
        for part in ("labels", "annotations"):
            before, after = json.loads(old[key][part]), json.loads(new[key][part])
            keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                          and (part != "labels" or k not in (c.SEVERITY_LABEL, c.BURN_RATE_LABEL)))
            if keys:
                diffs.append(f"{part} {', '.join(keys)} changed")
        if diffs:
            changed.append(f"| {_alert_name(key)} | {'; '.join(diffs)} |")
    lines = ["### Alerts", ""]
    if not (added or removed or changed):
        return lines + [f"No alert added, removed or changed ({len(new)} alert rules).", ""]
    for title, keys, facts in (("Added", added, new), ("Removed", removed, old)):
        if keys:
            lines.append(f"{title} ({len(keys)}):")
            lines += [f"- {_alert_name(k)}: {facts[k]['severity']}"
                      + (f", {facts[k]['burn rate']}x over {facts[k]['windows']}" if facts[k]["windows"] else "")
                      for k in keys]
            lines.append("")
    if changed:
        lines += [f"Changed ({len(changed)}):", "", "| alert | what changed |", "|---|---|", *changed, ""]
    return lines


def _dashboard_section(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    rows = []
    for uid in sorted(set(old) | set(new)):
        if uid not in old:
            rows.append(f"| `{uid}` | added | {len(new[uid])} panels |")
        elif uid not in new:
            rows.append(f"| `{uid}` | removed | {len(old[uid])} panels |")
        else:
            came = sorted(set(new[uid]) - set(old[uid]))
            gone = sorted(set(old[uid]) - set(new[uid]))
            edited = sorted(t for t in set(old[uid]) & set(new[uid]) if old[uid][t] != new[uid][t])
            parts = ([f"+ {t}" for t in came] + [f"− {t}" for t in gone]
                     + [f"~ {t}" for t in edited])
            if parts:
                rows.append(f"| `{uid}` | panels | {'; '.join(parts)} |")
    if not rows:
        return ["### Dashboards", "", f"No panel added, removed or changed ({len(new)} dashboards).", ""]
    return ["### Dashboards", "", "(+ added, − removed, ~ queries or settings changed)", "",
            "| dashboard | change | panels |", "|---|---|---|", *rows, ""]


def recordings(files: dict[str, str]) -> dict[tuple[str, str], str]:
    """(slo or group, recorded series [labels]) -> expression, for the SLI's recording rules."""
    found = {}
    for document in _rule_documents(files).values():
        for group in document.get("groups", []):
            for rule in group["rules"]:
                if "record" in rule:
                    labels = rule.get("labels", {})
                    owner = labels.get(c.SLO_LABEL, group["name"])
                    extra = ",".join(f"{k}={v}" for k, v in sorted(labels.items())
                                     if k not in (c.SLO_LABEL, c.SERVICE_LABEL, c.TEAM_LABEL))
                    found[(owner, rule["record"] + (f"{{{extra}}}" if extra else ""))] = rule["expr"]
    return found


def _recording_section(old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]) -> list[str]:
    changed: dict[str, list[str]] = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            mark = "+" if key not in old else "−" if key not in new else "~"
            changed.setdefault(key[0], []).append(f"{mark} `{key[1]}`")
    if not changed:
        return ["### Recording rules (SLIs)", "", "No recording rule added, removed or changed.", ""]
    lines = ["### Recording rules (SLIs)", "", "(+ added, − removed, ~ expression changed)", ""]
    source_reading = (c.BAD_EVENTS_RATE, c.TOTAL_EVENTS_RATE, c.DATASET_STALE)
    for owner, items in sorted(changed.items()):
        shown = items if len(items) <= 8 else items[:8] + [f"... and {len(items) - 8} more"]
        sli = any(f"`{name}" in item for item in items for name in source_reading)
        lines.append(f"- `{owner}`: " + ("**the SLI itself changed** (it reads other source series); " if sli else "")
                     + ", ".join(shown))
    return lines + [""]


def _value(document: object, path: str) -> object:
    for part in [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]:
        if isinstance(document, list):
            document = document[int(part)]
        elif isinstance(document, dict):
            document = document[part]
        else:   # a patch of this document only has paths into its lists and dicts
            raise TypeError(f"{path}: a {type(document).__name__} has no part {part!r}")
    return document


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def _config_section(title: str, nothing: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"### {title}", ""]
    any_change = False
    for env in sorted(set(old) | set(new)):
        if env not in old or env not in new:
            lines.append(f"- `{env}`: {'added' if env in new else 'removed'}")
            any_change = True
            continue
        ops = jsonpatch.diff(old[env], new[env])
        if not ops:
            continue
        any_change = True
        lines.append(f"- `{env}` ({len(ops)} change{'s' if len(ops) != 1 else ''}):")
        for op in ops[:MAX_CONFIG_CHANGES]:
            if op["op"] == "replace":
                lines.append(f"  - `{op['path']}`: {_short(_value(old[env], op['path']))} → {_short(op['value'])}")
            elif op["op"] == "add":
                lines.append(f"  - `{op['path']}` added: {_short(op['value'])}")
            else:
                lines.append(f"  - `{op['path']}` removed")
        if len(ops) > MAX_CONFIG_CHANGES:
            lines.append(f"  - ... and {len(ops) - MAX_CONFIG_CHANGES} more")
    if not any_change:
        lines.append(nothing)
    return lines + [""]



ALLOW_LIST = "redaction/allow_list"


def paging_environments(files: dict[str, str]) -> set[str]:
    """Environments whose Alertmanager sends page alerts to the pager (Environment(pages=True))."""
    return {env for env, cfg in per_environment(files, c.alertmanager_file).items()
            if any(route.get("receiver") == PAGE_RECEIVER for route in ((cfg or {}).get("route") or {}).get("routes", []))}


def _let_through(cfg: dict[str, Any]) -> tuple[set[str] | None, set[str]]:
    """The keys an environment's collector lets through (None: every key) and the patterns it masks."""
    processor = (cfg.get("processors") or {}).get(ALLOW_LIST)
    if not processor:
        return None, set()
    keys = None if processor.get("allow_all_keys") else set(processor.get("allowed_keys") or ())
    return keys, set(processor.get("blocked_values") or ())


def _redaction_section(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], paging: set[str]) -> list[str]:
    """What leaves the collector, per environment: keys let through and patterns masked, added or
    removed. A paging environment's (prod's) changes come first and are marked."""
    lines = ["### What leaves the collector", ""]
    for env in sorted(set(old) & set(new), key=lambda e: (e not in paging, e)):
        (old_keys, old_masks), (new_keys, new_masks) = _let_through(old[env]), _let_through(new[env])
        mark = " **(pages: production data)**" if env in paging else ""
        if old_keys != new_keys:
            if new_keys is None or old_keys is None:
                lines.append(f"- `{env}`{mark}: " + ("**every attribute key now passes** (no allow-list)"
                                                     if new_keys is None else "an allow-list now applies"))
            else:
                more, fewer = sorted(new_keys - old_keys), sorted(old_keys - new_keys)
                if more:
                    lines.append(f"- `{env}`{mark} lets through {len(more)} more key{'s' if len(more) != 1 else ''}: "
                                 + ", ".join(f"`{k}`" for k in more))
                if fewer:
                    lines.append(f"- `{env}` drops {len(fewer)} key{'s' if len(fewer) != 1 else ''} it kept: "
                                 + ", ".join(f"`{k}`" for k in fewer))
        if old_masks != new_masks:
            unmasked, masked = sorted(old_masks - new_masks), sorted(new_masks - old_masks)
            if unmasked:
                lines.append(f"- `{env}`{mark} **no longer masks**: " + ", ".join(f"`{p}`" for p in unmasked))
            if masked:
                lines.append(f"- `{env}` also masks: " + ", ".join(f"`{p}`" for p in masked))
    if len(lines) == 2:
        lines.append("No environment lets more or less through.")
    return lines + [""]


AREAS = ((c.RUNBOOKS_DIR, "runbooks"), (c.GITOPS_ROOT + "/env/", "overlays"), (c.GITOPS_BASE + "/", "base objects"),
         (c.ALERTMANAGER_DIR, "Alertmanager routing"), (c.TESTS_DIR, "promtool tests"),
         (c.RULES_DIR, "rule files"), ("grafana/", "dashboards"), (c.OTEL_DIR, "collector"))


def _files_section(old: dict[str, str], new: dict[str, str]) -> list[str]:
    changed = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
    added = len(set(new) - set(old))
    removed = len(set(old) - set(new))
    counts: dict[str, int] = {}
    for path in changed:
        area = next((name for prefix, name in AREAS if path.startswith(prefix)), "other")
        counts[area] = counts.get(area, 0) + 1
    summary = ", ".join(f"{n} {area}" for area, n in sorted(counts.items())) or "none"
    return ["### Generated files", "",
            f"{len(changed)} files under out/ differ: {added} added, {removed} removed, "
            f"{len(changed) - added - removed} changed ({summary}).", ""]


def _gates_section(results: list[GateResult]) -> list[str]:
    lines = ["### Policy gates", "", "| gate | result | checked |", "|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name} | {'pass' if r.passed else '**FAIL**'} | {r.checked or 'nothing'} |")
    details = [f"- {r.name}: {p}" for r in results for p in r.problems]
    details += [f"- note ({r.name}): {n}" for r in results for n in r.notes]
    return lines + ([""] + details if details else []) + [""]


def summary(base_name: str, old: dict[str, str], new: dict[str, str], gates: list[GateResult]) -> str:
    failing = [r.name for r in gates if not r.passed]
    verdict = (f"**Policy gates: {len(gates) - len(failing)} of {len(gates)} pass**" if not failing
               else f"**Policy gates: {', '.join(failing)} FAIL: this change may not ship**")
    lines = [f"## Observability review: `{base_name}` → this change", "", verdict, ""]
    lines += _slo_section(slos(old), slos(new))
    lines += _alert_section(alerts(old), alerts(new))
    lines += _recording_section(recordings(old), recordings(new))
    lines += _dashboard_section(dashboards(old), dashboards(new))
    old_collectors = per_environment(old, c.collector_config_file)
    new_collectors = per_environment(new, c.collector_config_file)
    lines += _redaction_section(old_collectors, new_collectors, paging_environments(new))
    lines += _config_section("Collector", "No collector pipeline or setting changed.", old_collectors, new_collectors)
    lines += _config_section("Alertmanager routing", "No route, receiver or inhibition changed.",
                             per_environment(old, c.alertmanager_file),
                             per_environment(new, c.alertmanager_file))
    lines += _files_section(old, new)
    lines += _gates_section(gates)
    return "\n".join(lines).rstrip("\n") + "\n"
