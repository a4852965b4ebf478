"""Checks shared by the definition models: numbers that are not booleans,
ordered collections, text that stays on one line, names that become files.

Definitions are Python, so any value can arrive in any field; these helpers
tell the validators what they have, so a wrong type is a problem naming the
field and never a crash.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

# What becomes a file name, a Kubernetes object name or a label value: lower-case words joined by '-'.
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_SERVICE_NAME = 63 - len("kfm-slo-")   # the PrometheusRule name kfm-slo-<service> is a label value too
MAX_TEXT = 2000                            # descriptions, summaries: what an alert can carry and a pager show
MAX_LABEL_VALUE = 200


def is_number(value: object) -> bool:
    """An int, float or Decimal, finite; never a bool (True is 1 to Python, not to a reader)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    return math.isfinite(value) if isinstance(value, float) else (not isinstance(value, Decimal) or value.is_finite())


def is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def ordered(value: object) -> object:
    """A tuple of a list, tuple or set (sets sorted, so output never follows the hash seed);
    anything else (a string, a number) unchanged, for the validator to refuse."""
    if isinstance(value, (set, frozenset)):
        try:
            return tuple(sorted(value))
        except TypeError:
            return tuple(sorted(value, key=repr))
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def tuple_problem(value: object, what: str) -> str | None:
    """Why `value` is not a tuple of `what`, or None."""
    if isinstance(value, str):
        return f"give a tuple of {what}, not one string: ({value!r},)"
    if not isinstance(value, tuple):
        return f"give a tuple of {what}, got {type(value).__name__}"
    return None


def text_problem(value: object, what: str = "text", multiline: bool = True, limit: int = MAX_TEXT,
                 required: bool = True) -> str | None:
    """Why `value` is not acceptable text, or None."""
    if not isinstance(value, str):
        return f"expected {what} as a string, got {type(value).__name__}"
    if required and not value.strip():
        return f"give the {what}"
    if len(value) > limit:
        return f"{len(value)} characters, at most {limit}"
    allowed = "\n\t" if multiline else ""
    bad = next((ch for ch in value if ch not in allowed and _UNPRINTABLE.match(ch)), None)
    if bad is not None:
        return f"contains the control character {bad!r}" + ("" if multiline else " (one line of text)")
    return None


# Control characters (C0, C1), line and paragraph separators, surrogates and non-characters: no
# output format carries them as text (YAML reads U+0085 as a line break; UTF-8 cannot hold a surrogate).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def label_value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"needs a string value, got {value!r}"[:120]
    if value == "":
        return "an empty value removes the label in Prometheus; leave the label out"
    return text_problem(value, "label value", multiline=False, limit=MAX_LABEL_VALUE)
