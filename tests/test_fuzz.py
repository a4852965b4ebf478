"""Property-based fuzzing of the definitions: every random project either renders into output the
real tools accept, or is refused with exit 2, one well-formed line per problem and out/ untouched.

For each example (a whole project drawn by tests/fuzz_strategies.py) the project is written to a
fresh folder over a pre-existing out/ (the render of a known-good project), and
``generator.cli.main(["render", "--root", project])`` runs in this process. Then exactly one of:

(a) refused: exit code 2; stderr's first line starts with ``error: `` and every further line is
    ``FILE: DEFINITION: FIELD: MESSAGE`` with FILE a file of the project, relative, no traceback;
    out/ byte-identical; nothing written anywhere else;
(b) rendered: exit code 0; every file inside out/ and in the documented layout; every .yaml/.json
    re-parses; ``promtool check rules`` accepts the plain rule files and the spec of every
    PrometheusRule object; the real collector accepts every ``otel/<env>/collector.yaml``
    (``validate``); every alert name comes from one rule file and its runbook_url has a runbook.
    For a deterministic sample of the rendered examples (a hash of the project picks about 1 in
    KFM_FUZZ_SAMPLE_EVERY=25), up to two generated test files run with ``promtool test rules``
    (in parallel; KFM_FUZZ_TEST_TIMEOUT=300 s each catches a hang: the slowest legitimate file seen, for
    3d page windows, takes 23 s on a quiet machine and over 30 s on a loaded one; the report's
    slowest_generated_test_seconds gives the run's slowest) and the project is rendered twice more in
    subprocesses with PYTHONHASHSEED 0 and 1, which must give identical bytes; the hash-seed renders
    also run for 1 in KFM_FUZZ_SET_SAMPLE_EVERY=3 of the rendered projects that hold a set of 2+ items.

Anything else (an exception escaping main(), SystemExit other than 2, exit code 1/3/70/..., a render
over KFM_FUZZ_RENDER_TIMEOUT=20 seconds or 3 GiB more memory) is a failure.

Run (from the repository root):
    .venv/bin/python -m pytest tests/test_fuzz.py                      # profile ci: 200, derandomized
    KFM_FUZZ_PROFILE=fuzz .venv/bin/python -m pytest tests/test_fuzz.py      # 10,000; prints its seed
    KFM_FUZZ_PROFILE=fuzz KFM_FUZZ_SEED=1234 ...                      # replay a fuzz run
    KFM_FUZZ_EXAMPLES=50 ...                                          # override the number of examples
    KFM_FUZZ_REPORT=/tmp/fuzz.json ...                                # the counts as JSON
    .venv/bin/python -m pytest -p tests.fuzz_strategies --hypothesis-profile=fuzz tests/test_fuzz.py
    .venv/bin/python tests/test_fuzz.py --survey 500                  # every distinct failure class,
                                                                      # each with a reduced definition
    KFM_FUZZ_GENERATOR=/path/to/checkout .venv/bin/python tests/test_fuzz.py --survey 500   # another tree
Tools: promtool (scripts/install-prometheus-tools.sh, or PROMTOOL=...) and the collector
(scripts/build-collector.sh, or KFM_COLLECTOR=...); missing tools fail the test, never skip it.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The generator under test: this repository, or (script mode only) another checkout of it.
GENERATOR_ROOT = Path(os.environ.get("KFM_FUZZ_GENERATOR") or ROOT).resolve()
for _path in (str(HERE), str(GENERATOR_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import pytest  # noqa: E402
import yaml  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings  # noqa: E402

import generator  # noqa: E402
from generator import cli  # noqa: E402
from generator import conventions as c  # noqa: E402

from prometheus_tools import build_prometheus3, find_promtool2  # noqa: E402
from promtool_runner import needs_prometheus_3  # noqa: E402
from fuzz_strategies import BASELINE_FILES, PROFILES, Project, projects, reduce_project  # noqa: E402

pytestmark = pytest.mark.fuzz

if Path(generator.__file__).resolve().parent != GENERATOR_ROOT / "generator":
    raise RuntimeError(f"KFM_FUZZ_GENERATOR={GENERATOR_ROOT} but generator was already imported from "
                       f"{generator.__file__} (conftest.py imports it first): use it with --survey only")

# --- settings profiles ------------------------------------------------------------------------

for _name, _kwargs in PROFILES.items():
    settings.register_profile(_name, **_kwargs)

# Hypothesis stops shrinking after five minutes; a failing CI run should not wait that long.
SHRINK_SECONDS = int(os.environ.get("KFM_FUZZ_SHRINK_SECONDS", "120"))
try:
    from hypothesis.internal.conjecture import engine as _engine
    if hasattr(_engine, "MAX_SHRINKING_SECONDS"):
        _engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS
except ImportError:  # pragma: no cover - internal module moved: keep Hypothesis's own limit
    pass

SAMPLE_EVERY = int(os.environ.get("KFM_FUZZ_SAMPLE_EVERY", "25"))
SET_SAMPLE_EVERY = int(os.environ.get("KFM_FUZZ_SET_SAMPLE_EVERY", "3"))
RENDER_TIMEOUT = float(os.environ.get("KFM_FUZZ_RENDER_TIMEOUT", "20"))
RENDER_MEMORY = 3 << 30          # bytes of address space a render may add
TEST_RULES_FILES = 2             # generated test files run per sampled example (2 cores)
TEST_RULES_TIMEOUT = int(os.environ.get("KFM_FUZZ_TEST_TIMEOUT", "300"))  # a hang, not a slow test

COLLECTOR_HELP = ("the OpenTelemetry Collector binary is missing: run scripts/build-collector.sh "
                  "(needs Go; the first build takes minutes), or set KFM_COLLECTOR=/path/to/kfm-otelcol")

LAYOUT = [re.compile(p) for p in (
    r"README\.md",
    r"prometheus/rules/[^/]+\.rules\.yaml",
    r"prometheus/tests/[^/]+\.test\.yaml",
    r"grafana/dashboards/[^/]+\.json",
    r"runbooks/[^/]+\.md",
    r"otel/builder-config\.yaml",
    r"otel/[^/]+/collector\.yaml",
    r"alertmanager/[^/]+\.yaml",
    r"addons/observability/base/(kustomization|opentelemetrycollector)\.yaml",
    r"addons/observability/base/(prometheusrules|grafana-dashboards)/[^/]+\.yaml",
    r"addons/observability/env/[^/]+/kustomization\.yaml",
    r"addons/observability/env/[^/]+/patches/[^/]+\.yaml",
)]


# --- tools ------------------------------------------------------------------------------------


def _builder_running() -> bool:
    result = subprocess.run(["pgrep", "-f", "builder --config"], capture_output=True, text=True)
    return result.returncode == 0


def find_collector() -> tuple[str | None, str]:
    """The collector binary (built by scripts/build-collector.sh), waiting for a build under way."""
    given_path = os.environ.get("KFM_COLLECTOR")
    if given_path:
        return (given_path, "") if os.access(given_path, os.X_OK) else (None, f"KFM_COLLECTOR={given_path} is not executable")
    waited = 0
    while _builder_running() and waited < 1800:   # never start a second build beside a running one
        time.sleep(10)
        waited += 10
    result = subprocess.run([str(ROOT / "scripts" / "build-collector.sh")], cwd=ROOT, capture_output=True,
                            text=True, timeout=3600)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not os.access(lines[-1], os.X_OK):
        return None, result.stderr[-2000:]
    return lines[-1], ""


def dummy_env() -> dict[str, str]:
    """Values for the ${env:...} references of the collector configs (see tests/test_collector.py)."""
    from generator.collector.config import ENDPOINT_VARS
    values = {"tempo": ("127.0.0.1:9", "Bearer test"), "loki": ("http://127.0.0.1:9/otlp", "Bearer test"),
              "remote_write": ("http://127.0.0.1:9/api/v1/write", "Bearer test")}
    env = {}
    for name, (endpoint, authorization) in ENDPOINT_VARS.items():
        env[endpoint], env[authorization] = values.get(name, ("http://127.0.0.1:9", "Bearer test"))
    return env


# --- failures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    key: str        # the failure class: what the survey groups by and Hypothesis shrinks towards
    detail: str     # what happened, for the report


class FuzzFailure(AssertionError):
    pass


_FAILURE_TYPES: dict[str, type] = {}


def failure_type(key: str) -> type:
    """One exception class per failure class, so Hypothesis shrinks (and reports) each separately."""
    if key not in _FAILURE_TYPES:
        words = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[:60] or "failure"
        _FAILURE_TYPES[key] = type(f"Fuzz_{words}", (FuzzFailure,), {"__module__": __name__})
    return _FAILURE_TYPES[key]


def norm(message: str, limit: int = 150) -> str:
    """The shape of a tool's message: quoted values, numbers and paths left out."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', text)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "'…'", text)
    text = re.sub(r"`[^`]*`", "`…`", text)
    text = re.sub(r"__alert_\w+", "__alert_<name>", text)
    text = re.sub(r"(/[^\s:/]+)+/?", "<path>", text)
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"\s+", " ", text)
    return text[:limit]


def _generator_frame(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    package = str(GENERATOR_ROOT / "generator") + os.sep
    inside = [f for f in frames if os.path.abspath(f.filename).startswith(package)]
    if not inside:
        return "outside the generator"
    frame = inside[-1]
    return f"generator/{Path(frame.filename).name}:{frame.name}"


# --- the render, in this process, fenced ------------------------------------------------------


class RenderTimeout(BaseException):
    """Raised by the alarm inside a render (a BaseException: `except Exception` cannot eat it)."""


def _on_alarm(signum, frame):
    raise RenderTimeout(f"render took longer than {RENDER_TIMEOUT:g}s")


def _address_space() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class RenderResult:
    code: object
    stdout: str
    stderr: str
    crash: Failure | None = None
    seconds: float = 0.0


def render_in_process(project: Path) -> RenderResult:
    out, err = io.StringIO(), io.StringIO()
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    code: object = None
    crash = None
    start = time.perf_counter()
    try:
        if old_limit[0] == resource.RLIM_INFINITY:
            soft = _address_space() + RENDER_MEMORY
            if old_limit[1] != resource.RLIM_INFINITY:
                soft = min(soft, old_limit[1])
            resource.setrlimit(resource.RLIMIT_AS, (soft, old_limit[1]))
        signal.setitimer(signal.ITIMER_REAL, RENDER_TIMEOUT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["render", "--root", str(project)])
    except KeyboardInterrupt:
        raise
    except SystemExit as error:
        if error.code == 2:
            code = 2
        else:
            crash = Failure(f"SystemExit({error.code!r}) escaped main()", f"SystemExit: {error.code!r}")
    except RenderTimeout as error:
        crash = Failure(f"render hangs (over {RENDER_TIMEOUT:g}s) in {_generator_frame(error)}", str(error))
    except BaseException as error:  # noqa: BLE001 - any exception escaping main() is a crash
        where = _generator_frame(error)
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        crash = Failure(f"crash: {type(error).__name__} in {where}",
                        f"{type(error).__name__}: {first}\n"
                        + "".join(traceback.format_exception(error)[-6:])[-2500:])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, old_limit)
    return RenderResult(code, out.getvalue(), err.getvalue(), crash, time.perf_counter() - start)


def tree(directory: Path, skip_pycache: bool = False) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `directory`, hidden ones included."""
    found: dict[str, bytes | None] = {}
    if not directory.is_dir():
        return found
    for base, dirs, files in os.walk(directory):
        if skip_pycache:
            dirs[:] = [d for d in dirs if d != "__pycache__"]
        relative = Path(base).relative_to(directory)
        for name in dirs:
            found[(relative / name).as_posix() + "/"] = None
        for name in files:
            path = Path(base) / name
            found[(relative / name).as_posix()] = path.read_bytes() if not path.is_symlink() else b"<symlink>"
    return found


# --- checks -----------------------------------------------------------------------------------


def malformed(line: str, project: Path) -> str | None:
    """Why a problem line is not `FILE: DEFINITION: FIELD: MESSAGE`, or None."""
    if "Traceback" in line or 'File "' in line:
        return "traceback text in an error line"
    if "\r" in line:
        return "carriage return inside an error line"
    parts = line.split(": ", 3)
    if len(parts) < 4 or not all(p.strip() for p in parts):
        return "line is not FILE: DEFINITION: FIELD: MESSAGE (a message spanning lines?)"
    file = parts[0]
    if file.startswith("/") or re.match(r"^[A-Za-z]:\\", file):
        return "FILE is an absolute path"
    if ".." in Path(file).parts:
        return "FILE points outside the project"
    if not (project / file).is_file():
        return "FILE is not a file of the project"
    return None


def _yaml_documents(text: str) -> list:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.load_all(text, Loader=loader))


@dataclass
class Outcome:
    kind: str                     # validated, refused or failed
    failures: list[Failure]
    sampled: bool = False         # generated promtool tests were run
    determinism: bool = False     # rendered again with two hash seeds
    seconds: float = 0.0
    render_seconds: float = 0.0
    test_seconds: float = 0.0     # the slowest generated test file run, wall clock


class Harness:
    def __init__(self, promtool: str, collector: str, promtool3: str | None = None):
        self.promtool, self.collector = promtool, collector
        # The generated tests must pass on both versions (2.x closed, 3.x left-open windows).
        self.test_promtools = [promtool] + ([promtool3] if promtool3 else [])
        self.work = Path(tempfile.mkdtemp(prefix="kfm-fuzz-"))
        self.collector_cache: dict[str, str | None] = {}   # sha256 of a config -> None or the error
        self.env = {**os.environ, **dummy_env()}
        self.counter = 0
        self.template = self._baseline()

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def _baseline(self) -> Path:
        project = self.work / "baseline" / "project"
        Project(dict(BASELINE_FILES), "plain").write(project)
        result = render_in_process(project)
        if result.code != 0 or result.crash:
            raise RuntimeError(f"the known-good baseline project does not render (exit {result.code!r}):\n"
                               f"{result.stderr}{result.crash.detail if result.crash else ''}")
        return project / "out"

    # one example ------------------------------------------------------------------------------
    def check(self, project: Project, force_sample: bool = False) -> Outcome:
        start = time.perf_counter()
        self.counter += 1
        sandbox = self.work / f"example-{self.counter}"
        root = sandbox / "project"
        try:
            project.write(root)
            shutil.copytree(self.template, root / "out", symlinks=True)
            before_out = tree(root / "out")
            before_defs = {k: v for k, v in tree(root, skip_pycache=True).items() if not k.startswith("out/")}
            result = render_in_process(root)
            failures: list[Failure] = []
            if result.crash:
                failures.append(result.crash)
            failures += self._fenced(sandbox, root, before_defs)
            outcome = Outcome("failed", failures, render_seconds=result.seconds)
            if result.crash:
                pass
            elif result.code == 2:
                failures += self._refused(result, root, before_out)
                outcome.kind = "refused"
            elif result.code == 0:
                outcome.kind = "validated"
                failures += self._rendered(root / "out", sandbox)
                digest = digest_of(project)
                sample = force_sample or int(digest[:8], 16) % SAMPLE_EVERY == 0
                sets = "set-order" in project.tags and int(digest[8:16], 16) % SET_SAMPLE_EVERY == 0
                if sample and not failures:
                    outcome.sampled = True
                    tested, outcome.test_seconds = self._generated_tests(root / "out", digest)
                    failures += tested
                if (sample or sets) and not any(f.key.startswith("crash") for f in failures):
                    outcome.determinism = True
                    failures += self._hash_seeds(root, sandbox)
            else:
                failures.append(Failure(f"exit code {result.code!r} from render",
                                        (result.stderr or result.stdout)[-1500:]))
            if failures:
                outcome.kind = "failed"
            outcome.failures = failures
            outcome.seconds = time.perf_counter() - start
            return outcome
        finally:
            shutil.rmtree(sandbox, ignore_errors=True)

    def _fenced(self, sandbox: Path, root: Path, before_defs: dict) -> list[Failure]:
        failures = []
        beside = sorted(p.name for p in sandbox.iterdir() if p.name != "project")
        if beside:
            failures.append(Failure("wrote outside the project folder",
                                    f"new entries beside the project: {beside}"))
        after = {k: v for k, v in tree(root, skip_pycache=True).items() if not k.startswith("out/") and k != "out/"}
        before = {k: v for k, v in before_defs.items() if k != "out/"}
        added = sorted(set(after) - set(before))
        changed = sorted(k for k in set(after) & set(before) if after[k] != before[k])
        removed = sorted(set(before) - set(after))
        if added or changed or removed:
            failures.append(Failure("wrote into the project outside out/",
                                    f"added {added[:10]}, changed {changed[:10]}, removed {removed[:10]}"))
        return failures

    def _refused(self, result: RenderResult, root: Path, before_out: dict) -> list[Failure]:
        failures = []
        lines = result.stderr.split("\n")
        if not lines[0].startswith("error: "):
            failures.append(Failure("refusal: stderr does not start with 'error: '", result.stderr[:800]))
        problems = [line for line in lines[1:] if line.strip()]
        seen = set()
        for line in problems:
            reason = malformed(line, root)
            if reason and reason not in seen:
                seen.add(reason)
                failures.append(Failure(f"malformed error line: {reason}", line[:600]))
        announced = re.match(r"error: (\d+) problem\(s\)", lines[0])
        if announced and int(announced.group(1)) != len(problems):
            failures.append(Failure("malformed error lines: the count announced differs from the lines printed",
                                    f"{lines[0]!r} but {len(problems)} lines"))
        after = tree(root / "out")
        if after != before_out:
            diff = sorted(k for k in set(after) | set(before_out) if after.get(k) != before_out.get(k))
            failures.append(Failure("refused render changed out/", f"changed: {diff[:10]}"))
        return failures

    def _rendered(self, out: Path, sandbox: Path) -> list[Failure]:
        failures: list[Failure] = []
        files = {k: v for k, v in tree(out).items() if v is not None}
        odd = sorted(p for p in files if not any(pattern.fullmatch(p) for pattern in LAYOUT))
        if odd:
            failures.append(Failure("output file outside the documented layout of out/", f"paths: {odd[:10]}"))
        if "README.md" not in files:
            failures.append(Failure("out/README.md (the generated marker) missing", ""))
        documents: dict[str, list] = {}
        for path, body in files.items():
            try:
                text = body.decode("utf-8")
                if path.endswith(".yaml"):
                    documents[path] = _yaml_documents(text)
                elif path.endswith(".json"):
                    json.loads(text)
            except (UnicodeDecodeError, yaml.YAMLError, ValueError) as error:
                kind = "json" if path.endswith(".json") else "yaml"
                failures.append(Failure(f"{kind} output does not re-parse: {norm(str(error), 80)}",
                                        f"{path}: {str(error)[:500]}"))
        failures += self._check_rules(out, sandbox, documents)
        failures += self._check_collector(out)
        failures += self._consistency(files, documents)
        return failures

    def _check_rules(self, out: Path, sandbox: Path, documents: dict[str, list]) -> list[Failure]:
        paths = sorted((out / "prometheus" / "rules").glob("*.yaml"))
        specs = sandbox / "specs"
        specs.mkdir(exist_ok=True)
        for path, docs in sorted(documents.items()):
            if not path.startswith(f"{c.GITOPS_BASE}/prometheusrules/"):
                continue
            for index, doc in enumerate(docs):
                if isinstance(doc, dict) and doc.get("kind") == "PrometheusRule":
                    target = specs / f"{Path(path).stem}-{index}.spec.yaml"
                    target.write_text(yaml.safe_dump(doc.get("spec"), allow_unicode=True, sort_keys=False,
                                                     width=1_000_000), encoding="utf-8")
                    paths.append(target)
        if not paths:
            return []
        result = subprocess.run([self.promtool, "check", "rules", *map(str, paths)], capture_output=True,
                                text=True, timeout=120)
        if result.returncode == 0:
            return []
        failures, seen = [], set()
        for line in result.stderr.splitlines():
            for path in paths:
                prefix = f"{path}: "
                if line.startswith(prefix):
                    message = line[len(prefix):]
                    # drop the rule's position and name: `5:11: group "g", rule 1, "A": ` or the like
                    message = re.sub(r'^(\d+:\d+: )?group "[^"]*", rule \d+, "[^"]*": ', "", message)
                    key = f"promtool check rules rejected: {norm(message)}"
                    if key not in seen:
                        seen.add(key)
                        shown = path.relative_to(sandbox) if path.is_relative_to(sandbox) else path
                        failures.append(Failure(key, f"{shown}: {message[:800]}"))
        if not failures:
            failures.append(Failure("promtool check rules failed", (result.stderr or result.stdout)[-1500:]))
        return failures

    def _check_collector(self, out: Path) -> list[Failure]:
        failures = []
        for path in sorted((out / "otel").glob("*/collector.yaml")):
            text = path.read_bytes()
            digest = hashlib.sha256(text).hexdigest()
            if digest not in self.collector_cache:
                result = subprocess.run([self.collector, "validate", f"--config={path}"], capture_output=True,
                                        text=True, env=self.env, timeout=120)
                if result.returncode == 0:
                    self.collector_cache[digest] = None
                else:
                    lines = [ln.strip() for ln in (result.stderr + result.stdout).splitlines() if ln.strip()]
                    at = next((i for i, ln in enumerate(lines) if "Error" in ln or "error" in ln), len(lines) - 1)
                    error = lines[at] if lines else f"exit {result.returncode}"
                    while error.endswith(":") and at + 1 < len(lines):   # "decoding failed ...:" + the reason
                        at += 1
                        error = f"{error} {lines[at]}"
                    self.collector_cache[digest] = error
            error = self.collector_cache[digest]
            if error is not None:
                message = re.sub(r"^Error: ", "", error)
                message = re.sub(r"^failed to get config: cannot unmarshal the configuration: ", "", message)
                message = re.sub(r"decoding failed due to the following error\(s\): ", "", message)
                failures.append(Failure(f"collector validate rejected: {norm(message, 140)}",
                                        f"{path.relative_to(out)}: {error[:800]}"))
        return failures

    def _consistency(self, files: dict[str, bytes], documents: dict[str, list]) -> list[Failure]:
        failures = []
        owners: dict[str, set[str]] = {}
        missing = []
        for path, docs in documents.items():
            if not path.startswith(c.RULES_DIR):
                continue
            for doc in docs:
                for group in (doc or {}).get("groups", []) or []:
                    for rule in group.get("rules", []) or []:
                        if "alert" not in rule:
                            continue
                        owners.setdefault(str(rule["alert"]), set()).add(path)
                        url = str((rule.get("annotations") or {}).get("runbook_url", ""))
                        if url.startswith(c.RUNBOOK_BASE_URL + "/"):
                            target = c.RUNBOOKS_DIR + url[len(c.RUNBOOK_BASE_URL) + 1:]
                            if target not in files:
                                missing.append(f"{rule['alert']} -> {target}")
        shared = {name: sorted(paths) for name, paths in owners.items() if len(paths) > 1}
        if shared:
            failures.append(Failure("two rule files generate the same alert name (one runbook for both)",
                                    f"{shared}"))
        if missing:
            failures.append(Failure("runbook_url of an alert points at a runbook that was not written", f"{missing[:5]}"))
        return failures

    def _generated_tests(self, out: Path, digest: str) -> tuple[list[Failure], float]:
        tests = sorted((out / "prometheus" / "tests").glob("*.test.yaml"))
        if not tests:
            return [], 0.0
        random.Random(digest).shuffle(tests)
        chosen = tests[:TEST_RULES_FILES]
        took: list[float] = []

        def run(job: tuple[Path, str]) -> tuple[Path, str, subprocess.CompletedProcess | None]:
            path, promtool = job
            start = time.perf_counter()
            try:
                return path, promtool, subprocess.run([promtool, "test", "rules", path.name], cwd=path.parent,
                                                      capture_output=True, text=True, timeout=TEST_RULES_TIMEOUT)
            except subprocess.TimeoutExpired:
                return path, promtool, None
            finally:
                took.append(time.perf_counter() - start)

        failures = []
        # Both versions run every chosen file, but 2.x not one that says it needs 3.x (native histograms).
        jobs = [(path, promtool) for promtool in self.test_promtools for path in chosen
                if promtool != self.promtool or not needs_prometheus_3(path)]
        with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
            for path, promtool, result in pool.map(run, jobs):
                version = "3.x" if promtool != self.promtool else "2.x"
                if result is None:
                    failures.append(Failure(f"promtool test rules ran over {TEST_RULES_TIMEOUT}s",
                                            f"{path.name} ({version})"))
                    continue
                if result.returncode == 0:
                    continue
                text = result.stdout + result.stderr
                lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
                after = lines[lines.index("FAILED:") + 1:] if "FAILED:" in lines else lines
                first = next((ln for ln in after if not ln.startswith("Unit Testing")), "")
                first = re.sub(r"^\S+\.test\.yaml: ", "", first)
                if first.startswith("expr:"):
                    what = "an expr_test expectation is not met"
                elif first.startswith("alertname:"):
                    what = "an alert_rule_test expectation is not met"
                else:
                    what = norm(first, 110)
                failures.append(Failure(f"promtool {version} test rules failed: {what}",
                                        f"{path.name}: " + "\n".join(after[:12])[:1500]))
        return failures, max(took, default=0.0)

    def _hash_seeds(self, root: Path, sandbox: Path) -> list[Failure]:
        trees = []
        for hash_seed in ("0", "1"):
            target = sandbox / f"seed-{hash_seed}" / "out"
            env = {**os.environ, "PYTHONPATH": str(GENERATOR_ROOT), "PYTHONHASHSEED": hash_seed}
            try:
                result = subprocess.run([sys.executable, "-m", "generator", "render", "--root", str(root),
                                         "--out", str(target)], cwd=sandbox, env=env, capture_output=True,
                                        text=True, timeout=120)
            except subprocess.TimeoutExpired:
                return [Failure("render in a subprocess ran over 120s", f"PYTHONHASHSEED={hash_seed}")]
            if result.returncode != 0:
                return [Failure(f"render in a subprocess failed (exit {result.returncode})",
                                f"PYTHONHASHSEED={hash_seed}: {result.stderr[-1200:]}")]
            trees.append(tree(target))
        if trees[0] != trees[1]:
            differ = sorted(k for k in set(trees[0]) | set(trees[1]) if trees[0].get(k) != trees[1].get(k))
            return [Failure("output depends on PYTHONHASHSEED (not byte-identical across hash seeds)",
                            f"files that differ between PYTHONHASHSEED=0 and 1: {differ[:8]}")]
        return []


def digest_of(project: Project) -> str:
    return hashlib.sha256(json.dumps(project.files, sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()


# --- counts -----------------------------------------------------------------------------------


@dataclass
class Stats:
    calls: int = 0
    seen: dict = field(default_factory=dict)         # digest -> kind, distinct examples only
    validated: int = 0
    refused: int = 0
    failed: int = 0
    sampled: int = 0
    determinism: int = 0
    examples_before_first_failure: int | None = None
    classes: Counter = field(default_factory=Counter)
    first: dict = field(default_factory=dict)        # class -> (Project, Failure)
    seconds: float = 0.0
    render_seconds: float = 0.0
    slowest_test_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def record(self, project: Project, outcome: Outcome) -> None:
        self.calls += 1
        digest = digest_of(project)
        if digest in self.seen:
            return
        self.seen[digest] = outcome.kind
        setattr(self, outcome.kind, getattr(self, outcome.kind) + 1)
        self.sampled += outcome.sampled
        self.determinism += outcome.determinism
        self.seconds += outcome.seconds
        self.render_seconds += outcome.render_seconds
        self.slowest_test_seconds = max(self.slowest_test_seconds, outcome.test_seconds)
        if outcome.failures and self.examples_before_first_failure is None:
            self.examples_before_first_failure = len(self.seen) - 1
        for failure in {f.key: f for f in reversed(outcome.failures)}.values():   # each class once
            self.classes[failure.key] += 1
            self.first.setdefault(failure.key, (project, failure))

    def summary(self) -> dict:
        distinct = len(self.seen)
        return {
            "calls": self.calls,
            "distinct_examples": distinct,
            "validated_exit_0": self.validated,
            "refused_exit_2": self.refused,
            "failed": self.failed,
            "generated_test_samples_run": self.sampled,
            "hash_seed_rerenders": self.determinism,
            "examples_before_first_failure": self.examples_before_first_failure,
            "failure_classes": dict(self.classes.most_common()),
            "seconds_per_example": round(self.seconds / distinct, 3) if distinct else None,
            "render_seconds_per_example": round(self.render_seconds / distinct, 3) if distinct else None,
            "slowest_generated_test_seconds": round(self.slowest_test_seconds, 1),
            "wall_seconds": round(time.perf_counter() - self.started, 1),
            "note": "counts are over distinct examples; after a failure, Hypothesis's shrinking adds "
                    "variants of the failing example, which are counted too",
        }

    def write(self, extra: dict) -> str:
        data = {**extra, **self.summary()}
        path = os.environ.get("KFM_FUZZ_REPORT")
        if path:
            Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return json.dumps(data, indent=2, ensure_ascii=False)


# --- the test -----------------------------------------------------------------------------------


def make_harness(fail) -> Harness:
    promtool, why = find_promtool2()
    if not promtool:
        fail(why)
    collector, why = find_collector()
    if not collector:
        fail(f"{COLLECTOR_HELP}\n{why}")
    promtool3, why = build_prometheus3("promtool")
    if not promtool3:
        fail(why)
    return Harness(promtool, collector, promtool3)   # type: ignore[arg-type]


def fuzz_settings(profile: str | None) -> tuple[settings, int | None]:
    base = settings.get_profile(profile) if profile else settings.default
    overrides: dict = {}
    if os.environ.get("KFM_FUZZ_EXAMPLES"):
        overrides["max_examples"] = int(os.environ["KFM_FUZZ_EXAMPLES"])
    chosen_seed = None
    if not base.derandomize:
        chosen_seed = int(os.environ.get("KFM_FUZZ_SEED") or random.SystemRandom().randrange(2 ** 32))
    return settings(base, **overrides), chosen_seed


def test_random_definitions_render_cleanly_or_are_refused(pytestconfig):
    cli_profile = pytestconfig.getoption("--hypothesis-profile", None)
    profile = None if cli_profile else os.environ.get("KFM_FUZZ_PROFILE", "ci")
    chosen, chosen_seed = fuzz_settings(profile)
    harness = make_harness(lambda message: pytest.fail(message, pytrace=False))
    stats = Stats()
    name = profile or cli_profile
    banner = f"kfm fuzz: profile {name}, {chosen.max_examples} examples" + (
        f", seed {chosen_seed} (reproduce with KFM_FUZZ_SEED={chosen_seed})" if chosen_seed is not None else
        ", derandomized")
    terminal = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def say(text: str) -> None:   # past pytest's capture: the seed must be seen even when the run passes
        if terminal is None or capture is None:
            print(text, file=sys.stderr)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(text)
    say("\n" + banner)

    @given(project=projects())
    def fuzz(project: Project) -> None:
        outcome = harness.check(project)
        stats.record(project, outcome)
        if outcome.failures:
            first = outcome.failures[0]
            others = "".join(f"\n  also: {f.key}" for f in outcome.failures[1:])
            raise failure_type(first.key)(f"{first.key}\n{first.detail}{others}")

    fuzz = settings(chosen)(fuzz)
    if chosen_seed is not None:
        fuzz = hypothesis_seed(chosen_seed)(fuzz)
    try:
        fuzz()
    except BaseException as error:
        if hasattr(error, "add_note"):
            error.add_note(f"{banner}\ncounts: {stats.write({'profile': name, 'seed': chosen_seed})}")
        raise
    else:
        say(f"{banner}\ncounts: {stats.write({'profile': name, 'seed': chosen_seed})}")
    finally:
        harness.close()


# --- survey mode: every distinct failure class, each shrunk on its own ---------------------------


SAMPLE_ONLY = ("promtool test rules", "output depends on PYTHONHASHSEED", "render in a subprocess")


def survey(count: int, seed_value: int | None, shrink_examples: int, shrink_seconds: float) -> int:
    harness = make_harness(lambda message: sys.exit(f"error: {message}"))
    stats = Stats()
    seed_value = seed_value if seed_value is not None else random.SystemRandom().randrange(2 ** 32)
    print(f"survey: {count} examples, seed {seed_value}, generator {GENERATOR_ROOT}", flush=True)
    announced: set[str] = set()

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed_value)
    @given(project=projects())
    def explore(project: Project) -> None:
        outcome = harness.check(project)
        stats.record(project, outcome)
        if stats.calls % 50 == 0:
            print(f"  {stats.calls} examples: {stats.validated} validated, {stats.refused} refused, "
                  f"{stats.failed} failed, {len(stats.classes)} classes", flush=True)
        for failure in outcome.failures:
            if failure.key not in announced:
                announced.add(failure.key)
                print(f"  new class after {stats.calls} examples: {failure.key}\n"
                      f"    first seen: {failure.detail.strip().splitlines()[0][:300] if failure.detail.strip() else ''}\n"
                      + "".join(f"    | {line}\n" for line in project.source(compact=True).splitlines()[:60]),
                      end="", flush=True)

    try:
        explore()
        print("\ncounts: " + stats.write({"mode": "survey", "seed": seed_value}), flush=True)
        print(f"\n{len(stats.classes)} distinct failure classes (examples of {len(stats.seen)}: class, first message)",
              flush=True)
        for number, (key, seen) in enumerate(stats.classes.most_common(), start=1):
            first_line = stats.first[key][1].detail.strip().split("\n")[0][:160]
            print(f"  [{number}] {seen:4d}  {key}  --  {first_line}", flush=True)
        for number, (key, seen) in enumerate(stats.classes.most_common(), start=1):
            project, failure = stats.first[key]
            minimal, detail = project, failure.detail
            if shrink_examples:
                minimal, detail = shrink(harness, key, project, failure, shrink_examples, shrink_seconds)
            print(f"\n=== [{number}] {key}   ({seen} of {len(stats.seen)} examples)", flush=True)
            print("--- what happened:\n" + detail.rstrip())
            print("--- minimal reproducing definition:\n" + minimal.source(compact=True).rstrip(), flush=True)
    finally:
        harness.close()
    return 0


def shrink(harness: Harness, key: str, project: Project, failure: Failure, budget: int,
           seconds: float) -> tuple[Project, str]:
    """The smallest project the structured reducer finds that still fails with the same class."""
    force = key.startswith(SAMPLE_ONLY)
    deadline = time.monotonic() + seconds
    details: dict[str, str] = {}
    memo: dict[str, bool] = {}

    def still_fails(candidate: Project) -> bool:
        digest = digest_of(candidate)
        if digest in memo:
            return memo[digest]
        if time.monotonic() > deadline:
            return False
        outcome = harness.check(candidate, force_sample=force)
        match = next((f for f in outcome.failures if f.key == key), None)
        if match:
            details[digest] = match.detail
        memo[digest] = match is not None
        return memo[digest]

    minimal, tried = reduce_project(project, still_fails, budget)
    note = f"\n(reduced with {tried} candidate renders)"
    return minimal, details.get(digest_of(minimal), failure.detail) + note


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Survey the failure classes of random definitions.")
    parser.add_argument("--survey", type=int, metavar="N", required=True, help="examples to run")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--shrink-examples", type=int, default=150,
                        help="candidate renders the reducer may try per failure class (0: no reduction)")
    parser.add_argument("--shrink-seconds", type=float, default=120, help="time budget per failure class")
    args = parser.parse_args(argv)
    return survey(args.survey, args.seed, args.shrink_examples, args.shrink_seconds)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
