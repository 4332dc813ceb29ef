"""Executed notebooks to HTML pages that partners can open offline.

The export runs in-process with nbconvert's API (no `jupyter nbconvert` call per
report) and one exporter per process. The page has no code, no prompts, no
instructions meant for the evaluator (cells tagged `consignes`), no widgets and no
outside script: every figure is an embedded PNG.
"""

from __future__ import annotations

import copy
import re
from functools import cache

import nbformat
from nbformat import NotebookNode

from avs_eval import paths

TEMPLATE_DIR = paths.PROJECT_ROOT / "avs_eval" / "templates"
REMOVED_TAGS = {"consignes", "widgets", "remove-cell", "parameters", "injected-parameters"}


@cache
def _exporter():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = REMOVED_TAGS
    config.HTMLExporter.preprocessors = ["nbconvert.preprocessors.TagRemovePreprocessor"]
    exporter = HTMLExporter(
        config=config,
        template_name="rapport",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.language_code = "fr"
    return exporter


def _clean(notebook: NotebookNode) -> NotebookNode:
    """Drop what a partner must not see: stderr, empty outputs, widget views."""
    notebook = copy.deepcopy(notebook)
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
    body, _ = _exporter().from_notebook_node(notebook)
    return _strip_empty_cells(body)


_EMPTY_CELL = re.compile(
    r'<div class="jp-Cell jp-CodeCell jp-Notebook-cell[^"]*"[^>]*>\s*</div>', re.S
)


def _strip_empty_cells(body: str) -> str:
    return _EMPTY_CELL.sub("", body)
