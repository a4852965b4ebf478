import pytest

from generator.promql.selectors import SelectorError, parse_selector


def test_selector_round_trip():
    sel = parse_selector('http_server_request_duration_seconds_count{http_response_status_code=~"5..", kfm_decision="allow"}')
    assert sel.metric == "http_server_request_duration_seconds_count"
    assert sel.render() == 'http_server_request_duration_seconds_count{http_response_status_code=~"5..", kfm_decision="allow"}'
    assert sel.matches({"http_response_status_code": "503", "kfm_decision": "allow"})
    assert not sel.matches({"http_response_status_code": "200", "kfm_decision": "allow"})


@pytest.mark.parametrize("bad", [
    "sum(rate(x[5m]))", "x{a=b}", 'x{a="b"', 'x{a="b",a="c"}', 'x{a=~"("}', '{a="b"}', "9x",
    'x{__name__="y"}', 'x{a="b"} or y', ""])
def test_invalid_selectors_are_refused(bad):
    with pytest.raises(SelectorError):
        parse_selector(bad)
