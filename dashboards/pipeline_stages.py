"""A custom dashboard, written with the generator's helpers: pipeline runs by truth-path stage."""
from dashboards._uids import FRESHNESS_DASHBOARD_UID
from generator import conventions as c
from generator.grafana import Query, dashboard, dashboard_links, link_to, timeseries

DASHBOARDS = [
    dashboard(
        uid="kfm-pipeline-stages",
        title="KFM pipeline stages",
        description="Pipeline runs and durations by truth-path stage (raw, work, processed, catalog).",
        tags=["data-pipelines"],
        links=dashboard_links(link_to(FRESHNESS_DASHBOARD_UID, "Dataset freshness")),
        rows=[[
            timeseries("Runs per hour by stage", "Pipeline runs over the last hour, by stage and status.",
                       [Query(f"sum by ({c.STAGE}, {c.STATUS}) (increase({c.PIPELINE_RUNS}[1h]))",
                              "{{stage}} {{status}}")], "none"),
            timeseries("Run duration p90 by stage", "90th percentile run duration over the last hour.",
                       [Query(f"histogram_quantile(0.9, sum by ({c.STAGE}, le) "
                              f"(rate({c.PIPELINE_RUN_DURATION}_bucket[1h])))", "{{stage}}")], "s"),
        ]],
    ),
]
