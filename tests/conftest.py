"""Shared fixtures: the mini data set, and ways to write modified copies of it.

`mini` gives a fresh, editable copy of tests/fixtures/mini/{structures,reponses}.csv.
Rows are addressed by their spreadsheet row number (header = row 1), as in the
findings, so a test reads like the message it expects.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import openpyxl
import pytest

from avs_eval.errors import ValidationError
from avs_eval.loading import Dataset, load
from avs_eval.sources import DataSource

FIXTURES = Path(__file__).parent / "fixtures"
MINI_DIR = FIXTURES / "mini"
TABLES = ("structures", "reponses")


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.reader(handle)]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """Write rows as a CSV file; `encoding="cp1252"` and `sep=";"` is French Excel's CSV."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        if bom:
            handle.write("\ufeff")
        csv.writer(handle, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return path


def excel_value(text: str):
    """A cell as Excel stores it once typed in: digits become numbers."""
    return int(text) if text.isdigit() else (text or None)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write an XLSX workbook with one sheet per entry, in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


class MiniData:
    """An editable copy of the mini fixture, written to a folder on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = {name: read_csv_rows(MINI_DIR / f"{name}.csv") for name in TABLES}

    # --- editing -------------------------------------------------------------------

    def column_index(self, table: str, column: str) -> int:
        header = [h.strip().casefold() for h in self.rows[table][0]]
        return header.index(column.casefold())

    def set(self, table: str, line: int, column: str, value: str) -> MiniData:
        """Change one cell; `line` is the spreadsheet row number (header = 1)."""
        self.rows[table][line - 1][self.column_index(table, column)] = value
        return self

    def get(self, table: str, line: int, column: str) -> str:
        return self.rows[table][line - 1][self.column_index(table, column)]

    def append(self, table: str, **cells: str) -> int:
        """Add a row (missing cells empty); returns its spreadsheet row number."""
        header = self.rows[table][0]
        unknown = set(cells) - set(header)
        assert not unknown, f"colonnes inconnues de {table} : {unknown}"
        self.rows[table].append([cells.get(h, "") for h in header])
        return len(self.rows[table])

    def append_copy(self, table: str, line: int, **cells: str) -> int:
        """Add a copy of row `line` with some cells changed; returns its row number."""
        header = self.rows[table][0]
        base = dict(zip(header, self.rows[table][line - 1], strict=True))
        return self.append(table, **(base | cells))

    def drop_column(self, table: str, column: str) -> MiniData:
        position = self.column_index(table, column)
        for row in self.rows[table]:
            del row[position]
        return self

    def add_column(self, table: str, header: str, values: list[str] | None = None) -> MiniData:
        rows = self.rows[table]
        values = values or [""] * (len(rows) - 1)
        rows[0].append(header)
        for row, value in zip(rows[1:], values, strict=True):
            row.append(value)
        return self

    def rename_column(self, table: str, column: str, new: str) -> MiniData:
        self.rows[table][0][self.column_index(table, column)] = new
        return self

    def keep_lines(self, table: str, lines: list[int]) -> MiniData:
        """Keep the header and the given spreadsheet rows only."""
        rows = self.rows[table]
        self.rows[table] = [rows[0]] + [rows[n - 1] for n in lines]
        return self

    def copy(self) -> MiniData:
        other = MiniData.__new__(MiniData)
        other.folder = self.folder
        other.rows = copy.deepcopy(self.rows)
        return other

    # --- writing -------------------------------------------------------------------

    def write(self, *, sep: str = ",", encoding: str = "utf-8", bom: bool = False, suffix=""):
        """Write both tables as CSV; returns (structures path, reponses path)."""
        return tuple(
            write_csv(
                self.folder / f"{name}{suffix}.csv",
                self.rows[name],
                sep=sep,
                encoding=encoding,
                bom=bom,
            )
            for name in TABLES
        )

    def write_workbook(self, name: str = "classeur.xlsx", *, as_excel: bool = True) -> Path:
        """Both tables as sheets `structures` and `reponses` of one workbook."""
        convert = excel_value if as_excel else (lambda v: v)
        sheets = {
            table: [self.rows[table][0]] + [[convert(v) for v in r] for r in self.rows[table][1:]]
            for table in TABLES
        }
        return write_workbook(self.folder / name, sheets)

    def load(self, **write_options) -> Dataset:
        structures, reponses = self.write(**write_options)
        return load(DataSource.from_options(structures, reponses))

    def errors(self, **write_options) -> ValidationError:
        """The ValidationError raised by loading these tables (fails if none)."""
        structures, reponses = self.write(**write_options)
        with pytest.raises(ValidationError) as caught:
            load(DataSource.from_options(structures, reponses))
        return caught.value


@pytest.fixture
def mini_dir() -> Path:
    return MINI_DIR


@pytest.fixture
def mini(tmp_path: Path) -> MiniData:
    """A fresh editable copy of the mini fixture, written under tmp_path."""
    return MiniData(tmp_path)


@pytest.fixture(scope="session")
def mini_dataset() -> Dataset:
    """The mini fixture, loaded once: tests must not modify it."""
    return load(DataSource.from_options(MINI_DIR / "structures.csv", MINI_DIR / "reponses.csv"))


def load_or_raise(structures=None, reponses=None, classeur=None) -> Dataset:
    return load(DataSource.from_options(structures, reponses, classeur))


def raised(structures=None, reponses=None, classeur=None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        load(DataSource.from_options(structures, reponses, classeur))
    return caught.value
