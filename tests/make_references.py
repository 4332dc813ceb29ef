"""Regenerate the notebooks' reference executions (`make regenerer`, with the mapping).

Each committed notebook is executed by Papermill on the small fixture
`tests/fixtures/mini` and saved under `tests/references/`, with every code cell
tagged `nbval-check-output`: nbval then re-runs it and fails on any changed
number in a report table (images are not compared; dates, hashes and versions
are sanitised by `tests/nbval_sanitize.cfg`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "tests" / "references"
FIXTURE = "tests/fixtures/mini"
PARAMETERS = {
    "fichier_structures": f"{FIXTURE}/structures.csv",
    "fichier_reponses": f"{FIXTURE}/reponses.csv",
    "annee": 2024,
    "min_effectif": 2,
    "dossier_sortie": "outputs/references",
}
RUNS = {
    "rapport_territoire.ipynb": {"territoire": "Lyon"},
    "synthese.ipynb": {"territoire": ""},
    # the bilan over the fixture's years (0: the schéma's period clipped to the data)
    "bilan.ipynb": {"debut": 0, "fin": 0, "annee": None},
}
CHECK = "nbval-check-output"


def main(names: list[str]) -> int:
    """Every reference, or those of the notebooks named on the command line."""
    REFERENCES.mkdir(exist_ok=True)
    for name, extra in RUNS.items():
        if names and name not in names:
            continue
        target = REFERENCES / name
        papermill.execute_notebook(
            str(ROOT / "notebooks" / name),
            str(target),
            # None: a parameter the notebook does not have (the bilan has no `annee`)
            parameters={k: v for k, v in {**PARAMETERS, **extra}.items() if v is not None},
            cwd=str(ROOT / "notebooks"),
            progress_bar=False,
        )
        notebook = nbformat.read(target, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                tags = cell.metadata.setdefault("tags", [])
                if CHECK not in tags:
                    tags.append(CHECK)
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        notebook.metadata.pop("papermill", None)
        nbformat.write(notebook, target)
        print(f"référence écrite : {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
