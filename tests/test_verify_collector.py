"""The verify step's collector check: every environment's config goes to the real collector's `validate`
(all at once, while promtool runs), and a config it refuses stops the render naming the file."""
from __future__ import annotations

import pytest

from generator.checks import verify
from generator.checks.verify import Tools, check_output

pytestmark = pytest.mark.collector


def _configs(rendered: dict[str, str]) -> list[str]:
    return sorted(p for p in rendered if p.startswith("otel/") and p.endswith("/collector.yaml"))


def test_every_environments_config_passes_validate(catalog, rendered, collector):
    assert len(_configs(rendered)) >= 3
    problems, notes = check_output(catalog, rendered, Tools(None, collector))
    assert problems == [] and not any("collector" in note for note in notes), (problems, notes)


def test_configs_the_collector_refuses_are_each_reported(catalog, rendered, collector):
    files = dict(rendered)
    broken = _configs(rendered)[:2]
    for path in broken:   # a pipeline naming a receiver no config declares
        files[path] = files[path].replace("      receivers:\n", "      receivers:\n      - kfm_nonexistent\n", 1)
        assert files[path] != rendered[path]
    problems, _ = check_output(catalog, files, Tools(None, collector))
    assert [p.field for p in problems] == [f"out/{path}" for path in broken], problems
    for problem in problems:
        assert problem.message.startswith("the collector refuses it: ") and "kfm_nonexistent" in problem.message
        assert "kfm-verify-" not in problem.message   # the scratch copy is named by its rendered path


def test_a_collector_that_cannot_run_is_reported(catalog, rendered, tmp_path):
    missing = str(tmp_path / "no-such-collector")
    problems, _ = check_output(catalog, rendered, Tools(None, missing))
    assert [p.field for p in problems] == [f"out/{path}" for path in _configs(rendered)]
    assert all(p.message.startswith("the collector could not run: ") for p in problems)


def test_no_collector_process_outlives_the_checks(catalog, rendered, collector, monkeypatch):
    started = []
    start = verify._collector_start

    def recording(*args):
        run = start(*args)
        started.extend(process for _, process, _, _, _ in run.processes if process is not None)
        return run
    monkeypatch.setattr(verify, "_collector_start", recording)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(verify, "_size_problems", interrupted)
    with pytest.raises(KeyboardInterrupt):
        check_output(catalog, rendered, Tools(None, collector))
    assert started and all(process.poll() is not None for process in started)
