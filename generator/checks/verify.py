"""Check a rendered tree before it lands: what render accepts, the real tools accept.

`check_output` looks at the files `render()` returned, before the writer
touches out/:
- every path stays inside out/ (relative, no `..`, no two paths that differ
  only in case, names short enough for any file system);
- every YAML and JSON file parses back: through libyaml's parser, every event, which is what parsing
  back can fail on for what the writer emits (tests/test_verify_loader.py); a rule file or
  PrometheusRule of another layout than the writer's is parsed into Python data;
- every Kubernetes object fits its size limit (1 MiB of data);
- the real promtool accepts every rule file and every PrometheusRule's groups
  (`promtool check rules --lint=duplicate-rules`, duplicates fatal). An object's groups reach promtool
  as the text the object holds, two spaces less indented. A rule file whose groups are, to the byte,
  groups of one PrometheusRule is checked there (its group names and rules are a subset of that
  file's); should promtool refuse the object, its rule files are checked too;
- `thanos tools rules-check` accepts every Thanos Ruler rule file (a sharded environment's);
- the real collector accepts every environment's config (`validate`, every environment at once, while
  promtool runs), where the binary built for this manifest is present.
A failure names the definition that produced the file. A tool that is absent
is said in one note line; `make test` (and CI) run with every tool present.

promtool runs while Python parses the other files back (and, for a large output, as one process
per core over a share of the files each, while the parsing is spread over the cores too): every
file is still checked, and the problems come in the same order whatever finishes first.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import yaml

from generator import conventions as c, parallel
from generator.model.catalog import Catalog
from generator.collector.config import ENDPOINT_VARS
from generator.model.problems import Problem
from generator.writer import yamlout

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ten times faster
OBJECT_LIMIT = 1024 * 1024          # bytes of data a ConfigMap (and, kept as safe, a PrometheusRule) holds
MAX_PATH_PART = 200                 # bytes of one file name (file systems allow 255)
MAX_PATH = 1000
TOOL_TIMEOUT = 120
PROMTOOL_HELP = "apt-get install prometheus, or make test (scripts/install-prometheus-tools.sh)"
COLLECTOR_HELP = "make collector (scripts/build-collector.sh)"


@dataclass(frozen=True)
class Tools:
    promtool: str | None
    collector: str | None
    promtool3: str | None = None   # checks the rule files that need a newer Prometheus than 2.x (query_offset)
    thanos: str | None = None      # checks the Thanos Ruler's rule files (`thanos tools rules-check`)


def cache_dir() -> Path:
    base = os.environ.get("KFM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "kfm-observability")
    return Path(base)


def collector_binary(manifest: str) -> Path:
    """Where scripts/build-collector.sh caches the collector built from this manifest (same key)."""
    version = re.search(r"^  version: ([0-9.]*)-kfm$", manifest, re.MULTILINE)
    body = "".join(line + "\n" for line in manifest.splitlines() if not line.startswith("#"))
    key = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    return cache_dir() / f"otelcol-v{version.group(1) if version else 'unknown'}-{key}" / "kfm-otelcol"


_GOMOD = re.compile(r"^\s*- gomod: (\S+ \S+)$", re.MULTILINE)


def _covering_collector(manifest: str) -> str | None:
    """The collector built for this manifest, or another cached build of the same release that holds
    every component it names (scripts/build-collector.sh keeps each build's manifest beside it)."""
    exact = collector_binary(manifest)
    if os.access(exact, os.X_OK):
        return str(exact)
    needed = set(_GOMOD.findall(manifest))
    prefix = exact.parent.name.rsplit("-", 1)[0] + "-"
    for candidate in sorted(cache_dir().glob(prefix + "*/kfm-otelcol")):
        built_from = candidate.parent / "builder-config.yaml"
        if os.access(candidate, os.X_OK) and built_from.is_file() \
                and needed <= set(_GOMOD.findall(built_from.read_text(encoding="utf-8"))):
            return str(candidate)
    return None


THANOS_VERSION = "0.42.5"   # scripts/build-thanos.sh's
THANOS_HELP = "make thanos (scripts/build-thanos.sh), or set THANOS"


def _cached_thanos() -> str | None:
    built = cache_dir() / f"thanos-v{THANOS_VERSION}" / "thanos"
    return str(built) if os.access(built, os.X_OK) else None


def _cached_promtool3() -> str | None:
    """The newest promtool 3.x scripts/build-prometheus3.sh has cached, if any."""
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name.removeprefix("prometheus-v")))
    built = [p for p in cache_dir().glob("prometheus-v3.*/promtool") if os.access(p, os.X_OK)]
    return str(max(built, key=version)) if built else None


def find_tools(files: dict[str, str]) -> Tools:
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    collector = os.environ.get("KFM_OTELCOL")
    if not collector and c.COLLECTOR_BUILDER_MANIFEST in files:
        collector = _covering_collector(files[c.COLLECTOR_BUILDER_MANIFEST])
    thanos = (os.environ.get("THANOS") or _cached_thanos()) if any(map(_is_ruler_file, files)) else None
    return Tools(promtool, collector, os.environ.get("PROMTOOL3") or _cached_promtool3(), thanos)


_NEWER_THAN_2_42 = re.compile(r"^\s*query_offset:", re.MULTILINE)  # group fields promtool 2.42 refuses
NEWER_HELP = "query_offset needs promtool 2.53 or later: make prometheus3 builds 3.x, or set PROMTOOL3"


class _Owners:
    """Which definition produced a rendered file, for the problem line."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def of(self, path: str) -> tuple[str, str]:
        cat = self.catalog
        for slo in cat.slos:
            if path in (c.rules_file(slo.name), c.rules_test_file(slo.name), c.dashboard_file(c.slo_dashboard_uid(slo.name)),
                        c.dashboard_configmap_file(c.slo_dashboard_uid(slo.name))):
                return cat.relative(slo.defined_in), f"SLO {slo.name!r}"
        for service in sorted({s.service for s in cat.slos}):
            if path == c.prometheus_rule_file(service) or path.startswith(c.prometheus_rule_file(service, 2)[:-6]):
                first = min((s for s in cat.slos if s.service == service), key=lambda s: s.name)
                return cat.relative(first.defined_in), f"service {service!r}"
        if path in (c.rules_file(c.INVARIANTS_FILE_STEM), c.prometheus_rule_file(c.INVARIANTS_FILE_STEM)) \
                and cat.invariants:
            return cat.relative(cat.invariants[0].defined_in), "ALERTS"
        for uid, file in cat.dashboard_sources:
            if path in (c.dashboard_file(uid), c.dashboard_configmap_file(uid)):
                return file, f"dashboard {uid!r}"
        if (path.startswith(c.OTEL_DIR) or path == c.COLLECTOR_OBJECT_FILE) and cat.telemetry is not None:
            return cat.relative(cat.telemetry.defined_in), "telemetry 'kfm'"
        return f"out/{path}", "generated file"


def _path_problems(files: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    folded: dict[str, str] = {}
    for path in files:
        pure = PurePosixPath(path)
        parts = path.split("/")
        if (pure.is_absolute() or "\\" in path or any(p in ("", ".", "..") for p in parts)
                or any(ord(ch) < 0x20 for ch in path)):
            found.append((path, "the path would leave out/ (or is not a plain relative path)"))
            continue
        if len(path.encode("utf-8")) > MAX_PATH or any(len(p.encode("utf-8")) > MAX_PATH_PART for p in parts):
            found.append((path, f"the file name is too long (at most {MAX_PATH_PART} bytes a name)"))
        other = folded.setdefault(path.casefold(), path)
        if other != path:
            found.append((path, f"differs from out/{other} only in case: one overwrites the other on macOS "
                                "and Windows"))
    return found


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_KEYS_SAFE_LOADER_REWRITES = {"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}   # flatten_mapping's
_PLAIN_TAGS: dict[str, str] = {}   # plain scalar -> the tag the resolver gives it


class _Rebuilt(Exception):
    """A node the quick construction leaves to the loader's own."""


class _CheckLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, quicker on what the generator writes: the resolver's answer is kept per plain
    scalar, and mappings, sequences and strings are built directly (no generator per node). Anything
    else (other tags, merge keys, an alias that recurses) raises _Rebuilt or fails, and the file is
    then loaded by yaml.load_all itself, whose verdict is the one reported."""
    state_generators: list[Any]
    constructed_objects: dict[Any, Any]
    recursive_objects: dict[Any, Any]

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR   # a quoted scalar, or a block: Resolver.resolve's answer too
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                if len(_PLAIN_TAGS) > 200_000:
                    _PLAIN_TAGS.clear()
                tag = _PLAIN_TAGS[value] = super().resolve(kind, value, (True, False))
            return tag
        return super().resolve(kind, value, implicit)

    def build(self, node: Any) -> Any:
        kind, tag = type(node), node.tag
        if kind is yaml.ScalarNode:
            return node.value if tag == _STR else self.construct_object(node)
        if kind is yaml.MappingNode and tag == _MAP:
            mapping = {}
            for key_node, value_node in node.value:
                if key_node.tag in _KEYS_SAFE_LOADER_REWRITES:
                    raise _Rebuilt
                key = self.build(key_node)
                if isinstance(key, (dict, list)):
                    raise _Rebuilt   # unhashable: the loader's own says so
                mapping[key] = self.build(value_node)
            return mapping
        if kind is yaml.SequenceNode and tag == _SEQ:
            return [self.build(item) for item in node.value]
        raise _Rebuilt

    def documents(self) -> list[Any]:
        found = []
        while self.check_node():
            found.append(self.build(self.get_node()))
            while self.state_generators:   # what construct_document finishes (a tagged scalar's collection)
                generators, self.state_generators = self.state_generators, []
                for generator in generators:
                    for _ in generator:
                        pass
            self.constructed_objects = {}
            self.recursive_objects = {}
        return found


def _load_all(text: str) -> list[Any]:
    """yaml.load_all(text, Loader=_Loader) as a list: the same documents, or the same error."""
    loader = _CheckLoader(text)
    try:
        return loader.documents()
    except Exception:   # noqa: BLE001 (whatever it is, the loader's own decides)
        pass
    finally:
        loader.dispose()
    return list(yaml.load_all(text, Loader=_Loader))


_SyntaxParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)   # libyaml's parser, in PyYAML's wheels


def _parse_one(path: str, text: str, documents: bool = True) -> tuple[list[Any] | None, str]:
    """The documents of a YAML file (None for JSON), or the reason it does not parse back. Without
    `documents` (the files whose data no check reads), a YAML file is only parsed, every event of it,
    by libyaml's parser in C: a text it reads to the end parses back, and building the Python objects
    (ten times slower) would only add what the writer never emits (tags, complex keys)."""
    try:
        if path.endswith((".yaml", ".yml")):
            if documents or _SyntaxParser is None:
                return _load_all(text), ""
            _SyntaxParser(text).raw_parse()
        if path.endswith(".json"):
            json.loads(text)
    except (yaml.YAMLError, ValueError) as error:
        return None, f"does not parse back: {' '.join(str(error).split())[:200]}"
    return None, ""


def _size_problems(files: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for path, text in files.items():
        kubernetes = path.startswith(c.GITOPS_BASE + "/") or _is_thanos_rule_object(path, "")
        if not kubernetes or not path.endswith(".yaml"):
            continue
        size = len(text.encode("utf-8"))
        if size > OBJECT_LIMIT:
            found.append((path, f"the object is {size / 1048576:.2f} MiB, over the 1 MiB a Kubernetes object "
                                "may hold: split its SLOs across services (or its datasets across SLOs)"))
    return found


def _is_prometheus_rule(path: str) -> bool:
    """A PrometheusRule promtool checks the groups of: the base's, and a sharded environment's shards'."""
    return path.startswith(c.GITOPS_BASE + "/prometheusrules/") or _is_thanos_rule_object(path, "shard-")


def _is_thanos_rule_object(path: str, kind: str) -> bool:
    return path.startswith(c.THANOS_DIR) and f"/prometheusrules/{kind}" in path and path.endswith(".yaml")


@dataclass(frozen=True)
class _Parsed:
    """What the checks need of one rendered file once parsed back (small: it travels back from a worker)."""
    problem: str = ""                       # why it does not parse back ("" when it does)
    rule_text: str | None = None            # a PrometheusRule: its groups as a rule file, for promtool
    group_keys: tuple[bytes, ...] | None = None   # a rule file or PrometheusRule: a digest of each group's text


# The writer's layout of a PrometheusRule: top-level keys apiVersion, kind, metadata, then `spec:` holding
# only `groups:`, a block sequence indented by two spaces that runs to the end of the file.
_OBJECT_TOP_KEYS = ("apiVersion:", "kind:", "metadata:")
_OBJECT_GROUPS = "\nspec:\n  groups:\n"
_GROUPS_KEY = "groups:\n"


def _group_blocks(groups: str) -> list[str] | None:
    """The text of each group of a block sequence written at column 0 (`- name: ...` and the lines
    indented under it), or None where the text has another shape (a comment, a sibling key, a
    document marker, a line indented by one space, no final line break)."""
    blocks: list[list[str]] = []
    for line in groups.splitlines(keepends=True):
        if line.startswith("- "):
            blocks.append([line])
        elif blocks and (line.startswith("  ") or line == "\n"):
            blocks[-1].append(line)
        else:
            return None
    return ["".join(block) for block in blocks] if blocks and groups.endswith("\n") else None


def _object_groups_text(text: str) -> tuple[str, list[str]] | None:
    """A PrometheusRule's `spec.groups` as a rule file (`groups:` and the block, two spaces less
    indented) and the text of each group, read from the text where the object has the writer's layout;
    None where it has another.

    Indenting every non-empty line of block-style YAML by the same amount keeps what it means (block
    nesting, block scalars and their indentation indicators are all relative), so promtool reads the
    groups the object holds: tests/test_verify_layout.py checks that both parse to the same data for every
    rendered object and random ones, and that other layouts take the parsing path."""
    head, found, block = text.partition(_OBJECT_GROUPS)
    if not found:
        return None
    tops = [line for line in (head + "\n").splitlines() if line and not line.startswith((" ", "#"))]
    if len(tops) != len(_OBJECT_TOP_KEYS) or not all(line.startswith(key) for line, key in zip(tops, _OBJECT_TOP_KEYS)):
        return None
    lines = block.splitlines(keepends=True)
    if not all(line == "\n" or line.startswith("  ") for line in lines):
        return None
    groups = "".join(line if line == "\n" else line[2:] for line in lines)
    blocks = _group_blocks(groups)
    return None if blocks is None else (_GROUPS_KEY + groups, blocks)


def _rule_file_groups(text: str) -> list[str] | None:
    """The text of each group of a rule file (after its comment header and `groups:`), where the writer
    laid it out; None where it has another layout."""
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index].startswith("#"):
        index += 1
    if index >= len(lines) or lines[index] != _GROUPS_KEY:
        return None
    return _group_blocks("".join(lines[index + 1:]))


def _text_keys(blocks: list[str]) -> tuple[bytes, ...]:
    """A digest of each group's text: equal digests, the same bytes under `groups:`, the same groups."""
    return tuple(hashlib.sha256(block.encode("utf-8")).digest() for block in blocks)


def _parsed(path: str, text: str) -> _Parsed:
    """A rule file or PrometheusRule in the writer's layout is parsed back by libyaml's parser alone
    (every event), and its groups are read from the text: promtool parses an object's; a rule file whose
    groups are the same bytes as groups of an object is covered by that object's check. A file of any
    other layout is parsed into Python data, and an object's groups written again for promtool."""
    rule_object, rule_file = _is_prometheus_rule(path), _is_rule_file(path)
    found: tuple[str | None, list[str]] | None = None   # (the groups for promtool, each group's text)
    if _SyntaxParser is not None and rule_object:
        found = _object_groups_text(text)
    elif _SyntaxParser is not None and rule_file:
        blocks = _rule_file_groups(text)
        found = None if blocks is None else (None, blocks)
    if found is not None:
        _, problem = _parse_one(path, text, documents=False)
        return _Parsed(problem) if problem else _Parsed(rule_text=found[0], group_keys=_text_keys(found[1]))
    documents, problem = _parse_one(path, text, rule_object or rule_file)
    if problem or documents is None:
        return _Parsed(problem)
    try:
        if len(documents) != 1:
            raise TypeError("not one document")
        if rule_object:   # promtool checks it; no rule file is covered by it
            return _Parsed(rule_text=yamlout.dump({"groups": documents[0]["spec"]["groups"]}))
    except (TypeError, KeyError):
        pass   # a PrometheusRule: reported by the parse check; a rule file: by promtool
    return _Parsed()


def _is_rule_file(path: str) -> bool:
    """A plain Prometheus rule file: promtool checks it (a sharded environment's shard files are)."""
    return path.endswith(".rules.yaml") and (path.startswith("prometheus/")
                                             or (path.startswith(c.THANOS_DIR) and "/shards/" in path))


def _is_ruler_file(path: str) -> bool:
    """A Thanos Ruler's rule file (partial_response_strategy, which promtool refuses): Thanos checks it."""
    return path.startswith(c.THANOS_DIR) and "/ruler/" in path and path.endswith(".rules.yaml")


def _thanos_problems(thanos: str, files: dict[str, str]) -> list[tuple[str, str]]:
    """`thanos tools rules-check` on every ruler file and the ruler's PrometheusRules' groups: one run,
    each file named by its own path."""
    rules = {path: text for path, text in sorted(files.items()) if _is_ruler_file(path)}
    for path, text in sorted(files.items()):
        if _is_thanos_rule_object(path, "ruler-"):
            documents, problem = _parse_one(path, text)
            try:
                if not problem and documents is not None and len(documents) == 1:
                    rules[path] = yamlout.dump({"groups": documents[0]["spec"]["groups"]})
            except (TypeError, KeyError):
                pass   # reported by the parse check
    if not rules:
        return []
    with tempfile.TemporaryDirectory(prefix="kfm-verify-") as scratch:
        names = {}
        for index, (path, text) in enumerate(rules.items()):
            local = Path(scratch) / f"ruler-{index}.rules.yaml"
            local.write_text(text, encoding="utf-8")
            names[str(local)] = path
        try:
            result = subprocess.run([thanos, "tools", "rules-check", *(f"--rules={name}" for name in names)],
                                    capture_output=True, text=True, timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            return [(next(iter(rules)), f"thanos could not run: {error}")]
    if result.returncode == 0:
        return []
    printed = result.stderr + result.stdout
    refused: dict[str, list[str]] = {}
    current = None   # its log says which file it checks, then what is wrong with it (error="...")
    for line in printed.splitlines():
        checking = re.search(r"msg=checking filename=(\S+)", line)
        if checking:
            current = names.get(checking.group(1))
            continue
        complaint = re.search(r'level=error error="(.*)"$', line)
        if complaint and current:
            refused.setdefault(current, []).append(complaint.group(1).replace('\\"', '"'))
    found = [(path, f"thanos tools rules-check refuses it: {'; '.join(lines)[:400]}") for path, lines in refused.items()]
    return found or [(next(iter(rules)), "thanos tools rules-check failed: " + " ".join(printed.split())[-400:])]


def _parse_all(files: dict[str, str], paths: list[str]) -> dict[str, _Parsed]:
    """Each file of `paths` parsed back: over the cores when there is much to parse."""
    big = sum(len(files[path]) for path in paths) > PARALLEL_BYTES
    parsed = parallel.map_items(lambda path: _parsed(path, files[path]), paths, min_items=2 if big else parallel.NEVER)
    return dict(zip(paths, parsed))


def _covered_rule_files(files: dict[str, str], objects: dict[str, _Parsed], rest: dict[str, _Parsed]) -> dict[str, str]:
    """{rule file: the PrometheusRule promtool checks all its groups in}, where the same promtool checks
    both (a rule file of distinct groups, all of them in that one object)."""
    holders: dict[bytes, set[str]] = {}
    object_newer = {}
    for path, parsed in objects.items():
        if parsed.rule_text is not None and parsed.group_keys is not None:
            object_newer[path] = bool(_NEWER_THAN_2_42.search(parsed.rule_text))
            for key in parsed.group_keys:
                holders.setdefault(key, set()).add(path)
    covered = {}
    for path, parsed in rest.items():
        keys = parsed.group_keys
        if not _is_rule_file(path) or not keys or len(set(keys)) != len(keys):
            continue
        common = set.intersection(*(holders.get(key, set()) for key in keys))
        newer = bool(_NEWER_THAN_2_42.search(files[path]))
        same_promtool = sorted(owner for owner in common if object_newer[owner] == newer)
        if same_promtool:
            covered[path] = same_promtool[0]
    return covered


PARALLEL_BYTES = 2_000_000   # rule text above which promtool runs as one process per core


def _shares(rules: dict[str, str]) -> list[list[tuple[str, str]]]:
    """The rule files in sorted order, cut into one contiguous share per promtool process, alike in size."""
    ordered = sorted(rules.items())
    total = sum(len(text) for _, text in ordered)
    count = min(os.cpu_count() or 1, 4, len(ordered)) if total > PARALLEL_BYTES else 1
    shares: list[list[tuple[str, str]]] = [[]]
    done = 0
    for item in ordered:
        if done >= total * len(shares) / count and len(shares) < count:
            shares.append([])
        shares[-1].append(item)
        done += len(item[1])
    return shares


@dataclass
class _PromtoolRun:
    """`promtool check rules` started on some of the rule files, in the background."""
    rules: dict[str, str]
    scratch: str
    names: dict[str, str]                          # scratch file -> rendered path, for all the runs' files
    processes: list[tuple["subprocess.Popen[bytes]", Path, Path]]   # each with the files its stdout, stderr go to
    error: str = ""


def _promtool_start(promtool: str, rules: dict[str, str], scratch: str, prefix: str,
                    run: _PromtoolRun | None = None) -> _PromtoolRun:
    """promtool started on `rules`, as a new run or as more processes of `run` (its problems then
    come sorted with the run's others)."""
    if run is None:
        run = _PromtoolRun({}, scratch, {}, [])
    run.rules.update(rules)
    for share in (_shares(rules) if rules and not run.error else []):
        local_names = []
        for path, text in share:
            local = Path(scratch) / f"{prefix}{len(run.names)}.yaml"
            local.write_text(text, encoding="utf-8")
            run.names[str(local)] = path
            local_names.append(str(local))
        # Into a file, not a pipe: a process is never held up writing while another is waited for.
        output = Path(scratch) / f"{prefix}promtool-{len(run.processes)}.out"   # the prefix: one per run
        errors = output.with_suffix(".err")
        try:
            with output.open("wb") as out, errors.open("wb") as err:
                run.processes.append((subprocess.Popen(
                    [promtool, "check", "rules", "--lint=duplicate-rules", "--lint-fatal", *local_names],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=err), output, errors))
        except OSError as error:
            run.error = f"promtool could not run: {error}"
            break
    return run


def _promtool_finish(run: _PromtoolRun) -> list[tuple[str, str]]:
    rules = run.rules
    if not rules:
        return []
    failed: list[str] = []   # the stderr (else stdout) of each process that failed
    for process, output, errors in run.processes:
        try:
            process.wait(timeout=TOOL_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            process.kill()
            process.wait()
            run.error = run.error or f"promtool could not run: {error}"
            continue
        if process.returncode != 0:
            failed.append(errors.read_text(encoding="utf-8", errors="replace")
                          or output.read_text(encoding="utf-8", errors="replace"))
    if run.error:
        return [(sorted(rules)[0], run.error)]
    if not failed:
        return []
    refused: dict[str, list[str]] = {}
    for line in "".join(failed).splitlines():  # "<file>: group ..., rule N, "name": what is wrong"
        scratch_name = next((name for name in run.names if line.startswith(name + ":")), None)
        if scratch_name is not None:
            refused.setdefault(run.names[scratch_name], []).append(line[len(scratch_name) + 1:].strip())
    found = [(path, f"promtool check rules refuses it: {'; '.join(lines)[:400]}"
                    + (f" ({NEWER_HELP})" if _NEWER_THAN_2_42.search(rules[path]) else ""))
             for path, lines in sorted(refused.items())]
    if not found:
        found.append((sorted(rules)[0], "promtool check rules failed: "
                      + " ".join(failed[0].replace(run.scratch, "").split())[:300]))
    return found


def _promtool_stop(runs: dict[str, _PromtoolRun]) -> None:
    """Kill what still runs (the checks stopped on an error or an interrupt): nothing outlives them."""
    for run in runs.values():
        for process, _, _ in run.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """The rendered output and the catalogue stay alive through the checks: the garbage collector need
    not walk them again at every collection the parsing triggers (that tripled the parse time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class _CollectorRun:
    """The collector's `validate` started on every environment's config, in the background."""
    processes: list[tuple[str, "subprocess.Popen[bytes] | None", Path, Path, str]]   # path, process, config, output, error


def _collector_start(collector: str, files: dict[str, str], scratch: str) -> _CollectorRun:
    """`validate` on every environment's config at once: they run while promtool and the parse-back do."""
    env = dict(os.environ)
    for endpoint, authorization in ENDPOINT_VARS.values():  # what the deployment's secret store provides
        env[endpoint] = "http://127.0.0.1:9"
        env[authorization] = "Bearer verify"
    run = _CollectorRun([])
    paths = sorted(p for p in files if p.startswith(c.OTEL_DIR) and p.endswith("/collector.yaml"))
    for index, path in enumerate(paths):
        folder = Path(scratch) / f"collector-{index}"
        folder.mkdir()
        local, output = folder / "collector.yaml", folder / "validate.out"
        local.write_text(files[path], encoding="utf-8")
        try:
            with output.open("wb") as out, output.with_suffix(".err").open("wb") as err:
                process = subprocess.Popen([collector, "validate", f"--config={local}"], stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=err, env=env)
            run.processes.append((path, process, local, output, ""))
        except OSError as error:
            run.processes.append((path, None, local, output, f"the collector could not run: {error}"))
    return run


def _collector_finish(run: _CollectorRun) -> list[tuple[str, str]]:
    found = []
    for path, process, local, output, error in run.processes:
        if process is None:
            found.append((path, error))
            continue
        try:
            process.wait(timeout=TOOL_TIMEOUT)
        except subprocess.TimeoutExpired as expired:
            process.kill()
            process.wait()
            found.append((path, f"the collector could not run: {expired}"))
            continue
        if process.returncode != 0:
            printed = (output.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
                       or output.read_text(encoding="utf-8", errors="replace"))
            message = " ".join(printed.replace(str(local), path).split())
            found.append((path, f"the collector refuses it: {message[-400:]}"))
    return found


def _collector_stop(run: _CollectorRun) -> None:
    for _, process, _, _, _ in run.processes:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def check_output(catalog: Catalog, files: dict[str, str], tools: Tools) -> tuple[list[Problem], list[str]]:
    """Problems of the rendered files (each naming the definition behind it), and notes on tools not run."""
    owners = _Owners(catalog)
    notes = []
    with _heap_frozen(), contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="kfm-verify-"))
        found = _path_problems(files)
        runs: dict[str, _PromtoolRun] = {}
        stack.callback(_promtool_stop, runs)   # before the scratch folder goes

        def check_rules(rules: dict[str, str], into: dict[str, _PromtoolRun], prefix: str = "") -> None:
            newer = {path: text for path, text in rules.items() if _NEWER_THAN_2_42.search(text)} \
                if tools.promtool3 else {}
            if newer and tools.promtool3:
                into["3"] = _promtool_start(tools.promtool3, newer, scratch, f"{prefix}3-", into.get("3"))
            if tools.promtool:
                into["2"] = _promtool_start(tools.promtool, {p: t for p, t in rules.items() if p not in newer},
                                            scratch, f"{prefix}2-", into.get("2"))

        def finish(started: dict[str, _PromtoolRun]) -> list[tuple[str, str]]:
            return [problem for version in ("3", "2") if version in started   # the order they always came in
                    for problem in _promtool_finish(started[version])]
        collector = None
        if tools.collector and any(p.startswith(c.OTEL_DIR) for p in files):
            collector = _collector_start(tools.collector, files, scratch)
            stack.callback(_collector_stop, collector)
        # The PrometheusRules first: promtool checks their groups while the rest is parsed back.
        objects = _parse_all(files, [path for path in files if _is_prometheus_rule(path)])
        check_rules({path: parsed.rule_text for path, parsed in objects.items() if parsed.rule_text is not None}, runs)
        rest = _parse_all(files, [path for path in files if path not in objects])
        # A plain rule file whose groups promtool checks within one PrometheusRule, by the same promtool, is
        # not checked twice: the same groups, and its own group names and rules are a subset of that
        # file's, unique there. Should promtool refuse that object, its rule files are checked on their own.
        covered = _covered_rule_files(files, objects, rest)
        check_rules({path: text for path, text in files.items() if _is_rule_file(path) and path not in covered}, runs)
        if not tools.promtool:
            notes.append(f"note: promtool not found, rule files not checked here ({PROMTOOL_HELP}); make test checks them")
        for path in files:
            problem = (objects[path] if path in objects else rest[path]).problem
            if problem:
                found.append((path, problem))
        found += _size_problems(files)
        refused = finish(runs)
        refused_objects = {path for path, _ in refused}
        again = {path: files[path] for path, owner in covered.items() if owner in refused_objects}
        if again:
            reruns: dict[str, _PromtoolRun] = {}
            stack.callback(_promtool_stop, reruns)
            check_rules(again, reruns, "again-")
            refused += finish(reruns)
        found += refused
        collector_found = _collector_finish(collector) if collector else []
    if any(_is_ruler_file(path) or _is_thanos_rule_object(path, "ruler-") for path in files):
        if tools.thanos:
            found += _thanos_problems(tools.thanos, files)
        else:
            notes.append(f"note: thanos not found, the Thanos Ruler's rule files not checked here ({THANOS_HELP}); "
                         "make test checks them")
    if any(p.startswith(c.OTEL_DIR) for p in files):
        if tools.collector:
            found += collector_found
        else:
            notes.append(f"note: the collector built for these components is not present, its configs not checked "
                         f"here ({COLLECTOR_HELP}); make test checks them")
    problems = []
    for path, message in found:
        file, definition = owners.of(path)
        problems.append(Problem(file, definition, f"out/{path}", message))
    return problems, notes
