"""Definition tables: CSV files that definitions read (e.g. the dataset catalogue)."""
from __future__ import annotations

import csv
from pathlib import Path

from .problems import DefinitionError, Problem
from .sli import DatasetMaxAge

DATASET_COLUMNS = ("dataset", "cadence", "max_age")


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
            try:
                item.max_age_seconds
            except ValueError as error:
                problems.append(Problem(str(path), f"line {line} ({item.dataset})", "max_age", str(error)))
                continue
            rows.append(item)
    if problems:
        raise DefinitionError(problems)
    return tuple(rows)
