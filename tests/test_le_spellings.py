"""Classic-histogram `le` values: the Latency SLI's bucket matcher selects every spelling that reaches
Prometheus, on 2.x (stored as exposed) and 3.x (normalised on scrape to the OpenMetrics float form).

The spellings come from code we did not write: prometheus-client's own exposition, a Go client's
text format as Go's strconv writes it, an exporter that writes plain decimals, and what a real
Prometheus 3 server stores after its normalisation.
"""
from __future__ import annotations

import http.server
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from generator import conventions as c
from generator.model.kinds.latency import Latency
from live_prometheus import LivePrometheus, free_port
from prometheus_tools import find_prometheus2

pytestmark = pytest.mark.live

# Boundaries users give: whole seconds (the 2.x/3.x trap), fractions, and the exponent forms.
THRESHOLDS = (0.005, 0.3, 1.0, 10.0, 300.0, 100000.0, 1e6, 1234567.0, 1e-05)

# How a Go client (client_golang's text format: strconv 'g', shortest) writes these boundaries,
# written out by hand from Go's rules, not computed by the code under test.
GO_CLIENT_LE = ("0.005", "0.3", "1", "10", "300", "100000", "1e+06", "1.234567e+06", "1e-05")
# An exporter writing plain decimals (Prometheus 3 normalises these; 2.x stores them as they are).
PLAIN_LE = ("0.005", "0.30", "1", "10.00", "300", "100000", "1000000", "1234567", "0.00001")


def _python_client_exposition() -> str:
    registry = CollectorRegistry()
    histogram = Histogram("python_client_seconds", "prometheus-client's own le spellings",
                          buckets=sorted(THRESHOLDS), registry=registry)
    histogram.observe(0.001)
    return generate_latest(registry).decode()


def _hand_written(metric: str, spellings: tuple[str, ...]) -> str:
    ordered = sorted(zip(THRESHOLDS, spellings))
    lines = [f"# HELP {metric} hand-written le spellings", f"# TYPE {metric} histogram"]
    lines += [f'{metric}_bucket{{le="{spelling}"}} 1' for _, spelling in ordered]
    lines += [f'{metric}_bucket{{le="+Inf"}} 1', f"{metric}_sum 0.001", f"{metric}_count 1"]
    return "\n".join(lines) + "\n"


def _exposition() -> str:
    return (_python_client_exposition() + _hand_written("go_client_seconds", GO_CLIENT_LE)
            + _hand_written("plain_exporter_seconds", PLAIN_LE))


def _python_client_le_values() -> dict[float, str]:
    written = {}
    for line in _python_client_exposition().splitlines():
        if line.startswith("python_client_seconds_bucket{"):
            value = line.split('le="')[1].split('"')[0]
            if value != "+Inf":
                written[float(value)] = value
    return written


def test_every_spelling_a_client_writes_is_one_the_matcher_knows():
    python_written = _python_client_le_values()
    assert sorted(python_written) == sorted(THRESHOLDS)
    for threshold, go_written in zip(THRESHOLDS, GO_CLIENT_LE):
        spellings = c.le_spellings(threshold)
        assert python_written[threshold] in spellings, (threshold, python_written[threshold], spellings)
        assert go_written in spellings, (threshold, go_written, spellings)
        assert c.go_float(threshold) == go_written


def test_a_whole_number_threshold_matches_both_spellings_and_nothing_else():
    op, value = c.le_matcher_value(1.0)
    assert (op, value) == ("=~", "1|1\\.0")
    selector = Latency(histogram="x_seconds", threshold_seconds=1).sources().good
    assert selector is not None
    for spelling, selected in (("1", True), ("1.0", True), ("10", False), ("1.5", False), ("11.0", False)):
        assert selector.matches({"le": spelling}) is selected, spelling


class _Exposition(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target():
    _Exposition.body = _exposition().encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Exposition)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _scraped(folder, target: str, binary: str | None) -> LivePrometheus:
    server = LivePrometheus(folder, [], [target], binary=binary)
    deadline = time.time() + 30
    while time.time() < deadline:
        if len(server.api("query", query='{__name__=~".+_seconds_count"}')["result"]) == 3:
            return server
        time.sleep(0.5)
    server.stop()
    raise AssertionError("the target was not scraped within 30 s")


def _selected(server: LivePrometheus, metric: str, threshold: float) -> list[str]:
    good = Latency(histogram=metric, threshold_seconds=threshold).sources().good
    assert good is not None
    return [r["metric"]["le"] for r in server.api("query", query=good.render())["result"]]


def test_prometheus_3_stores_the_normalised_spelling_and_the_matcher_selects_it(target, tmp_path):
    server = _scraped(tmp_path, target, None)
    try:
        for metric in ("python_client_seconds", "go_client_seconds", "plain_exporter_seconds"):
            stored = sorted(r["metric"]["le"] for r in server.api("query", query=f"{metric}_bucket")["result"])
            assert stored == sorted([c.le_normalised(t) for t in THRESHOLDS] + ["+Inf"]), (metric, stored)
            for threshold in THRESHOLDS:
                assert _selected(server, metric, threshold) == [c.le_normalised(threshold)], (metric, threshold)
    finally:
        server.stop()


def test_prometheus_2_stores_what_the_client_wrote_and_the_matcher_selects_it(target, tmp_path):
    binary, why = find_prometheus2()
    if not binary:
        pytest.fail(why, pytrace=False)
    server = _scraped(tmp_path, target, binary)
    try:
        python_written = _python_client_le_values()
        for threshold, go_written in zip(THRESHOLDS, GO_CLIENT_LE):
            assert _selected(server, "python_client_seconds", threshold) == [python_written[threshold]]
            assert _selected(server, "go_client_seconds", threshold) == [go_written]
    finally:
        server.stop()
