"""Backend: Grafana dashboards (the panel helpers, the overview and one dashboard per SLO).

Definitions files build their own dashboards with the panel helpers, imported from here:

    from generator.grafana import Query, dashboard, timeseries, stat, table, link_to
"""
from generator.grafana.panels import (RATE_INTERVAL, Panel, Query, alerts_firing, dashboard, dashboard_links,
                                      firing_alerts, link_to, quantile, stat, table, timeseries)

__all__ = ["RATE_INTERVAL", "Panel", "Query", "alerts_firing", "dashboard", "dashboard_links", "firing_alerts",
           "link_to", "quantile", "stat", "table", "timeseries"]
