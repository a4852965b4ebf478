"""Command line: render, check, gates, diff; import sloth|openslo, export openslo (generator/interop/).

Exit codes:
  0   done
  1   drift (check), or a failing policy gate (gates, diff)
  2   bad definitions, or rendered output a real tool refuses (nothing written)
  3   the output folder cannot be written (read-only, not a folder, disk full): out/ left as it was
  70  an internal error of the generator (a bug: nothing was written); one line, no traceback,
      unless KFM_DEBUG=1, which lets the exception (and its traceback) through
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

from generator import __version__
from generator.model.catalog import DEFINITION_DIRS, Catalog, definition_files, load
from generator.checks.gates import report, run_gates
from generator.checks.review import summary
from generator.model.problems import DefinitionError, Problem
from generator.render import render
from generator.checks.verify import check_output, find_tools
from generator.writer.tree import OutputError, read_tree, staged_tree

EXIT_DRIFT = 1
EXIT_BAD_DEFINITIONS = 2
EXIT_OUTPUT = 3
EXIT_INTERNAL = 70


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Compile KFM's SLO and alert definitions (slo/, alerts/) into out/.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("render", "render the definitions into out/ (atomically)"),
                       ("check", "fail if out/ differs from a fresh render (drift gate)"),
                       ("gates", "run the policy gates on the rendered out/ (fail-closed)"),
                       ("diff", "print a Markdown review summary of the change against a git ref")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--root", type=Path, default=Path("."),
                             help="project root holding slo/ and alerts/ (default: .)")
        command.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/out)")
        if name == "diff":
            command.add_argument("--base", required=True, help="git ref to compare with (e.g. origin/main)")
            command.add_argument("--history", default=None, metavar="prometheus=URL|file=PATH",
                                 help="backtest each changed SLO's alerts, base vs change, over this history "
                                      "(docs/reviewing.md)")
            command.add_argument("--history-start", default=None, metavar="TIME",
                                 help="start of the backtest (ISO 8601 UTC or unix seconds; default: a file's "
                                      "first sample, or the longest SLO period before the end)")
            command.add_argument("--history-end", default=None, metavar="TIME",
                                 help="end of the backtest (default: a file's last sample, or now)")
        if name in ("gates", "diff"):
            command.add_argument("--today", type=date.fromisoformat, default=None,
                                 help="the date waivers are checked against (default: $KFM_TODAY or today)")
    _interop_commands(commands)
    return parser


def _interop_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    text = "write definitions files under slo/ from Sloth or OpenSLO specs (docs/migrating.md)"
    command = commands.add_parser("import", help=text, description=text)
    command.add_argument("format", choices=("sloth", "openslo"), help="the specs' format")
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="spec files (YAML, multi-document)")
    command.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    command.add_argument("--out-dir", type=Path, default=Path("slo"),
                         help="folder of the definitions files, relative to the root (default: slo)")
    command.add_argument("--owner", default="", help="the owning team (of alerts/teams.py) of every imported SLO; "
                                                     "default: the spec's owner or team label")
    command.add_argument("--force", action="store_true", help="overwrite definitions files that exist")
    command.add_argument("--drop-label", action="append", default=[], metavar="NAME",
                         help="leave out a spec label the no-literal-secrets gate would refuse (routing_key)")
    text = "write every SLO as OpenSLO v1 documents, one file per service (docs/migrating.md)"
    command = commands.add_parser("export", help=text, description=text)
    command.add_argument("format", choices=("openslo",), help="the output format")
    command.add_argument("--out", type=Path, required=True, help="folder to write (replaced as a whole)")
    command.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    command.add_argument("--referenced", action="store_true",
                         help="write each SLI as its own document, referenced by indicatorRef (default: inline)")
    command.add_argument("--skip-unsupported", action="store_true",
                         help="leave out SLOs OpenSLO cannot express (listed on stderr) instead of failing")


def _interop(args: argparse.Namespace) -> int:
    root = args.root.resolve()
    problem = _root_problem(root)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    if args.command == "import":
        from generator.interop import importer
        return importer.run(args.format, list(args.files), root, args.out_dir, args.owner, args.force,
                            drop_labels=tuple(args.drop_label))
    from generator.interop import export_openslo
    return export_openslo.run(root, args.out.absolute(), args.referenced, args.skip_unsupported)


def today(given: date | None) -> date:
    if given is not None:
        return given
    return date.fromisoformat(os.environ["KFM_TODAY"]) if os.environ.get("KFM_TODAY") else date.today()


def _root_problem(root: Path) -> str:
    if not root.is_dir():
        return f"--root {root} is not a folder"
    if not definition_files(root):
        return (f"no definitions under {root}: none of {', '.join(d + '/' for d in DEFINITION_DIRS)} holds a "
                "*.py file (is --root the project's root?)")
    return ""


def _print_problems(what: str, problems: list[Problem], out: Path) -> int:
    print(f"error: {len(problems)} problem(s) in the {what}; {out.name}/ left unchanged", file=sys.stderr)
    for problem in problems:
        print(problem.line(), file=sys.stderr)
    return EXIT_BAD_DEFINITIONS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("import", "export"):
        try:
            return _interop(args)
        except KeyboardInterrupt:
            print("error: interrupted; nothing written", file=sys.stderr)
            return 130
        except Exception as error:  # never a traceback for the user
            if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
                raise
            print(internal_error_line(error, Path("slo")), file=sys.stderr)
            return EXIT_INTERNAL
    root = args.root.resolve()
    out = (args.out or root / "out").absolute()
    try:
        return _run(args, root, out)
    except DefinitionError as error:
        return _print_problems("definitions", [problem.relative_to(root) for problem in error.problems], out)
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        print(f"error: interrupted; {out.name}/ left as it was", file=sys.stderr)
        return 130
    except Exception as error:  # never a traceback for the user; the message is enough to report it
        if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            raise
        print(internal_error_line(error, out), file=sys.stderr)
        return EXIT_INTERNAL


DEBUG_VARIABLE = "KFM_DEBUG"


def internal_error_line(error: BaseException, out: Path) -> str:
    """One line for an exception no definition explains: a bug of the generator, and how to see more.
    (A definition's failure is a DefinitionError, exit 2, whatever stage finds it.)"""
    where = ""
    tb = error.__traceback__
    while tb is not None:
        where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    message = " ".join(str(error).split())[:300]
    return (f"error: internal error of the generator, a bug in it rather than in the definitions "
            f"({type(error).__name__}: {message}{where}); {out.name}/ left unchanged. Run again with "
            f"{DEBUG_VARIABLE}=1 for the traceback, and report it with the definition that caused it.")


def _run(args: argparse.Namespace, root: Path, out: Path) -> int:
    problem = _root_problem(root)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    if args.command == "gates":
        return gates(load(root), out, today(args.today))
    if args.command == "diff":
        return diff(root, args.base, today(args.today), args.history, args.history_start, args.history_end)
    catalog = load(root)
    files, _ = render(catalog)
    if args.command == "check":
        return check(out, files)
    refusal = _refuse_out(root, out)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    with staged_tree(out, files) as commit:   # written beside out/ while the real tools check it
        problems, notes = check_output(catalog, files, find_tools(files))
        for note in notes:
            print(note, file=sys.stderr)
        if problems:
            return _print_problems("rendered output (the real tools refuse it)", problems, out)
        commit()
    print(f"rendered {len(files)} files into {out.name}/")
    return 0


def gates(catalog: Catalog, out: Path, on: date) -> int:
    files = {}
    for path, body in (read_tree(out).items() if out.is_dir() else ()):
        try:
            files[path] = body.decode("utf-8")
        except UnicodeDecodeError:
            print(f"error: {out.name}/{path} is not UTF-8 text, so the generator did not write it: remove it and "
                  "run make render", file=sys.stderr)
            return EXIT_DRIFT
    results = run_gates(catalog, files, on)
    print(report(results), end="")
    failed = [r.name for r in results if not r.passed]
    if failed:
        print(f"error: policy gate(s) failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_DRIFT
    return 0


class RenderFailed(Exception):
    pass


def render_with_own_generator(tree: Path, out: Path) -> dict[str, str]:
    """Render a project tree with the generator of that tree (a subprocess)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    result = subprocess.run([sys.executable, "-m", "generator", "render", "--root", str(tree), "--out", str(out)],
                            cwd=tree, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderFailed(result.stderr.strip() or result.stdout.strip())
    return {path: body.decode("utf-8") for path, body in read_tree(out).items()}


def _time(text: str | None, option: str) -> int | None:
    """Unix seconds of an ISO 8601 time (UTC unless it says otherwise) or of a number of seconds."""
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option} {text!r} is not an ISO 8601 time or unix seconds") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())


def diff(root: Path, base: str, on: date, history: str | None = None, history_start: str | None = None,
         history_end: str | None = None) -> int:
    """Render BASE and the working tree into temporary folders; print the review summary.
    Exit 1 when a policy gate fails on the change: it may not ship. With `history`, a backtest of each
    changed SLO's alerts follows; a history source that cannot give it is exit 2, naming it."""
    if base.startswith("-") or not base.strip():
        print(f"error: --base {base!r} is not a git ref", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    source = None
    if history is not None:
        from generator.backtest.history import parse_source
        try:
            source = parse_source(history)
            start, end = _time(history_start, "--history-start"), _time(history_end, "--history-end")
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--end-of-options",
                                 f"{base}^{{commit}}"], capture_output=True, text=True)
        if commit.returncode != 0:
            print(f"error: cannot read {base!r}: not a commit of this repository", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
        archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", commit.stdout.strip()],
                                 capture_output=True)
    except OSError as error:
        print(f"error: cannot run git: {error}", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    if archive.returncode != 0:
        print(f"error: cannot read {base!r}: {archive.stderr.decode().strip()}", file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    with tempfile.TemporaryDirectory(prefix="kfm-diff-") as scratch:
        base_tree = Path(scratch) / "base"
        try:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(base_tree, filter="data")
        except (tarfile.TarError, OSError) as error:
            print(f"error: cannot extract {base!r}: {error}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
        try:
            old = render_with_own_generator(base_tree, Path(scratch) / "base-out")
        except RenderFailed as error:
            print(f"error: {base} does not render:\n{error}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
        try:
            new = render_with_own_generator(root, Path(scratch) / "new-out")
        except RenderFailed as error:
            print(f"error: the working tree does not render:\n{error}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
    results = run_gates(load(root), new, on)
    text = summary(base, old, new, results)
    if source is not None:
        from generator.backtest.history import HistoryError
        from generator.backtest.report import section
        try:
            text += "\n" + "\n".join(section(source, base, old, new, start, end)).rstrip("\n") + "\n"
        except HistoryError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
    print(text, end="")
    return 0 if all(r.passed for r in results) else EXIT_DRIFT


GENERATED_MARKER = "README.md"


def _refuse_out(root: Path, out: Path) -> str:
    """Render replaces the whole output folder: never one that holds anything else."""
    if out == root or root.is_relative_to(out):
        return f"--out {out} contains the project; choose a folder of its own"
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"{out} is not a folder: move it away, or render elsewhere with --out")
    if out.exists() and any(out.iterdir()):
        marker = out / GENERATED_MARKER
        if not marker.is_file() or not marker.read_text(encoding="utf-8").startswith("# Generated output"):
            return (f"{out} is not empty and was not written by this generator (no {GENERATED_MARKER} "
                    "marker): refusing to replace it")
    return ""


def check(out: Path, files: dict[str, str]) -> int:
    expected = {path: text.encode("utf-8") for path, text in files.items()}
    actual = read_tree(out)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
    if not (missing or extra or changed):
        print(f"{out.name}/ matches a fresh render ({len(expected)} files)")
        return 0
    print(f"{out.name}/ differs from a fresh render; run `make render` and commit the result:", file=sys.stderr)
    for label, paths in (("changed", changed), ("missing", missing), ("not generated", extra)):
        for path in paths:
            print(f"  {label}: {out.name}/{path}", file=sys.stderr)
    return EXIT_DRIFT
