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
    theirs = export._strip_empty_cells(theirs)

    assert "tabindex" in ours
    assert BeautifulSoup(ours, "html.parser") == BeautifulSoup(theirs, "html.parser")


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
