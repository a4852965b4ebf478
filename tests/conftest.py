"""Shared fixtures: the project root, a fresh render, the real promtool."""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.model.catalog import load  # noqa: E402
from generator.render import render  # noqa: E402
from generator.writer.tree import write_files  # noqa: E402
from prometheus_tools import build_prometheus3, find_promtool2  # noqa: E402

# `make test` runs the files on every core (pytest-xdist, --dist loadfile: each file whole on one
# worker, so its module fixtures start once). The slowest files start first, so no worker picks up a
# long one while the others sit idle (order measured with --durations; the rest keep theirs).
SLOWEST_FIRST = ("test_fuzz.py", "test_live_scenarios.py", "test_interop_sloth.py", "test_thanos_live.py",
                 "test_hostile_input.py", "test_promtool.py", "test_interop_openslo.py", "test_gates.py", "test_review.py",
                 "test_live_dashboards.py", "test_backfill.py")


# A test that asks for one of these fixtures (directly or through another) needs that tool.
TOOL_FIXTURES = {"promtool": "promtool", "promtool3": "promtool", "promtools": "promtool",
                 "collector": "collector", "amtool": "alertmanager", "thanos": "thanos"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    for item in items:
        for marker in sorted({TOOL_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in TOOL_FIXTURES}):
            item.add_marker(marker)


def find_promtool() -> str:
    path, why = find_promtool2()
    if not path:
        pytest.fail(why, pytrace=False)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_promtool()


def find_promtool3() -> str:
    """Prometheus 3's promtool, built at the pinned version by scripts/build-prometheus3.sh (cached)."""
    path, why = build_prometheus3("promtool")
    if not path:
        pytest.fail(why, pytrace=False)
    return path


@pytest.fixture(scope="session")
def promtool3() -> str:
    return find_promtool3()


@pytest.fixture(scope="session")
def promtools(promtool, promtool3) -> dict[str, str]:
    """Every promtool the generated tests must pass on: Debian's 2.x and the pinned 3.x."""
    return {"2.x": promtool, "3.x": promtool3}


@pytest.fixture(scope="session")
def collector() -> str:
    """The real collector built for the rendered manifest (scripts/build-collector.sh, cached)."""
    result = subprocess.run([str(ROOT / "scripts" / "build-collector.sh")], cwd=ROOT, capture_output=True,
                            text=True, timeout=3600)
    if result.returncode != 0:
        pytest.fail(f"the collector could not be built:\n{result.stderr[-3000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def thanos() -> str:
    """The real Thanos at the pinned version (scripts/build-thanos.sh: built once, cached by version)."""
    try:
        result = subprocess.run([str(ROOT / "scripts" / "build-thanos.sh")], cwd=ROOT, capture_output=True,
                                text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"Thanos could not be built ({error}): run make thanos", pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"Thanos could not be built (make thanos; it needs Go and the module proxy):\n"
                    f"{result.stderr[-3000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def catalog():
    return load(ROOT)


@pytest.fixture(scope="session")
def rendered(catalog) -> dict[str, str]:
    files, _ = render(catalog)
    return files


@pytest.fixture(scope="session")
def rendered_dir(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render") / "out"
    write_files(out, rendered)
    return out


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True)


def run_in_process(*args: str) -> subprocess.CompletedProcess:
    """The CLI called in this process (no interpreter start): the same exit code and output.
    An exception escaping main() fails the test, as a traceback would fail the user."""
    from generator import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return subprocess.CompletedProcess(["python", "-m", "generator", *args], code, out.getvalue(), err.getvalue())


def copy_project(destination: Path) -> Path:
    """A copy of the definitions and the committed out/, to break on purpose."""
    for name in ("slo", "alerts", "dashboards", "telemetry", "out"):
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def declare_on_environments(project: Path, field: str, value: object) -> None:
    """Every environment of a copied project's telemetry/ gets `field=value` (a Python literal)."""
    path = project / "telemetry" / "kfm.py"
    text = path.read_text()
    literal = f'"{value}"' if isinstance(value, str) else repr(value)   # the file's own quotes
    changed = re.sub(r'Environment\("([a-z-]+)", ', rf'Environment("\1", {field}={literal}, ', text)
    assert changed.count(f"{field}=") == text.count('Environment("') >= 1, "telemetry/kfm.py changed shape"
    path.write_text(changed)


def declare_prometheus(project: Path, version: str) -> None:
    """Every environment of a copied project's telemetry/ runs this Prometheus version."""
    declare_on_environments(project, "prometheus_version", version)
