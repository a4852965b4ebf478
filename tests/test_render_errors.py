"""Definitions that loaded but failed later (issue 13, item 9): every failure a definition causes, at
load or at render, exits 2 with one `file: definition: field: message` line per problem, out/ untouched,
never a traceback. Anything else is a bug of the generator: one line, exit 70, the traceback with
KFM_DEBUG=1.

Each project is small and renders in-process without promtool or the collector (the failures come
before the real tools run), so these tests run in `make test-fast`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from generator import cli
from generator.catalog import load
from generator.prose import PACKAGE_TEMPLATES
from generator.render import render
from generator.writer import read_tree, write_tree

SLO_ARGS = dict(service='"example"', owner='"evidence"', description='"An example."', objective="0.99",
                runbook='"- first step"',
                sli="EventsRatio(total=\"kfm_focus_answers_total\", bad='kfm_focus_answers_total{outcome=\"error\"}')")
EXAMPLE = "SLO 'example-slo'"
TELEMETRY = (ROOT / "telemetry" / "kfm.py").read_text()


def slo(**overrides: str) -> str:
    """Source of one SLO(...) call named example-slo; values are Python expressions."""
    args = {"name": "'example-slo'", **SLO_ARGS, **overrides}
    return "SLO(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")"


def slos_file(call: str, extra: str = "") -> str:
    return "from decimal import Decimal\nfrom generator import *\n" + extra + f"SLOS = [\n    {call},\n]\n"


@pytest.fixture(scope="module")
def rendered_template(tmp_path_factory) -> Path:
    """One SLO, KFM's teams and telemetry, rendered into out/ (no real tool runs: that is not tested here)."""
    project = tmp_path_factory.mktemp("render-errors") / "project"
    (project / "slo").mkdir(parents=True)
    (project / "alerts").mkdir()
    (project / "telemetry").mkdir()
    shutil.copy(ROOT / "alerts" / "teams.py", project / "alerts" / "teams.py")
    (project / "telemetry" / "kfm.py").write_text(TELEMETRY)
    (project / "slo" / "example.py").write_text(slos_file(slo()))
    files, _ = render(load(project))
    write_tree(project / "out", files)
    return project


@pytest.fixture()
def project(rendered_template, tmp_path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(rendered_template, copy)
    return copy


def write(project: Path, relative: str, text: str | bytes) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def refused(project: Path, capsys, prefix: str, text: str = "") -> list[str]:
    """`render` exits 2; a line starts with `prefix` ("file: definition: field: ") and holds `text`;
    every line is well formed, none is a traceback; out/ is byte-identical."""
    before = read_tree(project / "out")
    code = cli.main(["render", "--root", str(project)])   # an exception escaping main() fails the test
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert lines[0].startswith("error: ") and "left unchanged" in lines[0], err
    for line in lines[1:]:
        parts = line.split(": ", 3)
        assert len(parts) == 4 and not parts[0].startswith("/"), line
    assert any(line.startswith(prefix) and text in line for line in lines[1:]), err
    assert read_tree(project / "out") == before
    return lines


# --- the safety net -----------------------------------------------------------------------------------

def test_a_bug_of_the_generator_is_one_line_exit_70_and_the_traceback_on_request(project, capsys, monkeypatch):
    def broken(catalog):
        raise KeyError("a generator bug")
    monkeypatch.setattr(cli, "render", broken)
    before = read_tree(project / "out")
    monkeypatch.delenv("KFM_DEBUG", raising=False)
    assert cli.main(["render", "--root", str(project)]) == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "internal error of the generator" in err and "KeyError" in err and "KFM_DEBUG=1" in err, err
    assert read_tree(project / "out") == before
    monkeypatch.setenv("KFM_DEBUG", "1")
    with pytest.raises(KeyError, match="a generator bug"):
        cli.main(["render", "--root", str(project)])
    assert read_tree(project / "out") == before
