"""Window and burn-rate math, on its own (no PromQL)."""
from decimal import Decimal
from fractions import Fraction

import pytest

from generator.windows import DAY, PERIODS, budget_as_time, default_pairs


def test_workbook_pairs_for_30_days():
    pairs = default_pairs(PERIODS["30d"], "page") + default_pairs(PERIODS["30d"], "ticket")
    assert [(p.long_text, p.short_text, str(p.factor)) for p in pairs] == [
        ("1h", "5m", "14.4"), ("6h", "30m", "6"), ("1d", "2h", "3"), ("3d", "6h", "1")]
    shares = [p.budget_share(PERIODS["30d"]) for p in pairs]
    assert shares == [Fraction(2, 100), Fraction(5, 100), Fraction(10, 100), Fraction(10, 100)]


@pytest.mark.parametrize("period", ["28d", "7d"])
def test_scaled_periods_spend_the_same_budget_share(period):
    reference = default_pairs(PERIODS["30d"], "page") + default_pairs(PERIODS["30d"], "ticket")
    scaled = default_pairs(PERIODS[period], "page") + default_pairs(PERIODS[period], "ticket")
    for ref, pair in zip(reference, scaled):
        assert pair.factor == ref.factor
        assert pair.budget_share(PERIODS[period]) == ref.budget_share(PERIODS["30d"])
        assert pair.short >= 300  # never below the 5m staging base
        assert pair.short < pair.long <= PERIODS[period]


def test_seven_day_windows():
    pairs = default_pairs(7 * DAY, "page") + default_pairs(7 * DAY, "ticket")
    assert [(p.long_text, p.short_text) for p in pairs] == [
        ("14m", "5m"), ("1h24m", "7m"), ("5h36m", "28m"), ("16h48m", "1h24m")]


def test_threshold_and_budget_time():
    pair = default_pairs(PERIODS["30d"], "page")[0]
    assert pair.threshold(Decimal("0.001")) == Decimal("0.0144")
    assert budget_as_time(Decimal("0.005"), PERIODS["30d"]) == 3 * 3600 + 36 * 60   # 3h36m
    assert budget_as_time(Decimal("0.001"), PERIODS["30d"]) == 43 * 60 + 12         # 43m12s
