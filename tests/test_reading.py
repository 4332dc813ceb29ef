"""The fast CSV reader (pandas' C parser) gives exactly what the csv module gives.

`reading._csv_frame` reads a file with pandas when it can do so as Python's csv module
(strict) would, and otherwise falls back to the csv module. Whatever the text, the
table read (cells, spreadsheet row numbers, headers) or the finding raised must be the
same by both roads: the messages of `avs-eval valider` do not depend on the road.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from avs_eval import paths
from avs_eval.errors import ValidationError
from avs_eval.reading import (
    ReadFailure,
    _csv_frame,
    _csv_rows,
    _decode,
    _frame_to_table,
    _no_inner_bom,
    _quoting_trouble,
    _rows_frame,
    _separator,
)

LABEL = "f.csv"
PROPERTY = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(read) -> tuple:
    try:
        table = read()
    except ReadFailure as failure:
        return ("échec", [failure.finding])
    except ValidationError as invalid:
        return ("invalide", invalid.errors)
    return ("table", table.frame, table.headers, table.header_line)


def exact(data: bytes):
    """The csv module, row by row: the reader before pandas, kept as the fallback."""
    text, _, _ = _decode(data, LABEL)
    _no_inner_bom(text, LABEL)
    rows = _csv_rows(text, _separator(text), LABEL)
    return _frame_to_table(*_rows_frame(rows), None, LABEL)


def fast(data: bytes):
    return _frame_to_table(*_csv_frame(data, LABEL), LABEL)


def assert_same(data: bytes) -> None:
    expected, got = outcome(lambda: exact(data)), outcome(lambda: fast(data))
    assert expected[0] == got[0], (data, expected, got)
    if expected[0] == "table":
        pd.testing.assert_frame_equal(got[1], expected[1])
        assert got[2:] == expected[2:]
    else:
        assert got[1] == expected[1]


CELLS = st.text(alphabet=list('ab ";,\n\r\té\xa0\u2009=1'), max_size=6)
HEADER = "structure_id;nom;type\n"


@PROPERTY
@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=6), st.booleans())
@example([["a", '"b\nc"', "d"]], True)
@example([['"a"b', "c"]], True)
@example([['"open', "c"]], False)
@example([["", ""], [" x ", "y"]], True)
def test_fast_and_exact_readers_agree_on_any_text(rows, semicolon):
    sep = ";" if semicolon else ","
    text = (HEADER if semicolon else HEADER.replace(";", ",")) + "\n".join(
        sep.join(cells) for cells in rows
    )
    for encoding in ("utf-8", "cp1252"):
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        assert_same(data)
        assert_same(b"\xef\xbb\xbf" + data if encoding == "utf-8" else data)


@pytest.mark.parametrize(
    "text",
    [
        "a;b\n1;2\n\n3;4\n",  # blank line: row numbers follow the spreadsheet
        'a;b\r\n"x\r\ny";2\r\n3;4\r\n',  # a cell on two lines is one row
        "a;b\r1;2\r",  # classic Mac line ends
        "a;b;\n1;2;\n",  # an empty last column
        "a;b\n1;2;3\n",  # a value too many
        'a;b\n"1"x;2\n',  # a character after a closing quote
        'a;b\n"1;2\n',  # a quote never closed
        "a;b\n  1 ; 2 \n",  # spaces around cells
        "a;b\n1\xa0;2\n",  # a no-break space
        "\n\na;b\n1;2\n",  # blank lines above the headers
    ],
)
def test_fast_and_exact_readers_agree_on_the_corners(text):
    assert_same(text.encode("utf-8"))


def test_plain_files_skip_the_careful_path():
    """No quote and no space at a cell's edge: cells used as read, a bound on their length."""
    _, lines, bound = _csv_frame(paths.SAMPLE_STRUCTURES.read_bytes(), LABEL)
    assert bound is not None and bound >= 10
    assert list(lines[:3]) == [1, 2, 3]
    for careful in ('a;b\n"x";y\n', "a;b\n x;y\n", "a;b\nx\t;y\n", "a;b\nx\xa0;y\n"):
        assert _csv_frame(careful.encode("utf-8"), LABEL)[2] is None, careful


def test_quoting_trouble_spots_what_the_csv_module_refuses():
    assert not _quoting_trouble(b"a;b\n1;2\n", ";")
    assert not _quoting_trouble(b'a;b\n"1;x";"2""y"\n', ";")
    assert not _quoting_trouble(b'a;b\n"a;""";y\n', ";")  # a cell « a;" »
    assert not _quoting_trouble(b'\xef\xbb\xbf"a";b\n"";"\n"\n', ";")
    assert _quoting_trouble(b'a;b\n"1"x;2\n', ";")
    assert _quoting_trouble(b'a;b\n"a;"""x;y\n', ";")  # inside a cell, after « ; »
    assert _quoting_trouble(b'a;b\n""x;y\n', ";")
    assert _quoting_trouble(b'a;b\n"1;2\n', ";")
    # a quote inside an unquoted cell is a character for both readers; the careful one reads it
    assert _quoting_trouble(b'a;b\nab"c;d\n', ";")
