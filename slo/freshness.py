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
        runbook="https://runbooks.kfm.example/slo/dataset-freshness",
    ),
]
