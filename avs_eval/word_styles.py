"""The Word styles and the OOXML details python-docx leaves to its users.

The default reference document (`templates/word/reference.docx`, built by
`build_reference`), the styles a report needs and a template may lack, numbering for
lists, and the few raw elements (fields, language, ordered children) written by hand.
"""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from avs_eval.output import write_atomic

REFERENCE = Path(__file__).parent / "templates" / "word" / "reference.docx"

LANGUAGE = "fr-FR"

# Styles the report uses: Word's built-in names (a French Word shows them translated,
# « Titre 1 », « Paragraphe de liste »…), and three of the workbook's own.
HEADINGS = {f"h{level}": f"Heading {level}" for level in range(1, 7)}

LIST_STYLE = "List Paragraph"

QUOTE_STYLE = "Quote"

CODE_STYLE = "Code"  # text/plain outputs and code blocks of a commentary

BANNER_STYLE = "Encadré"  # the page's yellow notices (sample data, internal edition)

TABLE_STYLE = "Tableau"

TABLE_TEXT_STYLE = "Texte de tableau"

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
        if _find_style(styles.element, style.find(w_tag("name")).get(w_tag("val"))) is None:
            styles.element.append(copy.deepcopy(style))
    return styles[name]


def _style_chain(styles, name: str) -> list:
    """The style named `name` in `styles` and the styles it is based on, bases first."""
    chain = []
    style = _find_style(styles, name)
    while style is not None and style not in chain:
        chain.insert(0, style)
        based = style.find(w_tag("basedOn"))
        if based is None:
            break
        style = next(
            (
                s
                for s in styles.iter(w_tag("style"))
                if s.get(w_tag("styleId")) == based.get(w_tag("val"))
            ),
            None,
        )
    if not chain:
        raise KeyError(f"style {name!r} missing from {REFERENCE}")
    return chain


def _find_style(styles, name: str):
    for style in styles.iter(w_tag("style")):
        found = style.find(w_tag("name"))
        if found is not None and found.get(w_tag("val")) == name:
            return style
    return None


@cache
def _reference_styles():
    import docx

    return docx.Document(REFERENCE).styles.element


def set_list_number(paragraph, number_id: int, level: int) -> None:
    """Make `paragraph` an item of list `number_id` at `level` (Word has nine)."""
    properties = paragraph._p.get_or_add_pPr()
    numbering = xml_element("numPr", {})
    numbering.append(xml_element("ilvl", {"val": str(min(level, 8))}))
    numbering.append(xml_element("numId", {"val": str(number_id)}))
    _insert_ordered(properties, numbering, PARAGRAPH_ORDER)


def _insert_ordered(parent, child, order: tuple[str, ...]) -> None:
    """Put `child` where the schema wants it among `parent`'s children (Word is strict)."""
    name = child.tag.rpartition("}")[2]
    later = {w_tag(tag) for tag in order[order.index(name) + 1 :]}
    for existing in parent:
        if existing.tag in later:
            existing.addprevious(child)
            return
    parent.append(child)


def abstract_numbering(numbering, ordered: bool) -> int:
    """The id of the workbook's bullet or number definition, added on first use."""
    kind = "avs-eval-numeros" if ordered else "avs-eval-puces"
    for abstract in numbering.iter(w_tag("abstractNum")):
        name = abstract.find(w_tag("name"))
        if name is not None and name.get(w_tag("val")) == kind:
            return int(abstract.get(w_tag("abstractNumId")))
    ids = [int(a.get(w_tag("abstractNumId"))) for a in numbering.iter(w_tag("abstractNum"))]
    abstract_id = max(ids, default=-1) + 1
    abstract = xml_element("abstractNum", {"abstractNumId": str(abstract_id)})
    abstract.append(xml_element("multiLevelType", {"val": "hybridMultilevel"}))
    abstract.append(xml_element("name", {"val": kind}))
    for level in range(9):
        lvl = xml_element("lvl", {"ilvl": str(level)})
        lvl.append(xml_element("start", {"val": "1"}))
        if ordered:
            lvl.append(xml_element("numFmt", {"val": "decimal"}))
            lvl.append(xml_element("lvlText", {"val": f"%{level + 1}."}))
        else:
            lvl.append(xml_element("numFmt", {"val": "bullet"}))
            lvl.append(xml_element("lvlText", {"val": BULLETS[level % len(BULLETS)]}))
        lvl.append(xml_element("lvlJc", {"val": "left"}))
        paragraph = xml_element("pPr", {})
        paragraph.append(xml_element("ind", {"left": str(360 * (level + 1) * 2 - 360),
                                          "hanging": "360"}))  # fmt: skip
        lvl.append(paragraph)
        abstract.append(lvl)
    first_num = numbering.find(w_tag("num"))  # the schema wants every abstractNum before them
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    return abstract_id


def xml_element(tag: str, attributes: dict[str, str] | None = None):
    """A WordprocessingML element (`w:tag`): what python-docx has no object for."""
    from docx.oxml import OxmlElement

    element = OxmlElement(f"w:{tag}")
    for key, value in (attributes or {}).items():
        element.set(w_tag(key), value)
    return element


def _child(parent, tag: str, first: bool = False):
    found = parent.find(w_tag(tag))
    if found is None:
        found = xml_element(tag, {})
        if first:
            parent.insert(0, found)
        else:
            parent.append(found)
    return found


def w_tag(name: str) -> str:
    """The qualified name of a WordprocessingML tag or attribute, for lxml."""
    return f"{{{W_NS}}}{name}"


def twips(value: int) -> int:
    """Twentieths of a point as python-docx's lengths (EMU)."""
    from docx.shared import Twips

    return Twips(value)


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
    empty_body(document)
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
            fonts.set(w_tag(attribute), font)
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
    borders = xml_element("pBdr", {})
    borders.append(xml_element("left", {"val": "single", "sz": "36", "space": "8",
                                     "color": "E0A400"}))  # fmt: skip
    _insert_ordered(paragraph_properties, borders, PARAGRAPH_ORDER)
    shading = xml_element("shd", {"val": "clear", "color": "auto", "fill": "FFF4D6"})
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
    section.page_width, section.page_height = (twips(A4[0]), twips(A4[1]))
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    add_page_number(section.footer)
    set_language(document)
    set_properties(document, "Modèle des rapports avs-eval", "avs-eval")
    properties = document.core_properties
    properties.created = properties.modified = datetime(2026, 1, 1)
    buffer = io.BytesIO()
    document.save(buffer)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(path), buffer.getvalue())


def _table_style_look(style) -> None:
    """The page's tables: thin grey borders, a shaded bold header row."""
    table_properties = _child(style, "tblPr")
    borders = xml_element("tblBorders", {})
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(xml_element(side, {"val": "single", "sz": "4", "space": "0",
                                       "color": "D0D7DE"}))  # fmt: skip
    table_properties.append(borders)
    margins = xml_element("tblCellMar", {})
    for side in ("left", "right"):
        margins.append(xml_element(side, {"w": "85", "type": "dxa"}))
    table_properties.append(margins)
    first_row = xml_element("tblStylePr", {"type": "firstRow"})
    run = xml_element("rPr", {})
    run.append(xml_element("b", {}))
    first_row.append(run)
    first_row.append(xml_element("tblPr", {}))
    cell = xml_element("tcPr", {})
    cell.append(xml_element("shd", {"val": "clear", "color": "auto", "fill": "EAF0F6"}))
    first_row.append(cell)
    style.append(first_row)


A4 = (11906, 16838)  # width and height in twentieths of a point (210 × 297 mm)


def empty_body(document) -> None:
    """Remove the template's own text (a sample page), keeping its last section."""
    body = document.element.body
    for child in list(body):
        if child.tag != w_tag("sectPr"):
            body.remove(child)


def add_page_number(footer) -> None:
    """« page N / M » centred in `footer`, as fields Word updates itself."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = new_paragraph(footer)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("page ")
    _add_field(paragraph, "PAGE", "1")
    paragraph.add_run(" / ")
    _add_field(paragraph, "NUMPAGES", "1")


def set_language(document) -> None:
    """French everywhere: the defaults, and any style of the template that says otherwise."""
    from docx.oxml import OxmlElement

    styles = document.styles.element
    defaults = styles.find(w_tag("docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = _child(defaults, "rPrDefault", first=True)
    properties = _child(run_defaults, "rPr")
    if properties.find(w_tag("lang")) is None:
        _insert_ordered(properties, xml_element("lang", {}), RUN_ORDER)
    for lang in styles.iter(w_tag("lang")):
        lang.set(w_tag("val"), LANGUAGE)
    settings = document.settings.element
    theme = settings.find(w_tag("themeFontLang"))
    if theme is not None:
        theme.set(w_tag("val"), LANGUAGE)


def set_properties(document, title: str, author: str) -> None:
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


MASKED_COLOUR = "8C4A00"  # the page's colour for « s »


SMALL_COLOUR = "57606A"


BULLETS = ("•", "◦", "▪")


def field_codes(element) -> str:
    """The codes of the fields in `element` (a template's footer may number its pages)."""
    codes = [node.text or "" for node in element.iter(w_tag("instrText"))]
    codes += [node.get(w_tag("instr"), "") for node in element.iter(w_tag("fldSimple"))]
    return " ".join(codes)


def new_paragraph(part):
    """A paragraph at the end of a header or footer: its lone empty one if it has one."""
    paragraphs = part.paragraphs
    if len(paragraphs) == 1 and not paragraphs[0].text and len(paragraphs[0]._p) <= 1:
        return paragraphs[0]
    return part.add_paragraph()


def _add_field(paragraph, code: str, shown: str) -> None:
    from docx.oxml import OxmlElement

    field = OxmlElement("w:fldSimple")
    field.set(w_tag("instr"), f" {code} ")
    run = paragraph.add_run(shown)._r
    field.append(run)
    paragraph._p.append(field)
