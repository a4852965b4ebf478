"""Definition problems: one line each, naming file, definition and field.

While the catalogue loads a definitions file, constructors do not raise on
the first bad definition: they add their problems to the file's collection
(`collecting()`), so a file with three bad SLOs reports all three. Outside a
load (a test building an SLO by hand) they raise `DefinitionError` at once.
"""
from __future__ import annotations

import contextvars
import os
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVarTuple

Args = TypeVarTuple("Args")

_GENERATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the generator package


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    definition: str
    field: str
    message: str

    def relative_to(self, root: "os.PathLike[str] | str") -> "Problem":
        """The same problem, its file named relative to the project root when it lies inside it."""
        try:
            file = os.path.relpath(self.file, root) if os.path.isabs(self.file) else self.file
        except ValueError:
            return self
        return self if file.startswith("..") else Problem(file.replace(os.sep, "/"), self.definition, self.field,
                                                          self.message)

    def line(self) -> str:
        # One problem is one line: a newline in a user's value must not start another.
        return " ".join(f"{self.file}: {self.definition}: {self.field}: {self.message}".splitlines())


class DefinitionError(Exception):
    """Raised for one or more problems in the definitions; carries them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.line() for p in self.problems))

    def __reduce__(self) -> tuple[type["DefinitionError"], tuple[list[Problem]]]:
        return DefinitionError, (self.problems,)   # raised in a worker process, pickled back whole


_collected: contextvars.ContextVar[list[Problem] | None] = contextvars.ContextVar("kfm_problems", default=None)


@contextmanager
def collecting() -> Iterator[list[Problem]]:
    """Within the block, definitions report problems into the yielded list instead of raising."""
    found: list[Problem] = []
    token = _collected.set(found)
    try:
        yield found
    finally:
        _collected.reset(token)


def report(problems: list[Problem]) -> None:
    """Raise the problems, or add them to the file being loaded."""
    if not problems:
        return
    sink = _collected.get()
    if sink is None:
        raise DefinitionError(problems)
    sink.extend(problems)


def caller_file() -> str:
    """The first source file outside the generator package on the call stack.

    Definitions record where they were written so that errors raised later
    (duplicate names, a bad table row) still point at the user's file.
    """
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        raw = frame.f_code.co_filename
        if not filename.startswith(_GENERATOR_DIR + os.sep) and not raw.startswith("<"):
            return filename
        frame = frame.f_back
    return "<unknown>"


class Collector:
    """Gathers field problems for one definition, reports them together."""

    def __init__(self, kind: str, name: object, file: str):
        shown = name if isinstance(name, str) else repr(name)
        self.definition = f"{kind} {shown[:80]!r}"
        self.file = file
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.definition, field, message))

    def check(self, condition: bool, field: str, message: str) -> bool:
        if not condition:
            self.add(field, message)
        return condition

    def guard(self, field: str, check: Callable[[*Args], object], *args: *Args) -> None:
        """Run one validation step; a value of a type nobody expected is a problem, not a crash."""
        try:
            check(*args)
        except Exception as error:  # noqa: BLE001 - any crash here is a problem with the value
            self.add(field, f"cannot be read: {type(error).__name__}: {error}")

    def raise_if_any(self) -> bool:
        """Report the problems (raise, or add to the file being loaded); True if there were none."""
        report(self.problems)
        return not self.problems
