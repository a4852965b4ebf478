"""The one place that names things: source metrics, labels, recorded series,
rule groups, alerts, files and dashboard uids.

Rules, tests, dashboards, the collector config and instrumentation helpers
all read names from here, so a name is typed exactly once. docs/metrics.md
documents the contract.
"""
from __future__ import annotations

import re
from decimal import Decimal

from .durations import format_duration

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

# Spans the instrumentation helpers (generator/instrument.py) start; a name
# becomes span_name on the span metrics.
PIPELINE_RUN_SPAN = "pipeline-run"
PROMOTION_SPAN = "promotion"
EVIDENCE_RESOLUTION_SPAN = "resolve-evidence"
POLICY_DECISION_SPAN = "policy-decision"

# --- labels the generator puts on what it records and alerts ----------------

SLO_LABEL = "slo"
SERVICE_LABEL = "service"
TEAM_LABEL = "team"
SEVERITY_LABEL = "severity"
TIER_LABEL = "tier"
LONG_WINDOW_LABEL = "long_window"
SHORT_WINDOW_LABEL = "short_window"
BURN_RATE_LABEL = "burn_rate"
PERIOD_LABEL = "period"
OBJECTIVE_LABEL = "objective"
ENVIRONMENT_LABEL = "deployment_environment_name"  # added to every alert by the overlays
RESERVED_LABELS = frozenset({
    SLO_LABEL, SERVICE_LABEL, TEAM_LABEL, SEVERITY_LABEL, TIER_LABEL, LONG_WINDOW_LABEL,
    SHORT_WINDOW_LABEL, BURN_RATE_LABEL, PERIOD_LABEL, OBJECTIVE_LABEL, "alertname",
    ENVIRONMENT_LABEL,
})

# --- recorded series --------------------------------------------------------

BASE_WINDOW_SECONDS = 300  # short recordings that every longer window is staged on
RECORDED_PREFIX = "kfm_slo:"   # every series the generator records starts with it
BAD_EVENTS_RATE = RECORDED_PREFIX + "bad_events:rate5m"
TOTAL_EVENTS_RATE = RECORDED_PREFIX + "total_events:rate5m"
DATASET_STALE = RECORDED_PREFIX + "dataset_stale:bool"
FRESHNESS_MAX_AGE = RECORDED_PREFIX + "freshness_max_age:seconds"
PERIOD_ERROR_RATIO = RECORDED_PREFIX + "error_ratio:period"
OBJECTIVE = RECORDED_PREFIX + "objective:ratio"
ERROR_BUDGET = RECORDED_PREFIX + "error_budget:ratio"
BUDGET_REMAINING = RECORDED_PREFIX + "error_budget_remaining:period"
PERIOD_BURN_RATE = RECORDED_PREFIX + "burn_rate:period"
BUDGET_TIME_LEFT = RECORDED_PREFIX + "error_budget_time_left:seconds"
# The burn a window pair's alert compares with its factor: the lower of its
# two windows' burn rates (both must exceed the factor).
PAIR_BURN_RATE = RECORDED_PREFIX + "burn_rate:pair"


def error_ratio(window_seconds: int) -> str:
    return f"{RECORDED_PREFIX}error_ratio:{format_duration(window_seconds)}"


def burn_rate(window_seconds: int) -> str:
    return f"{RECORDED_PREFIX}burn_rate:{format_duration(window_seconds)}"


# --- rule groups, alerts, files, dashboards ---------------------------------

def rule_group(slo_name: str) -> str:
    return f"kfm-slo-{slo_name}"


def budget_rule_group(slo_name: str) -> str:
    return f"kfm-slo-{slo_name}-budget"


# The budget group holds what no alert reads (the period ratio, which reads a
# whole period of recordings, remaining budget, burn rates): evaluating it
# every 2m instead of every tick costs half or less.
BUDGET_GROUP_INTERVAL = "2m"  # under the 5m lookback, so queries never fall in a gap


INVARIANTS_GROUP = "kfm-invariants"


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_ ]+", name) if part)


def burn_alert(slo_name: str, tier: str) -> str:
    """One alert name per SLO and tier; window pairs are told apart by labels."""
    return f"{pascal(slo_name)}ErrorBudgetBurn{pascal(tier)}"


def no_data_alert(slo_name: str) -> str:
    return f"{pascal(slo_name)}SLINoData"


def rules_file(stem: str) -> str:
    """Plain rule file: one per SLO (stem = SLO name), plus the invariants file."""
    return f"prometheus/rules/{stem}.rules.yaml"


def rules_test_file(slo_name: str) -> str:
    return f"prometheus/tests/{slo_name}.test.yaml"


def sampled_rules_file(slo_name: str) -> str:
    """A freshness SLO's rules over a sample of its datasets, for generated tests (thousands of datasets)."""
    return f"prometheus/tests/{slo_name}.sampled.rules.yaml"


# --- the GitOps tree: a kustomize base and one overlay per environment --------
# Mirrors infra/addons/ of the platform repository.

GITOPS_ROOT = "addons/observability"
GITOPS_BASE = f"{GITOPS_ROOT}/base"


def prometheus_rule_file(service: str) -> str:
    return f"{GITOPS_BASE}/prometheusrules/{service}.yaml"


def overlay_dir(env: str) -> str:
    return f"{GITOPS_ROOT}/env/{env}"


def overlay_patch_file(env: str, name: str) -> str:
    return f"{overlay_dir(env)}/patches/{name}.yaml"


def kustomization_file(folder: str) -> str:
    return f"{folder}/kustomization.yaml"


COLLECTOR_OBJECT_FILE = f"{GITOPS_BASE}/opentelemetrycollector.yaml"
COLLECTOR_OBJECT_NAME = "kfm"
# Label every rendered Kubernetes object carries with its environment (the
# OpenTelemetry resource attribute's name); alerts carry ENVIRONMENT_LABEL.
ENVIRONMENT_OBJECT_LABEL = "deployment.environment.name"


def prometheus_rule_name(service: str) -> str:
    return f"kfm-slo-{service}"


INVARIANTS_FILE_STEM = "invariants"


SLO_DASHBOARD_PREFIX = "kfm-slo-"
MAX_SLO_NAME = 40 - len(SLO_DASHBOARD_PREFIX)  # Grafana uids hold 40 characters


def slo_dashboard_uid(slo_name: str) -> str:
    """Stable uid of the SLO detail dashboard."""
    return f"{SLO_DASHBOARD_PREFIX}{slo_name}"


OVERVIEW_DASHBOARD_UID = "kfm-slo-overview"
FRESHNESS_DASHBOARD_UID = "kfm-dataset-freshness"
EVIDENCE_DASHBOARD_UID = "kfm-evidence-focus"
API_DASHBOARD_UID = "kfm-governed-api"
# Panel ids of the SLO detail dashboard that alerts link to (viewPanel=).
SLO_BURN_PANEL_FIRST_ID = 6  # the burn-rate panel of window pair i has id 6 + i


# --- OpenTelemetry Collector -------------------------------------------------

OTEL_COLLECTOR_VERSION = "0.161.0"      # one release for every component
OTEL_PROVIDER_VERSION = "1.67.0"        # confmap providers of that release
OTEL_IMAGE = f"otel/opentelemetry-collector-contrib:{OTEL_COLLECTOR_VERSION}"  # has every component used
OTEL_DISTRIBUTION = "kfm-otelcol"


def collector_config_file(env: str) -> str:
    return f"otel/{env}/collector.yaml"


COLLECTOR_BUILDER_MANIFEST = "otel/builder-config.yaml"


# Where out/runbooks/ is published (the repository's web view); an alert's
# runbook_url points at its generated runbook there.
RUNBOOK_BASE_URL = "https://git.kfm.example/kfm/observability/-/blob/main/out/runbooks"


# Where Grafana serves the dashboards; runbooks are read on the git host, so
# their dashboard links are absolute (alerts' dashboard_url stays relative).
GRAFANA_BASE_URL = "https://grafana.kfm.example"


def runbook_file(alert: str) -> str:
    return f"runbooks/{alert}.md"


def runbook_url(alert: str) -> str:
    return f"{RUNBOOK_BASE_URL}/{alert}.md"


def alertmanager_file(env: str) -> str:
    return f"alertmanager/{env}.yaml"


def slo_matcher(slo_name: str) -> str:
    """The {slo="<name>"} matcher every recorded series of an SLO is selected by (SLO names need no escaping)."""
    return f'{{{SLO_LABEL}="{slo_name}"}}'


# The line a generated test file carries when only promtool 3.x can run it (native histograms).
NEEDS_PROMETHEUS_3 = "# Needs promtool 3.x (Prometheus 3)"


def dashboard_file(uid: str) -> str:
    return f"grafana/dashboards/{uid}.json"


def dashboard_configmap_file(uid: str) -> str:
    return f"{GITOPS_BASE}/grafana-dashboards/{uid}.yaml"


def go_float(value: float) -> str:
    """Go's strconv.FormatFloat(value, 'g', -1, 64): how Go clients and the collector write `le`.

    Shortest digits, as Python's repr finds them; exponent form below 1e-4 and from 1e6 on
    (0.0001, 1e-05, 100000, 1e+06, 1.5e+07).
    """
    number = Decimal(repr(float(value)))
    sign, digits, exponent = number.normalize().as_tuple()
    assert isinstance(exponent, int), f"{value!r} is not finite"
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent  # where the decimal point falls after the digits' first
    minus = "-" if sign else ""
    if mantissa == "0":
        return "0"
    power = point - 1
    if power < -4 or power >= 6:
        head, tail = mantissa[0], mantissa[1:]
        return f"{minus}{head}{'.' + tail if tail else ''}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{mantissa}"
    if point >= len(mantissa):
        return f"{minus}{mantissa}{'0' * (point - len(mantissa))}"
    return f"{minus}{mantissa[:point]}.{mantissa[point:]}"


def le_spellings(threshold: float) -> tuple[str, ...]:
    """Every way a bucket boundary reaches Prometheus as an `le` label value, sorted.

    Go clients and the collector write Go's shortest form ("1", "0.3", "1e+06"); Prometheus 3
    normalises classic-histogram `le` values on scrape to the OpenMetrics form, which adds ".0"
    to a whole number without an exponent ("1.0"); prometheus-client (Python) writes the same
    ".0" from repr and switches to Go's exponent form from 1e6 on ("1e+06").
    """
    return tuple(sorted({go_float(threshold), le_normalised(threshold)}))


def le_normalised(threshold: float) -> str:
    """The `le` value Prometheus 3 stores for a bucket boundary (OpenMetrics' float form)."""
    go = go_float(threshold)
    return go if any(ch in go for ch in "e.") else f"{go}.0"


def le_matcher_value(threshold: float) -> tuple[str, str]:
    """Matcher (op, value) that selects a bucket boundary however it was written.

    One spelling is an equality; two (a whole number: "1" from Go clients and Prometheus 2.x,
    "1.0" from Prometheus 3.x and prometheus-client) are an anchored alternation.
    """
    spellings = le_spellings(threshold)
    if len(spellings) == 1:
        return "=", spellings[0]
    return "=~", "|".join(spelling.replace(".", "\\.").replace("+", "\\+") for spelling in spellings)
