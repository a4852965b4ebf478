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

from typing import Any

from generator import conventions as c
from generator.model.catalog import Catalog
from generator.model.durations import format_duration
from generator.promql import builder as b
from generator.promql.selectors import Matcher
from generator.grafana.panels import Query, alerts_firing, firing_alerts, dashboard, dashboard_links, stat, table, timeseries
from generator.model.numbers import text
from generator.model.slo import SLO
from generator.model.windows import PAGE, TICKET


def _sel(slo: SLO) -> str:
    return c.slo_matcher(slo.name)


def _legend(slo: SLO, prefix: str = "") -> str:
    group = " ".join(f"{{{{{label}}}}}" for label in slo.sli.group_by)
    return (prefix + " " + group).strip() or slo.name


def overview(catalog: Catalog) -> dict[str, Any]:
    detail_link = {"field": "slo", "title": "Open the SLO's dashboard",
                   "url": f"/d/{c.SLO_DASHBOARD_PREFIX}${{__value.raw}}?${{__url_time_range}}&var-datasource=${{datasource}}"}
    rows = [
        [stat("SLOs with a firing burn alert", "SLOs that have a page or ticket burn alert firing now.",
              Query(str(b.binary(b.call("count", b.aggregate("count", firing_alerts(Matcher(c.SLO_LABEL, "!=", "")),
                                                               [c.SLO_LABEL])), "or", b.call("vector", 0))), instant=True),
              "none", width=8, thresholds=[("green", None), ("red", 1)]),
         stat("Lowest error budget remaining", "The SLO closest to spending its whole budget for the period.",
              Query(str(b.aggregate("min", c.BUDGET_REMAINING)), instant=True), "percentunit", width=8,
              thresholds=[("red", None), ("orange", 0.25), ("green", 0.5)]),
         stat("Invariant alerts firing", "Alerts on things that must never happen (security and governance).",
              Query(str(b.binary(b.call("count", firing_alerts(Matcher(c.SLO_LABEL, "=", ""))), "or",
                                 b.call("vector", 0))), instant=True), "none", width=8,
              thresholds=[("green", None), ("red", 1)])],
        [table("SLOs, worst budget first",
               "Every SLO with its objective, its SLI over the period, the budget left (as a share and as time "
               "at the current burn) and its burn rate over the period. Click an SLO for its dashboard.",
               [Query(str(b.aggregate("max", c.OBJECTIVE, [c.SLO_LABEL, c.SERVICE_LABEL, c.TEAM_LABEL, c.PERIOD_LABEL])),
                      instant=True, table=True),
                Query(str(b.aggregate("min", b.binary(1, "-", c.PERIOD_ERROR_RATIO), [c.SLO_LABEL])), instant=True,
                      table=True),
                Query(str(b.aggregate("min", c.BUDGET_REMAINING, [c.SLO_LABEL])), instant=True, table=True),
                Query(str(b.aggregate("min", c.BUDGET_TIME_LEFT, [c.SLO_LABEL])), instant=True, table=True),
                Query(str(b.aggregate("max", c.PERIOD_BURN_RATE, [c.SLO_LABEL])), instant=True, table=True)],
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
               [Query(str(b.aggregate("max", c.PAIR_BURN_RATE, [c.SLO_LABEL, c.TIER_LABEL, c.BURN_RATE_LABEL])),
                      instant=True, table=True)],
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


def slo_detail(slo: SLO) -> dict[str, Any]:
    sel = _sel(slo)
    pairs = slo.all_pairs()
    first_tier = PAGE if slo.alerting.page.enabled else TICKET
    runbook_url = c.runbook_url(c.burn_alert(slo.name, first_tier))
    runbook = {"type": "link", "title": "Runbook", "url": runbook_url, "tooltip": "Runbook of this SLO's alerts",
               "targetBlank": True, "icon": "doc", "asDropdown": False, "includeVars": False, "keepTime": False,
               "tags": []}
    panel_runbook = [{"title": "Runbook", "url": runbook_url, "targetBlank": True}]
    rows = [[
        stat("Objective", f"{slo.description} Period: {slo.period}.", Query(str(b.aggregate("max", b.of_slo(c.OBJECTIVE, slo.name))), instant=True),
             "percentunit", links=panel_runbook),
        stat("SLI over the period", "Good events (or fresh ticks) over all, traffic-weighted, over the period.",
             Query(str(b.aggregate("min", b.binary(1, "-", b.of_slo(c.PERIOD_ERROR_RATIO, slo.name)))), instant=True),
             "percentunit",
             thresholds=[("red", None), ("green", float(slo.target))]),
        stat("Error budget remaining", "Share of the period's error budget not yet spent (worst group).",
             Query(str(b.aggregate("min", b.of_slo(c.BUDGET_REMAINING, slo.name))), instant=True), "percentunit",
             thresholds=[("red", None), ("orange", 0.25), ("green", 0.5)]),
        stat("Budget time left", "How long the remaining budget lasts at the current burn (capped at the period).",
             Query(str(b.aggregate("min", b.of_slo(c.BUDGET_TIME_LEFT, slo.name))), instant=True), "s"),
    ]]
    windows = sorted({w for p in pairs for w in (p.long, p.short)})
    rows.append([timeseries("Error ratio per alert window",
                            "The error ratio over each window the burn-rate alerts read.",
                            [Query(str(b.of_slo(c.error_ratio(w), slo.name)), _legend(slo, format_duration(w)))
                             for w in windows]
                            or [Query(str(b.of_slo(c.PERIOD_ERROR_RATIO, slo.name)), _legend(slo, "period"))],
                            "percentunit", width=24)])
    burn_panels = []
    for pair in pairs:
        burn_panels.append(timeseries(
            f"Burn rate {pair.tier} {pair.long_text}/{pair.short_text}",
            f"{pair.tier.capitalize()} alert fires when both windows burn faster than {text(pair.factor)}x"
            + (f" for {pair.for_ // 60}m." if pair.for_ else "."),
            [Query(str(b.binary(b.of_slo(c.error_ratio(window), slo.name), "/", text(slo.error_budget))),
                   _legend(slo, label)) for window, label in ((pair.long, pair.long_text), (pair.short, pair.short_text))],
            "x", width=max(6, 24 // max(1, len(pairs))), thresholds=[("green", None), ("red", float(pair.factor))],
            links=panel_runbook))
    if burn_panels:
        rows.append(burn_panels)
    bottom = [timeseries("Error budget remaining over the period", "Burn-down of the period's budget.",
                         [Query(str(b.of_slo(c.BUDGET_REMAINING, slo.name)), _legend(slo, "remaining"))], "percentunit",
                         thresholds=[("red", None), ("green", 0)])]
    bottom.append(slo.sli.signal_panel(sel, lambda name: _legend(slo, name)))
    rows.append(bottom)
    rows.append([table("Alerts of this SLO", "Its burn-rate and no-data alerts firing now.",
                       [Query(alerts_firing(Matcher(c.SLO_LABEL, "=", slo.name).render()), instant=True, table=True)],
                       "none",
                       height=6, hide=("Value",))])
    return dashboard(c.slo_dashboard_uid(slo.name), f"SLO: {slo.name}",
                     f"{slo.description} Objective {text(slo.target * 100)}% over {slo.period}. "
                     f"Owner: {slo.owner}. Generated.", rows, ["slo", slo.service], dashboard_links(runbook))
