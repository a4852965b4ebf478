"""A synthetic KFM workload: every metric of the contract, with plausible traffic.

Serves /metrics on 127.0.0.1 from a background thread (prometheus-client),
ticking every half second: evidence resolutions, Focus Mode answers, policy
decisions, governed-API requests, pipeline runs and promotions for every
catalogued dataset, whose last success stays "now". Error rates sit at about
a hundredth of every SLO's budget, so that even on the few hundred events of
a short test no burn alert is pending. Used by the live checks.
"""
from __future__ import annotations

import random
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from generator import conventions as c

ROUTES = ("/v1/datasets/{id}", "/v1/query")


class SyntheticWorkload:
    def __init__(self, datasets: list[str], seed: int = 7):
        self.random = random.Random(seed)
        self.datasets = datasets
        self.registry = CollectorRegistry()
        r = self.registry
        strip = lambda name: name.removesuffix("_total")  # noqa: E731 - prometheus-client adds _total
        self.runs = Counter(strip(c.PIPELINE_RUNS), "Pipeline runs", [c.DATASET, c.STAGE, c.STATUS], registry=r)
        self.run_duration = Histogram(c.PIPELINE_RUN_DURATION, "Run duration", [c.DATASET, c.STAGE],
                                      buckets=c.PIPELINE_DURATION_BUCKETS, registry=r)
        self.last_success = Gauge(c.DATASET_LAST_SUCCESS, "Last success", [c.DATASET], registry=r)
        self.gates = Counter(strip(c.PROMOTION_GATE_RESULTS), "Gate results", [c.DATASET, c.GATE, c.RESULT], registry=r)
        self.promotions = Counter(strip(c.PROMOTIONS), "Promotions", [c.DATASET, c.WORST_GATE_RESULT], registry=r)
        self.resolutions = Counter(strip(c.EVIDENCE_RESOLUTIONS), "Resolutions", [c.OUTCOME], registry=r)
        self.resolution_duration = Histogram(c.EVIDENCE_RESOLUTION_DURATION, "Resolution duration",
                                             buckets=c.LATENCY_BUCKETS, registry=r)
        self.answers = Counter(strip(c.FOCUS_ANSWERS), "Focus answers", [c.OUTCOME], registry=r)
        self.decisions = Counter(strip(c.POLICY_DECISIONS), "Decisions", [c.DECISION, c.ROUTE, c.POLICY_LABEL],
                                 registry=r)
        self.requests = Histogram(c.HTTP_SERVER_DURATION, "Requests",
                                  [c.HTTP_ROUTE, c.HTTP_STATUS, c.DECISION_CLASS], buckets=c.LATENCY_BUCKETS,
                                  registry=r)
        span_labels = [c.SPAN_SERVICE, c.SPAN_NAME, c.SPAN_KIND, c.SPAN_STATUS]
        self.span_calls = Counter(strip(c.SPAN_CALLS), "Span calls", span_labels, registry=r)
        self.span_duration = Histogram(c.SPAN_DURATION, "Span duration", span_labels, buckets=c.LATENCY_BUCKETS,
                                       registry=r)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self, port: int) -> None:
        self.tick()
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.tick()

    def tick(self) -> None:
        rnd = self.random
        now = time.time()
        for dataset in self.datasets:
            self.last_success.labels(dataset).set(now)
            status = "failure" if rnd.random() < 0.0005 else "success"
            self.runs.labels(dataset, "publish", status).inc()
            self.run_duration.labels(dataset, "publish").observe(rnd.uniform(5, 600))
            self.gates.labels(dataset, "schema", "pass").inc()
            self.gates.labels(dataset, "license", "error" if rnd.random() < 0.01 else "pass").inc()
            self.promotions.labels(dataset, "pass").inc()
        for _ in range(20):
            outcome = rnd.choices(c.EVIDENCE_OUTCOMES, (90000, 9999, 1))[0]
            self.resolutions.labels(outcome).inc()
            self.resolution_duration.observe(rnd.expovariate(1 / 0.08))
            self.answers.labels(rnd.choices(c.FOCUS_OUTCOMES, (99495, 500, 5))[0]).inc()
            decision = rnd.choices(c.LABEL_VALUES[c.DECISION], (80000, 19999, 1))[0]
            route = rnd.choice(ROUTES)
            self.decisions.labels(decision, route, "present").inc()
            for service, span in ((c.EVIDENCE_SERVICE, "resolve-evidence"), (c.FOCUS_SERVICE, "focus-answer")):
                labels = (service, span, "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")
                self.span_calls.labels(*labels).inc()
                self.span_duration.labels(*labels).observe(rnd.expovariate(1 / 0.1))
            status = "503" if rnd.random() < 0.00001 else ("403" if decision != "allow" else "200")
            self.requests.labels(route, status, decision).observe(rnd.expovariate(1 / 0.05))
