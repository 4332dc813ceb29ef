"""The HTML page partners receive, from the reference executions of the notebooks."""

from __future__ import annotations

import re
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
