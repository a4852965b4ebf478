"""Shared by the interop tests: a scratch project, the importer's CLI, Sloth's examples, rendered alerts."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_project, run_in_process
from promtool_runner import run, run_tests_concurrently

SLOTH_VERSION = "v0.16.0"
INSTALL_SLOTH = ROOT / "scripts" / "install-sloth.sh"


def project(tmp_path: Path) -> Path:
    """A copy of the project (definitions and out/) to import into and render."""
    return copy_project(tmp_path / "project")


def cli(*args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args)


def sloth_binary() -> str:
    try:
        result = subprocess.run([str(INSTALL_SLOTH)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"Sloth could not be installed ({error}): run `make sloth` (scripts/install-sloth.sh, needs Go)",
                    pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"Sloth could not be installed: run `make sloth` (scripts/install-sloth.sh, needs Go and the "
                    f"module proxy):\n{result.stderr[-2000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def sloth_examples() -> Path:
    """Sloth's examples/ in the Go module cache (go install puts the module there)."""
    sloth_binary()
    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.fail(f"`go env GOMODCACHE` failed ({error}): install Go (apt-get install golang), then `make sloth`",
                    pytrace=False)
    folder = Path(cache) / "github.com" / "slok" / f"sloth@{SLOTH_VERSION}" / "examples"
    if not folder.is_dir():
        pytest.fail(f"Sloth's examples are not in the Go module cache ({folder}): run `make sloth` "
                    "(scripts/install-sloth.sh go-installs Sloth, which puts its module there)", pytrace=False)
    return folder


def render(root: Path) -> dict[str, str]:
    result = cli("render", "--root", str(root))
    assert result.returncode == 0, result.stderr
    return {p.relative_to(root / "out").as_posix(): p.read_text() for p in (root / "out").rglob("*") if p.is_file()}


def burn_alerts(rules_text: str) -> set[tuple[str, str, str, float]]:
    """(severity, long window, short window, factor) of every burn-rate alert of a rendered rule file."""
    found = set()
    for group in yaml.safe_load(rules_text)["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels", {})
            if "alert" in rule and "burn_rate" in labels:
                found.add((labels["severity"], labels["long_window"], labels["short_window"], float(labels["burn_rate"])))
    return found


def objective(rules_text: str, record: str) -> float:
    for group in yaml.safe_load(rules_text)["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == record:
                found = re.fullmatch(r"vector\(([0-9.e+-]+)\)", rule["expr"].strip())
                assert found, rule["expr"]
                return float(found.group(1))
    raise AssertionError(f"no {record} record")


def assert_rules_and_tests_pass(promtools: dict[str, str], rule_files: list[Path], test_files: list[Path]) -> None:
    """Every promtool checks the rule files and passes their generated tests."""
    for version, promtool in promtools.items():
        checked = run(promtool, "check", "rules", *map(str, rule_files))
        assert checked.returncode == 0, f"{version}: {checked.stdout}{checked.stderr}"
        for path, outcome in run_tests_concurrently(promtool, test_files).items():
            assert outcome.returncode == 0, f"{version} {path.name}: {outcome.stdout}{outcome.stderr}"
