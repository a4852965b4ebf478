"""Live check: a real Prometheus evaluates the rendered rules over a synthetic KFM
workload, then every dashboard panel query must return data and no rule may fail."""
from __future__ import annotations

import json
import math
import os
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from generator import conventions as c
from generator.prometheus.testseries import event_shape
from live_prometheus import LivePrometheus, free_port
from prometheus_tools import pinned_prometheus3
from synthetic_workload import SyntheticWorkload

pytestmark = pytest.mark.live

RATE_INTERVAL = "15s"  # what Grafana's $__rate_interval is with a 1s scrape interval


@pytest.fixture(scope="module")
def live(catalog, rendered_dir, tmp_path_factory):
    datasets = sorted({d.dataset for s in catalog.slos if s.sli.kind == "freshness" for d in s.sli.datasets})
    workload = SyntheticWorkload(datasets, exporter_series=declared_series(catalog))
    port = free_port()
    workload.start(port)
    rules = sorted((rendered_dir / "prometheus" / "rules").glob("*.yaml"))
    server = LivePrometheus(tmp_path_factory.mktemp("prometheus"), rules, [f"127.0.0.1:{port}"])
    try:
        _wait_for_budget_series(server, {s.name for s in catalog.slos})
        time.sleep(3)  # a few more evaluations of every group
        yield server
    finally:
        server.stop()
        workload.stop()


def declared_series(catalog) -> list[tuple[str, dict[str, str], bool]]:
    """(metric, labels, is bad) of the series the SLOs over declared metrics read: the labels the
    generated tests use (testseries.event_shape), so every panel of those SLOs has data."""
    declared = {name for m in catalog.metrics for name in m.series_names()}
    found = []
    for slo in catalog.slos:
        if not slo.sli.counts_events or not {s.metric for s in slo.sli.source_selectors()} & declared:
            continue
        shape = event_shape(slo, slo.sli)
        assert shape.part_metric == shape.total_metric and shape.part_is_bad, "a new shape: extend this"
        found += [(shape.part_metric, shape.part_labels, True), (shape.total_metric, shape.other_labels, False)]
    return found


def _wait_for_budget_series(server: LivePrometheus, slos: set[str], timeout: float = 90) -> None:
    deadline = time.time() + timeout
    seen: set[str] = set()
    while time.time() < deadline:
        result = server.api("query", query=c.BUDGET_TIME_LEFT)["result"]
        seen = {r["metric"].get("slo") for r in result}
        if slos <= seen:
            return
        time.sleep(1)
    raise AssertionError(f"budget series never appeared for {sorted(slos - seen)}")


def _has_data(result: list[dict]) -> bool:
    for series in result:
        values = series.get("values") or [series.get("value")]
        if any(v and not math.isnan(float(v[1])) for v in values):
            return True
    return False


def test_the_live_server_is_the_pinned_prometheus_3(live):
    """The live tests run on the 3.x server unless PROMETHEUS names another one on purpose."""
    version = live.api("status/buildinfo")["version"]
    if os.environ.get("PROMETHEUS"):
        assert version, "the server given by PROMETHEUS reports no version"
    else:
        assert version == pinned_prometheus3(), f"live server is Prometheus {version}"


def test_every_panel_query_returns_data(live, rendered):
    boards = [json.loads(t) for p, t in rendered.items() if p.startswith(c.DASHBOARDS_DIR)]
    now = time.time()
    empty, total = [], 0
    for board in boards:
        for panel in board["panels"]:
            for target in panel["targets"]:
                expr = target["expr"].replace("$__rate_interval", RATE_INTERVAL)
                total += 1
                if target.get("instant"):
                    result = live.api("query", query=expr, time=str(now))["result"]
                else:
                    result = live.api("query_range", query=expr, start=str(now - 60), end=str(now),
                                      step="5")["result"]
                if not _has_data(result):
                    empty.append(f"{board['uid']}: {panel['title']}: {target['expr']}")
    print(f"live check: {total} panel queries, {total - len(empty)} returned data")
    assert total > 50
    assert not empty, "panels with no data:\n" + "\n".join(empty)


def test_no_rule_evaluation_fails(live):
    groups = live.api("rules")["groups"]
    unhealthy = [f"{g['name']}: {r['name']}: {r.get('lastError')}" for g in groups for r in g["rules"]
                 if r.get("health") != "ok"]
    assert not unhealthy, "\n".join(unhealthy)
    failures = sum(sample.value for family in text_string_to_metric_families(live.metrics_text())
                   if family.name == "prometheus_rule_evaluation_failures" for sample in family.samples
                   if sample.name.endswith("_total"))
    assert failures == 0
    assert len(groups) >= 19


def test_a_healthy_workload_raises_no_slo_alert_not_even_pending(live):
    alerts = live.api("query", query='ALERTS{slo!=""}')["result"]
    assert alerts == [], [a["metric"] for a in alerts]


def test_a_misnamed_metric_is_an_empty_panel(live):
    good = live.api("query", query=f"sum(rate({c.EVIDENCE_RESOLUTIONS}[{RATE_INTERVAL}]))")["result"]
    wrong = live.api("query", query=f"sum(rate(kfm_evidence_resolution_total[{RATE_INTERVAL}]))")["result"]
    assert _has_data(good) and not _has_data(wrong)
