"""The instrumentation helpers emit the metric contract of generator.conventions, and nothing else."""
from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client.parser import text_string_to_metric_families

from generator import conventions as c
from kfm_instrument import KfmInstruments, contract_exposition

HELPER_METRICS = [name for name in c.METRIC_LABELS if name not in (c.SPAN_CALLS, c.SPAN_DURATION)]
NOW = 1_700_000_000.0


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider.get_tracer("test")


@pytest.fixture
def kfm(spans):
    return KfmInstruments(tracer=spans[1], clock=lambda: NOW)


def samples(kfm_or_text) -> dict[tuple[str, tuple], float]:
    text = kfm_or_text if isinstance(kfm_or_text, str) else kfm_or_text.exposition()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if not s.name.endswith("_created")}


def value(kfm, name: str, **labels) -> float | None:
    return samples(kfm).get((name, tuple(sorted(labels.items()))))


def test_helpers_expose_exactly_the_contract_names_types_labels_and_buckets():
    families = {f.name: f for f in text_string_to_metric_families(contract_exposition())
                if not f.name.endswith("_created")}
    by_sample = {s.name: f for f in families.values() for s in f.samples}
    assert len(families) == len(HELPER_METRICS)
    for metric in HELPER_METRICS:
        kind, labels = c.METRIC_LABELS[metric]
        selected = metric + "_count" if kind == "histogram" else metric
        family = by_sample[selected]
        assert family.type == kind, metric
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == set(labels), (metric, sample)
        if kind == "histogram":
            bounds = [float(s.labels["le"]) for s in family.samples if s.name == metric + "_bucket"]
            assert bounds == [*c.HISTOGRAM_BUCKETS[metric], float("inf")], metric


def test_a_fresh_registry_has_every_outcome_at_zero(kfm):
    for metric, outcomes in ((c.EVIDENCE_RESOLUTIONS, c.EVIDENCE_OUTCOMES), (c.FOCUS_ANSWERS, c.FOCUS_OUTCOMES)):
        for outcome in outcomes:
            assert value(kfm, metric, **{c.OUTCOME: outcome}) == 0.0, (metric, outcome)
    assert value(kfm, c.EVIDENCE_RESOLUTION_DURATION + "_count") == 0.0


def test_a_registered_dataset_and_route_have_every_bounded_series_at_zero(kfm):
    kfm.register_dataset("river-gauges", stages=("processed",), gates=("schema",))
    kfm.register_route("/v1/query")
    for status in c.LABEL_VALUES[c.STATUS]:
        assert value(kfm, c.PIPELINE_RUNS, dataset="river-gauges", stage="processed", status=status) == 0.0
    for worst in c.LABEL_VALUES[c.WORST_GATE_RESULT]:
        assert value(kfm, c.PROMOTIONS, dataset="river-gauges", worst_gate_result=worst) == 0.0
    for result in c.LABEL_VALUES[c.RESULT]:
        assert value(kfm, c.PROMOTION_GATE_RESULTS, dataset="river-gauges", gate="schema", result=result) == 0.0
    for decision in c.LABEL_VALUES[c.DECISION]:
        for label in c.LABEL_VALUES[c.POLICY_LABEL]:
            assert value(kfm, c.POLICY_DECISIONS, decision=decision, route="/v1/query", policy_label=label) == 0.0
    # never a last-success timestamp a dataset has not earned: freshness would read 1970 as "stale"
    assert value(kfm, c.DATASET_LAST_SUCCESS, dataset="river-gauges") is None


def test_the_first_run_of_a_dataset_creates_its_failure_series_at_zero(kfm):
    kfm.record_pipeline_run("soil-survey", "raw", "success", 12.0)
    assert value(kfm, c.PIPELINE_RUNS, dataset="soil-survey", stage="raw", status="success") == 1.0
    assert value(kfm, c.PIPELINE_RUNS, dataset="soil-survey", stage="raw", status="failure") == 0.0
    assert value(kfm, c.DATASET_LAST_SUCCESS, dataset="soil-survey") == NOW


@pytest.mark.parametrize("call, metric, label, bad", [
    (lambda k: k.record_pipeline_run("d", "raw", "ok", 1.0), c.PIPELINE_RUNS, c.STATUS, "ok"),
    (lambda k: k.promotion("d", {"schema": "pass", "license": "passed"}), c.PROMOTION_GATE_RESULTS, c.RESULT,
     "passed"),
    (lambda k: k.record_evidence_resolution("timeout", 0.1), c.EVIDENCE_RESOLUTIONS, c.OUTCOME, "timeout"),
    (lambda k: k.focus_answer("maybe"), c.FOCUS_ANSWERS, c.OUTCOME, "maybe"),
    (lambda k: k.policy_decision("permit", "/v1/query", True), c.POLICY_DECISIONS, c.DECISION, "permit"),
    (lambda k: k.api_request("/v1/query", 200, "allowed", 0.1), c.HTTP_SERVER_DURATION, c.DECISION_CLASS,
     "allowed"),
])
def test_unknown_bounded_values_are_refused_without_a_new_series(kfm, spans, call, metric, label, bad):
    before = samples(kfm)
    with pytest.raises(ValueError) as refused:
        call(kfm)
    message = str(refused.value)
    assert metric in message and label in message and repr(bad) in message
    assert all(allowed in message for allowed in c.METRIC_LABELS[metric][1][label])
    assert samples(kfm) == before
    assert spans[0].get_finished_spans() == ()


@pytest.mark.parametrize("call", [
    lambda k: k.record_pipeline_run("d", "raw", "success", -1.0),
    lambda k: k.record_evidence_resolution("resolved", float("nan")),
    lambda k: k.api_request("/v1/query", 99, "allow", 0.1),
    lambda k: k.api_request("/v1/query", "200", "allow", 0.1),
    lambda k: k.policy_decision("allow", "/v1/query", None),
    lambda k: k.record_pipeline_run("", "raw", "success", 1.0),
])
def test_bad_numbers_and_open_labels_are_refused(kfm, call):
    before = samples(kfm)
    with pytest.raises(ValueError):
        call(kfm)
    assert samples(kfm) == before


def test_pipeline_run_failure_counts_failure_and_reraises(kfm, spans):
    with pytest.raises(RuntimeError, match="upstream gone"):
        with kfm.pipeline_run("river-gauges", "raw", run_id="run-42"):
            raise RuntimeError("upstream gone")
    assert value(kfm, c.PIPELINE_RUNS, dataset="river-gauges", stage="raw", status="failure") == 1.0
    assert value(kfm, c.PIPELINE_RUNS, dataset="river-gauges", stage="raw", status="success") == 0.0
    assert value(kfm, c.PIPELINE_RUN_DURATION + "_count", dataset="river-gauges", stage="raw") == 1.0
    assert value(kfm, c.DATASET_LAST_SUCCESS, dataset="river-gauges") is None
    (span,) = spans[0].get_finished_spans()
    assert span.name == c.PIPELINE_RUN_SPAN and span.status.status_code is StatusCode.ERROR
    assert span.attributes["run_id"] == "run-42" and span.attributes[c.STATUS] == "failure"
    assert [event.name for event in span.events] == ["exception"]


def test_pipeline_run_success_sets_the_last_success_time(kfm, spans):
    with kfm.pipeline_run("river-gauges", "processed", run_id="run-43") as span:
        span.set_attribute("rows", 10)
    assert value(kfm, c.PIPELINE_RUNS, dataset="river-gauges", stage="processed", status="success") == 1.0
    assert value(kfm, c.DATASET_LAST_SUCCESS, dataset="river-gauges") == NOW
    (finished,) = spans[0].get_finished_spans()
    assert finished.status.status_code is not StatusCode.ERROR and finished.attributes["rows"] == 10


def test_replayed_runs_never_move_the_last_success_backwards(kfm, spans):
    kfm.record_pipeline_run("d", "raw", "success", 30.0, finished_at=NOW)
    kfm.record_pipeline_run("d", "raw", "success", 30.0, finished_at=NOW - 3600)
    kfm.record_pipeline_run("d", "raw", "failure", 30.0, finished_at=NOW + 60)
    assert value(kfm, c.DATASET_LAST_SUCCESS, dataset="d") == NOW
    assert value(kfm, c.PIPELINE_RUN_DURATION + "_sum", dataset="d", stage="raw") == 90.0
    first = spans[0].get_finished_spans()[0]
    assert (first.end_time - first.start_time) == 30 * 10**9 and first.end_time == int(NOW) * 10**9


def test_promotion_counts_each_gate_and_the_worst_result(kfm):
    assert kfm.promotion("d", {"schema": "pass", "license": "error", "quality": "fail"}) == "error"
    assert kfm.promotion("d", {"schema": "pass", "quality": "fail"}) == "fail"
    assert kfm.promotion("d", {"schema": "pass"}, promoted=False) == "pass"
    assert value(kfm, c.PROMOTIONS, dataset="d", worst_gate_result="error") == 1.0
    assert value(kfm, c.PROMOTIONS, dataset="d", worst_gate_result="fail") == 1.0
    assert value(kfm, c.PROMOTIONS, dataset="d", worst_gate_result="pass") == 0.0  # not promoted
    assert value(kfm, c.PROMOTION_GATE_RESULTS, dataset="d", gate="schema", result="pass") == 3.0
    assert value(kfm, c.PROMOTION_GATE_RESULTS, dataset="d", gate="license", result="pass") == 0.0


def test_a_promotion_without_gates_is_refused(kfm):
    before = samples(kfm)
    with pytest.raises(ValueError, match="fail-closed"):
        kfm.promotion("d", {})
    assert samples(kfm) == before


def test_evidence_resolution_outcomes_and_audit_ref_on_the_span(kfm, spans):
    with kfm.evidence_resolution(audit_ref="audit-1"):
        pass
    with kfm.evidence_resolution(audit_ref="audit-2") as resolution:
        resolution.outcome = "unresolved"
    with pytest.raises(KeyError):
        with kfm.evidence_resolution(audit_ref="audit-3"):
            raise KeyError("citation store")
    kfm.record_evidence_resolution("resolved", 0.2, audit_ref="audit-4")
    assert value(kfm, c.EVIDENCE_RESOLUTIONS, outcome="resolved") == 2.0
    assert value(kfm, c.EVIDENCE_RESOLUTIONS, outcome="unresolved") == 1.0
    assert value(kfm, c.EVIDENCE_RESOLUTIONS, outcome="error") == 1.0
    assert value(kfm, c.EVIDENCE_RESOLUTION_DURATION + "_count") == 4.0
    finished = spans[0].get_finished_spans()
    assert [(s.attributes["audit_ref"], s.attributes[c.OUTCOME]) for s in finished] == [
        ("audit-1", "resolved"), ("audit-2", "unresolved"), ("audit-3", "error"), ("audit-4", "resolved")]
    assert [s.status.status_code is StatusCode.ERROR for s in finished] == [False, False, True, False]
    assert {s.name for s in finished} == {c.EVIDENCE_RESOLUTION_SPAN}


def test_policy_decision_span_marks_allow_without_policy_label(kfm, spans):
    kfm.policy_decision("allow", "/v1/query", True, audit_ref="audit-9")
    kfm.policy_decision("allow", "/v1/query", False)
    assert value(kfm, c.POLICY_DECISIONS, decision="allow", route="/v1/query", policy_label="missing") == 1.0
    ok, breach = spans[0].get_finished_spans()
    assert ok.attributes[c.POLICY_LABEL] == "present" and ok.attributes["audit_ref"] == "audit-9"
    assert ok.status.status_code is not StatusCode.ERROR and breach.status.status_code is StatusCode.ERROR


def test_api_request_observes_the_http_histogram(kfm):
    kfm.api_request("/v1/datasets/{id}", 403, "deny", 0.02)
    labels = {c.HTTP_ROUTE: "/v1/datasets/{id}", c.HTTP_STATUS: "403", c.DECISION_CLASS: "deny"}
    assert value(kfm, c.HTTP_SERVER_DURATION + "_count", **labels) == 1.0
    assert value(kfm, c.HTTP_SERVER_DURATION + "_bucket", **labels, le="0.025") == 1.0
    assert value(kfm, c.HTTP_SERVER_DURATION + "_bucket", **labels, le="0.01") == 0.0


def test_correlation_ids_are_on_spans_and_never_on_metrics(kfm, spans):
    ids = {key: f"{key}-value-7" for key in c.CORRELATION_IDS}
    with kfm.pipeline_run("d", "raw", run_id=ids["run_id"], dataset_version_id=ids["dataset_version_id"]):
        pass
    kfm.promotion("d", {"schema": "pass"}, dataset_version_id=ids["dataset_version_id"], audit_ref=ids["audit_ref"])
    kfm.record_evidence_resolution("resolved", 0.1, audit_ref=ids["audit_ref"])
    kfm.policy_decision("deny", "/v1/query", True, audit_ref=ids["audit_ref"])
    on_spans = {(key, val) for span in spans[0].get_finished_spans() for key, val in span.attributes.items()}
    assert set(ids.items()) <= on_spans
    for (_, labels), _ in samples(kfm).items():
        assert not set(dict(labels)) & set(c.CORRELATION_IDS)
        assert not set(dict(labels).values()) & set(ids.values())
    assert not any(key in line for line in kfm.exposition().splitlines() for key in c.CORRELATION_IDS)


def test_each_instance_has_its_own_registry():
    first, second = KfmInstruments(), KfmInstruments()
    first.focus_answer("answered")
    assert value(first, c.FOCUS_ANSWERS, outcome="answered") == 1.0
    assert value(second, c.FOCUS_ANSWERS, outcome="answered") == 0.0
