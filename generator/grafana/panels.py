"""Dashboard building blocks on grafanalib, and the JSON Grafana 10-12 expects.

Panels and dashboards are built with grafanalib; `dashboard_json` then
normalizes grafanalib's output to modern, provisionable JSON: an explicit
schemaVersion, a `datasource` variable that every panel and target uses as
{"type": "prometheus", "uid": "${datasource}"}, no legacy keys (string
datasources, 'null' threshold steps, span/height/step), and sorted keys.

This is the public API definitions in dashboards/ build their dashboards with
(docs/dashboards.md): `dashboard`, the panels (`timeseries`, `stat`, `table`),
`Query`, `link_to`, `dashboard_links`, and the query helpers `alerts_firing`,
`quantile` and `RATE_INTERVAL`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grafanalib.core as g
from grafanalib._gen import DashboardEncoder

from generator import conventions as c
from generator.promql import builder as b
from generator.promql.selectors import Matcher, Selector
from generator.writer import jsonout

SCHEMA_VERSION = 39  # Grafana 10.4 to 12 read and keep it
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24
# The range raw rates use in every panel (lint rule rate-interval): Grafana picks it from the scrape interval.
RATE_INTERVAL = "$__rate_interval"

_PANEL_KEYS = ("id", "type", "title", "description", "gridPos", "datasource", "targets", "fieldConfig",
               "options", "transformations", "links")
_TARGET_KEYS = ("refId", "expr", "legendFormat", "instant", "range", "format", "datasource")


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass
class Panel:
    """A panel before layout: grafanalib object plus how wide it is."""

    body: g.Panel  # grafanalib's (an untyped library: it has no stubs)
    width: int = 12
    height: int = 8


def _targets(queries: tuple[Query, ...]) -> list[g.Target]:
    return [g.Target(expr=q.expr, legendFormat=q.legend, refId=chr(ord("A") + i), instant=q.instant,
                     format="table" if q.table else "time_series")
            for i, q in enumerate(queries)]


def _steps(thresholds: list[tuple[str, float | None]]) -> list[g.Threshold]:
    return [g.Threshold(color, index, float(value) if value is not None else 0.0)
            for index, (color, value) in enumerate(thresholds)]


def timeseries(title: str, description: str, queries: list[Query], unit: str, width: int = 12,
               thresholds: list[tuple[str, float | None]] | None = None,
               links: list[dict[str, Any]] | None = None, soft_max: float | None = None) -> Panel:
    body = g.TimeSeries(
        title=title, description=description, dataSource="", targets=_targets(tuple(queries)), unit=unit,
        thresholds=_steps(thresholds) if thresholds else [],
        thresholdsStyleMode="line" if thresholds else "off", legendDisplayMode="table",
        legendCalcs=["lastNotNull", "max"], links=links or [], axisSoftMin=0, axisSoftMax=soft_max,
        tooltipMode="multi")
    return Panel(body, width, 8)


def stat(title: str, description: str, query: Query, unit: str, width: int = 6,
         thresholds: list[tuple[str, float | None]] | None = None,
         links: list[dict[str, Any]] | None = None) -> Panel:
    body = g.Stat(title=title, description=description, dataSource="", targets=_targets((query,)),
                  format=unit, thresholds=_steps(thresholds or [("green", None)]), links=links or [],
                  reduceCalc="lastNotNull", graphMode="area", textMode="value")
    return Panel(body, width, 5)


def table(title: str, description: str, queries: list[Query], unit: str, width: int = 24, height: int = 9,
          sort_by: str = "", descending: bool = False, hide: tuple[str, ...] = (),
          rename: dict[str, str] | None = None, links: list[dict[str, Any]] | None = None,
          column_units: dict[str, str] | None = None) -> Panel:
    transformations: list[dict[str, Any]] = [{"id": "merge", "options": {}}]
    exclude = {"Time": True, **{name: True for name in hide}}
    transformations.append({"id": "organize", "options": {"excludeByName": exclude,
                                                          "renameByName": rename or {}}})
    overrides = [{"matcher": {"id": "byName", "options": name},
                  "properties": [{"id": "unit", "value": value}]} for name, value in (column_units or {}).items()]
    if links:
        overrides.append({"matcher": {"id": "byName", "options": links[0]["field"]},
                          "properties": [{"id": "links", "value": [{k: v for k, v in link.items() if k != "field"}
                                                                    for link in links]}]})
    body = g.Table(title=title, description=description, dataSource="", targets=_targets(tuple(queries)),
                   unit=unit, transformations=transformations, overrides=overrides,
                   sortBy=[g.TableSortByField(displayName=sort_by, desc=descending)] if sort_by else [])
    return Panel(body, width, height)


def layout(rows: list[list[Panel]]) -> list[g.Panel]:
    """Place rows of panels on the 24-column grid, top to bottom.

    A custom dashboard (dashboards/) calls this when its file is imported, so a row that does not fit
    is an import problem of that file; the generated SLO dashboards fit because an SLO has at most
    slo.MAX_PAIRS window pairs, each at least 6 columns wide."""
    placed = []
    y = 0
    for index, row in enumerate(rows):
        if not row:
            raise ValueError(f"row {index} of the dashboard has no panels")
        x = 0
        height = max(p.height for p in row)
        for panel in row:
            panel.body.gridPos = g.GridPos(h=height, w=panel.width, x=x, y=y)
            placed.append(panel.body)
            x += panel.width
        if x > GRID_WIDTH:
            raise ValueError(f"a row of panels is {x} columns wide, wider than the {GRID_WIDTH}-column grid")
        y += height
    return placed


def dashboard(uid: str, title: str, description: str, rows: list[list[Panel]], tags: list[str],
              links: list[dict[str, Any]]) -> dict[str, Any]:
    # The uid is checked where the dashboard is loaded (catalog: it names a file and a ConfigMap).
    datasource = g.Template(name="datasource", label="Data source", query="prometheus", type="datasource",
                            default="Prometheus")
    board = g.Dashboard(
        title=title, uid=uid, description=description, tags=sorted({"generated", "kfm", *tags}),
        editable=False, panels=layout(rows), templating=g.Templating([datasource]),
        time=g.Time("now-6h", "now"), refresh="1m", timezone="utc", graphTooltip=1,
    ).auto_panel_ids()
    data = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return _normalize(data, links)


def _clean(value: object) -> object:
    """Drop None values recursively (Grafana applies its defaults)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _normalize_steps(field_config: dict[str, Any]) -> None:
    thresholds = field_config.get("defaults", {}).get("thresholds")
    if not thresholds:
        return
    steps = thresholds.get("steps") or [{"color": "green", "value": None}]
    clean = []
    for index, step in enumerate(steps):
        value = step.get("value")
        clean.append({"color": step.get("color", "green"),
                      "value": None if index == 0 or value in ("null", None) else value})
    thresholds["steps"] = clean
    thresholds["mode"] = "absolute"


def _normalize_panel(panel: dict[str, Any]) -> dict[str, Any]:
    out = {k: panel[k] for k in _PANEL_KEYS if k in panel}
    out["datasource"] = dict(DATASOURCE)
    targets = []
    for target in panel.get("targets", []):
        t = {k: target[k] for k in _TARGET_KEYS if k in target}
        t["range"] = not t.get("instant", False)
        t["datasource"] = dict(DATASOURCE)
        targets.append(t)
    out["targets"] = targets
    field_config = _clean(out.get("fieldConfig", {}))
    assert isinstance(field_config, dict)
    _normalize_steps(field_config)  # after cleaning: the base step keeps its explicit null
    out["fieldConfig"] = field_config
    if "options" in out:
        out["options"] = _clean(out["options"])
    return out


def _normalize(data: dict[str, Any], links: list[dict[str, Any]]) -> dict[str, Any]:
    templating = data["templating"]["list"][0]
    variable = {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
                "current": {"selected": False, "text": "Prometheus", "value": "Prometheus"},
                "hide": 0, "refresh": 1, "regex": "", "options": [], "includeAll": False, "multi": False}
    assert templating["name"] == "datasource"
    return {
        "uid": data["uid"],
        "title": data["title"],
        "description": data["description"],
        "tags": data["tags"],
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": data["time"],
        "timezone": "utc",
        "refresh": "1m",
        "templating": {"list": [variable]},
        "annotations": {"list": []},
        "links": links,
        "panels": [_normalize_panel(p) for p in data["panels"]],
    }


def to_text(board: dict[str, Any]) -> str:
    """The dashboard's file: json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False), written
    by jsonout (the same bytes, without the standard library's Python encoder)."""
    return jsonout.dumps(board) + "\n"


def link_to(uid: str, title: str, tooltip: str = "") -> dict[str, Any]:
    """A dashboard link that keeps the time range and the data source."""
    return {"type": "link", "title": title, "url": f"/d/{uid}", "tooltip": tooltip or title,
            "keepTime": True, "includeVars": True, "targetBlank": False, "icon": "dashboard",
            "asDropdown": False, "tags": []}


def dashboard_links(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A dashboard's links: back to the SLO overview first (lint rule link-overview), then `extra`."""
    return [link_to(c.OVERVIEW_DASHBOARD_UID, "SLO overview"), *extra]


def firing_alerts(*matchers: Matcher) -> Selector:
    """`ALERTS{alertstate="firing", ...}`: the alerts firing now, with more matchers."""
    return Selector("ALERTS", (Matcher("alertstate", "=", "firing"), *matchers))


def alerts_firing(matcher: str) -> str:
    """Firing alerts by name, or one 'none firing' row: never an empty panel.

    `matcher` is the inside of an ALERTS selector, e.g. 'alertname="X"' or 'slo="a"'.
    """
    alerts = b.Expr(f'ALERTS{{{matcher}, alertstate="firing"}}')   # the definition's matcher, as it wrote it
    none_firing = b.call("label_replace", b.call("vector", 0), '"alertname"', '"none firing"', '""', '""')
    return str(b.binary(b.aggregate("sum", alerts, ["alertname", c.SEVERITY_LABEL, c.TIER_LABEL]), "or", none_firing,
                        wrap=True, modifier=b.on(())))


def quantile(q: float, histogram: str, by: str = "") -> str:
    """The q-quantile of a classic histogram (its base name) over $__rate_interval, optionally by labels."""
    group = [by, "le"] if by else ["le"]
    return str(b.call("histogram_quantile", q, b.aggregate("sum", b.rate(histogram + "_bucket", RATE_INTERVAL), group)))


def all_panels(container: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel of a rendered dashboard, depth first, including those inside rows."""
    found = []
    for panel in container.get("panels", []):
        found.append(panel)
        found.extend(all_panels(panel))
    return found
