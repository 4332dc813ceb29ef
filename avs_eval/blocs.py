"""The building blocks of a page: a share, a table, a chart, plain text in Markdown.

The reports (`report`, `synthese`) and the explorer show their figures through these
few functions, so that a share reads the same everywhere (« 63 % », « s » when masked)
and data typed by hand can never inject HTML or Markdown. Every figure is written by
`formatting` (one rounding, French typography); nothing here rounds on its own. Nothing
here reads data: each function turns values it is given into something Jupyter displays.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pandas as pd
from IPython.display import HTML, Image

from avs_eval import figures, formatting
from avs_eval.secrecy import MASK, SECRET_SYMBOL

NBSP = formatting.NBSP
MISSING = formatting.MISSING
# What the internal edition writes beside a figure the partners' edition masks.
NOT_FOR_RELEASE = "non diffusable"
NOT_FOR_RELEASE_CLASS = "avs-non-diffusable"


def share_cell(row: pd.Series | None, with_interval: bool = True, interne: bool = False) -> str:
    """One share as HTML: « 63 % » over « [40 % ; 85 %] · n = 8 », or « s » when masked.

    The internal edition shows what the partners' edition masks, marked so that nobody
    copies it into a published document: « 3/4 » over « 75 % · non diffusable ».
    """
    if row is None:
        return MISSING
    if pd.isna(row["part"]):  # no structure to count: the internal edition says so
        return SECRET_SYMBOL if row[MASK] and not interne else MISSING
    if row[MASK]:
        if not interne:
            return SECRET_SYMBOL
        return not_for_release(
            formatting.fraction(row["numerateur"], row["denominateur"]),
            formatting.percentage(row["part"]),
        )
    text = formatting.percentage(row["part"])
    if with_interval:
        detail = formatting.share_detail(row["ic_bas"], row["ic_haut"], row["denominateur"])
        text += f"<br><small>{formatting.no_wrap_html(html.escape(detail))}</small>"
    return text


def not_for_release(figure: str, detail: str = "") -> str:
    """A figure the partners' edition masks, as the internal edition shows it (HTML)."""
    mark = f"{detail} · {NOT_FOR_RELEASE}" if detail else NOT_FOR_RELEASE
    return (
        f'<span class="{NOT_FOR_RELEASE_CLASS}">{html.escape(figure)}<br>'
        f"<small>{formatting.no_wrap_html(html.escape(formatting.no_wrap(mark)))}</small></span>"
    )


def count_cell(row: pd.Series | None, column: str = "numerateur", interne: bool = False) -> str:
    """A count that goes with a share (respondents): masked with it, or marked internal."""
    if row is None:
        return MISSING
    if row[MASK]:
        return not_for_release(formatting.count(row[column])) if interne else SECRET_SYMBOL
    return formatting.count(row[column])


def without_secret_columns(
    header: list[str], body: list[list[str]], first: int = 1
) -> tuple[list[str], list[list[str]], list[str]]:
    """The table without its columns (from `first` on) whose every cell is « s » or « – ».

    Returns the header, the body and the names of the columns left out, for the
    sentence that says why they are not there.
    """
    keep, dropped = [], []
    for index, name in enumerate(header):
        column = [cells[index] for cells in body]
        if index >= first and all_secret([column], first=0) and SECRET_SYMBOL in column:
            dropped.append(name)
        else:
            keep.append(index)
    return (
        [header[i] for i in keep],
        [[cells[i] for i in keep] for cells in body],
        dropped,
    )


def all_secret(body: list[list[str]], first: int = 1) -> bool:
    """Whether every figure of a table (from column `first` on) reads « s » or « – ».

    Such a table tells a reader nothing: the reports replace it with one sentence.
    """
    cells = [cell for cells in body for cell in cells[first:]]
    return bool(cells) and all(cell in (SECRET_SYMBOL, MISSING) for cell in cells)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md(text: object) -> str:
    """Data shown inside Markdown as plain text: no HTML, no Markdown formatting.

    Names and answers come from files filled by hand; a structure called
    "<script>…" must read as those characters, never run.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(str(text), quote=False))


def code(text: object) -> str:
    """A file name, a setting or a fingerprint, escaped, in a `<code>` span."""
    return f"<code>{html.escape(str(text))}</code>"


def html_table(header: list[str], body: list[list[str]], escape_body: bool = False) -> HTML:
    """A plain HTML table; header cells are always escaped, body cells when asked."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = []
    for cells in body:
        tds = []
        for cell in cells:
            text = html.escape(cell) if escape_body else cell
            css = ' class="s"' if cell == SECRET_SYMBOL else ""
            tds.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def chart(figure) -> Image:
    """The chart as an embedded PNG, described for screen readers.

    A map carries a longer description (`alt_text`: its title and the value of each
    territory); a chart is described by its title.
    """
    alt = getattr(figure, "alt_text", None) or figures.title_of(figure)
    return Image(data=figures.png(figure), format="png", alt=alt)


def today() -> str:
    """The day a report is made, as French readers write it (31/01/2026)."""
    return formatting.date_short(dt.date.today())
