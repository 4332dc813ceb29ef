"""A printed report's pages read as a reader sees them: what each ends with, how full it is.

Used by the PDF tests (`test_pdf.py`) and handy by hand:

    python tests/pdf_layout.py outputs/2025/lyon/rapport.pdf [...]

says, for each PDF beside its HTML page, the pages that end with a heading or its
introduction (its first block is on the next page), the pages less than a fifth full
other than the last, and the intervals cut at a line's end.

What a page ends with is read from its text (`pdftotext -layout`, one page at a time);
how full it is from the page itself, drawn in grey at low resolution (`pdftoppm`): a page
can be full of a chart that has no text.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

# A4 at RESOLUTION dpi; the page's margins (avs_eval.pdf.MARGINS) hold the running header
# and footer, not the report
RESOLUTION = 30
MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 17, 16
PAGE_MM = 297
INK = 200  # a grey level darker than this is drawn (0 black, 255 white)
MIN_FULL = 0.2  # a page other than the last is at least a fifth full
DRAWN_BELOW = 0.03  # drawn this far below the last line of text: a chart (8 mm), not a rule
# what ends an introduction: the block it introduces
BLOCKS = {"table", "img", "ul", "ol", "figure", "svg"}
HEADINGS = ("h1", "h2", "h3", "h4")
INTERVAL = re.compile(r"\[\d+ % ; \d+ %\]")


def _plain(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("¶", " ")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Opening:
    """A heading and the paragraphs that introduce its first block."""

    heading: str
    introduction: str  # empty when the heading is directly followed by a block

    @property
    def text(self) -> str:
        return f"{self.heading} {self.introduction}".strip()


def openings(page: Path) -> list[Opening]:
    """Each heading of an HTML report with its introduction (the paragraphs up to a block).

    A heading followed by paragraphs only, up to the next heading (« Méthode »), has
    these paragraphs as its content, not an introduction: only the heading must not end
    a page.
    """
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["style", "script", "title", "head"]):
        hidden.decompose()
    found: list[Opening] = []
    elements = soup.find_all([*HEADINGS, "p", *BLOCKS])
    for i, element in enumerate(elements):
        if element.name not in HEADINGS:
            continue
        paragraphs: list[str] = []
        introduced = False
        for following in elements[i + 1 :]:
            if following.name in HEADINGS:
                break
            if following.name in BLOCKS:
                introduced = True
                break
            text = _plain(html.unescape(following.get_text(" ")))
            if text and not following.find_parent(list(BLOCKS)):
                paragraphs.append(text)
        heading = _plain(html.unescape(element.get_text(" ")))
        found.append(Opening(heading, " ".join(paragraphs) if introduced else ""))
    return found


def page_count(document: Path) -> int:
    done = subprocess.run(["pdfinfo", str(document)], capture_output=True, check=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M)[1])


def page_lines(document: Path, number: int) -> list[str]:
    """A page's lines of text, as `pdftotext -layout` reads them, the running header and
    footer left out."""
    pages = ["-f", str(number), "-l", str(number)]
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", *pages, str(document), "-"],
        capture_output=True,
        check=True,
    )
    lines = [_plain(line) for line in done.stdout.decode("utf-8").splitlines()]
    lines = [line for line in lines if line]
    if lines and re.fullmatch(r"page \d+ / \d+", lines[-1]):
        lines = lines[:-1]
    return lines[1:] if lines else lines  # the header: the report's title


def _body(height: float) -> tuple[float, float]:
    """Where the report is drawn on a page `height` high: between header and footer."""
    return height * MARGIN_TOP_MM / PAGE_MM, height * (1 - MARGIN_BOTTOM_MM / PAGE_MM)


def lowest_ink(document: Path) -> list[float]:
    """Each page's lowest thing drawn (text, chart, rule), as a share of the page's height
    from the top of its body; 0 for an empty page."""
    done = subprocess.run(
        ["pdftoppm", "-gray", "-r", str(RESOLUTION), str(document)],
        capture_output=True,
        check=True,
    )
    data, shares = done.stdout, []
    while data:
        # one binary PGM per page: P5, width, height, maximum, then the pixels
        header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        width, height = int(header[1]), int(header[2])
        pixels = data[header.end() : header.end() + width * height]
        data = data[header.end() + width * height :]
        top, bottom = (round(edge) for edge in _body(height))
        lowest = top
        for row in range(top, bottom):
            if min(pixels[row * width : (row + 1) * width]) < INK:
                lowest = row + 1
        shares.append((lowest - top) / (bottom - top))
    return shares


def lowest_text(document: Path) -> list[float]:
    """Each page's lowest line of text, as `lowest_ink` measures it."""
    done = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(document), "-"], capture_output=True, check=True
    )
    shares = []
    for page in re.finditer(
        r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', done.stdout.decode(), re.S
    ):
        top, bottom = _body(float(page[1]))
        ends = [float(y) for y in re.findall(r'yMax="([\d.]+)"', page[2])]
        ends = [y for y in ends if top < y < bottom]
        shares.append((max(ends, default=top) - top) / (bottom - top))
    return shares


def _ends_with(lines: list[str], opening: Opening) -> bool:
    """Whether the page's last line is part of this heading or of its introduction."""
    if not lines:
        return False
    last = lines[-1]
    if last == opening.heading:
        return True
    # the line above it is part of the same text too (a table's cell may repeat a few words
    # of a heading or an introduction)
    return last in opening.text and (len(lines) == 1 or f"{lines[-2]} {last}" in opening.text)


def faults(document: Path, page: Path) -> list[str]:
    """What is wrong with the PDF's pages, in words; empty when nothing is."""
    found = []
    heads = openings(page)
    count = page_count(document)
    shares, texts = lowest_ink(document), lowest_text(document)
    for number in range(1, count + 1):
        lines = page_lines(document, number)
        # a chart drawn under the last line of text: the page ends with the chart
        charted = shares[number - 1] - texts[number - 1] > DRAWN_BELOW
        ended = [] if charted else [o.heading for o in heads if _ends_with(lines, o)]
        if ended and number < count:
            found.append(f"{document.name} page {number} finit par « {ended[0]} »")
        if number < count and shares[number - 1] < MIN_FULL:
            found.append(
                f"{document.name} page {number} remplie à {shares[number - 1]:.0%} seulement"
            )
        for line in lines:
            cut = re.search(r"\[\d+ % ;$|^\d+ %\]", line)
            if cut:
                found.append(f"{document.name} page {number} : intervalle coupé « {line} »")
    return found


def intervals_whole(document: Path, page: Path) -> list[str]:
    """The page's intervals that no line of the PDF prints whole."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["style", "script", "title", "head"]):
        hidden.decompose()
    shown = set(INTERVAL.findall(_plain(soup.get_text(" "))))
    lines = {
        line
        for number in range(1, page_count(document) + 1)
        for line in page_lines(document, number)
    }
    text = "\n".join(lines)
    return sorted(interval for interval in shown if interval not in text)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        document = Path(argument)
        page = document.with_name(document.name.replace("-interne", "").replace(".pdf", ".html"))
        if not page.exists():
            page = document.with_suffix(".html")
        problems = faults(document, page) + [
            f"{document.name} : intervalle coupé {interval}"
            for interval in intervals_whole(document, page)
        ]
        shares = " ".join(f"{share:.0%}" for share in lowest_ink(document))
        print(f"{document} ({page_count(document)} pages : {shares})")
        for problem in problems:
            print("  ", problem)
