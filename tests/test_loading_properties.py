"""Whatever the files hold, the loader either loads them or says what is wrong.

Property: `load()` on any pair of files returns a Dataset or raises the package's
ValidationError, with at least one finding naming the file; never another exception
(KeyError, IndexError, UnicodeError, a pandas error...), which the CLI would print as
a traceback. Inputs are random tables, mutations of the mini fixture (as CSV in
several encodings or as XLSX) and raw bytes. Runs are derandomised: CI sees the same
examples every time.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
from conftest import MINI_DIR, read_csv_rows
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from avs_eval.catalog import load_catalog
from avs_eval.errors import ValidationError
from avs_eval.loading import Dataset, code_column, load
from avs_eval.schema import STRUCTURE_OPTIONAL, STRUCTURE_REQUIRED, normalise
from avs_eval.sources import DataSource

CATALOG = load_catalog()

TABLES = ("structures", "reponses")
MINI = {name: read_csv_rows(MINI_DIR / f"{name}.csv") for name in TABLES}
MINI_BYTES = {name: (MINI_DIR / f"{name}.csv").read_bytes() for name in TABLES}

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- cells and tables ----------------------------------------------------------------

CONTRACT_NAMES = STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL + CATALOG.response_columns

# Values that reach the deep rules of the contract, or the corners of the reader.
TELLING_VALUES = [
    "",
    " ",
    "oui",
    "Non",
    "2022",
    "2024",
    "2026",
    "2019",
    "2024.0",
    "01/01/2024",
    "69123",
    "69123.0",
    "1053",
    "S1",
    "S2",
    "S8",
    "S99",
    "CS",
    "centre social",
    "EVS",
    "MJC",
    "Lyon",
    "Ouest Rhône",
    "Métropole de Lyon",
    "RHONE",
    "Rhône",
    "caf;pmi",
    "site_internet|aucun",
    "autre",
    "aucun;site_internet",
    '"',
    '""',
    '"a"b',
    ";",
    ",",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\ufeff",
    "\x00",
    "=1+1",
    "nan",
    "None",
    "NULL",
    "-1",
    "1e5",
    "inf",
    "_ligne",
    "_colonne_1",
    "_colonne_2",
    "communication_canaux:caf",
    "２０２４",
    "٢٠٢٤",
    "69１２３",
    "structure_id",
    "annee",
]

cells = st.one_of(
    st.sampled_from(TELLING_VALUES),
    st.text(max_size=20),
    st.text(alphabet=";,\"'\r\n\t |éÉ€\ufeff\x00", max_size=8),
    st.integers(-10_000, 100_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(4_990, 6_000).map(lambda n: "x" * n),
)
headers = st.one_of(
    st.sampled_from(CONTRACT_NAMES),
    st.sampled_from(CONTRACT_NAMES).map(lambda n: f" {n.upper()} "),
    cells,
)


@st.composite
def random_tables(draw) -> list[list[str]]:
    width = draw(st.integers(0, 8))
    header = draw(st.lists(headers, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cells, max_size=width + 2), max_size=6))
    return [header, *rows]


# --- writing tables as a user's tools do ---------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "mac_roman", "utf-16", "utf-16-le"]


CsvFormat = tuple[str, str, str, str]  # separator, line ending, quoting, encoding
PLAIN_CSV: CsvFormat = (",", "\n", "minimal", "utf-8")
csv_formats = st.tuples(
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["minimal", "all", "raw"]),
    st.sampled_from(ENCODINGS),
)


def csv_bytes(rows: list[list[str]], form: CsvFormat) -> bytes:
    sep, eol, style, encoding = form
    if style == "raw":  # joined by hand: quotes and separators inside cells break rows
        text = eol.join(sep.join(row) for row in rows)
    else:
        buffer = io.StringIO()
        quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
        csv.writer(buffer, delimiter=sep, lineterminator=eol, quoting=quoting).writerows(rows)
        text = buffer.getvalue()
    return text.encode(encoding, errors="replace")


def _excel_cell(text: str, style: int):
    """A cell as a spreadsheet may store it: text, number, date or boolean."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if style == 1 and text.strip().lstrip("-").isdigit():
        return int(text)
    if style == 2 and text.strip().isdigit():
        return float(text) + 0.5
    if style == 3 and len(text) == 4 and text.isdigit():
        return datetime(int(text) or 1, 1, 1)
    if style == 4 and text.casefold() in ("oui", "non"):
        return text.casefold() == "oui"
    return text or None


def workbook_bytes(sheets: dict[str, list[list[str]]], style: int) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", name)[:31] or "Feuil")
        for row in rows:
            sheet.append([_excel_cell(c, style) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- mutations of the mini fixture ---------------------------------------------------

index = st.integers(0, 1_000)
mutations = st.one_of(
    st.tuples(st.just("cellule"), index, index, cells),
    st.tuples(st.just("cellule"), index, index, cells),
    st.tuples(st.just("cellule"), index, index, cells),
    st.tuples(st.just("retirer_colonne"), index),
    st.tuples(st.just("doubler_colonne"), index),
    st.tuples(st.just("melanger_lignes"), st.integers(0, 2**32)),
    st.tuples(st.just("retirer_en_tete")),
    st.tuples(st.just("doubler_ligne"), index),
    st.tuples(st.just("ligne_vide"), index),
    st.tuples(st.just("ligne_de_titre"), cells),
    st.tuples(st.just("couper_ligne"), index, st.integers(0, 15)),
    st.tuples(st.just("allonger_ligne"), index, cells),
)


def mutate(rows: list[list[str]], mutation: tuple) -> list[list[str]]:
    rows = [list(r) for r in rows]
    kind, *args = mutation
    width = max((len(r) for r in rows), default=0)
    if not rows:
        return rows
    if kind == "cellule":
        row = rows[args[0] % len(rows)]
        if row:
            row[args[1] % len(row)] = args[2]
    elif kind == "retirer_colonne" and width:
        for row in rows:
            if row:
                del row[args[0] % len(row)]
    elif kind == "doubler_colonne" and width:
        for row in rows:
            if row:
                row.append(row[args[0] % len(row)])
    elif kind == "melanger_lignes":
        body = rows[1:]
        random.Random(args[0]).shuffle(body)
        rows = rows[:1] + body
    elif kind == "retirer_en_tete":
        rows = rows[1:]
    elif kind == "doubler_ligne":
        rows.append(list(rows[args[0] % len(rows)]))
    elif kind == "ligne_vide":
        rows.insert(args[0] % (len(rows) + 1), [""] * width)
    elif kind == "ligne_de_titre":
        rows.insert(0, [args[0]])
    elif kind == "couper_ligne":
        position = args[0] % len(rows)
        rows[position] = rows[position][: args[1]]
    elif kind == "allonger_ligne":
        rows[args[0] % len(rows)].append(args[1])
    return rows


# --- the property --------------------------------------------------------------------


def check_load(files: dict[str, bytes]) -> None:
    """Write the files, load them: a Dataset, or a ValidationError saying what is wrong."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, data in files.items():
            paths[name] = Path(folder) / name
            paths[name].write_bytes(data)
        if "classeur.xlsx" in paths:
            source = DataSource.from_options(classeur=paths["classeur.xlsx"])
        else:
            structures, reponses = sorted(paths.values(), key=lambda p: "reponses" in p.name)
            source = DataSource.from_options(structures, reponses)
        try:
            dataset = load(source)
        except ValidationError as invalid:
            assert invalid.errors, "ValidationError sans aucune erreur"
            names = set(files)
            for finding in invalid.errors:
                assert any(finding.fichier.startswith(n) for n in names), finding
                assert finding.message, finding
                str(finding)  # printable, whatever the value
            invalid.report()
        else:
            assert isinstance(dataset, Dataset)
            dataset.summary()


def _pair(role: str, data: bytes, extension: str = "csv") -> dict[str, bytes]:
    """`data` as the file of `role`, the mini fixture's file for the other table."""
    other = "reponses" if role == "structures" else "structures"
    return {f"{role}.{extension}": data, f"{other}.csv": MINI_BYTES[other]}


@PROPERTY
@given(
    role=st.sampled_from([*TABLES, "les deux"]),
    table=random_tables(),
    other=random_tables(),
    form=csv_formats,
    other_form=csv_formats,
)
def test_random_tables_load_or_raise_validation_error(role, table, other, form, other_form):
    if role == "les deux":
        files = {
            "structures.csv": csv_bytes(table, form),
            "reponses.csv": csv_bytes(other, other_form),
        }
    else:
        files = _pair(role, csv_bytes(table, form))
    check_load(files)


# Regressions, found once and kept: each crashed the loader with a traceback.
FULL_WIDTH_YEAR = [("reponses", ("cellule", 2, 1, "２０２４"))]
LINE_HEADER = [("structures", ("allonger_ligne", 0, "_ligne"))]
PLACEHOLDER_HEADER = [
    ("structures", ("allonger_ligne", 0, "")),
    ("structures", ("allonger_ligne", 0, "_colonne_11")),
]


@PROPERTY
@given(
    changes=st.lists(st.tuples(st.sampled_from(TABLES), mutations), min_size=1, max_size=4),
    form=st.sampled_from(["csv", "csv", "xlsx", "classeur"]),
    csv_form=csv_formats,
    excel_style=st.integers(0, 4),
    sheet_names=st.sampled_from(
        [TABLES, ("STRUCTURES", " Reponses "), ("reponses", "structures"), ("Feuil1", "reponses")]
    ),
)
@example(FULL_WIDTH_YEAR, "csv", PLAIN_CSV, 0, TABLES)
@example(LINE_HEADER, "csv", PLAIN_CSV, 0, TABLES)
@example(PLACEHOLDER_HEADER, "csv", PLAIN_CSV, 0, TABLES)
def test_mutated_mini_fixture_loads_or_raises_validation_error(
    changes, form, csv_form, excel_style, sheet_names
):
    tables = {name: MINI[name] for name in TABLES}
    for name, mutation in changes:
        tables[name] = mutate(tables[name], mutation)
    if form == "csv":
        files = {f"{name}.csv": csv_bytes(tables[name], csv_form) for name in TABLES}
    elif form == "xlsx":
        files = {
            f"{name}.xlsx": workbook_bytes({name: tables[name]}, excel_style) for name in TABLES
        }
    else:
        sheets = dict(zip(sheet_names, (tables[n] for n in TABLES), strict=True))
        files = {"classeur.xlsx": workbook_bytes(sheets, excel_style)}
    check_load(files)


MAGIC = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]
VALID_WORKBOOK = workbook_bytes({name: MINI[name] for name in TABLES}, 1)


WORKBOOK_PARTS = zipfile.ZipFile(io.BytesIO(VALID_WORKBOOK)).namelist()


@st.composite
def damaged_workbooks(draw) -> bytes:
    """A valid workbook with bytes changed, cut short, or one XML part of it spoiled."""
    how = draw(st.sampled_from(["octets", "coupe", "partie"]))
    if how != "partie":
        data = bytearray(VALID_WORKBOOK)
        for position, value in draw(st.lists(st.tuples(index, st.integers(0, 255)), max_size=8)):
            data[(position * 7919) % len(data)] = value
        cut = draw(st.integers(4, len(data))) if how == "coupe" else len(data)
        return bytes(data[:cut])
    spoiled = draw(st.sampled_from(WORKBOOK_PARTS))
    source = zipfile.ZipFile(io.BytesIO(VALID_WORKBOOK))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == spoiled:
                start = draw(st.integers(0, len(content)))
                end = draw(st.integers(start, len(content)))
                content = content[:start] + draw(st.binary(max_size=40)) + content[end:]
            target.writestr(name, content)
    return out.getvalue()


@PROPERTY
@given(
    role=st.sampled_from(TABLES),
    prefix=st.sampled_from(MAGIC),
    noise=st.binary(max_size=2_000),
    valid_start=st.integers(0, 400),
)
def test_raw_bytes_load_or_raise_validation_error(role, prefix, noise, valid_start):
    # Garbage, alone or after the beginning of a valid file, behind a format's magic bytes.
    data = prefix + MINI_BYTES[role][:valid_start] + noise
    check_load(_pair(role, data))


@PROPERTY
@given(role=st.sampled_from([*TABLES, "classeur"]), damaged=damaged_workbooks())
def test_damaged_workbooks_load_or_raise_validation_error(role, damaged):
    if role == "classeur":
        check_load({"classeur.xlsx": damaged})
    else:
        check_load(_pair(role, damaged, "xlsx"))


# --- extra columns are kept aside -----------------------------------------------------

CODE_COLUMNS = [
    code_column(question, code)
    for question in ("communication_canaux", "contrats")
    for code in CATALOG.by_column[question].codes
]
extra_headers = st.one_of(
    st.sampled_from(CODE_COLUMNS),
    st.sampled_from(["_ligne", "_colonne_1", "Commentaire", "repondant", "annee_debut"]),
    st.text(st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="\ufeff")),
)


@functools.cache
def mini_dataset() -> Dataset:
    return load(DataSource.from_options(MINI_DIR / "structures.csv", MINI_DIR / "reponses.csv"))


@settings(PROPERTY, max_examples=50)
@given(role=st.sampled_from(TABLES), header=extra_headers, value=st.sampled_from(["", "x", "1"]))
@example("reponses", "communication_canaux:site_internet", "x")  # once overwrote parsed codes
def test_an_extra_column_does_not_change_the_loaded_data(role, header, value):
    taken = {normalise(h) for h in MINI[role][0]}
    if not normalise(header) or normalise(header) in taken:
        return  # a duplicate or empty header is an error of its own, tested elsewhere
    rows = [[*MINI[role][0], header]] + [[*row, value] for row in MINI[role][1:]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    other = "reponses" if role == "structures" else "structures"
    with tempfile.TemporaryDirectory() as folder:
        files = {role: Path(folder) / f"{role}.csv", other: Path(folder) / f"{other}.csv"}
        files[role].write_text(buffer.getvalue(), encoding="utf-8")
        files[other].write_bytes(MINI_BYTES[other])
        dataset = load(DataSource.from_options(files["structures"], files["reponses"]))
    reference = mini_dataset()
    for name in ("structures", "responses"):
        mine, theirs = getattr(dataset, name), getattr(reference, name)
        assert mine[list(theirs.columns)].equals(theirs), (name, header)
