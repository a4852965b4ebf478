"""EventsRatio: bad (or good) events over total events, both counters."""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass

from generator.model import fields
from generator.promql.selectors import is_valid_label_name, parse_selector
from generator.model.kinds.base import Problems, group_by_problems, parse_field
from generator.model.kinds.events import EventSLI, EventSources


@dataclass(frozen=True)
class EventsRatio(EventSLI):
    """Bad (or good) events over total events, both counters.

    ``examples`` gives label values of one bad and one good series, as
    ``{"bad": {...}, "good": {...}}``, for generated tests when the selectors
    use regular expressions the generator cannot invert; otherwise they are
    derived from the matchers.
    """

    total: str
    bad: str | None = None
    good: str | None = None
    group_by: tuple[str, ...] = ()
    examples: tuple[Any, ...] | dict[str, Any] = ()
    kind = "events_ratio"

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_by", fields.ordered(self.group_by))
        if isinstance(self.examples, dict):
            try:
                frozen = tuple(sorted(
                    (side, tuple(sorted(labels.items())) if isinstance(labels, dict) else labels)
                    for side, labels in self.examples.items()))
            except TypeError:
                frozen = tuple((side, labels) for side, labels in self.examples.items())
            object.__setattr__(self, "examples", frozen)

    def example_labels(self) -> dict[str, dict[str, str]]:
        pairs = self.examples if isinstance(self.examples, tuple) else ()   # a tuple once constructed
        return {side: dict(labels) for side, labels in pairs}

    def sources(self) -> EventSources:
        return EventSources(
            total=parse_selector(self.total),
            bad=parse_selector(self.bad) if self.bad is not None else None,
            good=parse_selector(self.good) if self.good is not None else None,
        )

    def problems(self) -> Problems:
        found: Problems = []
        total = parse_field("sli.total", self.total, found)
        if (self.bad is None) == (self.good is None):
            found.append(("sli.bad", "give exactly one of bad= or good= (events counted against total)"))
        chosen_field = "sli.bad" if self.bad is not None else "sli.good"
        chosen = self.bad if self.bad is not None else self.good
        part = parse_field(chosen_field, chosen, found) if chosen is not None else None
        if total is not None and part is not None and part.metric == total.metric:
            missing = [m.render() for m in total.matchers if m not in part.matchers]
            if missing:
                found.append((chosen_field, f"must keep every matcher of total ({', '.join(missing)}), "
                                            "or it counts events that total does not"))
        shape_ok = isinstance(self.examples, tuple) and all(
            isinstance(item, tuple) and len(item) == 2 and item[0] in ("bad", "good") and isinstance(item[1], tuple)
            and all(isinstance(pair, tuple) and len(pair) == 2 for pair in item[1]) for item in self.examples)
        if not shape_ok or not isinstance(self.examples, tuple):
            found.append(("sli.examples", "give examples as {'bad': {label: value}, 'good': {label: value}}"))
        else:
            for side, labels in self.examples:
                for name, value in labels:
                    if not is_valid_label_name(name):
                        found.append(("sli.examples", f"{side}: {name!r} is not a valid label name"))
                    trouble = fields.label_value_problem(value)
                    if trouble:
                        found.append(("sli.examples", f"{side}: label {name!r}: {trouble}"))
        group_by_problems(self.group_by, found)
        return found

    def canonical(self) -> dict[str, Any]:
        return {"kind": "events_ratio", "total": self.total, "bad": self.bad, "good": self.good,
                "group_by": list(self.group_by), "examples": self.example_labels()}
