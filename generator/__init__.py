"""KFM observability-as-code: Python definitions -> rules, tests and more under out/.

The definition API, for files in slo/, alerts/, dashboards/ and telemetry/:

    from generator import SLO, EventsRatio, Latency, Freshness, SLIKind
    from generator import Alerting, Tier, BurnWindow, Waiver, Invariant, Team, Metric, load_datasets
    from generator import Telemetry, Environment, ThanosRuler    (telemetry/)
    from generator import conventions
"""
from generator import conventions
from generator.model.declared_metrics import Metric
from generator.model.environments import Environment, ThanosRuler
from generator.model.invariants import Invariant
from generator.model.kinds.base import SLIKind
from generator.model.kinds.events_ratio import EventsRatio
from generator.model.kinds.freshness import DatasetMaxAge, Freshness
from generator.model.kinds.latency import Latency
from generator.model.slo import SLO, Alerting, BurnWindow, Tier, Waiver
from generator.model.tables import load_datasets
from generator.model.teams import Team
from generator.model.telemetry import Telemetry

__version__ = "0.1.0"

__all__ = [
    "SLO", "Alerting", "BurnWindow", "Tier", "Waiver", "Team", "Invariant", "EventsRatio", "Latency", "Freshness",
    "SLIKind", "DatasetMaxAge", "Metric", "load_datasets", "Telemetry", "Environment", "ThanosRuler", "conventions",
    "__version__",
]
