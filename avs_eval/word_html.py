"""The published HTML page read back into Word's structure: headings, tables, pictures, lists.

The walker of `word.html_to_document`: it writes into a python-docx document what each
element of the page is (a heading as a heading style, a table as a Word table whose
header row repeats, a chart as a picture described by its alt text, « s » as the page
shows it). It reads only the page: nothing here computes a figure.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, replace

from avs_eval.word_styles import (
    BANNER_STYLE,
    CODE_STYLE,
    HEADINGS,
    LIST_STYLE,
    MASKED_COLOUR,
    QUOTE_STYLE,
    SMALL_COLOUR,
    TABLE_STYLE,
    TABLE_TEXT_STYLE,
    abstract_numbering,
    ensure_style,
    set_list_number,
    twips,
    w_tag,
    xml_element,
)

# The HTML page's text column (1050 px less its padding): a chart as wide as the column
# there is as wide as the text here, a smaller one keeps its share of it.
HTML_COLUMN_PX = 986

# What the page shows for navigation only: Word's navigation pane does their job.
SKIPPED_CLASSES = {"avs-sommaire", "anchor-link", "jp-Collapser"}

SKIPPED_TAGS = {"script", "style", "template", "noscript", "head", "button", "input"}

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "img", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
}  # fmt: skip


@dataclass(frozen=True)
class _Format:
    """How a piece of text is shown, as the HTML elements around it say."""

    bold: bool = False
    italic: bool = False
    code: bool = False
    small: bool = False
    superscript: bool = False
    subscript: bool = False
    strike: bool = False
    masked: bool = False
    link: str | None = None


_INLINE_FORMATS = {
    "strong": {"bold": True},
    "b": {"bold": True},
    "th": {"bold": True},
    "em": {"italic": True},
    "i": {"italic": True},
    "cite": {"italic": True},
    "code": {"code": True},
    "kbd": {"code": True},
    "samp": {"code": True},
    "small": {"small": True},
    "sup": {"superscript": True},
    "sub": {"subscript": True},
    "del": {"strike": True},
    "s": {"strike": True},
}

_BREAK = object()  # a <br> among the pieces of a paragraph

_SPACES = re.compile(r"\s+")


class BodyWriter:
    """Walks the page's body and writes each element as Word's own structure."""

    def __init__(self, document) -> None:
        self.document = document
        section = document.sections[-1]
        self.text_width = section.page_width - section.left_margin - section.right_margin
        self.bullets_id: int | None = None
        self.style_ids: dict[str, str] = {}
        self.after_table = None  # the container whose last block is a table

    # blocks

    def blocks(self, element, container) -> None:
        """Every child of `element`, blocks as blocks, loose text gathered into paragraphs."""
        pieces: list = []
        if element.text:
            pieces.append((element.text, _Format()))
        for child in element:
            if _skipped(child):
                if child.tail:
                    pieces.append((child.tail, _Format()))
                continue
            if child.tag in BLOCK_TAGS:
                self._flush(pieces, container)
                self.block(child, container)
            else:
                self.inline(child, _Format(), pieces)
            if child.tail:
                pieces.append((child.tail, _Format()))
        self._flush(pieces, container)

    def _flush(self, pieces: list, container, style: str | None = None) -> None:
        if pieces:
            self.paragraph(container, pieces, style)
            pieces.clear()

    def block(self, element, container, level: int = 0) -> None:
        tag = element.tag
        if tag in HEADINGS:
            self.paragraph(container, self.pieces(element), HEADINGS[tag])
        elif tag == "p":
            classes = _classes(element)
            style = BANNER_STYLE if "avs-bandeau" in classes else None
            self.paragraph(container, self.pieces(element), style)
        elif tag in ("ul", "ol"):
            self.list(element, container, level)
        elif tag == "table":
            self.table(element, container)
        elif tag == "img":
            self.image(element, container)
        elif tag == "pre":
            self.preformatted(element, container)
        elif tag == "blockquote":
            self.blocks_styled(element, container, QUOTE_STYLE)
        elif tag == "hr":
            return
        else:
            self.blocks(element, container)

    def blocks_styled(self, element, container, style: str) -> None:
        """A quotation: its paragraphs in the quotation style."""
        for child in element:
            if child.tag == "p":
                self.paragraph(container, self.pieces(child), style)
            elif not _skipped(child):
                self.block(child, container)
        if element.text and element.text.strip():
            self.paragraph(container, [(element.text, _Format())], style)

    def paragraph(self, container, pieces: list, style: str | None = None):
        """A paragraph of the pieces, or nothing if they hold no text (an anchor alone)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        pieces = _normalise(pieces)
        if not pieces:
            return None
        paragraph = container.add_paragraph()
        if isinstance(container, _CellBox):
            style = TABLE_TEXT_STYLE
            if any(fmt.masked for _, fmt in pieces):  # « s », centred as on the page
                paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if style:
            paragraph._p.style = self.style_id(style)
        self._space_after_table(paragraph, container)
        self.runs(paragraph, pieces)
        return paragraph

    def _space_after_table(self, paragraph, container) -> None:
        if self.after_table is container:  # the page's margin below a table
            paragraph.paragraph_format.space_before = twips(160)
        self.after_table = None

    def preformatted(self, element, container) -> None:
        text = element.text_content().strip("\n")
        if not text.strip():
            return
        paragraph = container.add_paragraph()
        paragraph._p.style = self.style_id(CODE_STYLE)
        lines = text.split("\n")
        for number, line in enumerate(lines):
            run = paragraph.add_run(line)
            if number < len(lines) - 1:
                run.add_break()

    # lists

    def list(self, element, container, level: int) -> None:
        """A Word list (numbering definitions, not typed bullets); a numbered list restarts."""
        ordered = element.tag == "ol"
        number_id = self.numbering(ordered, _start(element))
        for item in element:
            if item.tag != "li":
                continue
            pieces: list = []
            if item.text:
                pieces.append((item.text, _Format()))
            first = True
            for child in item:
                if _skipped(child):
                    pass
                elif child.tag in ("ul", "ol"):
                    first = self._list_item(container, pieces, number_id, level, first)
                    self.list(child, container, level + 1)
                elif child.tag == "p" and not pieces:
                    pieces.extend(self.pieces(child))
                elif child.tag in BLOCK_TAGS:
                    first = self._list_item(container, pieces, number_id, level, first)
                    self.block(child, container, level + 1)
                else:
                    self.inline(child, _Format(), pieces)
                if child.tail:
                    pieces.append((child.tail, _Format()))
            self._list_item(container, pieces, number_id, level, first)

    def _list_item(self, container, pieces, number_id: int, level: int, first: bool) -> bool:
        if not pieces:
            return first
        paragraph = self.paragraph(container, list(pieces), LIST_STYLE)
        pieces.clear()
        if paragraph is not None and first:
            set_list_number(paragraph, number_id, level)
            return False
        if paragraph is not None:  # a second paragraph of the same item: indented, no mark
            paragraph.paragraph_format.left_indent = twips(720 * (level + 1))
        return first

    def numbering(self, ordered: bool, start: int) -> int:
        """The id of a numbering instance: one for all bullets, a fresh one per numbered list."""
        if not ordered and self.bullets_id is not None:
            return self.bullets_id
        numbering = self.document.part.numbering_part.element
        abstract_id = abstract_numbering(numbering, ordered)
        number_id = max(
            (int(n.get(w_tag("numId"))) for n in numbering.iter(w_tag("num"))), default=0
        )
        number_id += 1
        num = xml_element("num", {"numId": str(number_id)})
        num.append(xml_element("abstractNumId", {"val": str(abstract_id)}))
        if ordered:
            for level in range(9):
                override = xml_element("lvlOverride", {"ilvl": str(level)})
                override.append(
                    xml_element("startOverride", {"val": str(start if level == 0 else 1)})
                )
                num.append(override)
        numbering.append(num)
        if not ordered:
            self.bullets_id = number_id
        return number_id

    # tables

    def table(self, element, container) -> None:
        """A Word table: header rows repeated on every page, rows never split across two."""
        rows, header_count = _table_rows(element)
        if not rows:
            return
        grid = _grid(rows)
        columns = max(len(line) for line in grid)
        table = container.add_table(len(grid), columns)
        table._tbl.tblStyle_val = self.style_id(TABLE_STYLE)
        table.autofit = True
        widths = _column_widths(grid, columns, self.text_width)
        word_rows = table.rows
        placed: dict[int, object] = {}
        for r, line in enumerate(grid):
            word_row = word_rows[r]
            properties = word_row._tr.get_or_add_trPr()
            properties.append(xml_element("cantSplit"))
            if r < header_count:
                properties.append(xml_element("tblHeader"))
            cells = word_row.cells
            for c in range(columns):
                cells[c].width = widths[c]
            for c, cell in enumerate(line):
                if cell is None or id(cell) in placed:
                    continue
                placed[id(cell)] = (r, c)
                target = cells[c]
                right, bottom = _span_end(grid, r, c, cell)
                if (right, bottom) != (c, r):
                    target = target.merge(word_rows[bottom].cells[right])
                self.cell(cell, _CellBox(target))
        _column_grid(table, widths)
        self.after_table = container

    def cell(self, element, box: _CellBox) -> None:
        fmt = _Format(bold=element.tag == "th", masked="s" in _classes(element))
        if any(child.tag in BLOCK_TAGS for child in element):
            self.blocks(element, box)
        else:
            pieces = []
            self.inline_children(element, fmt, pieces)
            self.paragraph(box, pieces)
        box.finish(self.style_id(TABLE_TEXT_STYLE))

    # images

    def image(self, element, container) -> None:
        """An embedded PNG (a chart, a map) with its alt text as the picture's description."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        alt = " ".join((element.get("alt") or "").split())
        data = _image_data(element.get("src") or "")
        if data is None:  # a picture from the web in a commentary: its alt text stays
            if alt:
                self.paragraph(container, [(f"[{alt}]", _Format(italic=True))])
            return
        width = self.image_width(data, element.get("width"))
        paragraph = container.add_paragraph()
        self._space_after_table(paragraph, container)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_together = True
        shape = paragraph.add_run().add_picture(io.BytesIO(data), width=width)
        properties = shape._inline.docPr
        properties.set("descr", alt or "Graphique")
        properties.set("title", "")

    def image_width(self, data: bytes, attribute: str | None) -> int:
        from docx.image.image import Image

        pixels = Image.from_blob(data).px_width
        if attribute and attribute.strip().isdigit():
            pixels = int(attribute)
        return int(self.text_width * min(1.0, pixels / HTML_COLUMN_PX))

    # inline content

    def pieces(self, element, fmt: _Format | None = None) -> list:
        pieces: list = []
        self.inline_children(element, fmt or _Format(), pieces)
        return pieces

    def inline_children(self, element, fmt: _Format, pieces: list) -> None:
        if element.text:
            pieces.append((element.text, fmt))
        for child in element:
            if not _skipped(child):
                self.inline(child, fmt, pieces)
            if child.tail:
                pieces.append((child.tail, fmt))

    def inline(self, element, fmt: _Format, pieces: list) -> None:
        if not isinstance(element.tag, str) or _skipped(element):
            return
        tag = element.tag
        if tag == "br":
            pieces.append((_BREAK, fmt))
            return
        if tag == "img":
            alt = element.get("alt")
            if alt:
                pieces.append((f"[{alt}]", replace(fmt, italic=True)))
            return
        if tag == "a":
            href = element.get("href") or ""
            if re.match(r"(https?|mailto):", href):
                fmt = replace(fmt, link=href)
        elif tag in _INLINE_FORMATS:
            fmt = replace(fmt, **_INLINE_FORMATS[tag])
        if "s" in _classes(element) and tag in ("td", "th", "span"):
            fmt = replace(fmt, masked=True)
        self.inline_children(element, fmt, pieces)

    def runs(self, paragraph, pieces: list) -> None:
        from docx.shared import Pt, RGBColor

        hyperlink = None
        link = None
        for text, fmt in pieces:
            if text is _BREAK:
                paragraph.add_run().add_break()
                continue
            run = paragraph.add_run(text)
            run.bold = fmt.bold or fmt.masked or None
            run.italic = fmt.italic or None
            if fmt.strike:
                run.font.strike = True
            if fmt.superscript:
                run.font.superscript = True
            if fmt.subscript:
                run.font.subscript = True
            if fmt.code:
                run.font.name = "Consolas"
            if fmt.small:
                run.font.size = Pt(8)
                run.font.color.rgb = RGBColor.from_string(SMALL_COLOUR)
            if fmt.masked:
                run.font.color.rgb = RGBColor.from_string(MASKED_COLOUR)
            if fmt.link:
                if fmt.link != link:
                    hyperlink = self.hyperlink(paragraph, fmt.link)
                    link = fmt.link
                run._r.style = self.style_id("Hyperlink")
                hyperlink.append(run._r)
            else:
                link = None

    def hyperlink(self, paragraph, url: str):
        from docx.opc.constants import RELATIONSHIP_TYPE

        relation = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        element = xml_element("hyperlink", {})
        element.set("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
                    relation)  # fmt: skip
        paragraph._p.append(element)
        return element

    # styles

    def style_id(self, name: str) -> str:
        """The id of the style of that name, from the template, or else from the default.

        Set by id: python-docx's lookup by name reads every style each time.
        """
        if name not in self.style_ids:
            self.style_ids[name] = ensure_style(self.document, name).style_id
        return self.style_ids[name]


class _CellBox:
    """A table cell as a container: its first paragraph (Word requires one) is reused."""

    def __init__(self, cell) -> None:
        self.cell = cell
        self.used = False

    def add_paragraph(self):
        if not self.used:
            self.used = True
            return self.cell.paragraphs[0]
        return self.cell.add_paragraph()

    def add_table(self, rows: int, cols: int):
        return self.cell.add_table(rows, cols)

    def finish(self, style_id: str) -> None:
        if not self.used:  # an empty cell still has its paragraph, in the table's text style
            self.cell.paragraphs[0]._p.style = style_id


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _skipped(element) -> bool:
    if not isinstance(element.tag, str):  # a comment or a processing instruction
        return True
    if element.tag in SKIPPED_TAGS or element.get("hidden") is not None:
        return True
    if "display:none" in (element.get("style") or "").replace(" ", ""):
        return True
    return bool(SKIPPED_CLASSES & _classes(element))


def _normalise(pieces: list) -> list:
    """HTML's white space: runs of blanks as one space, none at a line's ends."""
    out: list = []
    space = True  # at the start of the paragraph, a blank is dropped
    for text, fmt in pieces:
        if text is _BREAK:
            if out and out[-1][0] is not _BREAK:
                out[-1] = (out[-1][0].rstrip(" "), out[-1][1])
            out.append((_BREAK, fmt))
            space = True
            continue
        if fmt.code and text.strip() == "":
            text = " "
        text = _SPACES.sub(" ", text)
        if space:
            text = text.lstrip(" ")
        if not text:
            continue
        space = text.endswith(" ")
        out.append((text, fmt))
    while out and out[-1][0] is not _BREAK and not out[-1][0].strip():
        out.pop()
    if out and out[-1][0] is not _BREAK:
        out[-1] = (out[-1][0].rstrip(" "), out[-1][1])
    while out and out[-1][0] is _BREAK:
        out.pop()
    if not any(text is not _BREAK and text.strip() for text, _ in out):
        return []
    return out


def _start(element) -> int:
    value = (element.get("start") or "1").strip()
    return int(value) if value.isdigit() else 1


def _table_rows(element) -> tuple[list, int]:
    """The table's rows in order, and how many of the first ones are its header."""
    head, body = [], []
    for part in element:
        if part.tag == "thead":
            head += [row for row in part if row.tag == "tr"]
        elif part.tag in ("tbody", "tfoot"):
            body += [row for row in part if row.tag == "tr"]
        elif part.tag == "tr":
            body.append(part)
    if not head:  # a table without <thead>: its leading rows of <th> only
        while body and all(cell.tag == "th" for cell in body[0] if isinstance(cell.tag, str)):
            head.append(body.pop(0))
    rows = [[cell for cell in row if cell.tag in ("td", "th")] for row in head + body]
    return rows, len(head)


def _span(cell, attribute: str) -> int:
    value = (cell.get(attribute) or "1").strip()
    return max(1, min(int(value), 1000)) if value.isdigit() else 1


def _grid(rows: list) -> list[list]:
    """The cells laid out on a grid, a spanning cell repeated over the places it covers."""
    grid: list[list] = [[] for _ in rows]
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            for dr in range(min(_span(cell, "rowspan"), len(rows) - r)):
                line = grid[r + dr]
                for dc in range(_span(cell, "colspan")):
                    while len(line) <= c + dc:
                        line.append(None)
                    line[c + dc] = cell
            c += _span(cell, "colspan")
    width = max((len(line) for line in grid), default=0)
    return [line + [None] * (width - len(line)) for line in grid]


def _span_end(grid: list[list], r: int, c: int, cell) -> tuple[int, int]:
    right = c
    while right + 1 < len(grid[r]) and grid[r][right + 1] is cell:
        right += 1
    bottom = r
    while bottom + 1 < len(grid) and grid[bottom + 1][c] is cell:
        bottom += 1
    return right, bottom


def _column_widths(grid: list[list], columns: int, total: int) -> list[int]:
    """Columns as wide as their text asks, within the text width.

    Each column first gets room for its longest word (« Cible » must not break), then
    the rest of the width goes to the columns with the longest texts (the labels).
    """
    char = 70_000  # EMU: a character of the tables' 9 pt text, with its share of bold
    least, wanted = [], []
    for c in range(columns):
        longest_word, longest_text = 3, 3
        for line in grid:
            if line[c] is None:
                continue
            for text in line[c].itertext():
                longest_text = max(longest_text, min(len(text.strip()), 45))
                longest_word = max(longest_word, *(len(w) for w in text.split()), 0)
        least.append((longest_word + 2) * char)
        wanted.append(max(longest_text + 2, longest_word + 2) * char)
    if sum(least) >= total:
        return [int(total * width / sum(least)) for width in least]
    extra = [want - low for want, low in zip(wanted, least, strict=True)]
    room = total - sum(least)
    if sum(extra) <= room:
        return [
            int(low + room * want / sum(wanted)) for low, want in zip(least, wanted, strict=True)
        ]
    return [int(low + room * more / sum(extra)) for low, more in zip(least, extra, strict=True)]


def _column_grid(table, widths: list[int]) -> None:
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(w_tag("gridCol")), widths, strict=False):
        column.set(w_tag("w"), str(int(width / 635)))  # EMU to twentieths of a point


def _image_data(source: str) -> bytes | None:
    match = re.match(r"data:image/(png|jpeg|gif);base64,(.*)", source, re.S)
    if match is None:
        return None
    return base64.b64decode("".join(match[2].split()))
