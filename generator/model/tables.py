"""Definition tables: CSV files that definitions read (e.g. the dataset catalogue).

Every problem names the table, the line (1-based, the header is line 1), the
dataset and the column: `slo/datasets.csv: line 14 (roads): max_age: ...`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from generator.model.problems import Problem, report
from generator.model.kinds.freshness import DatasetMaxAge, dataset_problems

if TYPE_CHECKING:
    from _csv import Reader  # what csv.reader returns (the csv module does not name it)

DATASET_COLUMNS = ("dataset", "cadence", "max_age")
CADENCES = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 31 * 86400}


def _read(path: Path) -> tuple[str | None, Problem | None]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, Problem(str(path), "table", "file", f"cannot be read: {error.strerror or error}")
    try:
        return raw.decode("utf-8-sig"), None  # a byte-order mark (spreadsheet export) is fine
    except UnicodeDecodeError as error:
        return None, Problem(str(path), "table", "encoding", f"not UTF-8 text (byte {error.start})")


def load_datasets(path: str | Path) -> tuple[DatasetMaxAge, ...]:
    """Read a dataset table (dataset, cadence, max_age); every bad row is reported.

    While the catalogue loads, problems are collected and the good rows returned;
    elsewhere the first call with a bad row raises DefinitionError."""
    path = Path(path)
    text, problem = _read(path)
    if text is None:
        report([problem] if problem else [])
        return ()
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        return _rows(path, reader, problems)
    except csv.Error as error:   # a field over the csv module's limit (128 KiB), say
        report(problems + [Problem(str(path), f"line {reader.line_num}", "row", f"not a CSV row: {error}"[:300])])
        return ()


def _rows(path: Path, reader: Reader, problems: list[Problem]) -> tuple[DatasetMaxAge, ...]:
    header = next(reader, None)
    if header is None or tuple(column.strip() for column in header) != DATASET_COLUMNS:
        report([Problem(str(path), "table", "header",
                        f"line 1 must be the columns {','.join(DATASET_COLUMNS)}, got {','.join(header or [])!r}"[:300])])
        return ()
    rows: list[DatasetMaxAge] = []
    first_line: dict[str, int] = {}
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        if not values or all(not v.strip() for v in values):
            continue  # a blank line
        name = values[0].strip() if values else ""
        where = f"line {start} ({name[:60]})"
        if len(values) != len(DATASET_COLUMNS):
            problems.append(Problem(str(path), where, "row",
                                    f"{len(values)} fields, expected {len(DATASET_COLUMNS)} "
                                    f"({', '.join(DATASET_COLUMNS)})"))
            continue
        item = DatasetMaxAge(dataset=name, max_age=values[2].strip(), cadence=values[1].strip(),
                             origin=f"{path.name} line {start}")
        found = dataset_problems(item)
        cadence = CADENCES.get(item.cadence)
        if cadence is None:
            found.append(("cadence", f"{item.cadence!r} is not one of {', '.join(CADENCES)}"))
        elif not found and item.max_age_seconds < cadence:
            found.append(("max_age", f"{item.max_age} is shorter than its {item.cadence} cadence: "
                                     "it would be stale between every two runs"))
        if name and name in first_line:
            found.append(("dataset", f"{name!r} is listed twice (first on line {first_line[name]})"))
        first_line.setdefault(name, start)
        if found:
            problems.extend(Problem(str(path), where, column, message) for column, message in found)
            continue
        rows.append(item)
    report(problems)
    return tuple(rows)
