"""KFM's evidence resolver and Focus Mode dashboard: resolution latency and outcomes, answers, traced spans."""
from dashboards._uids import EVIDENCE_DASHBOARD_UID
from generator import conventions as c
from generator.grafana import RATE_INTERVAL, Query, dashboard, dashboard_links, link_to, quantile, timeseries

DASHBOARDS = [
    dashboard(
        uid=EVIDENCE_DASHBOARD_UID,
        title="KFM evidence resolver and Focus Mode",
        description="Evidence resolution latency and outcomes; Focus Mode answers and abstentions. Generated.",
        tags=["evidence-resolver", "focus-mode"],
        links=dashboard_links(),
        rows=[
            [timeseries("Evidence resolution latency", "Percentiles from the resolution duration histogram.",
                        [Query(quantile(q, c.EVIDENCE_RESOLUTION_DURATION), f"p{int(q * 100)}")
                         for q in (0.5, 0.9, 0.99)], "s"),
             timeseries("Evidence resolution outcomes", "Resolutions per second by outcome.",
                        [Query(f"sum by ({c.OUTCOME}) (rate({c.EVIDENCE_RESOLUTIONS}[{RATE_INTERVAL}]))",
                               "{{outcome}}")], "reqps")],
            [timeseries("Focus Mode answers",
                        "Answers per second: answered, abstained (evidence not verified), error.",
                        [Query(f"sum by ({c.OUTCOME}) (rate({c.FOCUS_ANSWERS}[{RATE_INTERVAL}]))", "{{outcome}}")],
                        "reqps", width=24)],
            [timeseries("Traced spans per second (span metrics)",
                        "Evidence-resolver and Focus Mode spans by status, from the collector's span_metrics "
                        "connector (before trace sampling).",
                        [Query(f"sum by ({c.SPAN_SERVICE}, {c.SPAN_STATUS}) (rate({c.SPAN_CALLS}[{RATE_INTERVAL}]))",
                               "{{service_name}} {{status_code}}")], "reqps"),
             timeseries("Traced span latency p99 (span metrics)", "99th percentile span duration by service.",
                        [Query(quantile(0.99, c.SPAN_DURATION, c.SPAN_SERVICE), "{{service_name}}")], "s")],
        ],
    ),
]

OVERVIEW_LINKS = [link_to(EVIDENCE_DASHBOARD_UID, "Evidence and Focus Mode")]
