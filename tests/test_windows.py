"""Window and burn-rate math, on its own (no PromQL)."""
from decimal import Decimal
from fractions import Fraction

import pytest

from generator.model.windows import DAY, PERIODS, base_window, budget_as_time, default_pairs, period_seconds
from generator.model.windows import PAGE, TICKET


def test_workbook_pairs_for_30_days():
    pairs = default_pairs(PERIODS["30d"], PAGE) + default_pairs(PERIODS["30d"], TICKET)
    assert [(p.long_text, p.short_text, str(p.factor)) for p in pairs] == [
        ("1h", "5m", "14.4"), ("6h", "30m", "6"), ("1d", "2h", "3"), ("3d", "6h", "1")]
    shares = [p.budget_share(PERIODS["30d"]) for p in pairs]
    assert shares == [Fraction(2, 100), Fraction(5, 100), Fraction(10, 100), Fraction(10, 100)]


@pytest.mark.parametrize("period", ["28d", "7d"])
def test_scaled_periods_spend_the_same_budget_share(period):
    reference = default_pairs(PERIODS["30d"], PAGE) + default_pairs(PERIODS["30d"], TICKET)
    scaled = default_pairs(PERIODS[period], PAGE) + default_pairs(PERIODS[period], TICKET)
    for ref, pair in zip(reference, scaled):
        assert pair.factor == ref.factor
        assert pair.budget_share(PERIODS[period]) == ref.budget_share(PERIODS["30d"])
        assert pair.short >= 300  # never below the 5m staging base
        assert pair.short < pair.long <= PERIODS[period]


def test_seven_day_windows():
    pairs = default_pairs(7 * DAY, PAGE) + default_pairs(7 * DAY, TICKET)
    assert [(p.long_text, p.short_text) for p in pairs] == [
        ("14m", "5m"), ("1h24m", "7m"), ("5h36m", "28m"), ("16h48m", "1h24m")]


def test_threshold_and_budget_time():
    pair = default_pairs(PERIODS["30d"], PAGE)[0]
    assert pair.threshold(Decimal("0.001")) == Decimal("0.0144")
    assert budget_as_time(Decimal("0.005"), PERIODS["30d"]) == 3 * 3600 + 36 * 60   # 3h36m
    assert budget_as_time(Decimal("0.001"), PERIODS["30d"]) == 43 * 60 + 12         # 43m12s


def test_periods_of_a_week_or_more_keep_the_5m_base():
    for seconds in PERIODS.values():
        assert base_window(seconds) == 300


def test_a_compressed_period_scales_windows_for_and_base_to_whole_seconds():
    period = period_seconds("6h")  # 30d / 120
    pairs = default_pairs(period, PAGE) + default_pairs(period, TICKET)
    assert base_window(period) == 11  # 5m x 6h / 7d
    assert [(p.long, p.short, p.for_) for p in pairs] == [(30, 11, 0), (180, 15, 0), (720, 60, 30), (2160, 180, 90)]
    for ref, pair in zip(default_pairs(PERIODS["30d"], PAGE) + default_pairs(PERIODS["30d"], TICKET), pairs):
        assert pair.factor == ref.factor
        assert pair.long * 120 == ref.long  # the same budget share
        assert base_window(period) <= pair.short < pair.long <= period


@pytest.mark.parametrize("text", ["14d", "1y", "2h", "0h", "6 h"])
def test_periods_that_are_neither_standard_nor_compressed_are_refused(text):
    with pytest.raises(ValueError):
        period_seconds(text)
