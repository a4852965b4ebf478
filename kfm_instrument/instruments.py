"""KfmInstruments: the instrumentation helpers (kfm_instrument re-exports them; see its docstring)."""
from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue
from prometheus_client import CollectorRegistry, generate_latest

from . import contract as c
from . import metrics as m

# Gate results from best to worst: a gate that could not be evaluated (error)
# is worse than one that failed (fail-closed).
GATE_RESULTS_BEST_FIRST = ("pass", "fail", "error")
_NS = 1_000_000_000


class EvidenceResolution:
    """Handle of an evidence_resolution() block: set .outcome when it is not "resolved"."""

    def __init__(self, span: Span):
        self.span = span
        self._outcome = "resolved"

    @property
    def outcome(self) -> str:
        return self._outcome

    @outcome.setter
    def outcome(self, value: str) -> None:
        m.checked(c.EVIDENCE_RESOLUTIONS, {c.OUTCOME: value})
        self._outcome = value


class KfmInstruments:
    def __init__(self, registry: CollectorRegistry | None = None, tracer: trace.Tracer | None = None,
                 *, clock: Callable[[], float] = time.time):
        if set(GATE_RESULTS_BEST_FIRST) != set(c.LABEL_VALUES[c.RESULT]):
            raise ValueError(f"gate results {c.LABEL_VALUES[c.RESULT]} need an order in GATE_RESULTS_BEST_FIRST")
        self.registry = registry if registry is not None else CollectorRegistry()
        self._tracer = tracer if tracer is not None else trace.get_tracer(__name__)
        self._clock = clock
        self._metrics = {name: m.build(name, self.registry) for name in m.HELPER_METRICS}
        self._lock = threading.Lock()
        self._registered: set[tuple[str, ...]] = set()
        self._last_success: dict[str, float] = {}
        for outcome in c.EVIDENCE_OUTCOMES:
            self._series(c.EVIDENCE_RESOLUTIONS, {c.OUTCOME: outcome})
        for outcome in c.FOCUS_OUTCOMES:
            self._series(c.FOCUS_ANSWERS, {c.OUTCOME: outcome})

    # --- series and pre-initialisation --------------------------------------

    def _series(self, metric: str, labels: Mapping[str, str]) -> Any:
        values = m.checked(metric, dict(labels))
        return self._metrics[metric].labels(*values) if values else self._metrics[metric]

    def _once(self, key: tuple[str, ...], create: Callable[[], object]) -> None:
        with self._lock:
            if key in self._registered:
                return
        create()
        with self._lock:
            self._registered.add(key)

    def register_dataset(self, dataset: str, stages: Iterable[str] = (), gates: Iterable[str] = ()) -> None:
        """Create a dataset's counter series at 0 (every status, gate result, worst result)."""
        self._once(("dataset", dataset), lambda: [
            self._series(c.PROMOTIONS, {c.DATASET: dataset, c.WORST_GATE_RESULT: worst})
            for worst in c.LABEL_VALUES[c.WORST_GATE_RESULT]])
        for stage in stages:
            self._once(("stage", dataset, stage), functools.partial(self._stage_series, dataset, stage))
        for gate in gates:
            self._once(("gate", dataset, gate), functools.partial(self._gate_series, dataset, gate))

    def _stage_series(self, dataset: str, stage: str) -> None:
        self._series(c.PIPELINE_RUN_DURATION, {c.DATASET: dataset, c.STAGE: stage})
        for status in c.LABEL_VALUES[c.STATUS]:
            self._series(c.PIPELINE_RUNS, {c.DATASET: dataset, c.STAGE: stage, c.STATUS: status})

    def _gate_series(self, dataset: str, gate: str) -> None:
        for result in c.LABEL_VALUES[c.RESULT]:
            self._series(c.PROMOTION_GATE_RESULTS, {c.DATASET: dataset, c.GATE: gate, c.RESULT: result})

    def register_route(self, route: str) -> None:
        """Create a route's policy-decision series at 0 (every decision and policy label)."""
        self._once(("route", route), lambda: [
            self._series(c.POLICY_DECISIONS, {c.DECISION: decision, c.ROUTE: route, c.POLICY_LABEL: label})
            for decision in c.LABEL_VALUES[c.DECISION] for label in c.LABEL_VALUES[c.POLICY_LABEL]])

    # --- spans ---------------------------------------------------------------

    @staticmethod
    def _attributes(labels: Mapping[str, AttributeValue], **correlation_ids: str | None) -> dict[str, AttributeValue]:
        attributes = dict(labels)
        for key, value in correlation_ids.items():
            if key not in c.CORRELATION_IDS:  # a programming error in this module
                raise AssertionError(f"{key} is not a correlation id of the contract")
            if value is not None:
                if not isinstance(value, str) or not value:
                    raise ValueError(f"correlation id {key} needs a non-empty string, got {value!r}")
                attributes[key] = value
        return attributes

    def _finished_span(self, name: str, attributes: dict[str, Any], end: float, seconds: float, error: bool) -> None:
        end_ns = round(end * _NS)
        span = self._tracer.start_span(name, attributes=attributes, start_time=end_ns - round(seconds * _NS))
        if error:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end_ns)

    # --- pipeline runs -------------------------------------------------------

    @contextmanager
    def pipeline_run(self, dataset: str, stage: str, *, run_id: str | None = None,
                     dataset_version_id: str | None = None) -> Iterator[Span]:
        """A run: success unless the block raises (then failure, and the exception propagates)."""
        self.register_dataset(dataset, stages=(stage,))
        attributes = self._attributes({c.DATASET: dataset, c.STAGE: stage},
                                      run_id=run_id, dataset_version_id=dataset_version_id)
        started = time.perf_counter()
        with self._tracer.start_as_current_span(c.PIPELINE_RUN_SPAN, attributes=attributes) as span:
            try:
                yield span
            except BaseException:
                span.set_attribute(c.STATUS, "failure")
                self._count_run(dataset, stage, "failure", time.perf_counter() - started, None)
                raise
            span.set_attribute(c.STATUS, "success")
            self._count_run(dataset, stage, "success", time.perf_counter() - started, self._clock())

    def record_pipeline_run(self, dataset: str, stage: str, status: str, duration_seconds: float,
                            finished_at: float | None = None, *, run_id: str | None = None,
                            dataset_version_id: str | None = None) -> None:
        """A finished run (replays, synthetic workloads); finished_at defaults to now."""
        m.checked(c.PIPELINE_RUNS, {c.DATASET: dataset, c.STAGE: stage, c.STATUS: status})
        seconds = m.duration(c.PIPELINE_RUN_DURATION, duration_seconds)
        end = self._clock() if finished_at is None else float(finished_at)
        attributes = self._attributes({c.DATASET: dataset, c.STAGE: stage, c.STATUS: status},
                                      run_id=run_id, dataset_version_id=dataset_version_id)
        self.register_dataset(dataset, stages=(stage,))
        self._count_run(dataset, stage, status, seconds, end if status == "success" else None)
        self._finished_span(c.PIPELINE_RUN_SPAN, attributes, end, seconds, status != "success")

    def _count_run(self, dataset: str, stage: str, status: str, seconds: float, succeeded_at: float | None) -> None:
        self._series(c.PIPELINE_RUNS, {c.DATASET: dataset, c.STAGE: stage, c.STATUS: status}).inc()
        self._series(c.PIPELINE_RUN_DURATION, {c.DATASET: dataset, c.STAGE: stage}).observe(seconds)
        if succeeded_at is not None:
            self.restore_last_success(dataset, succeeded_at)

    def restore_last_success(self, dataset: str, timestamp: float) -> None:
        """Set the last-success gauge (never backwards), e.g. from the catalog after a restart."""
        gauge = self._series(c.DATASET_LAST_SUCCESS, {c.DATASET: dataset})
        with self._lock:
            latest = max(self._last_success.get(dataset, float("-inf")), float(timestamp))
            self._last_success[dataset] = latest
            gauge.set(latest)

    # --- promotions ----------------------------------------------------------

    def promotion(self, dataset: str, gate_results: Mapping[str, str], *, promoted: bool = True,
                  dataset_version_id: str | None = None, audit_ref: str | None = None) -> str:
        """Count each gate's result and, if promoted, the promotion under its worst result.

        Returns the worst result. A promotion without gate results is refused
        (fail-closed); promoted=False records the gates of a blocked attempt.
        """
        if not gate_results:
            raise ValueError(f"{c.PROMOTIONS}: dataset {dataset!r}: no gate results; a promotion whose gates "
                             "were not evaluated is refused (fail-closed)")
        for gate, result in gate_results.items():
            m.checked(c.PROMOTION_GATE_RESULTS, {c.DATASET: dataset, c.GATE: gate, c.RESULT: result})
        worst = max(gate_results.values(), key=GATE_RESULTS_BEST_FIRST.index)
        attributes = self._attributes(
            {c.DATASET: dataset, c.WORST_GATE_RESULT: worst, "promoted": promoted,
             c.GATE: [f"{gate}={result}" for gate, result in sorted(gate_results.items())]},
            dataset_version_id=dataset_version_id, audit_ref=audit_ref)
        self.register_dataset(dataset, gates=gate_results)
        for gate, result in gate_results.items():
            self._series(c.PROMOTION_GATE_RESULTS, {c.DATASET: dataset, c.GATE: gate, c.RESULT: result}).inc()
        if promoted:
            self._series(c.PROMOTIONS, {c.DATASET: dataset, c.WORST_GATE_RESULT: worst}).inc()
        self._finished_span(c.PROMOTION_SPAN, attributes, self._clock(), 0.0, promoted and worst != "pass")
        return worst

    # --- evidence, Focus Mode, policy, API -----------------------------------

    @contextmanager
    def evidence_resolution(self, *, audit_ref: str | None = None) -> Iterator[EvidenceResolution]:
        """A resolution: "resolved" unless the block sets .outcome, "error" if it raises."""
        attributes = self._attributes({}, audit_ref=audit_ref)
        started = time.perf_counter()
        with self._tracer.start_as_current_span(c.EVIDENCE_RESOLUTION_SPAN, attributes=attributes) as span:
            handle = EvidenceResolution(span)
            try:
                yield handle
            except BaseException:
                handle.outcome = "error"
                raise
            finally:
                span.set_attribute(c.OUTCOME, handle.outcome)
                if handle.outcome == "error":
                    span.set_status(Status(StatusCode.ERROR))
                self._count_resolution(handle.outcome, time.perf_counter() - started)

    def record_evidence_resolution(self, outcome: str, duration_seconds: float, audit_ref: str | None = None,
                                   finished_at: float | None = None) -> None:
        m.checked(c.EVIDENCE_RESOLUTIONS, {c.OUTCOME: outcome})
        seconds = m.duration(c.EVIDENCE_RESOLUTION_DURATION, duration_seconds)
        attributes = self._attributes({c.OUTCOME: outcome}, audit_ref=audit_ref)
        self._count_resolution(outcome, seconds)
        end = self._clock() if finished_at is None else float(finished_at)
        self._finished_span(c.EVIDENCE_RESOLUTION_SPAN, attributes, end, seconds, outcome == "error")

    def _count_resolution(self, outcome: str, seconds: float) -> None:
        self._series(c.EVIDENCE_RESOLUTIONS, {c.OUTCOME: outcome}).inc()
        self._series(c.EVIDENCE_RESOLUTION_DURATION, {}).observe(seconds)

    def focus_answer(self, outcome: str) -> None:
        self._series(c.FOCUS_ANSWERS, {c.OUTCOME: outcome}).inc()

    def policy_decision(self, decision: str, route: str, policy_label_present: bool, *,
                        audit_ref: str | None = None) -> None:
        """Count a decision; a span carries it (an error, or allow without policy label, marks it ERROR)."""
        if not isinstance(policy_label_present, bool):
            raise ValueError(f"{c.POLICY_DECISIONS}: policy_label_present must be True or False, "
                             f"got {policy_label_present!r}")
        labels = {c.DECISION: decision, c.ROUTE: route,
                  c.POLICY_LABEL: "present" if policy_label_present else "missing"}
        m.checked(c.POLICY_DECISIONS, labels)
        attributes = self._attributes(labels, audit_ref=audit_ref)
        self.register_route(route)
        self._series(c.POLICY_DECISIONS, labels).inc()
        breach = decision == "error" or (decision == "allow" and not policy_label_present)
        self._finished_span(c.POLICY_DECISION_SPAN, attributes, self._clock(), 0.0, breach)

    def api_request(self, route: str, status_code: int, decision_class: str, duration_seconds: float) -> None:
        if isinstance(status_code, bool) or not isinstance(status_code, int) or not 100 <= status_code <= 599:
            raise ValueError(f"{c.HTTP_SERVER_DURATION}: label {c.HTTP_STATUS} needs an HTTP status code "
                             f"(100-599), got {status_code!r}")
        seconds = m.duration(c.HTTP_SERVER_DURATION, duration_seconds)
        labels = {c.HTTP_ROUTE: route, c.HTTP_STATUS: str(status_code), c.DECISION_CLASS: decision_class}
        self._series(c.HTTP_SERVER_DURATION, labels).observe(seconds)

    # --- exposition ----------------------------------------------------------

    def exposition(self) -> str:
        """The Prometheus text exposition of this registry (what /metrics serves)."""
        return generate_latest(self.registry).decode("utf-8")


SPECIMEN = "contract-specimen"


def contract_exposition() -> str:
    """What the helpers expose once every helper has run (one specimen value per open label).

    The metric contract check reads metric types and label names from it.
    """
    kfm = KfmInstruments(tracer=trace.NoOpTracer(), clock=lambda: 0.0)
    kfm.register_dataset(SPECIMEN, stages=(SPECIMEN,), gates=(SPECIMEN,))
    kfm.register_route(SPECIMEN)
    kfm.record_pipeline_run(SPECIMEN, SPECIMEN, "success", 0.0)
    kfm.promotion(SPECIMEN, {SPECIMEN: "pass"})
    kfm.record_evidence_resolution("resolved", 0.0)
    kfm.focus_answer("answered")
    kfm.policy_decision("allow", SPECIMEN, True)
    kfm.api_request(SPECIMEN, 200, "allow", 0.0)
    return kfm.exposition()
