"""KFM observability-as-code: Python definitions -> rules, tests and more under out/.

The definition API, for files in slo/ and alerts/:

    from generator import SLO, EventsRatio, Latency, Freshness, SLIKind
    from generator import Alerting, Tier, BurnWindow, Waiver, Invariant, Team, Metric, load_datasets
    from generator import conventions
"""
from . import conventions
from .declared_metrics import Metric
from .invariants import Invariant
from .kinds.base import SLIKind
from .kinds.events_ratio import EventsRatio
from .kinds.freshness import DatasetMaxAge, Freshness
from .kinds.latency import Latency
from .slo import SLO, Alerting, BurnWindow, Tier, Waiver
from .tables import load_datasets
from .teams import Team

__version__ = "0.1.0"

__all__ = [
    "SLO", "Alerting", "BurnWindow", "Tier", "Waiver", "Team", "Invariant", "EventsRatio", "Latency", "Freshness",
    "SLIKind", "DatasetMaxAge", "Metric", "load_datasets", "conventions", "__version__",
]
