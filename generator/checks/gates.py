"""Policy gates: may this rendered output ship? Fail-closed.

Each gate reads the definitions and the rendered files and returns the
problems it found. A gate that raises, or finds nothing to check, fails: a
gate that cannot be evaluated must block, like the platform's promotion gates.
Gates are not part of the render (one of them depends on today's date); `make
test` runs them on out/, and the review summary reports them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import yaml

from generator import conventions as c
from generator.grafana.panels import all_panels
from generator.model.catalog import Catalog
from generator.model.windows import TIERS

SEVERITIES = TIERS
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard_url")
DASHBOARD_URL = re.compile(r"^/d/(?P<uid>[A-Za-z0-9_-]{1,40})(\?viewPanel=(?P<panel>\d+))?$")
WAIVER_WARNING_DAYS = 30
MAX_WAIVER_DAYS = 365        # a waiver is reviewed at least yearly: it may not expire later than this


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    checked: str                 # what the gate looked at, e.g. "9 SLOs, 2 invariants"
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()  # passing, but worth a reviewer's eye (a waiver about to expire)


@dataclass
class Findings:
    checked: dict[str, int]
    problems: list[str]
    notes: list[str]

    def count(self, what: str, n: int = 1) -> None:
        self.checked[what] = self.checked.get(what, 0) + n


def _where(catalog: Catalog, defined_in: str, kind: str, name: str, field: str) -> str:
    return f"{catalog.relative(defined_in)}: {kind} {name}: {field}"


# --- the gates ----------------------------------------------------------------

def owner_and_runbook(catalog: Catalog, files: dict[str, str], today: date, f: Findings) -> None:
    """Every SLO and invariant has an owner that is a defined team, hand-written first steps,
    and a generated runbook for each of its alerts."""
    owners = [("SLO", s.name, s.defined_in, s.owner, s.runbook) for s in catalog.slos]
    owners += [("invariant", i.name, i.defined_in, i.owner, i.runbook) for i in catalog.invariants]
    for kind, name, defined_in, owner, notes in owners:
        f.count(f"{kind}s")
        if catalog.team(owner) is None:
            known = ", ".join(t.name for t in catalog.teams) or "none defined"
            f.problems.append(f"{_where(catalog, defined_in, kind, name, 'owner')}: {owner!r} is not a team "
                              f"of alerts/teams.py (known: {known})")
        if not notes.strip():
            f.problems.append(f"{_where(catalog, defined_in, kind, name, 'runbook')}: no hand-written first "
                              f"steps for the on-call engineer")
    telemetry = catalog.telemetry
    for env in (telemetry.environments if telemetry else ()):
        target = env.thanos_ruler
        if target is not None and catalog.team(target.owner) is None:
            assert telemetry is not None
            known = ", ".join(t.name for t in catalog.teams) or "none defined"
            f.problems.append(f"{_where(catalog, telemetry.defined_in, 'environment', env.name, 'thanos_ruler.owner')}: "
                              f"{target.owner!r} is not a team of alerts/teams.py (known: {known})")
    for alert in _alerts(files):
        if c.runbook_file(alert["alert"]) not in files:
            f.problems.append(f"{alert['_file']}: alert {alert['alert']}: no generated runbook "
                              f"{c.runbook_file(alert['alert'])}")


def alert_annotations(catalog: Catalog, files: dict[str, str], today: date, f: Findings) -> None:
    """Every alert has a severity, a summary, a description, a runbook_url to its generated
    runbook and a dashboard link that resolves to a rendered dashboard (and panel)."""
    boards = _dashboards(files)
    for alert in _alerts(files):
        f.count("alerts")
        where = f"{alert['_file']}: alert {alert['alert']}"
        labels, annotations = alert.get("labels") or {}, alert.get("annotations") or {}
        if labels.get(c.SEVERITY_LABEL) not in SEVERITIES:
            f.problems.append(f"{where}: labels.severity: {labels.get(c.SEVERITY_LABEL)!r} is not page or ticket")
        for key in REQUIRED_ANNOTATIONS:
            if not str(annotations.get(key, "")).strip():
                f.problems.append(f"{where}: annotations.{key}: missing")
        runbook = annotations.get("runbook_url", "")
        if runbook and runbook != c.runbook_url(alert["alert"]):
            f.problems.append(f"{where}: annotations.runbook_url: {runbook} is not its generated runbook "
                              f"{c.runbook_url(alert['alert'])}")
        link = annotations.get("dashboard_url", "")
        if link:
            match = DASHBOARD_URL.match(link)
            if match is None or match["uid"] not in boards:
                f.problems.append(f"{where}: annotations.dashboard_url: {link} does not resolve to a rendered "
                                  f"dashboard")
            elif match["panel"] and int(match["panel"]) not in boards[match["uid"]]:
                f.problems.append(f"{where}: annotations.dashboard_url: {link}: dashboard {match['uid']} has no "
                                  f"panel {match['panel']}")


# A credential's key: alone or as the end of a longer key (db_password, KFM_API_TOKEN,
# aws_secret_access_key, pagerduty routing_key). `\b` would not do: it treats '_' as part of a word.
_KEY = (r"(?<![A-Za-z0-9])[\w-]*(password|passwd|secret|token|credentials?"
        r"|(api|access|private|secret|account|auth|routing|service|integration)[_-]?key)"
        r"(?![A-Za-z0-9])")
_NOT_A_REFERENCE = r"(?!\$\{env:)"
_PLACEHOLDER = r"(?!(true|false|null|none|yes|no|~)\b)"
# A value that looks generated rather than written: it has a digit or a symbol.
_GENERATED = r"(?=[^\s\"'`,}{]*[0-9!#%^&*+/=])"
# The alphabet of an AWS secret access key (base64 without padding).
_B64 = "A-Za-z0-9/+"
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")),
    ("AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    # 40 characters of [A-Za-z0-9/+] with an upper-case letter, a lower-case letter and a digit, and
    # nothing of that alphabet either side: sha1/sha256 hex digests (lower-case) and CamelCase names
    # (no digit) are spared; '_', '-', '.' and ':' break a run, so metric names and paths are too.
    ("AWS secret access key", re.compile(
        rf"(?<![{_B64}])(?=[{_B64}]{{0,39}}[A-Z])(?=[{_B64}]{{0,39}}[a-z])(?=[{_B64}]{{0,39}}[0-9])"
        rf"[{_B64}]{{40}}(?![{_B64}])")),
    ("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("GitLab token", re.compile(r"\bgl(pat|dt|rt|ptt|soat|ft)-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Slack webhook", re.compile(r"\bhooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9_/-]{20,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"(?<![A-Za-z0-9])(sk|rk)_(live|test)_[A-Za-z0-9]{16,}")),
    ("Stripe webhook secret", re.compile(r"(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{24,}")),
    ("OpenAI/Anthropic key", re.compile(
        r"(?<![A-Za-z0-9-])sk-(proj-|ant-[a-z]+\d*-)?(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}")),
    ("SendGrid key", re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("Twilio API key", re.compile(r"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])")),
    ("Grafana token", re.compile(r"(?<![A-Za-z0-9])gl(sa|c)_[A-Za-z0-9_+/=-]{32,}")),
    ("npm token", re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    # .npmrc: //registry/:_authToken=..., _auth=<base64>, _password=<base64>; ${NPM_TOKEN} is a reference.
    ("npmrc credential", re.compile(
        r"(?<![A-Za-z0-9])_(auth|authToken|password)\s*=\s*[\"']?(?!\$)[^\s\"']{8,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("authorization header", re.compile(
        r"(?i)(authorization|bearer)[\"']?\s*[:=]?\s*[\"']?(basic|bearer|token)?\s+" + _NOT_A_REFERENCE
        + r"(?=[A-Za-z0-9._~+/=-]*[0-9])[A-Za-z0-9._~+/-]{12,}=*")),
    # Basic credentials are base64 and need not have a digit (dXNlcjpwYXNz is user:pass): an upper-case
    # letter after a lower-case one tells them from prose ("Authorization: Basic Authentication").
    ("authorization header", re.compile(
        r"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:basic)\s+"
        r"(?=[A-Za-z0-9+/]*[a-z0-9+/][A-Z])(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])")),
    ("URL with credentials", re.compile(
        r"\b[a-z][a-z0-9+.-]*://([^\s/:@\"'${}]*|\$\{env:[^}]*\}):" + _NOT_A_REFERENCE + r"[^\s/@\"']+@")),
    # curl -u user:password, --user user:password, -uuser:password: any literal password
    # ("$PASS", "${env:PASS}" are references) ...
    ("curl credentials", re.compile(
        r"\bcurl\b.*?\s(-u\s*|--user(\s+|=))[\"']?(?!\$)[^\s\"':$]+:(?![$\s\"'])[^\s\"']{3,}")),
    # ... and the same option without curl on the line (a continued command), only where the password
    # looks generated, so `docker run -u 1000:1000`, `--user app:app` and `date -u +%H:%M:%S` pass.
    ("curl credentials", re.compile(
        r"(?<![\w-])(-u\s*|--user(\s+|=))[\"']?[A-Za-z0-9_][\w.@-]*:(?![$\s\"'])"
        r"(?=[^\s\"']*[A-Za-z])(?=[^\s\"']*[0-9!#%^&*+/=@?])[^\s\"']{6,}")),
    # A key at the start of a line (YAML, JSON, KEY=value) with a literal value.
    ("credential value", re.compile(
        r"(?i)^\s*(-\s*)?[\"']?" + _KEY + r"[\"']?\s*[:=]\s*[\"']?" + _NOT_A_REFERENCE + _PLACEHOLDER
        + r"[^\s\"',}{]{4,}")),
    # The same inside prose (a description, a runbook note): only values that look generated
    # (a digit or a symbol), so "check the token: rotate it weekly" passes.
    ("credential value", re.compile(
        r"(?i)" + _KEY + r"[\"']?\s*[:=]\s*[\"']?" + _NOT_A_REFERENCE
        + r"(?=[^\s\"',}{]*[0-9!#%^&*+/=])[^\s\"',}{]{6,}")),
    # Prose without ':' or '=': "the password is `hunter2xyz!`", "the API token was abcd1234efgh".
    # Only values of 8+ characters that look generated and end at a space, a quote or the line's end,
    # so "the token is rotated weekly", "the secret is 32-bytes long" and "base64-encoded" pass.
    ("credential value", re.compile(
        r"(?i)" + _KEY + r"\s+(is|was|are|were)(\s+set)?(\s+to)?\s*[:=]?\s+[`\"']?" + _NOT_A_REFERENCE
        + r"(?!\$)" + _GENERATED + r"[^\s\"'`,}{-]{8,}(?![^\s\"'`,}{])")),
)

# The patterns built on _KEY are the costly ones, and every one of their matches holds one of these
# words (case-folded, as re.IGNORECASE compares): the gate skips them on lines without any.
_KEY_WORDS = ("pass", "secret", "token", "credent", "key")
_KEYED = frozenset(pattern for _, pattern in SECRET_PATTERNS if _KEY in pattern.pattern)


def no_literal_secrets(catalog: Catalog, files: dict[str, str], today: date, f: Findings) -> None:
    """No key, token, password or URL with credentials anywhere in out/: credentials are
    ${env:...} references resolved where the output runs."""
    for path, body in files.items():
        f.count("files")
        for number, line in enumerate(body.splitlines(), 1):
            keyed = any(word in line.casefold() for word in _KEY_WORDS)
            for kind, pattern in SECRET_PATTERNS:
                if not keyed and pattern in _KEYED:
                    continue  # the pattern needs a key word that the line does not have
                match = pattern.search(line)
                if match:
                    shown = match.group(0)[:6] + "..."  # never echo the secret itself
                    f.problems.append(f"out/{path}:{number}: {kind} ({shown}): use a ${{env:...}} reference")


def page_tier_waiver(catalog: Catalog, files: dict[str, str], today: date, f: Findings) -> None:
    """Where an environment pages (prod), an SLO may disable its page tier only with a waiver
    that states a reason and an expiry date that has not passed and is at most MAX_WAIVER_DAYS
    away (a waiver until 9999 is no waiver)."""
    if catalog.telemetry is None or not catalog.telemetry.environments:
        raise LookupError("no environments are defined (telemetry/): cannot tell which environments page")
    paging = [e.name for e in catalog.telemetry.environments if e.pages]
    for slo in catalog.slos:
        f.count("SLOs")
        tier = slo.alerting.page
        if tier.enabled or not paging:
            continue
        where = _where(catalog, slo.defined_in, "SLO", slo.name, "alerting.page.waiver")
        envs = ", ".join(paging)
        waiver = tier.waiver
        if waiver is None:
            f.problems.append(f"{where}: the page tier is disabled in {envs} without a waiver "
                              f"(Waiver(reason=..., expires='YYYY-MM-DD', approved_by=...))")
            continue
        if not waiver.reason.strip():
            f.problems.append(f"{where}: the waiver states no reason")
        expires = date.fromisoformat(waiver.expires)
        days = (expires - today).days
        if expires < today:
            f.problems.append(f"{where}: the waiver expired on {waiver.expires} (today is {today.isoformat()}): "
                              f"renew it with a reason, or enable the page tier")
        elif days > MAX_WAIVER_DAYS:
            f.problems.append(f"{where}.expires: {waiver.expires} is {days} days after today ({today.isoformat()}): "
                              f"a waiver may expire at most {MAX_WAIVER_DAYS} days ahead; set an earlier date "
                              f"and renew it when it comes due")
        elif days <= WAIVER_WARNING_DAYS:
            f.notes.append(f"{where}: the waiver expires on {waiver.expires}, in {days} days")
        else:
            f.notes.append(f"{catalog.relative(slo.defined_in)}: SLO {slo.name}: page tier waived in {envs} "
                           f"until {waiver.expires} ({waiver.approved_by})")


def metric_contract(catalog: Catalog, files: dict[str, str], today: date, f: Findings) -> None:
    """Every query in the rules, dashboards and collector config selects series that the
    instrumentation helpers (or the collector, or Prometheus itself) expose, with the type and
    labels it assumes (docs/instrumentation.md)."""
    from generator.checks.contract import check_contract
    from kfm_instrument import contract_exposition

    f.problems.extend(check_contract(files, contract_exposition(), checked=f.checked, declared=catalog.metrics))
    if catalog.metrics:
        f.checked["declared metrics"] = len(catalog.metrics)


GATES: tuple[tuple[str, Callable[[Catalog, dict[str, str], date, Findings], None]], ...] = (
    ("owner-and-runbook", owner_and_runbook),
    ("alert-annotations", alert_annotations),
    ("no-literal-secrets", no_literal_secrets),
    ("page-tier-waiver", page_tier_waiver),
    ("metric-contract", metric_contract),
)


def run_gates(catalog: Catalog, files: dict[str, str], today: date) -> list[GateResult]:
    results = []
    for name, gate in GATES:
        found = Findings({}, [], [])
        try:
            gate(catalog, files, today, found)
            if not found.checked:
                found.problems.append("found nothing to check: the gate cannot be evaluated")
        except Exception as error:  # fail-closed: a gate that cannot run blocks
            found.problems.append(f"could not be evaluated: {type(error).__name__}: {error}")
        checked = ", ".join(f"{n} {what}" for what, n in sorted(found.checked.items()))
        results.append(GateResult(name, not found.problems, checked, tuple(found.problems), tuple(found.notes)))
    return results


def report(results: list[GateResult]) -> str:
    lines = []
    for result in results:
        lines.append(f"{'PASS' if result.passed else 'FAIL'} {result.name} ({result.checked or 'nothing checked'})")
        lines.extend(f"  {problem}" for problem in result.problems)
        lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines) + "\n"


# --- reading the rendered output ------------------------------------------------

def _alerts(files: dict[str, str]) -> list[dict[str, Any]]:
    """Alerts of the plain rule files and of the PrometheusRule objects the GitOps controller syncs."""
    alerts = []
    rule_files = sorted(p for p in files if p.startswith(c.RULES_DIR) and p.endswith(".yaml"))
    if not rule_files:
        raise LookupError("no rendered rule files under prometheus/rules/")
    objects = sorted(p for p in files if p.startswith(c.GITOPS_BASE + "/prometheusrules/"))
    for path in rule_files + objects:
        document = yaml.safe_load(files[path])
        groups = document["spec"]["groups"] if path in objects else document["groups"]
        for group in groups:
            for rule in group["rules"]:
                if "alert" in rule:
                    alerts.append({**rule, "_file": f"out/{path}"})
    return alerts


def _dashboards(files: dict[str, str]) -> dict[str, set[int]]:
    boards = {}
    for path in sorted(p for p in files if p.startswith(c.DASHBOARDS_DIR) and p.endswith(".json")):
        board = json.loads(files[path])
        boards[board["uid"]] = {p["id"] for p in all_panels(board)}
    if not boards:
        raise LookupError("no rendered dashboards under grafana/dashboards/")
    return boards

