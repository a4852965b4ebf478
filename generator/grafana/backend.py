"""The Grafana backend: every dashboard's JSON (the overview, one per SLO, and the definitions' own)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator import conventions as c, parallel
from generator.grafana.dashboards import overview, slo_detail
from generator.grafana.panels import to_text
from generator.model.catalog import Catalog, per_catalog
from generator.writer.headers import definitions_hash

# What a generated dashboard (the overview, an SLO's) is rendered from.
GENERATED_DASHBOARD_SOURCES = ("slo/", "alerts/", "generator/grafana/dashboards.py")


@dataclass(frozen=True)
class RenderedDashboard:
    """A dashboard as the backends need it: its uid, the files it is rendered from (a definitions file, or
    the generated ones'), its JSON text and the hash of its content (the ConfigMap's header). Small to
    send back from a worker: the dashboard's data stays there."""
    uid: str
    sources: list[str]
    text: str
    digest: str


@per_catalog
def dashboards(catalog: Catalog) -> list[RenderedDashboard]:
    """Every dashboard, in uid order."""
    def rendered(board: dict[str, Any]) -> tuple[str, str, str]:
        return board["uid"], to_text(board), definitions_hash([board])
    boards = parallel.map_items(lambda slo: rendered(slo_detail(slo)), catalog.slos)   # the many
    boards += [rendered(board) for board in (overview(catalog), *catalog.dashboards)]
    found = []
    for uid, text, digest in sorted(boards):
        defined_in = catalog.dashboard_source(uid)
        found.append(RenderedDashboard(uid, [defined_in] if defined_in else list(GENERATED_DASHBOARD_SOURCES),
                                       text, digest))
    return found


def render(catalog: Catalog) -> dict[str, str]:
    return {c.dashboard_file(board.uid): board.text for board in dashboards(catalog)}
