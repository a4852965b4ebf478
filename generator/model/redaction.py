"""The telemetry redaction policy, fail-closed: which attribute keys may leave the collector (an
allow-list per signal; every other key is dropped and counted) and which secret patterns are masked
wherever a value can carry one (attribute values, span names, span status messages, event names and
attributes such as exception.message, log bodies).

telemetry.py validates the definitions' additions against it; collector.py renders it into the
redaction and transform processors of the pinned collector release.
"""
from __future__ import annotations

from typing import Any

import json

from generator import conventions as c

MASK = "****"

# Resource attributes the OpenTelemetry SDKs and the Kubernetes operator set; nothing a user types.
RESOURCE_KEYS = (
    "service.name", "service.namespace", "service.version", "service.instance.id",
    "deployment.environment.name",
    "telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version", "telemetry.distro.name",
    "telemetry.distro.version",
    "host.name", "host.arch", "os.type", "process.runtime.name", "process.runtime.version", "process.pid",
    "container.id", "container.image.name", "container.image.tag",
    "k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.node.name", "k8s.deployment.name",
    "k8s.replicaset.name", "k8s.container.name", "cloud.provider", "cloud.region",
)

# Span and log attributes of the OpenTelemetry semantic conventions KFM's services use: methods,
# routes, status codes, error types. Never url.query, url.full, user.*, session.*, db.statement or
# headers (a header passes only where a definition names it).
SEMCONV_KEYS = (
    "http.request.method", "http.response.status_code", "http.route", "url.scheme", "url.path",
    "server.address", "server.port", "network.protocol.name", "network.protocol.version",
    "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code",
    "db.system.name", "db.operation.name", "db.collection.name", "db.namespace",
    "messaging.system", "messaging.operation.name", "messaging.destination.name",
    "error.type", "exception.type", "exception.message", "exception.stacktrace", "exception.escaped",
    "otel.status_code", "otel.status_description", "otel.scope.name", "otel.scope.version",
    "code.function.name", "code.file.path", "code.line.number",
    "event.name", "log.record.uid", "thread.id", "thread.name",
)

# What KFM's instrumentation helpers put on spans (kfm_instrument), correlation IDs included.
KFM_KEYS = (c.DATASET, c.STAGE, c.STATUS, c.GATE, c.RESULT, c.WORST_GATE_RESULT, c.OUTCOME, c.DECISION,
            c.ROUTE, c.POLICY_LABEL, *c.CORRELATION_IDS)

# The redaction processor's own summary (summary: info): how many keys it dropped or masked, on the
# span or log record itself, so a service that starts sending a new key shows and can be allowed.
SUMMARY_KEYS = ("redaction.redacted.count", "redaction.masked.count", "redaction.body.redacted.count",
                "redaction.body.masked.count")

HEADER_PREFIXES = ("http.request.header.", "http.response.header.")
# Headers that carry credentials or sessions: never allowed, whatever a definition says.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
                      "x-auth-token", "x-access-token", "x-amz-security-token", "x-csrf-token", "x-xsrf-token")

# Secret patterns (Go RE2 syntax), masked in every value wherever it appears; each has a test that
# sends it through the real collector. Named, so the docs and the tests can point at each.
SECRET_PATTERNS: dict[str, str] = {
    "bearer credentials": r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+",
    "basic credentials": r"(?i)basic\s+[A-Za-z0-9+/]{6,}={0,2}",
    "JSON web token": r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
    "AWS access key id": r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b",
    "AWS secret access key": r"\b[A-Za-z0-9/+]{40}\b",
    "secret key=value pair": (r"(?i)(?:password|passwd|pwd|secret|client_secret|token|access_token|"
                              r"refresh_token|id_token|api_key|apikey|api-key|session_id|sessionid|auth)"
                              r"\b['\"]?\s*[=:]\s*['\"]?[^\s'\"&;,]+"),
    "credentials in a URL": r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",
    "e-mail address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}


def is_header(key: str) -> bool:
    return key.startswith(HEADER_PREFIXES)


def is_credential_header(key: str) -> bool:
    return is_header(key) and key.split(".header.", 1)[1] in CREDENTIAL_HEADERS


def allowed_keys(extra: tuple[str, ...]) -> list[str]:
    """The keys the redaction processor lets through: the defaults and a definition's additions."""
    return sorted({*RESOURCE_KEYS, *SEMCONV_KEYS, *KFM_KEYS, *SUMMARY_KEYS, *extra})


def patterns(extra: tuple[str, ...]) -> list[str]:
    """Every pattern masked: the secret patterns, then a definition's own (in its order)."""
    ordered = list(SECRET_PATTERNS.values())
    return ordered + [p for p in extra if p not in ordered]


def ottl_string(text: str) -> str:
    """A double-quoted OTTL string literal (the collector unquotes it the way Go does)."""
    return json.dumps(text, ensure_ascii=False)


def masking_statements(extra: tuple[str, ...]) -> dict[str, Any]:
    """transform statements masking the places the redaction processor does not: span names, span
    status messages and span event names (it masks attribute values and log bodies itself)."""
    def each(field: str) -> list[str]:
        return [f"replace_pattern({field}, {ottl_string(p)}, {ottl_string(MASK)})" for p in patterns(extra)]
    return {"error_mode": "ignore",
            "trace_statements": [{"context": "span", "statements": each("name") + each("status.message")},
                                 {"context": "spanevent", "statements": each("name")}]}
