"""The HTML page partners receive, from the reference executions of the notebooks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from traitlets.config import Config

from avs_eval import export

REFERENCES = Path(__file__).parent / "references"
NOTEBOOKS = ["rapport_territoire", "synthese"]


def reference(name: str) -> nbformat.NotebookNode:
    return nbformat.read(REFERENCES / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_page_is_the_one_nbconvert_itself_writes(name):
    """Our faster exporter (fewer preprocessors, no BeautifulSoup pass) changes nothing.

    (Both pages without the style rules no element matches, whose removal is checked
    on its own and in a browser below.)

    The reference is nbconvert's stock HTMLExporter with all its preprocessors, tags
    removed by its own TagRemovePreprocessor, and its final BeautifulSoup pass; the
    pages are compared as parsed trees, since that pass re-serialises the markup.
    """
    notebook = reference(name)
    ours = export.notebook_to_html(notebook, "Titre")

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = export.REMOVED_TAGS
    stock = HTMLExporter(config=config, **export.EXPORTER_OPTIONS)
    stock.language_code = "fr"
    cleaned = export._clean(notebook)
    cleaned.metadata["title"] = "Titre"
    theirs, _ = stock.from_notebook_node(cleaned)
    theirs = export._strip_empty_cells(export.keep_openings_together(theirs))
    theirs = export.without_unused_styles(theirs)  # same rendering: see below

    assert "tabindex" in ours
    assert BeautifulSoup(ours, "html.parser") == BeautifulSoup(theirs, "html.parser")


def _page(*outputs: str) -> str:
    """A page as nbconvert lays it out: one code cell per group of outputs."""
    cells = "".join(
        '<div class="jp-Cell jp-CodeCell">'
        + "".join(
            f'<div class="jp-OutputArea-child"><div class="jp-RenderedHTMLCommon">{o}</div></div>'
            for o in group
        )
        + "</div>\n"
        for group in outputs
    )
    return f"<html><body><main>\n{cells}</main></body></html>"


def _kept(page: str) -> list[str]:
    soup = BeautifulSoup(export.keep_openings_together(page), "html.parser")
    return [e.get_text(" ", strip=True) for e in soup.select("." + export.KEEP_WITH_NEXT)]


def test_a_heading_and_its_introduction_are_kept_with_their_first_block():
    page = _page(
        ["<p></p><h2>1. Titre</h2>"],
        ["<p>Introduction.</p>"],
        ["<p>Note du tableau.</p><table><tr><td>1</td></tr></table><p>Après.</p>"],
        ["<h2>2. Méthode</h2>", "<p>Premier paragraphe.</p>", "<p>Second.</p>"],
        ["<h2>3. Images</h2>", '<img alt="x">', "<p>Légende.</p>"],
    )
    assert _kept(page) == [
        "1. Titre", "Introduction.", "Note du tableau.",  # its first block follows
        "2. Méthode",  # text alone follows: the heading only, not the section
        "3. Images",
    ]  # fmt: skip
    # nothing else of the page changes, byte for byte
    marked = export.keep_openings_together(page)
    assert (
        marked.replace(f"{export.KEEP_WITH_NEXT} ", "").replace(
            f' class="{export.KEEP_WITH_NEXT}"', ""
        )
        == page
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_chart_is_described_in_french_by_its_title(name):
    page = export.notebook_to_html(reference(name), "Titre")
    images = BeautifulSoup(page, "html.parser").find_all("img")
    assert images
    for image in images:
        alt = image.get("alt", "")
        assert alt and alt != "Graphique", image.attrs.keys()
        assert "description" not in alt.lower()
        assert not re.search(r"\s{2,}|\n", alt), alt  # the title on one line


# --- style rules no element can match --------------------------------------------------------

STYLED = """<html><head><style>
:root { --jp-ui-font-size1: 13px; }
body { margin: 0; }
.jp-Cell { padding: 0; }
.jp-FileBrowser .jp-DirListing { color: red; }
.jp-Cell, .jp-Menu { color: blue; }
.jp-Cell:not(.jp-mod-active) .jp-Collapser { display: none; }
:is(.jp-Toolbar, .jp-Cell) p { margin: 0; }
div.jp-Dialog > span { color: green; }
@font-face { font-family: X; src: local(X); }
@keyframes spin { from { opacity: 0; } to { opacity: 1; } }
@media print { .jp-Cell { display: block; } .jp-Menu { display: none; } }
@media screen { .jp-Menu { display: none; } }
</style></head><body class="jp-Notebook"><div class="jp-Cell jp-Collapser">x</div></body></html>
"""


def _rules(page: str) -> str:
    return re.sub(r"\s+", " ", re.search(r"<style>(.*)</style>", page, re.S)[1])


def test_rules_needing_a_class_the_page_lacks_are_dropped_the_others_kept_verbatim():
    kept = _rules(export.without_unused_styles(STYLED))
    for rule in (
        ":root { --jp-ui-font-size1: 13px; }",
        "body { margin: 0; }",
        ".jp-Cell { padding: 0; }",
        ".jp-Cell, .jp-Menu { color: blue; }",  # one selector of the list may match: all kept
        ".jp-Cell:not(.jp-mod-active) .jp-Collapser { display: none; }",  # :not needs nothing
        ":is(.jp-Toolbar, .jp-Cell) p { margin: 0; }",
        "@font-face { font-family: X; src: local(X); }",
        "@keyframes spin { from { opacity: 0; } to { opacity: 1; } }",
        "@media print {.jp-Cell { display: block; }}",
    ):
        assert rule in kept, rule
    for gone in (".jp-FileBrowser", ".jp-Dialog", ".jp-Menu { display: none; }", "@media screen"):
        assert gone not in kept, gone


def test_a_page_without_style_or_class_is_unchanged():
    page = "<html><body><p>Bonjour</p><style></style></body></html>"
    assert export.without_unused_styles(page) == page


@pytest.mark.lent
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_page_without_its_unused_rules_renders_the_same_on_screen_and_on_paper(name, tmp_path):
    """In Chromium, pixel for pixel: the whole page on screen, and every printed page."""
    import io
    import os
    import shutil

    from PIL import Image, ImageChops

    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("absent : chromium (.ci/run l'installe)")
        pytest.skip("absent : chromium")
    import asyncio

    from playwright.async_api import async_playwright

    from avs_eval import pdf

    notebook = reference(name)
    full = export.notebook_to_html(notebook, "Titre")
    unpruned = tmp_path / "complet.html"
    unpruned.write_text(_unpruned(notebook), encoding="utf-8")
    pruned = tmp_path / "allege.html"
    pruned.write_text(full, encoding="utf-8")
    assert len(full) < len(unpruned.read_text(encoding="utf-8")) - 100_000

    async def render(page, path: Path) -> tuple:
        await page.goto(path.as_uri(), wait_until="load")
        screen = await page.screenshot(full_page=True)
        paper = await page.pdf(format="A4", margin=pdf.MARGINS, print_background=True)
        return Image.open(io.BytesIO(screen)).convert("RGB"), paper

    async def both() -> list:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"))
            page = await browser.new_page(java_script_enabled=False)
            try:
                return [await render(page, path) for path in (unpruned, pruned)]
            finally:
                await browser.close()

    (screen_a, paper_a), (screen_b, paper_b) = asyncio.run(both())
    assert screen_a.size == screen_b.size
    assert ImageChops.difference(screen_a, screen_b).getbbox() is None
    for paper, label in ((paper_a, "a"), (paper_b, "b")):
        (tmp_path / f"{label}.pdf").write_bytes(paper)
    pages = {}
    for label in "ab":
        prefix = tmp_path / f"page-{label}"
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", str(tmp_path / f"{label}.pdf"), str(prefix)],
            check=True,
        )
        pages[label] = sorted(tmp_path.glob(f"page-{label}-*.png"))
    assert len(pages["a"]) == len(pages["b"]) > 1
    for a, b in zip(pages["a"], pages["b"], strict=True):
        difference = ImageChops.difference(
            Image.open(a).convert("RGB"), Image.open(b).convert("RGB")
        )
        assert difference.getbbox() is None, a.name


def _unpruned(notebook) -> str:
    """The page as it was before the unused rules were dropped."""
    original = export.without_unused_styles
    export.without_unused_styles = lambda page: page
    try:
        return export.notebook_to_html(notebook, "Titre")
    finally:
        export.without_unused_styles = original
