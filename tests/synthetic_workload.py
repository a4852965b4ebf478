"""A synthetic KFM workload: every metric of the contract, with plausible traffic,
emitted through the instrumentation helpers (kfm_instrument.KfmInstruments).

Serves /metrics on 127.0.0.1 from a background thread, ticking every half
second: evidence resolutions, Focus Mode answers, policy decisions,
governed-API requests, pipeline runs and promotion attempts for every
catalogued dataset, whose last success stays "now" (a promotion whose gates do
not all pass is blocked, as the platform's promotion is fail-closed). Error
rates sit at about a hundredth of every SLO's budget, so that even on the few
hundred events of a short test no burn alert is pending. The span metrics the
collector's span_metrics connector would derive are simulated in the same
registry, and so are the declared exporter metrics' series an SLO reads. Used by the live
dashboard check.
"""
from __future__ import annotations

import random
import threading

from prometheus_client import Counter, Histogram, start_http_server
from prometheus_client.core import Metric

from generator import conventions as c
from kfm_instrument import KfmInstruments

ROUTES = ("/v1/datasets/{id}", "/v1/query")
GATES = ("schema", "license")


class ExporterSeries:
    """Series of metrics the definitions declare (Metric(...)): what an exporter would serve, untyped and
    named exactly as declared (an exporter's counter often has no _total), good ones rising 20 a tick
    and bad ones one in a hundred thousand of that."""

    def __init__(self, series: list[tuple[str, dict[str, str], bool]]):
        self.values = {(name, tuple(sorted(labels.items()))): 0.0 for name, labels, _ in series}
        self.bad = {(name, tuple(sorted(labels.items()))) for name, labels, bad in series if bad}
        self.lock = threading.Lock()

    def tick(self, rnd: random.Random) -> None:
        with self.lock:
            for key in self.values:
                self.values[key] += (1 if rnd.random() < 0.0002 else 0) if key in self.bad else 20

    def collect(self):
        with self.lock:
            by_name: dict[str, list] = {}
            for (name, labels), value in sorted(self.values.items()):
                by_name.setdefault(name, []).append((dict(labels), value))
        for name, samples in by_name.items():
            family = Metric(name, "A declared exporter metric (synthetic).", "unknown")
            for labels, value in samples:
                family.add_sample(name, labels, value)
            yield family


class SyntheticWorkload:
    def __init__(self, datasets: list[str], seed: int = 7,
                 exporter_series: list[tuple[str, dict[str, str], bool]] = ()):
        self.random = random.Random(seed)
        self.exporter = ExporterSeries(list(exporter_series))
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
        self.registry.register(self.exporter)
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
        self.exporter.tick(rnd)
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
