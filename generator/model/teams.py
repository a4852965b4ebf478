"""Teams that own SLOs and alerts, and where an alert goes when their on-call
does not answer. Defined in alerts/teams.py as TEAMS; runbooks print the
escalation path and the policy gates require every owner to be one of them."""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass, field

from generator.model import fields
from generator.model.problems import Collector, caller_file

TEAM_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Team:
    name: str
    on_call: str          # who is paged or ticketed first (a rota name, not a person's address)
    escalation: str       # who takes over when the on-call does not acknowledge
    channel: str = ""     # where the team talks during an incident
    defined_in: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.defined_in:
            object.__setattr__(self, "defined_in", caller_file())
        p = Collector("team", self.name, self.defined_in)
        p.check(isinstance(self.name, str) and TEAM_NAME.match(self.name) is not None and len(self.name) <= 63,
                "name", f"{self.name!r} must be lower-case words joined by '-', at most 63 characters"[:200])
        for name in ("on_call", "escalation", "channel"):
            value = getattr(self, name)
            trouble = fields.text_problem(value, name.replace("_", "-"), multiline=False, limit=300,
                                          required=name != "channel")
            if trouble:
                p.add(name, f"a team needs its {name.replace('_', '-')}" if "give the" in trouble else trouble)
        p.raise_if_any()

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "on_call": self.on_call, "escalation": self.escalation, "channel": self.channel}
