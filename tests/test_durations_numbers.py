from decimal import Decimal

import pytest

from generator.model.durations import format_duration, parse_duration
from generator.model.numbers import exact, percent, text


@pytest.mark.parametrize("given, seconds", [("5m", 300), ("1h", 3600), ("30d", 2592000),
                                            ("2d19h12m", 241920), ("1m10s", 70)])
def test_durations_round_trip(given, seconds):
    assert parse_duration(given) == seconds
    assert format_duration(seconds) == given


@pytest.mark.parametrize("bad", ["", "0s", "0m", "5", "1w", "1.5h", "-1h", "h", None])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_decimals_are_exact():
    budget = Decimal(1) - exact(0.999)
    assert text(budget) == "0.001"
    assert text(Decimal("14.4") * budget) == "0.0144"
    assert text(Decimal("6") * (Decimal(1) - exact(0.995))) == "0.03"
    assert percent(exact(0.999)) == "99.9%"
    assert float(1 - 0.999) != 0.001  # the float path this module exists to avoid
