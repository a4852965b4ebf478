"""Shared fixtures: the project root, a fresh render, the real promtool."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.catalog import load  # noqa: E402
from generator.render import render  # noqa: E402
from generator.writer import write_files  # noqa: E402

PROMTOOL_HELP = ("promtool is not installed: run `make test` (it runs scripts/install-prometheus-tools.sh) "
                 "or `apt-get install prometheus`")


def find_promtool() -> str:
    path = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not path:
        pytest.fail(PROMTOOL_HELP, pytrace=False)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_promtool()


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
