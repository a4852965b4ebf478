"""The backtest's parts without any tool: reading the alerting logic back from a rendered rule file, the
engine on synthetic histories, and the history sources (files, and a Prometheus API served here)."""
from __future__ import annotations

import json
import math
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generator import conventions as c
from generator.backtest.engine import evaluate, history_for, read_counters, trimmed
from generator.backtest.history import MAX_POINTS, FileSource, HistoryError, PrometheusSource, summed_counter
from generator.backtest.report import run, section
from generator.backtest.spec import Unsupported, changed_slos, read_spec
from generator.prometheus.simulate import EventHistory
from generator.promql.selectors import parse_selector
from backtest_support import NEW, OLD, SLO_NAME, rules_text, slo_at, three_days, write_openmetrics


def _outage_history(minutes: int, outage_from: int, outage_to: int, per_minute: int = 60) -> EventHistory:
    """Counters of a service already running (large starting values), every event failing in
    (outage_from, outage_to] minutes."""
    total, bad = [10**6], [10**3]
    for k in range(1, minutes + 1):
        total.append(total[-1] + per_minute)
        bad.append(bad[-1] + (per_minute if outage_from < k <= outage_to else 0))
    return EventHistory(total, bad, 1)


def test_the_alerting_logic_reads_back_from_every_event_slis_rendered_rules(catalog, rendered):
    """Every event SLO without group_by: the pairs (windows, factors, `for`, tiles and their warm-up),
    objective and budget read back from its rendered rule file are the definitions' own; the others are
    refused with a reason."""
    read, refused = 0, {}
    for slo in catalog.slos:
        text = rendered[c.rules_file(slo.name)]
        try:
            spec = read_spec(text, slo.name)
        except Unsupported as error:
            refused[slo.name] = str(error)
            continue
        read += 1
        assert spec.pairs == slo.all_pairs(), slo.name
        assert spec.objective == slo.target and spec.budget == slo.error_budget, slo.name
        assert spec.period_seconds == slo.period_seconds
        assert spec.total.render() == slo.sli.sources().total.render()
        assert spec.min_events == (slo.alerting.min_events if slo.sli.counts_events else 0)
    assert read >= 4, (read, refused)
    assert any("group_by" in why for why in refused.values()), refused
    assert any("not an event SLI" in why for why in refused.values()), refused


def test_a_total_outage_pages_at_the_minute_the_window_math_predicts(catalog):
    """Healthy for an hour, then every event fails. 3.x reads a 2m rate over the last minute, so the 1h
    window (60 one-minute samples) holds n failing minutes n minutes in: the page fires at the first n
    over threshold x 60, and the 5m window is above it from the first minute (99.5%: 7.2% -> n = 5;
    99.9%: 1.44% -> n = 1). It resolves when the 5m window falls back under the threshold."""
    history = _outage_history(240, 60, 120)
    for objective, n in ((OLD, 5), (NEW, 1)):
        spec = read_spec(rules_text(slo_at(catalog, objective)), SLO_NAME)
        threshold = float(spec.pairs[0].factor * spec.budget)
        assert n == math.floor(threshold * 60) + 1
        result = evaluate(spec, history, start=0)
        fast = [e for e in result.episodes if e.tier == "page-1h-5m"]
        assert len(fast) == 1, result.episodes
        assert fast[0].fired == (60 + n) * 60, (objective, fast[0])
        # the 5m ratio: bad increase over total increase of the 4 minutes (3.x) before; under 7.2% only
        # once no failing minute is left in it, 5 minutes after the outage ends
        assert 120 * 60 < fast[0].resolved <= 126 * 60, fast[0]
        assert result.count("page") >= 1 and result.minutes("page") >= fast[0].minutes
        # the error ratio over the history (shorter than the period): 60 of 240 minutes failed
        assert result.error_ratio == pytest.approx(0.25)
        assert result.budget_remaining == pytest.approx(1 - 0.25 / float(spec.budget))


def test_a_healthy_history_raises_nothing_and_keeps_the_budget(catalog):
    spec = read_spec(rules_text(slo_at(catalog, NEW)), SLO_NAME)
    result = evaluate(spec, _outage_history(3 * 24 * 60, 0, 0), start=1_700_000_000 // 60 * 60)
    assert result.episodes == () and result.budget_remaining == 1.0


def test_a_file_history_backtests_both_objectives(catalog, tmp_path):
    """The 3-day history through the file source and the report: 99.9% raises alerts 99.5% does not,
    listed with their minutes; both page on the 20% incident."""
    source_path = tmp_path / "history.om"
    write_openmetrics(three_days(), source_path, start=0)
    old = {c.rules_file(SLO_NAME): rules_text(slo_at(catalog, OLD))}
    new = {c.rules_file(SLO_NAME): rules_text(slo_at(catalog, NEW))}
    assert changed_slos(old, new) == [SLO_NAME]
    results, start, end = run(FileSource(source_path), old, new)
    assert (start, end) == (0, 3 * 86400)
    [(name, a, b)] = results
    assert name == SLO_NAME and not isinstance(a, (str, type(None))) and not isinstance(b, (str, type(None)))
    # 99.5% pages only in the 20% hour (both page pairs: 20% over 1h is 3.3% over 6h, above 6x 0.5%)
    assert sorted(e.tier for e in a.episodes if e.severity == "page") == ["page-1h-5m", "page-6h-30m"]
    assert all(86400 + 14 * 3600 < e.fired < 86400 + 15 * 3600 for e in a.episodes if e.severity == "page")
    day0 = [e for e in b.episodes if e.fired < 86400]
    assert {e.tier for e in day0} >= {"page-1h-5m", "page-6h-30m"}
    text = "\n".join(section(FileSource(source_path), "main", old, new))
    assert "99.5% → 99.9%" in text
    new_only = text.split("Alerts this change would have raised that the base did not: ")[1].split("\n\n")[0]
    # 10% errors from 10:00: the 1h window holds n tenths of a minute of errors n minutes in, over
    # 99.9%'s 1.44% once n x 0.1 / 60 > 0.0144, n = 9
    assert "page `page-1h-5m`: fired 1970-01-01 10:09 UTC" in new_only, new_only
    assert "none" not in new_only.splitlines()[0]
    assert "Alerts the base raised that this change would not: none." in text


def test_file_sources_read_csv_and_openmetrics_the_same_and_take_out_resets(tmp_path):
    rows = [(0, 100.0), (60, 110.0), (120, 5.0), (180, 15.0)]   # a reset between 60 and 120
    csv_path, om_path = tmp_path / "h.csv", tmp_path / "h.om"
    csv_path.write_text("series,timestamp,value\n" + "".join(
        f'"x_total{{a=""1""}}",{t},{v}\n' for t, v in rows) + "".join(f'"x_total{{a=""2""}}",{t},1\n' for t, _ in rows))
    om_path.write_text("# TYPE x counter\n" + "".join(f'x_total{{a="1"}} {v} {t}\n' for t, v in rows)
                       + "".join(f'x_total{{a="2"}} 1 {t}\n' for t, _ in rows) + "# EOF\n")
    for path in (csv_path, om_path):
        source = FileSource(path)
        both = summed_counter(source, parse_selector("x_total"), 0, 180)
        assert both.values == [101.0, 111.0, 116.0, 126.0] and both.series == 2, path
        one = summed_counter(source, parse_selector('x_total{a="1"}'), 0, 180)
        assert one.values == [100.0, 110.0, 115.0, 125.0]
        with pytest.raises(HistoryError, match=rf"{path}.*'y_total'.*returned no samples"):
            summed_counter(source, parse_selector("y_total"), 0, 180)
    bad = tmp_path / "bad.om"
    bad.write_text("x_total 1\n")
    with pytest.raises(HistoryError, match="line 1: not an OpenMetrics sample with a timestamp"):
        summed_counter(FileSource(bad), parse_selector("x_total"), 0, 60)
    with pytest.raises(HistoryError, match="cannot be read"):
        summed_counter(FileSource(tmp_path / "missing.om"), parse_selector("x_total"), 0, 60)


class _FakePrometheus(BaseHTTPRequestHandler):
    """query_range over a counter growing by 1 a minute from 1000 at t=0; records every query."""

    queries: list[dict[str, str]] = []
    empty = False

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        url = urllib.parse.urlparse(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        type(self).queries.append(params)
        start, end, step = int(params["start"]), int(params["end"]), int(params["step"].rstrip("s"))
        if (end - start) // step + 1 > 11_000:
            body = {"status": "error", "error": "exceeded maximum resolution of 11,000 points per timeseries"}
            code = 400
        else:
            values = [] if self.empty else [[t, str(1000 + t // 60)] for t in range(start, end + 1, step)]
            body = {"status": "success", "data": {"resultType": "matrix", "result":
                    [{"metric": {"__name__": "x_total"}, "values": values}] if values else []}}
            code = 200
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    _FakePrometheus.queries, _FakePrometheus.empty = [], False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_month_is_read_from_prometheus_in_queries_of_bounded_points(fake_prometheus):
    month = 30 * 86400
    counter = summed_counter(PrometheusSource(fake_prometheus), parse_selector("x_total"), 0, month)
    assert counter.values == [1000.0 + k for k in range(month // 60 + 1)]
    queries = _FakePrometheus.queries
    assert len(queries) == math.ceil((month // 60 + 1) / MAX_POINTS) == 5
    assert all((int(q["end"]) - int(q["start"])) // 60 + 1 <= MAX_POINTS for q in queries)
    assert all(q["query"] == "x_total" and q["step"] == "60s" for q in queries)


def test_an_empty_or_unreachable_prometheus_is_an_error_naming_it_and_the_query(fake_prometheus):
    _FakePrometheus.empty = True
    with pytest.raises(HistoryError, match=rf"prometheus={fake_prometheus}: the query 'x_total' returned no samples"):
        summed_counter(PrometheusSource(fake_prometheus), parse_selector("x_total"), 0, 3600)
    closed = "http://127.0.0.1:9"   # the discard port: nothing listens there
    with pytest.raises(HistoryError, match=rf"{closed}: query_range 'x_total' .*unreachable"):
        summed_counter(PrometheusSource(closed), parse_selector("x_total"), 0, 3600)


def test_counters_from_a_source_become_the_simulators_history(catalog, tmp_path):
    """read_counters / trimmed / history_for: ticks before the first sample are dropped, a missing bad
    series reads as no bad events, and the counters keep thousandths exactly."""
    spec = read_spec(rules_text(slo_at(catalog, OLD)), SLO_NAME)
    path = tmp_path / "h.om"
    path.write_text("".join(f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}="answered"}} {1000 + k * 10.5} {600 + k * 60}\n'
                            for k in range(10)))
    counters = read_counters(spec, FileSource(path), 0, 600 + 9 * 60)
    start, counters = trimmed(counters, spec)
    history = history_for(spec, counters)
    assert start == 600 and len(history.total) == 10
    assert history.total[1] - history.total[0] == 10_500 and history.scale == 1000
    assert set(history.bad) == {0}
    assert Decimal(str(spec.budget)) == Decimal("0.005")


def test_history_before_the_period_fills_the_windows_and_is_not_reported(catalog):
    """report_from: an outage that resolved before the period is left out, one still firing at its start
    is kept, and the budget is counted from it."""
    spec = read_spec(rules_text(slo_at(catalog, OLD)), SLO_NAME)
    history = _outage_history(600, 60, 120)          # every event fails in minutes 61..120
    everything = evaluate(spec, history, start=0)
    assert [e.tier for e in everything.episodes].count("page-1h-5m") == 1
    assert max(e.resolved for e in everything.episodes) < 500 * 60   # the 3d/6h ticket clears last (6h window)
    later = evaluate(spec, history, start=0, report_from=500 * 60)
    assert later.episodes == () and later.budget_from == 500 * 60 and later.bad_events == 0
    during = evaluate(spec, history, start=0, report_from=100 * 60)
    assert {e.tier for e in during.episodes} == {e.tier for e in everything.episodes if e.resolved > 100 * 60}
    assert during.error_ratio == pytest.approx(20 / 500)


def test_a_latency_sli_backtests_from_its_histogram_count_and_threshold_bucket(catalog, rendered, tmp_path):
    """Latency: bad = count - the threshold bucket (a good selector). Slow requests for an hour page
    at the same minutes as the same counts given directly as bad events."""
    name = "evidence-resolver-latency"
    spec = read_spec(rendered[c.rules_file(name)], name)
    assert spec.bad is None and spec.good is not None and 'le="0.5"' in spec.good.render()
    history = _outage_history(360, 60, 120)
    lines = []
    for k, (total, bad) in enumerate(zip(history.total, history.bad)):
        lines.append(f"{spec.total.render()} {total} {k * 60}")
        lines.append(f"{spec.good.render()} {total - bad} {k * 60}")
    (tmp_path / "h.om").write_text("\n".join(lines) + "\n")
    counters = read_counters(spec, FileSource(tmp_path / "h.om"), 0, 360 * 60)
    start, counters = trimmed(counters, spec)
    from_file = evaluate(spec, history_for(spec, counters), start)
    direct = evaluate(spec, history, 0)
    assert from_file.episodes == direct.episodes and from_file.count("page") >= 1
    assert from_file.error_ratio == pytest.approx(60 / 360)
