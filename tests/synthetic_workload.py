"""A synthetic KFM workload: every metric of the contract, with plausible traffic,
emitted through the instrumentation helpers (generator.instrument.KfmInstruments).

Serves /metrics on 127.0.0.1 from a background thread, ticking every half
second: evidence resolutions, Focus Mode answers, policy decisions,
governed-API requests, pipeline runs and promotion attempts for every
catalogued dataset, whose last success stays "now" (a promotion whose gates do
not all pass is blocked, as the platform's promotion is fail-closed). Error
rates sit at about a hundredth of every SLO's budget, so that even on the few
hundred events of a short test no burn alert is pending. The span metrics the
collector's span_metrics connector would derive are simulated in the same
registry. Used by the live dashboard check.
"""
from __future__ import annotations

import random
import threading

from prometheus_client import Counter, Histogram, start_http_server

from generator import conventions as c
from generator.instrument import KfmInstruments

ROUTES = ("/v1/datasets/{id}", "/v1/query")
GATES = ("schema", "license")


class SyntheticWorkload:
    def __init__(self, datasets: list[str], seed: int = 7):
        self.random = random.Random(seed)
        self.datasets = datasets
        self.kfm = KfmInstruments()
        self.registry = self.kfm.registry
        for dataset in datasets:
            self.kfm.register_dataset(dataset, stages=("publish",), gates=GATES)
        for route in ROUTES:
            self.kfm.register_route(route)
        # What the collector makes of the evidence and Focus Mode spans (not a service's metrics).
        span_labels = [c.SPAN_SERVICE, c.SPAN_NAME, c.SPAN_KIND, c.SPAN_STATUS]
        self.span_calls = Counter(c.SPAN_CALLS.removesuffix("_total"), "Span calls", span_labels,
                                  registry=self.registry)
        self.span_duration = Histogram(c.SPAN_DURATION, "Span duration", span_labels, buckets=c.LATENCY_BUCKETS,
                                       registry=self.registry)
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
        rnd, kfm = self.random, self.kfm
        for dataset in self.datasets:
            status = "failure" if rnd.random() < 0.0005 else "success"
            kfm.record_pipeline_run(dataset, "publish", status, rnd.uniform(5, 600))
            results = {"schema": "pass", "license": "error" if rnd.random() < 0.01 else "pass"}
            kfm.promotion(dataset, results, promoted=all(r == "pass" for r in results.values()))
        for _ in range(20):
            outcome = rnd.choices(c.EVIDENCE_OUTCOMES, (90000, 9999, 1))[0]
            kfm.record_evidence_resolution(outcome, rnd.expovariate(1 / 0.08))
            kfm.focus_answer(rnd.choices(c.FOCUS_OUTCOMES, (99495, 500, 5))[0])
            decision = rnd.choices(c.LABEL_VALUES[c.DECISION], (80000, 19999, 1))[0]
            route = rnd.choice(ROUTES)
            kfm.policy_decision(decision, route, policy_label_present=True)
            for service, span in ((c.EVIDENCE_SERVICE, c.EVIDENCE_RESOLUTION_SPAN), (c.FOCUS_SERVICE, "focus-answer")):
                labels = (service, span, "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")
                self.span_calls.labels(*labels).inc()
                self.span_duration.labels(*labels).observe(rnd.expovariate(1 / 0.1))
            status = 503 if rnd.random() < 0.00001 else (403 if decision != "allow" else 200)
            kfm.api_request(route, status, decision, rnd.expovariate(1 / 0.05))
