"""The collector config, validated and run by a real collector built for it."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator.collector.config import ENDPOINT_VARS, LocalSinks, config, order_problems
from generator.model.environments import Environment
from live_prometheus import free_port

ENVIRONMENTS = ("dev", "stage", "prod")
# What a deployment's secret store provides; validate resolves ${env:...} references.
DUMMY_ENV = {
    ENDPOINT_VARS["tempo"][0]: "127.0.0.1:9", ENDPOINT_VARS["tempo"][1]: "Bearer test",
    ENDPOINT_VARS["loki"][0]: "http://127.0.0.1:9/otlp", ENDPOINT_VARS["loki"][1]: "Bearer test",
    ENDPOINT_VARS["remote_write"][0]: "http://127.0.0.1:9/api/v1/write",
    ENDPOINT_VARS["remote_write"][1]: "Bearer test",
}


def validate(collector: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([collector, "validate", f"--config={path}"], capture_output=True, text=True,
                          env={**os.environ, **DUMMY_ENV}, timeout=120)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_validates_with_the_real_collector(collector, rendered_dir, env):
    result = validate(collector, rendered_dir / c.collector_config_file(env))
    assert result.returncode == 0, result.stdout + result.stderr


def _prod(rendered_dir: Path) -> dict:
    return yaml.safe_load((rendered_dir / c.collector_config_file("prod")).read_text())


def _unknown_component(cfg: dict) -> None:
    cfg["exporters"]["kafka"] = {}
    cfg["service"]["pipelines"]["logs"]["exporters"].append("kafka")


def _connector_on_one_side(cfg: dict) -> None:
    del cfg["service"]["pipelines"]["traces/spanmetrics"]


def _undefined_processor(cfg: dict) -> None:
    cfg["service"]["pipelines"]["metrics"]["processors"].insert(1, "filter/drop_health")


@pytest.mark.parametrize("breakage, message", [
    (_unknown_component, "unknown type"),
    (_connector_on_one_side, "span_metrics"),
    (_undefined_processor, "filter/drop_health"),
])
def test_broken_configs_are_rejected_by_the_collector(collector, rendered_dir, tmp_path, breakage, message):
    cfg = _prod(rendered_dir)
    breakage(cfg)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = validate(collector, path)
    assert result.returncode != 0 and message in result.stdout + result.stderr, result.stdout + result.stderr


def test_processor_order_is_checked_where_the_collector_does_not(collector, rendered_dir, tmp_path):
    cfg = _prod(rendered_dir)
    assert order_problems(cfg) == []
    processors = cfg["service"]["pipelines"]["traces"]["processors"]
    processors.remove("memory_limiter")
    processors.append("memory_limiter")
    path = tmp_path / "out-of-order.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert validate(collector, path).returncode == 0  # the collector accepts it...
    assert "pipeline traces: memory_limiter must come first" in order_problems(cfg)  # ...our check does not
    assert "pipeline traces: batch must come last" in order_problems(cfg)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_literal_endpoints_or_credentials(rendered_dir, env):
    cfg = yaml.safe_load((rendered_dir / c.collector_config_file(env)).read_text())
    for name, exporter in cfg["exporters"].items():
        for key in ("endpoint", "headers"):
            value = exporter.get(key)
            if value is None:
                continue
            values = value.values() if isinstance(value, dict) else [value]
            assert all(str(v).startswith("${env:") for v in values), (env, name, key, value)


def test_correlation_ids_never_become_metric_dimensions(rendered_dir):
    cfg = _prod(rendered_dir)
    assert "attributes/no_correlation_ids" in cfg["service"]["pipelines"]["metrics"]["processors"]
    dropped = {a["key"] for a in cfg["processors"]["attributes/no_correlation_ids"]["actions"]}
    assert dropped == set(c.CORRELATION_IDS)
    dimensions = {d["name"] for d in cfg["connectors"]["span_metrics"]["dimensions"]}
    assert not dimensions & set(c.CORRELATION_IDS)
    redacted = {a["key"] for a in cfg["processors"]["attributes/redact"]["actions"]}
    assert not redacted & set(c.CORRELATION_IDS)  # they survive on spans and logs


def test_sampling_and_exporters_differ_by_environment(rendered_dir):
    rates = {}
    for env in ENVIRONMENTS:
        cfg = yaml.safe_load((rendered_dir / c.collector_config_file(env)).read_text())
        policy = cfg["processors"]["tail_sampling"]["policies"][-1]
        rates[env] = policy["probabilistic"]["sampling_percentage"]
        assert ("debug" in cfg["exporters"]) == (env == "dev")
    assert rates == {"dev": 100, "stage": 25, "prod": 5}


# --- end to end ---------------------------------------------------------------

SECRET_EMAIL = "ada@example.org"
CORRELATION = {"run_id": "run-42", "audit_ref": "audit-7", "dataset_version_id": "dsv-3"}


@pytest.fixture(scope="module")
def local_collector(collector, catalog, tmp_path_factory):
    folder = tmp_path_factory.mktemp("otelcol")
    sinks = LocalSinks(free_port(), free_port(), free_port(), free_port(), free_port(),
                       folder / "traces.json", folder / "logs.json")
    # The test overlay: local sinks, and no ordinary traces kept, so only errors and slow ones pass.
    env = Environment("test", trace_sampling_percent=0)
    path = folder / "collector.yaml"
    path.write_text(yaml.safe_dump(config(catalog.telemetry, env, sinks)))
    log = open(folder / "collector.log", "w")
    process = subprocess.Popen([collector, f"--config={path}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{sinks.health_port}/", process, folder)
        yield sinks
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait(url: str, process: subprocess.Popen, folder: Path, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "collector.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("collector health check never answered")


def _send(sinks: LocalSinks) -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LogRecord
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    base = f"http://127.0.0.1:{sinks.http_port}"
    sensitive = {"user.email": SECRET_EMAIL, "http.request.header.authorization": "Bearer hunter2",
                 "client.address": "203.0.113.9", "note": f"contact {SECRET_EMAIL}"}
    for service, name, error, seconds in ((c.EVIDENCE_SERVICE, "resolve-evidence", True, 0.0),
                                          (c.FOCUS_SERVICE, "focus-answer", False, 0.6),
                                          (c.API_SERVICE, "GET /v1/query", False, 0.0)):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        with provider.get_tracer("kfm-test").start_as_current_span(name, attributes={**sensitive, **CORRELATION}) as span:
            time.sleep(seconds)
            if error:
                span.set_status(Status(StatusCode.ERROR, "resolver failed"))
        provider.shutdown()
    logs = LoggerProvider(resource=Resource.create({"service.name": c.PIPELINE_SERVICE}))
    logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")))
    logs.get_logger("kfm-test").emit(LogRecord(body="dataset promoted", attributes={**sensitive, **CORRELATION}))
    logs.shutdown()


def _read_json_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _spans(path: Path) -> list[tuple[dict, dict]]:
    return [(rs, span) for doc in _read_json_lines(path) for rs in doc["resourceSpans"]
            for ss in rs["scopeSpans"] for span in ss["spans"]]


def _records(path: Path) -> list[tuple[dict, dict]]:
    return [(rl, rec) for doc in _read_json_lines(path) for rl in doc["resourceLogs"]
            for sl in rl["scopeLogs"] for rec in sl["logRecords"]]


def _attributes(items: list[dict]) -> dict:
    return {a["key"]: next(iter(a["value"].values()), None) for a in items}


KEPT = {"resolve-evidence", "focus-answer"}  # the error trace and the slow trace


@pytest.fixture(scope="module")
def exported(local_collector):
    _send(local_collector)
    deadline = time.time() + 30
    while time.time() < deadline:  # tail sampling decides after decision_wait; batches flush after 1s
        names = {span["name"] for _, span in _spans(local_collector.traces_file)}
        if KEPT <= names and _records(local_collector.logs_file):
            break
        time.sleep(0.5)
    time.sleep(2)  # anything that should not be kept would have arrived by now
    metrics = ""
    while time.time() < deadline and c.SPAN_CALLS not in metrics:
        with urllib.request.urlopen(f"http://127.0.0.1:{local_collector.prometheus_port}/metrics") as response:
            metrics = response.read().decode()
        time.sleep(0.5)
    return _spans(local_collector.traces_file), _records(local_collector.logs_file), metrics


def test_sensitive_attributes_are_gone_and_correlation_ids_survive(exported):
    spans, records, _ = exported
    assert spans and records
    for resource, item in spans + records:
        attributes = _attributes(item["attributes"])
        assert "user.email" not in attributes and "http.request.header.authorization" not in attributes
        assert attributes["client.address"] != "203.0.113.9"  # hashed
        assert SECRET_EMAIL not in json.dumps(item)  # masked wherever it appears in an attribute
        for key, value in CORRELATION.items():
            assert attributes[key] == value
        assert _attributes(resource["resource"]["attributes"])["deployment.environment.name"] == "test"


def test_error_and_slow_traces_are_kept_and_the_rest_sampled_out(exported):
    spans, _, _ = exported
    names = {span["name"] for _, span in spans}
    assert names == KEPT  # error and slow kept; the fast API span is sampled out


def test_span_metrics_have_the_contract_names_and_no_correlation_ids(exported):
    _, _, metrics = exported
    assert f'{c.SPAN_CALLS}{{' in metrics and f"{c.SPAN_DURATION}_bucket{{" in metrics, metrics[:2000]
    lines = [line for line in metrics.splitlines() if line.startswith(("kfm_spans_calls_total", "kfm_spans_duration"))]
    assert any(f'{c.SPAN_SERVICE}="{c.EVIDENCE_SERVICE}"' in line for line in lines)
    assert any(f'{c.SPAN_SERVICE}="{c.FOCUS_SERVICE}"' in line for line in lines)
    assert not any(c.API_SERVICE in line for line in lines)  # only the RED services
    assert not any(key in line for line in lines for key in CORRELATION)
    assert any('le="0.5"' in line for line in lines)  # the conventions' buckets, in seconds
