"""Which Prometheus versions the rules are for, and which rule features need a newer one.

Every environment says which Prometheus it runs (`Environment(prometheus_version=...)`, default the
oldest supported, 2.42). The rules are the same in every environment, so a feature is usable only
when every environment runs a version that has it; otherwise the definition is refused, naming the
feature, the version it needs and the environment that lacks it.
"""
from __future__ import annotations

import re

OLDEST_SUPPORTED = (2, 42)   # the generated rules and tests are tested on 2.42 and on the pinned 3.x
DEFAULT_VERSION = "2.42"
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")

# feature: (the oldest Prometheus that has it, what it is)
FEATURES = {
    "query_offset": ((2, 53), "a rule group's query_offset"),
    "native_histograms": ((3, 8), "native histograms (stable in 3.8; before, only behind "
                                   "--enable-feature=native-histograms)"),
}


def parse_version(text: object) -> tuple[int, int] | None:
    """(major, minor) of '3.16' or '2.53.1'; None when it is not a version."""
    match = _VERSION.match(text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def version_problem(text: object) -> str | None:
    version = parse_version(text)
    if version is None:
        return f"{text!r} is not a Prometheus version such as '3.16' or '2.53'"[:200]
    if version < OLDEST_SUPPORTED:
        return (f"{text} is older than {'.'.join(map(str, OLDEST_SUPPORTED))}, the oldest Prometheus the "
                "generated rules and tests are tested on")
    if version[0] > 3:
        return f"{text}: Prometheus {version[0]}.x is not known to the generator yet (2.42 to 3.x are)"
    return None


def lacking(feature: str, environments: list[tuple[str, str]]) -> str | None:
    """Why `feature` cannot be used with these (name, prometheus_version) environments, or None."""
    needed, what = FEATURES[feature]
    older = [(name, text) for name, text in environments
             if (parse_version(text) or OLDEST_SUPPORTED) < needed]
    if not older:
        return None
    where = ", ".join(f"{name!r} runs {text}" for name, text in older)
    return (f"{what} needs Prometheus {'.'.join(map(str, needed))} or later in every environment (the rules are "
            f"the same in all); {where}: set Environment(prometheus_version=...) in telemetry/ once they run it")
