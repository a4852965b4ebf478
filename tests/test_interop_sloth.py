"""`import sloth`: Sloth specs (prometheus/v1, the PrometheusServiceLevel CRD, Sloth's OpenSLO v1alpha input)
become definitions files that render, pass the gates and whose generated tests pass; everything the API
cannot express is refused, exit 2, one line per problem naming the file, the SLO and why."""
from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from generator.interop.pythonsource import literal, selector_source
from interop_support import (assert_rules_and_tests_pass, burn_alerts, cli, objective, project, render, sloth_binary,
                             sloth_examples)
from promtool_runner import run

GETTING_STARTED = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "data-platform"
  repo: "myorg/myservice"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
"""

# Every file of Sloth v0.16.0's examples/: imported, or refused with (a part of) the reason.
CORPUS = {
    "contrib-denominator-corrected.yaml": "SLO plugins sloth.dev/contrib/denominator_corrected_rules/v1 change",
    "contrib-slo-plugins.yml": "SLO plugins sloth.dev/contrib/info_labels/v1 change",
    "getting-started.yml": None,
    "home-wifi.yml": "the query is not sum(rate(",
    "k8s-getting-started.yml": None,
    "k8s-home-wifi.yml": "the query is not sum(rate(",
    "k8s-multifile.yml": None,
    "kubernetes-apiserver.yml": None,
    "multifile.yml": None,
    "no-alerts.yml": None,
    "openslo-getting-started.yml": None,
    "openslo-kubernetes-apiserver.yml": None,
    "plugin-getting-started.yml": "an SLI plugin (getting_started_availability)",
    "plugin-k8s-getting-started.yml": "an SLI plugin (getting_started_availability)",
    "raw-home-wifi.yml": "a raw SLI (an error ratio query) cannot be expressed",
    "slo-plugin-getting-started.yml": None,
    "slo-plugin-k8s-getting-started.yml": None,
    "victoria-metrics.yml": "SLO plugins sloth.dev/contrib/validate_victoria_metrics/v1",
}
# The sloth spec's routing_key label is a credential to the no-literal-secrets gate: left out, as the CLI allows.
IMPORT_FLAGS = ("--owner", "data-platform", "--drop-label", "routing_key")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


# --- end to end: getting-started.yml ---------------------------------------------------------------

@pytest.fixture(scope="module")
def getting_started(tmp_path_factory, promtools):
    root = project(tmp_path_factory.mktemp("getting-started"))
    spec = sloth_examples() / "getting-started.yml"
    result = cli("import", "sloth", str(spec), "--root", str(root), *IMPORT_FLAGS)
    assert result.returncode == 0, result.stderr
    return root, render(root)


def test_getting_started_imports_as_readable_definitions(getting_started):
    root, _ = getting_started
    source = (root / "slo" / "myservice.py").read_text()
    assert 'name="myservice-requests-availability"' in source
    assert "objective=0.999," in source
    assert 'description="Common SLO based on availability for HTTP request responses."' in source
    assert "HTTP_REQUEST_DURATION_SECONDS_COUNT = \"http_request_duration_seconds_count\"" in source
    assert "bad=f'{HTTP_REQUEST_DURATION_SECONDS_COUNT}{{job=\"myservice\", code=~\"(5..|429)\"}}'" in source
    assert '"sloth_alert": "MyServiceHighErrorRate"' in source and '"imported_severity": "pageteam"' in source
    assert '"imported_tier": "2"' in source and '"repo": "myorg/myservice"' in source
    assert '"routing_key"' not in source and "# label 'routing_key' (alerting.page.labels) left out" in source
    assert "METRICS = [" in source and '"summary"' in source   # its _count is declared, for the contract gate
    assert str(sloth_examples()) not in source and str(root) not in source   # never a path of this machine
    assert "(getting-started.yml)" in source


def test_getting_started_renders_and_passes_the_gates(getting_started):
    root, files = getting_started
    rules = files["prometheus/rules/myservice-requests-availability.rules.yaml"]
    assert 'http_request_duration_seconds_count{job="myservice", code=~"(5..|429)"}' in rules
    result = cli("gates", "--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS metric-contract" in result.stdout and "PASS no-literal-secrets" in result.stdout


def test_getting_started_generated_tests_pass_on_every_promtool(getting_started, promtools):
    root, _ = getting_started
    rules = root / "out" / "prometheus" / "rules" / "myservice-requests-availability.rules.yaml"
    tests = root / "out" / "prometheus" / "tests" / "myservice-requests-availability.test.yaml"
    for version, promtool in promtools.items():
        checked = run(promtool, "check", "rules", str(rules))
        assert checked.returncode == 0, f"{version}: {checked.stdout}{checked.stderr}"
        tested = run(promtool, "test", "rules", tests.name, cwd=tests.parent)
        assert tested.returncode == 0, f"{version}: {tested.stdout}{tested.stderr}"
        assert "SUCCESS" in tested.stdout


# --- the corpus: every file of Sloth's examples/ ---------------------------------------------------

def sloth_alerts(sloth: str, spec: Path) -> dict[tuple[str, str], tuple[float, set]]:
    """(service, slo) -> (objective, {(severity, long, short, factor)}) from `sloth generate`."""
    result = subprocess.run([sloth, "generate", "-i", str(spec)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found: dict[tuple[str, str], tuple[float, set]] = {}
    objectives: dict[tuple[str, str], float] = {}
    alerts: dict[tuple[str, str], set] = {}
    for document in yaml.safe_load_all(result.stdout):
        if not document:
            continue
        groups = document.get("groups") or document.get("spec", {}).get("groups", [])
        for group in groups:
            for rule in group["rules"]:
                labels = rule.get("labels", {})
                key = (labels.get("sloth_service"), labels.get("sloth_slo"))
                if rule.get("record") == "slo:objective:ratio":
                    objectives[key] = float(re.fullmatch(r"vector\(([0-9.e+-]+)\)", rule["expr"].strip()).group(1))
                if "alert" in rule:
                    key = tuple(re.search(r'sloth_service="([^"]+)", sloth_slo="([^"]+)"', rule["expr"]).groups())
                    windows = re.findall(r"ratio_rate(\w+)\{[^}]*\} > \(([0-9.]+) \*", rule["expr"])
                    assert len(windows) % 2 == 0, rule["expr"]
                    for (short, factor), (long, factor2) in zip(windows[::2], windows[1::2]):
                        assert factor == factor2
                        alerts.setdefault(key, set()).add((labels["sloth_severity"], long, short, float(factor)))
    for key, value in objectives.items():
        found[key] = (value, alerts.get(key, set()))
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = sloth_examples()
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))
    return folder, files


def test_the_corpus_lists_every_example_file(corpus):
    _, files = corpus
    assert files == sorted(CORPUS), "Sloth's examples/ changed: list each file as imported or refused"


@pytest.mark.parametrize("name", sorted(n for n, why in CORPUS.items() if why is not None))
def test_an_example_the_api_cannot_express_is_refused_with_its_reason(corpus, tmp_path, name):
    folder, _ = corpus
    root = project(tmp_path)
    before = sorted(p.name for p in (root / "slo").iterdir())
    result = cli("import", "sloth", str(folder / name), "--root", str(root), *IMPORT_FLAGS)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error:") and "nothing written" in lines[0]
    assert all(line.startswith(f"{folder / name}: SLO '") for line in lines[1:]), lines
    assert CORPUS[name] in result.stderr
    assert sorted(p.name for p in (root / "slo").iterdir()) == before


@pytest.mark.parametrize("name", sorted(n for n, why in CORPUS.items() if why is None))
def test_an_example_imports_renders_and_matches_sloths_objective_and_windows(corpus, tmp_path, name, promtools):
    folder, _ = corpus
    root = project(tmp_path)
    before = {p.name for p in (root / "slo").iterdir()}
    result = cli("import", "sloth", str(folder / name), "--root", str(root), *IMPORT_FLAGS)
    assert result.returncode == 0, result.stderr
    written = sorted({p.name for p in (root / "slo").iterdir()} - before)
    assert written, result.stdout
    files = render(root)   # render runs promtool check rules on every rule file itself; checked again below
    expected = sloth_alerts(sloth_binary(), folder / name)
    assert expected
    rule_files, test_files = [], []
    for (service, slo), (sloth_objective, sloth_windows) in sorted(expected.items()):
        ours = next(n for n in (f"{service}-{slo}", slo) if f"prometheus/rules/{n}.rules.yaml" in files)
        rules = files[f"prometheus/rules/{ours}.rules.yaml"]
        assert objective(rules, "kfm_slo:objective:ratio") == pytest.approx(sloth_objective, abs=1e-12)
        assert burn_alerts(rules) == sloth_windows, ours
        rule_files.append(root / "out" / "prometheus" / "rules" / f"{ours}.rules.yaml")
        test_files.append(root / "out" / "prometheus" / "tests" / f"{ours}.test.yaml")
    assert_rules_and_tests_pass(promtools, rule_files, test_files)


# --- what maps to what -----------------------------------------------------------------------------

def test_an_import_is_byte_identical_across_runs(tmp_path):
    outputs = []
    for run_number in range(2):
        root = project(tmp_path / str(run_number))
        spec = write(tmp_path, f"spec{run_number}.yml", GETTING_STARTED)
        result = cli("import", "sloth", str(spec), "--root", str(root))
        assert result.returncode == 0, result.stderr
        outputs.append((root / "slo" / "myservice.py").read_bytes())
    assert outputs[0] == outputs[1].replace(b"spec1.yml", b"spec0.yml")


def test_options_map_to_ours(tmp_path):
    root = project(tmp_path)
    spec = write(tmp_path, "api.yml", """\
        apiVersion: sloth.slok.dev/v1
        kind: PrometheusServiceLevel
        metadata: {name: api}
        spec:
          service: api
          labels: {team: evidence, env: prod}
          slos:
            - name: latency
              objective: 99.5
              description: Fast.
              labels: {category: latency}
              sli:
                events:
                  errorQuery: (sum(rate(api_seconds_count{route="/a"}[{{.window}}])) - sum(rate(api_seconds_bucket{le="0.25",route="/a"}[{{.window}}])))
                  totalQuery: sum(rate(api_seconds_count{route="/a"}[{{ .window }}]))
              alerting:
                pageAlert: {disable: true}
                ticketAlert: {labels: {channel: "#api"}, annotations: {runbook: "https://runbooks.example/api"}}
        """)
    result = cli("import", "sloth", str(spec), "--root", str(root))
    assert result.returncode == 0, result.stderr
    source = (root / "slo" / "api.py").read_text()
    assert 'owner="evidence"' in source and "objective=0.995," in source
    assert "Latency(" in source and "threshold_seconds=0.25" in source
    assert "histogram=f'{API_SECONDS}{{route=\"/a\"}}'" in source
    assert 'page=Tier.disabled("The Sloth spec api.yml disables the page alert of this SLO.")' in source
    assert "Sloth ticket alert annotation `runbook`: https://runbooks.example/api" in source
    assert '"histogram"' in source and "buckets=(0.25,)" in source
    assert "page-tier-waiver" in result.stderr   # a note: the disabled page tier needs a waiver in prod
    files = render(root)
    assert "api_seconds_bucket" in files["prometheus/rules/api-latency.rules.yaml"]


def test_an_openslo_v1alpha_file_imports_as_sloth_reads_it(tmp_path):
    root = project(tmp_path)
    spec = sloth_like_openslo(tmp_path)
    result = cli("import", "sloth", str(spec), "--root", str(root), "--owner", "governance")
    assert result.returncode == 0, result.stderr
    source = (root / "slo" / "my_service.py").read_text()
    assert 'name="avail-0"' in source and "good=" in source and 'code!~"(5..|429)"' in source


def sloth_like_openslo(tmp_path: Path) -> Path:
    return write(tmp_path, "o.yml", """\
        apiVersion: openslo/v1alpha
        kind: SLO
        metadata: {name: avail}
        spec:
          service: my-service
          description: Available.
          budgetingMethod: Occurrences
          objectives:
            - ratioMetrics:
                good: {source: prometheus, queryType: promql, query: 'sum(rate(reqs_total{code!~"(5..|429)"}[{{.window}}]))'}
                total: {source: prometheus, queryType: promql, query: 'sum(rate(reqs_total[{{.window}}]))'}
              target: 0.999
          timeWindows: [{count: 30, unit: Day}]
        """)


def test_generated_selectors_are_valid_python_for_any_text():
    constants = {"m": "M"}
    for text in ('m{a="{{x}}"}', "m{a=\"it's\"}", 'm{a="\\\\d+"}', "m"):
        source = selector_source(text, constants)
        assert eval(source, {"M": "m"}) == text, source   # noqa: S307 - our generated literal
    assert eval(literal("a\"b'c\n")) == "a\"b'c\n"   # noqa: S307


# --- refusals: exit 2, one line per problem, nothing written ---------------------------------------

SLO_TEMPLATE = """\
version: prometheus/v1
service: {service}
labels: {{owner: data-platform}}
slos:
  - name: {name}
    objective: {objective}
    description: d
    sli:
      events:
        error_query: {error}
        total_query: {total}
"""
GOOD = dict(service="svc", name="avail", objective="99.9",
            error='sum(rate(reqs_total{code="500"}[{{.window}}]))', total="sum(rate(reqs_total[{{.window}}]))")

REFUSALS = {
    "objective of 100": (dict(objective="100"), "slos[0].objective: 100 must be a percentage strictly between 0 and 100"),
    "objective of 0": (dict(objective="0"), "slos[0].objective: 0 must be a percentage"),
    "objective as text": (dict(objective="high"), "slos[0].objective: expected a number"),
    "huge objective": (dict(objective="1e400"), "slos[0].objective: 1e400 is not a usable number"),
    "objective true": (dict(objective="true"), "slos[0].objective: expected a number, got bool"),
    "service name": (dict(service="My_Service"), "spec: service: 'My_Service' is not a valid service name"),
    "slo name": (dict(name="Avail"), "slos[0].name: 'Avail' is not a valid SLO name"),
    "no window": (dict(error='sum(rate(reqs_total{code="500"}[5m]))'), "error_query: the query has no {{.window}}"),
    "subquery shape": (dict(error='sum_over_time(count(up == 0)[{{.window}}:])'), "error_query: the query is not sum(rate("),
    "ratio of gauges": (dict(total="sum(up[{{.window}}])"), "total_query: the query is not sum(rate("),
    "not promql": (dict(error="sum(rate(reqs_total{[{{.window}}]"), "error_query: not a PromQL expression"),
    "grouping differs": (dict(error='sum by (code) (rate(reqs_total{code="500"}[{{.window}}]))'),
                         "error_query: grouped by (code) but the total by ()"),
    "bad drops a total matcher": (dict(total='sum(rate(reqs_total{job="a"}[{{.window}}]))'),
                                  "sli.bad: must keep every matcher of total"),
    "bucket as counter": (dict(error='sum(rate(h_bucket{le="1"}[{{.window}}]))', total="sum(rate(h_total[{{.window}}]))"),
                          "a histogram bucket as a counter"),
    "latency matchers differ": (dict(error='sum(rate(h_count{a="1"}[{{.window}}])) - sum(rate(h_bucket{le="1"}[{{.window}}]))',
                                     total='sum(rate(h_count{a="1"}[{{.window}}]))'),
                                "the bucket and the count select different series"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_query_or_value_the_api_cannot_express_is_refused(tmp_path, case):
    changes, message = REFUSALS[case]
    values = {**GOOD, **changes}
    spec = tmp_path / "spec.yml"
    spec.write_text(SLO_TEMPLATE.format(**{k: (yaml.safe_dump(v, default_style="'").strip() if k in ("error", "total")
                                               else v) for k, v in values.items()}))
    assert_refused(tmp_path, ["sloth", str(spec)], message, str(spec))


def assert_refused(tmp_path: Path, args: list[str], message: str, file: str) -> str:
    root = project(tmp_path)
    before = {p: p.read_bytes() for p in (root / "slo").iterdir() if p.is_file()}
    result = cli("import", *args, "--root", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[0].endswith("nothing written"), lines
    assert len(lines) >= 2 and all(line.startswith(f"{file}: ") for line in lines[1:]), lines
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (root / "slo").iterdir() if p.is_file()} == before
    return result.stderr


def test_the_good_template_imports(tmp_path):
    """The refusals above change one thing of this spec, which imports."""
    root = project(tmp_path)
    spec = tmp_path / "spec.yml"
    spec.write_text(SLO_TEMPLATE.format(**{k: (yaml.safe_dump(v, default_style="'").strip()
                                               if k in ("error", "total") else v) for k, v in GOOD.items()}))
    result = cli("import", "sloth", str(spec), "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert (root / "slo" / "svc.py").is_file()


SPEC_REFUSALS = {
    "raw sli": ("version: prometheus/v1\nservice: s\nslos:\n  - {name: a, objective: 99, sli: {raw: {error_ratio_query: x}}}\n",
                "SLO 'a': slos[0].sli.raw: a raw SLI"),
    "plugin sli": ("version: prometheus/v1\nservice: s\nslos:\n  - {name: a, objective: 99, sli: {plugin: {id: p}}}\n",
                   "SLO 'a': slos[0].sli.plugin: an SLI plugin (p)"),
    "slo plugins": ("version: prometheus/v1\nservice: s\nslo_plugins: {chain: [{id: x/y}]}\nslos:\n  - {name: a, objective: 99}\n",
                    "SLO 'a': slo_plugins: SLO plugins x/y change the generated rules"),
    "not a mapping": ("- just\n- a list\n", "spec: document 1: expected a mapping, got str"),
    "not yaml": ("version: [unclosed\n", "spec: line 2: not YAML"),
    "unknown kind": ("apiVersion: v1\nkind: ConfigMap\n", "spec: kind: v1 ConfigMap is not a Sloth spec"),
    "alert windows": ("apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec: {}\n", "kind: AlertWindows"),
    "openslo v1 to sloth": ("apiVersion: openslo/v1\nkind: SLO\n", "use `import openslo` for OpenSLO v1"),
    "slos not a list": ("version: prometheus/v1\nservice: s\nslos: 3\n", "spec: slos: expected a list, got int"),
    "sli wrong type": ("version: prometheus/v1\nservice: s\nslos:\n  - {name: a, objective: 99, sli: 7}\n",
                       "SLO 'a': slos[0].sli: expected a mapping, got int"),
    "invalid label name": ("version: prometheus/v1\nservice: s\nlabels: {owner: data-platform, 'bad-name': x}\nslos:\n"
                           "  - {name: a, objective: 99, sli: {events: {error_query: 'sum(rate(r_total{c=\"5\"}[{{.window}}]))', "
                           "total_query: 'sum(rate(r_total[{{.window}}]))'}}}\n",
                           "slos[0].labels.bad-name: 'bad-name' is not a valid Prometheus label name"),
    "disable not a bool": ("version: prometheus/v1\nservice: s\nlabels: {owner: data-platform}\nslos:\n"
                           "  - {name: a, objective: 99, alerting: {page_alert: {disable: maybe}}, sli: {events: "
                           "{error_query: 'sum(rate(r_total{c=\"5\"}[{{.window}}]))', total_query: 'sum(rate(r_total[{{.window}}]))'}}}\n",
                           "slos[0].alerting.page_alert.disable: expected true or false"),
}


@pytest.mark.parametrize("case", sorted(SPEC_REFUSALS))
def test_a_spec_the_importer_cannot_read_is_refused(tmp_path, case):
    text, message = SPEC_REFUSALS[case]
    spec = tmp_path / "spec.yml"
    spec.write_text(text)
    assert_refused(tmp_path, ["sloth", str(spec)], message, str(spec))


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    spec = tmp_path / "spec.yml"
    spec.write_bytes(b"version: prometheus/v1\nservice: \xff\n")
    assert_refused(tmp_path, ["sloth", str(spec)], "spec: file: not UTF-8 text", str(spec))


def test_a_missing_file_is_refused(tmp_path):
    assert_refused(tmp_path, ["sloth", str(tmp_path / "nope.yml")], "spec: file: not a file", str(tmp_path / "nope.yml"))


def spec_file(tmp_path: Path, labels: str = "{owner: data-platform}", name: str = "avail") -> Path:
    spec = tmp_path / f"{name}.yml"
    text = SLO_TEMPLATE.format(**{**GOOD, "name": name, "error": "'" + GOOD["error"] + "'",
                                  "total": "'" + GOOD["total"] + "'"})
    spec.write_text(text.replace("labels: {owner: data-platform}", f"labels: {labels}"))
    return spec


def test_an_owner_that_is_not_a_team_is_refused(tmp_path):
    spec = spec_file(tmp_path, labels="{owner: myteam}")
    stderr = assert_refused(tmp_path, ["sloth", str(spec)], "SLO 'svc-avail': owner: 'myteam' is not a team of "
                                                             "alerts/teams.py", str(spec))
    assert "give --owner TEAM" in stderr


def test_a_spec_without_owner_needs_owner(tmp_path):
    spec = spec_file(tmp_path, labels="{repo: x}")
    assert_refused(tmp_path, ["sloth", str(spec)], "owner: the spec names no owner (labels.owner or labels.team): "
                                                   "give --owner TEAM", str(spec))


def test_a_credential_like_label_is_refused_unless_dropped(tmp_path):
    spec = spec_file(tmp_path, labels="{owner: data-platform, api_token: abcd1234}")
    assert_refused(tmp_path / "a", ["sloth", str(spec)], "labels.api_token: api_token: abcd1234 looks like a literal "
                                                         "credential", str(spec))
    root = project(tmp_path / "b")
    result = cli("import", "sloth", str(spec), "--root", str(root), "--drop-label", "api_token")
    assert result.returncode == 0, result.stderr
    assert "api_token" not in (root / "slo" / "svc.py").read_text().split("SLO(")[1]


def test_an_existing_file_is_not_overwritten_without_force(tmp_path):
    root = project(tmp_path)
    spec = spec_file(tmp_path)
    assert cli("import", "sloth", str(spec), "--root", str(root)).returncode == 0
    again = cli("import", "sloth", str(spec), "--root", str(root))
    assert again.returncode == 2
    assert f"{spec}: SLO 'svc-avail': file: slo/svc.py exists: refusing to overwrite it (give --force)" in again.stderr
    forced = cli("import", "sloth", str(spec), "--root", str(root), "--force")
    assert forced.returncode == 0, forced.stderr


def test_a_name_already_defined_is_refused(tmp_path):
    spec = tmp_path / "dup.yml"
    spec.write_text(SLO_TEMPLATE.format(**{**GOOD, "service": "tile-server", "name": "availability",
                                           "error": "'" + GOOD["error"] + "'", "total": "'" + GOOD["total"] + "'"}))
    assert_refused(tmp_path, ["sloth", str(spec)], "SLO 'tile-server-availability': name: an SLO of that name is "
                                                   "defined in slo/tiles.py", str(spec))


def test_two_problems_give_two_lines(tmp_path):
    spec = tmp_path / "two.yml"
    spec.write_text("version: prometheus/v1\nservice: s\nslos:\n  - {name: a, objective: 99, sli: {raw: {}}}\n"
                    "  - {name: b, objective: 101, sli: {raw: {}}}\n")
    stderr = assert_refused(tmp_path, ["sloth", str(spec)], "SLO 'b': slos[1].objective", str(spec))
    assert stderr.startswith("error: 2 problem(s)") and len(stderr.strip().splitlines()) == 3


def test_an_empty_file_is_refused(tmp_path):
    spec = tmp_path / "empty.yml"
    spec.write_text("# nothing here\n")
    assert_refused(tmp_path, ["sloth", str(spec)], "spec: file: holds no document", str(spec))


def test_a_project_that_does_not_load_is_named_and_nothing_is_written(tmp_path):
    root = project(tmp_path)
    (root / "slo" / "broken.py").write_text("SLOS = [1/0]\n")
    spec = spec_file(tmp_path)
    result = cli("import", "sloth", str(spec), "--root", str(root))
    assert result.returncode == 2
    assert "slo/broken.py: spec: project: the project does not load" in result.stderr
    assert not (root / "slo" / "svc.py").exists()


def test_metric_constants_never_shadow_the_api(tmp_path):
    root = project(tmp_path)
    spec = tmp_path / "shadow.yml"
    spec.write_text(SLO_TEMPLATE.format(**{**GOOD, "error": "'sum(rate(slo{code=\"5\"}[{{.window}}]))'",
                                           "total": "'sum(rate(slo[{{.window}}]))'"}))
    result = cli("import", "sloth", str(spec), "--root", str(root))
    assert result.returncode == 0, result.stderr
    source = (root / "slo" / "svc.py").read_text()
    assert 'SLO_2 = "slo"' in source and "total=SLO_2," in source


def test_out_dir_and_make_import(tmp_path):
    root = project(tmp_path)
    spec = spec_file(tmp_path)
    result = cli("import", "sloth", str(spec), "--root", str(root), "--out-dir", "slo/imported")
    assert result.returncode == 0, result.stderr
    assert (root / "slo" / "imported" / "svc.py").is_file() and not (root / "slo" / "svc.py").exists()
    usage = subprocess.run(["make", "-s", "import"], cwd=ROOT_DIR, capture_output=True, text=True)
    assert usage.returncode != 0 and "usage: make import SPEC=" in usage.stderr


ROOT_DIR = Path(__file__).resolve().parent.parent
