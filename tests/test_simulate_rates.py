"""The simulator's per-tick loops compute exactly what its one-tick definitions do (they are inlined for
speed: a render simulates every minute of every scenario)."""
from __future__ import annotations

from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.prometheus.simulate import BASE_TICKS, Semantics, counter_rate, counter_rates

STEPS = st.lists(st.integers(0, 1000) | st.sampled_from([0, 0, 0]), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(STEPS, st.sampled_from(Semantics.ALL), st.integers(1, 7))
def test_counter_rates_is_counter_rate_at_every_tick(steps, semantics, span):
    counter = [float(v) / 7 for v in accumulate(steps)]
    assert counter_rates(counter, semantics, span) == [counter_rate(counter, k, semantics, span)
                                                       for k in range(len(counter))]


def test_the_default_span_is_the_staging_base():
    counter = [float(60 * k) for k in range(10)]
    assert counter_rates(counter, Semantics.CLOSED) == [counter_rate(counter, k, Semantics.CLOSED, BASE_TICKS)
                                                        for k in range(10)]
