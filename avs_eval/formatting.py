"""Every figure a reader sees, formatted in one place: one value, one rounding, everywhere.

A committee compares the HTML report, its PDF, the map labels and the workbook side by
side; a share must read the same in all of them. Until this module each output rounded
on its own (`f"{x * 100:.0f}"`, which rounds halves to even on the binary float: 5/8 read
« 62 % » in the report and « 63 % » in Excel). The rule here is French practice and
Excel's: **halves are rounded away from zero, on the value as a decimal number**.

Excel does not round the binary float either: it first turns the stored double into its
decimal form with 15 significant digits (what the cell shows with a General format), then
rounds that decimal half away from zero for the cell's format. So 0.285, stored as
0.28499999999999998, reads « 29 % » in Excel, and `=ROUND(2.675; 2)` gives 2,68. Rounding
`x * 100` as a float would say 28 (0.285 * 100 == 28.499999999999996): adding a tiny
epsilon is no fix either, it moves the error to other values. We do what Excel does:
`_exact` reads a float through its 15-significant-digit decimal form, and the rounding
is done on that exact decimal (a `Fraction`), so the HTML, the PDF and the XLSX agree.
Counts given as a `Fraction` (numerator / denominator) are rounded exactly.

Typography follows the Imprimerie nationale's rules, as the reports did already: a
narrow no-break space (U+202F) before « % » and between thousands, the true minus sign
(U+2212) for negative changes, a decimal comma, « – » for a figure that does not exist.
Nothing here wraps: the spaces inside a figure or an interval are no-break spaces, and
`no_wrap_html` keeps a longer piece together on the page.

The Excel number formats at the end show the same text in the workbook. Excel's own
fonts may lack U+202F, so they use the ordinary no-break space (U+00A0) instead: the
reader sees the same figure and the same spacing.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction
from numbers import Real

# --- typography ------------------------------------------------------------------------

NNBSP = "\u202f"  # narrow no-break space: « 62 % », « 1 234 », « [71 % ; 96 %] »
NBSP = "\u00a0"  # no-break space: after « ; » in an interval, « n = 8 »
MINUS = "\u2212"  # the minus sign, not the hyphen: « −3 pts »
MISSING = "–"  # en dash: a figure that does not exist (no answer, question not asked)
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Significant digits Excel keeps when it shows a number (IEEE double → decimal).
EXCEL_DIGITS = 15
P_VALUE_CLASSES: tuple[tuple[float, str], ...] = (
    (0.001, "<" + NNBSP + "0,001"),
    (0.01, "<" + NNBSP + "0,01"),
    (0.05, "<" + NNBSP + "0,05"),
)
P_VALUE_NOT_SIGNIFICANT = "≥" + NNBSP + "0,05"

Number = Real | Decimal | Fraction


# --- the exact value and its rounding ----------------------------------------------------


def is_missing(value: object) -> bool:
    """None, NaN, pandas' NA / NaT: a figure that does not exist, shown « – ».

    Kept free of pandas so that the module loads anywhere (a map's alt text, the CLI).
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN (float, numpy), NaT
    except (TypeError, ValueError):  # pandas.NA refuses bool(): it is missing
        return True


def _exact(value: Number) -> Fraction:
    """The value as Excel reads it: a float through its 15-significant-digit decimal.

    A Fraction, an int or a Decimal is already exact and kept as it is; a float (or a
    numpy float) is the binary neighbour of a decimal number, and this recovers that
    decimal (0.28499999999999998 → 0.285), as Excel does before it formats a cell.
    """
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        return Fraction(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return Fraction(Decimal(format(number, f".{EXCEL_DIGITS}g")))


def round_half_away(value: Number, decimals: int = 0, scale: int = 1) -> Decimal:
    """`value * scale` rounded to `decimals` places, halves away from zero, exactly.

    `scale` = 100 turns a share into a percent (or a change into points) before the
    rounding, on the exact value: 5/8 → 63, 0.285 → 29, −0.625 → −63.
    """
    exact = _exact(value) * scale * 10**decimals
    magnitude = math.floor(abs(exact) + Fraction(1, 2))
    whole = magnitude if exact >= 0 else -magnitude
    return Decimal(whole).scaleb(-decimals)


def percent_value(share: Number) -> int:
    """The whole percent a reader sees for a share (0.625 → 63): what tests compare."""
    return int(round_half_away(share, 0, 100))


def points_value(change: Number) -> int:
    """The whole number of points a reader sees for a change of shares (0.625 → 63)."""
    return int(round_half_away(change, 0, 100))


def decimal_comma(value: Number, decimals: int) -> str:
    """A number with a decimal comma and `decimals` places, halves away from zero."""
    text = f"{round_half_away(value, decimals):f}"
    return text.replace("-", MINUS).replace(".", ",")


def seconds(value: float, decimals: int = 1) -> str:
    """A duration for the terminal and the journal: « 12,3 s »."""
    return f"{decimal_comma(value, decimals)} s"


def megabytes(size: int) -> str:
    """A size on disk or in memory, in mebibytes as Windows counts them (« Mo »): one
    decimal under 10 Mo, where it tells (« 0,4 Mo »), none above (« 64 Mo »,
    « 1 536 Mo »)."""
    value = Fraction(max(size, 0), 2**20)
    if round_half_away(value, 1) < 10:
        return f"{decimal_comma(value, 1)} Mo"
    return f"{count(value)} Mo"


# --- shares, changes, counts ---------------------------------------------------------------


def percentage(share: Number | None) -> str:
    """A share as French readers and Excel show it: 0.625 → « 63 % » (U+202F before %).

    « – » when there is no figure (nothing to divide: no structure answered).
    """
    if is_missing(share):
        return MISSING
    value = percent_value(share)
    return f"{MINUS if value < 0 else ''}{abs(value)}{NNBSP}%"


def points(change: Number | None) -> str:
    """A change of shares in whole points: « +63 pts », « −3 pts », « +1 pt », « 0 pt ».

    The sign is always written (a change reads as one), with the true minus sign; a
    change that rounds to zero has none (« −0 » would announce a fall nobody can see).
    « pt » stays singular under 2, as French has it (the reports already wrote so).
    """
    if is_missing(change):
        return MISSING
    value = points_value(change)
    sign = "+" if value > 0 else MINUS if value < 0 else ""
    unit = "pts" if abs(value) >= 2 else "pt"
    return f"{sign}{abs(value)}{NNBSP}{unit}"


def count(number: Number | None) -> str:
    """A count with its thousands apart: 12345 → « 12 345 » (U+202F, never wrapped)."""
    if is_missing(number):
        return MISSING
    value = int(round_half_away(number))
    text = f"{abs(value):,}".replace(",", NNBSP)
    return (MINUS if value < 0 else "") + text


def plural(number: int, singular: str, plural_form: str | None = None) -> str:
    """The form that agrees with `number`: singular for 0 and 1, as French has it.

    A single word takes an « s » unless it ends in s, x or z (« cible » → « cibles »);
    a phrase needs its `plural_form` (« centre social » → « centres sociaux », « espace de
    vie sociale » → « espaces de vie sociale »): no rule guesses those right.
    """
    if abs(number) < 2:
        return singular
    if plural_form is not None:
        return plural_form
    if " " in singular or "'" in singular:
        raise ValueError(f"give the plural of « {singular} »")
    return singular if singular[-1:] in ("s", "x", "z") else singular + "s"


def counted(number: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 structure agréée », « 3 structures agréées », « aucune … » is the caller's."""
    return f"{count(number)} {plural(number, singular, plural_form)}"


def interval(low: Number | None, high: Number | None) -> str:
    """A 95 % interval: « [71 % ; 96 %] », with no-break spaces so that it never wraps.

    French puts a narrow no-break space before « ; »; the space after it is a no-break
    one too, because a PDF line must never break in the middle of an interval.
    """
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"[{percentage(low)}{NNBSP};{NBSP}{percentage(high)}]"


def share_detail(low: Number | None, high: Number | None, n: int | None) -> str:
    """What a share cell shows under its percentage: « [40 % ; 85 %] · n = 8 »."""
    return f"{interval(low, high)} ·{NBSP}n{NBSP}={NBSP}{count(n)}"


def fraction(numerator: int | None, denominator: int | None) -> str:
    """A share as its counts, for the internal edition: « 3/4 » (« – » without counts)."""
    if is_missing(numerator) or is_missing(denominator):
        return MISSING
    return f"{int(numerator)}/{int(denominator)}"


# --- p-values -------------------------------------------------------------------------------


def _p_digits(p: Number) -> str:
    """0.0312 → « 0,031 », 0.45 → « 0,45 », 1 → « 1,0 »: three decimals under 0,1, two
    above, trailing zeros dropped down to one decimal (Excel's `0.0##` / `0.0#`)."""
    decimals = 3 if _exact(p) < Fraction(1, 10) else 2
    text = decimal_comma(p, decimals).rstrip("0")
    return text + "0" if text.endswith(",") else text


def p_value(p: Number | None) -> str:
    """A test's p-value as a sentence writes it: « p < 0,001 », « p = 0,03 »."""
    if is_missing(p):
        return MISSING
    if _exact(p) < Fraction(1, 1000):
        return f"p{NNBSP}<{NNBSP}0,001"
    return f"p{NNBSP}={NNBSP}{_p_digits(p)}"


def p_value_number(p: Number | None) -> str:
    """A p-value in a table column headed « p-valeur »: « < 0,001 », « 0,03 »."""
    if is_missing(p):
        return MISSING
    if _exact(p) < Fraction(1, 1000):
        return f"<{NNBSP}0,001"
    return _p_digits(p)


def p_value_class(p: Number | None) -> str:
    """The p-value's class, as published evolutions give it (issue 24).

    « < 0,001 », « < 0,01 », « < 0,05 » or « ≥ 0,05 »: a class says what the test
    concludes, and unlike the exact value it cannot be decoded back to the paired counts.
    """
    if is_missing(p):
        return MISSING
    exact = _exact(p)
    for bound, label in P_VALUE_CLASSES:
        if exact < _exact(bound):
            return label
    return P_VALUE_NOT_SIGNIFICANT


# --- dates ------------------------------------------------------------------------------


def date_short(day: dt.date | dt.datetime) -> str:
    """« 02/12/2026 », the form of the reports' provenance line."""
    return day.strftime("%d/%m/%Y")


def date_long(day: dt.date | dt.datetime) -> str:
    """« 2 décembre 2026 », « 1er mars 2026 »: French, whatever the machine's locale."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first}{NBSP}{MONTHS[day.month - 1]} {day.year}"


# --- keeping a figure together -------------------------------------------------------------


def no_wrap(text: str) -> str:
    """The text with every ordinary space made a no-break one, so it never wraps.

    For a figure built elsewhere (« 3 structures sur 8 »): a line may break before or
    after it, never inside it. Narrow spaces are kept as they are.
    """
    return text.replace(" ", NBSP)


def no_wrap_html(html_text: str) -> str:
    """An HTML fragment (already escaped) held on one line: Chromium's PDF and the page
    break around it, never inside, even where it holds a tag or a breakable character."""
    return f'<span class="nowrap" style="white-space:nowrap">{html_text}</span>'


# --- the same figures in a workbook -----------------------------------------------------
# Excel format codes are written with "." and "," as in the file format; a French Excel
# shows them as its decimal comma and thousands space. Literal text is quoted.

EXCEL_PERCENT = f'0"{NBSP}"%'  # 0.625 → 63 % (Excel rounds as `percentage`)
EXCEL_POINTS = f'"+"0"{NBSP}pts";"{MINUS}"0"{NBSP}pts";0"{NBSP}pt"'  # cell in points: 17 → +17 pts
EXCEL_COUNT = "#,##0"  # 12345 → 12 345
EXCEL_SHARE_DECIMALS = "0.0000"  # a share as a number (CSV-like sheets)
EXCEL_P_VALUE = f'[<0.001]"<{NBSP}0,001";[<0.1]0.0##;0.0#'  # as `p_value_number`
EXCEL_TEXT = "@"


def points_number(change: Number | None) -> int | None:
    """The cell value under EXCEL_POINTS: the change in whole points, rounded as `points`.

    Excel's format can show a number in points only if the cell holds points (a « % »
    in a format multiplies by 100 and prints « % »). The whole number is stored so that
    the workbook cannot read « −0 pts » where the report reads « 0 pt ».
    """
    return None if is_missing(change) else points_value(change)
