"""Alertmanager routing per environment, checked by the real amtool."""
from __future__ import annotations

import re

import os
import shutil
import subprocess

import pytest
import yaml

from generator import conventions as c
from generator.alertmanager.routing import PAGE_RECEIVER, TICKET_RECEIVER

AMTOOL_HELP = ("amtool is not installed: run `make test` (scripts/install-prometheus-tools.sh) or "
               "`apt-get install prometheus-alertmanager`")


@pytest.fixture(scope="session")
def amtool() -> str:
    path = os.environ.get("AMTOOL") or shutil.which("amtool")
    if not path:
        pytest.fail(AMTOOL_HELP, pytrace=False)
    return path


@pytest.mark.parametrize("env", ("dev", "stage", "prod"))
def test_amtool_accepts_each_environment(amtool, rendered_dir, env):
    result = subprocess.run([amtool, "check-config", str(rendered_dir / c.alertmanager_file(env))],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("env, severity, receiver", [
    ("prod", "page", PAGE_RECEIVER),
    ("prod", "ticket", TICKET_RECEIVER),
    ("stage", "page", TICKET_RECEIVER),
    ("dev", "page", TICKET_RECEIVER),
    ("dev", "ticket", TICKET_RECEIVER),
])
def test_alerts_route_to_the_receiver_of_their_environment(amtool, rendered_dir, env, severity, receiver):
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={rendered_dir / c.alertmanager_file(env)}",
                             f"severity={severity}", "slo=evidence-resolver-availability",
                             "alertname=EvidenceResolverAvailabilityErrorBudgetBurnPage"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def tiers_of(rendered_dir, slo_name: str) -> set[str]:
    document = yaml.safe_load((rendered_dir / c.rules_file(slo_name)).read_text())
    return {rule["labels"][c.TIER_LABEL] for group in document["groups"] for rule in group["rules"]
            if "alert" in rule and c.TIER_LABEL in rule.get("labels", {})}


def test_a_page_inhibits_the_tickets_of_the_same_slo(rendered_dir, catalog):
    config = yaml.safe_load((rendered_dir / c.alertmanager_file("prod")).read_text())
    (rule,) = config["inhibit_rules"]
    # By tier, so that it still works where page alerts are downgraded to tickets (dev, stage).
    (source,) = rule["source_matchers"]
    (target,) = rule["target_matchers"]
    source_re = re.compile(source.split("=~", 1)[1].strip('"'))
    target_re = re.compile(target.split("=~", 1)[1].strip('"'))
    tiers = {pair_tier for slo in catalog.slos for pair_tier in tiers_of(rendered_dir, slo.name)}
    assert tiers
    for tier in tiers:
        assert (source_re.fullmatch(tier) is not None) == tier.startswith("page"), tier
        assert (target_re.fullmatch(tier) is not None) == tier.startswith("ticket"), tier
    grouped = {label for slo in catalog.slos for label in slo.sli.group_by}
    assert set(rule["equal"]) == {c.SLO_LABEL} | grouped
    assert config["route"]["group_by"] == ["alertname", c.SLO_LABEL]
