"""One Markdown runbook per alert, written to out/runbooks/<alert>.md and linked
from the alert's runbook_url: what the alert means, the SLO and its budget, the
queries to run, the dashboards, first steps (hand-written in the definition's
`runbook` field, merged here) and the escalation path (from alerts/teams.py).
"""
from __future__ import annotations

from decimal import Decimal

from . import conventions as c
from .catalog import Catalog
from .durations import format_duration
from .invariants import Invariant
from .numbers import percent, text
from .slo import SLO
from .windows import PAGE, TIERS, budget_as_time

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


_MARKDOWN_ACTIVE = str.maketrans({ch: "\\" + ch for ch in "\\`[]<>|"})


def plain(text: str) -> str:
    """User text shown as written inside Markdown: one line, no code span, link, HTML or table-cell
    break (a team's channel, a description in a table). Emphasis is left alone: cosmetic at worst."""
    return " ".join(text.split("\n")).translate(_MARKDOWN_ACTIVE)


def _intro(source: str) -> str:
    return (f"> Generated from `{source}` by the kfm-observability generator. First steps are hand-written "
            f"in that definition's `runbook` field; change them there and run `make render`.\n\n")


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


def _owner_section(owner: str, catalog: Catalog) -> str:
    team = catalog.team(owner)
    if team is None:
        return f"## Escalation\n\nOwner: `{owner}` (not a team defined in alerts/teams.py).\n"
    channel = f" Incident channel: {plain(team.channel)}." if team.channel else ""
    return (f"## Escalation\n\n1. {plain(team.on_call)} (team `{team.name}`).{channel}\n"
            f"2. Not acknowledged, or the budget will run out before it is fixed: {plain(team.escalation)}.\n")


def _first_steps(notes: str, generic: str) -> str:
    written = notes.strip()
    return "## First steps\n\n" + (written + "\n" if written else "") + generic


def _table(rows: list[tuple[str, str]]) -> str:
    return "| | |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)


def _slo_facts(slo: SLO, catalog: Catalog, severity: str) -> str:
    budget = format_duration(budget_as_time(slo.error_budget, slo.period_seconds))
    return _table([
        ("severity", _severity_line(severity, catalog)),
        ("SLO", f"`{slo.name}`: {plain(slo.description)}"),
        ("objective", f"{percent(slo.objective)} over {slo.period}"),  # type: ignore[arg-type]
        ("error budget", f"{percent(slo.error_budget)}: {budget} of total outage per {slo.period}"),
        ("service", f"`{slo.service}`"),
        ("owner", f"`{slo.owner}`"),
    ])


def _slo_queries(slo: SLO, pairs) -> str:
    sel = c.slo_matcher(slo.name)
    lines = [f"{c.BUDGET_REMAINING}{sel}    # share of the period's budget left",
             f"{c.BUDGET_TIME_LEFT}{sel}    # seconds until it is spent at the current burn",
             f"{c.PERIOD_ERROR_RATIO}{sel}    # error ratio over the period, traffic-weighted"]
    for window in sorted({w for pair in pairs for w in (pair.long, pair.short)}):
        lines.append(f"{c.burn_rate(window)}{sel}")
    group_by = slo.sli.group_by  # type: ignore[attr-defined]
    by = f" by ({', '.join(group_by)})" if group_by else ""
    if getattr(slo.sli, "native", False):  # one native histogram: its count, and the share above the threshold
        rate = slo.sli.histogram_rate()  # type: ignore[union-attr]
        lines.append(f"histogram_count({rate})    # requests per second")
        lines.append(f"histogram_fraction({slo.sli.threshold_text()}, +Inf, {rate})    "  # type: ignore[union-attr]
                     "# share slower than the threshold")
        return "## Queries to run\n\n```promql\n" + "\n".join(lines) + "\n```\n"
    for selector in slo.sli.source_selectors():  # type: ignore[attr-defined]
        function = "time() - " if slo.sli.kind == "freshness" else "rate("  # type: ignore[attr-defined]
        closing = "" if slo.sli.kind == "freshness" else "[5m])"  # type: ignore[attr-defined]
        aggregate = "max" if slo.sli.kind == "freshness" else "sum"  # type: ignore[attr-defined]
        lines.append(f"{aggregate}{by} ({function}{selector.render()}{closing})")
    return "## Queries to run\n\n```promql\n" + "\n".join(lines) + "\n```\n"


def _declared_sources(slo: SLO, catalog: Catalog) -> list:
    """The Metric declarations the SLI's source selectors read (none for KFM's own helpers' metrics)."""
    names = {s.metric for s in slo.sli.source_selectors()}  # type: ignore[attr-defined]
    return [m for m in catalog.metrics if names & set(m.series_names())]


def _origin_section(slo: SLO, catalog: Catalog) -> list[str]:
    """Where the SLI's data comes from, when it is an exporter's or another service's metric."""
    declared = _declared_sources(slo, catalog)
    if not declared:
        return []
    lines = [f"- `{m.name}` ({m.type.replace('_', ' ')}): {plain(m.source)}; declared in "
             f"`{catalog.relative(m.defined_in)}`." for m in declared]
    return ["## Where the data comes from\n\nNot KFM's instrumentation helpers: if it is missing or wrong, start "
            "there.\n\n" + "\n".join(lines) + "\n"]


def _dashboards(slo: SLO, panels: list[tuple[str, int]]) -> str:
    uid = c.slo_dashboard_uid(slo.name)
    grafana = c.GRAFANA_BASE_URL
    lines = [f"- [{slo.name}]({grafana}/d/{uid}): the SLO, its budget and every window pair"]
    lines += [f"- [burn rate of {tier}]({grafana}/d/{uid}?viewPanel={panel})" for tier, panel in panels]
    lines.append(f"- [SLO overview]({grafana}/d/{c.OVERVIEW_DASHBOARD_UID})")
    return "## Dashboards\n\n" + "\n".join(lines) + "\n"


def burn_runbook(slo: SLO, tier: str, catalog: Catalog) -> str:
    alert = c.burn_alert(slo.name, tier)
    pairs = slo.pairs(tier)
    rows = []
    for pair in pairs:
        lasts = format_duration(int(slo.period_seconds / pair.factor) // 60 * 60)
        rows.append(f"| `{tier}-{pair.long_text}-{pair.short_text}` | {text(pair.factor)}x | {pair.long_text} | "
                    f"{pair.short_text} | {format_duration(pair.for_)} | "
                    f"{percent(Decimal(pair.budget_share(slo.period_seconds).numerator) / pair.budget_share(slo.period_seconds).denominator)} | {lasts} |")
    meaning = (
        f"## What it means\n\nThe `{slo.name}` SLO is spending its error budget faster than it can afford: the "
        f"error ratio is above the burn factor times the {percent(slo.error_budget)} budget over both windows of "
        f"one pair (the long one says it is significant, the short one that it is still happening). The "
        f"alert's `tier` label names the pair:\n\n"
        "| tier label | burn | long window | short window | for | budget spent when it fires | "
        "a whole budget lasts |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    all_pairs = slo.all_pairs()
    panels = [(f"{p.tier}-{p.long_text}-{p.short_text}", c.SLO_BURN_PANEL_FIRST_ID + all_pairs.index(p))
              for p in pairs]
    return "\n".join([
        f"# {alert}\n\n" + _intro(catalog.relative(slo.defined_in)) + _slo_facts(slo, catalog, tier),
        meaning, *_origin_section(slo, catalog), _slo_queries(slo, pairs), _dashboards(slo, panels),
        _first_steps(slo.runbook, GENERIC_BURN_STEPS), _owner_section(slo.owner, catalog)])


def no_data_runbook(slo: SLO, catalog: Catalog) -> str:
    alert = c.no_data_alert(slo.name)
    sources = ", ".join(f"`{s.render()}`" for s in slo.sli.source_selectors())  # type: ignore[attr-defined]
    meaning = (f"## What it means\n\nA source series of the `{slo.name}` SLI ({sources}) is absent for "
               f"{slo.alerting.no_data_for}. The SLO reads as neither healthy nor burning, so its burn-rate "
               f"alerts cannot fire: the service is unobserved, not necessarily down.\n")
    queries = "## Queries to run\n\n```promql\n" + "\n".join(
        f"absent({s.render()})" for s in slo.sli.source_selectors()) + "\nup == 0\n```\n"  # type: ignore[attr-defined]
    return "\n".join([
        f"# {alert}\n\n" + _intro(catalog.relative(slo.defined_in)) + _slo_facts(slo, catalog, slo.no_data_severity),
        meaning, *_origin_section(slo, catalog), queries, _dashboards(slo, []),
        _first_steps(slo.runbook, GENERIC_NO_DATA_STEPS),
        _owner_section(slo.owner, catalog)])


def invariant_runbook(inv: Invariant, catalog: Catalog) -> str:
    facts = _table([("severity", _severity_line(inv.severity, catalog)), ("owner", f"`{inv.owner}`")])
    meaning = (f"## What it means\n\n{plain(inv.summary)}\n\n{plain(inv.description)}\n\nThis invariant must stay at zero: "
               f"any increase of the counter in {inv.window} fires it, including a violation counted by a "
               f"series that did not exist before.\n")
    queries = f"## Queries to run\n\n```promql\n{inv.expr()}\n```\n"
    grafana = c.GRAFANA_BASE_URL
    dashboards = (f"## Dashboards\n\n- [{inv.dashboard_uid}]({grafana}/d/{inv.dashboard_uid})\n"
                  f"- [SLO overview]({grafana}/d/{c.OVERVIEW_DASHBOARD_UID})\n")
    return "\n".join([
        f"# {inv.name}\n\n" + _intro(catalog.relative(inv.defined_in)) + facts, meaning, queries, dashboards,
        _first_steps(inv.runbook, ""), _owner_section(inv.owner, catalog)])


def _inputs(catalog: Catalog, owner: str, definition: dict) -> list:
    """What a runbook is rendered from, for its definitions hash."""
    team = catalog.team(owner)
    envs = [[e.name, e.pages] for e in catalog.telemetry.environments] if catalog.telemetry else []
    return [definition, team.canonical() if team else None, envs]


def render_runbooks(catalog: Catalog) -> dict[str, tuple[str, str, list]]:
    """{path: (markdown, source file, hash inputs)} for every alert."""
    files: dict[str, tuple[str, str, list]] = {}
    for slo in catalog.slos:
        inputs = _inputs(catalog, slo.owner, slo.canonical())
        declared = _declared_sources(slo, catalog)
        if declared:   # only then: runbooks of KFM's own metrics keep their hash
            inputs.append([m.canonical() for m in declared])
        source = catalog.relative(slo.defined_in)
        for tier in TIERS:
            if slo.pairs(tier):
                files[c.runbook_file(c.burn_alert(slo.name, tier))] = (burn_runbook(slo, tier, catalog), source, inputs)
        files[c.runbook_file(c.no_data_alert(slo.name))] = (no_data_runbook(slo, catalog), source, inputs)
    for inv in catalog.invariants:
        files[c.runbook_file(inv.name)] = (invariant_runbook(inv, catalog), catalog.relative(inv.defined_in),
                                           _inputs(catalog, inv.owner, inv.canonical()))
    return files
