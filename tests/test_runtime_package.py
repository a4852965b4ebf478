"""The instrumentation runtime installs and imports alone: a fresh virtual environment with only
kfm_instrument (and what it declares: prometheus-client, opentelemetry-api) has no grafanalib or
PyYAML, and the helpers emit the contract there."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.install

CHECK = """
import importlib.util, sys
for absent in ("yaml", "grafanalib", "generator", "re2"):
    assert importlib.util.find_spec(absent) is None, absent + " is installed"
import kfm_instrument
from kfm_instrument import contract
assert kfm_instrument.__file__.startswith(sys.prefix), kfm_instrument.__file__   # the installed copy
kfm = kfm_instrument.KfmInstruments()
kfm.record_evidence_resolution("error", 0.2)
text = kfm_instrument.contract_exposition()
assert contract.EVIDENCE_RESOLUTIONS in text and "kfm_pipeline_runs_total" in text
assert "yaml" not in sys.modules and "grafanalib" not in sys.modules
print("ok", len(text.splitlines()))
"""


def test_the_runtime_installs_and_imports_without_the_compilers_dependencies(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    source = tmp_path / "kfm_instrument"   # a copy: pip builds in place and would leave build/ in the repository
    shutil.copytree(ROOT / "kfm_instrument", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(source)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True,
                            timeout=120).stdout.lower()
    assert "kfm-instrument==0.1.0" in listed and "pyyaml" not in listed and "grafanalib" not in listed, listed
    run = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=120, cwd=venv)
    assert run.returncode == 0 and run.stdout.startswith("ok "), run.stdout + run.stderr
