"""The notebooks' contract: parameters, kernelspec, no outputs, references in step."""

from __future__ import annotations

import configparser
import re

import nbformat
import papermill
import pytest

from avs_eval import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
REFERENCES = paths.PROJECT_ROOT / "tests" / "references"
EXPECTED_PARAMETERS = {
    "territoire": "str",
    "annee": "int",
    "fichier_structures": "str",
    "fichier_reponses": "str",
    "classeur": "str",
    "dossier_sortie": "str",
    "min_effectif": "int",
    "verbatims": "bool",
    "interne": "bool",
    "fond_de_carte": "str",
    "champ_insee": "str",
    "communes_territoires": "str",
}


def code_cells(notebook) -> list[str]:
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]


def test_report_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"rapport_territoire.ipynb", "synthese.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs
            assert cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_typed_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    inspected = papermill.inspect_notebook(str(path))
    types = {name: info["inferred_type_name"] for name, info in inspected.items()}
    if path.name in ("rapport_territoire.ipynb", "synthese.ipynb"):
        assert types == EXPECTED_PARAMETERS
        assert inspected["min_effectif"]["default"] == "0"  # 0: parameters/config.yaml
        assert inspected["verbatims"]["default"] == "False"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_reference_execution_holds_the_committed_code(path):
    reference = REFERENCES / path.name
    if path.name not in ("rapport_territoire.ipynb", "synthese.ipynb"):
        pytest.skip("pas d'exécution de référence pour ce notebook")
    assert reference.exists(), "lancez `make regenerer`"
    committed = nbformat.read(path, as_version=4)
    executed = nbformat.read(reference, as_version=4)
    assert code_cells(executed) == code_cells(committed), "références périmées : make regenerer"
    checked = [
        c
        for c in executed.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    assert all("nbval-check-output" in c.metadata.get("tags", []) for c in checked)


def test_sanitize_file_patterns_compile():
    config = configparser.ConfigParser()
    config.read(paths.PROJECT_ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    assert config.sections()
    for section in config.sections():
        re.compile(config[section]["regex"])
