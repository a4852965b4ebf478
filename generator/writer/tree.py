"""Write a rendered tree atomically: build it beside out/, then swap.

On Linux the swap is one renameat2(RENAME_EXCHANGE) call, so out/ is always
either the old tree or the new one. Elsewhere it falls back to two renames
and recovers a tree left aside by an interrupted swap on the next run.
`staged_tree` starts building the tree (in a forked process) before the caller
has decided to keep it: the render checks the files meanwhile, and swaps them
in only if the checks pass.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


class OutputError(Exception):
    """The output folder cannot be written (read-only, not a folder, disk full): one line for the user."""


class _Resolved:
    """Path.resolve() for many files of one tree: each folder resolved once (a file's path resolves
    to its folder's, then through the file itself only where that is a symbolic link)."""

    def __init__(self, directory: Path):
        self.directory = directory.resolve()
        self.folders: dict[Path, Path] = {}

    def __call__(self, path: Path) -> Path:
        folder = self.folders.get(path.parent)
        if folder is None:
            folder = self.folders[path.parent] = path.parent.resolve()
        candidate = folder / path.name
        return candidate.resolve() if candidate.is_symlink() else candidate


def _inside(directory: Path, relative: str, resolved: _Resolved | None = None) -> Path:
    """The file's path under `directory` (`resolved`: resolutions under it, kept across its files);
    refuses any path that would leave it."""
    pure = PurePosixPath(relative)
    if (pure.is_absolute() or "\\" in relative or any(part in ("", ".", "..") for part in relative.split("/"))):
        raise OutputError(f"refusing to write {relative!r}: the path would leave {directory.name}/")
    path = directory / relative
    resolved = resolved or _Resolved(directory)
    if not resolved(path).is_relative_to(resolved.directory):
        raise OutputError(f"refusing to write {relative!r}: the path would leave {directory.name}/")
    return path


def write_files(directory: Path, files: dict[str, str]) -> None:
    resolved = _Resolved(directory)
    made: set[Path] = set()
    for relative, text in sorted(files.items()):
        path = _inside(directory, relative, resolved)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")


def _recover(out: Path) -> None:
    aside = out.parent / f".{out.name}.previous"
    if not out.exists() and aside.exists():
        aside.rename(out)
    elif aside.exists():
        shutil.rmtree(aside)


def _remove_stray_staging(out: Path) -> None:
    """Staging folders of renders that were killed; safe under the lock, which every render holds."""
    for stray in out.parent.glob(f".{out.name}.render-*"):
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray, ignore_errors=True)


def _refuse(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"{out} is not a folder: move it away, or render elsewhere with --out")
    if out.exists() and not os.stat(out).st_mode & 0o222:
        raise OutputError(f"{out} is read-only (mode {os.stat(out).st_mode & 0o777:o}): make it writable, "
                          "or render elsewhere with --out")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One render at a time per output folder's parent (a second waits)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Write the tree atomically. Raises OutputError for what the user must fix; out/ is then as it was."""
    with staged_tree(out, files, background=False) as commit:
        commit()


class _Writer:
    """The files being written into the staging folder: by a forked process, while the caller goes on
    (checking them), or, without fork or when not asked, in this process when the caller commits."""

    def __init__(self, staging: Path, files: dict[str, str], background: bool):
        self.staging, self.files = staging, files
        self.pid: int | None = None
        self.reader = -1
        if background and hasattr(os, "fork"):
            self._fork()

    def _fork(self) -> None:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:   # the child: write, say what went wrong if anything did, and leave at once
            code = 0
            try:
                os.close(reader)
                message = b""
                try:
                    write_files(self.staging, self.files)
                except OSError as error:
                    code, message = 1, str(error.strerror or error).encode("utf-8", "replace")
                except BaseException as error:   # noqa: BLE001 (a bug: the parent reports it)
                    code, message = 2, f"{type(error).__name__}: {error}".encode("utf-8", "replace")
                os.write(writer, message[:2000])
            finally:
                os._exit(code)
        os.close(writer)
        self.pid, self.reader = pid, reader

    def finish(self, out: Path) -> None:
        """Wait for the files to be written (write them now if nothing is writing them)."""
        if self.pid is None:
            write_files(self.staging, self.files)
            return
        chunks = []
        while chunk := os.read(self.reader, 4096):
            chunks.append(chunk)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        message = b"".join(chunks).decode("utf-8", "replace")
        code = os.waitstatus_to_exitcode(status)
        if code == 1:
            raise OutputError(f"cannot write {out.name}/ ({message}); it was left as it was")
        if code != 0:
            raise RuntimeError(message or f"the process writing {out.name}/ ended with {code}")

    def stop(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self.reader >= 0:
            os.close(self.reader)
            self.reader = -1


def _swap(staging: Path, out: Path) -> None:
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


@contextmanager
def staged_tree(out: Path, files: dict[str, str], background: bool = True) -> Iterator[Callable[[], None]]:
    """Start writing `files` beside `out` and yield `commit`: called, it waits for the files and swaps
    the new tree in, atomically; not called (the checks refused the files, an error, an interrupt), the
    files written so far are removed and out/ is left as it was. With `background`, a forked process
    writes them while the caller checks them: creating thousands of files is the kernel's work, on a
    core the checks leave free. Raises OutputError for what the user must fix."""
    out = out.absolute()
    resolved = _Resolved(out)
    for relative in files:
        _inside(out, relative, resolved)
    _refuse(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create {out.parent}: {error.strerror or error}") from None
    with _locked(out.parent):
        _recover(out)
        _remove_stray_staging(out)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.render-", dir=out.parent))
        except OSError as error:
            raise OutputError(f"cannot write beside {out}: {error.strerror or error}") from None
        writer: _Writer | None = None
        try:
            writer = _Writer(staging, files, background)

            def commit() -> None:
                assert writer is not None
                try:
                    writer.finish(out)
                    _swap(staging, out)
                except OSError as error:
                    raise OutputError(f"cannot write {out.name}/ ({error.strerror or error}); it was left as it "
                                      "was") from None
            yield commit
        finally:
            if writer is not None:
                writer.stop()
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def read_tree(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}
