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
# the page: our template, no code and no prompts
EXPORTER_OPTIONS = {
    "template_name": "rapport",
    "extra_template_basedirs": [str(TEMPLATE_DIR)],
    "exclude_input": True,
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
}
REMOVED_TAGS = {"consignes", "widgets", "remove-cell", "parameters", "injected-parameters"}


def _page_exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        """nbconvert's HTML exporter without its final pass over the finished page.

        That pass parses the whole page with BeautifulSoup (mostly base64 charts: a
        third of the export's time) to add an English alt text to images without one
        and keyboard focus to outputs. The template writes the chart's alt text in
        French, and `_focusable` adds the focus. The filters are the ones
        HTMLExporter.from_notebook_node registers before rendering.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            resources = self._init_resources(resources)
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name"))
            self.register_filter(
                "highlight_code",
                self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
                ),
            )
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            body, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _focusable(body), resources

    return PageExporter


# what nbconvert makes focusable: outputs, and the rendered markdown of text cells
_FOCUSABLE = re.compile(
    r'(<div class="[^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"]*")'
)


def _focusable(body: str) -> str:
    """Outputs reachable with the keyboard, as nbconvert's own pass makes them."""
    return _FOCUSABLE.sub(r'\1 tabindex="0"', body)


@cache
def _exporter():
    from traitlets.config import Config

    config = Config()
    # Only the preprocessor the template needs (its CSS): nbconvert validates the whole
    # notebook after each preprocessor, enabled or not, and its default list has 12.
    # Tagged cells are dropped in `_clean`.
    config.HTMLExporter.default_preprocessors = [
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"
    ]
    exporter = _page_exporter_class()(config=config, **EXPORTER_OPTIONS)
    exporter.language_code = "fr"
    return exporter


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
    body, _ = _exporter().from_notebook_node(notebook)
    return _strip_empty_cells(body)


# a code cell left with nothing to show (the template writes its id before its class)
_EMPTY_CELL = re.compile(
    r'<div\b[^>]*\bclass="jp-Cell jp-CodeCell jp-Notebook-cell[^"]*"[^>]*>\s*</div>', re.S
)


def _strip_empty_cells(body: str) -> str:
    return _EMPTY_CELL.sub("", body)
