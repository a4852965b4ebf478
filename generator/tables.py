"""Definition tables: CSV files that definitions read (e.g. the dataset catalogue)."""
from __future__ import annotations

import csv
from pathlib import Path

from .problems import DefinitionError, Problem
from .sli import DatasetMaxAge

DATASET_COLUMNS = ("dataset", "cadence", "max_age")
CADENCES = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 31 * 86400}


def load_datasets(path: str | Path) -> tuple[DatasetMaxAge, ...]:
    """Read a dataset table (dataset, cadence, max_age); every bad row is reported."""
    path = Path(path)
    problems: list[Problem] = []
    rows: list[DatasetMaxAge] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != DATASET_COLUMNS:
            raise DefinitionError([Problem(str(path), "table", "header",
                                           f"expected columns {', '.join(DATASET_COLUMNS)}")])
        for line, row in enumerate(reader, start=2):
            item = DatasetMaxAge(dataset=row["dataset"].strip(), max_age=row["max_age"].strip(),
                                 cadence=row["cadence"].strip())
            where = f"line {line} ({item.dataset})"
            try:
                max_age = item.max_age_seconds
            except ValueError as error:
                problems.append(Problem(str(path), where, "max_age", str(error)))
                continue
            cadence = CADENCES.get(item.cadence)
            if cadence is None:
                problems.append(Problem(str(path), where, "cadence",
                                        f"{item.cadence!r} is not one of {', '.join(CADENCES)}"))
                continue
            if max_age < cadence:
                problems.append(Problem(str(path), where, "max_age",
                                        f"{item.max_age} is shorter than its {item.cadence} cadence: "
                                        "it would be stale between every two runs"))
                continue
            rows.append(item)
    if problems:
        raise DefinitionError(problems)
    return tuple(rows)
