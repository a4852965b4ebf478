"""Evidence resolver: every user-facing citation is resolved through it."""
from generator import SLO, EventsRatio, Latency
from generator import conventions as c

SLOS = [
    SLO(
        name="evidence-resolver-availability",
        service="evidence-resolver",
        owner="evidence",
        description="Evidence resolutions complete without error (an unresolved citation is an answer, not an error).",
        objective=0.999,
        sli=EventsRatio(
            total=c.EVIDENCE_RESOLUTIONS,
            bad=f'{c.EVIDENCE_RESOLUTIONS}{{{c.OUTCOME}="error"}}',
        ),
        runbook="https://runbooks.kfm.example/slo/evidence-resolver-availability",
    ),
    SLO(
        name="evidence-resolver-latency",
        service="evidence-resolver",
        owner="evidence",
        description="Evidence resolutions finish within 500ms, so citations render with the answer.",
        objective=0.99,
        sli=Latency(histogram=c.EVIDENCE_RESOLUTION_DURATION, threshold_seconds=0.5),
        runbook="https://runbooks.kfm.example/slo/evidence-resolver-latency",
    ),
]
