"""Executed notebooks to HTML pages that partners can open offline.

The export runs in-process with nbconvert's public HTMLExporter (no `jupyter
nbconvert` call per report), one exporter per process and one preprocessor. The page
has no code, no prompts, no instructions meant for the evaluator (cells tagged
`consignes`), no widgets and no outside script: every figure is an embedded PNG.
"""

from __future__ import annotations

import copy
import re
from functools import cache

import nbformat
from nbformat import NotebookNode

from avs_eval import paths

TEMPLATE_DIR = paths.PROJECT_ROOT / "avs_eval" / "templates"
# the page: our template, no code and no prompts
EXPORTER_OPTIONS = {
    "template_name": "rapport",
    "extra_template_basedirs": [str(TEMPLATE_DIR)],
    "exclude_input": True,
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
}
# `brouillon`: an evaluator's working cells (own tables, checks), never in a published file.
REMOVED_TAGS = {
    "consignes",
    "widgets",
    "remove-cell",
    "parameters",
    "injected-parameters",
    "brouillon",
}


# An image's base64 data, set aside during the export (see `notebook_to_html`).
_IMAGE_TOKEN = "AVSEVALIMAGE{}Z"
_IMAGE_BACK = re.compile(r"AVSEVALIMAGE(\d+)Z")


@cache
def exporter():
    """nbconvert's public HTMLExporter, once per process, with our template."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    # Only the preprocessor the template needs (its CSS): nbconvert validates the whole
    # notebook after each preprocessor, enabled or not, and its default list has 12.
    # Tagged cells are dropped in `_clean`.
    config.HTMLExporter.default_preprocessors = [
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"
    ]
    exporter = HTMLExporter(config=config, **EXPORTER_OPTIONS)
    exporter.language_code = "fr"
    return exporter


def without_drafts(notebook: NotebookNode) -> NotebookNode:
    """The executed notebook as kept in the year's folder: no `brouillon` cell in it."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = [c for c in notebook.cells if "brouillon" not in c.metadata.get("tags", [])]
    return notebook


def published_notebook(
    notebook: NotebookNode, shown_parameters: dict, shown_input: str
) -> NotebookNode:
    """The executed notebook as the year's folder keeps it: no draft, no machine path.

    Papermill records the paths it was given (the data files, the staging folder, the
    template) in the injected cell and in the notebook's metadata; a path names the
    machine and often its user. The cell is injected again, by Papermill's own
    function, with the values as the reader may see them (paths relative to the
    project, or a file name).
    """
    from papermill.parameterize import parameterize_notebook

    notebook = without_drafts(notebook)
    notebook = parameterize_notebook(notebook, shown_parameters)
    notebook.metadata.papermill["input_path"] = shown_input
    notebook.metadata.papermill["output_path"] = None
    return notebook


def _clean(notebook: NotebookNode) -> NotebookNode:
    """Drop what a partner must not see: tagged cells, stderr, widget views."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = [
        cell for cell in notebook.cells if not REMOVED_TAGS & set(cell.metadata.get("tags", []))
    ]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                continue
            kept.append(output)
        cell.outputs = kept
    notebook.metadata.pop("widgets", None)
    return notebook


def notebook_to_html(notebook: NotebookNode | str, title: str) -> str:
    """The shareable page of an executed notebook (a node or a path)."""
    if not isinstance(notebook, NotebookNode):
        notebook = nbformat.read(notebook, as_version=4)
    notebook = _clean(notebook)
    notebook.metadata["title"] = title
    images = _set_images_aside(notebook)
    body, _ = exporter().from_notebook_node(notebook)
    body = keep_openings_together(body)
    body = without_unused_styles(_strip_empty_cells(body))
    return _IMAGE_BACK.sub(lambda match: images[int(match[1])], body)


def _set_images_aside(notebook: NotebookNode) -> list[str]:
    """Replace each PNG's data by a short token, to be put back in the finished page.

    HTMLExporter ends with a BeautifulSoup pass over the whole page (alt texts, keyboard
    focus); base64 charts are most of a report's bytes, and parsing them was a third of
    the export's time. The page is the same, token for data.
    """
    images: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                data["image/png"] = _IMAGE_TOKEN.format(len(images))
                images.append("".join(png) if isinstance(png, list) else png)
    return images


# a code cell left with nothing to show (the template writes its id before its class)
_EMPTY_CELL = re.compile(
    r'<div\b[^>]*\bclass="jp-Cell jp-CodeCell jp-Notebook-cell[^"]*"[^>]*>\s*</div>', re.S
)


def _strip_empty_cells(body: str) -> str:
    return _EMPTY_CELL.sub("", body)


# --- style rules no element can match --------------------------------------------------------
# The lab template inlines JupyterLab's whole stylesheet (240 KB: the editor, the file
# browser, the menus...), of which a report uses a small part. A page has no script: the
# classes in its markup are all it will ever have, so a rule whose every selector needs a
# class the page lacks can never apply. Dropping those changes nothing on screen or on
# paper, makes each page 150 KB lighter and its printing 15 % faster
# (tests/test_export.py compares the two renderings in Chromium).

_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S)
_CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
# what a rule needs: per selector of its list, the classes it requires; its text; for an
# @media or @supports block, its prelude and its own rules (None for any other rule)
_Rule = tuple[tuple[frozenset, ...], str, "tuple | None"]


def without_unused_styles(page: str) -> str:
    """`page` with the style rules none of its elements can match left out.

    A class inside a function (`:not(.x)`, `:is(.x, .y)`, `:has(.x)`) is not required:
    those rules stay, as do rules without a class, `@font-face`, `@keyframes` and the
    like; `@media` and `@supports` blocks are pruned inside and dropped when empty.
    """
    present = {
        name
        for match in _CLASS_ATTRIBUTE.finditer(_STYLE.sub("", page))
        for name in match[1].split()
    }

    def pruned(match: re.Match) -> str:
        kept = _kept(_parsed_rules(match[2]), present)
        return match[1] + "\n".join(kept) + match[3]

    return _STYLE.sub(pruned, page)


def _kept(rules: tuple[_Rule, ...], present: set[str]) -> list[str]:
    kept = []
    for needs, text, inner in rules:
        if not any(need <= present for need in needs):
            continue
        if inner is not None:  # a conditional block: its rules pruned in turn
            content = _kept(inner, present)
            if content:
                kept.append(text + "{" + "".join(content) + "}")
        else:
            kept.append(text)
    return kept


@cache
def _parsed_rules(css: str, nested: bool = False) -> tuple[_Rule, ...]:
    """The stylesheet's rules with what each needs; parsed once per process (the same
    JupyterLab stylesheet is in every report)."""
    import tinycss2

    parse = tinycss2.parse_blocks_contents if nested else tinycss2.parse_stylesheet
    rules: list[_Rule] = []
    always = (frozenset(),)
    for node in parse(css, skip_whitespace=True, skip_comments=True):
        if node.type == "qualified-rule":
            rules.append((_required_classes(node.prelude), node.serialize(), None))
        elif node.type == "at-rule":
            keyword = node.lower_at_keyword
            if keyword in ("media", "supports") and node.content is not None:
                inner = _parsed_rules(tinycss2.serialize(node.content), nested=True)
                prelude = "@" + node.at_keyword + tinycss2.serialize(node.prelude)
                rules.append((always, prelude, inner))
            else:
                rules.append((always, node.serialize(), None))
        elif node.type == "declaration":  # inside a block's contents
            rules.append((always, node.serialize() + ";", None))
    return tuple(rules)


def _required_classes(prelude: list) -> tuple[frozenset, ...]:
    """Per selector of a list, the classes it names outside any function's parentheses."""
    selectors: list[frozenset] = []
    current: set[str] = set()
    after_dot = False
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(frozenset(current))
            current, after_dot = set(), False
            continue
        if after_dot and token.type == "ident":
            current.add(token.value)
        after_dot = token.type == "literal" and token.value == "."
    selectors.append(frozenset(current))
    return tuple(selectors)


# --- printing: a heading never ends a page ---------------------------------------------------
# The page is a row of cells, each a row of outputs: a heading is often an output of its
# own, its introduction the next output or the next cell, its chart or table the one after.

KEEP_WITH_NEXT = "avs-suite"  # the print CSS: no page break after it
_HEADINGS = ("h1", "h2", "h3", "h4")
_BLOCKS = ("table", "img", "ul", "ol", "figure", "svg")
_MAX_INTRODUCTION = 3  # paragraphs' outputs kept with a heading, at most
# an element's start tag: its name, then where its class's value starts, if it has one
_START_TAG = re.compile(r'<([a-zA-Z0-9]+)(?:[^>]*?\bclass="())?')


def keep_openings_together(body: str) -> str:
    """The page with each heading and its introduction marked to stay with what follows.

    Reading the page's outputs in order, an output that ends with a heading (nothing but
    text after it) is marked, and so are the text outputs after it, up to the first one
    with a chart, a table or a list, and the paragraphs that open that one: in print, a
    page never ends between them (the template's `.avs-suite`). A heading followed by
    text alone (« Méthode ») is kept with its first paragraph, not the whole section.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    main = soup.find("main")
    if main is None:
        return body
    parts = []
    for cell in main.find_all("div", class_="jp-Cell", recursive=False):
        if "jp-MarkdownCell" in cell.get("class", []):
            parts += cell.find_all("div", class_="jp-MarkdownOutput")
        else:
            parts += cell.find_all("div", class_="jp-OutputArea-child")
    kept: list = []
    opening: list = []  # a heading's output, then the text outputs after it
    for part in parts:
        kind = _kind(part)
        if opening and kind == "text" and len(opening) <= _MAX_INTRODUCTION:
            opening.append(part)
            continue
        if opening:
            # its first block follows: the heading and all its introduction stay with it
            # (with the paragraphs that open the block's own output); text alone follows:
            # the heading stays with its first paragraph only
            kept += opening + _leading_text(part) if kind == "block" else opening[:1]
        opening = [part] if kind == "heading" else []
    kept += opening[:1]
    return _with_class(body, kept)


def _with_class(body: str, elements: list) -> str:
    """The page with KEEP_WITH_NEXT added to these elements' classes, the rest of the page
    as nbconvert wrote it (byte for byte)."""
    starts = [0] + [match.end() for match in re.finditer("\n", body)]
    places = sorted(starts[element.sourceline - 1] + element.sourcepos for element in elements)
    pieces, done = [], 0
    for place in places:
        tag = _START_TAG.match(body, place)
        if tag[2] is None:  # no class yet
            at, added = tag.end(1), f' class="{KEEP_WITH_NEXT}"'
        else:
            at, added = tag.start(2), f"{KEEP_WITH_NEXT} "
        pieces += [body[done:at], added]
        done = at
    return "".join(pieces) + body[done:]


def _leading_text(part) -> list:
    """The paragraphs an output shows before its first chart, table or list."""
    container = part.find(class_="jp-RenderedHTMLCommon") or part
    leading = []
    for element in container.find_all(True, recursive=False):
        if element.name in _BLOCKS or element.find(_BLOCKS):
            break
        leading.append(element)
    return leading


def _kind(part) -> str:
    """« heading » for an output that ends with a heading (text at most after it), « block »
    for one with a chart, a table or a list, « text » for paragraphs alone."""
    found = part.find_all([*_HEADINGS, *_BLOCKS])
    if not found:
        return "text"
    return "heading" if found[-1].name in _HEADINGS else "block"
