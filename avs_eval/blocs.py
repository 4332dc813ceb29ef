"""The building blocks of a page: a share, a table, a chart, plain text in Markdown.

The reports (`report`, `synthese`) and the explorer show their figures through these
few functions, so that a share reads the same everywhere ("62 %", « s » when masked)
and data typed by hand can never inject HTML or Markdown. Nothing here reads data:
each function turns values it is given into something Jupyter displays.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pandas as pd
from IPython.display import HTML, Image

from avs_eval import figures
from avs_eval.secrecy import MASK, SECRET_SYMBOL

NBSP = "\u00a0"


def pct(value: float) -> str:
    """A share as a whole percentage, French style: "62 %"."""
    return f"{value * 100:.0f}{NBSP}%"


def share_cell(row: pd.Series | None, with_interval: bool = True) -> str:
    """One share as HTML: "62 %" over its interval and n, or "s" when masked."""
    if row is None:
        return "–"
    if row[MASK]:
        return SECRET_SYMBOL
    if pd.isna(row["part"]):
        return "–"
    text = pct(row["part"])
    if with_interval:
        text += (
            f"<br><small>[{pct(row['ic_bas'])} ; {pct(row['ic_haut'])}]"
            f" · n{NBSP}={NBSP}{int(row['denominateur'])}</small>"
        )
    return text


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
    return dt.date.today().strftime("%d/%m/%Y")
