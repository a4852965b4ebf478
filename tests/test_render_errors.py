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
from generator import conventions as c
from generator.model.catalog import load
from generator.runbooks.prose import PACKAGE_TEMPLATES
from generator.render import render
from generator.writer.tree import read_tree, write_tree

# A 7d period: its generated tests simulate a quarter of a 30d one's minutes, so each render is fast.
SLO_ARGS = dict(service='"example"', owner='"evidence"', description='"An example."', objective="0.99",
                runbook='"- first step"', period='"7d"',
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


# --- the SLO's dashboard: one row of burn-rate panels --------------------------------------------

def windows(*pairs: str, ticket: str = "") -> str:
    page = "page=Tier(windows=(" + "".join(f"{p}, " for p in pairs) + "))"
    return f"Alerting({page}{', ticket=' + ticket if ticket else ''})"


def test_more_window_pairs_than_the_dashboard_row_holds_are_refused(project, capsys):
    """Five page pairs and the two default tickets made the SLO dashboard's burn-rate row 42 columns
    wide: a ValueError in grafana.layout, exit 70."""
    five = [f'BurnWindow("{h}h", "5m", 2)' for h in range(1, 6)]
    write(project, "slo/example.py", slos_file(slo(alerting=windows(*five))))
    refused(project, capsys, f"slo/example.py: {EXAMPLE}: alerting.page.windows: ", "7 window pairs in all")


def test_custom_page_windows_plus_the_default_tickets_count_together(project, capsys):
    three = [f'BurnWindow("{h}h", "5m", 2)' for h in range(1, 4)]
    write(project, "slo/example.py", slos_file(slo(alerting=windows(*three))))
    refused(project, capsys, f"slo/example.py: {EXAMPLE}: alerting.page.windows: ", "at most 4")


def test_four_window_pairs_still_render(project):
    two = [f'BurnWindow("{h}h", "5m", 2)' for h in range(1, 3)]
    ticket = 'Tier(windows=(BurnWindow("1d", "2h", 1), BurnWindow("2d", "6h", 1)))'
    write(project, "slo/example.py", slos_file(slo(alerting=windows(*two, ticket=ticket))))
    files, _ = render(load(project))
    assert files[c.rules_file("example-slo")].count("alert: ExampleSlo") == 5  # 4 burn + no data


# --- burn factors whose numbers do not fit -----------------------------------------------------------

@pytest.mark.parametrize("factor, text", [
    ('"1e-999999999"', "at least 0.001"),   # Decimal Overflow dividing the period by it (rules.py)
    ('"2e-99999"', "at least 0.001"),       # a 'budget lasts' of 10**99999 s: int to str refused (durations)
    ('"0.0001"', "at least 0.001"),
    ('"1e9999999"', "could never fire"),    # Overflow multiplying it by the budget (was field 'definition')
    ('Decimal("NaN")', "finite number"),    # InvalidOperation comparing it (was field 'definition')
])
def test_burn_factors_out_of_range_name_the_factor(project, capsys, factor, text):
    write(project, "slo/example.py", slos_file(slo(alerting=windows(f'BurnWindow("1h", "5m", {factor})'))))
    refused(project, capsys, f"slo/example.py: {EXAMPLE}: alerting.page.windows[0].factor: ", text)


def test_a_decimal_nan_objective_names_the_objective(project, capsys):
    write(project, "slo/example.py", slos_file(slo(objective='Decimal("NaN")')))
    refused(project, capsys, f"slo/example.py: {EXAMPLE}: objective: ", "finite number")


# --- template overrides (templates/) ---------------------------------------------------------------

BURN = "templates/runbooks/burn.md.j2: template 'runbooks/burn.md.j2': template: "
SECTIONS = "templates/runbooks/_sections.md.j2: template 'runbooks/_sections.md.j2': template: "
README = "templates/out_readme.md.j2: template 'out_readme.md.j2': template: "


@pytest.mark.parametrize("body, text", [
    ("# {{ alert }}\n{{ 1 / 0 }}\n", "ZeroDivisionError: division by zero (line 2)"),
    ("{{ alert + 1 }}\n", "TypeError"),
    ("{{ ''.join(5) }}\n", "TypeError"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}\n", "RecursionError"),
    ("{% include 'runbooks/burn.md.j2' %}\n", "RecursionError"),
])
def test_an_override_that_raises_while_rendering_names_the_template(project, capsys, body, text):
    """Only jinja2.TemplateError was caught: any other exception of a project's template was exit 70."""
    write(project, "templates/runbooks/burn.md.j2", body)
    refused(project, capsys, BURN, text)


def test_an_override_of_the_readme_that_raises_names_it(project, capsys):
    write(project, "templates/out_readme.md.j2", "{{ 1 / 0 }}\n")
    refused(project, capsys, README, "ZeroDivisionError")


@pytest.mark.parametrize("body, text", [
    ("{% macro head(alert, source) %}{{ 1 / 0 }}{% endmacro %}", "ZeroDivisionError (line 1)"),
    ("{% macro head(alert, source) %}{{ nope }}{% endmacro %}", "'nope' is undefined (line 1)"),
    ("nothing here", "has no attribute 'head'"),   # the shipped burn.md.j2 imports macros it lacks
])
def test_an_overridden_partial_that_fails_is_named_not_the_shipped_template(project, capsys, body, text):
    """burn.md.j2 (shipped) imports _sections.md.j2 (overridden): its failure was re-raised as the
    generator's own (exit 70), since burn.md.j2 has no override."""
    write(project, "templates/runbooks/_sections.md.j2", body)
    refused(project, capsys, SECTIONS, text.replace("ZeroDivisionError", "ZeroDivisionError: division by zero"))


@pytest.mark.parametrize("body, text", [
    (b"\xff\xfe# not UTF-8\n", "not UTF-8 text"),
    (b"{% if %}\n", "(line 1)"),
    (b"{{ 1 | no_such_filter }}\n", "No filter named 'no_such_filter'"),
])
def test_an_override_that_cannot_be_read_or_parsed_is_refused_when_it_loads(project, capsys, body, text):
    """A partial that does not parse, or a template that is not UTF-8 (a UnicodeDecodeError, exit 70),
    is found when the definitions load, with every other problem."""
    write(project, "templates/runbooks/_sections.md.j2", body)
    write(project, "slo/example.py", slos_file(slo(objective="2")))
    lines = refused(project, capsys, SECTIONS, text)
    assert any(line.startswith(f"slo/example.py: {EXAMPLE}: objective: ") for line in lines), lines


def test_a_valid_override_of_a_partial_still_renders(project):
    shipped = (PACKAGE_TEMPLATES / "runbooks" / "_sections.md.j2").read_text()
    write(project, "templates/runbooks/_sections.md.j2", shipped.replace("## Escalation", "## Escalate"))
    files, _ = render(load(project))
    assert "## Escalate\n" in files[c.runbook_file("ExampleSloErrorBudgetBurnPage")]


def test_check_reports_render_time_problems_as_definition_problems(project, capsys):
    """`check` renders too: the same exit 2 and lines."""
    write(project, "templates/runbooks/burn.md.j2", "{{ 1 / 0 }}\n")
    assert cli.main(["check", "--root", str(project)]) == 2
    err = capsys.readouterr().err
    assert any(line.startswith(BURN) for line in err.splitlines()), err


# --- custom dashboards (DASHBOARDS) that are not JSON ---------------------------------------------------

def board(extra: str, prelude: str = "") -> str:
    return prelude + f"DASHBOARDS = [{{'uid': 'my-board', 'title': 'Mine', 'panels': [{{'id': 1}}], {extra}}}]\n"


@pytest.mark.parametrize("source, field, text", [
    (board("'tags': {'a', 'b'}"), "tags", "set"),
    (board("'links': [b'x']"), "links[0]", "bytes"),
    (board("'x': object()"), "x", "object"),
    (board("1: 'x'"), "1", "keys must be strings"),
    (board("'x': float('nan')"), "x", "finite"),
    (board("'x': float('inf')"), "x", "finite"),
    (board("'title2': '\\ud800'"), "title2", "UTF-8"),
    (board("'x': 10 ** 5000"), "x", "number"),
    (board("'panels': [{'targets': [{'expr': {1, 2}}]}]"), "panels[0].targets[0].expr", "set"),
    ("d = {'uid': 'my-board', 'panels': [1]}\nd['self'] = d\nDASHBOARDS = [d]\n", "self", "contains itself"),
    ("x = 1\nfor _ in range(5000):\n    x = [x]\nDASHBOARDS = [{'uid': 'my-board', 'panels': [x]}]\n",
     "panels", "deeper than"),
])
def test_a_dashboard_that_is_not_json_is_refused_when_it_loads(project, capsys, source, field, text):
    """json.dumps in render raised (TypeError, ValueError, RecursionError; exit 70), or wrote NaN
    (not JSON) and lone surrogates (not UTF-8)."""
    write(project, "dashboards/mine.py", source)
    refused(project, capsys, f"dashboards/mine.py: dashboard 'my-board': {field}", text)


def test_a_dict_subclass_that_fails_to_read_is_a_problem_not_a_crash(project, capsys):
    write(project, "dashboards/mine.py", "class D(dict):\n    def __getitem__(self, key):\n        raise KeyError(key)\n"
                                         "DASHBOARDS = [D(uid='my-board', panels=[1])]\n")
    refused(project, capsys, "dashboards/mine.py: DASHBOARDS[0]: type: ", "KeyError")


def test_a_custom_dashboard_a_real_tool_check_refuses_names_its_definition(project):
    """A dashboard over Kubernetes' 1 MiB (its ConfigMap) was reported as `out/...: generated file`."""
    from generator.checks.verify import Tools, check_output

    write(project, "dashboards/mine.py", board("'description': 'x' * 1100000"))
    catalog = load(project)
    files, _ = render(catalog)
    problems, _ = check_output(catalog, files, Tools(None, None))
    assert [(p.file, p.definition, p.field) for p in problems] == [
        ("dashboards/mine.py", "dashboard 'my-board'", "out/addons/observability/base/grafana-dashboards/my-board.yaml")]


def test_a_dashboard_row_without_panels_says_so(project, capsys):
    """grafana.layout's max() of an empty row: an import problem, but 'max() arg is an empty sequence'."""
    write(project, "dashboards/mine.py", "from generator.grafana import *\nDASHBOARDS = [dashboard(uid='my-board', "
          "title='t', description='d', rows=[[timeseries('a', 'b', [Query('up')], 'none')], []], tags=[], links=[])]\n")
    refused(project, capsys, "dashboards/mine.py: module: import: ", "row 1 of the dashboard has no panels")


def test_a_custom_dashboard_renders_as_before(project):
    """The checked copy renders to the same bytes as the definition (tuples are JSON lists)."""
    write(project, "dashboards/mine.py", board("'tags': ('a', 'b'), 'x': {'y': [1.5, None, True]}"))
    files, _ = render(load(project))
    assert '"tags": [\n    "a",\n    "b"\n  ]' in files[c.dashboard_file("my-board")]


# --- numbers given as Decimal, where the model accepts them ------------------------------------------

def _without_headers(files: dict[str, str]) -> dict[str, str]:
    return {path: "\n".join(line for line in text.splitlines() if "sha256" not in line)
            for path, text in files.items()}


@pytest.mark.parametrize("decimal, plain", [
    ('Latency(histogram="http_server_request_duration_seconds", threshold_seconds=Decimal("0.5"))',
     'Latency(histogram="http_server_request_duration_seconds", threshold_seconds=0.5)'),
])
def test_a_decimal_threshold_renders_like_the_float(project, decimal, plain):
    """The definitions hash (json.dumps) raised TypeError on the Decimal: exit 70."""
    write(project, "slo/example.py", slos_file(slo(sli=decimal)))
    with_decimal, _ = render(load(project))
    write(project, "slo/example.py", slos_file(slo(sli=plain)))
    with_float, _ = render(load(project))
    assert _without_headers(with_decimal) == _without_headers(with_float)


def test_decimal_buckets_of_a_declared_histogram_render(project):
    write(project, "slo/example.py", slos_file(
        slo(sli="Latency(histogram='my_seconds', threshold_seconds=Decimal(1))"),
        extra="METRICS = [Metric('my_seconds', 'histogram', labels={}, source='x', "
              "buckets=(Decimal('0.1'), Decimal(1)))]\n"))
    files, _ = render(load(project))
    assert 'my_seconds_bucket{le=~"1|1\\\\.0"' in files[c.rules_file("example-slo")]


def test_a_decimal_sampling_percentage_renders_like_the_float(project):
    """Environment(trace_sampling_percent=Decimal(...)) reached json.dumps and the YAML dumper: exit 70."""
    assert "trace_sampling_percent=5," in TELEMETRY
    write(project, "telemetry/kfm.py", "from decimal import Decimal\n"
          + TELEMETRY.replace("trace_sampling_percent=5,", 'trace_sampling_percent=Decimal("5.5"),', 1))
    with_decimal, _ = render(load(project))
    write(project, "telemetry/kfm.py", TELEMETRY.replace("trace_sampling_percent=5,", "trace_sampling_percent=5.5,", 1))
    with_float, _ = render(load(project))
    assert with_decimal == with_float


# --- str and int subclasses (enum.StrEnum, IntEnum) -------------------------------------------------

ENUMS = ("from enum import IntEnum, StrEnum\n"
         "class T(StrEnum):\n    EVIDENCE = 'evidence'\n    SERVICE = 'example'\n    ROUTE = 'route'\n    X = 'x'\n"
         "class N(IntEnum):\n    GUARD = 50\n    SLOW = 500\n")


def test_enum_members_render_like_their_values(project):
    """yaml.SafeDumper knows only exact types: a StrEnum owner, service, label, group_by or dataset,
    and an IntEnum number, loaded and then crashed the render (RepresenterError, exit 70)."""
    sli = "EventsRatio(total='kfm_focus_answers_total', bad='kfm_focus_answers_total{outcome=\"error\"}', group_by=(%s,))"
    enums = slo(owner="T.EVIDENCE", service="T.SERVICE", labels="{T.X: T.X}", sli=sli % "T.ROUTE",
                alerting="Alerting(min_events=N.GUARD)")
    plain = slo(owner="'evidence'", service="'example'", labels="{'x': 'x'}", sli=sli % "'route'",
                alerting="Alerting(min_events=50)")
    write(project, "slo/example.py", slos_file(enums, extra=ENUMS))
    write(project, "telemetry/kfm.py", ENUMS + TELEMETRY.replace("slow_trace_ms=500", "slow_trace_ms=N.SLOW"))
    with_enums, _ = render(load(project))
    write(project, "slo/example.py", slos_file(plain))
    write(project, "telemetry/kfm.py", TELEMETRY)
    with_values, _ = render(load(project))
    assert with_enums == with_values


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


# --- the dataset table ----------------------------------------------------------------------------------

def test_a_table_row_the_csv_reader_refuses_names_the_table_and_line(project, capsys):
    """A field over the csv module's 128 KiB limit was a csv.Error blamed on the .py file that read
    the table (`slo/example.py: module: import: ...`)."""
    write(project, "slo/datasets.csv", "dataset,cadence,max_age\nroads,hourly,2h\n" + "a" * 200_000 + ",hourly,2h\n")
    write(project, "slo/example.py", slos_file(
        slo(sli='Freshness(datasets=load_datasets(Path(__file__).with_name("datasets.csv")))'),
        extra="from pathlib import Path\n"))
    refused(project, capsys, "slo/datasets.csv: line 3: row: ", "field larger than field limit")
