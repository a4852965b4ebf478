"""End-to-end scenarios: a real Prometheus, the generated rules, a synthetic KFM workload process.

KFM's own SLO definitions are compressed in time through the definitions
(`compress`): the period 30d becomes 6h (120 times faster), and with it, by the
generator's window math, every window pair, every `for` and the staging base
(5m becomes 11s; see generator/model/windows.py); the no-data `for` and the dataset
maximum ages of slo/datasets.csv are scaled by the same factor (river-gauges:
2h becomes 60s). The generator's rule compiler renders them into a temporary
directory; nothing rendered is edited. The invariants are rendered unchanged:
they fire on the first violation, whatever their window.

A workload process (tests/kfm_workload.py, instrumented with
kfm_instrument.KfmInstruments) serves /metrics; Prometheus scrapes it
every second and evaluates every second. Scenarios, each with the time it is
allowed, from the window math:

1. the evidence resolver fails every resolution: its first page pair fires;
2. river-gauges is no longer refreshed: its freshness page fires, no other
   dataset's freshness alert even goes pending;
3. the exporter process is killed: the no-data alerts fire (every dataset's too);
4. one `allow` on a dataset without a policy label: the invariant fires.

Bounds: a scenario's alert fires `predicted` seconds after it starts, where
`predicted` is when the window math crosses the pair's threshold plus the
pair's `for`; it may fire up to one scrape, two evaluations (one to see the
condition, one to promote it past `for`), one poll of /api/v1/alerts and one
second of scheduling slack later, and never before `for` (and for freshness
never before the maximum age, plus threshold x long window of stale ticks,
plus `for`, less one evaluation).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator.model.windows import PAGE, TIERS
from generator.writer import yamlout
from generator.model.durations import format_duration, parse_duration
from generator.prometheus.rules import invariants_group, slo_groups
from generator.model.slo import SLO
from generator.model.tables import CADENCES
from live_prometheus import LivePrometheus, free_port

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parent.parent
TIME_SCALE = 120          # the test's clock runs 120x faster than production's: 30d -> 6h
EVIDENCE = "evidence-resolver-availability"
FRESHNESS = "dataset-freshness"
VICTIM = "river-gauges"
ROUTE = "/v1/query"
POLL = 0.2                # seconds between reads of /api/v1/alerts
SLACK = 1.0               # scheduling slack on 2 cores (workload, Prometheus, pytest)


def _scaled(seconds: int) -> int:
    scaled = Fraction(seconds, TIME_SCALE)
    assert scaled.denominator == 1 and scaled > 0, f"{seconds}s does not compress to whole seconds"
    return int(scaled)


def compress(slo: SLO) -> SLO:
    """The same SLO with its clock TIME_SCALE times faster, through its definition only."""
    assert all(not slo.alerting.tier(t).windows for t in TIERS), "custom windows: scale them too"
    changes: dict = {
        "period": format_duration(_scaled(slo.period_seconds)),
        "alerting": replace(slo.alerting, no_data_for=format_duration(_scaled(parse_duration(slo.alerting.no_data_for)))),
    }
    if slo.sli.kind == "freshness":  # type: ignore[attr-defined]
        changes["sli"] = replace(slo.sli, datasets=tuple(  # type: ignore[type-var]
            replace(d, max_age=format_duration(_scaled(d.max_age_seconds))) for d in slo.sli.datasets))  # type: ignore[attr-defined]
    return replace(slo, **changes)


# --- window math: when a scenario's alert should fire -----------------------------------------

def _outage_ratio(elapsed: float, window: int, base: int, step: float = 0.01) -> float:
    """Error ratio over `window`, staged on `base` rates, `elapsed` seconds into a total outage."""
    # The base ratio at u seconds into the outage is min(u, base) / base; a window's ratio is its mean.
    n = int(window / step)
    total = sum(min(max(elapsed - window + (i + 0.5) * step, 0.0), base) / base for i in range(n))
    return total / n


def outage_crossing(pair, base: int, threshold: float) -> float:
    """Seconds into a total outage until both windows of the pair exceed the threshold: the base window
    is the base rates' ratio, every longer one a mean of the fine rates (c.fine_window of the base)."""
    elapsed = 0.0
    fine = c.fine_window(base)
    while not all(_outage_ratio(elapsed, w, base if w == base else fine) > threshold for w in (pair.long, pair.short)):
        elapsed += 0.05
    return elapsed


def stale_crossing(pair, threshold: float) -> float:
    """Seconds of staleness until the share of stale ticks exceeds the threshold over both windows."""
    return max(float(threshold) * pair.long, float(threshold) * pair.short)


@dataclass
class Expectation:
    scenario: str
    alertname: str
    labels: dict[str, str]
    predicted: float                 # seconds after `started`
    lower: float
    upper: float
    started: float = 0.0             # wall-clock time the scenario began
    fired: float | None = None       # wall-clock time it was first seen firing
    also: list[str] = field(default_factory=list)

    def matches(self, alert: dict) -> bool:
        labels = alert["labels"]
        return labels.get("alertname") == self.alertname and all(labels.get(k) == v for k, v in self.labels.items())

    @property
    def detection(self) -> float | None:
        return None if self.fired is None else self.fired - self.started


class Workload:
    def __init__(self, port: int, refresh: dict[str, int], log: Path):
        args = [sys.executable, str(ROOT / "tests" / "kfm_workload.py"), "--port", str(port)]
        for dataset, every in sorted(refresh.items()):
            args += ["--refresh", f"{dataset}={every}"]
        self.stderr = open(log, "w")
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        ready = self._answer()
        assert ready["command"] == "ready", ready

    def _answer(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"workload exited: {Path(self.stderr.name).read_text()[-2000:]}")
        return json.loads(line)

    def command(self, text: str) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self._answer()

    def kill(self) -> float:
        """The exporter dies (SIGKILL, no clean shutdown); returns when."""
        at = time.time()
        self.process.kill()
        self.process.wait(timeout=10)
        return at

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stderr.close()


def _active_alerts(server: LivePrometheus) -> list[dict]:
    return server.api("alerts")["alerts"]


def _watch(server: LivePrometheus, expectations: list[Expectation], deadline: float,
           seen: list[tuple[float, dict]]) -> None:
    """Poll the alerts until every expectation has fired or the deadline; log every active alert."""
    while time.time() < deadline and any(e.fired is None for e in expectations):
        now = time.time()
        for alert in _active_alerts(server):
            seen.append((now, alert))
            for e in expectations:
                if e.fired is None and alert["state"] == "firing" and e.matches(alert):
                    e.fired = now
        time.sleep(POLL)


def _observe(server: LivePrometheus, until: float, seen: list[tuple[float, dict]]) -> None:
    """Poll the alerts until `until`, logging every active alert."""
    while time.time() < until:
        now = time.time()
        seen.extend((now, alert) for alert in _active_alerts(server))
        time.sleep(POLL)


def _wait_for(server: LivePrometheus, query: str, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(server.api("query", query=query)["result"]) >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"{query} never returned {count} series")


@pytest.fixture(scope="module")
def scenarios(catalog, promtool, tmp_path_factory):
    slos = {s.name: compress(s) for s in catalog.slos if s.name in (EVIDENCE, FRESHNESS)}
    evidence, freshness = slos[EVIDENCE], slos[FRESHNESS]
    folder = tmp_path_factory.mktemp("scenarios")
    rendered = folder / "rendered"
    rendered.mkdir()
    for slo in slos.values():
        groups, _ = slo_groups(slo)
        (rendered / f"{slo.name}.rules.yaml").write_text(yamlout.dump({"groups": groups}))
    group, _ = invariants_group(catalog.invariants)
    (rendered / "invariants.rules.yaml").write_text(yamlout.dump({"groups": [group]}))
    rule_files = sorted(rendered.glob("*.yaml"))
    check = subprocess.run([promtool, "check", "rules", *map(str, rule_files)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    datasets = {d.dataset: d for d in freshness.sli.datasets}  # type: ignore[attr-defined]
    refresh = {name: _scaled(CADENCES[d.cadence]) for name, d in datasets.items()}
    port = free_port()
    workload = Workload(port, refresh, folder / "workload.log")
    server = None
    try:
        server = LivePrometheus(folder / "prometheus", rule_files, [f"127.0.0.1:{port}"])
        config = yaml.safe_load((server.folder / "prometheus.yml").read_text())["global"]
        scrape, evaluation = parse_duration(config["scrape_interval"]), parse_duration(config["evaluation_interval"])
        latency = scrape + 2 * evaluation + POLL + SLACK

        # Warm-up: every base recording exists, and nothing is even pending.
        _wait_for(server, c.TOTAL_EVENTS_RATE + c.slo_matcher(EVIDENCE), 1)
        _wait_for(server, c.DATASET_STALE + c.slo_matcher(FRESHNESS), len(datasets))
        seen: list[tuple[float, dict]] = []
        healthy = _active_alerts(server)
        assert healthy == [], [a["labels"] for a in healthy]
        warm_from = time.time()

        # 2. river-gauges is no longer refreshed (longest: it waits for its maximum age).
        page = freshness.pairs(PAGE)[0]
        threshold = float(page.threshold(freshness.error_budget))
        stale_after = datasets[VICTIM].max_age_seconds + stale_crossing(page, threshold)
        stopped = workload.command(f"stop-refresh {VICTIM}")
        stale_pair = Expectation(
            "stale dataset", c.burn_alert(FRESHNESS, PAGE),
            {c.DATASET: VICTIM, c.TIER_LABEL: f"page-{page.long_text}-{page.short_text}"},
            predicted=stale_after + page.for_, lower=stale_after + page.for_ - evaluation,
            upper=stale_after + page.for_ + latency, started=stopped["last_success"])

        # 1. and 4. once the evidence SLO's first page pair has a full healthy long window.
        page = evidence.pairs(PAGE)[0]
        _observe(server, warm_from + page.long + evidence.base_window_seconds, seen)
        crossing = outage_crossing(page, evidence.base_window_seconds,
                                   float(page.threshold(evidence.error_budget)))
        outage = Expectation(
            "evidence resolver outage", c.burn_alert(EVIDENCE, PAGE),
            {c.TIER_LABEL: f"page-{page.long_text}-{page.short_text}"},
            predicted=crossing + page.for_, lower=page.for_, upper=crossing + page.for_ + latency,
            started=workload.command("outage")["at"])
        invariant = next(i for i in catalog.invariants if i.name == "PolicyAllowWithoutPolicyLabel")
        violation = Expectation(
            "allow without policy label", invariant.name, {c.ROUTE: ROUTE},
            predicted=scrape + evaluation, lower=0.0, upper=latency,
            started=workload.command(f"allow-unlabelled {ROUTE}")["at"])
        first = [stale_pair, outage, violation]
        _watch(server, first, max(e.started + e.upper for e in first) + 10, seen)
        before_kill = list(seen)

        # 3. the exporter dies.
        no_data_for = parse_duration(evidence.alerting.no_data_for)
        killed = workload.kill()
        no_data = [Expectation("exporter dies", c.no_data_alert(EVIDENCE), {}, predicted=no_data_for + scrape,
                               lower=no_data_for, upper=no_data_for + latency, started=killed)]
        no_data += [Expectation("exporter dies", c.no_data_alert(FRESHNESS), {c.DATASET: name},
                                predicted=parse_duration(freshness.alerting.no_data_for) + scrape,
                                lower=parse_duration(freshness.alerting.no_data_for),
                                upper=parse_duration(freshness.alerting.no_data_for) + latency, started=killed)
                    for name in sorted(datasets)]
        _watch(server, no_data, max(e.started + e.upper for e in no_data) + 10, seen)
        rules = server.api("rules")["groups"]
        yield {"stale": stale_pair, "outage": outage, "violation": violation, "no_data": no_data,
               "before_kill": before_kill, "stopped_at": stopped["at"], "rules": rules,
               "pairs": {EVIDENCE: evidence.all_pairs(), FRESHNESS: freshness.all_pairs()},
               "base": evidence.base_window_seconds, "latency": latency}
    finally:
        if server is not None:
            server.stop()
        workload.stop()


def _report(e: Expectation) -> str:
    detected = "never" if e.detection is None else f"{e.detection:.1f}s"
    return (f"{e.scenario}: {e.alertname}{e.labels or ''} fired after {detected} "
            f"(predicted {e.predicted:.1f}s, bound {e.lower:.1f}s..{e.upper:.1f}s)")


def _within(e: Expectation, quiet: bool = False) -> None:
    if not quiet:
        print("\n" + _report(e))
    assert e.detection is not None, _report(e)
    assert e.lower <= e.detection <= e.upper, _report(e)


def test_the_compressed_definitions_keep_the_window_math(scenarios):
    evidence = scenarios["pairs"][EVIDENCE]
    # 30d -> 6h: the Workbook pairs / 120 in whole seconds, the 5m base -> 11s (5m x 6h / 7d).
    assert scenarios["base"] == 11
    assert [(p.long, p.short, p.for_) for p in evidence] == [(30, 11, 0), (180, 15, 0), (720, 60, 30),
                                                           (2160, 180, 90)]
    unhealthy = [f"{g['name']}: {r['name']}: {r.get('lastError')}" for g in scenarios["rules"] for r in g["rules"]
                 if r.get("health") != "ok"]
    assert not unhealthy, unhealthy


def test_evidence_resolver_outage_pages(scenarios):
    e = scenarios["outage"]
    _within(e)
    early = [a["labels"] for t, a in scenarios["before_kill"] if a["labels"].get(c.SLO_LABEL) == EVIDENCE
             and t < e.started]
    assert early == [], early  # a healthy workload: not even pending before the outage


def test_a_dataset_no_longer_refreshed_fires_its_freshness_alert_and_only_its_own(scenarios):
    e = scenarios["stale"]
    print(f"\n(refreshing stopped {scenarios['stopped_at'] - e.started:.1f}s after its last success)")
    _within(e)
    others = sorted({(a["labels"]["alertname"], a["labels"].get(c.DATASET), a["state"])
                     for _, a in scenarios["before_kill"]
                     if a["labels"].get(c.SLO_LABEL) == FRESHNESS and a["labels"].get(c.DATASET) != VICTIM})
    assert others == [], others


def test_the_exporter_dying_fires_the_no_data_alerts(scenarios):
    evidence, *datasets = scenarios["no_data"]
    _within(evidence)
    slowest = max(datasets, key=lambda e: e.detection if e.detection is not None else float("inf"))
    print(f"{len(datasets)} datasets, slowest: " + _report(slowest))
    for e in datasets:
        _within(e, quiet=True)
    early = [a["labels"] for _, a in scenarios["before_kill"] if a["labels"]["alertname"].endswith("SLINoData")]
    assert early == [], early


def test_an_allow_without_policy_label_fires_the_invariant(scenarios):
    e = scenarios["violation"]
    _within(e)
    other_routes = [a["labels"] for _, a in scenarios["before_kill"]
                    if a["labels"]["alertname"] == e.alertname and a["labels"].get(c.ROUTE) != ROUTE]
    assert other_routes == [], other_routes
