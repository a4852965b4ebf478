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
        runbook=(
            "- Check the resolver's dependencies first: the catalog (DCAT/STAC/PROV) store and the audit ledger. An `error` outcome means the resolver failed, not that the citation was missing (that is `unresolved`).\n"
            "- Look for a recent deploy of evidence-resolver or of the catalog; roll back with `git revert` of the release commit and let the GitOps controller reconcile.\n"
            "- Every surface that cites evidence degrades while this burns: tell the Focus Mode and Map UI on-calls.\n"
        ),
    ),
    SLO(
        name="evidence-resolver-latency",
        service="evidence-resolver",
        owner="evidence",
        description="Evidence resolutions finish within 500ms, so citations render with the answer.",
        objective=0.99,
        sli=Latency(histogram=c.EVIDENCE_RESOLUTION_DURATION, threshold_seconds=0.5),
        runbook=(
            "- Compare p50 and p99 on the Evidence and Focus Mode dashboard: a p99-only rise points at slow catalog lookups for a few citations, a uniform rise at the resolver's own capacity.\n"
            "- Check the slow traces kept by the collector (tail sampling keeps every evidence trace over 500ms) for the span that grew.\n"
        ),
    ),
]
