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
        runbook=(
            "- Open the failing runs by dataset and stage; the run_id on the pipeline runner's spans and logs leads to the run's log.\n"
            "- Failures in the validate stage are usually upstream schema changes: quarantine holds the data; nothing reached processed.\n"
        ),
    ),
]
