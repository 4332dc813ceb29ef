"""Turn a user's file (CSV in any of the French Excel flavours, or XLSX) into rows of text.

Only reading happens here: every cell comes out as a stripped string with its
spreadsheet row number, so that validation can name exactly what the user sees.
The file type is decided by its content, not its extension, because users rename.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from avs_eval import workbook_limits
from avs_eval.caches import Recent
from avs_eval.errors import Finding, ValidationError
from avs_eval.formatting import counted
from avs_eval.schema import normalise

csv.field_size_limit(10_000_000)  # huge cells are reported by validation, not by csv

MAX_CELL_LENGTH = 5_000
LINE = "_ligne"  # column holding the spreadsheet row number of each data row

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls


@dataclass
class RawTable:
    """The cells of one table, as text, with their spreadsheet row numbers."""

    label: str  # how the file is named in messages
    frame: pd.DataFrame  # normalised headers -> stripped strings, plus LINE
    headers: dict[str, str]  # normalised header -> header as written
    header_line: int = 1  # spreadsheet row of the headers (blank rows above are skipped)


class ReadFailure(ValidationError):
    """The file cannot be read as a table at all: a validation error of one finding.

    A `ValidationError` itself, so that every caller reports it as it reports broken
    rows, with no wrapping of its own; `finding` is that one finding.
    """

    def __init__(
        self,
        label: str,
        message: str,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.finding = Finding(label, line, column, value, message)
        super().__init__([self.finding])


def is_workbook(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def read_table(path: Path, label: str, sheet: str | None = None, *, strict_sheet=False) -> RawTable:
    """Read a CSV or XLSX table; `sheet` names the worksheet to prefer in a workbook."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReadFailure(label, "fichier introuvable") from None
    except IsADirectoryError:
        raise ReadFailure(label, "c'est un dossier, pas un fichier") from None
    except OSError as exc:
        raise ReadFailure(label, f"fichier illisible ({exc.strerror})") from None
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ReadFailure(label, "fichier vide")
    if data.startswith(ZIP_MAGIC):
        rows, label = _workbook_rows(data, label, sheet, strict_sheet)
        return _to_table(rows, label)
    if data.startswith(OLE_MAGIC):
        raise ReadFailure(
            label,
            "format Excel 97-2003 (.xls) non pris en charge : "
            "enregistrez le fichier au format .xlsx ou CSV",
        )
    if strict_sheet:
        raise ReadFailure(label, "un classeur Excel (.xlsx) est attendu")
    return _frame_to_table(*_csv_frame(data, label), label)


# --- CSV ---------------------------------------------------------------------------


class _Bytes:
    """Where a file's control bytes are (below 0x20; 0x7F counted), found in one numpy pass.

    They are ASCII, so one byte each in UTF-8 (where no byte of a multi-byte character
    is below 0x80) and in Windows-1252: what holds of the bytes holds of the text. The
    checks on a big file (binary content, odd spaces, line lengths) read this short
    list instead of the text, at C speed.
    """

    def __init__(self, data: bytes) -> None:
        array = np.frombuffer(data, dtype=np.uint8)
        self.size = len(array)
        self.positions = np.flatnonzero(array < 0x20)
        self.values = array[self.positions]
        self.deletes = data.count(b"\x7f")  # the one control byte above 0x20

    def count(self, values: bytes) -> int:
        below = int(np.isin(self.values, np.frombuffer(values, dtype=np.uint8)).sum())
        return below + (self.deletes if b"\x7f" in values else 0)

    def longest_line(self) -> int:
        """Bytes in the longest line, line break included."""
        ends = np.concatenate(([-1], self.positions[self.values == ord("\n")], [self.size]))
        return int(np.diff(ends).max())


def _decode(data: bytes, label: str) -> tuple[str, str, _Bytes]:
    """The text of a CSV file, the encoding it was read with (the BOM left out), its bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadFailure(
            label,
            "encodage UTF-16 non pris en charge : enregistrez le fichier en "
            "« CSV UTF-8 » ou « CSV (séparateur : point-virgule) »",
        )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ReadFailure(
            label,
            "contenu binaire (octet nul) : ce n'est pas un fichier CSV ni un classeur .xlsx",
            line=line,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    census = _Bytes(data)
    try:
        return _not_binary(data.decode("utf-8"), census, label), "utf-8", census
    except UnicodeDecodeError:
        pass
    try:
        return _not_binary(data.decode("cp1252"), census, label), "cp1252", census
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadFailure(
            label,
            "encodage non reconnu (ni UTF-8 ni Windows-1252) : "
            "enregistrez le fichier en « CSV UTF-8 »",
            line=line,
            value=f"octet 0x{data[exc.start]:02X}",
        ) from None


# Control characters never typed in a spreadsheet (tab, line breaks, form feed excepted).
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x01, 0x09), *range(0x0E, 0x20), 0x7F])


def _not_binary(text: str, census: _Bytes, label: str) -> str:
    """Refuse text full of control characters: binary bytes that happened to decode."""
    controls = census.count(_CONTROL_BYTES)
    if controls >= 10 and controls * 100 >= len(text):
        first = _CONTROL.search(text)
        raise ReadFailure(
            label,
            "contenu binaire (caractères de contrôle) : ce n'est pas un fichier CSV "
            "ni un classeur .xlsx",
            line=text[: first.start()].count("\n") + 1,
        )
    return text


def _first_line(text: str) -> str:
    """The first non-blank line of `text` (as `str.splitlines` cuts), without splitting it all.

    A big file has hundreds of thousands of lines; the header is in the first few.
    """
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        for position, line in enumerate(lines):
            if line.strip():
                if position < len(lines) - 1 or size >= len(text):
                    return line
                break  # may be cut by the prefix: read a longer one
        else:
            if size >= len(text):
                return ""
        size *= 4


def _separator(text: str) -> str:
    """`;` (French Excel) or `,`, whichever splits the header line into more cells."""
    first = _first_line(text)
    counts = {}
    for sep in ";,":
        try:
            counts[sep] = len(next(csv.reader([first], delimiter=sep)))
        except (csv.Error, StopIteration):
            counts[sep] = 0
    return ";" if counts[";"] > counts[","] else ","


def _no_inner_bom(text: str, label: str) -> None:
    if "\ufeff" not in text:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if "\ufeff" in line:
            raise ReadFailure(
                label,
                "marque d'encodage (BOM) au milieu du fichier : le fichier semble être "
                "la mise bout à bout de deux fichiers ; réenregistrez-le depuis le tableur",
                line=number,
                value=line.strip(),
            )


def _quoting_trouble(data: bytes, separator: str) -> bool:
    """Whether a quote might be one that Python's csv module (strict) refuses.

    pandas' parser accepts `"abc"d` (as `abcd`); the csv module refuses it, with the
    message the user gets, and so does this reader. Quotes are read in runs of
    consecutive quotes, all at once with numpy. In a file the csv module accepts, and
    where no quote stands inside an unquoted cell, every quote toggles "inside a quoted
    cell", so the parity of the quotes before a run says where it is:

    - outside, a run must open a cell (after a separator, a line break or at the start;
      anything else is a quote inside an unquoted cell: not an error, but the careful
      path then reads the file), and an even run (opened and closed) must be followed
      by a separator, a line break or the end;
    - inside, an odd run closes the cell and must be followed by the same.

    A run that breaks a rule, or an odd number of quotes (one left open), sends the
    file to the csv module: no refused file is ever read by pandas, and a false alarm
    only costs the slower road. The quote, separators and line breaks are ASCII: one
    byte each in UTF-8 and Windows-1252.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    array = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(array == ord('"'))
    if not len(quotes):
        return False
    if len(quotes) % 2:
        return True
    first = np.flatnonzero(np.diff(quotes, prepend=-2) != 1)  # index in `quotes` of each run
    length = np.diff(first, append=len(quotes))
    start = quotes[first]
    after = start + length
    breaks = np.frombuffer(f"{separator}\r\n".encode(), dtype=np.uint8)
    opens = (start == 0) | np.isin(array[np.maximum(start - 1, 0)], breaks)
    closes_well = (after >= len(array)) | np.isin(array[np.minimum(after, len(array) - 1)], breaks)
    inside = first % 2 == 1
    odd = length % 2 == 1
    trouble = (~inside & ~opens) | (~inside & ~odd & ~closes_well) | (inside & odd & ~closes_well)
    return bool(trouble.any())


def _csv_frame(data: bytes, label: str) -> tuple[pd.DataFrame, np.ndarray, int | None]:
    """The cells of a CSV file as a frame of text (columns 0..n-1), each row's number,
    and, for a plain file, a bound on the cells' length (see `_plain_bound`).

    pandas' C parser reads the file when it can do so exactly as the csv module would;
    otherwise (a quote out of place, a row wider than the first) the csv module reads
    it, row by row, and says what is wrong in its own words.
    """
    text, encoding, census = _decode(data, label)
    _no_inner_bom(text, label)
    separator = _separator(text)
    if not _quoting_trouble(data, separator):
        try:
            frame = _pandas_cells(data, text, encoding, separator)
        except (pd.errors.ParserError, ValueError, csv.Error):
            frame = None  # the exact reader below explains what is wrong
        if frame is not None:
            lines = np.arange(1, len(frame) + 1)
            return frame, lines, _plain_bound(data, text, encoding, separator, census)
    rows = _csv_rows(text, separator, label)
    return (*_rows_frame(rows), None)


# Bytes of the whitespace that `str.strip` removes, other than space and line breaks;
# and the UTF-8 openings of the non-ASCII ones (\x85, \xa0, \u1680, \u2000-\u205f,
# \u3000; \xe2\x80 and \xe2\x81 also open common punctuation: a false alarm then costs
# only the careful path).
_ODD_SPACES = b"\t\x0b\x0c\x1c\x1d\x1e\x1f"
_WIDE_SPACES = (
    b"\xc2\x85",
    b"\xc2\xa0",
    b"\xe1\x9a\x80",
    b"\xe2\x80",
    b"\xe2\x81",
    b"\xe3\x80\x80",
)


def _plain_bound(
    data: bytes, text: str, encoding: str, separator: str, census: _Bytes
) -> int | None:
    """For a file whose cells need no stripping, a bound on their length; otherwise None.

    Most big files are plain: no quotes, no space at a cell's edge. Their cells are
    then used as read, and the longest line bounds the longest cell, so a big file is
    not visited cell by cell for either. The tests are on the bytes, at C speed.
    """
    if encoding != "utf-8" or '"' in text:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if census.count(_ODD_SPACES):
        return None
    if not text.isascii() and any(wide in data for wide in _WIDE_SPACES):
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    spaces = np.flatnonzero(array == ord(" "))
    if len(spaces):
        if spaces[0] == 0 or spaces[-1] == len(array) - 1:
            return None
        edges = np.frombuffer(f"{separator}\r\n".encode(), dtype=np.uint8)
        if np.isin(array[spaces - 1], edges).any() or np.isin(array[spaces + 1], edges).any():
            return None
    return census.longest_line()


def _pandas_cells(data: bytes, text: str, encoding: str, separator: str) -> pd.DataFrame:
    """All cells as text. UTF-8 bytes go to the C parser as they are (faster than text)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    utf8 = encoding == "utf-8"
    source = io.BytesIO(data) if utf8 else io.StringIO(text)
    frame = pd.read_csv(
        source,
        sep=separator,
        header=None,
        dtype=object,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
        quotechar='"',
        doublequote=True,
        encoding="utf-8" if utf8 else None,
        low_memory=False,
    )
    frame.columns = range(frame.shape[1])
    return frame


def _csv_rows(text: str, separator: str, label: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows: list[tuple[int, list[str]]] = []
    record = 0
    try:
        for row in reader:
            record += 1
            rows.append((record, row))
    except csv.Error as exc:
        raise ReadFailure(
            label,
            f"ligne CSV mal formée ({_csv_reason(exc)}) : vérifiez les guillemets",
            line=record + 1,
        ) from None
    return rows


def _csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "expected" in message and "after" in message:
        return "caractère inattendu après un guillemet"
    if "EOF" in message or "unexpected end of data" in message:
        return "guillemet ouvert jamais refermé"
    return "structure CSV invalide"


# --- XLSX --------------------------------------------------------------------------


def workbook_sheets(path: Path, label: str) -> list[str]:
    """Sheet names of a workbook, or a ReadFailure when it is not one."""
    return list(_open_workbook(path.read_bytes(), label).sheetnames)


# The last workbook parsed, by the digest of its bytes. A workbook is read three times
# for one validation (its sheet names, then each of its two sheets) and openpyxl parses
# every sheet each time: keeping it parses it once. `forget_workbooks` lets it go.
_WORKBOOK = Recent(1, release=lambda workbook: workbook.close())


def forget_workbooks() -> None:
    """Release the workbook kept by `_open_workbook` (at the end of a validation)."""
    _WORKBOOK.clear()


def _open_workbook(data: bytes, label: str):
    digest = hashlib.sha256(data).digest()
    return _WORKBOOK.get(digest, lambda: _parse_workbook(data, label))


def _parse_workbook(data: bytes, label: str):
    import openpyxl  # imported here: CSV users should not pay for it

    try:
        workbook_limits.check(data, label)
    except workbook_limits.TooCostly as costly:
        raise ReadFailure(costly.where, costly.message, value=costly.value) from None
    try:
        with warnings.catch_warnings():  # openpyxl's English remarks on the package
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except (
        zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError,
        NotImplementedError,  # a zip version or method that zipfile does not read
    ) as exc:  # fmt: skip
        raise ReadFailure(
            label,
            f"classeur Excel illisible ou endommagé ({type(exc).__name__}) : "
            "ouvrez-le dans le tableur et réenregistrez-le au format .xlsx",
        ) from None
    except Exception as exc:  # openpyxl raises its own exceptions on broken packages
        raise ReadFailure(
            label,
            f"classeur Excel illisible ({type(exc).__name__}) : réenregistrez-le au format .xlsx",
        ) from None


def _pick_sheet(workbook, label: str, sheet: str | None, strict: bool):
    names = {normalise(name): name for name in workbook.sheetnames}
    if sheet and normalise(sheet) in names:
        return workbook[names[normalise(sheet)]]
    if strict:
        available = ", ".join(f"« {n} »" for n in workbook.sheetnames)
        raise ReadFailure(
            label, f"feuille « {sheet} » absente du classeur (feuilles présentes : {available})"
        )
    return workbook.worksheets[0]


def _workbook_rows(
    data: bytes, label: str, sheet: str | None, strict: bool
) -> tuple[list[tuple[int, list[str]]], str]:
    workbook = _open_workbook(data, label)
    worksheet = _pick_sheet(workbook, label, sheet, strict)
    label_sheet = f"{label} [feuille {worksheet.title}]"
    merged = sorted(worksheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
    if merged:
        first = merged[0]
        raise ReadFailure(
            label_sheet,
            f"cellules fusionnées ({counted(len(merged), 'plage')}, dont {first.coord}) : "
            "défusionnez-les, une valeur par cellule",
            line=first.min_row,
            value=str(first.coord),
        )
    rows = []
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = []
        for column, value in enumerate(values, start=1):
            if isinstance(value, str) and value.startswith("=") and len(value) > 1:
                raise ReadFailure(
                    label_sheet,
                    "cellule contenant une formule : remplacez-la par sa valeur "
                    "(copier, puis collage spécial « valeurs »)",
                    line=number,
                    column=_column_letter(column),
                    value=value,
                )
            cells.append(_cell_text(value))
        rows.append((number, cells))
    return rows, label_sheet


def _column_letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_text(value) -> str:
    """A cell as the user reads it: 69123.0 is '69123', a date is 'JJ/MM/AAAA'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "vrai" if value else "faux"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


# --- rows to a table ---------------------------------------------------------------


def _rows_frame(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of cells (a workbook's, or the csv module's) as the frame the CSV parser gives."""
    width = max((len(cells) for _, cells in rows), default=0)
    body = [list(cells) + [""] * (width - len(cells)) for _, cells in rows]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    return frame, np.array([number for number, _ in rows], dtype=np.int64)


def _to_table(rows: list[tuple[int, list[str]]], label: str) -> RawTable:
    return _frame_to_table(*_rows_frame(rows), None, label)


def _title_row(
    header: list[str], header_line: int, filled: np.ndarray, body: np.ndarray, lines, label: str
) -> list[Finding]:
    """A title typed above the headers, as people do in Excel, read as a one-cell header.

    Without this, every row below would be reported as having too many values.
    """
    named = [h for h in header if h]
    if len(named) != 1:
        return []
    wide = np.flatnonzero(filled[body].sum(axis=1) >= 2)
    if not len(wide):
        return []
    line = int(lines[body[wide[0]]])
    return [
        Finding(
            label,
            header_line,
            None,
            named[0],
            f"ligne de titre au-dessus des en-têtes : les en-têtes de colonnes semblent être "
            f"en ligne {line} : supprimez les lignes de titre au-dessus, les en-têtes doivent "
            "être en ligne 1",
        )
    ]


class _Column:
    """One column of cells, stripped: each distinct value is handled once.

    A column holds few distinct values (yes/no, codes, communes), or, for identifiers,
    one per row at worst; hashing them (`pandas.factorize`, in C) and stripping the
    distinct ones costs a third of stripping every cell.
    """

    def __init__(self, cells: np.ndarray, plain_bound: int | None) -> None:
        if plain_bound is not None:  # nothing to strip (`_plain_bound`)
            self.stripped = cells
            self.filled = cells.astype(bool)  # "" is false: one C loop
            self.longest = plain_bound
            return
        codes, distinct = pd.factorize(cells)
        stripped = np.array([str(value).strip() for value in distinct], dtype=object)
        self.stripped = stripped[codes] if len(codes) else stripped
        self.filled = self.stripped.astype(bool)
        self.longest = max((len(v) for v in stripped), default=0)


def _frame_to_table(
    raw: pd.DataFrame, lines: np.ndarray, plain_bound: int | None, label: str
) -> RawTable:
    """Cells (columns 0..n-1, as read) to a table: headers checked, cells stripped.

    Column by column, so that a big file costs a few vectorised passes; findings are
    built only for the rows that fail.
    """
    columns = [_Column(raw[c].to_numpy(dtype=object), plain_bound) for c in raw.columns]
    filled = np.zeros((len(raw), len(columns)), dtype=bool)
    for position, column in enumerate(columns):
        filled[:, position] = column.filled
    kept = np.flatnonzero(filled.any(axis=1))
    if not len(kept):
        raise ReadFailure(label, "fichier vide")
    header_row, body = kept[0], kept[1:]
    header_line = int(lines[header_row])
    if not len(body):
        raise ReadFailure(label, "aucune ligne de données sous les en-têtes")
    header = [str(column.stripped[header_row]) for column in columns]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    errors: list[Finding] = []
    seen: dict[str, int] = {}
    normalised: list[str] = []
    for position, name in enumerate(header):
        key = normalise(name)
        if key and key in seen:
            errors.append(
                Finding(
                    label,
                    header_line,
                    name,
                    name,
                    f"en-tête présent deux fois (colonnes {seen[key] + 1} et {position + 1})",
                )
            )
        seen.setdefault(key, position)
        if key.startswith("_"):  # keep clear of LINE and of the _colonne_N placeholders
            key = "_" + key
        normalised.append(key or f"_colonne_{position + 1}")
    if raw.shape[1] > width:
        extra = filled[body, width:]
        for row in np.flatnonzero(extra.any(axis=1)):
            position = body[row]
            count = int(extra[row].sum())
            first = width + int(np.argmax(extra[row]))
            errors.append(
                Finding(
                    label,
                    int(lines[position]),
                    None,
                    raw.iat[position, first],
                    f"{width + count} valeurs ou plus pour {width} colonnes d'en-tête : "
                    "séparateur ou guillemet en trop ?",
                )
            )
    if errors:
        raise ValidationError(_title_row(header, header_line, filled, body, lines, label) or errors)
    rows = body
    if body[-1] - body[0] + 1 == len(body):  # no blank row inside: a view, not a copy
        rows = slice(int(body[0]), int(body[-1]) + 1)
    cells = {name: columns[c].stripped[rows] for c, name in enumerate(normalised)}
    frame = pd.DataFrame(cells, dtype=object, copy=False)  # object, as the rules expect
    frame[LINE] = lines[body]
    too_long = []
    for position, column in enumerate(normalised):
        if columns[position].longest <= MAX_CELL_LENGTH:
            continue
        lengths = frame[column].str.len()
        for index in frame.index[lengths > MAX_CELL_LENGTH]:
            too_long.append(
                Finding(
                    label,
                    int(frame.at[index, LINE]),
                    header[normalised.index(column)],
                    frame.at[index, column],
                    f"cellule anormalement longue ({lengths[index]} caractères, "
                    f"{MAX_CELL_LENGTH} au plus)",
                )
            )
    if too_long:
        raise ValidationError(too_long)
    unnamed = [c for c in normalised if c.startswith("_colonne_")]
    for column in unnamed:
        if frame[column].str.len().gt(0).any():
            continue
        frame = frame.drop(columns=column)
    return RawTable(label, frame, dict(zip(normalised, header, strict=True)), header_line)
