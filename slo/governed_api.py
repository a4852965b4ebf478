"""Governed API: every access passes policy; split by allow/deny decision class."""
from generator import SLO, EventsRatio, Latency
from generator import conventions as c

API_REQUESTS = f"{c.HTTP_SERVER_DURATION}_count"


def policy_decision_health(route: str | None = None) -> EventsRatio:
    """Share of policy decisions that evaluated (allow or deny) rather than errored. A decision that
    errors is a deny (default deny), so it is safe, but it is still the policy engine failing."""
    decisions = c.POLICY_DECISIONS + (f'{{{c.ROUTE}="{route}"}}' if route is not None else "")
    errors = f'{c.POLICY_DECISIONS}{{{c.DECISION}="error"' + (f',{c.ROUTE}="{route}"' if route else "") + "}"
    return EventsRatio(total=decisions, bad=errors)


SLOS = [
    SLO(
        name="policy-decision-health",
        service="governed-api",
        owner="governance",
        description=(
            "Policy decisions evaluate to allow or deny. An error is a deny by default, "
            "so it is safe, but users are refused data they may read."
        ),
        objective=0.999,
        sli=policy_decision_health(),
        runbook=(
            "- `error` decisions mean the policy engine could not decide, and the API denies by default: check the policy engine's health and the policy bundle version loaded.\n"
            "- A spike right after a bundle rollout: roll the bundle back (git revert of the bundle pin) and reconcile.\n"
        ),
    ),
    SLO(
        name="governed-api-availability",
        service="governed-api",
        owner="governance",
        description="Governed API requests are answered without a server error, per decision class.",
        objective=0.999,
        sli=EventsRatio(
            total=API_REQUESTS,
            bad=f'{API_REQUESTS}{{{c.HTTP_STATUS}=~"5.."}}',
            group_by=(c.DECISION_CLASS,),
            examples={"bad": {c.HTTP_STATUS: "503"}, "good": {c.HTTP_STATUS: "200"}},
        ),
        runbook=(
            "- Split the 5xx by route on the Governed API dashboard; a single route points at its backing store, all routes at the API itself or the policy engine.\n"
            "- Denials (403) are not errors here; do not silence policy to recover availability.\n"
        ),
    ),
    SLO(
        name="governed-api-latency",
        service="governed-api",
        owner="governance",
        description="Governed API requests are answered within 300ms, per decision class.",
        objective=0.99,
        sli=Latency(histogram=c.HTTP_SERVER_DURATION, threshold_seconds=0.3, group_by=(c.DECISION_CLASS,)),
        runbook=(
            "- Split latency by route and decision class: slow denials point at the policy engine, slow allows at the data stores behind the route.\n"
        ),
    ),
]
