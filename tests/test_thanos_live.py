"""End to end over two Prometheus shards: real Thanos (a sidecar per shard, Query, Ruler) on 127.0.0.1.

The evidence resolver's availability SLO, compressed in time like tests/test_live_scenarios.py
(30d -> 6h, every window with it), rendered for an environment over the shards eu-1 and us-1
(generator/thanos/rules.py). The instrumented workload (tests/kfm_workload.py) runs twice, one
process per shard; each shard's Prometheus scrapes its own and evaluates the shard rules every
second; Thanos Query reads both sidecars (strict endpoints) and the ruler; the Thanos Ruler
evaluates the ruler rules every second through Query. A third Prometheus, scraping both workloads
with the single-Prometheus rules, is the reference for the same traffic.

1. the ruler's sums are the shards' together, and what one Prometheus over all the traffic records;
   and every query of the SLO's dashboard returns data through Thanos Query;
2. an outage of one shard's workload (half the traffic failing) pages when the global burn crosses
   the threshold, when the window math predicts for the combined traffic, with the global error
   ratio at the half, not the shard's whole;
3. stopping one shard (its Prometheus and sidecar) raises KfmThanosShardMissing naming it within
   its `for` plus the latency below, and the SLO's groups stop recording (they abort on a partial
   response): nothing read from half the shards.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from generator import conventions as c
from generator.model.durations import parse_duration
from generator.model.environments import ThanosRuler
from generator.grafana.dashboards import slo_detail
from generator.model.windows import PAGE
from generator.prometheus.rules import slo_groups
from generator.thanos import rules as thanos_rules
from generator.writer import yamlout
from live_prometheus import LivePrometheus, free_port
from live_thanos import query, ruler, sidecar
from test_live_dashboards import RATE_INTERVAL, _has_data
from test_live_scenarios import EVIDENCE, POLL, SLACK, Workload, _outage_ratio, compress

pytestmark = [pytest.mark.live]

SHARDS = ("eu-1", "us-1")
REPLICA = "ruler_replica"
RULER_JOB = "thanos-ruler"
HOPS = 3.0   # the ruler reads the shards' recordings through Query: a shard's evaluation, Query, the ruler's


def crossing(pair, base: int, threshold: float, share: float) -> float:
    """Seconds into an outage of `share` of the traffic until both windows of the pair exceed the threshold."""
    elapsed, fine = 0.0, c.fine_window(base)
    while not all(share * _outage_ratio(elapsed, w, base if w == base else fine) > threshold for w in (pair.long, pair.short)):
        elapsed += 0.05
    return elapsed


def _write(path: Path, groups: list[dict]) -> Path:
    for group in groups:   # groups that run every few minutes in production run every second here
        if "interval" in group:
            group["interval"] = "1s"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlout.dump({"groups": groups}))
    return path


def _firing(querier) -> list[dict[str, str]]:
    """The labels of every alert firing on the ruler: its ALERTS series, read through Query."""
    return [r["metric"] for r in querier.api("query", query='ALERTS{alertstate="firing"}')["result"]]


def alerting_rules(the_ruler, slo) -> list[dict]:
    """The rules of the SLO's alerting group, as the ruler's rules API reports them (health, state, lastError)."""
    groups = {g["name"]: g for g in the_ruler.api("rules")["groups"]}
    return groups[c.rule_group(slo.name)]["rules"]


def _value(server, expr: str) -> float | None:
    result = server.api("query", query=expr)["result"]
    return float(result[0]["value"][1]) if result else None


def _wait_value(server, expr: str, timeout: float = 90) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = _value(server, expr)
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{expr} never had a value")


@pytest.fixture(scope="module")
def shards(catalog, thanos, tmp_path_factory):
    slo = compress(next(s for s in catalog.slos if s.name == EVIDENCE))
    target = ThanosRuler(shards=SHARDS, owner=slo.owner, ruler_job=RULER_JOB)
    folder = tmp_path_factory.mktemp("thanos")
    shard_file = _write(folder / "shard" / "shard.rules.yaml",
                        thanos_rules.shard_groups(slo) + [thanos_rules.heartbeat_group()])
    ruler_dir = folder / "ruler-rules"
    _write(ruler_dir / "slo.rules.yaml", thanos_rules.ruler_groups(slo, target))
    _write(ruler_dir / "health.rules.yaml", [thanos_rules.health_group(target, "test")])
    single_file = _write(folder / "single" / "single.rules.yaml", slo_groups(slo)[0])
    started: list = []
    try:
        workloads = {}
        for shard in SHARDS:
            port = free_port()
            workloads[shard] = (Workload(port, {}, folder / f"workload-{shard}.log"), port)
            started.append(workloads[shard][0])
        ruler_http, ruler_grpc, query_grpc = free_port(), free_port(), free_port()
        servers, sidecars = {}, {}
        for index, shard in enumerate(SHARDS):
            jobs = ({"job_name": RULER_JOB, "static_configs": [{"targets": [f"127.0.0.1:{ruler_http}"]}]},) \
                if index == 0 else ()
            servers[shard] = LivePrometheus(folder / f"prometheus-{shard}", [shard_file],
                                            [f"127.0.0.1:{workloads[shard][1]}"], external_labels={"cluster": shard},
                                            more_jobs=jobs)
            started.append(servers[shard])
            sidecars[shard] = sidecar(thanos, folder / f"sidecar-{shard}", servers[shard].url,
                                      servers[shard].folder / "data")
            started.append(sidecars[shard])
        single = LivePrometheus(folder / "prometheus-single", [single_file],
                                [f"127.0.0.1:{port}" for _, port in workloads.values()])
        started.append(single)
        querier = query(thanos, folder / "query", [s.grpc for s in sidecars.values()],
                        [f"127.0.0.1:{ruler_grpc}"], REPLICA, grpc_port=query_grpc)
        started.append(querier)
        the_ruler = ruler(thanos, folder / "ruler", ruler_dir, querier.url, REPLICA, ruler_http, ruler_grpc)
        started.append(the_ruler)
        for process in (*sidecars.values(), querier, the_ruler):
            process.wait_ready()
        yield {"slo": slo, "target": target, "workloads": {s: w for s, (w, _) in workloads.items()},
               "servers": servers, "sidecars": sidecars, "single": single, "query": querier, "ruler": the_ruler}
    finally:
        for process in reversed(started):
            process.stop()


def test_sharded_slo_end_to_end(shards):
    slo, querier, the_ruler, single = shards["slo"], shards["query"], shards["ruler"], shards["single"]
    selector = c.slo_matcher(slo.name)
    total = c.TOTAL_EVENTS_RATE + selector
    shard_total = c.shard_record(c.TOTAL_EVENTS_RATE) + selector

    # 1. The global rate is the shards' sum, and what one Prometheus over all the traffic records.
    _wait_value(querier, total)
    page = slo.pairs(PAGE)[0]
    time.sleep(page.long + slo.base_window_seconds)   # a full healthy long window first
    at = time.time() - 2   # a moment every component has evaluated
    ruler_total = float(querier.api("query", query=total, time=str(at))["result"][0]["value"][1])
    per_shard = querier.api("query", query=f"sum by (cluster) ({shard_total})", time=str(at))["result"]
    assert sorted(r["metric"]["cluster"] for r in per_shard) == list(SHARDS)
    shards_sum = sum(float(r["value"][1]) for r in per_shard)
    reference = float(single.api("query", query=total, time=str(at))["result"][0]["value"][1])
    print(f"\nglobal 5m rate: ruler {ruler_total:.3f}/s, shards' sum {shards_sum:.3f}/s, one Prometheus {reference:.3f}/s")
    assert ruler_total == pytest.approx(shards_sum, rel=0.05)
    assert ruler_total == pytest.approx(reference, rel=0.10)
    assert _firing(querier) == []
    # Every query of the SLO's dashboard returns data through Thanos Query (what Grafana points at).
    board = slo_detail(slo)
    empty, asked = [], 0
    now = time.time()
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", RATE_INTERVAL)
            asked += 1
            result = (querier.api("query", query=expr, time=str(now))["result"] if target.get("instant") else
                      querier.api("query_range", query=expr, start=str(now - 20), end=str(now), step="2")["result"])
            if not _has_data(result):
                empty.append(f"{panel['title']}: {target['expr']}")
    print(f"dashboard {board['uid']}: {asked - len(empty)} of {asked} queries return data through Thanos Query")
    assert asked >= 8 and not empty, empty

    # 2. One shard's workload fails every resolution: half the traffic.
    threshold = float(page.threshold(slo.error_budget))
    share = 0.5   # the two workloads run at the same rate
    predicted = crossing(page, slo.base_window_seconds, threshold, share) + page.for_
    latency = 1 + HOPS + 2 + POLL + SLACK   # one scrape, the hops, two ruler evaluations, a poll, slack
    started = shards["workloads"][SHARDS[0]].command("outage")["at"]
    tier = f"page-{page.long_text}-{page.short_text}"
    fired = None
    while time.time() < started + predicted + latency + 10 and fired is None:
        for labels in _firing(querier):
            if labels.get("alertname") == c.burn_alert(slo.name, PAGE) and labels.get(c.TIER_LABEL) == tier:
                fired = time.time()
        time.sleep(POLL)
    detection = None if fired is None else fired - started
    print(f"outage of {SHARDS[0]}: {tier} paged after {detection}s (predicted {predicted:.1f}s, "
          f"bound {page.for_}..{predicted + latency:.1f}s)")
    assert detection is not None and page.for_ <= detection <= predicted + latency
    time.sleep(slo.base_window_seconds + 2)
    ratio = _value(querier, c.error_ratio(slo.base_window_seconds) + selector)
    print(f"global 5m error ratio with one shard failing: {ratio}")
    assert ratio is not None and 0.35 < ratio < 0.65   # the half, not the failing shard's 1.0

    # 3. The second shard stops (its Prometheus, then its sidecar).
    gone = SHARDS[1]
    stopped = time.time()
    shards["servers"][gone].stop()
    shards["sidecars"][gone].stop()
    missing_for = parse_duration(thanos_rules.SHARD_MISSING_FOR)
    bound = missing_for + 1 + HOPS + 2 + POLL + SLACK + 5   # + Query noticing the endpoint is down
    seen = None
    while time.time() < stopped + bound + 10 and seen is None:
        for labels in _firing(querier):
            if labels.get("alertname") == c.SHARD_MISSING_ALERT and labels.get("cluster") == gone:
                seen = time.time()
        time.sleep(POLL)
    missing_after = None if seen is None else seen - stopped
    print(f"shard {gone} stopped: {c.SHARD_MISSING_ALERT} fired after {missing_after}s (for {missing_for}s, "
          f"bound {bound:.1f}s)")
    assert missing_after is not None and missing_for <= missing_after <= bound
    # The ruler's own failures alert too (its metrics scraped by the remaining shard), naming the group.
    failing = {labels.get("rule_group", "") for labels in _firing(querier)
               if labels.get("alertname") == c.RULER_FAILURES_ALERT}
    print(f"{c.RULER_FAILURES_ALERT} firing for: {sorted(failing)}")
    assert any(c.rule_group(slo.name) in group for group in failing), failing
    # The page that fired in 2. is neither resolved nor re-evaluated from the one shard left: its group
    # fails, so the alert keeps the state it had (the ruler's rules API).
    page_rule = next(rule for rule in alerting_rules(the_ruler, slo) if rule.get("name") == c.burn_alert(slo.name, PAGE)
                     and any(a.get("labels", {}).get(c.TIER_LABEL) == tier for a in rule.get("alerts", [])))
    assert page_rule.get("state") == "firing", page_rule
    # Nothing recorded since (beyond the evaluations in flight): the SLO's groups abort.
    last = _value(querier, f"timestamp({total})")
    alerting = {"rules": alerting_rules(the_ruler, slo)}
    print(f"last global sample {None if last is None else round(last - stopped, 1)}s after the stop; "
          f"an alerting rule's last error: {next((r.get('lastError') for r in alerting['rules'] if r.get('lastError')), '')[:160]}")
    assert last is None or last <= stopped + HOPS + 2
    assert any(rule.get("health") == "err" for rule in alerting["rules"]), alerting["rules"][:2]
