"""The Grafana backend: every dashboard's JSON (the overview, one per SLO, and the definitions' own)."""
from __future__ import annotations

from typing import Any

from generator import conventions as c, parallel
from generator.grafana.dashboards import overview, slo_detail
from generator.grafana.panels import to_text
from generator.model.catalog import Catalog, per_catalog

# What a generated dashboard (the overview, an SLO's) is rendered from.
GENERATED_DASHBOARD_SOURCES = ("slo/", "alerts/", "generator/grafana/dashboards.py")


@per_catalog
def dashboards(catalog: Catalog) -> list[tuple[dict[str, Any], list[str], str]]:
    """Every dashboard with the files it is rendered from (a definitions file, or the generated ones'),
    and its JSON text."""
    def with_text(board: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return board, to_text(board)
    boards = parallel.map_items(lambda slo: with_text(slo_detail(slo)), catalog.slos)   # the many
    boards += [with_text(board) for board in (overview(catalog), *catalog.dashboards)]
    found = []
    for board, text in sorted(boards, key=lambda item: item[0]["uid"]):
        defined_in = catalog.dashboard_source(board["uid"])
        found.append((board, [defined_in] if defined_in else list(GENERATED_DASHBOARD_SOURCES), text))
    return found


def render(catalog: Catalog) -> dict[str, str]:
    return {c.dashboard_file(board["uid"]): text for board, _, text in dashboards(catalog)}
