"""Per-dataset freshness: one SLO over the whole catalogue in datasets.csv.

Adding a dataset is one row in the table; it costs one constant rule.
"""
from pathlib import Path

from generator import SLO, Freshness, load_datasets

SLOS = [
    SLO(
        name="dataset-freshness",
        service="data-pipelines",
        owner="data-platform",
        description=(
            "Published datasets stay fresher than their maximum age, so map layers and "
            "Focus Mode never serve stale data without anyone knowing."
        ),
        objective=0.99,
        sli=Freshness(datasets=load_datasets(Path(__file__).with_name("datasets.csv"))),
        runbook=(
            "- Find the dataset in the Dataset freshness dashboard: is its pipeline failing (runs with status failure), or not running at all (no runs)?\n"
            "- A promotion blocked by a failing or unevaluable gate also leaves the dataset stale: check `kfm_promotion_gate_results_total` for the dataset. Never bypass the gate to make it fresh.\n"
            "- If the upstream source is down, note it in the incident and tell the dataset's stewards; the SLO keeps burning until a run succeeds.\n"
        ),
    ),
]
