"""Telemetry definitions -> OpenTelemetry Collector configuration (one release pinned).

Pipelines, per environment (the redaction policy is generator/model/redaction.py):
  traces             otlp -> memory_limiter, redact, allow-list + mask values, mask names, environment,
                     tail_sampling, batch -> Tempo
  traces/spanmetrics otlp -> memory_limiter, redact, allow-list + mask values, mask names,
                     keep RED services' spans -> span_metrics (before sampling)
  metrics            otlp, span_metrics -> memory_limiter, redact, drop correlation IDs, mask values,
                     environment, batch -> Prometheus remote write
  logs               otlp -> memory_limiter, redact, allow-list + mask values (bodies too), environment,
                     batch -> Loki (OTLP/HTTP)
Endpoints and credentials are ${env:...} references. A local variant (for the
end-to-end test) swaps the exporters for files and a Prometheus endpoint on 127.0.0.1.
"""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass
from pathlib import Path

from generator import conventions as c
from generator.model import redaction
from generator.model.environments import Environment
from generator.model.telemetry import Telemetry

CORE = "go.opentelemetry.io/collector"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"
# Component type (as named in the pinned release) -> Go module providing it.
COMPONENT_MODULES = {
    ("receivers", "otlp"): f"{CORE}/receiver/otlpreceiver",
    ("processors", "memory_limiter"): f"{CORE}/processor/memorylimiterprocessor",
    ("processors", "batch"): f"{CORE}/processor/batchprocessor",
    ("processors", "attributes"): f"{CONTRIB}/processor/attributesprocessor",
    ("processors", "redaction"): f"{CONTRIB}/processor/redactionprocessor",
    ("processors", "transform"): f"{CONTRIB}/processor/transformprocessor",
    ("processors", "filter"): f"{CONTRIB}/processor/filterprocessor",
    ("processors", "tail_sampling"): f"{CONTRIB}/processor/tailsamplingprocessor",
    ("connectors", "span_metrics"): f"{CONTRIB}/connector/spanmetricsconnector",
    ("exporters", "otlp_grpc"): f"{CORE}/exporter/otlpexporter",
    ("exporters", "otlp_http"): f"{CORE}/exporter/otlphttpexporter",
    ("exporters", "debug"): f"{CORE}/exporter/debugexporter",
    ("exporters", "prometheus_remote_write"): f"{CONTRIB}/exporter/prometheusremotewriteexporter",
    ("exporters", "prometheus"): f"{CONTRIB}/exporter/prometheusexporter",
    ("exporters", "file"): f"{CONTRIB}/exporter/fileexporter",
    ("extensions", "health_check"): f"{CONTRIB}/extension/healthcheckextension",
}
PROVIDERS = ("envprovider", "fileprovider", "yamlprovider")

# Environment variables the deployment sets (from its secret store); never literals here.
ENDPOINT_VARS = {
    "tempo": ("KFM_TEMPO_OTLP_ENDPOINT", "KFM_TEMPO_AUTHORIZATION"),
    "loki": ("KFM_LOKI_OTLP_ENDPOINT", "KFM_LOKI_AUTHORIZATION"),
    "remote_write": ("KFM_PROMETHEUS_REMOTE_WRITE_URL", "KFM_PROMETHEUS_REMOTE_WRITE_AUTHORIZATION"),
}
ENVIRONMENT_ATTRIBUTE = "deployment.environment.name"


@dataclass(frozen=True)
class LocalSinks:
    """Where a local (test) collector listens and writes."""

    grpc_port: int
    http_port: int
    health_port: int
    telemetry_port: int
    prometheus_port: int
    traces_file: Path
    logs_file: Path


def _env(name: str) -> str:
    return f"${{env:{name}}}"


def _duration(seconds: float) -> str:
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def _redact_actions(t: Telemetry) -> list[dict[str, Any]]:
    return ([{"key": key, "action": "delete"} for key in t.delete_attributes]
            + [{"key": key, "action": "hash"} for key in t.hash_attributes])


def _environment(env: str) -> dict[str, Any]:
    statement = [{"context": "resource",
                  "statements": [f'set(attributes["{ENVIRONMENT_ATTRIBUTE}"], "{env}")']}]
    return {"error_mode": "ignore", "trace_statements": statement, "metric_statements": statement,
            "log_statements": statement}


def _tail_sampling(t: Telemetry, env: Environment, decision_wait: str) -> dict[str, Any]:
    return {
        "decision_wait": decision_wait,
        "num_traces": 50000,
        "expected_new_traces_per_sec": 100,
        "policies": [
            {"name": "keep-errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
            {"name": "keep-slow-evidence-and-focus", "type": "and", "and": {"and_sub_policy": [
                {"name": "slow-trace-services", "type": "string_attribute",
                 "string_attribute": {"key": "service.name", "values": list(t.slow_trace_services)}},
                {"name": "slow", "type": "latency", "latency": {"threshold_ms": t.slow_trace_ms}},
            ]}},
            {"name": "sample-the-rest", "type": "probabilistic",
             "probabilistic": {"sampling_percentage": env.trace_sampling_percent}},
        ],
    }


def config(t: Telemetry, env: Environment, local: LocalSinks | None = None) -> dict[str, Any]:
    host = "127.0.0.1" if local else "0.0.0.0"
    red = " or ".join(f'resource.attributes["service.name"] == "{s}"' for s in t.red_services) or "false"
    processors = {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": env.memory_limit_percent,
                           "spike_limit_percentage": 20},
        "attributes/redact": {"actions": _redact_actions(t)},
        "attributes/no_correlation_ids": {"actions": [{"key": k, "action": "delete"} for k in c.CORRELATION_IDS]},
        "transform/environment": _environment(env.name),
        "filter/red_services": {"error_mode": "ignore", "traces": {"span": [f"not ({red})"]}},
        "tail_sampling": _tail_sampling(t, env, "1s" if local else "10s"),
        "batch": {"timeout": "1s" if local else "5s", "send_batch_size": 8192},
    }
    masked = redaction.patterns(t.blocked_value_patterns)
    # Fail-closed: a key not on the allow-list is dropped (and counted on the span or log record).
    processors["redaction/allow_list"] = {"allow_all_keys": False, "allowed_keys": t.allowed(env),
                                          "blocked_values": masked, "summary": "info"}
    processors["transform/mask_names"] = redaction.masking_statements(t.blocked_value_patterns)
    # Metric labels are the contract's (the SLIs read them): values are masked, no key is dropped.
    processors["redaction/metric_values"] = {"allow_all_keys": True, "blocked_values": masked,
                                             "summary": "silent"}
    masking = ["redaction/allow_list", "transform/mask_names"]
    if local:
        exporters: dict[str, Any] = {
            "file/traces": {"path": str(local.traces_file)},
            "file/logs": {"path": str(local.logs_file)},
            "prometheus": {"endpoint": f"127.0.0.1:{local.prometheus_port}"},
        }
        traces_out, metrics_out, logs_out = ["file/traces"], ["prometheus"], ["file/logs"]
    else:
        tempo, loki, rw = ENDPOINT_VARS["tempo"], ENDPOINT_VARS["loki"], ENDPOINT_VARS["remote_write"]
        exporters = {
            "otlp_grpc/tempo": {"endpoint": _env(tempo[0]), "headers": {"authorization": _env(tempo[1])}},
            "otlp_http/loki": {"endpoint": _env(loki[0]), "headers": {"authorization": _env(loki[1])}},
            "prometheus_remote_write": {"endpoint": _env(rw[0]), "headers": {"authorization": _env(rw[1])},
                                        "resource_to_telemetry_conversion": {"enabled": False}},
        }
        traces_out, metrics_out, logs_out = ["otlp_grpc/tempo"], ["prometheus_remote_write"], ["otlp_http/loki"]
        if env.debug_exporter:
            exporters["debug"] = {"verbosity": "basic"}
            traces_out, logs_out = traces_out + ["debug"], logs_out + ["debug"]
    grpc = local.grpc_port if local else 4317
    http = local.http_port if local else 4318
    return {
        "extensions": {"health_check": {"endpoint": f"{host}:{local.health_port if local else 13133}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{host}:{grpc}"},
                                             "http": {"endpoint": f"{host}:{http}"}}}},
        "processors": processors,
        "connectors": {"span_metrics": {
            "namespace": c.SPAN_METRICS_NAMESPACE,
            "histogram": {"unit": "s", "explicit": {"buckets": [_duration(b) for b in c.LATENCY_BUCKETS]}},
            "dimensions": [],
            "aggregation_cardinality_limit": t.span_metrics_cardinality_limit,
            "metrics_flush_interval": "1s" if local else "15s",
        }},
        "exporters": exporters,
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"logs": {"level": "info"}, "metrics": {"level": "normal", "readers": [
                {"pull": {"exporter": {"prometheus": {"host": host,
                                                      "port": local.telemetry_port if local else 8888}}}}]}},
            "pipelines": {
                "traces": {"receivers": ["otlp"],
                           "processors": ["memory_limiter", "attributes/redact", *masking, "transform/environment",
                                          "tail_sampling", "batch"],
                           "exporters": traces_out},
                "traces/spanmetrics": {"receivers": ["otlp"],
                                       "processors": ["memory_limiter", "attributes/redact", *masking,
                                                      "filter/red_services"],
                                       "exporters": ["span_metrics"]},
                "metrics": {"receivers": ["otlp", "span_metrics"],
                            "processors": ["memory_limiter", "attributes/redact", "attributes/no_correlation_ids",
                                           "redaction/metric_values", "transform/environment", "batch"],
                            "exporters": metrics_out},
                "logs": {"receivers": ["otlp"],
                         "processors": ["memory_limiter", "attributes/redact", "redaction/allow_list",
                                        "transform/environment", "batch"],
                         "exporters": logs_out},
            },
        },
    }


def order_problems(cfg: dict[str, Any]) -> list[str]:
    """What `collector validate` does not check: memory_limiter first, batch last,
    redaction before any exporter, no correlation IDs left on metrics."""
    problems = []
    for name, pipeline in cfg["service"]["pipelines"].items():
        processors = pipeline.get("processors", [])
        if not processors or processors[0] != "memory_limiter":
            problems.append(f"pipeline {name}: memory_limiter must come first")
        if "batch" in processors and processors[-1] != "batch":
            problems.append(f"pipeline {name}: batch must come last")
        if "attributes/redact" not in processors:
            problems.append(f"pipeline {name}: attributes/redact must run before its exporters")
        if name != "metrics" and "redaction/allow_list" not in processors:
            problems.append(f"pipeline {name}: redaction/allow_list must run before its exporters")
        if name == "metrics" and "attributes/no_correlation_ids" not in processors:
            problems.append("pipeline metrics: correlation IDs must be dropped from metrics")
    return problems


def components(configs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, type) of every component the configs use, sorted."""
    used = set()
    for cfg in configs:
        for kind in ("receivers", "processors", "connectors", "exporters", "extensions"):
            for name in cfg.get(kind, {}):
                used.add((kind, name.split("/")[0]))
    return sorted(used)


def builder_manifest(configs: list[dict[str, Any]]) -> dict[str, Any]:
    manifest: dict[str, Any] = {"dist": {"name": c.OTEL_DISTRIBUTION, "description": "KFM OpenTelemetry Collector",
                               "module": "example.com/kfm/kfm-otelcol", "output_path": "./dist",
                               "version": f"{c.OTEL_COLLECTOR_VERSION}-kfm"}}
    for kind, kind_type in components(configs):
        module = COMPONENT_MODULES[(kind, kind_type)]
        manifest.setdefault(kind, []).append({"gomod": f"{module} v{c.OTEL_COLLECTOR_VERSION}"})
    manifest["providers"] = [{"gomod": f"{CORE}/confmap/provider/{p} v{c.OTEL_PROVIDER_VERSION}"} for p in PROVIDERS]
    return manifest
