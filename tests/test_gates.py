"""Policy gates: the committed output passes them, and each one fails, with a
message naming the file, the definition and the field, on a bad definition.
A gate that cannot be evaluated fails too."""
from __future__ import annotations

import re
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT, copy_project, run_in_process
from generator import conventions as c
from generator.checks.gates import MAX_WAIVER_DAYS, SECRET_PATTERNS
from test_bad_definitions import slo_file

TODAY = "2026-11-29"


def owned_slo(**overrides: str) -> str:
    return slo_file(**{"owner": '"evidence"', **overrides})


def gates_on(project: Path, today: str = TODAY):
    rendered = run_in_process("render", "--root", str(project), "--out", str(project / "out"))
    assert rendered.returncode == 0, rendered.stderr
    return run_in_process("gates", "--root", str(project), "--out", str(project / "out"), "--today", today)


def broken_project(tmp_path: Path, name: str, text: str) -> Path:
    project = copy_project(tmp_path / "project")
    folder = "alerts" if "ALERTS" in text else "slo"
    (project / folder / name).write_text(text)
    return project


def test_committed_output_passes_every_gate():
    result = run_in_process("gates", "--today", date.today().isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    for gate in ("owner-and-runbook", "alert-annotations", "no-literal-secrets", "page-tier-waiver",
                 "metric-contract"):
        assert f"PASS {gate} (" in result.stdout
    assert "nothing checked" not in result.stdout


CASES = {
    "owner is not a team": (
        owned_slo(owner='"ghost-team"'), "owner-and-runbook",
        "slo/zz_broken.py: SLO broken-example: owner: 'ghost-team' is not a team of alerts/teams.py"),
    "no first steps": (
        owned_slo(runbook='""'), "owner-and-runbook",
        "slo/zz_broken.py: SLO broken-example: runbook: no hand-written first steps"),
    "dashboard link that resolves nowhere": (
        textwrap.dedent("""\
            from generator import Invariant
            ALERTS = [Invariant(name="BrokenLink", counter="kfm_promotions_total", summary="s", description="d",
                                owner="data-platform", runbook="- look", dashboard_uid="kfm-no-such-board")]
            """), "alert-annotations",
        "out/prometheus/rules/invariants.rules.yaml: alert BrokenLink: annotations.dashboard_url: "
        "/d/kfm-no-such-board does not resolve to a rendered dashboard"),
    "credentials in a URL": (
        owned_slo(runbook='"- reset it at https://admin:hunter22@ledger.kfm.example/reset"'), "no-literal-secrets",
        "out/runbooks/BrokenExampleErrorBudgetBurnPage.md:<n>: URL with credentials (https:...)"),
    "curl credentials in a runbook": (
        owned_slo(runbook='"- check it: curl -u admin:hunter2xyz https://ledger.kfm.example/health"'),
        "no-literal-secrets", "out/runbooks/BrokenExampleErrorBudgetBurnPage.md:<n>: curl credentials (curl -...)"),
    "a password in a description": (
        owned_slo(description='"Uses the ledger, password: hunter22x."'), "no-literal-secrets",
        "credential value (passwo...): use a ${env:...} reference"),
    "a misspelled metric in an SLI": (
        owned_slo(sli="EventsRatio(total=\"kfm_focus_answer_total\", bad='kfm_focus_answer_total{outcome=\"error\"}')"),
        "metric-contract", "out/prometheus/rules/broken-example.rules.yaml: kfm_focus_answer_total"),
    "page tier disabled without a waiver": (
        owned_slo(alerting='Alerting(page=Tier.disabled("too noisy"))'), "page-tier-waiver",
        "slo/zz_broken.py: SLO broken-example: alerting.page.waiver: the page tier is disabled in prod without "
        "a waiver"),
    "waiver that expires in 9999": (
        owned_slo(alerting='Alerting(page=Tier.disabled("too noisy", waiver=Waiver(reason="r", '
                           'expires="9999-12-31", approved_by="lead")))'), "page-tier-waiver",
        f"slo/zz_broken.py: SLO broken-example: alerting.page.waiver.expires: 9999-12-31 is <n> days after today "
        f"({TODAY}): a waiver may expire at most {MAX_WAIVER_DAYS} days ahead"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gate_fails_on_a_bad_definition(tmp_path, case):
    text, gate, message = CASES[case]
    name = "zz_broken.py"
    result = gates_on(broken_project(tmp_path, name, text))
    assert result.returncode == 1, result.stdout
    assert f"FAIL {gate} (" in result.stdout
    pattern = re.escape(message).replace("<n>", r"\d+")  # <n>: a line number
    assert re.search(pattern, result.stdout), result.stdout
    assert f"policy gate(s) failed: {gate}" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr  # the gate never echoes a secret
    others = [line for line in result.stdout.splitlines() if line.startswith("FAIL") and gate not in line]
    assert not others, result.stdout


def test_an_expired_waiver_fails_and_a_live_one_passes():
    expired = run_in_process("gates", "--today", "2027-06-01")
    assert expired.returncode == 1
    assert ("slo/focus_mode.py: SLO focus-mode-abstentions: alerting.page.waiver: the waiver expired on "
            "2027-05-31 (today is 2027-06-01)") in expired.stdout
    last_day = run_in_process("gates", "--today", "2027-05-31")
    assert last_day.returncode == 0, last_day.stdout
    assert "expires on 2027-05-31, in 0 days" in last_day.stdout


def test_a_waiver_may_expire_at_most_a_year_ahead():
    """The committed waiver expires on 2027-05-31: 365 days ahead passes, 366 fails."""
    assert MAX_WAIVER_DAYS == 365
    a_year = run_in_process("gates", "--today", "2026-05-31")
    assert a_year.returncode == 0, a_year.stdout
    assert "PASS page-tier-waiver (" in a_year.stdout
    too_far = run_in_process("gates", "--today", "2026-05-30")
    assert too_far.returncode == 1, too_far.stdout
    assert "FAIL page-tier-waiver (" in too_far.stdout
    assert ("slo/focus_mode.py: SLO focus-mode-abstentions: alerting.page.waiver.expires: 2027-05-31 is 366 days "
            "after today (2026-05-30): a waiver may expire at most 365 days ahead") in too_far.stdout
    assert "policy gate(s) failed: page-tier-waiver" in too_far.stderr


def test_a_gate_that_cannot_be_evaluated_fails(tmp_path):
    project = copy_project(tmp_path / "project")
    shutil.rmtree(project / "telemetry")
    result = gates_on(project)
    assert result.returncode == 1
    assert ("FAIL page-tier-waiver" in result.stdout and "could not be evaluated: LookupError: no environments "
            "are defined") in result.stdout


def test_gates_on_a_missing_output_fail_rather_than_pass(tmp_path):
    result = run_in_process("gates", "--out", str(tmp_path / "nothing"), "--today", TODAY)
    assert result.returncode == 1
    for gate in ("owner-and-runbook", "alert-annotations", "no-literal-secrets"):
        assert f"FAIL {gate}" in result.stdout


def test_a_tampered_alert_without_description_fails(tmp_path):
    project = copy_project(tmp_path / "project")
    path = project / "out" / c.rules_file("evidence-resolver-availability")
    text = path.read_text()
    assert "      description: " in text
    path.write_text(text.replace("      description: ", "      descriptio: ", 1))
    result = run_in_process("gates", "--root", str(project), "--out", str(project / "out"), "--today", TODAY)
    assert result.returncode == 1
    assert "annotations.description: missing" in result.stdout


@pytest.mark.parametrize("line", [
    "-----BEGIN RSA PRIVATE KEY-----", "aws_key: AKIAABCDEFGHIJKLMNOP", "token: ghp_" + "a" * 36,
    "github_pat_" + "A1" * 15, "Authorization: Bearer abcdefghijklmnopqrstu1",
    "authorization: Basic dXNlcjpodW50ZXIy", "endpoint: https://user:pa55word@loki.kfm.example",
    "https://${env:KFM_USER}:hunter22@loki", "https://:pw12@loki", '"client_secret": "s3cr3t-value"',
    "api_key=abcd1234", "db_password: hunter22", "KFM_PASSWORD=hunter22", "access_token: abcd1234efgh",
    "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG", "  - password: correcthorsebattery",
    "description: Uses the ledger, password: hunter22x.",
    # curl basic auth, with curl on the line or on a continued one
    "curl -u admin:hunter2xyz https://ledger.kfm.example", "curl --user admin:hunter2xyz https://ledger.kfm.example",
    "curl -uadmin:hunter2xyz https://ledger.kfm.example", "curl --user=admin:password https://ledger.kfm.example",
    "curl -s -u 'admin:hunter2xyz' https://ledger.kfm.example", "--user admin:hunter2xyz", "-uadmin:hunter2xyz",
    "  -u admin:hunter2xyz \\",
    # credentials in prose
    "the password is `hunter2xyz!`", "password is hunter2xyz!", "the API token was abcd1234efgh",
    "passwd = hunter2xyz", "The secret was set to Zx9unused!", "the password is: hunter2xyz.",
    # Stripe
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "rk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "STRIPE_KEY=sk_test_abcdefghijklmnop", "whsec_" + "a1B2" * 8,
    # a bare AWS secret access key
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws s3 cp --secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY x",
    '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    # authorization headers, also Basic credentials without a digit (user:pass)
    "Authorization: Basic YWRtaW46aHVudGVyMg==", "authorization: Basic dXNlcjpwYXNz",
    '"Authorization": "Basic dXNlcjpwYXNz"',
    # npm
    "//registry.npmjs.org/:_authToken=abcdefabcdefabcdef", "_auth=YWRtaW46aHVudGVyMg==",
    "//npm.kfm.example/:_password=aHVudGVyMnh5eg==", "npm_" + "aB3d" * 9,
    # other providers
    "SG." + "aB3dE" * 4 + "fG." + "hI5jK" * 8 + "lmn", "SK" + "0123456789abcdef" * 2,
    "OPENAI_API_KEY sk-proj-" + "aB3d" * 12, "sk-ant-api03-" + "aB3d" * 12,
    "glsa_" + "aB3d" * 8 + "_0a1b2c3d", "glpat-" + "aB3d" * 5, "gldt-" + "aB3d" * 5,
    "url: https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/" + "aB3d" * 6,
    # private keys of every PEM flavour
    "-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    # Alertmanager receivers and other keys
    "    routing_key: 0123456789abcdef0123456789abcdef", "service_key: 0123456789abcdef",
    "  credentials: abcdefghijklmnop", "AccountKey=abc123def456ghi789==", "SECRET_KEY = 'django-insecure-x1'",
])
def test_secret_patterns_catch(line):
    assert any(pattern.search(line) for _, pattern in SECRET_PATTERNS), line


@pytest.mark.parametrize("line", [
    "password: ${env:KFM_LOKI_PASSWORD}", "endpoint: https://${env:KFM_USER}:${env:KFM_PASS}@loki",
    "Authorization: Bearer ${env:KFM_TOKEN}", "key: http.request.header.authorization",
    "token:", "- enduser.id", "https://loki.kfm.example:3100/otlp", "secret: true",
    "- Check the token: rotate it weekly", "the api-key = none configured",
    "description: Bearer tokens are never logged", '"title": "Authorization decisions by route"',
    # our own rendered output
    "# definitions-sha256: 271620cd1328e50349a6589a978c3167bfb60d4325279cb4408221a67073a2ab",
    "    kfm.io/definitions-sha256: 271620cd1328e50349a6589a978c3167bfb60d4325279cb4408221a67073a2ab",
    "<!-- Generated by the kfm-observability generator from slo/x.py. DO NOT EDIT. definitions-sha256: "
    "5683a0a69ce162102af5e9bf34a7aad78516b4a78775eff0b98c3da258d61b2c -->",
    "          authorization: ${env:KFM_LOKI_AUTHORIZATION}", "authorization: Basic ${env:KFM_BASIC}",
    '            "uid": "${datasource}"', '      "url": "/d/kfm-slo-overview"',
    '  "description": "Freshness per dataset, pipeline runs and promotion gates. Generated.",',
    '          "expr": "(time() - max by (dataset) (kfm_dataset_last_success_timestamp_seconds)) / on (dataset) '
    'max by (dataset) (kfm_slo:freshness_max_age:seconds)",',
    'expr: kfm_slo:error_budget_remaining:period{slo="x"} < 0',
    "summary: Governed API allowed access to a dataset that has no policy label (route {{ $labels.route }})",
    "      runbook_url: https://runbooks.kfm.example/EvidenceResolverAvailabilityErrorBudgetBurnPage",
    # 40-character runs that are not AWS secrets: no upper case, no digit, no lower case, or not 40 long
    "wjalrxutnfemi/k7mdeng/bpxrficyexamplekey", "wJalrXUtnFEMI/KzMDENG/bPxRfiCYEXAMPLEKEY",
    "WJALRXUTNFEMI/K7MDENG/BPXRFICYEXAMPLEKEY", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE",
    "kfm_slo:error_budget_burn_rate:ratio_rate1h/kfm_slo:error_budget_burn_rate:ratio_rate5m",
    # prose about credentials, not credentials
    "rotate the token weekly", "password: see the vault", "the token is rotated weekly",
    "the secret is 32-bytes long", "the token is base64-encoded", "Authorization: Basic Authentication is off",
    # references, and -u options that are not curl's credentials
    'curl -u "$USER:${env:PASS}" https://ledger.kfm.example', "curl -u admin:$KFM_PASS https://ledger.kfm.example",
    "curl -u admin: https://ledger.kfm.example", "docker run -u 1000:1000 kfm", "docker run --user app:app kfm",
    "date -u +%Y-%m-%dT%H:%M:%SZ", "sort -u a:b", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
    "sk_live_... is a Stripe key", "scikit-learn (sk-learn)", "SK-1234",
])
def test_secret_patterns_spare(line):
    assert not any(pattern.search(line) for _, pattern in SECRET_PATTERNS), line


def test_root_has_teams_for_every_owner():
    """The committed definitions name only defined teams (also what the first gate checks)."""
    from generator.model.catalog import load
    catalog = load(ROOT)
    owners = {s.owner for s in catalog.slos} | {i.owner for i in catalog.invariants}
    assert owners <= {t.name for t in catalog.teams}
