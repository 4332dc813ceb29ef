"""A mistake in a notebook's parameters gives one French message, as the CLI does.

The evaluator edits the parameters cell in JupyterLab; a mistyped territory, a year
absent from the data or a missing file must read as a sentence with the valid values
(and the closest name), not a Python traceback. The cell still fails, so a batch
stops at it and names it.
"""

from __future__ import annotations

import json

import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from avs_eval import paths
from avs_eval.loading import closest, unknown_territory_message

pytestmark = pytest.mark.lent

NOTEBOOK = paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb"


def _error_output(tmp_path, **parameters) -> dict:
    out = tmp_path / "sortie.ipynb"
    with pytest.raises(PapermillExecutionError):
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(out),
            parameters={"dossier_sortie": str(tmp_path), **parameters},
            progress_bar=False,
            cwd=str(paths.PROJECT_ROOT),
        )
    notebook = json.loads(out.read_text(encoding="utf-8"))
    errors = [
        output
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert len(errors) == 1
    return errors[0]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"territoire": "Val dYzeron"}, "Vouliez-vous dire « Val d'Yzeron » ?"),
        ({"annee": 2019}, "aucune réponse pour l'année 2019 (années disponibles : 2022"),
        ({"fichier_reponses": "data/absent.csv"}, "fichier introuvable"),
    ],
    ids=["territoire", "annee", "fichier"],
)
def test_a_parameter_mistake_reads_as_one_french_message(tmp_path, parameters, expected):
    error = _error_output(tmp_path, **parameters)
    shown = "\n".join(error["traceback"])
    assert expected in shown
    assert "Traceback" not in shown
    assert "File " not in shown and ".py" not in shown
    assert len(shown.splitlines()) <= 5


def test_the_suggestion_is_the_cli_s():
    known = ["Lyon", "Val d'Yzeron", "Val de Saône"]
    assert closest("val d yzeron", known) == "Val d'Yzeron"
    assert closest("Paris", known) is None
    message = unknown_territory_message("Val dYzeron", known)
    assert message.startswith("territoire inconnu : « Val dYzeron ». Vouliez-vous dire")
    assert message.endswith("Territoires connus : Lyon, Val d'Yzeron, Val de Saône")
