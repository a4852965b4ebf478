"""Work spread over worker processes (generator.parallel): the same results, in the same order, as in
one process; errors raised where they would have been; a large render byte-identical either way."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from generator import parallel
from generator.model.catalog import load
from generator.model.problems import DefinitionError, Problem
from generator.render import render

sys.path.insert(0, str(ROOT / "bench"))
from tool_speed import extra_slos  # noqa: E402


def test_results_come_back_in_the_order_of_the_items(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    items = list(range(100))
    found = parallel.map_items(lambda i: (i * i, os.getpid()), items, min_items=1, alike=lambda i: str(i % 3))
    assert [square for square, _ in found] == [i * i for i in items]
    pids = {pid for _, pid in found}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2   # computed by the workers, not here


def test_one_job_computes_here(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    assert {pid for pid in parallel.map_items(lambda _: os.getpid(), range(100), min_items=1)} == {os.getpid()}


def test_a_map_inside_a_worker_computes_in_that_worker(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")

    def inner(_: int) -> set[int]:
        return set(parallel.map_items(lambda _: os.getpid(), range(10), min_items=1)) | {os.getpid()}
    assert all(len(pids) == 1 for pids in parallel.map_items(inner, range(4), min_items=1))


def test_a_definition_error_in_a_worker_is_raised_here(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    problem = Problem("slo/x.py", "SLO 'x'", "objective", "is not a number")

    def compute(i: int) -> int:
        if i == 77:
            raise DefinitionError([problem])
        return i
    with pytest.raises(DefinitionError) as raised:
        parallel.map_items(compute, range(100), min_items=1)
    assert raised.value.problems == [problem]


def test_a_bad_number_of_jobs_says_so(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "two")
    with pytest.raises(SystemExit, match="KFM_JOBS='two' is not a number"):
        parallel.workers()


def test_a_large_render_is_the_same_in_workers_and_in_one_process(tmp_path, monkeypatch):
    project = tmp_path / "project"
    for name in ("slo", "alerts", "dashboards", "telemetry"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "slo" / "bench_routes.py").write_text(extra_slos(parallel.MIN_ITEMS + 6, 3))
    renders = []
    for jobs in ("1", "2"):
        monkeypatch.setenv(parallel.JOBS_VARIABLE, jobs)
        renders.append(render(load(Path(project)))[0])
    assert len(renders[0]) > 4 * parallel.MIN_ITEMS
    assert renders[0] == renders[1]
