"""KFM's governed API dashboard: requests, errors and latency by route and decision class; policy decisions;
the invariant alerts.

The dashboard lists every invariant alert of the project, wherever it is defined, so it is a function of
the loaded catalogue (a DASHBOARDS entry may be one: it is called once every other definition has loaded).
"""
from dashboards._uids import API_DASHBOARD_UID
from generator import conventions as c
from generator.grafana import (RATE_INTERVAL, Query, alerts_firing, dashboard, dashboard_links, link_to, quantile,
                               table, timeseries)

REQUESTS = f"{c.HTTP_SERVER_DURATION}_count"
BY = f"{c.HTTP_ROUTE}, {c.DECISION_CLASS}"


def governed_api(catalog) -> dict:
    invariants = "|".join(i.name for i in catalog.invariants) or "none"
    return dashboard(
        uid=API_DASHBOARD_UID,
        title="KFM governed API and policy decisions",
        description="Requests, errors and latency by route and allow/deny decision class; policy decisions; "
                    "invariant alerts. Generated.",
        tags=["governed-api"],
        links=dashboard_links(),
        rows=[
            [timeseries("Requests by route and decision class", "Requests per second.",
                        [Query(f"sum by ({BY}) (rate({REQUESTS}[{RATE_INTERVAL}]))",
                               "{{http_route}} {{kfm_decision}}")], "reqps"),
             timeseries("Server errors by route and decision class", "5xx responses per second (0 when none).",
                        [Query(f'sum by ({BY}) (rate({REQUESTS}{{{c.HTTP_STATUS}=~"5.."}}[{RATE_INTERVAL}]))\n'
                               f"or 0 * sum by ({BY}) (rate({REQUESTS}[{RATE_INTERVAL}]))",
                               "{{http_route}} {{kfm_decision}}")], "reqps")],
            [timeseries("Latency p99 by decision class", "99th percentile request duration.",
                        [Query(quantile(0.99, c.HTTP_SERVER_DURATION, c.DECISION_CLASS), "{{kfm_decision}}")], "s"),
             timeseries("Policy decisions", "Decisions per second: allow, deny, error (an error is a deny).",
                        [Query(f"sum by ({c.DECISION}) (rate({c.POLICY_DECISIONS}[{RATE_INTERVAL}]))",
                               "{{decision}}")], "reqps")],
            [table("Invariant alerts",
                   "Alerts on things that must never happen; 'none firing' is the only good state.",
                   [Query(alerts_firing(f'alertname=~"{invariants}"'), instant=True, table=True)],
                   "none", height=7, hide=("Value",))],
        ],
    )


DASHBOARDS = [governed_api]

OVERVIEW_LINKS = [link_to(API_DASHBOARD_UID, "Governed API")]
