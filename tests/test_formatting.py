"""One figure, one rounding: the formatting module every output goes through (issue 23)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from avs_eval import formatting as fmt

N = fmt.NNBSP  # narrow no-break space
B = fmt.NBSP  # no-break space
M = fmt.MINUS


# --- the rounding rule: halves away from zero, on the decimal value -----------------------


@pytest.mark.parametrize(
    ("share", "percent"),
    [
        (5 / 8, 63),  # 62.5: the old f"{x*100:.0f}" gave 62 (half to even)
        (1 / 8, 13),  # 12.5: was 12
        (0.625, 63),
        (3 / 8, 38),  # 37.5: to even would give 38 too; away from zero as well
        (0.285, 29),  # 0.285 * 100 == 28.499999999999996 as floats; Excel shows 29 %
        (0.145, 15),  # 14.499999999999998 as floats
        (1 / 3, 33),
        (2 / 3, 67),
        (0, 0),
        (0.0, 0),
        (1, 100),
        (0.004, 0),
        (0.005, 1),
        (Fraction(5, 8), 63),
        (Fraction(57, 200), 29),
        (Decimal("0.285"), 29),
        (np.float64(5 / 8), 63),
        (np.int64(1), 100),
    ],
)
def test_percent_value_rounds_halves_away_from_zero(share, percent):
    assert fmt.percent_value(share) == percent
    assert fmt.percentage(share) == f"{percent}{N}%"


def test_the_old_rounding_was_wrong_on_these_values():
    """What the reports printed before: the test that fails on f-string rounding."""
    old = {x: f"{x * 100:.0f}" for x in (5 / 8, 1 / 8, 0.285)}
    assert old == {5 / 8: "62", 1 / 8: "12", 0.285: "28"}
    assert [fmt.percent_value(x) for x in old] == [63, 13, 29]


def test_rounding_follows_the_15_digit_decimal_as_excel_does():
    """Excel turns a double into 15 significant digits before it rounds for display:
    =ROUND(2.675; 2) is 2,68, though the double is 2.674999999999999822…"""
    assert Fraction(2.675) < Fraction("2.675")
    assert fmt.round_half_away(2.675, 2) == Decimal("2.68")
    assert fmt.round_half_away(-2.675, 2) == Decimal("-2.68")
    assert fmt.round_half_away(0.285, 0, 100) == 29
    # A genuine 28.4999 stays 28: only float noise below the 15th digit is read through.
    assert fmt.percent_value(0.284999) == 28


@pytest.mark.parametrize(
    ("change", "text", "value"),
    [
        (0.625, f"+63{N}pts", 63),
        (0.17, f"+17{N}pts", 17),
        (0.09, f"+9{N}pts", 9),
        (-0.03, f"{M}3{N}pts", -3),
        (-0.625, f"{M}63{N}pts", -63),  # away from zero, not up
        (-0.125, f"{M}13{N}pts", -13),
        (0.285, f"+29{N}pts", 29),
        (0.01, f"+1{N}pt", 1),
        (-0.01, f"{M}1{N}pt", -1),
        (0, f"0{N}pt", 0),
        (-0.004, f"0{N}pt", 0),  # never « −0 »
        (5 / 8 - 1 / 4, f"+38{N}pts", 38),
    ],
)
def test_points(change, text, value):
    assert fmt.points(change) == text
    assert fmt.points_value(change) == value
    assert fmt.points_number(change) == value


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_a_missing_figure_is_a_dash_as_in_the_reports(missing):
    assert fmt.is_missing(missing)
    for function in (fmt.percentage, fmt.points, fmt.count, fmt.p_value, fmt.p_value_class):
        assert function(missing) == "–"
    assert fmt.interval(missing, 0.5) == "–"
    assert fmt.fraction(missing, 4) == "–"
    assert fmt.points_number(missing) is None


def test_present_values_are_not_missing():
    for value in (0, 0.0, "", "s", Fraction(0), np.int64(0)):
        assert not fmt.is_missing(value)


def test_infinity_is_refused_rather_than_printed():
    with pytest.raises(ValueError):
        fmt.percentage(math.inf)


# --- typography ---------------------------------------------------------------------------


def test_counts_have_narrow_thousands_separators():
    assert fmt.count(8) == "8"
    assert fmt.count(12345) == f"12{N}345"
    assert fmt.count(1234567) == f"1{N}234{N}567"
    assert fmt.count(np.int64(-1500)) == f"{M}1{N}500"
    assert fmt.count(8.0) == "8"


def test_interval_and_share_detail_never_wrap():
    assert fmt.interval(0.71, 0.96) == f"[71{N}%{N};{B}96{N}%]"
    text = fmt.share_detail(0.40, 0.85, 8)
    assert text == f"[40{N}%{N};{B}85{N}%] ·{B}n{B}={B}8"
    assert " " not in fmt.interval(0.005, 0.995)  # no ordinary (breakable) space
    assert " " not in text.split(" ·")[0]  # a line may break before « · n », not inside


def test_fraction_for_the_internal_edition():
    assert fmt.fraction(3, 4) == "3/4"
    assert fmt.fraction(np.int64(3), 4.0) == "3/4"


def test_seconds_and_megabytes_read_french():
    assert fmt.seconds(12.345) == "12,3 s" and fmt.seconds(0.05) == "0,1 s"
    assert fmt.megabytes(0) == "0,0 Mo" and fmt.megabytes(-5) == "0,0 Mo"
    assert fmt.megabytes(512 * 1024) == "0,5 Mo"  # a decimal comma, as Windows writes it
    assert fmt.megabytes(int(9.94 * 2**20)) == "9,9 Mo"
    assert fmt.megabytes(int(9.96 * 2**20)) == "10 Mo"  # not « 10,0 »
    assert fmt.megabytes(64 * 2**20) == "64 Mo"
    assert fmt.megabytes(int(1.5 * 2**30)) == f"1{fmt.NNBSP}536 Mo"


def test_decimal_comma():
    assert fmt.decimal_comma(0.625, 4) == "0,6250"
    assert fmt.decimal_comma(0.12345, 4) == "0,1235"
    assert fmt.decimal_comma(-0.5, 0) == f"{M}1"


# --- p-values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "sentence", "number", "category"),
    [
        (7.66013e-07, f"p{N}<{N}0,001", f"<{N}0,001", f"<{N}0,001"),
        (0.0009999, f"p{N}<{N}0,001", f"<{N}0,001", f"<{N}0,001"),
        (0.001, f"p{N}={N}0,001", "0,001", f"<{N}0,01"),
        (0.0062, f"p{N}={N}0,006", "0,006", f"<{N}0,01"),
        (0.03, f"p{N}={N}0,03", "0,03", f"<{N}0,05"),
        (0.0312, f"p{N}={N}0,031", "0,031", f"<{N}0,05"),
        (0.0625, f"p{N}={N}0,063", "0,063", f"≥{N}0,05"),  # 0,0625: half away from zero
        (0.05, f"p{N}={N}0,05", "0,05", f"≥{N}0,05"),
        (0.45, f"p{N}={N}0,45", "0,45", f"≥{N}0,05"),
        (1.0, f"p{N}={N}1,0", "1,0", f"≥{N}0,05"),
    ],
)
def test_p_values(p, sentence, number, category):
    assert fmt.p_value(p) == sentence
    assert fmt.p_value_number(p) == number
    assert fmt.p_value_class(p) == category


def test_the_p_value_classes_are_the_four_of_issue_24():
    classes = {fmt.p_value_class(p) for p in np.linspace(0, 1, 2001)}
    assert classes == {f"<{N}0,001", f"<{N}0,01", f"<{N}0,05", f"≥{N}0,05"}


# --- dates and wrapping --------------------------------------------------------------------


def test_dates():
    assert fmt.date_short(dt.date(2026, 12, 2)) == "02/12/2026"
    assert fmt.date_long(dt.date(2026, 12, 2)) == f"2{B}décembre 2026"
    assert fmt.date_long(dt.datetime(2026, 3, 1, 14, 5)) == f"1er{B}mars 2026"
    assert fmt.date_long(dt.date(2025, 8, 15)) == f"15{B}août 2025"


def test_no_wrap():
    assert fmt.no_wrap("3 structures sur 8") == f"3{B}structures{B}sur{B}8"
    html = fmt.no_wrap_html("63&nbsp;%")
    assert html.startswith("<span") and "white-space:nowrap" in html and "63&nbsp;%" in html


# --- the workbook's formats say the same thing -------------------------------------------------


def test_excel_formats():
    assert fmt.EXCEL_PERCENT.endswith("%") and fmt.EXCEL_PERCENT.startswith("0")
    positive, negative, zero = fmt.EXCEL_POINTS.split(";")
    assert positive == f'"+"0"{B}pts"' and negative == f'"{M}"0"{B}pts"'
    assert zero == f'0"{B}pt"'
    assert fmt.EXCEL_P_VALUE.startswith("[<0.001]")
    assert fmt.EXCEL_COUNT == "#,##0"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 structure agréée"),
        (1, "1 structure agréée"),
        (2, "2 structures agréées"),
        (60, "60 structures agréées"),
        (12345, "12\u202f345 structures agréées"),  # thousands apart, as every count
    ],
)
def test_plural_agrees_french_style(count, expected):
    assert fmt.counted(count, "structure agréée", "structures agréées") == expected


def test_plural_keeps_words_ending_in_s_x_z_and_takes_an_explicit_form():
    assert fmt.plural(3, "prix") == "prix"
    assert fmt.plural(2, "cible") == "cibles"
    assert fmt.plural(2, "centre social", "centres sociaux") == "centres sociaux"
    with pytest.raises(ValueError):  # no guess at a phrase: « espaces de vies sociales »
        fmt.plural(2, "espace de vie sociale")
    assert fmt.plural(2, "n'a pas répondu", "n'ont pas répondu") == "n'ont pas répondu"
    assert fmt.plural(1, "n'a pas répondu", "n'ont pas répondu") == "n'a pas répondu"
