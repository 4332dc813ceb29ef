"""What reading one workbook may cost, checked before openpyxl parses anything.

openpyxl builds a Python object for every cell of every sheet (not only of the sheet
read): a 300 KB workbook holding 2 million cells took 862 MB and 53 s. This module
reads only the zip's directory and counts the cells while inflating the sheets, a
fraction of parsing's cost, and refuses a workbook over the caps with the sheet named.
A damaged or non-zip file is left to openpyxl, whose failure `reading` reports.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib

from avs_eval.formatting import count, megabytes


class TooCostly(Exception):
    """A workbook over the caps: where (file and sheet), why, and the range if declared."""

    def __init__(self, where: str, message: str, value: str | None = None) -> None:
        super().__init__(message)
        self.where, self.message, self.value = where, message, value


# What reading one workbook may cost, checked before openpyxl parses anything.
#
# openpyxl builds a Python object for every cell of every sheet (not only of the sheet
# read): about 430 bytes and 25 µs each. A 300 KB workbook holding 2 million cells took
# 862 MB and 53 s, and a 4.4 MB one would have needed about 13 GB. The largest input
# expected — ten years of answers from 200 structures, 100 columns — is 200,000 cells;
# the caps leave more than twice that (500,000 cells: about 215 MB and 13 s at worst)
# and refuse the rest in a few milliseconds, naming the sheet. A zip's declared sizes
# cannot lie to us: Python's zipfile never inflates a member beyond its declared size.
MAX_WORKBOOK_CELLS = 500_000  # cells of all its sheets together, as declared and as written
MAX_WORKBOOK_BYTES = 64 * 2**20  # its parts once uncompressed (sheets, shared strings…)

_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\""
)
_CELL = re.compile(rb"<(?:\w{1,16}:)?c[\s>/]")  # a cell's tag, not <col> nor <cfRule>
_CELL_TAGS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r")  # the same, unprefixed
_PREFIXED = re.compile(rb"<\w{1,16}:worksheet\b")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"[^>]*?\br:id=\"([^\"]*)\"")
_SHEET_ID = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]*)\"[^>]*?\bname=\"([^\"]*)\"")
_TARGET = re.compile(rb"<Relationship\b[^>]*?\bId=\"([^\"]*)\"[^>]*?\bTarget=\"([^\"]*)\"")
_TARGET_ID = re.compile(rb"<Relationship\b[^>]*?\bTarget=\"([^\"]*)\"[^>]*?\bId=\"([^\"]*)\"")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet part's name in the zip -> the sheet's name, as the user reads it.

    From the workbook's small index files, read only when they are small; a part that
    cannot be named keeps its file name.
    """
    try:
        infos = [archive.getinfo(n) for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")]
        if any(info.file_size > 2**20 for info in infos):
            return {}
        workbook, relations = (archive.read(info) for info in infos)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return {}
    ids = {rid: name for name, rid in _SHEET.findall(workbook)}
    ids.update({rid: name for rid, name in _SHEET_ID.findall(workbook)})
    targets = dict(_TARGET.findall(relations))
    targets.update({rid: target for target, rid in _TARGET_ID.findall(relations)})
    names = {}
    for rid, name in ids.items():
        target = targets.get(rid, b"").decode("utf-8", "replace").lstrip("/")
        part = target if target.startswith("xl/") else f"xl/{target}"
        names[part] = html.unescape(name.decode("utf-8", "replace"))
    return names


def _cells_written(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """The cells a sheet's XML holds, counted as it is inflated; stops past `limit`.

    A block is counted up to its last `<`, the rest with the next block: a cell's tag
    holds one `<`, so none is cut in two nor counted twice. Counted by `bytes.count`
    (C speed, no object per cell), or by a pattern when the sheet's tags carry a
    namespace prefix (`<x:c r="A1">`), as some generators write them.
    """
    found, carry, prefixed = 0, b"", None
    with archive.open(info) as stream:
        while block := stream.read(1 << 20):
            text = carry + block
            if prefixed is None:
                prefixed = _PREFIXED.search(text) is not None
            cut = max(text.rfind(b"<"), 0)
            found += _cells_in(text, cut, prefixed)
            carry = text[cut:]
            if found > limit:
                return found
    return found + _cells_in(carry, len(carry), bool(prefixed))


def _cells_in(text: bytes, end: int, prefixed: bool) -> int:
    if prefixed:
        return len(_CELL.findall(text, 0, end))
    return sum(text.count(tag, 0, end) for tag in _CELL_TAGS)


def _declared(head: bytes) -> tuple[str, int, int] | None:
    """A sheet's declared range (`<dimension ref="A1:T5000"/>`): (range, rows, columns)."""
    found = _DIMENSION.search(head)
    if found is None:
        return None
    first_col, first_row, last_col, last_row = (
        group.decode() if group else "" for group in found.groups()
    )
    last_col, last_row = last_col or first_col, last_row or first_row
    rows = int(last_row) - int(first_row) + 1
    columns = _column_number(last_col.encode()) - _column_number(first_col.encode()) + 1
    span = f"{first_col}{first_row}:{last_col}{last_row}"
    return span, max(rows, 0), max(columns, 0)


_ADVICE = (
    "Enregistrez le classeur avec seulement la plage des données (supprimez les lignes et "
    "colonnes vides ou inutiles), ou enregistrez la feuille au format CSV"
)


def check(data: bytes, label: str) -> None:
    """Raise `TooCostly` for a workbook over the caps; a damaged one passes to openpyxl."""
    try:
        _check(data, label)
    # NotImplementedError: zipfile's word for a member of an unsupported zip version or method
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        NotImplementedError,
    ):
        return  # damaged: openpyxl's failure names it, in `reading`


def _check(data: bytes, label: str) -> None:
    """Refuse, before parsing, a workbook that would take too much memory or time.

    Its parts' uncompressed size against `MAX_WORKBOOK_BYTES`, then each sheet's
    declared range and the cells it really holds (counted while inflating, a fraction
    of parsing's cost) against `MAX_WORKBOOK_CELLS`, all sheets together since
    openpyxl reads them all. A file that is not a zip is left to openpyxl's message.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    names = _sheet_names(archive)

    def where(info: zipfile.ZipInfo) -> str:
        name = names.get(info.filename)
        return f"{label} [feuille {name}]" if name else f"{label} [{info.filename}]"

    size = sum(info.file_size for info in infos)
    if size > MAX_WORKBOOK_BYTES:
        largest = max(infos, key=lambda info: info.file_size)
        raise TooCostly(
            where(largest),
            f"classeur trop volumineux : {megabytes(size)} une fois décompressé, dont "
            f"{megabytes(largest.file_size)} pour cette partie (au plus "
            f"{megabytes(MAX_WORKBOOK_BYTES)}). {_ADVICE}",
        )
    cap, total = count(MAX_WORKBOOK_CELLS), 0
    for info in infos:
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        with archive.open(info) as stream:
            declared = _declared(stream.read(1 << 16))
        if declared is not None and total + declared[1] * declared[2] > MAX_WORKBOOK_CELLS:
            span, rows, columns = declared
            raise TooCostly(
                where(info),
                f"classeur trop grand : la feuille déclare {count(rows * columns)} cellules "
                f"(plage {span}, {count(rows)} lignes × {count(columns)} colonnes), au-delà "
                f"des {cap} que la lecture accepte. {_ADVICE}",
                value=span,
            )
        written = _cells_written(archive, info, MAX_WORKBOOK_CELLS - total)
        total += written
        if total > MAX_WORKBOOK_CELLS:
            raise TooCostly(
                where(info),
                f"classeur trop grand : plus de {cap} cellules (cette feuille en compte au "
                f"moins {count(written)}, {megabytes(info.file_size)} une fois "
                f"décompressée). {_ADVICE}",
            )
