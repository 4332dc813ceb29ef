"""Tables written the way French Excel reads them on a double-click.

A French Windows opens a `.csv` with Excel, which expects the system's list separator
(`;`), a decimal comma and, to read UTF-8 at all, a byte-order mark: without them every
line is one garbled cell and « Métropole » reads « MÃ©tropole ». Published tables
(`indicateurs.csv`, `evolutions.csv`) are written so; the machine format of the CLI
(`indicators.to_csv`, `evolutions.to_csv`) stays for programs.

What changes, and why:
- shares (and changes of shares) to 4 decimals, halves away from zero as everywhere
  (`formatting.round_half_away`): 17 digits are noise to a reader, and 4 keep a tenth of a
  percent point;
- other decimals with their 15 significant digits (what Excel itself keeps), counts as
  whole numbers even when a masked cell made pandas store them as floats (« 7 », never
  « 7,0 »);
- booleans as « oui » / « non », blanks for a figure that does not exist;
- `libelle` and `libelle_modalite` beside the codes (`with_labels`): a partner reads the
  question, a program still joins on the code. The other column names do not change.
Negative numbers keep the ASCII hyphen: Excel reads « −0,03 » (U+2212) as text.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from avs_eval.catalog import Catalog, load_catalog
from avs_eval.formatting import EXCEL_DIGITS, is_missing, round_half_away
from avs_eval.output import write_atomic

BOM = "\ufeff"
SEPARATOR = ";"
YES, NO = "oui", "non"
SHARE_DECIMALS = 4
# Columns holding a share or a change of shares, in the tables this package publishes.
SHARE_COLUMNS: frozenset[str] = frozenset(
    {"part", "ic_bas", "ic_haut", "part_reference", "ecart", "ecart_apparie"}
)
LABEL, MODALITY_LABEL = "libelle", "libelle_modalite"


def _number(value: float, decimals: int | None) -> str:
    """A number with a decimal comma: `decimals` places, or as Excel keeps it if None."""
    if decimals is not None:
        text = f"{round_half_away(value, decimals):f}"
    elif float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{Decimal(format(float(value), f'.{EXCEL_DIGITS}g')):f}"
    return text.replace(".", ",")


def cell(value: object, decimals: int | None = None) -> str:
    """One value as French Excel reads it (see the module's docstring)."""
    if isinstance(value, str):
        return value
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return YES if value else NO
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return ""
        return _number(float(value), decimals)
    return str(value)


def french_csv(table: pd.DataFrame, share_columns: Iterable[str] = SHARE_COLUMNS) -> str:
    """The table as the text of a French Excel CSV: BOM, `;`, decimal comma, oui / non.

    `share_columns` are written to 4 decimals; other decimals keep 15 significant digits.
    Cells holding the separator, a quote or a line break are quoted (the `csv` module).
    """
    shares = set(share_columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow([str(c) for c in table.columns])
    decimals = [SHARE_DECIMALS if c in shares else None for c in table.columns]
    for row in table.itertuples(index=False, name=None):
        writer.writerow([cell(v, d) for v, d in zip(row, decimals, strict=True)])
    return BOM + buffer.getvalue()


def write_french_csv(
    path: Path, table: pd.DataFrame, share_columns: Iterable[str] = SHARE_COLUMNS
) -> None:
    """Write `french_csv(table)` atomically (a reader never sees half a file)."""
    write_atomic(path, french_csv(table, share_columns))


def with_labels(table: pd.DataFrame, catalog: Catalog | None = None) -> pd.DataFrame:
    """The table with `libelle` right after `indicateur` and `libelle_modalite` right
    after `modalite` (when the table has one): the catalog's French labels of the codes.

    A code the catalog does not know (an old table) keeps an empty label rather than
    failing: the label is for reading, the code stays the key.
    """
    catalog = catalog or load_catalog()
    out = table.copy()
    has_modality = "modalite" in out.columns

    def label(indicateur: object, modalite: object = "") -> str:
        try:
            return catalog.label(str(indicateur), "" if is_missing(modalite) else str(modalite))
        except KeyError:
            return ""

    pairs = out[["indicateur", "modalite"]] if has_modality else out[["indicateur"]]
    cache: dict[tuple, tuple[str, str]] = {}
    labels, modality_labels = [], []
    for key in pairs.itertuples(index=False, name=None):
        if key not in cache:
            modalite = key[1] if has_modality and not is_missing(key[1]) else ""
            cache[key] = (label(key[0]), label(key[0], modalite) if modalite else "")
        labels.append(cache[key][0])
        modality_labels.append(cache[key][1])
    out.insert(out.columns.get_loc("indicateur") + 1, LABEL, labels)
    if has_modality:
        out.insert(out.columns.get_loc("modalite") + 1, MODALITY_LABEL, modality_labels)
    return out


# The partners' evolutions give their changes in whole points (evolutions.published_form)
POINTS_COLUMNS: frozenset[str] = frozenset({"ecart", "ecart_apparie"})


def published_csv(
    table: pd.DataFrame,
    catalog: Catalog | None = None,
    share_columns: Iterable[str] = SHARE_COLUMNS,
) -> str:
    """A published table (indicateurs, evolutions) with its labels, in the French form."""
    return french_csv(with_labels(table, catalog), share_columns)


def write_published_csv(
    path: Path,
    table: pd.DataFrame,
    catalog: Catalog | None = None,
    share_columns: Iterable[str] = SHARE_COLUMNS,
) -> None:
    """Write `published_csv(table)` atomically: what `indicateurs.csv` / `evolutions.csv`
    become beside a report, and what `--format excel` writes from the CLI."""
    write_atomic(path, published_csv(table, catalog, share_columns))
