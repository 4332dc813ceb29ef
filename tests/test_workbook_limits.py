"""A workbook costs at most what `workbook_limits.MAX_WORKBOOK_CELLS` and `_BYTES` allow.

A 300 KB XLSX can hold 2 million cells: openpyxl took 862 MB and 53 s to read it, and a
4.4 MB one would have needed 13 GB. The bounds are checked on the zip before openpyxl
parses anything; the bombs here are written with the zip module directly, in a second.
Before the bounds, `read_table` handed them to openpyxl whole (the first bomb: the
issue's 53 s and 862 MB), so these tests are not run on that code: they would fail
only after that cost.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from conftest import write_workbook

from avs_eval import reading, workbook_limits
from avs_eval.reading import ReadFailure, read_table
from avs_eval.workbook_limits import MAX_WORKBOOK_CELLS

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Réponses" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def bomb(rows: int, columns: int, declared: str | None = None) -> bytes:
    """An XLSX whose one sheet holds rows × columns numeric cells, deflated."""
    letters = [chr(65 + c) for c in range(columns)]
    body = ("<row>" + "<c><v>1</v></c>" * columns + "</row>") * rows  # `r` is optional
    dimension = declared or f"A1:{letters[-1]}{rows}"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def refused_within(path: Path, seconds: float, megabytes: float) -> ReadFailure:
    """Refused, timed, then refused again with its memory traced (tracing slows it)."""
    started = time.perf_counter()
    with pytest.raises(ReadFailure) as refused:
        read_table(path, "reponses.xlsx")
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"{elapsed:.1f} s"
    tracemalloc.start()
    try:
        with pytest.raises(ReadFailure):
            read_table(path, "reponses.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        reading.forget_workbooks()
    assert peak < megabytes * 2**20, f"{peak / 2**20:.0f} Mo"
    return refused.value


def test_a_bomb_of_two_million_cells_is_refused_before_parsing(tmp_path):
    """The issue's bomb: 2,000,000 cells in a few hundred KB. Refused from its declared
    range, naming the file, the sheet, its size, and what to do."""
    path = tmp_path / "reponses.xlsx"
    path.write_bytes(bomb(100_000, 20))
    assert path.stat().st_size < 1_000_000
    failure = refused_within(path, seconds=2, megabytes=50)
    finding = failure.finding
    assert finding.fichier == "reponses.xlsx [feuille Réponses]"
    assert "2\u202f000\u202f000 cellules" in finding.message
    assert "A1:T100000" in finding.message
    assert "CSV" in finding.message and "plage des données" in finding.message


def test_a_bomb_that_lies_about_its_range_is_refused_by_its_cells(tmp_path):
    """The declared range is the writer's word: a sheet declaring A1:A1 is counted."""
    path = tmp_path / "reponses.xlsx"
    path.write_bytes(bomb(60_000, 10, declared="A1"))
    failure = refused_within(path, seconds=3, megabytes=50)
    assert failure.finding.fichier == "reponses.xlsx [feuille Réponses]"
    assert "plus de 500\u202f000 cellules" in failure.finding.message


def test_a_bomb_of_uncompressed_bytes_is_refused_by_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_limits, "MAX_WORKBOOK_BYTES", 2**20)
    path = tmp_path / "reponses.xlsx"
    path.write_bytes(bomb(20_000, 5))
    failure = refused_within(path, seconds=1, megabytes=20)
    assert "trop volumineux" in failure.finding.message
    assert failure.finding.fichier == "reponses.xlsx [feuille Réponses]"


def test_a_workbook_just_under_the_cap_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_limits, "MAX_WORKBOOK_CELLS", 2_000)
    path = write_workbook(
        tmp_path / "petit.xlsx",
        {"reponses": [["structure_id", "annee"], *[[f"S{n}", 2024] for n in range(999)]]},
    )
    table = read_table(path, "petit.xlsx")
    assert len(table.frame) == 999
    reading.forget_workbooks()
    monkeypatch.setattr(workbook_limits, "MAX_WORKBOOK_CELLS", 1_000)
    with pytest.raises(ReadFailure) as refused:
        read_table(path, "petit.xlsx")
    assert "au-delà des 1\u202f000 que" in refused.value.finding.message


def test_the_cap_holds_ten_years_of_real_answers():
    """Ten years × 200 structures × 100 columns must fit, with room to spare."""
    assert MAX_WORKBOOK_CELLS >= 2 * 10 * 200 * 100


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_cells_are_counted_exactly_across_blocks(prefix):
    """Counted block by block (1 MB each) as the sheet is inflated: none counted twice."""
    data = bomb(40_000, 5)
    if prefix:
        data = prefixed(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 2 * 2**20
    assert workbook_limits._cells_written(archive, info, limit=10**9) == 200_000


def prefixed(data: bytes) -> bytes:
    """The same workbook, its sheet's tags written with a namespace prefix."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("sheet1.xml"):
                content = (
                    content.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
                    .replace(b"</worksheet>", b"</x:worksheet>")
                    .replace(b"<c>", b"<x:c>")
                    .replace(b"</c>", b"</x:c>")
                )
            archive.writestr(info.filename, content)
    return buffer.getvalue()


def test_a_zip_version_zipfile_cannot_read_is_a_damaged_workbook(tmp_path: Path):
    """zipfile raises NotImplementedError for a member of a newer zip version (found by
    test_loading_properties): the reader says the workbook is damaged, in French."""
    write_workbook(tmp_path / "classeur.xlsx", {"structures": [["structure_id"], ["S1"]]})
    data = bytearray((tmp_path / "classeur.xlsx").read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 64  # version needed to extract: 6.4
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()
    workbook_limits.check(bytes(data), "classeur.xlsx")  # left to the reader's message
    with pytest.raises(ReadFailure) as caught:
        reading._parse_workbook(bytes(data), "classeur.xlsx")
    assert "classeur Excel illisible ou endommagé" in str(caught.value.errors[0])
