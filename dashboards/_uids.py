"""The uids of KFM's product dashboards: this file owns them.

A helper, not a definitions file (its name starts with '_'): the dashboards here, the invariants that
link to them (alerts/invariants.py) and other dashboards import the names as
`from dashboards._uids import ...`.
"""
FRESHNESS_DASHBOARD_UID = "kfm-dataset-freshness"
EVIDENCE_DASHBOARD_UID = "kfm-evidence-focus"
API_DASHBOARD_UID = "kfm-governed-api"
