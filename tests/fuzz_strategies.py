"""Hypothesis strategies that build whole random KFM projects (definitions as Python source).

A project is a set of files (``slo/*.py`` with SLOS, ``slo/datasets.csv``, ``alerts/invariants.py``
with ALERTS, ``alerts/teams.py`` with TEAMS, ``telemetry/kfm.py`` with TELEMETRY,
``dashboards/custom.py`` with DASHBOARDS). Every value is written into the source as a Python
literal by ``py()`` (a ``repr`` that also round-trips nan, Decimal, sets, dicts, huge ints), so what
the generator sees is exactly what was drawn.

Each project is drawn in one of three moods:
- *plain* (about 30%): valid-looking definitions with ordinary text;
- *weird* (about 30%): still valid-looking, but free text, label values, dataset and service names
  are sometimes hostile (``{{``, ``{{ $labels.x }}``, quotes, backslashes, newlines, unicode, 400
  characters, empty) and collections are sometimes sets;
- *hostile* (about 40%): additionally any field may get a value of the wrong kind or out of range
  (booleans where numbers go, 10**30, nan, 0.99999999, "99999d", "0s", bad regexes, path-like uids,
  dicts instead of lists, duplicate and PascalCase-colliding names, files that do not import).

Every choice shrinks towards the plain, valid, minimal project (one file, one SLO, nothing else), so a
failure Hypothesis shrinks reads as the smallest definition that still fails. Renders cost 0.1-1 s, so
the survey mode of tests/test_fuzz.py reduces failing projects with `reduce_project` instead (drop
files, items, keyword arguments), which needs far fewer renders than shrinking choice sequences.
"""
from __future__ import annotations

import csv
import io
import math
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from generator import conventions as c

# --- Hypothesis profiles (tests/test_fuzz.py registers them; registered here too, so that
# `python -m pytest -p tests.fuzz_strategies --hypothesis-profile=fuzz` finds them at start-up) ---

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                 HealthCheck.large_base_example]
# No explain phase: it re-runs failing examples to list covered lines, which here are temp files.
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
PROFILES = {
    "ci": dict(max_examples=200, derandomize=True, deadline=None, database=None, phases=_PHASES,
               suppress_health_check=_SLOW_IS_FINE, print_blob=False),
    "fuzz": dict(max_examples=10_000, derandomize=False, deadline=None, database=None, phases=_PHASES,
                 suppress_health_check=_SLOW_IS_FINE, print_blob=True),
}
for _name, _kwargs in PROFILES.items():
    settings.register_profile(_name, **_kwargs)


# --- Python source for drawn values ----------------------------------------------------------


class Raw:
    """Source text used as is (a call, a name, an expression)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


OMIT = object()  # a keyword argument left out (the default applies)


class Call:
    """``func(*args, **kwargs)`` written as source; OMIT keywords are left out."""

    def __init__(self, func: str, *args: object, **kwargs: object):
        self.func, self.args, self.kwargs = func, args, kwargs

    def __repr__(self) -> str:
        assert OMIT not in self.args, "only keyword arguments can be left out"
        parts = [py(a) for a in self.args]
        parts += [f"{k}={py(v)}" for k, v in self.kwargs.items() if v is not OMIT]
        return f"{self.func}({', '.join(parts)})"


class Plus:
    """``left + right`` (a loaded table plus inline items)."""

    def __init__(self, left: object, right: object):
        self.left, self.right = left, right

    def __repr__(self) -> str:
        return f"{py(self.left)} + {py(self.right)}"


def py(value: object) -> str:
    """Python source that evaluates to `value` (floats, sets, Decimal and huge ints included)."""
    if isinstance(value, (Raw, Call, Plus)):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    if isinstance(value, Decimal):
        return f"Decimal({str(value)!r})"
    if isinstance(value, (bool, int, str, bytes)) or value is None:
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, frozenset):
        return "frozenset(" + py(set(value)) + ")" if value else "frozenset()"
    if isinstance(value, set):
        if not value:
            return "set()"
        return "{" + ", ".join(sorted(py(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as source")


def has_multi_set(value: object) -> bool:
    """Does the value hold a set of two or more elements (whose order follows the hash seed)?"""
    if isinstance(value, (set, frozenset)):
        return len(value) >= 2 or any(has_multi_set(v) for v in value)
    if isinstance(value, Call):
        return any(has_multi_set(v) for v in (*value.args, *value.kwargs.values()) if v is not OMIT)
    if isinstance(value, (list, tuple)):
        return any(has_multi_set(v) for v in value)
    if isinstance(value, dict):
        return any(has_multi_set(k) or has_multi_set(v) for k, v in value.items())
    return False


# --- the project ----------------------------------------------------------------------------

HEADER = (
    "# Generated by tests/fuzz_strategies.py.\n"
    "from decimal import Decimal\n"
    "from pathlib import Path\n\n"
    "from generator import *\n"
    "from generator.grafana import Query, dashboard, link_to, stat, table, timeseries\n"
    "from generator.model.environments import Environment\nfrom generator.model.telemetry import Telemetry\n\n"
)


class Module:
    """A definitions file: the standard header, maybe a statement that fails, then assignments."""

    def __init__(self, assignments: list[tuple[str, object]], prelude: str = ""):
        self.assignments, self.prelude = assignments, prelude

    def text(self) -> str:
        body = HEADER + self.prelude
        for name, value in self.assignments:
            if isinstance(value, list) and value:
                body += f"{name} = [\n" + "".join(f"    {py(v)},\n" for v in value) + "]\n"
            else:
                body += f"{name} = {py(value)}\n"
        return body


class Project:
    """The files of one project (path relative to the project -> Module, or text for a table), how it
    was drawn, and tags ("set-order": a set of 2+ elements somewhere, whose order follows the hash seed)."""

    def __init__(self, modules: dict[str, "Module | str"], mood: str, tags: set[str] | None = None):
        self.modules, self.mood, self.tags = modules, mood, set(tags or ())
        self.files = {path: m.text() if isinstance(m, Module) else m for path, m in modules.items()}

    def write(self, root: Path) -> None:
        for relative, text in sorted(self.files.items()):
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")

    def source(self, compact: bool = False) -> str:
        """Every file, for a report: the reproducing definition (compact: the import header shortened)."""
        shown = []
        for path, text in sorted(self.files.items()):
            if compact and text.startswith(HEADER):
                text = "# (the standard header: from generator import *; Path, Decimal, grafana helpers,\n" \
                       "#  Environment, Telemetry)\n" + text[len(HEADER):]
            shown.append(f"### {path}\n{text.rstrip()}\n")
        return "\n".join(shown)

    def __repr__(self) -> str:   # what Hypothesis prints for a falsifying example
        return f"<project ({self.mood})>\n{self.source()}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


# --- pools of values ------------------------------------------------------------------------

WORDS = ["evidence", "api", "focus", "data", "latency", "availability", "freshness", "policy"]
TAIL_WORDS = ["v2", "v", "2", "x", "errors", "health", "api", "1"]
# Names that are distinct but collide after PascalCase (EvidenceV2...).
COLLIDING_NAMES = ["evidence-v2", "evidence-v-2", "api", "api-budget"]
HOSTILE_NAMES = ["Evidence", "a_b", "", "x" * 40, 5, None, "../x", "a/b", "evidence--v2", "invariants",
                 "-api", "api-", "é", "evidence v2", True]
SERVICES = ["evidence-resolver", "governed-api", "focus-mode", "data-pipelines", "x"]
TEAM_NAMES = ["evidence", "governance", "data-platform", "focus-mode"]
HOSTILE_TEAM_NAMES = ["Evidence Team", "", 5, "team/../x", "a_b"]

PLAIN_TEXTS = [
    "Requests complete without error.",
    "Answers are backed by verified evidence, so users can trust them.",
    "Datasets stay fresher than their maximum age.",
    "Policy decisions evaluate to allow or deny.",
    "- Check the dashboards first.\n- Roll back the last deploy.\n",
]
FRAGMENTS = ["{{", "}}", "{{ $labels.x }}", "{{ $labels.route }}", "{{ $labels.dataset }}", "{{ $value }}",
             "{{ humanize 1 }}", "{{- /* c */ -}}", "{{ .Labels.x }}", '"', "'", "\\", "\\n", "\n", "\t",
             "\r", "é", "日本語", "🚀", "\u2028", "%s", "%", "${env:SECRET}", "$labels", "<b>", "`", "|", "#",
             ": ", "- ", "---", "null", "~", "*", "&a", "!tag", "\x00", "{", "}", "[", "]", "@", ","]
# Any character but surrogates and control characters (FRAGMENTS has a few of those, on purpose).
TEXT_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))


@st.composite
def weird_text(draw, max_size: int = 400, blank: bool = False) -> str:
    """Text with template syntax, quotes, escapes, newlines, unicode, or very long; blank: may be empty."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.sampled_from(["x" * max_size, "é" * (max_size // 2)] + (["", " ", "\n"] if blank else [])))
    if kind == 1:
        return draw(st.text(TEXT_ALPHABET, min_size=0 if blank else 1, max_size=40).filter(
            lambda t: blank or t.strip()))
    pieces = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(PLAIN_TEXTS),
                                     st.text(TEXT_ALPHABET, max_size=10)), min_size=1, max_size=6))
    return "".join(pieces)[:max_size]


LABEL_VALUES_WEIRD = ['a"b', "a\\b", "new\nline", "tab\there", "cr\rhere", "é", "日本", "{{ x }}", "{{",
                      "}}", "", " ", "x" * 200, "a,b", "a=b", "}", "'", "\\", "\\n", "${env:X}", "\x01"]
COUNTERS = [c.EVIDENCE_RESOLUTIONS, c.FOCUS_ANSWERS, c.PIPELINE_RUNS, c.POLICY_DECISIONS, c.PROMOTIONS,
            "custom_requests_total", f"{c.HTTP_SERVER_DURATION}_count"]
# (label, op, value) matchers a bad/good selector adds, per counter: ordinary ones first.
PART_MATCHERS = {
    c.EVIDENCE_RESOLUTIONS: [(c.OUTCOME, "=", "error"), (c.OUTCOME, "=", "unresolved")],
    c.FOCUS_ANSWERS: [(c.OUTCOME, "=", "error"), (c.OUTCOME, "=", "abstained")],
    c.PIPELINE_RUNS: [(c.STATUS, "=", "failure"), (c.STATUS, "!=", "success")],
    c.POLICY_DECISIONS: [(c.DECISION, "=", "error")],
    c.PROMOTIONS: [(c.WORST_GATE_RESULT, "!=", "pass")],
    "custom_requests_total": [("code", "=~", "5..")],
    f"{c.HTTP_SERVER_DURATION}_count": [(c.HTTP_STATUS, "=~", "5..")],
}
GOOD_MATCHERS = {
    c.EVIDENCE_RESOLUTIONS: (c.OUTCOME, "=", "resolved"),
    c.FOCUS_ANSWERS: (c.OUTCOME, "=", "answered"),
    c.PIPELINE_RUNS: (c.STATUS, "=", "success"),
    c.POLICY_DECISIONS: (c.DECISION, "=~", "allow|deny"),
    c.PROMOTIONS: (c.WORST_GATE_RESULT, "=", "pass"),
    "custom_requests_total": ("code", "=~", "2.."),
    f"{c.HTTP_SERVER_DURATION}_count": (c.HTTP_STATUS, "=~", "2..|3.."),
}
TOTAL_MATCHERS = [("route", "=", "/v1/query"), (c.STAGE, "=", "publish"), ("job", "!=", "canary")]
MATCHER_LABELS = ["outcome", "status", "code", "route", "stage", "x"]
VALID_REGEXES = ["5..", "error|timeout", "a{2,}", ".+", "err.*", "(?i)error", "[a-z]+", "\\d+", ""]
# Regexes that Python's re accepts (some) and Prometheus' RE2 does not, or that do not compile.
HOSTILE_REGEXES = ["(?<=x)y", "(", "\\1", "(?x)a", "(?#c)a", "\\Z", "\\u0041", "x*+", "(?P<n>x)(?P=n)",
                   "a{2,}", "[[:alpha:]]", "(?<n>x)", "\\p{L}", "*", "a{1000001}"]
GROUP_LABELS = ["route", c.DECISION_CLASS, c.STAGE, c.DATASET, c.HTTP_ROUTE]
HOSTILE_GROUP_BY = [("run_id",), ("slo",), ("__x",), ("bad-label",), "route", {"route": 1}, 5, (5,),
                    ("route", "route"), ["route"], ("dataset_version_id",)]
LABEL_NAMES = ["env_tier", "component", "x", "owner_group"]
HOSTILE_LABELS = [{"severity": "x"}, {"bad-label": "x"}, {"__x": "y"}, {"x": 5}, {"x": True}, {"x": None},
                  {("a", "b")}, [("a", "b")], "abc", 5, {"alertname": "x"}, {"": "x"}, {"deployment_environment_name": "p"}]

OBJECTIVES = [0.999, 0.99, 0.95, 0.9999, "0.995", Decimal("0.999"), 0.98, "0.9995"]
EXTREME_OBJECTIVES = [0.99999999, 0.999999, "0.99999", 0.9000001]   # legal ratios, tiny or large budgets
HOSTILE_OBJECTIVES = [True, False, 0, 1, 1.0, float("nan"), float("inf"), 10 ** 30, -0.1, "abc", "", None,
                      99.9, [0.99], "0.99 ", 0.9, 0.5, "1e-3", Decimal("NaN"), 1e-30, "0x1"]
PERIODS = [OMIT, "30d", "28d", "7d"]
HOSTILE_PERIODS = ["14d", "6h", "", 30, "99999d", "0s", "1h30m", "30D", None, "4w", True]
DURATIONS_OK = ["10m", "5m", "1h30m", "1h", "2m", "15m"]
HOSTILE_DURATIONS = ["0s", "99999d", "999999d", "99999999999d", "", "5", 5, True, "1w", "-1h", "1h 30m",
                     "1.5h", "30s", None, "1y"]
# (long, short, factor) that are valid for a 7d period and any objective in OBJECTIVES.
WINDOWS_OK = [("1h", "5m", 14.4), ("6h", "30m", 6), ("1d", "2h", 3), ("3d", "6h", 1), ("2h", "10m", "2"),
              ("1h30m", "5m", 10), ("6h", "5m", Decimal("0.5"))]
HOSTILE_FACTORS = [0, True, float("nan"), "x", -1, 10 ** 30, None, 1e-30, 0.99999999]
DATASETS = ["roads", "air-quality-sensors", "river-gauges", "land-parcels", "census-tracts"]
CADENCE_AGES = {"hourly": ["2h", "1h30m", "3h"], "daily": ["26h", "1d", "2d"], "weekly": ["8d", "7d"],
                "monthly": ["32d", "31d"]}
HOSTILE_MAX_AGES = ["0s", "99999d", "999999d", "", "2 h", "1w", 7200, True, "-1h", "1m"]
HISTOGRAMS = sorted(c.HISTOGRAM_BUCKETS)
SERVICE_NAMES = [c.API_SERVICE, c.EVIDENCE_SERVICE, c.FOCUS_SERVICE, c.PIPELINE_SERVICE]
WEIRD_SERVICE_NAMES = ["svc with space", 'a"b', "é-service", "{{x}}", "x" * 100, "a\\b", "new\nline", ""]
ATTRIBUTES = ["user.email", "user.name", "enduser.id", "http.request.header.authorization", "db.query.text",
              "geo.precise_location"]
HASH_ATTRIBUTES = ["client.address", "user.id"]
ALLOWED_OK = ["http.request.header.x-request-id", "kfm.tenant", "feature_flag.key", "user.id", "url.query"]
ALLOWED_HOSTILE = ["http.request.header.authorization", "http.request.header.", "http.request.header.*", "user.email",
                   "X-Api-Key", "", 5, "http.request.header.cookie", 'a"b']
HOSTILE_ATTRIBUTES = ["run_id", "User.Email", "a b", "", "audit_ref", 'a"b', "x.y{z}", 5]
BLOCKED_OK = [r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", r"\b\d{16}\b", "[0-9]{3}-[0-9]{2}-[0-9]{4}"]
BLOCKED_HOSTILE = ["(?<=x)y", "(", "\\Z", "(?x)a", "\\u0041", "(?P=n)", "", "'", '"', "{{x}}", "a{1000001}"]
ENV_NAMES = ["prod", "dev", "stage", "qa-1"]
HOSTILE_ENV_NAMES = ["Prod", "../x", "a/b", "", 5, "x" * 40, "prod "]
UIDS = ["kfm-custom", "team-board-1", "kfm-pipeline-stages"]
HOSTILE_UIDS = ["../x", "a/b", "../../x", "../../../x", "../../../../x", c.OVERVIEW_DASHBOARD_UID, "", "x" * 41,
                "é", '"', "a b", ".", "..", "kfm-slo-evidence-v2", "/abs", "a\nb"]
EXPRS = ["sum(rate(kfm_pipeline_runs_total[$__rate_interval]))", 'up{job="x"}',
         "histogram_quantile(0.9, sum by (le) (rate(kfm_pipeline_run_duration_seconds_bucket[1h])))"]
HOSTILE_EXPRS = ["sum(", "", "{{x}}", 5, "up{a=~\"(\"}"]


def escape(value: str) -> str:
    """A PromQL double-quoted string literal body (what a careful user would type)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def selector(metric: str, matchers: list[tuple[str, str, str]]) -> str:
    if not matchers:
        return metric
    return metric + "{" + ", ".join(f'{label}{op}"{escape(value)}"' for label, op, value in matchers) + "}"


# --- drawing context ------------------------------------------------------------------------


class Ctx:
    """One project's draw, with its mood. Every choice shrinks to the plain, valid one."""

    def __init__(self, draw, mood: str):
        self.draw, self.mood = draw, mood
        self.hostile, self.weird = mood == "hostile", mood in ("weird", "hostile")
        self.tags: set[str] = set()
        self.used: dict[str, set] = {}
        # How hostile: a field refused by validation hides every accepted hostile value beside it,
        # so many hostile projects carry only one or two hostile values.
        self.intensity = draw(st.sampled_from([10, 25, 50, 100])) if self.hostile else 0

    def unique(self, kind: str, value: object, joiner: str = "-") -> object:
        """Names that must be unique are made so (suffix -2, -3, ...), except sometimes in hostile projects."""
        used = self.used.setdefault(kind, set())
        if isinstance(value, str) and value in used and not self.hostile_chance(50):
            base, n = value, 1
            while value in used:
                n += 1
                value = f"{base}{joiner}{n}"
        used.add(value)
        return value

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def hostile_chance(self, percent: int) -> bool:
        """In a hostile project, `percent` scaled by its intensity (at least 1%)."""
        return self.hostile and self.chance(max(1, percent * self.intensity // 100))

    def one(self, pool: list | st.SearchStrategy):
        return self.draw(pool if isinstance(pool, st.SearchStrategy) else st.sampled_from(pool))

    def pick(self, valid, hostile=None, percent: int = 20):
        """A valid value, or in a hostile project sometimes a hostile one."""
        if hostile is not None and self.hostile_chance(percent):
            return self.one(hostile)
        return self.one(valid)

    def text(self, plain: list[str] | None = None, hostile=None, max_size: int = 400) -> object:
        if hostile is not None and self.hostile_chance(10):
            return self.one(hostile)
        if self.weird and self.chance(30):
            return self.draw(weird_text(max_size, blank=self.hostile_chance(30)))
        return self.one(plain or PLAIN_TEXTS)

    def label_value(self, ordinary: str) -> str:
        if self.weird and self.chance(25):
            return self.one(LABEL_VALUES_WEIRD)
        return ordinary

    def collection(self, items: list, hostile: bool = True):
        """A tuple, or (weird/hostile) sometimes a list, a set or a dict of the items."""
        if self.weird and self.chance(15):
            kind = self.one(["list", "set"] + (["dict", "frozenset"] if self.hostile and hostile else []))
            try:
                if kind == "list":
                    return list(items)
                if kind == "set":
                    return set(items)
                if kind == "frozenset":
                    return frozenset(items)
                return {item: True for item in items}
            except TypeError:  # unhashable items
                return list(items)
        return tuple(items)

    def subset(self, pool: list, min_size: int = 0, max_size: int | None = None) -> list:
        return self.draw(st.lists(st.sampled_from(pool), min_size=min_size,
                                  max_size=max_size if max_size is not None else len(pool), unique=True))


def _name(ctx: Ctx) -> object:
    if ctx.hostile_chance(10):
        return ctx.one(HOSTILE_NAMES)
    if ctx.chance(25):
        return ctx.unique("slo", ctx.one(COLLIDING_NAMES if ctx.hostile else COLLIDING_NAMES[:2]))
    words = [ctx.one(WORDS)] + ctx.draw(st.lists(st.sampled_from(TAIL_WORDS + WORDS), max_size=3))
    return ctx.unique("slo", "-".join(words)[:28].rstrip("-"))


# --- SLIs -----------------------------------------------------------------------------------


def _matcher(ctx: Ctx, ordinary: tuple[str, str, str]) -> tuple[str, str, str]:
    label, op, value = ordinary
    if ctx.weird and ctx.chance(20):
        op = ctx.one(["=", "!=", "=~", "!~"])
        if op in ("=~", "!~"):
            value = ctx.pick(VALID_REGEXES, HOSTILE_REGEXES, 50)
            if ctx.weird and not ctx.hostile and ctx.chance(15):
                value = ctx.one(HOSTILE_REGEXES[3:8])   # Python accepts them, RE2 does not
        else:
            value = ctx.label_value(value)
    elif ctx.weird:
        value = ctx.label_value(value)
    if ctx.hostile_chance(5):
        label = ctx.one(["__name__", "bad-label", "le", "1x"])
    return label, op, value


def _group_by(ctx: Ctx, allowed: list[str] = GROUP_LABELS) -> object:
    if ctx.hostile_chance(10):
        return ctx.one(HOSTILE_GROUP_BY)
    if not ctx.chance(30):
        return OMIT
    labels = ctx.subset(allowed, 1, 2)
    value = ctx.collection(labels, hostile=False)
    if has_multi_set(value):
        ctx.tags.add("set-order")
    return value


def _events_ratio(ctx: Ctx) -> Call:
    metric = ctx.one(COUNTERS)
    total_matchers = []
    if ctx.chance(20):
        total_matchers.append(_matcher(ctx, ctx.one(TOTAL_MATCHERS)))
    total = selector(metric, total_matchers)
    use_good = ctx.chance(30)
    part_matcher = GOOD_MATCHERS[metric] if use_good else ctx.one(PART_MATCHERS[metric])
    part_metric = metric
    part_matchers = list(total_matchers)
    if ctx.hostile_chance(10):
        part_matchers = []                        # drops total's matchers: refused
    if ctx.hostile_chance(5):
        part_metric = ctx.one(COUNTERS)
    part_matchers.append(_matcher(ctx, part_matcher))
    if len({m[0] for m in part_matchers}) < len(part_matchers):
        part_matchers = part_matchers[-1:]
    part = selector(part_metric, part_matchers)
    if ctx.hostile_chance(10):
        total = ctx.one(["rate(x[5m])", "x{", "", 5, 'x{a="b",a="c"}', 'x{__name__="y"}', None, "x y"])
    if ctx.hostile_chance(10):
        part = ctx.one(["x{", 5, "", part + " or vector(1)"])
    kwargs: dict = {"total": total, ("good" if use_good else "bad"): part}
    if ctx.hostile_chance(5):
        kwargs["good" if not use_good else "bad"] = part   # both given
    examples = OMIT
    if any(op in ("=~", "!~", "!=") for _, op, _ in part_matchers) and ctx.chance(50):
        label = part_matchers[-1][0]
        examples = {"bad": {label: ctx.label_value("503")}, "good": {label: ctx.label_value("200")}}
    if ctx.hostile_chance(10):
        examples = ctx.one([{"bad": "x"}, {"ugly": {}}, {"bad": {"a": 5}}, 5, {"bad": [("code", "503")]}])
    kwargs["group_by"] = _group_by(ctx)
    kwargs["examples"] = examples
    return Call("EventsRatio", **kwargs)


def _latency(ctx: Ctx) -> Call:
    histogram = ctx.one(HISTOGRAMS)
    buckets = c.HISTOGRAM_BUCKETS[histogram]
    threshold: object = ctx.one(list(buckets))
    if float(threshold).is_integer() and ctx.chance(50):
        threshold = int(threshold)
    if ctx.hostile_chance(25):
        threshold = ctx.one([True, 0.4, "0.5", 10 ** 30, float("nan"), None, -1, Decimal("0.5"), 0.30000000000000004])
    text = histogram
    if histogram == c.HTTP_SERVER_DURATION and ctx.chance(30):
        text = selector(histogram, [_matcher(ctx, (c.HTTP_ROUTE, "=", "/v1/query"))])
    if ctx.hostile_chance(10):
        text = ctx.one(["unknown_duration_seconds", f'{histogram}{{le="1"}}', f"{histogram}_bucket", "x{", 5])
    group_by = _group_by(ctx, [c.DECISION_CLASS, c.HTTP_ROUTE] if histogram == c.HTTP_SERVER_DURATION else
                         [c.STAGE, "route"])
    if histogram in c.NATIVE_HISTOGRAMS and ctx.chance(25):
        # The native histogram: any threshold, including ones no classic bucket has (tests need 3.x).
        if ctx.chance(60):
            threshold = ctx.one([0.35, 0.2, 1.5, 0.001, 3, 0.25, 7.3, 120])
        native: object = True if not ctx.hostile_chance(5) else ctx.one(["yes", 1, None])
        return Call("Latency", histogram=text, threshold_seconds=threshold, group_by=group_by, native=native)
    return Call("Latency", histogram=text, threshold_seconds=threshold, group_by=group_by)


def _policy(ctx: Ctx) -> Call:
    route: object = OMIT
    if ctx.chance(40):
        route = ctx.label_value("/v1/datasets")
    if ctx.hostile_chance(15):
        route = ctx.one([5, "", True, None])
    # The policy-decision-health SLO of slo/governed_api.py: an EventsRatio over the decisions counter.
    where = f'{c.ROUTE}="{route}"' if isinstance(route, str) and route else ""
    total = c.POLICY_DECISIONS + (f"{{{where}}}" if where else "")
    bad = f'{c.POLICY_DECISIONS}{{{c.DECISION}="error"' + (f",{where}" if where else "") + "}"
    if route is not OMIT and not isinstance(route, str):
        total = route   # a hostile value where a selector belongs
    return Call("EventsRatio", total=total, bad=bad,
                group_by=_group_by(ctx, [c.ROUTE, c.POLICY_LABEL]))


def _dataset_name(ctx: Ctx, scope: str) -> object:
    name = ctx.one(DATASETS)
    if ctx.weird and ctx.chance(20):
        name = ctx.one([v for v in LABEL_VALUES_WEIRD if ctx.hostile or v.strip()])
    if ctx.hostile_chance(5):
        name = ctx.one([5, None, True])
    return ctx.unique(scope, name)


def _dataset_item(ctx: Ctx, scope: str) -> Call:
    cadence = ctx.one(list(CADENCE_AGES))
    max_age = ctx.pick(CADENCE_AGES[cadence], HOSTILE_MAX_AGES, 25)
    return Call("DatasetMaxAge", _dataset_name(ctx, scope), max_age,
                cadence=cadence if ctx.chance(50) else OMIT)


def datasets_csv(ctx: Ctx) -> str:
    """slo/datasets.csv: header and rows, consistent unless the project is hostile."""
    rows = []
    for _ in range(ctx.draw(st.integers(1, 4))):
        cadence = ctx.one(list(CADENCE_AGES))
        max_age = ctx.pick(CADENCE_AGES[cadence], HOSTILE_MAX_AGES, 20)
        if ctx.hostile_chance(10):
            cadence = ctx.one(["yearly", "", "Daily", "hourly "])
        rows.append([_dataset_name(ctx, "table"), cadence, max_age])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["dataset", "cadence", "max_age"]
    if ctx.hostile_chance(5):
        header = ctx.one([["dataset", "max_age", "cadence"], ["\ufeffdataset", "cadence", "max_age"], ["dataset"]])
    writer.writerow(header)
    for row in rows:
        if ctx.hostile_chance(5):
            row = row[:ctx.draw(st.integers(0, 2))] if ctx.chance(50) else row + ["extra"]
        writer.writerow([str(v) for v in row])
    text = buffer.getvalue()
    if ctx.hostile_chance(3):
        text = ctx.one(["", "dataset,cadence,max_age\n", "\x00\x01"])
    return text


def _freshness(ctx: Ctx, uses_table: list[bool]) -> Call:
    source = ctx.one(["items", "table", "both"])
    scope = f"datasets-{len(ctx.used)}"
    if source == "both":   # the inline items come after the table's rows: no name twice
        ctx.used[scope] = set(ctx.used.get("table", ()))
    items = [_dataset_item(ctx, scope) for _ in range(ctx.draw(st.integers(1, 3)))]
    inline = ctx.collection(items)
    table = Raw('load_datasets(Path(__file__).with_name("datasets.csv"))')
    if source == "items":
        datasets: object = inline
    elif source == "table":
        datasets = table
        uses_table.append(True)
    else:
        datasets = Plus(Raw("tuple(load_datasets(Path(__file__).with_name('datasets.csv')))"), tuple(items))
        uses_table.append(True)
    metric = OMIT
    if ctx.chance(10):
        metric = selector(c.DATASET_LAST_SUCCESS, [_matcher(ctx, ("job", "=", "pipelines"))])
    if ctx.hostile_chance(10):
        metric = ctx.one(["x{", 5, "", "rate(x[5m])"])
    return Call("Freshness", datasets=datasets, metric=metric)


# --- SLO ------------------------------------------------------------------------------------


def _labels(ctx: Ctx) -> object:
    if ctx.hostile_chance(10):
        return ctx.one(HOSTILE_LABELS)
    if not ctx.chance(25):
        return OMIT
    names = ctx.subset(LABEL_NAMES + ([c.DECISION_CLASS] if ctx.hostile else []), 1, 2)
    return {name: ctx.label_value("platform") for name in names}


def _window(ctx: Ctx, spec: tuple) -> Call:
    long, short, factor = spec
    for_ = ctx.pick([OMIT, "2m", "5m", "1h"], HOSTILE_DURATIONS, 20)
    if ctx.hostile_chance(20):
        which = ctx.one(["long", "short", "factor"])
        if which == "factor":
            factor = ctx.one(HOSTILE_FACTORS)
        elif which == "long":
            long = ctx.one(["10d", "99999d", "999999d", short, "5m", "0s", 60])
        else:
            short = ctx.one(["1m", long, "0s", "99999d", 300])
    return Call("BurnWindow", long, short, factor, for_=for_)


def _tier(ctx: Ctx, name: str) -> object:
    if ctx.hostile_chance(5):
        return ctx.one(["off", None, 5, Raw("Tier")])
    if ctx.chance(25):
        reason = ctx.text(["Investigated in working hours.", "Low traffic service."], ["", " ", 5])
        waiver = OMIT
        if name == "page" and ctx.chance(60):
            waiver = Call("Waiver", reason=ctx.text(["Approved quiet service."]),
                          expires=ctx.pick(["2027-05-31", "2030-01-01"], ["31/05/2027", "2027-5-31", 20270531,
                                                                          "", "2027-02-30"], 30),
                          approved_by=ctx.pick(["SLO review"], ["", " ", 5], 20))
            if ctx.hostile_chance(10):
                waiver = ctx.one(["yes", 5])
        return Call("Tier.disabled", reason, waiver=waiver)
    labels = _labels(ctx)
    windows: object = OMIT
    if ctx.chance(30):
        specs = ctx.subset(WINDOWS_OK, 1, 2)     # one pair per pair of windows
        if ctx.hostile_chance(10):
            specs = specs[:1] * 2
        windows = ctx.collection([_window(ctx, spec) for spec in specs])
    keep_firing_for = ctx.pick([OMIT, "5m", "90s", "1h"], ["0s", "2h", 5, "-1m", "5 m"], 15) if ctx.chance(20) else OMIT
    if labels is OMIT and windows is OMIT and keep_firing_for is OMIT and not ctx.chance(20):
        return OMIT
    enabled = OMIT
    if ctx.hostile_chance(5):
        enabled = ctx.one([False, 0, "no"])
    return Call("Tier", enabled=enabled, labels=labels, windows=windows, keep_firing_for=keep_firing_for)


def _alerting(ctx: Ctx, freshness: bool) -> object:
    if ctx.hostile_chance(5):
        return ctx.one(["page", None, 5, {"page": True}])
    if not ctx.chance(35):
        return OMIT
    min_events: object = OMIT
    if not freshness and ctx.chance(30):
        min_events = ctx.one([10, 100, 1])
    if ctx.hostile_chance(15):
        min_events = ctx.one([True, -1, 2.5, 10 ** 30, "10", None, float("nan")])
    no_data_for = ctx.pick([OMIT, "5m", "1h30m", "15m"], HOSTILE_DURATIONS, 20)
    severity = ctx.pick([OMIT, "", "page", "ticket"], ["urgent", "Page", 5, None], 15)
    query_offset = ctx.pick([OMIT, "1m", "2m", "5m"], ["30s", "11m", "0s", "1h", 2, "2"], 15) if ctx.chance(20) else OMIT
    return Call("Alerting", page=_tier(ctx, "page"), ticket=_tier(ctx, "ticket"), min_events=min_events,
                no_data_for=no_data_for, no_data_severity=severity, query_offset=query_offset)


def _slo(ctx: Ctx, teams: list[str], uses_table: list[bool]) -> Call:
    kind = ctx.one(["events", "latency", "policy", "freshness"])
    if kind == "events":
        sli: object = _events_ratio(ctx)
    elif kind == "latency":
        sli = _latency(ctx)
    elif kind == "policy":
        sli = _policy(ctx)
    else:
        sli = _freshness(ctx, uses_table)
    if ctx.hostile_chance(5):
        sli = ctx.one([None, "events", 5, Raw("EventsRatio")])
    owner = ctx.one(teams) if teams and not ctx.chance(10) else ctx.one(TEAM_NAMES)
    if ctx.weird and ctx.chance(10):
        owner = ctx.text(["platform"], ["", "  ", 5, None])
    return Call(
        "SLO",
        name=_name(ctx),
        service=ctx.pick(SERVICES, HOSTILE_NAMES, 10),
        owner=owner,
        description=ctx.text(PLAIN_TEXTS[:4], ["", "  ", 5, None, b"bytes"]),
        objective=ctx.one(EXTREME_OBJECTIVES) if ctx.chance(5) else ctx.pick(OBJECTIVES, HOSTILE_OBJECTIVES, 30),
        sli=sli,
        runbook=ctx.text([PLAIN_TEXTS[4], OMIT], [42, None, b"x", ["a"]]) if ctx.chance(90) else OMIT,
        period=ctx.pick(PERIODS, HOSTILE_PERIODS, 15),
        alerting=_alerting(ctx, kind == "freshness"),
        labels=_labels(ctx),
    )


# --- alerts/, teams, telemetry, dashboards ---------------------------------------------------


def _invariant(ctx: Ctx, teams: list[str]) -> Call:
    by = ctx.subset([c.ROUTE, c.DATASET], 0, 2) if ctx.chance(50) else []
    templated = (f"Something that must never happen ({{{{ $labels.{by[0]} }}}})" if by else
                 "Something that must never happen")
    counter_metric = ctx.one([c.POLICY_DECISIONS, c.PROMOTIONS])
    counter = selector(counter_metric, [_matcher(ctx, (c.DECISION, "=", "allow") if counter_metric == c.POLICY_DECISIONS
                                                 else (c.WORST_GATE_RESULT, "!=", "pass"))])
    if ctx.hostile_chance(10):
        counter = ctx.one(["x{", "", 5, "rate(x[5m])"])
    return Call(
        "Invariant",
        name=ctx.unique("alert", ctx.pick(["PolicyAllowWithoutLabel", "PromotionGateSkipped", "X"],
                                          ["lower", "Bad-Name", "", 5, None, "A b", "EvidenceV2SLINoData",
                                           "ApiErrorBudgetBurnPage"], 15), joiner=""),
        counter=counter,
        summary=ctx.text([templated, "A promotion went through a failing gate."], ["", 5]),
        description=ctx.text(PLAIN_TEXTS[:4], ["", None]),
        owner=ctx.one(teams) if teams else ctx.one(TEAM_NAMES),
        runbook=ctx.text([PLAIN_TEXTS[4]], [5, None]),
        by=ctx.collection(by) if by or ctx.chance(50) else OMIT,
        window=ctx.pick([OMIT, "10m", "2m", "1h30m", "1h"], HOSTILE_DURATIONS, 20),
        severity=ctx.pick([OMIT, "page", "ticket"], ["critical", "", None, 5], 15),
        labels=_labels(ctx),
        dashboard_uid=ctx.text([OMIT, "kfm-governed-api"], ["{{x}}", '"', "../x", 5]) if ctx.chance(30) else OMIT,
    )


def _team(ctx: Ctx, name: str) -> Call:
    return Call("Team", name=name,
                on_call=ctx.text([f"{name} on-call rota"], ["", " ", 5, None]),
                escalation=ctx.text(["team lead, then the incident commander"], ["", 5]),
                channel=ctx.text([OMIT, f"#kfm-{name}"], [5, None]) if ctx.chance(70) else OMIT)


def _environment(ctx: Ctx, name: object) -> Call:
    return Call(
        "Environment", name,
        trace_sampling_percent=ctx.pick([100, 25, 5, 0, 0.5, 99.99999], [True, float("nan"), 150, "5", -1, None], 15),
        debug_exporter=ctx.pick([OMIT, True, False], [1, "yes", None], 15),
        memory_limit_percent=ctx.pick([OMIT, 80, 50, 90], [95, True, 10 ** 30, 80.5, "80"], 15),
        pages=ctx.pick([OMIT, True, False], [1, "no"], 15),
        namespace=ctx.pick([OMIT, "kfm-observability", "obs-1"], ["Kfm", "a" * 64, "", "a_b", "../x"], 15),
        rule_selector=ctx.pick([OMIT, (("prometheus", "kfm"),), {"prometheus": "kfm"},
                                (("team", "a"), ("prometheus", "kfm"))],
                               [{"a/b": "x y"}, {"x": 5}, {"": "x"}, (("a",),), 5, {"x": "y" * 64}], 15),
        debug_allowed_attributes=(ctx.pick([OMIT, ("user.id",), ("url.query", "session.id")],
                                           [("http.request.header.cookie",), "user.id", ("user.email",)], 15)
                                  if ctx.chance(20) else OMIT),
        # Half the projects run Prometheus 3 everywhere, so native histograms and query_offset validate.
        prometheus_version=ctx.pick([OMIT, "3.16", "3.16", "3.5", "2.53"], ["2.41", "4.0", "3", 3.16, "", None], 10),
    )


def _telemetry(ctx: Ctx) -> Call:
    services = ctx.subset(SERVICE_NAMES, 1)
    if ctx.weird and ctx.chance(20):
        services.append(ctx.one(WEIRD_SERVICE_NAMES))
    red = ctx.subset(services, 0)
    slow = ctx.subset(services, 0)
    if ctx.hostile_chance(10):
        red = red + ["not-a-service"]
    attributes = ctx.subset(ATTRIBUTES, 0)
    hashed = ctx.subset(HASH_ATTRIBUTES, 0)
    if not attributes and not hashed and not ctx.hostile_chance(50):
        attributes = [ATTRIBUTES[0]]       # a pipeline that redacts nothing is refused (or was broken)
    if ctx.hostile_chance(15):
        (attributes if ctx.chance(50) else hashed).append(ctx.one(HOSTILE_ATTRIBUTES + ATTRIBUTES[:1]))
    blocked = ctx.subset(BLOCKED_OK, 0)
    if ctx.weird and ctx.chance(15):
        blocked.append(ctx.one(BLOCKED_HOSTILE))
    names = ctx.subset(ENV_NAMES, 1, 3)
    if ctx.hostile_chance(15):
        names.append(ctx.one(HOSTILE_ENV_NAMES + names[:1]))
    environments = [_environment(ctx, name) for name in names]
    allowed = ctx.subset(ALLOWED_OK, 0) if ctx.chance(40) else []
    if ctx.hostile_chance(15):
        allowed.append(ctx.one(ALLOWED_HOSTILE))
    values = [services, red, slow, attributes, hashed, blocked, allowed]
    services, red, slow, attributes, hashed, blocked, allowed = [ctx.collection(v) for v in values]
    environments_value = ctx.collection(environments) if ctx.hostile else tuple(environments)
    call = Call(
        "Telemetry",
        services=services, red_services=red, slow_trace_services=slow,
        slow_trace_ms=ctx.pick([500, 1, 250, 10000], [True, 0, -5, 2.5, 10 ** 30, "500", None], 15),
        delete_attributes=attributes, hash_attributes=hashed, environments=environments_value,
        blocked_value_patterns=blocked if blocked else OMIT,
        allowed_attributes=allowed if allowed else OMIT,
        span_metrics_cardinality_limit=ctx.pick([OMIT, 2000, 1], [True, 0, 10 ** 30, 2.5, "2000"], 15),
    )
    if has_multi_set(call):
        ctx.tags.add("set-order")
    return call


def _panel(ctx: Ctx, kind: str) -> Call:
    title = ctx.text(["Runs per hour", "Latency p90"], ["", 5, None], max_size=120)
    description = ctx.text(["Pipeline runs by stage."], [None, 5])
    expr = ctx.pick(EXPRS, HOSTILE_EXPRS, 15)
    legend = ctx.text(["{{stage}}", ""], [5], max_size=60)
    if kind == "timeseries":
        return Call("timeseries", title, description, [Call("Query", expr, legend)], ctx.pick(["none", "s", "reqps"]))
    if kind == "stat":
        return Call("stat", title, description, Call("Query", expr, instant=True), "none")
    return Call("table", title, description, [Call("Query", expr, instant=True, table=True)], "none")


def _dashboard(ctx: Ctx) -> Call:
    layout = ctx.one([["timeseries"], ["timeseries", "timeseries"], ["stat", "stat", "stat"], ["table"]])
    rows = [[_panel(ctx, kind) for kind in layout]]
    if ctx.hostile_chance(10):
        rows = [[_panel(ctx, "timeseries") for _ in range(3)]]   # wider than the grid
    if ctx.chance(30):
        rows.append([_panel(ctx, "timeseries")])
    tags = ctx.subset(["data-pipelines", "team-x", "kfm"], 0)
    if ctx.weird and ctx.chance(20):
        tags.append(ctx.text(["ops"]))
    uid = ctx.pick(UIDS, HOSTILE_UIDS, 35)
    if ctx.weird and not ctx.hostile and ctx.chance(4):
        uid = ctx.one(["../x", "a/b", "../../../x"])   # accepted today: they are path-like
    uid = ctx.unique("uid", uid)
    return Call(
        "dashboard", uid=uid,
        title=ctx.text(["KFM custom board"], ["", 5], max_size=120),
        description=ctx.text(["A custom board."]),
        rows=rows,
        tags=ctx.collection(tags, hostile=False) if tags else [],
        links=[Call("link_to", c.OVERVIEW_DASHBOARD_UID, "SLO overview")] if ctx.chance(50) else [],
    )


CRASHING_STATEMENTS = [
    "1 / 0\n", 'raise RuntimeError("boom\\nsecond line {{x}}")\n', "import no_such_module_kfm_fuzz\n",
    "SLOS = [\n", "raise SystemExit(3)\n", "undefined_name\n", 'raise ValueError("/etc/passwd: x: y: z")\n',
]


def _container(ctx: Ctx, items: list[Call]) -> object:
    """The module-level list, or (hostile) something that is not a list of definitions."""
    if ctx.hostile_chance(15):
        kind = ctx.one(["tuple", "set", "int", "bare", "dict", "none", "str", "nested"])
        if kind == "tuple":
            return tuple(items)
        if kind == "set":
            return set(items)
        if kind == "int":
            return 5
        if kind == "bare" and items:
            return items[0]
        if kind == "dict":
            return dict(enumerate(items))
        if kind == "none":
            return None
        if kind == "str":
            return "SLO"
        return [items]
    return list(items)


def _module(ctx: Ctx, assignments: list[tuple[str, object]]) -> Module:
    prelude = ctx.one(CRASHING_STATEMENTS) if ctx.hostile_chance(4) else ""
    return Module(assignments, prelude)


@st.composite
def projects(draw) -> Project:
    """A whole random project: 1-3 SLOs, maybe invariants, teams, telemetry and dashboards."""
    mood_roll = draw(st.integers(0, 99))
    mood = "plain" if mood_roll < 30 else "weird" if mood_roll < 60 else "hostile"
    ctx = Ctx(draw, mood)
    files: dict[str, Module | str] = {}
    team_names: list[str] = []
    if ctx.chance(70):
        team_names = ctx.subset(TEAM_NAMES, 1, 3)
        names: list[object] = list(team_names)
        if ctx.hostile_chance(15):
            names.append(ctx.one(HOSTILE_TEAM_NAMES + team_names[:1]))
        files["alerts/teams.py"] = _module(ctx, [("TEAMS", _container(ctx, [_team(ctx, n) for n in names]))])
    uses_table: list[bool] = []
    table = datasets_csv(ctx)   # drawn first, so inline datasets can avoid its names
    slos = [_slo(ctx, team_names, uses_table) for _ in range(draw(st.integers(1, 3)))]
    if len(slos) > 1 and ctx.chance(40):
        split = draw(st.integers(1, len(slos) - 1))
        files["slo/a.py"] = _module(ctx, [("SLOS", _container(ctx, slos[:split]))])
        files["slo/b.py"] = _module(ctx, [("SLOS", _container(ctx, slos[split:]))])
    else:
        files["slo/a.py"] = _module(ctx, [("SLOS", _container(ctx, slos))])
    if uses_table or ctx.chance(10):
        files["slo/datasets.csv"] = table
    if ctx.chance(35):
        invariants = [_invariant(ctx, team_names) for _ in range(draw(st.integers(1, 2)))]
        files["alerts/invariants.py"] = _module(ctx, [("ALERTS", _container(ctx, invariants))])
    if ctx.chance(80):
        telemetry = _telemetry(ctx)
        value: object = telemetry
        if ctx.hostile_chance(5):
            value = ctx.one([5, None, {"services": ()}, [telemetry]])
        files["telemetry/kfm.py"] = _module(ctx, [("TELEMETRY", value)])
    if ctx.chance(40):
        boards = [_dashboard(ctx) for _ in range(draw(st.integers(1, 2)))]
        files["dashboards/custom.py"] = _module(ctx, [("DASHBOARDS", _container(ctx, boards))])
    for value in slos:
        if has_multi_set(value):
            ctx.tags.add("set-order")
    return Project(files, mood, ctx.tags)


# --- a structured reducer: smaller variants of a project, for minimal reproductions ------------
#
# Hypothesis shrinks choice sequences, and a render costs 0.1-1 s, so shrinking a whole project that
# way takes minutes. The survey instead reduces the definitions themselves, greedily: drop a file,
# a statement, a list item, a keyword argument; shorten long text; keep the first variant that still
# fails the same way.


def _variants(value: object):
    """Values one edit smaller than `value` (most reductive edits first)."""
    if isinstance(value, Call):
        for key, item in value.kwargs.items():
            if item is not OMIT:
                yield Call(value.func, *value.args, **{**value.kwargs, key: OMIT})
        for index, item in enumerate(value.args):
            for smaller in _variants(item):
                args = list(value.args)
                args[index] = smaller
                yield Call(value.func, *args, **value.kwargs)
        for key, item in value.kwargs.items():
            if item is OMIT:
                continue
            for smaller in _variants(item):
                yield Call(value.func, *value.args, **{**value.kwargs, key: smaller})
    elif isinstance(value, Plus):
        yield value.left
        yield value.right
        for smaller in _variants(value.right):
            yield Plus(value.left, smaller)
    elif isinstance(value, (list, tuple)):
        kind = type(value)
        for index in range(len(value)):
            yield kind(value[:index] + value[index + 1:])
        for index, item in enumerate(value):
            for smaller in _variants(item):
                yield kind(value[:index] + kind([smaller]) + value[index + 1:])
    elif isinstance(value, (set, frozenset)):
        items = sorted(value, key=py)
        for index in range(len(items)):
            yield type(value)(items[:index] + items[index + 1:])
    elif isinstance(value, dict):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
        for key, item in value.items():
            for smaller in _variants(item):
                yield {**value, key: smaller}
    elif isinstance(value, str) and len(value) > 60:      # the long texts; names stay as they are
        yield value[:20]
        yield value[: len(value) // 2]


def project_variants(project: Project):
    """Projects one edit smaller than `project`."""
    paths = sorted(project.modules)
    for path in paths:                                   # drop a whole file
        yield Project({p: m for p, m in project.modules.items() if p != path}, project.mood, project.tags)
    for path in paths:
        module = project.modules[path]
        if isinstance(module, str):                      # a table: drop a data row
            lines = module.split("\n")
            for index in range(1, len(lines)):
                if lines[index]:
                    smaller = "\n".join(lines[:index] + lines[index + 1:])
                    yield Project({**project.modules, path: smaller}, project.mood, project.tags)
            continue
        if module.prelude:
            yield Project({**project.modules, path: Module(module.assignments)}, project.mood, project.tags)
        for index, (name, value) in enumerate(module.assignments):
            for smaller in _variants(value):
                assignments = list(module.assignments)
                assignments[index] = (name, smaller)
                yield Project({**project.modules, path: Module(assignments, module.prelude)},
                              project.mood, project.tags)


def reduce_project(project: Project, still_fails, budget: int = 200) -> tuple[Project, int]:
    """Greedily apply the first edit after which `still_fails(candidate)`; stop when none does or
    `budget` candidates were tried. Returns the reduced project and the number of candidates tried."""
    tried = 0
    improved = True
    while improved and tried < budget:   # one pass over the edits; again while a pass changed anything
        improved = False
        start = 0
        while tried < budget:
            # After an accepted edit, go on from where it was found: the edits before it failed just
            # now and would most likely fail again. The next pass tries them all once more.
            for index, candidate in enumerate(project_variants(project)):
                if index < start:
                    continue
                if tried >= budget:
                    break
                tried += 1
                if still_fails(candidate):
                    project, improved, start = candidate, True, index
                    break
            else:
                break
    return project, tried


# --- the known-good project whose render is the pre-existing out/ ------------------------------

BASELINE_FILES = {  # path -> text
    "alerts/teams.py": HEADER + 'TEAMS = [Team(name="evidence", on_call="evidence on-call", escalation="lead")]\n',
    "slo/base.py": HEADER + (
        "SLOS = [SLO(name='baseline-availability', service='baseline', owner='evidence',\n"
        "            description='Baseline requests complete.', objective=0.999, runbook='- look',\n"
        "            sli=EventsRatio(total='kfm_evidence_resolutions_total',\n"
        "                            bad='kfm_evidence_resolutions_total{outcome=\"error\"}'))]\n"),
    "telemetry/kfm.py": HEADER + (
        "TELEMETRY = Telemetry(services=('evidence-resolver',), red_services=(), slow_trace_services=(),\n"
        "                      slow_trace_ms=500, delete_attributes=('user.email',), hash_attributes=(),\n"
        "                      environments=(Environment('prod', trace_sampling_percent=5, pages=True),))\n"),
}
