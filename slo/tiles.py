"""Map tiles: the tile server sits behind ingress-nginx, whose controller counts every request.

The SLO reads the exporter's metric, not one of KFM's helpers, so the metric is declared here
(METRICS): the contract gate checks the SLO's queries against the declaration.
"""
from generator import SLO, EventsRatio, Metric

INGRESS_REQUESTS = "nginx_ingress_controller_requests"
TILES = f'{INGRESS_REQUESTS}{{ingress="tiles"}}'

METRICS = [
    Metric(
        INGRESS_REQUESTS, "counter",
        labels={"ingress": None, "namespace": None, "service": None, "method": None, "path": None,
                "status": None, "controller_class": None, "controller_namespace": None, "controller_pod": None},
        source="the ingress-nginx controller (its /metrics, scraped by the cluster's Prometheus)",
    ),
]

SLOS = [
    SLO(
        name="tile-server-availability",
        service="tile-server",
        owner="data-platform",
        description="Map tile requests through the ingress are answered without a server error or throttling.",
        objective=0.995,
        sli=EventsRatio(
            total=TILES,
            bad=f'{INGRESS_REQUESTS}{{ingress="tiles", status=~"5..|429"}}',
            examples={"bad": {"status": "503"}, "good": {"status": "200"}},
        ),
        runbook=(
            "- Tiles are a rebuildable projection: a 5xx burst after a tile-bundle rollout means a broken bundle; "
            "roll the bundle back and rebuild it from the canonical data.\n"
            "- 429s mean the ingress rate limit: check for a crawler before raising the limit.\n"
        ),
    ),
]
