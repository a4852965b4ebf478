"""The PromQL builder: each construct's layout, and everything it builds parses as PromQL."""
from __future__ import annotations

import pytest

from generator.promql import builder as b
from generator.promql.selectors import parse_selector
from generator.promql.parser import parse_expr

SEL = parse_selector('http_requests_total{job="api", code=~"5.."}')

CASES = {
    "sum(rate(http_requests_total{job=\"api\", code=~\"5..\"}[5m]))": b.aggregate("sum", b.rate(SEL, "5m")),
    "sum by (job, code) (rate(http_requests_total{job=\"api\", code=~\"5..\"}[5m]))":
        b.aggregate("sum", b.rate(SEL, "5m"), ["job", "code"]),
    "max (x)": b.aggregate("max", "x", spaced=True),
    "a\nor\n0 * a": b.binary("a", "or", b.binary(0, "*", "a"), lines=True),
    "clamp_min(\n  t\n  -\n  (g\n  or\n  0 * t),\n  0\n)":
        b.block("clamp_min", b.binary("t", "-", b.paren(b.binary("g", "or", b.binary(0, "*", "t"), lines=True)),
                                      lines=True), 0),
    "a * 3\n/ ignoring (period) b": b.binary(b.binary("a", "*", 3), "/", "b", wrap=True, modifier=b.ignoring(["period"])),
    "(time() - x)\n> bool on (dataset)\ny":
        b.binary(b.paren(b.binary(b.call("time"), "-", "x")), ">", "y", lines=True, modifier="bool " + b.on(["dataset"])),
    "last_over_time(x[1h] offset 5m)": b.call("last_over_time", b.ranged("x", "1h", offset="5m")),
    'r{slo="s"}': b.of_slo("r", "s"),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_each_construct_lays_out_as_the_rules_show_it_and_parses(text):
    assert str(CASES[text]) == text
    parse_expr(text)   # raises PromQLError if the builder wrote something that is not PromQL
