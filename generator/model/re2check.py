"""Regular expressions as Prometheus and the collector run them: RE2 syntax (Go's regexp).

Python's `re` accepts Perl constructs RE2 refuses (lookaround, backreferences)
and refuses some RE2 accepts (`\\pL`), so patterns are compiled by RE2 itself
(Google's library, `google-re2`), quietly, and matched by it too.
"""
from __future__ import annotations

from typing import Any

from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False      # the error comes back as a problem line, not on stderr
GO_ONLY_REFUSES = ("\\C",)       # RE2 (C++) has it, Go's regexp does not


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def re2_problem(pattern: object) -> str | None:
    """Why RE2 (as Prometheus and the collector run it) refuses the pattern, or None."""
    if not isinstance(pattern, str):
        return f"expected a regular expression as a string, got {type(pattern).__name__}"
    for construct in GO_ONLY_REFUSES:
        if construct in pattern.replace("\\\\", ""):
            return f"{construct} is not supported by Go's regexp"
    try:
        _compiled(pattern)
    except Exception as error:  # re2.error; its message is bytes
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return f"not a regular expression RE2 accepts: {message}"
    return None


def fullmatch(pattern: str, value: str) -> bool:
    """Whether the whole value matches, as a Prometheus regex matcher (anchored) decides."""
    return _compiled(pattern).fullmatch(value) is not None
