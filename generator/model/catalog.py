"""Load the definitions from slo/, alerts/, dashboards/ and telemetry/, collecting every problem.

Each definitions file is a Python module with module-level lists (``SLOS``,
``ALERTS``, ``TEAMS``, ``METRICS``, ``DASHBOARDS``, ``OVERVIEW_LINKS``) or a
``TELEMETRY``. Files starting with '_' are helpers and are not loaded on
their own; a definitions file imports one as ``<folder>.<module>`` (e.g.
``from dashboards._uids import ...``): the project root is on ``sys.path``
while the files load, and those modules are forgotten afterwards.

A ``DASHBOARDS`` entry is a dashboard (``generator.grafana.dashboard(...)``)
or a function of the catalogue that returns one, called once every other
definition has loaded cleanly (for a dashboard that lists what other files
define, such as the invariant alerts).
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

from generator import conventions as c
from generator.model import prometheus_versions
from generator.runbooks import prose
from generator.model import fields
from generator.model.declared_metrics import Metric
from generator.model.invariants import Invariant
from generator.model.fields import NAME
from generator.model.problems import DefinitionError, Problem, collecting
from generator.model.slo import SLO
from generator.model.teams import Team
from generator.model.telemetry import Telemetry
from generator.model.windows import PERIODS, TIERS

DEFINITION_DIRS = ("slo", "alerts", "dashboards", "telemetry")


@dataclass(frozen=True)
class Catalog:
    root: Path
    slos: tuple[SLO, ...]
    invariants: tuple[Invariant, ...]
    dashboards: tuple[dict[str, Any], ...] = ()  # dashboards from dashboards/ (DASHBOARDS), by uid
    telemetry: Telemetry | None = None   # telemetry pipelines from telemetry/
    teams: tuple[Team, ...] = ()         # owners and their escalation paths (TEAMS)
    metrics: tuple[Metric, ...] = ()     # metrics exporters and services emit besides KFM's helpers (METRICS)
    dashboard_sources: tuple[tuple[str, str], ...] = ()  # (uid, the definitions file of that dashboard)
    overview_links: tuple[dict[str, Any], ...] = ()  # the SLO overview's dashboard links (OVERVIEW_LINKS), by target

    def max_rules_per_group(self) -> int:
        """The most rules a group may hold in every environment (the rules are shared); 0 for no limit."""
        limits = [e.max_rules_per_group for e in self.telemetry.environments if e.max_rules_per_group] \
            if self.telemetry else []
        return min(limits, default=0)

    def dashboard_source(self, uid: str) -> str | None:
        """The definitions file (relative to the root) of a dashboard from dashboards/; None for generated ones."""
        return dict(self.dashboard_sources).get(uid)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def relative(self, path: str) -> str:
        return relative_to(self.root, path)


T = TypeVar("T")


def per_catalog(compute: Callable[[Catalog], T]) -> Callable[[Catalog], T]:
    """`compute` once for the latest catalogue: backends that read another backend's model-level results
    (the Kubernetes backend wraps the rule sets and dashboards) do not compute them again. A catalogue
    is frozen, so its results never change; the one kept is the last one asked for."""
    last: list[tuple[Catalog, T]] = []

    @functools.wraps(compute)
    def cached(catalog: Catalog) -> T:
        if last and last[0][0] is catalog:
            return last[0][1]
        result = compute(catalog)
        last[:] = [(catalog, result)]
        return result
    return cached


def relative_to(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def definition_files(root: Path) -> list[Path]:
    files = []
    for folder in DEFINITION_DIRS:
        base = root / folder
        if base.is_dir():
            files.extend(sorted(p for p in base.glob("*.py") if not p.name.startswith("_")))
    return files


DashboardBuilder = Callable[["Catalog"], object]  # what it returns is checked like any DASHBOARDS entry


@contextmanager
def _definitions_importable(root: Path) -> Iterator[None]:
    """While the files load, the root is on sys.path, so a definitions file can import a helper as
    `<folder>.<module>` (`from dashboards._uids import ...`). Those modules come from this root: the
    ones another load imported are hidden meanwhile, and this load's are forgotten afterwards."""
    def ours(name: str) -> bool:
        return name.split(".", 1)[0] in DEFINITION_DIRS

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    importlib.invalidate_caches()
    added_path = str(root) not in sys.path
    if added_path:
        sys.path.insert(0, str(root))
    try:
        yield
    finally:
        if added_path:
            sys.path.remove(str(root))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def load(root: Path) -> Catalog:
    root = root.resolve()
    problems: list[Problem] = []
    slos: list[SLO] = []
    invariants: list[Invariant] = []
    teams: list[Team] = []
    dashboards: list[tuple[str, dict[str, Any]]] = []
    builders: list[tuple[Path, int, DashboardBuilder]] = []
    overview_links: list[tuple[str, int, object]] = []
    telemetry: list[Telemetry] = []
    metrics: list[Metric] = []
    with _definitions_importable(root):
        for path in definition_files(root):
            rel = relative_to(root, str(path))
            with collecting() as collected:
                try:
                    module = _import(path)
                except DefinitionError as error:
                    collected.extend(error.problems)
                    module = None
                except KeyboardInterrupt:
                    raise
                except BaseException as error:  # a definitions file that does not run (or calls exit())
                    problems.append(Problem(rel, "module", "import", _describe(error, path)))
                    module = None
            if collected:  # its objects are not checked against other files' until it loads cleanly
                problems.extend(_relativize(root, collected))
                continue
            if module is None:
                continue
            found_any = False
            for attribute, kind, into in (("SLOS", SLO, slos), ("ALERTS", Invariant, invariants),
                                          ("TEAMS", Team, teams), ("METRICS", Metric, metrics)):
                items = getattr(module, attribute, None)
                if items is None:
                    continue
                found_any = True
                if not isinstance(items, (list, tuple)):
                    problems.append(Problem(rel, attribute, "type",
                                            f"expected a list of {kind.__name__}, got {type(items).__name__}"))
                    continue
                for index, item in enumerate(items):
                    if not isinstance(item, kind):
                        problems.append(Problem(rel, f"{attribute}[{index}]", "type",
                                                f"expected {kind.__name__}, got {type(item).__name__}"))
                    else:
                        into.append(item)
            found = getattr(module, "TELEMETRY", None)
            if found is not None:
                found_any = True
                if isinstance(found, Telemetry):
                    telemetry.append(found)
                else:
                    problems.append(Problem(rel, "TELEMETRY", "type", f"expected Telemetry, got {type(found).__name__}"))
            boards = _listed(module, "DASHBOARDS", "dashboards", rel, problems)
            if boards is not None:
                found_any = True
                for index, board in enumerate(boards):
                    if callable(board):  # a function of the catalogue: called once everything has loaded
                        builders.append((path, index, board))
                        continue
                    _add_checked_dashboard(rel, index, board, dashboards, problems)
            links = _listed(module, "OVERVIEW_LINKS", "links", rel, problems)
            if links is not None:
                found_any = True
                overview_links.extend((rel, index, link) for index, link in enumerate(links))
            if not found_any:
                problems.append(Problem(rel, "module", "SLOS",
                                        "defines none of SLOS, ALERTS, TEAMS, METRICS, DASHBOARDS, TELEMETRY"))
    problems.extend(_duplicates(root, slos, invariants))
    problems.extend(_test_series_problems(root, slos))
    problems.extend(_compressed_periods(root, slos))
    problems.extend(_rule_feature_problems(root, slos, telemetry[0] if telemetry else None))
    problems.extend(_group_size_problems(root, slos, invariants, telemetry[0] if telemetry else None))
    problems.extend(_declared_metric_problems(root, metrics))
    problems.extend(_declared_source_problems(root, slos, metrics))
    problems.extend(_duplicate_dashboards(dashboards, slos))
    problems.extend(prose.override_problems(root))
    if len(telemetry) > 1:
        problems.append(Problem(relative_to(root, telemetry[1].defined_in), "TELEMETRY", "type",
                                "define the telemetry pipelines once"))
    names = [t.name for t in teams]
    for team in teams:
        if names.count(team.name) > 1:
            problems.append(Problem(relative_to(root, team.defined_in), f"team {team.name}", "name",
                                    "defined more than once"))
            break
    if problems:
        raise DefinitionError(problems)
    catalog = Catalog(root, tuple(sorted(slos, key=lambda s: s.name)),
                      tuple(sorted(invariants, key=lambda i: i.name)),
                      tuple(board for _, board in sorted(dashboards, key=lambda item: item[1]["uid"])),
                      telemetry[0] if telemetry else None,
                      tuple(sorted(teams, key=lambda t: t.name)),
                      tuple(sorted(metrics, key=lambda m: m.name)))
    if builders:
        with _definitions_importable(root):
            dashboards += _built_dashboards(root, catalog, builders, problems)
        problems.extend(_duplicate_dashboards(dashboards, slos))
    links = _overview_links(overview_links, dashboards, slos, problems)
    if problems:
        raise DefinitionError(problems)
    by_uid = sorted(dashboards, key=lambda item: item[1]["uid"])
    return replace(catalog, dashboards=tuple(board for _, board in by_uid),
                   dashboard_sources=tuple((board["uid"], file) for file, board in by_uid),
                   overview_links=tuple(links))


def _listed(module: types.ModuleType, name: str, what: str, file: str,
            problems: list[Problem]) -> list[Any] | tuple[Any, ...] | None:
    """The module's list `name` (None when it has none); anything but a list is a problem, read as empty."""
    value = getattr(module, name, None)
    if value is None or isinstance(value, (list, tuple)):
        return value
    problems.append(Problem(file, name, "type", f"expected a list of {what}, got {type(value).__name__}"))
    return ()


DASHBOARD_UID_LIMIT = 40  # Grafana's


def _dashboard_problem(board: object) -> tuple[str, str] | None:
    """(field, message) when a DASHBOARDS entry cannot be rendered safely: its uid names files and a
    ConfigMap, so it is lower-case words joined by '-' (Grafana allows more; Kubernetes names do not)."""
    if not isinstance(board, dict) or not board.get("panels") or "uid" not in board:
        return "type", "expected a dashboard from generator.grafana.dashboard(...)"
    uid = board["uid"]
    if not isinstance(uid, str) or NAME.match(uid) is None or len(uid) > DASHBOARD_UID_LIMIT:
        return "uid", (f"{uid!r} must be lower-case words joined by '-', at most {DASHBOARD_UID_LIMIT} "
                       "characters (it names a file and a ConfigMap)")[:300]
    return None


def _generated_uids(slos: list[SLO]) -> set[str]:
    """The dashboards the compiler makes itself: the overview and one per SLO."""
    return {c.OVERVIEW_DASHBOARD_UID} | {c.slo_dashboard_uid(s.name) for s in slos}


MAX_DASHBOARD_DEPTH = 64  # far deeper than any dashboard; keeps the check (and json.dumps) off the recursion limit


class _NotJSON(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path, self.message = path, message


def _add_checked_dashboard(file: str, index: int, board: object, into: list[tuple[str, dict[str, Any]]],
                           problems: list[Problem]) -> None:
    """The board's plain JSON copy into `into`, or its problem into `problems`."""
    trouble, plain = _checked_dashboard(file, index, board)
    if trouble:
        problems.append(trouble)
    else:
        into.append((file, plain))


def _checked_dashboard(file: str, index: int, board: object) -> tuple[Problem | None, dict[str, Any]]:
    """(None, a plain JSON copy of the board) or (the problem, {}). The copy is what renders: json.dumps
    of it cannot fail (a set, bytes, a key that is not a string, a cycle, NaN, a lone surrogate), and a
    dict subclass cannot change its mind between the check and the render."""
    try:
        trouble = _dashboard_problem(board)
        if trouble:
            return Problem(file, f"DASHBOARDS[{index}]", *trouble), {}
        assert isinstance(board, dict)  # _dashboard_problem refuses anything else
        uid = board["uid"]
        try:
            return None, _plain_dict(board, "", (id(board),))
        except _NotJSON as error:
            field = error.path if len(error.path) <= 80 else error.path[:77] + "..."
            return Problem(file, f"dashboard {uid!r}", field or "definition", error.message), {}
    except Exception as error:  # noqa: BLE001 - a mapping that fails to read is the definition's problem
        return Problem(file, f"DASHBOARDS[{index}]", "type",
                       f"cannot be read: {type(error).__name__}: {error}"[:300]), {}


def _plain_json(value: object, path: str, ancestors: tuple[int, ...]) -> object:
    """`value` as plain JSON data (dict, list, str, int, float, bool, None), or _NotJSON naming where not."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _NotJSON(path, "holds a lone surrogate, which UTF-8 (and so the JSON file) cannot hold") from None
        return str(value)
    if isinstance(value, int):
        try:
            str(value)
        except ValueError:
            raise _NotJSON(path, "a number with too many digits to write") from None
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJSON(path, f"{value!r} is not a finite number (JSON has no NaN or infinity)")
        return float(value)
    if id(value) in ancestors:
        raise _NotJSON(path, "contains itself")
    if len(ancestors) >= MAX_DASHBOARD_DEPTH:
        raise _NotJSON(path, f"nested deeper than {MAX_DASHBOARD_DEPTH} levels")
    inner = (*ancestors, id(value))
    if isinstance(value, dict):
        return _plain_dict(value, path, inner)
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, f"{path}[{i}]", inner) for i, item in enumerate(value)]
    raise _NotJSON(path, f"a value of type {type(value).__name__}, which JSON cannot hold: give dicts, lists, "
                         "strings, numbers, True/False or None")


def _plain_dict(value: dict[object, object], path: str, inner: tuple[int, ...]) -> dict[str, Any]:
    """_plain_json of a dict; `inner` holds the ids of the containers it is in, its own last."""
    plain = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise _NotJSON(f"{path}[{key!r}]" if path else repr(key),
                           f"keys must be strings, got {type(key).__name__} {key!r}"[:200])
        where = f"{path}.{key}" if path else key
        plain[str(_plain_json(key, where, inner))] = _plain_json(item, where, inner)
    return plain


def _duplicate_dashboards(dashboards: list[tuple[str, dict[str, Any]]], slos: list[SLO]) -> list[Problem]:
    generated = _generated_uids(slos)
    problems, seen = [], set()
    for file, board in dashboards:
        uid = board["uid"]
        if uid in generated or uid in seen:
            problems.append(Problem(file, f"dashboard {uid!r}", "uid", "another dashboard has this uid"))
        seen.add(uid)
    return problems


def _built_dashboards(root: Path, catalog: Catalog, builders: list[tuple[Path, int, DashboardBuilder]],
                      problems: list[Problem]) -> list[tuple[str, dict[str, Any]]]:
    """Call each DASHBOARDS function with the catalogue; a crash or a non-dashboard is a problem of its file."""
    built: list[tuple[str, dict[str, Any]]] = []
    for path, index, builder in builders:
        rel, where = relative_to(root, str(path)), f"DASHBOARDS[{index}]"
        try:
            board = builder(catalog)
        except DefinitionError as error:
            problems.extend(_relativize(root, error.problems))
            continue
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # the function does not run (or calls exit())
            problems.append(Problem(rel, where, "call", _describe(error, path)))
            continue
        _add_checked_dashboard(rel, index, board, built, problems)
    return built


def _overview_links(links: list[tuple[str, int, object]], dashboards: list[tuple[str, dict[str, Any]]],
                    slos: list[SLO], problems: list[Problem]) -> list[dict[str, Any]]:
    """OVERVIEW_LINKS: links (generator.grafana.link_to) to rendered dashboards, ordered by the uid they open."""
    uids = _generated_uids(slos) | {board["uid"] for _, board in dashboards}
    found = []
    for rel, index, link in links:
        url = link.get("url") if isinstance(link, dict) else None
        target = url[len("/d/"):].split("?")[0] if isinstance(url, str) and url.startswith("/d/") else None
        if not isinstance(link, dict) or target is None:
            problems.append(Problem(rel, f"OVERVIEW_LINKS[{index}]", "type",
                                    "expected a dashboard link from generator.grafana.link_to(uid, title)"))
        elif target not in uids:
            problems.append(Problem(rel, f"OVERVIEW_LINKS[{index}]", "url",
                                    f"{target!r} is not a rendered dashboard"[:300]))
        else:
            found.append((target, rel, index, link))
    return [link for *_, link in sorted(found, key=lambda item: item[:3])]


def _import(path: Path) -> types.ModuleType:
    name = "kfm_definitions_" + "_".join(path.with_suffix("").parts[-2:])
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _describe(error: BaseException, path: Path) -> str:
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == str(path):
            line = frame.lineno
    if isinstance(error, SyntaxError) and error.lineno:
        line = error.lineno
    where = f"line {line}: " if line else ""
    return f"{where}{type(error).__name__}: {error}"


def _relativize(root: Path, problems: list[Problem]) -> list[Problem]:
    return [Problem(relative_to(root, p.file), p.definition, p.field, p.message) for p in problems]


def _test_series_problems(root: Path, slos: list[SLO]) -> list[Problem]:
    """SLIs whose generated tests cannot write series (regexes without examples): found now, with every
    other problem, rather than half-way through the render."""
    found = []
    for slo in slos:
        try:
            slo.sli.scenario_series(slo)
        except DefinitionError as error:
            found.extend(_relativize(root, error.problems))
    return found


def _declared_metric_problems(root: Path, metrics: list[Metric]) -> list[Problem]:
    """Each sample name is declared once (a histogram's _count is a name too)."""
    found: list[Problem] = []
    owner: dict[str, Metric] = {}
    for metric in metrics:
        for name in metric.series_names():
            if name in owner:
                other = owner[name]
                found.append(Problem(relative_to(root, metric.defined_in), f"metric {metric.name!r}", "name",
                                     f"{name} is already declared by metric {other.name!r} "
                                     f"({relative_to(root, other.defined_in)})"))
                break
            owner[name] = metric
    return found


def _declared_source_problems(root: Path, slos: list[SLO], metrics: list[Metric]) -> list[Problem]:
    """Each SLI against the metrics the definitions declare (a Latency SLI outside KFM's contract reads a
    declared histogram of its kind, at a declared bucket)."""
    found = []
    for slo in slos:
        for field_name, message in slo.sli.declared_metric_problems(metrics, lambda path: relative_to(root, path)):
            found.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", field_name, message))
    return found


def _group_size_problems(root: Path, slos: list[SLO], invariants: list[Invariant],
                         telemetry: Telemetry | None) -> list[Problem]:
    """Rule groups over the most rules an environment's ruler takes in one group (max_rules_per_group)."""
    from generator.prometheus.rules import invariants_group, slo_groups

    limits = [(e.max_rules_per_group, e.name) for e in telemetry.environments if e.max_rules_per_group] \
        if telemetry else []
    if not limits or any(isinstance(limit, bool) or not isinstance(limit, int) for limit, _ in limits):
        return []   # none, or not a number (the environment's own check names it)
    limit, env = min(limits)
    found = []
    for slo in slos:
        for group in slo_groups(slo, limit)[0]:
            if len(group["rules"]) > limit:
                found.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", "alerting",
                                     f"its rule group {group['name']} holds {len(group['rules'])} rules, over the "
                                     f"{limit} environment {env!r} allows in one group (max_rules_per_group): "
                                     "give it fewer window pairs"))
    if invariants and len(invariants_group(tuple(invariants))[0]["rules"]) > limit:
        found.append(Problem(relative_to(root, invariants[0].defined_in), "ALERTS", "max_rules_per_group",
                             f"{len(invariants)} invariant alerts share one rule group, over the {limit} environment "
                             f"{env!r} allows in one group"))
    return found


def _rule_feature_problems(root: Path, slos: list[SLO], telemetry: Telemetry | None) -> list[Problem]:
    """SLOs using a rule feature that some environment's Prometheus does not have (query_offset, native
    histograms): the rules are shared by every environment, so the oldest one decides."""
    environments = [(e.name, e.prometheus_version) for e in telemetry.environments] if telemetry else []
    environments = environments or [("(no telemetry/ definitions: the default)", prometheus_versions.DEFAULT_VERSION)]
    found = []
    for slo in slos:
        used = []
        if slo.alerting.query_offset:
            used.append(("alerting.query_offset", "query_offset"))
        used += slo.sli.prometheus_features()
        for field_name, feature in used:
            why = prometheus_versions.lacking(feature, environments)
            if why:
                found.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", field_name, why))
    return found


def _compressed_periods(root: Path, slos: list[SLO]) -> list[Problem]:
    """Periods under 7d exist for end-to-end tests (windows compressed with the period); the
    generated promtool tests tick every minute and mean nothing for them."""
    return [Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", "period",
                    f"{slo.period!r} is a compressed test period; definitions use one of "
                    f"{', '.join(sorted(PERIODS))}")
            for slo in slos if slo.period not in PERIODS]


def _duplicates(root: Path, slos: list[SLO], invariants: list[Invariant]) -> list[Problem]:
    problems = []
    first_slo: dict[str, SLO] = {}
    for slo in slos:
        if slo.name in first_slo:
            other_file = relative_to(root, first_slo[slo.name].defined_in)
            problems.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", "name",
                                    f"duplicate SLO name (also defined in {other_file})"))
        else:
            first_slo[slo.name] = slo
    for slo in slos:
        for field_name, value in (("name", slo.name), ("service", slo.service)):
            if value == c.INVARIANTS_FILE_STEM:
                problems.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", field_name,
                                        f"{value!r} is reserved for the invariants' files"))
    groups: dict[str, SLO] = {}
    for slo in slos:
        for group in (c.rule_group(slo.name), c.budget_rule_group(slo.name)):
            other = groups.get(group)
            if other is not None and other is not slo:
                problems.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", "name",
                                        f"its rule group {group!r} clashes with SLO {other.name!r}'s"))
            groups[group] = slo
    generated: dict[str, SLO] = {}
    for slo in slos:
        for alert in [c.burn_alert(slo.name, t) for t in TIERS] + [c.no_data_alert(slo.name)]:
            other = generated.get(alert)
            if other is not None and other.name != slo.name:
                problems.append(Problem(relative_to(root, slo.defined_in), f"SLO {slo.name!r}", "name",
                                        f"its alert {alert} (and runbook) has the same name as SLO "
                                        f"{other.name!r}'s: rename one"))
            generated.setdefault(alert, slo)
    seen: dict[str, Invariant] = {}
    for inv in invariants:
        where = relative_to(root, inv.defined_in)
        if inv.name in seen:
            problems.append(Problem(where, f"invariant {inv.name!r}", "name",
                                    f"duplicate alert name (also defined in {relative_to(root, seen[inv.name].defined_in)})"))
        elif inv.name in generated:
            problems.append(Problem(where, f"invariant {inv.name!r}", "name",
                                    f"clashes with an alert generated for SLO {generated[inv.name].name!r}"))
        seen.setdefault(inv.name, inv)
    return problems
