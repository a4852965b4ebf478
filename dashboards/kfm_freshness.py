"""KFM's dataset freshness dashboard: age over maximum age per dataset, pipeline runs, promotion gates."""
from dashboards._uids import FRESHNESS_DASHBOARD_UID
from generator import conventions as c
from generator.grafana import Query, alerts_firing, dashboard, dashboard_links, link_to, table, timeseries

# The invariant alert of alerts/invariants.py that a promotion through a failing gate fires.
PROMOTION_INVARIANT = "PromotionThroughUnevaluatedGate"

LAST_SUCCESS = f"max by ({c.DATASET}) ({c.DATASET_LAST_SUCCESS})"
MAX_AGE = f"max by ({c.DATASET}) ({c.FRESHNESS_MAX_AGE})"

DASHBOARDS = [
    dashboard(
        uid=FRESHNESS_DASHBOARD_UID,
        title="KFM dataset freshness",
        description="Freshness per dataset, pipeline runs and promotion gates. Generated.",
        tags=["freshness", "data-pipelines"],
        links=dashboard_links(),
        rows=[
            [table("Datasets by age over maximum age, worst first",
                   "Age of the last successful run against the dataset's maximum age; above 100% is stale.",
                   [Query(f"(time() - {LAST_SUCCESS}) / on ({c.DATASET}) {MAX_AGE}", instant=True, table=True),
                    Query(f"time() - {LAST_SUCCESS}", instant=True, table=True),
                    Query(MAX_AGE, instant=True, table=True)],
                   "none", height=10, sort_by="Age / max age", descending=True,
                   rename={"Value #A": "Age / max age", "Value #B": "Age", "Value #C": "Max age"},
                   column_units={"Age / max age": "percentunit", "Age": "s", "Max age": "s"})],
            [timeseries("Age over maximum age", "Per dataset; the line at 100% is the maximum age.",
                        [Query(f"(time() - {LAST_SUCCESS}) / on ({c.DATASET}) {MAX_AGE}", "{{dataset}}")],
                        "percentunit", width=24, thresholds=[("green", None), ("red", 1)])],
            [timeseries("Pipeline runs per hour", "Runs by dataset and status over the last hour.",
                        [Query(f"sum by ({c.DATASET}, {c.STATUS}) (increase({c.PIPELINE_RUNS}[1h]))",
                               "{{dataset}} {{status}}")], "none"),
             timeseries("Pipeline run duration p90", "90th percentile over the last hour of runs, per dataset.",
                        [Query(f"histogram_quantile(0.9, sum by ({c.DATASET}, le) "
                               f"(rate({c.PIPELINE_RUN_DURATION}_bucket[1h])))", "{{dataset}}")], "s")],
            [timeseries("Promotion gate results per hour", "Gate results by outcome; any error blocks promotion.",
                        [Query(f"sum by ({c.RESULT}) (increase({c.PROMOTION_GATE_RESULTS}[1h]))", "{{result}}")],
                        "none"),
             table("Promotions through a gate that did not pass", "Must stay at none: an invariant alert pages.",
                   [Query(alerts_firing(f'alertname="{PROMOTION_INVARIANT}"'), instant=True, table=True)],
                   "none", width=12, height=8, hide=("Value",))],
        ],
    ),
]

OVERVIEW_LINKS = [link_to(FRESHNESS_DASHBOARD_UID, "Dataset freshness")]
