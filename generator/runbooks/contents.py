"""One Markdown runbook per alert, written to out/runbooks/<alert>.md and linked
from the alert's runbook_url: what the alert means, the SLO and its budget, the
queries to run, the dashboards, first steps (hand-written in the definition's
`runbook` field, merged here) and the escalation path (from alerts/teams.py).
"""
from __future__ import annotations

from typing import Any

from decimal import Decimal

from generator import conventions as c, parallel
from generator.runbooks import prose
from generator.runbooks.prose import plain
from generator.model.catalog import Catalog
from generator.model.durations import format_duration
from generator.model.invariants import Invariant
from generator.model.numbers import percent, text
from generator.model.slo import SLO
from generator.model.windows import PAGE, TIERS, WindowPair, budget_as_time

GENERIC_BURN_STEPS = (
    "- Open the SLO dashboard above: which window pair fired (the alert's `tier` label), and is the "
    "burn still rising on the short window?\n"
    "- Check for a deploy, a config change or a policy bundle rollout in the last hours; rollback is "
    "`git revert` of that change and a reconciliation by the GitOps controller.\n"
)
GENERIC_NO_DATA_STEPS = (
    "- Is the exporter up? Run `up` for the service's scrape job; a target that is down or missing "
    "explains it.\n"
    "- Did a metric or label change name? `make test` checks the metric contract; compare the service's "
    "/metrics with `docs/metrics.md`.\n"
)


def _severity_line(severity: str, catalog: Catalog) -> str:
    envs = catalog.telemetry.environments if catalog.telemetry else ()
    if severity != PAGE or not envs:
        return severity
    paging = [e.name for e in envs if e.pages]
    ticketing = [e.name for e in envs if not e.pages]
    parts = [f"pages in {', '.join(paging)}"] if paging else []
    if ticketing:
        parts.append(f"a ticket in {', '.join(ticketing)}")
    return f"page ({'; '.join(parts)})"


def _slo_facts(slo: SLO, catalog: Catalog, severity: str) -> list[tuple[str, str]]:
    budget = format_duration(budget_as_time(slo.error_budget, slo.period_seconds))
    return [
        ("severity", _severity_line(severity, catalog)),
        ("SLO", f"`{slo.name}`: {plain(slo.description)}"),
        ("objective", f"{percent(slo.target)} over {slo.period}"),
        ("error budget", f"{percent(slo.error_budget)}: {budget} of total outage per {slo.period}"),
        ("service", f"`{slo.service}`"),
        ("owner", f"`{slo.owner}`"),
    ]


def _slo_queries(slo: SLO, pairs: tuple[WindowPair, ...]) -> list[str]:
    sel = c.slo_matcher(slo.name)
    lines = [f"{c.BUDGET_REMAINING}{sel}    # share of the period's budget left",
             f"{c.BUDGET_TIME_LEFT}{sel}    # seconds until it is spent at the current burn",
             f"{c.PERIOD_ERROR_RATIO}{sel}    # error ratio over the period, traffic-weighted"]
    for window in sorted({w for pair in pairs for w in (pair.long, pair.short)}):
        lines.append(f"{c.burn_rate(window)}{sel}")
    return lines + slo.sli.runbook_queries()


def _declared_sources(slo: SLO, catalog: Catalog) -> list[Any]:
    """The Metric declarations the SLI's source selectors read (none for KFM's own helpers' metrics)."""
    names = {s.metric for s in slo.sli.source_selectors()}
    return [m for m in catalog.metrics if names & set(m.series_names())]


def _origins(slo: SLO, catalog: Catalog) -> list[dict[str, str]]:
    """Where the SLI's data comes from, when it is an exporter's or another service's metric."""
    return [{"name": m.name, "type": m.type.replace("_", " "), "source": m.source,
             "file": catalog.relative(m.defined_in)} for m in _declared_sources(slo, catalog)]


def _dashboards(slo: SLO, panels: list[tuple[str, int]]) -> list[tuple[str, str, str]]:
    uid = c.slo_dashboard_uid(slo.name)
    grafana = c.GRAFANA_BASE_URL
    links = [(slo.name, f"{grafana}/d/{uid}", ": the SLO, its budget and every window pair")]
    links += [(f"burn rate of {tier}", f"{grafana}/d/{uid}?viewPanel={panel}", "") for tier, panel in panels]
    links.append(("SLO overview", f"{grafana}/d/{c.OVERVIEW_DASHBOARD_UID}", ""))
    return links


def _common(slo: SLO, catalog: Catalog, severity: str) -> dict[str, Any]:
    return {"slo": slo, "source": catalog.relative(slo.defined_in), "facts": _slo_facts(slo, catalog, severity),
            "declared": _origins(slo, catalog), "written": slo.runbook.strip(), "team": catalog.team(slo.owner)}


def burn_runbook(slo: SLO, tier: str, catalog: Catalog) -> str:
    pairs = slo.pairs(tier)
    rows = []
    for pair in pairs:
        share = pair.budget_share(slo.period_seconds)
        rows.append({"tier": f"{tier}-{pair.long_text}-{pair.short_text}", "factor": text(pair.factor),
                     "long": pair.long_text, "short": pair.short_text, "for_": format_duration(pair.for_) if pair.for_ else "0 (at once)",
                     "spent": percent(Decimal(share.numerator) / share.denominator),
                     "lasts": format_duration(int(slo.period_seconds / pair.factor) // 60 * 60)})
    all_pairs = slo.all_pairs()
    panels = [(f"{p.tier}-{p.long_text}-{p.short_text}", c.SLO_BURN_PANEL_FIRST_ID + all_pairs.index(p))
              for p in pairs]
    return prose.render(catalog.root, "runbooks/burn.md.j2", alert=c.burn_alert(slo.name, tier),
                            budget=percent(slo.error_budget), pairs=rows, queries=_slo_queries(slo, pairs),
                            dashboards=_dashboards(slo, panels), generic=GENERIC_BURN_STEPS,
                            **_common(slo, catalog, tier))


def no_data_runbook(slo: SLO, catalog: Catalog) -> str:
    selectors = slo.sli.source_selectors()
    return prose.render(catalog.root, "runbooks/no_data.md.j2", alert=c.no_data_alert(slo.name),
                            sources=", ".join(f"`{s.render()}`" for s in selectors),
                            queries=[f"absent({s.render()})" for s in selectors] + ["up == 0"],
                            dashboards=_dashboards(slo, []), generic=GENERIC_NO_DATA_STEPS,
                            **_common(slo, catalog, slo.no_data_severity))


def invariant_runbook(inv: Invariant, catalog: Catalog) -> str:
    grafana = c.GRAFANA_BASE_URL
    return prose.render(
        catalog.root, "runbooks/invariant.md.j2", invariant=inv, source=catalog.relative(inv.defined_in),
        facts=[("severity", _severity_line(inv.severity, catalog)), ("owner", f"`{inv.owner}`")],
        queries=[inv.expr()], written=inv.runbook.strip(), team=catalog.team(inv.owner),
        dashboards=[(inv.dashboard_uid, f"{grafana}/d/{inv.dashboard_uid}", ""),
                    ("SLO overview", f"{grafana}/d/{c.OVERVIEW_DASHBOARD_UID}", "")])


def _inputs(catalog: Catalog, owner: str, definition: dict[str, Any]) -> list[Any]:
    """What a runbook is rendered from, for its definitions hash."""
    team = catalog.team(owner)
    envs = [[e.name, e.pages] for e in catalog.telemetry.environments] if catalog.telemetry else []
    return [definition, team.canonical() if team else None, envs, *prose.overrides_digest(catalog.root)]


def render_runbooks(catalog: Catalog) -> dict[str, tuple[str, str, list[Any]]]:
    """{path: (markdown, source file, hash inputs)} for every alert."""
    def of_slo(slo: SLO) -> dict[str, tuple[str, str, list[Any]]]:
        inputs = _inputs(catalog, slo.owner, slo.canonical())
        declared = _declared_sources(slo, catalog)
        if declared:   # only then: runbooks of KFM's own metrics keep their hash
            inputs.append([m.canonical() for m in declared])
        source = catalog.relative(slo.defined_in)
        found = {}
        for tier in TIERS:
            if slo.pairs(tier):
                found[c.runbook_file(c.burn_alert(slo.name, tier))] = (burn_runbook(slo, tier, catalog), source, inputs)
        found[c.runbook_file(c.no_data_alert(slo.name))] = (no_data_runbook(slo, catalog), source, inputs)
        return found
    files: dict[str, tuple[str, str, list[Any]]] = {}
    for found in parallel.map_items(of_slo, catalog.slos):
        files.update(found)
    for inv in catalog.invariants:
        files[c.runbook_file(inv.name)] = (invariant_runbook(inv, catalog), catalog.relative(inv.defined_in),
                                           _inputs(catalog, inv.owner, inv.canonical()))
    return files
