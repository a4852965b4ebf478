"""The one place that names things: source metrics, labels, recorded series,
rule groups, alerts, files and dashboard uids.

Rules, tests, dashboards, the collector config and instrumentation helpers
all read names from here, so a name is typed exactly once. docs/metrics.md
documents the contract.
"""
from __future__ import annotations

import re
from decimal import Decimal

from generator.model.durations import format_duration

# --- the metric contract: what KFM services expose (kfm_instrument/contract.py owns it) ----

from kfm_instrument.contract import *  # noqa: E402,F401,F403  (re-exported: definitions read c.<name>)

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

BASE_WINDOW_SECONDS = 300  # the 5m rates: the short window of the fast page pair, and the min_events guard
FINE_WINDOW_SECONDS = 120  # the 2m rates every longer window sums: a minute's events count in full a minute later
RECORDED_PREFIX = "kfm_slo:"   # every series the generator records starts with it
BAD_EVENTS_RATE = RECORDED_PREFIX + "bad_events:rate5m"
TOTAL_EVENTS_RATE = RECORDED_PREFIX + "total_events:rate5m"
BAD_EVENTS_FINE_RATE = RECORDED_PREFIX + "bad_events:rate2m"
TOTAL_EVENTS_FINE_RATE = RECORDED_PREFIX + "total_events:rate2m"


# An environment over Prometheus shards (model.environments.ThanosRuler): each shard records its raw
# series' rates under these names; the Thanos Ruler records their sums across shards under the usual ones.
SHARD_RECORDED_PREFIX = "kfm_slo_shard:"
SHARD_HEARTBEAT = SHARD_RECORDED_PREFIX + "up"   # 1 on every shard, every evaluation: its absence names a shard


def shard_record(record: str) -> str:
    """The name a shard records one of an SLO's raw-reading recordings under."""
    assert record.startswith(RECORDED_PREFIX), record
    return SHARD_RECORDED_PREFIX + record[len(RECORDED_PREFIX):]


def fine_window(base: int) -> int:
    """Seconds of the fine rates for a staging base: 2m for the 5m base, scaled with a compressed period's
    base (whole seconds, at least 2: two samples at a 1s scrape)."""
    return max(2, round(base * FINE_WINDOW_SECONDS / BASE_WINDOW_SECONDS))
# Tiles (generator/model/windows.py says which windows read them): the bad and total sums over the last
# 10m, recorded every 5m by a group of their own, read at 10m steps by long ticket windows and the period.
TILE_SECONDS = 600
TILE_RECORD_INTERVAL_SECONDS = 300
BAD_TILE_SUM = f"{RECORDED_PREFIX}bad:sum{format_duration(TILE_SECONDS)}"
TOTAL_TILE_SUM = f"{RECORDED_PREFIX}total:sum{format_duration(TILE_SECONDS)}"
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


def tiles_rule_group(slo_name: str) -> str:
    """The group that records an SLO's tiles, at its own interval (windows.TILE_RECORD_INTERVAL)."""
    return f"kfm-slo-{slo_name}-tiles"


def constants_rule_group(slo_name: str, part: int) -> str:
    """A group of an SLO's constants (a freshness SLO's max ages) when they are too many for its alerting group."""
    return f"kfm-slo-{slo_name}-constants-{part}"


def shard_rule_group(slo_name: str) -> str:
    """The group each shard's Prometheus evaluates for an SLO (its raw series' rates)."""
    return f"kfm-slo-{slo_name}-shard"


SHARD_HEARTBEAT_GROUP = "kfm-shard-heartbeat"
THANOS_HEALTH_GROUP = "kfm-thanos-health"   # on the Thanos Ruler: missing shards, its own failures
SHARD_MISSING_ALERT = "KfmThanosShardMissing"
RULER_FAILURES_ALERT = "KfmThanosRulerEvaluationFailures"


# The budget group holds what changes only with the tiles (the period ratio, which reads a whole
# period of them, and the long ticket windows read from them, which the ticket alerts read) and what
# no alert reads (remaining budget, burn rates): evaluating it every 4m instead of every tick costs a
# quarter (a tiled window lags by up to 15m anyway).
BUDGET_GROUP_INTERVAL = "4m"  # under the 5m lookback, so queries never fall in a gap


INVARIANTS_GROUP = "kfm-invariants"


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_ ]+", name) if part)


def burn_alert(slo_name: str, tier: str) -> str:
    """One alert name per SLO and tier; window pairs are told apart by labels."""
    return f"{pascal(slo_name)}ErrorBudgetBurn{pascal(tier)}"


def no_data_alert(slo_name: str) -> str:
    return f"{pascal(slo_name)}SLINoData"


# Folders of out/ (every output path below is built from one of these).
RULES_DIR = "prometheus/rules/"
TESTS_DIR = "prometheus/tests/"
DASHBOARDS_DIR = "grafana/dashboards/"
RUNBOOKS_DIR = "runbooks/"
OTEL_DIR = "otel/"
ALERTMANAGER_DIR = "alertmanager/"


THANOS_DIR = "thanos/"   # per environment over shards: the shards' and the ruler's rule files, the ThanosRuler


def thanos_shard_rules_file(env: str, stem: str) -> str:
    """A plain rule file for every shard's Prometheus of a sharded environment."""
    return f"{THANOS_DIR}{env}/shards/{stem}.rules.yaml"


def thanos_ruler_rules_file(env: str, stem: str) -> str:
    """A plain rule file for the Thanos Ruler of a sharded environment (`thanos tools rules-check`)."""
    return f"{THANOS_DIR}{env}/ruler/{stem}.rules.yaml"


def thanos_ruler_object_file(env: str) -> str:
    return f"{THANOS_DIR}{env}/thanosruler.yaml"


def thanos_rule_object_file(env: str, stem: str) -> str:
    """A PrometheusRule of a sharded environment: `shard-<service>` (its shards' Prometheus select it),
    `ruler-<service>` (the ThanosRuler selects it), and the heartbeat's, health's and invariants'."""
    return f"{THANOS_DIR}{env}/prometheusrules/{stem}.yaml"


def rules_file(stem: str) -> str:
    """Plain rule file: one per SLO (stem = SLO name), plus the invariants file."""
    return f"{RULES_DIR}{stem}.rules.yaml"


def rules_test_file(slo_name: str) -> str:
    return f"{TESTS_DIR}{slo_name}.test.yaml"


def sampled_rules_file(slo_name: str) -> str:
    """A freshness SLO's rules over a sample of its datasets, for generated tests (thousands of datasets)."""
    return f"prometheus/tests/{slo_name}.sampled.rules.yaml"


# --- the GitOps tree: a kustomize base and one overlay per environment --------
# Mirrors infra/addons/ of the platform repository.

GITOPS_ROOT = "addons/observability"
GITOPS_BASE = f"{GITOPS_ROOT}/base"


def prometheus_rule_file(service: str, part: int = 1) -> str:
    """The PrometheusRule file of a service; part 2, 3, ... when its rules are split across objects."""
    return f"{GITOPS_BASE}/prometheusrules/{rule_object_stem(service, part)}.yaml"


def rule_object_stem(service: str, part: int = 1) -> str:
    """A service's name, or `<service>-part<N>` for the N-th object of a service split by size."""
    return service if part == 1 else f"{service}-part{part}"


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


OVERVIEW_DASHBOARD_UID = "kfm-slo-overview"  # other dashboards are definitions (dashboards/): they own their uids
# Panel ids of the SLO detail dashboard that alerts link to (viewPanel=).
SLO_BURN_PANEL_FIRST_ID = 6  # the burn-rate panel of window pair i has id 6 + i


# --- OpenTelemetry Collector -------------------------------------------------

OTEL_COLLECTOR_VERSION = "0.161.0"      # one release for every component
OTEL_PROVIDER_VERSION = "1.67.0"        # confmap providers of that release
OTEL_IMAGE = f"otel/opentelemetry-collector-contrib:{OTEL_COLLECTOR_VERSION}"  # has every component used
OTEL_DISTRIBUTION = "kfm-otelcol"


def collector_config_file(env: str) -> str:
    return f"{OTEL_DIR}{env}/collector.yaml"


COLLECTOR_BUILDER_MANIFEST = OTEL_DIR + "builder-config.yaml"


# Where out/runbooks/ is published (the repository's web view); an alert's
# runbook_url points at its generated runbook there.
RUNBOOK_BASE_URL = "https://git.kfm.example/kfm/observability/-/blob/main/out/runbooks"


# Where Grafana serves the dashboards; runbooks are read on the git host, so
# their dashboard links are absolute (alerts' dashboard_url stays relative).
GRAFANA_BASE_URL = "https://grafana.kfm.example"


def runbook_file(alert: str) -> str:
    return f"{RUNBOOKS_DIR}{alert}.md"


def runbook_url(alert: str) -> str:
    return f"{RUNBOOK_BASE_URL}/{alert}.md"


def alertmanager_file(env: str) -> str:
    return f"{ALERTMANAGER_DIR}{env}.yaml"


def slo_matcher(slo_name: str) -> str:
    """The {slo="<name>"} matcher every recorded series of an SLO is selected by (SLO names need no escaping)."""
    return f'{{{SLO_LABEL}="{slo_name}"}}'


# The line a generated test file carries when only promtool 3.x can run it (native histograms).
NEEDS_PROMETHEUS_3 = "# Needs promtool 3.x (Prometheus 3)"


def dashboard_file(uid: str) -> str:
    return f"{DASHBOARDS_DIR}{uid}.json"


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
