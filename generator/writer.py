"""Write a rendered tree atomically: build it beside out/, then swap.

On Linux the swap is one renameat2(RENAME_EXCHANGE) call, so out/ is always
either the old tree or the new one. Elsewhere it falls back to two renames
and recovers a tree left aside by an interrupted swap on the next run.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def write_files(directory: Path, files: dict[str, str]) -> None:
    for relative, text in sorted(files.items()):
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")


def _recover(out: Path) -> None:
    aside = out.parent / f".{out.name}.previous"
    if not out.exists() and aside.exists():
        aside.rename(out)
    elif aside.exists():
        shutil.rmtree(aside)


def write_tree(out: Path, files: dict[str, str]) -> None:
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.render-", dir=out.parent))
    try:
        write_files(staging, files)
        os.chmod(staging, 0o755)
        if not out.exists():
            staging.rename(out)
            return
        if _exchange(staging, out):
            shutil.rmtree(staging)  # now holds the previous tree
            return
        aside = out.parent / f".{out.name}.previous"
        out.rename(aside)
        staging.rename(out)
        shutil.rmtree(aside)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_tree(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}
