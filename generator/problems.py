"""Definition problems: one line each, naming file, definition and field."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

_GENERATOR_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    definition: str
    field: str
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.definition}: {self.field}: {self.message}"


class DefinitionError(Exception):
    """Raised for one or more problems in the definitions; carries them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.line() for p in self.problems))


def caller_file() -> str:
    """The first source file outside the generator package on the call stack.

    Definitions record where they were written so that errors raised later
    (duplicate names, a bad table row) still point at the user's file.
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        raw = frame.f_code.co_filename
        if not filename.startswith(_GENERATOR_DIR + os.sep) and not raw.startswith("<"):
            return filename
        frame = frame.f_back
    return "<unknown>"


class Collector:
    """Gathers field problems for one definition, raises them together."""

    def __init__(self, kind: str, name: str, file: str):
        self.definition = f"{kind} {name!r}"
        self.file = file
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.definition, field, message))

    def check(self, condition: bool, field: str, message: str) -> bool:
        if not condition:
            self.add(field, message)
        return condition

    def raise_if_any(self) -> None:
        if self.problems:
            raise DefinitionError(self.problems)
