"""Shared by the backtest tests: focus-mode-errors' rules at another objective, a 3-day history, and a
project whose working tree changes that objective against a committed base."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import yaml

from generator import conventions as c
from generator.prometheus.rules import slo_groups

SLO_NAME = "focus-mode-errors"
OLD, NEW = "0.995", "0.999"
OUTCOMES = ("answered", "abstained", "error")
ROOT = Path(__file__).resolve().parent.parent
MINUTE = 60


def slo_at(catalog, objective: str):
    slo = next(s for s in catalog.slos if s.name == SLO_NAME)
    return dataclasses.replace(slo, objective=Decimal(objective))


def rules_text(slo) -> str:
    """The SLO's rule file as the generator renders it (its groups), at whatever objective it has."""
    groups, _ = slo_groups(slo)
    return yaml.safe_dump({"groups": groups}, sort_keys=False)


def three_days() -> dict[str, list[int]]:
    """Per-minute cumulative counters by outcome over 3 days (4,321 samples, from tick 0): 100 events a
    minute, no errors but three incidents, chosen so that 99.5% and 99.9% differ:
    - day 0, 10:00 to 10:30, 10% errors: only 99.9% pages (its 1h/5m threshold is 1.44%, 99.5%'s 7.2%);
    - day 1, 14:00 to 15:00, 20% errors: both page, 99.9% sooner;
    - day 2, 02:00 to 14:00, 0.8% errors: 99.9%'s 6h/30m page and 1d/2h ticket; nothing at 99.5%."""
    incidents = ((10 * 60, 10 * 60 + 30, 10), (24 * 60 + 14 * 60, 24 * 60 + 15 * 60, 20))
    values = {"answered": 5_000_000, "abstained": 300_000, "error": 4_000}
    counters: dict[str, list[int]] = {o: [v] for o, v in values.items()}
    for k in range(1, 3 * 24 * 60 + 1):
        minute = k - 1                          # the events of (k-1, k]
        errors = next((share for a, b, share in incidents if a <= minute < b), 0)
        if 48 * 60 + 2 * 60 <= minute < 48 * 60 + 14 * 60:
            errors = 1 if minute % 5 < 4 else 0   # 4 errors in 500 events: 0.8%
        values["error"] += errors
        values["abstained"] += 5
        values["answered"] += 95 - errors
        for outcome in OUTCOMES:
            counters[outcome].append(values[outcome])
    return counters


def write_openmetrics(counters: dict[str, list[int]], path: Path, start: int = 0) -> None:
    family = c.FOCUS_ANSWERS.removesuffix("_total")
    lines = [f"# HELP {family} Focus Mode answers", f"# TYPE {family} counter"]
    for outcome, series in sorted(counters.items()):
        lines += [f'{c.FOCUS_ANSWERS}{{{c.OUTCOME}="{outcome}"}} {v} {start + i * MINUTE}' for i, v in enumerate(series)]
    path.write_text("\n".join(lines + ["# EOF"]) + "\n")


def diff_project(destination: Path) -> Path:
    """A git repository of this project (definitions, generator, out/) whose base commit has
    focus-mode-errors at 99.5% and whose working tree has it at 99.9%."""
    for name in ("slo", "alerts", "dashboards", "telemetry", "out", "generator", "kfm_instrument"):
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    git = ["git", "-C", str(destination), "-c", "user.email=test@example.invalid", "-c", "user.name=test"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    definitions = destination / "slo" / "focus_mode.py"
    text = definitions.read_text()
    assert text.count(f"objective={OLD},") == 1, "slo/focus_mode.py changed shape"
    definitions.write_text(text.replace(f"objective={OLD},", f"objective={NEW},"))
    return destination
