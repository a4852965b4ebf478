"""Alertmanager routing per environment, from the environments' definitions.

Page alerts go to the page receiver where the environment pages (prod) and to
the ticket receiver elsewhere; alerts are grouped by SLO; a firing page
inhibits the tickets of the same SLO (and the same dataset or decision class).
The receivers carry no integrations: the platform adds the pager and ticket
system to them, with their credentials.
"""
from __future__ import annotations

from typing import Any

from generator import conventions as c
from generator.model.environments import Environment
from generator.model.windows import PAGE, TICKET

PAGE_RECEIVER = "kfm-page"
TICKET_RECEIVER = "kfm-ticket"


def config(env: Environment, group_labels: list[str]) -> dict[str, Any]:
    page_to = PAGE_RECEIVER if env.pages else TICKET_RECEIVER
    return {
        "route": {
            "receiver": TICKET_RECEIVER,
            "group_by": ["alertname", c.SLO_LABEL],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": page_to, "matchers": [f'{c.SEVERITY_LABEL}="{PAGE}"']},
                {"receiver": TICKET_RECEIVER, "matchers": [f'{c.SEVERITY_LABEL}="{TICKET}"']},
            ],
        },
        # By tier, not severity: where page alerts are downgraded to tickets
        # (dev, stage), a firing page tier still silences the slower tiers.
        "inhibit_rules": [{
            "source_matchers": [f'{c.TIER_LABEL}=~"page-.*"'],
            "target_matchers": [f'{c.TIER_LABEL}=~"ticket-.*"'],
            "equal": [c.SLO_LABEL, *group_labels],
        }],
        "receivers": [{"name": PAGE_RECEIVER}, {"name": TICKET_RECEIVER}],
    }
