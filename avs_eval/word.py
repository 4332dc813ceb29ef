"""Reports as Word documents: the published HTML page, read back into Word's own structure.

Why from the published HTML: the Word file must say exactly what the page beside it says
(same masked cells, same charts, same sentences, same edition). Reading the page that
partners receive, rather than rendering the notebook a second way, leaves no room for a
difference: a cell the HTML shows as « s » is « s » here, a cell the HTML leaves out is
not here.

Why python-docx and not pandoc: the evaluators finish these files in Word, so what
matters is Word's own structure (heading styles for the navigation pane, table header
rows repeated across pages, alt text in each picture's description, numbered lists), all
of which python-docx writes directly. Pandoc would need a 30 MB binary per platform in
the lock, a process per report, and python-docx again for the header rows and the
banner. python-docx is pure Python over lxml, which has wheels everywhere the workbook
runs; a report takes a few tens of milliseconds.

The institution's template works like pandoc's `--reference-doc`: its styles, page
header, footer and logo are kept, its body is replaced by the report. A style the
report needs and the template lacks is taken from the default reference document
(`templates/word/reference.docx`, written by `build_reference`).

What the batch uses: `word_files` (which files to write, with their names) and
`write_documents`, which never raises for one report (its failure is reported, the
HTML stays published), like `avs_eval.pdf.print_documents`.
"""

from __future__ import annotations

import base64
import copy
import io
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from avs_eval import plateforme
from avs_eval.errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, EXIT_USAGE, AvsEvalError
from avs_eval.output import write_atomic

__all__ = [
    "INTERNAL_BANNER",
    "REFERENCE",
    "TemplateInvalid",
    "WordFile",
    "WordResult",
    "build_reference",
    "check_template",
    "docx_name",
    "envoi_name",
    "html_to_document",
    "html_to_docx",
    "word_files",
    "write_documents",
]

REFERENCE = Path(__file__).parent / "templates" / "word" / "reference.docx"
INTERNAL_BANNER = "Édition interne — ne pas diffuser"
ENVOI = "envoi"  # the year's subfolder of files named for sending, as for the PDFs
INTERNAL_SUFFIX = "-interne"
LANGUAGE = "fr-FR"
A4 = (11906, 16838)  # width and height in twentieths of a point (210 × 297 mm)
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
# Styles the report uses: Word's built-in names (a French Word shows them translated,
# « Titre 1 », « Paragraphe de liste »…), and three of the workbook's own.
HEADINGS = {f"h{level}": f"Heading {level}" for level in range(1, 7)}
LIST_STYLE = "List Paragraph"
QUOTE_STYLE = "Quote"
CODE_STYLE = "Code"  # text/plain outputs and code blocks of a commentary
BANNER_STYLE = "Encadré"  # the page's yellow notices (sample data, internal edition)
TABLE_STYLE = "Tableau"
TABLE_TEXT_STYLE = "Texte de tableau"
MASKED_COLOUR = "8C4A00"  # the page's colour for « s »
SMALL_COLOUR = "57606A"
BULLETS = ("•", "◦", "▪")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# The order of a paragraph's and a run's properties in WordprocessingML's schema.
PARAGRAPH_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap",
    "jc", "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId",
    "cnfStyle", "rPr", "sectPr", "pPrChange",
)  # fmt: skip
RUN_ORDER = (
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
    "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden",
    "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect",
    "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout",
    "specVanish", "oMath",
)  # fmt: skip


class TemplateInvalid(AvsEvalError):
    """The Word template given cannot be used: said in French, before the batch runs."""

    exit_code = EXIT_USAGE


# --- one document -----------------------------------------------------------------------


def html_to_docx(
    html: str | Path,
    docx_path: str | Path,
    *,
    title: str | None = None,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
) -> None:
    """Write the Word edition of a published HTML report (a path or the page's text).

    The file is written atomically: a full disk or a file held open leaves the previous
    one in place, and the OSError reaches the caller (`write_documents` turns it into the
    batch's French message).
    """
    document = html_to_document(
        html, title=title, author=author, template=template, internal_banner=internal_banner
    )
    buffer = io.BytesIO()
    document.save(buffer)
    write_atomic(Path(docx_path), buffer.getvalue())


def html_to_document(
    html: str | Path,
    *,
    title: str | None = None,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
):
    """The report as a python-docx Document, on the template's styles, header and footer.

    `title` defaults to the page's <title>; `internal_banner` (the internal edition's
    warning) goes in the header of every page.
    """
    from lxml import html as lxml_html

    if isinstance(html, Path) or (isinstance(html, str) and "<" not in html[:1000]):
        html = Path(html).read_text(encoding="utf-8")
    tree = lxml_html.document_fromstring(html)
    if title is None:
        found = tree.findtext(".//title")
        title = " ".join(found.split()) if found else ""
    document = _open_template(template)
    _empty_body(document)
    _page_setup(document, internal_banner)
    _set_language(document)
    _set_properties(document, title, author)
    root = tree.find(".//main")
    if root is None:
        root = tree.find(".//body")
    _Writer(document).blocks(root, document)
    return document


# --- the template ---------------------------------------------------------------------


def check_template(path: str | Path | None) -> Path | None:
    """The template file given by the user, checked once before the batch runs.

    Raises TemplateInvalid with a French sentence (missing file, not a Word file).
    """
    if path is None or str(path) == "":
        return None
    path = Path(path).expanduser()
    if not path.is_file():
        raise TemplateInvalid(f"modèle Word introuvable : {path}")
    try:
        _template_bytes(path.resolve(), path.stat().st_mtime_ns)
        _open_template(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise TemplateInvalid(
            f"modèle Word illisible : {path} n'est pas un document Word (.docx ou .dotx) "
            f"valide ({error})"
        ) from None
    return path


def _open_template(template: str | Path | None):
    import docx

    path = Path(template).expanduser() if template else REFERENCE
    data = _template_bytes(path.resolve(), path.stat().st_mtime_ns)
    return docx.Document(io.BytesIO(data))


@cache
def _template_bytes(path: Path, _mtime: int) -> bytes:
    """The template's bytes, read once per batch; a Word template (.dotx) as a document.

    Word saves an institution's template as .dotx, which differs from a .docx only by
    its main part's content type.
    """
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        types = source.read("[Content_Types].xml")
        if b"template.main+xml" not in types:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "[Content_Types].xml":
                    content = content.replace(b"template.main+xml", b"document.main+xml")
                target.writestr(item, content)
    return out.getvalue()


def _empty_body(document) -> None:
    """Remove the template's own text (a sample page), keeping its last section."""
    body = document.element.body
    for child in list(body):
        if child.tag != _w("sectPr"):
            body.remove(child)


def _page_setup(document, internal_banner: str | None) -> None:
    """A4 portrait, page numbers in the footer, the internal banner in every header."""
    from docx.enum.section import WD_ORIENT

    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (_twips(A4[0]), _twips(A4[1]))
        footers = [section.footer]
        headers = [section.header]
        if section.different_first_page_header_footer:
            footers.append(section.first_page_footer)
            headers.append(section.first_page_header)
        if document.settings.odd_and_even_pages_header_footer:
            footers.append(section.even_page_footer)
            headers.append(section.even_page_header)
        for footer in footers:
            if "PAGE" not in _field_codes(footer._element):
                _add_page_number(footer)
        if internal_banner:
            for header in headers:
                _add_banner(header, internal_banner)


def _field_codes(element) -> str:
    codes = [node.text or "" for node in element.iter(_w("instrText"))]
    codes += [node.get(_w("instr"), "") for node in element.iter(_w("fldSimple"))]
    return " ".join(codes)


def _new_paragraph(part):
    """A paragraph at the end of a header or footer: its lone empty one if it has one."""
    paragraphs = part.paragraphs
    if len(paragraphs) == 1 and not paragraphs[0].text and len(paragraphs[0]._p) <= 1:
        return paragraphs[0]
    return part.add_paragraph()


def _add_page_number(footer) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = _new_paragraph(footer)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("page ")
    _add_field(paragraph, "PAGE", "1")
    paragraph.add_run(" / ")
    _add_field(paragraph, "NUMPAGES", "1")


def _add_field(paragraph, code: str, shown: str) -> None:
    from docx.oxml import OxmlElement

    field = OxmlElement("w:fldSimple")
    field.set(_w("instr"), f" {code} ")
    run = paragraph.add_run(shown)._r
    field.append(run)
    paragraph._p.append(field)


def _add_banner(header, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor

    paragraph = _new_paragraph(header)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(MASKED_COLOUR)


def _set_language(document) -> None:
    """French everywhere: the defaults, and any style of the template that says otherwise."""
    from docx.oxml import OxmlElement

    styles = document.styles.element
    defaults = styles.find(_w("docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = _child(defaults, "rPrDefault", first=True)
    properties = _child(run_defaults, "rPr")
    if properties.find(_w("lang")) is None:
        _insert_ordered(properties, _element("lang", {}), RUN_ORDER)
    for lang in styles.iter(_w("lang")):
        lang.set(_w("val"), LANGUAGE)
    settings = document.settings.element
    theme = settings.find(_w("themeFontLang"))
    if theme is not None:
        theme.set(_w("val"), LANGUAGE)


def _set_properties(document, title: str, author: str) -> None:
    """The file's properties: the report's, never the template's."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    properties = document.core_properties
    properties.title = title
    properties.author = author
    properties.last_modified_by = author
    properties.language = LANGUAGE
    properties.subject = ""
    properties.keywords = ""
    properties.comments = ""
    properties.category = ""
    properties.identifier = ""
    properties.content_status = ""
    properties.revision = 1
    properties.created = now
    properties.modified = now


# --- the page's content -----------------------------------------------------------------


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


class _Writer:
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
            paragraph.paragraph_format.space_before = _twips(160)
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
            _number(paragraph, number_id, level)
            return False
        if paragraph is not None:  # a second paragraph of the same item: indented, no mark
            paragraph.paragraph_format.left_indent = _twips(720 * (level + 1))
        return first

    def numbering(self, ordered: bool, start: int) -> int:
        """The id of a numbering instance: one for all bullets, a fresh one per numbered list."""
        if not ordered and self.bullets_id is not None:
            return self.bullets_id
        numbering = self.document.part.numbering_part.element
        abstract_id = _abstract_numbering(numbering, ordered)
        number_id = max((int(n.get(_w("numId"))) for n in numbering.iter(_w("num"))), default=0)
        number_id += 1
        num = _element("num", {"numId": str(number_id)})
        num.append(_element("abstractNumId", {"val": str(abstract_id)}))
        if ordered:
            for level in range(9):
                override = _element("lvlOverride", {"ilvl": str(level)})
                override.append(_element("startOverride", {"val": str(start if level == 0 else 1)}))
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
            properties.append(_element("cantSplit"))
            if r < header_count:
                properties.append(_element("tblHeader"))
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
        element = _element("hyperlink", {})
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


def ensure_style(document, name: str):
    """The document's style `name`; a style its template lacks is copied from the default.

    A template made in Word defines only the styles it uses (Word knows the others by
    name): the report's headings, lists and tables then take the default reference's look
    until the institution defines them.
    """
    from docx.styles import BabelFish

    styles = document.styles
    try:
        return styles[name]
    except KeyError:
        pass
    reference = _reference_styles()
    wanted = BabelFish.ui2internal(name)
    for style in _style_chain(reference, wanted):
        if _find_style(styles.element, style.find(_w("name")).get(_w("val"))) is None:
            styles.element.append(copy.deepcopy(style))
    return styles[name]


def _style_chain(styles, name: str) -> list:
    """The style named `name` in `styles` and the styles it is based on, bases first."""
    chain = []
    style = _find_style(styles, name)
    while style is not None and style not in chain:
        chain.insert(0, style)
        based = style.find(_w("basedOn"))
        if based is None:
            break
        style = next(
            (s for s in styles.iter(_w("style")) if s.get(_w("styleId")) == based.get(_w("val"))),
            None,
        )
    if not chain:
        raise KeyError(f"style {name!r} missing from {REFERENCE}")
    return chain


def _find_style(styles, name: str):
    for style in styles.iter(_w("style")):
        found = style.find(_w("name"))
        if found is not None and found.get(_w("val")) == name:
            return style
    return None


@cache
def _reference_styles():
    import docx

    return docx.Document(REFERENCE).styles.element


# --- helpers over the page's elements ---------------------------------------------------


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
    for column, width in zip(grid.findall(_w("gridCol")), widths, strict=False):
        column.set(_w("w"), str(int(width / 635)))  # EMU to twentieths of a point


def _image_data(source: str) -> bytes | None:
    match = re.match(r"data:image/(png|jpeg|gif);base64,(.*)", source, re.S)
    if match is None:
        return None
    return base64.b64decode("".join(match[2].split()))


def _number(paragraph, number_id: int, level: int) -> None:
    properties = paragraph._p.get_or_add_pPr()
    numbering = _element("numPr", {})
    numbering.append(_element("ilvl", {"val": str(min(level, 8))}))
    numbering.append(_element("numId", {"val": str(number_id)}))
    _insert_ordered(properties, numbering, PARAGRAPH_ORDER)


def _insert_ordered(parent, child, order: tuple[str, ...]) -> None:
    """Put `child` where the schema wants it among `parent`'s children (Word is strict)."""
    name = child.tag.rpartition("}")[2]
    later = {_w(tag) for tag in order[order.index(name) + 1 :]}
    for existing in parent:
        if existing.tag in later:
            existing.addprevious(child)
            return
    parent.append(child)


def _abstract_numbering(numbering, ordered: bool) -> int:
    """The id of the workbook's bullet or number definition, added on first use."""
    kind = "avs-eval-numeros" if ordered else "avs-eval-puces"
    for abstract in numbering.iter(_w("abstractNum")):
        name = abstract.find(_w("name"))
        if name is not None and name.get(_w("val")) == kind:
            return int(abstract.get(_w("abstractNumId")))
    ids = [int(a.get(_w("abstractNumId"))) for a in numbering.iter(_w("abstractNum"))]
    abstract_id = max(ids, default=-1) + 1
    abstract = _element("abstractNum", {"abstractNumId": str(abstract_id)})
    abstract.append(_element("multiLevelType", {"val": "hybridMultilevel"}))
    abstract.append(_element("name", {"val": kind}))
    for level in range(9):
        lvl = _element("lvl", {"ilvl": str(level)})
        lvl.append(_element("start", {"val": "1"}))
        if ordered:
            lvl.append(_element("numFmt", {"val": "decimal"}))
            lvl.append(_element("lvlText", {"val": f"%{level + 1}."}))
        else:
            lvl.append(_element("numFmt", {"val": "bullet"}))
            lvl.append(_element("lvlText", {"val": BULLETS[level % len(BULLETS)]}))
        lvl.append(_element("lvlJc", {"val": "left"}))
        paragraph = _element("pPr", {})
        paragraph.append(_element("ind", {"left": str(360 * (level + 1) * 2 - 360),
                                          "hanging": "360"}))  # fmt: skip
        lvl.append(paragraph)
        abstract.append(lvl)
    first_num = numbering.find(_w("num"))  # the schema wants every abstractNum before them
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    return abstract_id


def _element(tag: str, attributes: dict[str, str] | None = None):
    from docx.oxml import OxmlElement

    element = OxmlElement(f"w:{tag}")
    for key, value in (attributes or {}).items():
        element.set(_w(key), value)
    return element


def _child(parent, tag: str, first: bool = False):
    found = parent.find(_w(tag))
    if found is None:
        found = _element(tag, {})
        if first:
            parent.insert(0, found)
        else:
            parent.append(found)
    return found


def _w(name: str) -> str:
    return f"{{{W_NS}}}{name}"


def _twips(value: int) -> int:
    """Twentieths of a point as python-docx's lengths (EMU)."""
    from docx.shared import Twips

    return Twips(value)


# --- the batch's step -------------------------------------------------------------------


@dataclass(frozen=True)
class WordFile:
    """One report to write in Word: its HTML, its Word file beside it, its copy to send."""

    name: str  # territory name or « Synthèse », for messages
    html: Path
    docx: Path
    copy: Path | None = None  # envoi/<slug>-<année>.docx


@dataclass
class WordResult:
    written: list[WordFile] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (name, French reason)
    problem: str = ""  # the whole step could not run (disk full): said once
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.problem:
            return EXIT_ENVIRONMENT
        return EXIT_INVALID if self.failures else EXIT_OK

    def lines(self) -> list[str]:
        """What the batch's summary says about the Word files, in French."""
        lines = []
        if self.problem:
            lines.append(f"Fichiers Word non produits : {self.problem}")
        if self.written:
            each = self.seconds / len(self.written)
            line = f"{len(self.written)} fichiers Word en {self.seconds:.1f} s"
            line += f" ({each:.2f} s par rapport)"
            if any(file.copy for file in self.written):
                line += f", copies à envoyer dans {ENVOI}/"
            lines.append(line)
        for name, reason in self.failures:
            lines.append(f"ÉCHEC Word {name} (le rapport HTML est publié) : {reason}")
        return lines


def docx_name(stem: str, internal: bool) -> str:
    """`rapport.docx`; in the internal edition `rapport-interne.docx`.

    A Word file travels by mail without its folder: its name says it is internal.
    """
    return f"{stem}{INTERNAL_SUFFIX if internal else ''}.docx"


def envoi_name(slug: str, year: int | str, internal: bool = False) -> str:
    """A report's Word file named for sending, relative to the year's folder."""
    return f"{ENVOI}/{slug}-{year}{INTERNAL_SUFFIX if internal else ''}.docx"


def word_files(outcomes: Iterable, staging: Path, year: int, internal: bool) -> list[WordFile]:
    """The Word files of a batch's reports that have their HTML in the staging folder.

    Each outcome has `name`, `folder` and `stem` (`rapport`, `synthese`, `bilan`), as
    for the PDFs; a territory that failed but kept its previous HTML is written from it.
    """
    files = []
    for outcome in outcomes:
        folder = Path(outcome.folder)
        html = folder / f"{outcome.stem}.html"
        if not html.is_file():
            continue
        slug = outcome.stem if outcome.stem in ("synthese", "bilan") else folder.name
        files.append(
            WordFile(
                outcome.name,
                html,
                folder / docx_name(outcome.stem, internal),
                Path(staging) / envoi_name(slug, year, internal),
            )
        )
    return files


def write_documents(
    files: list[WordFile],
    *,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
) -> WordResult:
    """Write every Word file; never raises for one report (its failure is reported).

    A full disk stops the step (the machine's problem, said once); a file that cannot be
    written is that report's failure, named as for the PDFs. Ctrl-C still interrupts.
    """
    result = WordResult()
    started = time.perf_counter()
    for file in files:
        try:
            document = html_to_document(
                file.html, author=author, template=template, internal_banner=internal_banner
            )
            buffer = io.BytesIO()
            document.save(buffer)
            data = buffer.getvalue()
            write_atomic(file.docx, data)
            if file.copy is not None:
                write_atomic(file.copy, data)
        except Exception as error:  # one report's failure never stops the others
            result.failures.append((file.name, _reason(error)))
            if plateforme.is_disk_full(error):
                result.problem = "disque plein : libérez de la place, puis relancez"
                break
            continue
        result.written.append(file)
    result.seconds = time.perf_counter() - started
    return result


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return f"écriture impossible ({error.strerror or error})"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# --- the default reference document ---------------------------------------------------------


def build_reference(path: str | Path = REFERENCE) -> None:
    """Write the default reference document, the plain template shipped with the workbook.

    An institution copies it, changes its styles (« Titre 1 », « Tableau »…), header,
    footer and logo in Word, and gives it back with `--modele-word`. Run
    `python -m avs_eval.word` after changing this function, and commit the file
    (tests/test_word.py checks that it is in sync).
    """
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    _empty_body(document)
    styles = document.styles
    font = "Arial"  # on every Windows; LibreOffice shows it with Liberation Sans' metrics
    for style_name, size, colour, bold in (
        ("Normal", 10.5, None, False),
        ("Heading 1", 18, "0B3D6B", True),
        ("Heading 2", 14, "0B3D6B", True),
        ("Heading 3", 12, "23466E", True),
        ("Heading 4", 11, "23466E", True),
        ("Title", 22, "0B3D6B", True),
    ):
        style = styles[style_name]
        style.font.name = font
        fonts = style.element.rPr.rFonts
        fonts.attrib.clear()  # the theme's fonts (asciiTheme…) would win over a name
        for attribute in ("ascii", "hAnsi", "cs", "eastAsia"):
            fonts.set(_w(attribute), font)
        style.font.size = Pt(size)
        style.font.bold = bold
        style.font.italic = False
        if colour:
            style.font.color.rgb = RGBColor.from_string(colour)
    normal = styles["Normal"].paragraph_format
    normal.space_after = Pt(6)
    normal.line_spacing = 1.15
    for level in range(1, 5):
        heading = styles[f"Heading {level}"].paragraph_format
        heading.space_before = Pt(18 if level <= 2 else 12)
        heading.space_after = Pt(6)
        heading.keep_with_next = True

    quote = styles[QUOTE_STYLE]
    quote.font.color.rgb = RGBColor.from_string(SMALL_COLOUR)
    code = styles.add_style(CODE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    code.base_style = styles["Normal"]
    code.font.name = "Consolas"
    code.font.size = Pt(9)
    code.paragraph_format.space_after = Pt(6)
    code.paragraph_format.line_spacing = 1.0

    banner = styles.add_style(BANNER_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    banner.base_style = styles["Normal"]
    banner.paragraph_format.left_indent = Cm(0.3)
    banner.paragraph_format.space_before = Pt(6)
    banner.paragraph_format.space_after = Pt(6)
    paragraph_properties = banner.element.get_or_add_pPr()
    borders = _element("pBdr", {})
    borders.append(_element("left", {"val": "single", "sz": "36", "space": "8",
                                     "color": "E0A400"}))  # fmt: skip
    _insert_ordered(paragraph_properties, borders, PARAGRAPH_ORDER)
    shading = _element("shd", {"val": "clear", "color": "auto", "fill": "FFF4D6"})
    _insert_ordered(paragraph_properties, shading, PARAGRAPH_ORDER)

    cell_text = styles.add_style(TABLE_TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cell_text.base_style = styles["Normal"]
    cell_text.font.size = Pt(9)
    cell_text.paragraph_format.space_before = Pt(1)
    cell_text.paragraph_format.space_after = Pt(1)
    cell_text.paragraph_format.line_spacing = 1.0

    hyperlink = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    hyperlink.font.color.rgb = RGBColor.from_string("0B5CAD")
    hyperlink.font.underline = True

    table_style = styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    table_style.base_style = styles["Normal Table"]
    _table_style_look(table_style.element)

    section = document.sections[0]
    section.page_width, section.page_height = (_twips(A4[0]), _twips(A4[1]))
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    _add_page_number(section.footer)
    _set_language(document)
    _set_properties(document, "Modèle des rapports avs-eval", "avs-eval")
    properties = document.core_properties
    properties.created = properties.modified = datetime(2026, 1, 1)
    buffer = io.BytesIO()
    document.save(buffer)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(path), buffer.getvalue())


def _table_style_look(style) -> None:
    """The page's tables: thin grey borders, a shaded bold header row."""
    table_properties = _child(style, "tblPr")
    borders = _element("tblBorders", {})
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_element(side, {"val": "single", "sz": "4", "space": "0",
                                       "color": "D0D7DE"}))  # fmt: skip
    table_properties.append(borders)
    margins = _element("tblCellMar", {})
    for side in ("left", "right"):
        margins.append(_element(side, {"w": "85", "type": "dxa"}))
    table_properties.append(margins)
    first_row = _element("tblStylePr", {"type": "firstRow"})
    run = _element("rPr", {})
    run.append(_element("b", {}))
    first_row.append(run)
    first_row.append(_element("tblPr", {}))
    cell = _element("tcPr", {})
    cell.append(_element("shd", {"val": "clear", "color": "auto", "fill": "EAF0F6"}))
    first_row.append(cell)
    style.append(first_row)


if __name__ == "__main__":
    build_reference()
    print(f"écrit : {REFERENCE}")
