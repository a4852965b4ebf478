"""Exact decimals for objectives, budgets and thresholds.

Floats written by users (0.999) are read through their shortest repr, so the
arithmetic happens on the decimal the user typed and output never shows
0.0010000000000000009.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation


def exact(value: float | int | str | Decimal) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():   # NaN does not even compare: every check after this one would raise
            raise ValueError(f"expected a finite number, got {value!r}")
        return value
    if isinstance(value, (int, float, str)):
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value))
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    raise ValueError(f"expected a number, got {value!r}")


def text(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros: 0.0144, 14.4, 1."""
    normalized = value.normalize()
    rendered = format(normalized, "f")
    return rendered


def percent(value: Decimal) -> str:
    """0.999 -> '99.9%'."""
    return f"{text(value * 100)}%"
