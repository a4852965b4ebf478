"""Invariants that must stay at zero: each violation is a security or governance incident."""
from dashboards._uids import API_DASHBOARD_UID, FRESHNESS_DASHBOARD_UID
from generator import Invariant
from generator import conventions as c

ALERTS = [
    Invariant(
        name="PolicyAllowWithoutPolicyLabel",
        counter=f'{c.POLICY_DECISIONS}{{{c.DECISION}="allow", {c.POLICY_LABEL}="missing"}}',
        by=(c.ROUTE,),
        summary="Governed API allowed access to a dataset that has no policy label (route {{ $labels.route }})",
        description=(
            "Default deny is broken: a policy decision allowed a request for a dataset without a "
            "policy label. Treat it as a security incident: stop the route, find the dataset in "
            "the audit ledger by audit_ref, and check the policy bundle version."
        ),
        owner="governance",
        runbook=(
            "- Treat as a security incident: page the security officer through the governance escalation.\n"
            "- Stop the route (feature flag or deny rule), find the dataset by `audit_ref` in the audit ledger, and check which policy bundle version allowed it.\n"
        ),
        dashboard_uid=API_DASHBOARD_UID,
    ),
    Invariant(
        name="PromotionThroughUnevaluatedGate",
        counter=f'{c.PROMOTIONS}{{{c.WORST_GATE_RESULT}!="pass"}}',
        by=(c.DATASET,),
        summary="Dataset {{ $labels.dataset }} was promoted although a promotion gate did not pass",
        description=(
            "Promotion is fail-closed: a gate that fails or cannot be evaluated must block. A "
            "dataset version became visible anyway. Withdraw the version from runtime surfaces "
            "and check the promotion runner's gate handling."
        ),
        owner="data-platform",
        runbook=(
            "- Withdraw the dataset version from runtime surfaces (catalog and projections) before anything else.\n"
            "- Check the promotion runner's handling of gate results: a gate that errors must block.\n"
        ),
        dashboard_uid=FRESHNESS_DASHBOARD_UID,
    ),
]
