"""The SLI kinds: one module each, and the registry of the built-in ones.

`base.SLIKind` is the protocol a kind implements. Adding a built-in kind is one module here and one
line in `BUILT_IN`; a project's own kind (a subclass of `SLIKind` in a definitions file) needs no
line at all: an SLO accepts any `SLIKind`.
"""
from __future__ import annotations

from generator.model.kinds.base import SLIKind
from generator.model.kinds.events_ratio import EventsRatio
from generator.model.kinds.freshness import Freshness
from generator.model.kinds.latency import Latency

BUILT_IN: tuple[type[SLIKind], ...] = (
    EventsRatio,
    Latency,
    Freshness,
)
