"""KFM observability-as-code: Python definitions -> rules, tests and more under out/.

The definition API, for files in slo/ and alerts/:

    from generator import SLO, EventsRatio, Latency, Freshness, PolicyDecisionHealth
    from generator import Alerting, Tier, BurnWindow, Waiver, Invariant, Team, Metric, load_datasets
    from generator import conventions
"""
from . import conventions
from .declared_metrics import Metric
from .invariants import Invariant
from .sli import DatasetMaxAge, EventsRatio, Freshness, Latency, PolicyDecisionHealth
from .slo import SLO, Alerting, BurnWindow, Tier, Waiver
from .tables import load_datasets
from .teams import Team

__version__ = "0.1.0"

__all__ = [
    "SLO", "Alerting", "BurnWindow", "Tier", "Waiver", "Team", "Invariant", "EventsRatio", "Latency", "Freshness",
    "PolicyDecisionHealth", "DatasetMaxAge", "Metric", "load_datasets", "conventions", "__version__",
]
