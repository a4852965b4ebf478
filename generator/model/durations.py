"""Prometheus durations: parse to whole seconds, format canonically.

Only the units that SLO windows need are accepted (d, h, m, s); weeks and
years are left out on purpose so that "30d" is never written two ways.
"""
from __future__ import annotations

import functools
import re

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> int:
    """Return the duration in seconds; raise ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration string like '30d' or '5m', got {text!r}")
    match = _PATTERN.match(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration like '30d', '6h' or '5m'")
    seconds = sum(int(part) * size for part, (_, size) in zip(match.groups(), _UNITS) if part)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


@functools.lru_cache(maxsize=4096)   # the same few windows, hundreds of thousands of times in a large render
def format_duration(seconds: int) -> str:
    """Canonical text: largest units first, zero parts left out ("2d19h12m")."""
    if seconds <= 0 or seconds != int(seconds):
        raise ValueError(f"cannot format {seconds!r} seconds as a duration")
    parts = []
    rest = int(seconds)
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
