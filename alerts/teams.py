"""Who owns KFM's SLOs and invariants, and where an alert goes when nobody answers.

Every `owner` in slo/ and alerts/ must name one of these teams (policy gate
`owner-and-runbook`); the generated runbooks print the escalation path."""
from generator import Team

TEAMS = [
    Team(name="data-platform", on_call="data-platform on-call rota",
         escalation="platform engineering lead, then the platform incident commander",
         channel="#kfm-data-platform"),
    Team(name="evidence", on_call="evidence on-call rota",
         escalation="evidence team lead, then the platform incident commander",
         channel="#kfm-evidence"),
    Team(name="focus-mode", on_call="focus-mode on-call rota",
         escalation="focus-mode team lead, then the platform incident commander",
         channel="#kfm-focus-mode"),
    Team(name="governance", on_call="governance on-call rota",
         escalation="governance lead and the security officer (a policy breach is a security incident)",
         channel="#kfm-governance"),
]
