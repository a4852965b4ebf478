"""Command line: render, check.

Exit codes: 0 done; 1 drift (check); 2 bad definitions (nothing written).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .catalog import load
from .problems import DefinitionError
from .render import render
from .writer import read_tree, write_tree

EXIT_DRIFT = 1
EXIT_BAD_DEFINITIONS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Compile KFM's SLO and alert definitions (slo/, alerts/) into out/.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("render", "render the definitions into out/ (atomically)"),
                       ("check", "fail if out/ differs from a fresh render (drift gate)")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--root", type=Path, default=Path("."),
                             help="project root holding slo/ and alerts/ (default: .)")
        command.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/out)")
    return parser


def _render(root: Path) -> dict[str, str]:
    files, _ = render(load(root))
    return files


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root.resolve()
    out = (args.out or root / "out").resolve()
    try:
        files = _render(root)
    except DefinitionError as error:
        print(f"error: {len(error.problems)} problem(s) in the definitions; {out.name}/ left unchanged",
              file=sys.stderr)
        for problem in error.problems:
            print(problem.line(), file=sys.stderr)
        return EXIT_BAD_DEFINITIONS
    if args.command == "render":
        refusal = _refuse_out(root, out)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return EXIT_BAD_DEFINITIONS
        write_tree(out, files)
        print(f"rendered {len(files)} files into {out.name}/")
        return 0
    return check(out, files)


GENERATED_MARKER = "README.md"


def _refuse_out(root: Path, out: Path) -> str:
    """Render replaces the whole output folder: never one that holds anything else."""
    if out == root or root.is_relative_to(out):
        return f"--out {out} contains the project; choose a folder of its own"
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
