"""Pipeline runner: runs that reach the end of the truth path."""
from generator import SLO, Alerting, EventsRatio
from generator import conventions as c

SLOS = [
    SLO(
        name="pipeline-run-success",
        service="data-pipelines",
        owner="data-platform",
        description="Pipeline runs finish successfully, so raw data reaches the processed zone and the catalog.",
        objective=0.95,
        sli=EventsRatio(
            total=c.PIPELINE_RUNS,
            bad=f'{c.PIPELINE_RUNS}{{{c.STATUS}="failure"}}',
        ),
        # Runs are few: do not page on two failures in an hour.
        alerting=Alerting(min_events=10),
        runbook="https://runbooks.kfm.example/slo/pipeline-run-success",
    ),
]
