"""KFM's metric contract: what KFM services expose, and the spans they start.

No dependencies, so the instrumentation helpers (this package) and the compiler (generator/,
through generator.conventions) read the same names, labels, bounded values and buckets.
docs/metrics.md documents it.
"""
from __future__ import annotations

# --- the metric contract: what KFM services expose --------------------------

PIPELINE_RUNS = "kfm_pipeline_runs_total"                       # counter
PIPELINE_RUN_DURATION = "kfm_pipeline_run_duration_seconds"     # histogram
DATASET_LAST_SUCCESS = "kfm_dataset_last_success_timestamp_seconds"  # gauge
PROMOTION_GATE_RESULTS = "kfm_promotion_gate_results_total"     # counter
PROMOTIONS = "kfm_promotions_total"                             # counter
EVIDENCE_RESOLUTIONS = "kfm_evidence_resolutions_total"         # counter
EVIDENCE_RESOLUTION_DURATION = "kfm_evidence_resolution_duration_seconds"  # histogram
FOCUS_ANSWERS = "kfm_focus_answers_total"                       # counter
POLICY_DECISIONS = "kfm_policy_decisions_total"                 # counter
HTTP_SERVER_DURATION = "http_server_request_duration_seconds"   # histogram (OTel semconv)

# Span metrics from the collector's span_metrics connector (RED for evidence
# resolution and Focus Mode traces). The namespace "kfm.spans" becomes these
# Prometheus names.
SPAN_METRICS_NAMESPACE = "kfm.spans"
SPAN_CALLS = "kfm_spans_calls_total"                            # counter
SPAN_DURATION = "kfm_spans_duration_seconds"                    # histogram
SPAN_SERVICE = "service_name"
SPAN_NAME = "span_name"
SPAN_STATUS = "status_code"
SPAN_KIND = "span_kind"
EVIDENCE_SERVICE = "evidence-resolver"                          # service.name of the KFM services
FOCUS_SERVICE = "focus-mode"
API_SERVICE = "governed-api"
PIPELINE_SERVICE = "pipeline-runner"


# --- labels on those metrics, with their bounded values ---------------------

DATASET = "dataset"
STAGE = "stage"
STATUS = "status"
GATE = "gate"
RESULT = "result"
WORST_GATE_RESULT = "worst_gate_result"
OUTCOME = "outcome"
DECISION = "decision"
ROUTE = "route"
POLICY_LABEL = "policy_label"
HTTP_ROUTE = "http_route"
HTTP_STATUS = "http_response_status_code"
DECISION_CLASS = "kfm_decision"

EVIDENCE_OUTCOMES = ("resolved", "unresolved", "error")
FOCUS_OUTCOMES = ("answered", "abstained", "error")
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    STATUS: ("success", "failure"),
    RESULT: ("pass", "fail", "error"),
    WORST_GATE_RESULT: ("pass", "fail", "error"),
    DECISION: ("allow", "deny", "error"),
    DECISION_CLASS: ("allow", "deny", "error"),
    POLICY_LABEL: ("present", "missing"),
}

# Each metric's type and labels; a tuple lists a bounded label's values,
# None marks a label whose values are open (dataset names, routes).
METRIC_LABELS: dict[str, tuple[str, dict[str, tuple[str, ...] | None]]] = {
    PIPELINE_RUNS: ("counter", {DATASET: None, STAGE: None, STATUS: LABEL_VALUES[STATUS]}),
    PIPELINE_RUN_DURATION: ("histogram", {DATASET: None, STAGE: None}),
    DATASET_LAST_SUCCESS: ("gauge", {DATASET: None}),
    PROMOTION_GATE_RESULTS: ("counter", {DATASET: None, GATE: None, RESULT: LABEL_VALUES[RESULT]}),
    PROMOTIONS: ("counter", {DATASET: None, WORST_GATE_RESULT: LABEL_VALUES[WORST_GATE_RESULT]}),
    EVIDENCE_RESOLUTIONS: ("counter", {OUTCOME: EVIDENCE_OUTCOMES}),
    EVIDENCE_RESOLUTION_DURATION: ("histogram", {}),
    FOCUS_ANSWERS: ("counter", {OUTCOME: FOCUS_OUTCOMES}),
    POLICY_DECISIONS: ("counter", {DECISION: LABEL_VALUES[DECISION], ROUTE: None,
                                   POLICY_LABEL: LABEL_VALUES[POLICY_LABEL]}),
    HTTP_SERVER_DURATION: ("histogram", {HTTP_ROUTE: None, HTTP_STATUS: None,
                                         DECISION_CLASS: LABEL_VALUES[DECISION_CLASS]}),
    SPAN_CALLS: ("counter", {SPAN_SERVICE: None, SPAN_NAME: None, SPAN_KIND: None, SPAN_STATUS: None}),
    SPAN_DURATION: ("histogram", {SPAN_SERVICE: None, SPAN_NAME: None, SPAN_KIND: None, SPAN_STATUS: None}),
}

HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def known_label_values(metric: str, label: str) -> tuple[str, ...]:
    """Bounded values of a label of a contract metric (histogram suffixes allowed)."""
    for suffix in ("",) + HISTOGRAM_SUFFIXES:
        base = metric[: -len(suffix)] if suffix and metric.endswith(suffix) else metric
        if base in METRIC_LABELS:
            return METRIC_LABELS[base][1].get(label) or ()
    return LABEL_VALUES.get(label, ())


# Histogram buckets (seconds). A latency SLO threshold must be one of these.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
PIPELINE_DURATION_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
HISTOGRAM_BUCKETS = {
    EVIDENCE_RESOLUTION_DURATION: LATENCY_BUCKETS,
    HTTP_SERVER_DURATION: LATENCY_BUCKETS,
    PIPELINE_RUN_DURATION: PIPELINE_DURATION_BUCKETS,
}

# Native histograms (Prometheus 3: one series, exponential buckets, no `le`), by the name a
# selector uses. The governed API's services that are instrumented with the OpenTelemetry SDK
# export http.server.request.duration over OTLP; Prometheus (its OTLP receiver, or the collector's
# remote write) stores it as a native histogram under the classic histogram's base name, so the
# two coexist while services migrate (_bucket/_count/_sum are the classic one's series).
NATIVE_HISTOGRAMS: dict[str, dict[str, tuple[str, ...] | None]] = {
    HTTP_SERVER_DURATION: {HTTP_ROUTE: None, HTTP_STATUS: None, DECISION_CLASS: LABEL_VALUES[DECISION_CLASS]},
}

# Correlation IDs live on spans and logs only, never on metric labels.
CORRELATION_IDS = ("run_id", "audit_ref", "dataset_version_id")

# Spans the instrumentation helpers (kfm_instrument) start; a name
# becomes span_name on the span metrics.
PIPELINE_RUN_SPAN = "pipeline-run"
PROMOTION_SPAN = "promotion"
EVIDENCE_RESOLUTION_SPAN = "resolve-evidence"
POLICY_DECISION_SPAN = "policy-decision"
