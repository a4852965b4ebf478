"""Fail-closed redaction, proven through the real collector: a corpus of sensitive values, under many
key names and in every place a value can travel (span, event, resource and log attributes, span
names, status messages, event names, log bodies), goes into each environment's pipelines; none of it
comes out in the exported traces, logs or span metrics, while correlation IDs and the attributes the
dashboards and span metrics need still do.

The check is shown to bite: the same corpus through a config missing one secret pattern, or allowing
one more header, leaks, and the check names the leak."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from generator import conventions as c
from generator.model import redaction
from generator.collector.config import LocalSinks, config
from generator.model.problems import DefinitionError
from generator.model.environments import Environment
from generator.model.telemetry import Telemetry
from live_prometheus import free_port
from test_collector import _attributes, _records, _spans, _wait

# One example per secret pattern, inside a value under a key that is allowed (so only the pattern
# can stop it), each a distinct string to look for in the output.
PATTERN_EXAMPLES = {
    "bearer credentials": "Bearer tok9Vq2x7Lw0pZr4s",
    "basic credentials": "Basic YWRtaW46aHVudGVyMmh1bnRlcg==",
    "JSON web token": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEiLCJyb2xlIjoiYWRtaW4ifQ."
                       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"),
    "AWS access key id": "AKIAIOSFODNN7QXZTEST",
    "AWS secret access key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEQ9",
    "secret key=value pair": "password='hunter2pass'",
    "credentials in a URL": "https://admin:s3cretpw4db@db.internal.example/reports",
    "e-mail address": "ada.lovelace@example.org",
}
# What must not be found, for each example: the secret part of it.
PATTERN_SECRETS = {
    "bearer credentials": "tok9Vq2x7Lw0pZr4s",
    "basic credentials": "YWRtaW46aHVudGVyMmh1bnRlcg",
    "JSON web token": "eyJzdWIiOiJhZGEiLCJyb2xlIjoiYWRtaW4ifQ",
    "AWS access key id": "AKIAIOSFODNN7QXZTEST",
    "AWS secret access key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEQ9",
    "secret key=value pair": "hunter2pass",
    "credentials in a URL": "s3cretpw4db",
    "e-mail address": "ada.lovelace@example.org",
}
# Sensitive values under keys nobody allowed (the table and more): dropped whole.
UNLISTED = {
    "http.request.header.x-api-key": "xak-51c0ffee-7d1e",
    "http.request.header.proxy-authorization": "Basic cHJveHk6cHJveHlwYXNz",
    "http.request.header.x-upstream-secret": "ups-9d1c-e4f2-value",
    "http.request.header.cookie": "sid=cookie-3b9f1d",
    "db.statement": "UPDATE users SET pw = 'stmt-7f3a9e' WHERE id = 1",
    "url.query": "q=fog&ref=query-5e8d2c",
    "url.full": "https://api.example/v1?ref=full-2a7c4b",
    "user.full_name": "Grace Hopper-Corpus",
    "session.id": "sess-8f14e45fceea167a",
    "enduser.id": "enduser-6c2b9d",
    "customer_note": "note-4e7f1a private",
    "request.body": "body-9b3e5d private",
}
UNLISTED_RESOURCE = {"host.owner": "owner-3c8e1f", "deployment.secret_ref": "res-7a2d6b"}
CORRELATION = {"run_id": "run-42", "audit_ref": "audit-7", "dataset_version_id": "dsv-3"}
KEPT = {c.DATASET: "river-gauges", "http.route": "/v1/datasets/{id}"}
ALLOWED_CARRIERS = ("exception.message", "url.path", "error.type", "otel.status_description")


def corpus_values() -> dict[str, str]:
    """Every value that must not come out, named by what it is."""
    return {**{f"pattern {k}": v for k, v in PATTERN_SECRETS.items()},
            **{f"key {k}": v for k, v in UNLISTED.items()}, **{f"resource {k}": v for k, v in UNLISTED_RESOURCE.items()}}


def _send(sinks: LocalSinks, services: tuple[str, ...]) -> int:
    """The corpus, as one error span (kept by tail sampling in every environment) per service and one
    log record per service. Returns how many (value, place) pairs were sent."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LogRecord
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    base = f"http://127.0.0.1:{sinks.http_port}"
    examples = " | ".join(PATTERN_EXAMPLES.values())
    carried = {key: f"{key}: {examples}" for key in ALLOWED_CARRIERS}
    attributes = {**UNLISTED, **carried, **CORRELATION, **KEPT}
    sent = 0
    for service in services:
        resource = Resource.create({"service.name": service, "service.version": f"1.0 {examples}",
                                    **UNLISTED_RESOURCE})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        tracer = provider.get_tracer("kfm-redaction-test")
        with tracer.start_as_current_span(f"GET /login {examples}", attributes=attributes) as span:
            span.add_event(f"retry {examples}", attributes=attributes)
            span.record_exception(RuntimeError(f"upstream refused {examples}"))
            span.set_status(Status(StatusCode.ERROR, f"failed {examples}"))
        provider.shutdown()
        # resource (2) + span name, status, event name, exception event + the carriers on span and event
        sent += len(UNLISTED_RESOURCE) + 2 * len(UNLISTED) + len(PATTERN_EXAMPLES) * (5 + 2 * len(carried))
        logs = LoggerProvider(resource=resource)
        logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")))
        logs.get_logger("kfm-redaction-test").emit(
            LogRecord(body=f"dataset promoted {examples}", attributes=attributes, resource=resource))
        logs.shutdown()
        sent += len(UNLISTED_RESOURCE) + len(UNLISTED) + len(PATTERN_EXAMPLES) * (2 + len(carried))
    return sent


def _metrics(sinks: LocalSinks) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{sinks.prometheus_port}/metrics", timeout=5) as response:
        return response.read().decode()


@dataclasses.dataclass
class Run:
    label: str
    sent: int
    spans: list
    records: list
    metrics: str
    services: tuple[str, ...]

    def leaks(self) -> list[str]:
        """Each corpus value found in the output, with where."""
        places = {"traces": json.dumps([s for _, s in self.spans] + [r for r, _ in self.spans]),
                  "logs": json.dumps([r for _, r in self.records] + [r for r, _ in self.records]),
                  "span metrics": self.metrics}
        return sorted(f"{name} in {place}" for name, value in corpus_values().items()
                      for place, text in places.items() if value in text)


def _prepared(folder: Path, telemetry: Telemetry, env: Environment) -> tuple[LocalSinks, Path]:
    folder.mkdir()
    sinks = LocalSinks(free_port(), free_port(), free_port(), free_port(), free_port(),
                       folder / "traces.json", folder / "logs.json")
    path = folder / "collector.yaml"
    path.write_text(yaml.safe_dump(config(telemetry, env, sinks)))
    return sinks, path


def _run(collector: str, label: str, services: tuple[str, ...], sinks: LocalSinks, path: Path) -> Run:
    log = open(path.parent / "collector.log", "w")
    process = subprocess.Popen([collector, f"--config={path}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{sinks.health_port}/", process, path.parent)
        sent = _send(sinks, services)
        deadline = time.time() + 30
        spans, records, metrics = [], [], ""
        while time.time() < deadline:  # tail sampling decides after decision_wait; batches flush after 1s
            spans, records = _spans(sinks.traces_file), _records(sinks.logs_file)
            metrics = _metrics(sinks)
            if len(spans) >= len(services) and len(records) >= len(services) and c.SPAN_CALLS in metrics:
                break
            time.sleep(0.5)
        return Run(label, sent, spans, records, metrics, services)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def runs(collector, catalog, tmp_path_factory) -> dict[str, Run]:
    """Every environment's pipelines, and prod's broken twice on purpose, each on its own collector,
    all at once."""
    telemetry = catalog.telemetry
    folder = tmp_path_factory.mktemp("redaction")
    prod = telemetry.environments[-1]
    prepared = {env.name: _prepared(folder / env.name, telemetry, env) for env in telemetry.environments}
    header = dataclasses.replace(telemetry, allowed_attributes=(*telemetry.allowed_attributes,
                                                                 "http.request.header.x-upstream-secret"))
    prepared["prod allowing one more header"] = _prepared(folder / "one-more-header", header, prod)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redaction, "SECRET_PATTERNS",
                      {k: v for k, v in redaction.SECRET_PATTERNS.items() if k != "JSON web token"})
        prepared["prod without the JWT pattern"] = _prepared(folder / "no-jwt", telemetry, prod)
    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        futures = {label: pool.submit(_run, collector, label, telemetry.services, sinks, path)
                   for label, (sinks, path) in prepared.items()}
        return {label: future.result() for label, future in futures.items()}


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_no_sensitive_value_leaves_the_collector(runs, env):
    run = runs[env]
    assert run.spans and run.records, f"{env}: nothing exported"
    assert run.leaks() == [], f"{env}: {run.sent} values sent, leaked: {run.leaks()}"


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_correlation_ids_and_the_attributes_dashboards_need_survive(runs, catalog, env):
    run = runs[env]
    # what the allow-list dropped (the definitions' delete list took the others first), counted
    dropped = len(set(UNLISTED) - set(catalog.telemetry.delete_attributes))
    for resource, item in run.spans + run.records:
        attributes = _attributes(item["attributes"])
        for key, value in {**CORRELATION, **KEPT}.items():
            assert attributes.get(key) == value, (env, key, attributes)
        kept = _attributes(resource["resource"]["attributes"])
        assert kept["deployment.environment.name"] == env and kept["service.name"] in run.services
        assert int(attributes["redaction.redacted.count"]) == dropped, attributes
    lines = [ln for ln in run.metrics.splitlines() if ln.startswith(c.SPAN_CALLS)]
    assert any(f'{c.SPAN_SERVICE}="{c.EVIDENCE_SERVICE}"' in ln for ln in lines), run.metrics[:1500]
    assert any(f'{c.SPAN_NAME}="GET /login ' in ln for ln in lines), lines  # the masked span name
    # what the dashboards' span-metric panels group by survives on every series
    assert lines and all(f'{c.SPAN_SERVICE}="' in ln and f'{c.SPAN_STATUS}="' in ln for ln in lines), lines


def test_every_secret_pattern_has_an_example_in_the_corpus():
    assert set(PATTERN_EXAMPLES) == set(redaction.SECRET_PATTERNS) == set(PATTERN_SECRETS)


def test_the_check_catches_a_missing_pattern_and_an_allowed_header(runs):
    no_jwt = runs["prod without the JWT pattern"].leaks()
    assert no_jwt and all(leak.startswith("pattern JSON web token") for leak in no_jwt), no_jwt
    header = runs["prod allowing one more header"].leaks()
    assert header == ["key http.request.header.x-upstream-secret in logs",
                      "key http.request.header.x-upstream-secret in traces"], header


def _telemetry(**changes) -> Telemetry:
    base = dict(services=("svc",), red_services=(), slow_trace_services=(), slow_trace_ms=500,
                delete_attributes=("user.email",), hash_attributes=(), environments=(Environment("prod", 5, pages=True),))
    return Telemetry(**{**base, **changes})


@pytest.mark.parametrize("changes, message", [
    ({"allowed_attributes": ("http.request.header.authorization",)}, "carries credentials: it is never allowed"),
    ({"allowed_attributes": ("http.request.header.",)}, "is a prefix"),
    ({"allowed_attributes": ("http.request.header.*",)}, "is not an attribute name"),
    ({"allowed_attributes": ("user.email",)}, "also deleted: user.email"),
    ({"environments": (Environment("prod", 5, pages=True, debug_allowed_attributes=("user.id",)),)},
     "an environment that pages (prod) keeps only the allow-list"),
])
def test_allow_list_mistakes_are_definition_errors(changes, message):
    with pytest.raises(DefinitionError) as error:
        _telemetry(**changes)
    assert message in str(error.value)


def test_dev_may_keep_more_only_where_the_definitions_say_so():
    t = _telemetry(environments=(Environment("dev", 100, debug_allowed_attributes=("user.id",)),
                                 Environment("prod", 5, pages=True)))
    dev, prod = t.environments
    assert "user.id" in t.allowed(dev) and "user.id" not in t.allowed(prod)
    assert not any(redaction.is_header(k) for k in t.allowed(prod))


def test_every_secret_pattern_compiles_in_re2_and_matches_its_example():
    import re2  # google-re2: the engine family Go's regexp implements

    from generator.model.re2check import re2_problem
    for name, pattern in redaction.SECRET_PATTERNS.items():
        assert re2_problem(pattern) is None, name
        assert re2.search(pattern, PATTERN_EXAMPLES[name]), name
