"""KFM's environments and telemetry pipelines: who sends what, and per environment how much is
kept, where it goes, and whether page alerts reach the pager.

The trust membrane applies to telemetry: what the governed API redacts never
leaves the collector. Correlation IDs (run_id, audit_ref, dataset_version_id)
stay on spans and logs and are dropped from metrics.
"""
from generator import conventions as c
from generator import Environment, Telemetry

TELEMETRY = Telemetry(
    services=(c.API_SERVICE, c.EVIDENCE_SERVICE, c.FOCUS_SERVICE, c.PIPELINE_SERVICE),
    red_services=(c.EVIDENCE_SERVICE, c.FOCUS_SERVICE),
    slow_trace_services=(c.EVIDENCE_SERVICE, c.FOCUS_SERVICE),
    slow_trace_ms=500,
    delete_attributes=(
        "user.email", "user.name", "user.phone", "enduser.id",
        "http.request.header.authorization", "http.request.header.cookie",
        "geo.precise_location", "db.query.text",
    ),
    hash_attributes=("client.address", "user.id"),
    blocked_value_patterns=(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",),
    environments=(
        Environment("dev", trace_sampling_percent=100, debug_exporter=True),
        Environment("stage", trace_sampling_percent=25),
        Environment("prod", trace_sampling_percent=5, pages=True),
    ),
)
