"""Thanos' own rule check accepts every rule file the generator writes: each plain rule file and each
PrometheusRule's groups (a Thanos Ruler loads the same groups), with `thanos tools rules-check`."""
from __future__ import annotations

import subprocess

import yaml

from generator import conventions as c


def rules_check(thanos: str, files: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([thanos, "tools", "rules-check", *(f"--rules={f}" for f in files)],
                          capture_output=True, text=True, timeout=300)


def test_every_rule_file_passes_thanos_rules_check(thanos, rendered, rendered_dir, tmp_path):
    files = sorted(str(rendered_dir / path) for path in rendered if path.endswith(".rules.yaml"))
    for path in sorted(p for p in rendered if p.startswith(c.GITOPS_BASE + "/prometheusrules/")):
        groups = yaml.safe_load(rendered[path])["spec"]["groups"]
        local = tmp_path / path.replace("/", "_")
        local.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        files.append(str(local))
    assert len(files) > 10
    result = rules_check(thanos, files)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed[-3000:]
    assert printed.count("result=SUCCESS") == len(files), printed[-3000:]   # every file checked


def test_thanos_rules_check_refuses_a_broken_rule(thanos, rendered, rendered_dir, tmp_path):
    """The check can fail: a rule file with broken PromQL is refused."""
    path = next(p for p in sorted(rendered) if p.endswith(".rules.yaml"))
    broken = tmp_path / "broken.rules.yaml"
    broken.write_text(rendered[path].replace("expr: ", "expr: sum(( ", 1))
    result = rules_check(thanos, [str(broken)])
    assert result.returncode != 0, result.stdout + result.stderr
