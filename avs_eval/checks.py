"""The cell checks every table of the contract shares: one rule, every row at once.

`Checker` applies a rule to the distinct values of a column (a yes/no column has a
handful, a list of codes a few thousand combinations, whatever the file's size) and
records the rows that break it as columns of a `FindingLog`. The loader of the
register and of the answers (`loading`) and the importer (`importer`) use it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from avs_eval.errors import (
    Finding,
    FindingLog,
    record,
)
from avs_eval.reading import (
    LINE,
    RawTable,
)
from avs_eval.schema import (
    YES_NO_LOOKUP,
    YES_NO_SPELLINGS,
    normalise,
)


class Checker:
    """Writes findings for the rows of a table that fail a vectorised test.

    `sink` is a `FindingLog` (the rows are added as columns) or a plain list, as
    the importer passes (one `Finding` per row).
    """

    def __init__(self, table: RawTable, sink: FindingLog | list[Finding]) -> None:
        self.table = table
        self.frame = table.frame
        self.sink = sink

    def header(self, column: str) -> str:
        return self.table.headers.get(column, column)

    def flag(self, mask: pd.Series, column: str, message, values: pd.Series | None = None):
        """One finding per row where `mask` holds.

        `message`: one text for all, an array of texts for the flagged rows, or a
        function of a row's index (called for the flagged rows only).
        """
        selected = mask.to_numpy(dtype=bool)
        if not selected.any():
            return
        values = self.frame[column] if values is None else values
        if callable(message):
            message = np.array([message(i) for i in mask.index[selected]], dtype=object)
        record(
            self.sink,
            self.table.label,
            self.frame[LINE].to_numpy()[selected],
            self.header(column),
            as_text(values.to_numpy()[selected]),
            message,
        )

    def missing_columns(self, required: tuple[str, ...]) -> list[str]:
        return [c for c in required if c not in self.frame.columns]

    def required_cells(self, columns: tuple[str, ...]) -> None:
        for column in columns:
            self.flag(is_empty(self.frame[column]), column, "valeur obligatoire manquante")

    def yes_no(self, column: str) -> pd.Series:
        """Parse a yes/no column to a nullable boolean, flagging unknown spellings."""
        codes, distinct = distinct_values(self.frame[column])
        parsed = [YES_NO_LOOKUP.get(str(value).casefold()) for value in distinct]
        unknown = np.array(
            [p is None and v != "" for p, v in zip(parsed, distinct, strict=True)], dtype=bool
        )
        self.flag(
            pd.Series(unknown[codes], index=self.frame.index, dtype=bool),
            column,
            f"réponse oui/non non reconnue (valeurs acceptées : {YES_NO_SPELLINGS} ; "
            "vide = sans réponse)",
        )
        values = np.array([p is True for p in parsed], dtype=bool)[codes]
        missing = np.array([p is None for p in parsed], dtype=bool)[codes]
        return pd.Series(pd.arrays.BooleanArray(values, missing), index=self.frame.index)

    def year(self, column: str, *, required: bool) -> pd.Series:
        codes, distinct = distinct_values(self.frame[column])
        text = [re.sub(r"\.0+$", "", str(value)) for value in distinct]
        ok = np.array([re.fullmatch(r"[0-9]{4}", t) is not None for t in text], dtype=bool)
        empty = np.array([t == "" for t in text], dtype=bool)
        index = self.frame.index
        self.flag(
            pd.Series((~ok & ~empty)[codes], index=index),
            column,
            "année attendue (nombre à 4 chiffres, ex. 2024)",
        )
        if required:
            self.flag(pd.Series(empty[codes], index=index), column, "valeur obligatoire manquante")
        # not \d above: "２０２４" would match, then not convert
        numbers = np.array(
            [int(t) if good else 0 for t, good in zip(text, ok, strict=True)], dtype=np.int64
        )
        return pd.Series(pd.arrays.IntegerArray(numbers[codes], ~ok[codes]), index=index)


def as_text(values: np.ndarray) -> np.ndarray:
    """`str` of each value, as a finding quotes it: once per distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.array([str(v) for v in distinct], dtype=object)[codes]


def is_empty(values: pd.Series) -> pd.Series:
    """Cells equal to "": numpy's comparison of an object array, several times pandas' own."""
    return pd.Series(values.to_numpy(dtype=object) == "", index=values.index, dtype=bool)


def distinct_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code and the distinct values (`pandas.factorize`, hashing in C).

    A column holds few distinct values (yes/no, years, code lists), so every rule is
    applied once per distinct value and its verdict spread to the rows by the codes:
    the same code checks 150 structures or 100,000 at nearly the same cost per row.
    """
    # a missing value (never read from a file, but a caller's frame may hold one) is a
    # distinct value of its own, so that every code indexes `distinct`
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    return codes, np.asarray(distinct, dtype=object)


def normalised(values: pd.Series) -> pd.Series:
    """`normalise` applied once per distinct value: a column has few distinct spellings."""
    codes, distinct = distinct_values(values)
    table = np.array([None if pd.isna(v) else normalise(v) for v in distinct], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def title_row_hint(table: RawTable, expected: tuple[str, ...]) -> str | None:
    """Spot the header a few rows down, below a title as people put in Excel."""
    for _, row in table.frame.head(10).iterrows():
        found = {normalise(str(v)) for v in row.to_numpy()}
        if sum(c in found for c in expected) >= 2:
            return (
                f"les en-têtes de colonnes semblent être en ligne {row[LINE]} : "
                "supprimez les lignes de titre au-dessus, les en-têtes doivent être en ligne 1"
            )
    return None


def missing_columns_findings(
    table: RawTable, missing: list[str], required: tuple[str, ...], other: tuple[str, ...]
) -> list[Finding]:
    hint = title_row_hint(table, required)
    looks_other = sum(c in table.frame.columns for c in other if c not in required) >= 2
    findings = []
    for column in missing:
        message = "colonne obligatoire absente"
        if hint:
            message += f" ({hint})"
        elif looks_other:
            message += " (ce fichier ressemble à l'autre table : fichiers inversés ?)"
        findings.append(Finding(table.label, table.header_line, column, "(absente)", message))
    return findings
