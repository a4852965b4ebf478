"""The generated dashboards, from the SLO definitions and the conventions.

- kfm-slo-overview: every SLO, worst budget first, linking to its detail;
- kfm-slo-<name>: one detail dashboard per SLO (alerts link here).

Any other dashboard (a product's views) is a definition under dashboards/,
built with generator.grafana; the overview links to those that ask for it
(OVERVIEW_LINKS, catalog.overview_links).

Every query uses recorded series where they exist and $__rate_interval for
raw rates; panels that could legitimately be empty (no alert firing) are
written to return an explicit zero or "none firing" row instead.
"""
from __future__ import annotations

from . import conventions as c
from .catalog import Catalog
from .durations import format_duration
from .grafana import Query, alerts_firing, dashboard, dashboard_links, stat, table, timeseries
from .numbers import exact, text
from .slo import SLO
from .windows import PAGE, TICKET


def _sel(slo: SLO) -> str:
    return c.slo_matcher(slo.name)


def _legend(slo: SLO, prefix: str = "") -> str:
    group = " ".join(f"{{{{{label}}}}}" for label in slo.sli.group_by)
    return (prefix + " " + group).strip() or slo.name


def overview(catalog: Catalog) -> dict:
    detail_link = {"field": "slo", "title": "Open the SLO's dashboard",
                   "url": f"/d/{c.SLO_DASHBOARD_PREFIX}${{__value.raw}}?${{__url_time_range}}&var-datasource=${{datasource}}"}
    rows = [
        [stat("SLOs with a firing burn alert", "SLOs that have a page or ticket burn alert firing now.",
              Query('count(count by (slo) (ALERTS{alertstate="firing", slo!=""})) or vector(0)', instant=True),
              "none", width=8, thresholds=[("green", None), ("red", 1)]),
         stat("Lowest error budget remaining", "The SLO closest to spending its whole budget for the period.",
              Query(f"min({c.BUDGET_REMAINING})", instant=True), "percentunit", width=8,
              thresholds=[("red", None), ("orange", 0.25), ("green", 0.5)]),
         stat("Invariant alerts firing", "Alerts on things that must never happen (security and governance).",
              Query('count(ALERTS{alertstate="firing", slo=""}) or vector(0)', instant=True), "none", width=8,
              thresholds=[("green", None), ("red", 1)])],
        [table("SLOs, worst budget first",
               "Every SLO with its objective, its SLI over the period, the budget left (as a share and as time "
               "at the current burn) and its burn rate over the period. Click an SLO for its dashboard.",
               [Query(f"max by (slo, service, team, period) ({c.OBJECTIVE})", instant=True, table=True),
                Query(f"min by (slo) (1 - {c.PERIOD_ERROR_RATIO})", instant=True, table=True),
                Query(f"min by (slo) ({c.BUDGET_REMAINING})", instant=True, table=True),
                Query(f"min by (slo) ({c.BUDGET_TIME_LEFT})", instant=True, table=True),
                Query(f"max by (slo) ({c.PERIOD_BURN_RATE})", instant=True, table=True)],
               "none", height=12, sort_by="Budget remaining",
               rename={"Value #A": "Objective", "Value #B": "SLI over period", "Value #C": "Budget remaining",
                       "Value #D": "Budget time left", "Value #E": "Burn rate (period)"},
               column_units={"Objective": "percentunit", "SLI over period": "percentunit",
                             "Budget remaining": "percentunit", "Budget time left": "s",
                             "Burn rate (period)": "none"},
               links=[detail_link])],
        [table("Burn rate per window pair, fastest first",
               "For each SLO and window pair, the burn the alert compares with its factor (the lower of the "
               "two windows' burn rates). It fires when 'Burn now' exceeds 'Fires above' for the pair's `for`.",
               [Query(f"max by (slo, tier, burn_rate) ({c.PAIR_BURN_RATE})", instant=True, table=True)],
               "none", height=10, sort_by="Burn now", descending=True,
               rename={"Value": "Burn now", "burn_rate": "Fires above", "tier": "Window pair"},
               column_units={"Burn now": "x"}, links=[detail_link])],
        [table("Firing alerts", "Burn-rate, no-data and invariant alerts firing now.",
               [Query(alerts_firing('alertname!=""'), instant=True, table=True)], "none", height=8,
               hide=("Value",))],
    ]
    return dashboard(c.OVERVIEW_DASHBOARD_UID, "KFM SLO overview",
                     "All KFM service-level objectives: budgets, burn and firing alerts. Generated.",
                     rows, ["slo"], list(catalog.overview_links))


def slo_detail(slo: SLO) -> dict:
    sel = _sel(slo)
    pairs = slo.all_pairs()
    first_tier = PAGE if slo.alerting.page.enabled else TICKET
    runbook_url = c.runbook_url(c.burn_alert(slo.name, first_tier))
    runbook = {"type": "link", "title": "Runbook", "url": runbook_url, "tooltip": "Runbook of this SLO's alerts",
               "targetBlank": True, "icon": "doc", "asDropdown": False, "includeVars": False, "keepTime": False,
               "tags": []}
    panel_runbook = [{"title": "Runbook", "url": runbook_url, "targetBlank": True}]
    rows = [[
        stat("Objective", f"{slo.description} Period: {slo.period}.", Query(f"max({c.OBJECTIVE}{sel})", instant=True),
             "percentunit", links=panel_runbook),
        stat("SLI over the period", "Good events (or fresh ticks) over all, traffic-weighted, over the period.",
             Query(f"min(1 - {c.PERIOD_ERROR_RATIO}{sel})", instant=True), "percentunit",
             thresholds=[("red", None), ("green", float(slo.objective))]),
        stat("Error budget remaining", "Share of the period's error budget not yet spent (worst group).",
             Query(f"min({c.BUDGET_REMAINING}{sel})", instant=True), "percentunit",
             thresholds=[("red", None), ("orange", 0.25), ("green", 0.5)]),
        stat("Budget time left", "How long the remaining budget lasts at the current burn (capped at the period).",
             Query(f"min({c.BUDGET_TIME_LEFT}{sel})", instant=True), "s"),
    ]]
    windows = sorted({w for p in pairs for w in (p.long, p.short)})
    rows.append([timeseries("Error ratio per alert window",
                            "The error ratio over each window the burn-rate alerts read.",
                            [Query(f"{c.error_ratio(w)}{sel}", _legend(slo, format_duration(w))) for w in windows]
                            or [Query(f"{c.PERIOD_ERROR_RATIO}{sel}", _legend(slo, "period"))],
                            "percentunit", width=24)])
    burn_panels = []
    for pair in pairs:
        burn_panels.append(timeseries(
            f"Burn rate {pair.tier} {pair.long_text}/{pair.short_text}",
            f"{pair.tier.capitalize()} alert fires when both windows burn faster than {text(pair.factor)}x "
            f"for {pair.for_ // 60}m.",
            [Query(f"{c.error_ratio(pair.long)}{sel} / {text(slo.error_budget)}", _legend(slo, pair.long_text)),
             Query(f"{c.error_ratio(pair.short)}{sel} / {text(slo.error_budget)}", _legend(slo, pair.short_text))],
            "x", width=max(6, 24 // max(1, len(pairs))), thresholds=[("green", None), ("red", float(pair.factor))],
            links=panel_runbook))
    if burn_panels:
        rows.append(burn_panels)
    bottom = [timeseries("Error budget remaining over the period", "Burn-down of the period's budget.",
                         [Query(f"{c.BUDGET_REMAINING}{sel}", _legend(slo, "remaining"))], "percentunit",
                         thresholds=[("red", None), ("green", 0)])]
    bottom.append(slo.sli.signal_panel(sel, lambda name: _legend(slo, name)))
    rows.append(bottom)
    rows.append([table("Alerts of this SLO", "Its burn-rate and no-data alerts firing now.",
                       [Query(alerts_firing(f'slo="{slo.name}"'), instant=True, table=True)], "none",
                       height=6, hide=("Value",))])
    return dashboard(c.slo_dashboard_uid(slo.name), f"SLO: {slo.name}",
                     f"{slo.description} Objective {text(exact(slo.objective) * 100)}% over {slo.period}. "
                     f"Owner: {slo.owner}. Generated.", rows, ["slo", slo.service], dashboard_links(runbook))


def all_dashboards(catalog: Catalog) -> list[dict]:
    boards = [overview(catalog)]
    boards += [slo_detail(slo) for slo in catalog.slos]
    boards += list(catalog.dashboards)
    return sorted(boards, key=lambda b: b["uid"])
