"""Turn a user's file (CSV in any of the French Excel flavours, or XLSX) into rows of text.

Only reading happens here: every cell comes out as a stripped string with its
spreadsheet row number, so that validation can name exactly what the user sees.
The file type is decided by its content, not its extension, because users rename.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from avs_eval.errors import Finding, ValidationError
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


class ReadFailure(Exception):
    """The file cannot be read as a table at all; carries the finding to report."""

    def __init__(
        self,
        label: str,
        message: str,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.finding = Finding(label, line, column, value, message)
        super().__init__(str(self.finding))


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
    elif data.startswith(OLE_MAGIC):
        raise ReadFailure(
            label,
            "format Excel 97-2003 (.xls) non pris en charge : "
            "enregistrez le fichier au format .xlsx ou CSV",
        )
    else:
        if strict_sheet:
            raise ReadFailure(label, "un classeur Excel (.xlsx) est attendu")
        rows = _csv_rows(data, label)
    return _to_table(rows, label)


# --- CSV ---------------------------------------------------------------------------


def _decode(data: bytes, label: str) -> str:
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
    try:
        return _not_binary(data.decode("utf-8"), label)
    except UnicodeDecodeError:
        pass
    try:
        return _not_binary(data.decode("cp1252"), label)
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


def _not_binary(text: str, label: str) -> str:
    """Refuse text full of control characters: binary bytes that happened to decode."""
    controls = _CONTROL.findall(text)
    if len(controls) >= 10 and len(controls) * 100 >= len(text):
        first = _CONTROL.search(text)
        raise ReadFailure(
            label,
            "contenu binaire (caractères de contrôle) : ce n'est pas un fichier CSV "
            "ni un classeur .xlsx",
            line=text[: first.start()].count("\n") + 1,
        )
    return text


def _separator(text: str) -> str:
    """`;` (French Excel) or `,`, whichever splits the header line into more cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {}
    for sep in ";,":
        try:
            counts[sep] = len(next(csv.reader([first], delimiter=sep)))
        except (csv.Error, StopIteration):
            counts[sep] = 0
    return ";" if counts[";"] > counts[","] else ","


def _csv_rows(data: bytes, label: str) -> list[tuple[int, list[str]]]:
    text = _decode(data, label)
    for number, line in enumerate(text.split("\n"), start=1):
        if "\ufeff" in line:
            raise ReadFailure(
                label,
                "marque d'encodage (BOM) au milieu du fichier : le fichier semble être "
                "la mise bout à bout de deux fichiers ; réenregistrez-le depuis le tableur",
                line=number,
                value=line.strip(),
            )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
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
    workbook = _open_workbook(path.read_bytes(), label)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _open_workbook(data: bytes, label: str):
    import openpyxl  # imported here: CSV users should not pay for it

    try:
        with warnings.catch_warnings():  # openpyxl's English remarks on the package
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError) as exc:
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
    try:
        worksheet = _pick_sheet(workbook, label, sheet, strict)
        label_sheet = f"{label} [feuille {worksheet.title}]"
        merged = sorted(worksheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
        if merged:
            first = merged[0]
            raise ReadFailure(
                label_sheet,
                f"cellules fusionnées ({len(merged)} plage(s), dont {first.coord}) : "
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
    finally:
        workbook.close()


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

_EMPTY = re.compile(r"^\s*$")


def _title_row(rows: list[tuple[int, list[str]]], header: list[str], label: str) -> list[Finding]:
    """A title typed above the headers, as people do in Excel, read as a one-cell header.

    Without this, every row below would be reported as having too many values.
    """
    filled = [h for h in header if h]
    if len(filled) != 1:
        return []
    wide = (n for n, cells in rows[1:] if sum(1 for c in cells if c and c.strip()) >= 2)
    line = next(wide, None)
    if line is None:
        return []
    return [
        Finding(
            label,
            rows[0][0],
            None,
            filled[0],
            f"ligne de titre au-dessus des en-têtes : les en-têtes de colonnes semblent être "
            f"en ligne {line} : supprimez les lignes de titre au-dessus, les en-têtes doivent "
            "être en ligne 1",
        )
    ]


def _to_table(rows: list[tuple[int, list[str]]], label: str) -> RawTable:
    rows = [(n, cells) for n, cells in rows if any(c is not None and c.strip() for c in cells)]
    if not rows:
        raise ReadFailure(label, "fichier vide")
    header_line, header = rows[0]
    if len(rows) == 1:
        raise ReadFailure(label, "aucune ligne de données sous les en-têtes")
    header = [h.strip() for h in header]
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
    body = []
    lines = []
    for number, cells in rows[1:]:
        extra = [c for c in cells[width:] if c and c.strip()]
        if extra:
            errors.append(
                Finding(
                    label,
                    number,
                    None,
                    extra[0],
                    f"{width + len(extra)} valeurs ou plus pour {width} colonnes d'en-tête : "
                    "séparateur ou guillemet en trop ?",
                )
            )
        cells = (list(cells[:width]) + [""] * width)[:width]
        body.append([c.strip() for c in cells])
        lines.append(number)
    if errors:
        raise ValidationError(_title_row(rows, header, label) or errors)
    frame = pd.DataFrame(body, columns=normalised, dtype=object)
    frame[LINE] = lines
    too_long = []
    for column in normalised:
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
