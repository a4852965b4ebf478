"""Run the real kubeconform against the schemas committed in schemas/ only.

kubeconform is installed by scripts/install-kubeconform.sh (pinned, cached outside the repository);
the schemas are extracted from the operators' released CRDs and the Kubernetes OpenAPI document by
scripts/extract-schemas.py. No network schema location is ever given, so a kind without a schema
in schemas/ is an error, never a skip.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Union

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
INSTALL_SCRIPT = ROOT / "scripts" / "install-kubeconform.sh"

KUBECONFORM_HELP = ("kubeconform is not installed: run `scripts/install-kubeconform.sh` (needs Go; `make test` "
                    "runs it), or set KUBECONFORM to a kubeconform binary")
SCHEMAS_HELP = "schemas/ is incomplete: run `make schemas` (scripts/extract-schemas.py) and commit schemas/"

PathsOrText = Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]


def find_kubeconform() -> str:
    """KUBECONFORM, else the binary scripts/install-kubeconform.sh installs (asked with --path, which
    installs nothing), else kubeconform on PATH; fails the test, with how to install, if none."""
    configured = os.environ.get("KUBECONFORM")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"KUBECONFORM={configured} is not an executable file. {KUBECONFORM_HELP}", pytrace=False)
        return configured
    printed = subprocess.run(["bash", str(INSTALL_SCRIPT), "--path"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=60)
    lines = printed.stdout.strip().splitlines()
    if printed.returncode == 0 and lines and os.access(lines[-1], os.X_OK):
        return lines[-1]
    on_path = shutil.which("kubeconform")
    if on_path:
        return on_path
    pytest.fail(KUBECONFORM_HELP, pytrace=False)


def kubernetes_version(schemas: Path = SCHEMAS) -> str:
    """The Kubernetes version the built-in schemas were extracted from (their folder's name)."""
    folders = sorted(p.name for p in schemas.glob("v*-standalone-strict") if p.is_dir())
    if len(folders) != 1:
        pytest.fail(f"expected one schemas/v<version>-standalone-strict folder, found {folders}. {SCHEMAS_HELP}",
                    pytrace=False)
    return folders[0][1:-len("-standalone-strict")]


def arguments(schemas: Path = SCHEMAS) -> list[str]:
    """kubeconform's flags: strict, a JSON report with a summary, local schema locations only."""
    schemas = schemas.resolve()
    return [
        "-strict", "-summary", "-output", "json",
        "-kubernetes-version", kubernetes_version(schemas),
        # custom resources: schemas/<group>/<kind>_<version>.json
        "-schema-location", f"{schemas}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        # built-in kinds: schemas/v<k8s>-standalone-strict/<kind>-<version>.json
        "-schema-location", (f"{schemas}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}/"
                             f"{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json"),
    ]


def validate(paths_or_text: PathsOrText, kubeconform: str | None = None,
             schemas: Path = SCHEMAS) -> tuple[bool, str]:
    """Validate YAML with kubeconform. A str is YAML text (sent on stdin); a path, or an iterable of
    paths, are files. Returns (ok, kubeconform's JSON report). ok needs exit code 0 and at least one
    resource found valid: an empty input is not a pass."""
    binary = kubeconform or find_kubeconform()
    if isinstance(paths_or_text, str):
        files, stdin = ["-"], paths_or_text
    else:
        items = [paths_or_text] if isinstance(paths_or_text, os.PathLike) else list(paths_or_text)
        if not items:
            raise ValueError("validate() needs at least one file")
        files, stdin = [os.fspath(p) for p in items], None
    done = subprocess.run([binary, *arguments(schemas), *files], input=stdin, capture_output=True, text=True,
                          stdin=None if stdin is not None else subprocess.DEVNULL, timeout=300)
    output = done.stdout + (done.stderr if done.stderr.strip() else "")
    try:
        summary = json.loads(done.stdout)["summary"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return False, output
    ok = (done.returncode == 0 and summary.get("valid", 0) > 0
          and not summary.get("invalid") and not summary.get("errors") and not summary.get("skipped"))
    return ok, output


def report(output: str) -> dict:
    """kubeconform's JSON report: {"resources": [non-valid ones, with status, msg, validationErrors],
    "summary": {"valid", "invalid", "errors", "skipped"}}."""
    return json.loads(output)
