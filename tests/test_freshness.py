"""Re-runs cost only what changed: each kind of input, changed in turn, re-makes exactly
the reports that depend on it, and the others are carried over byte for byte.

One copy of the project (small data: three territories and the synthesis) goes through
a sequence of batches; each step changes one thing and checks the manifest's list of
re-made reports, its reasons, and the bytes of every report carried over.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import MINI_DIR, copy_project, run_cli

from avs_eval import freshness
from avs_eval.freshness import Dependencies, Report

YEAR = 2024
ALL = {"Lyon", "Villeurbanne", "Ouest Rhône", "Synthèse"}
FOLDERS = {"Lyon": "lyon", "Villeurbanne": "villeurbanne", "Ouest Rhône": "ouest-rhone"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("reprise") / "avs-eval", "commentaires")
    shutil.copytree(MINI_DIR, root / "data" / "mini")
    return root


def batch(project: Path, *extra: str) -> subprocess.CompletedProcess:
    done = run_cli(
        "rapports",
        "--structures", "data/mini/structures.csv", "--reponses", "data/mini/reponses.csv",
        "--annee", str(YEAR), "--min-effectif", "2", "--jobs", "2", "--sortie", "outputs",
        *extra,
        project=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def manifest(project: Path) -> dict:
    return json.loads((project / "outputs" / str(YEAR) / "manifest.json").read_text("utf-8"))


def remade(project: Path) -> dict[str, str]:
    """Re-made report -> why, as the manifest says."""
    return {e["nom"]: e["raison"] for e in manifest(project)["notebooks"] if e["refait"]}


def files_of(project: Path) -> dict[str, dict[str, str]]:
    """Each report's published files and their bytes' fingerprints."""
    year = project / "outputs" / str(YEAR)
    reports = [Report(name, folder) for name, folder in FOLDERS.items()]
    reports.append(Report("Synthèse", freshness.SYNTHESIS))
    return {
        r.name: {
            name: hashlib.sha256((year / name).read_bytes()).hexdigest()
            for name in freshness.owned_files(year, r, YEAR)
        }
        for r in reports
        if r.folder == freshness.SYNTHESIS or (year / r.folder).is_dir()
    }


def commentary(project: Path, slug: str, text: str) -> None:
    path = project / "parameters" / "commentaires" / str(YEAR) / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"## Chiffres clés\n\n{text}\n", encoding="utf-8")


def change_one_answer(project: Path) -> None:
    path = project / "data" / "mini" / "reponses.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    column = header.index("permanence_partenaire")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(",")
        if cells[1] == str(YEAR) and cells[column] in ("oui", "non"):
            cells[column] = "non" if cells[column] == "oui" else "oui"
            lines[i] = ",".join(cells) + "\n"
            break
    path.write_text("".join(lines), encoding="utf-8")


def touch_notebook(project: Path) -> None:
    path = project / "notebooks" / "rapport_territoire.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.source += "\n# modifié par le test"
    nbformat.write(notebook, path)


def save_with_outputs(project: Path) -> None:
    """What JupyterLab writes when the evaluator runs every cell and saves (issue 27)."""
    path = project / "notebooks" / "rapport_territoire.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        cell.metadata["scrolled"] = True
        if cell.cell_type == "code":
            cell.execution_count = number
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="sortie\n")]
    notebook.metadata["language_info"] = {"name": "python", "version": "3.12.9"}
    nbformat.write(notebook, path)


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.lent
def test_each_kind_of_input_remakes_exactly_the_reports_that_depend_on_it(project):
    # every report is new
    batch(project)
    assert remade(project) == dict.fromkeys(ALL, freshness.NEW)
    before = files_of(project)

    def step(expected: dict[str, str], *extra: str) -> None:
        """Run a batch; `expected` re-made with these reasons, the others byte-identical."""
        nonlocal before
        done = batch(project, *extra)
        assert remade(project) == expected, done.stdout
        after = files_of(project)
        for name in ALL - set(expected):
            assert after[name] == before[name], f"{name} a changé sans être refait"
        before = after
        index = (project / "outputs" / str(YEAR) / "index.html").read_text(encoding="utf-8")
        for name in ALL:
            assert name in index

    # nothing changed: nothing re-made, no kernel started
    step({})
    assert manifest(project)["repris"] == 4
    assert manifest(project)["options"]["jobs"] == 0
    # a territory's commentary concerns its report only; the synthesis's, the synthesis
    commentary(project, "lyon", "Texte de l'évaluateur.")
    step({"Lyon": freshness.COMMENTARY})
    commentary(project, "synthese", "Texte de la synthèse.")
    step({"Synthèse": freshness.COMMENTARY})
    # the empty templates of `avs-eval commentaires`, and a notebook saved after a run
    run_cli(
        "commentaires", "--annee", str(YEAR),
        "--structures", "data/mini/structures.csv", "--reponses", "data/mini/reponses.csv",
        project=project, check=True,
    )  # fmt: skip
    assert (project / "parameters" / "commentaires" / str(YEAR) / "villeurbanne.md").is_file()
    step({})
    save_with_outputs(project)
    step({})
    # what every report depends on
    everything = freshness.COMPONENTS
    change_one_answer(project)
    step(dict.fromkeys(ALL, everything["donnees"]))
    touch_notebook(project)
    step(dict.fromkeys(ALL, everything["notebooks"]))
    append(project / "avs_eval" / "analyse.py", "\n# modifié par le test\n")
    step(dict.fromkeys(ALL, everything["code"]))
    append(project / "parameters" / "config.yaml", "\n# modifié par le test\n")
    step(dict.fromkeys(ALL, everything["parametres"]))
    step(dict.fromkeys(ALL, everything["options"]), "--verbatims")
    step({}, "--verbatims")
    step(dict.fromkeys(ALL, freshness.EVERYTHING), "--verbatims", "--tout")


@pytest.mark.lent
def test_a_partial_run_keeps_every_other_report_and_the_next_full_run_updates_them(project):
    batch(project, "--verbatims")  # start from an up-to-date year
    before = files_of(project)
    change_one_answer(project)
    done = batch(project, "--verbatims", "--territoire", "Lyon")
    assert remade(project) == {
        "Lyon": freshness.COMPONENTS["donnees"],
        "Synthèse": freshness.COMPONENTS["donnees"],
    }
    after = files_of(project)
    for name in ("Villeurbanne", "Ouest Rhône"):  # kept as they were, said out of date
        assert after[name] == before[name]
        entry = next(e for e in manifest(project)["notebooks"] if e["nom"] == name)
        assert "à refaire : données modifiées" in entry["raison"]
    assert "non refait" in done.stdout
    index = (project / "outputs" / str(YEAR) / "index.html").read_text(encoding="utf-8")
    for folder in FOLDERS.values():
        assert f'href="{folder}/rapport.html"' in index
    # a named territory is re-made even when nothing changed
    batch(project, "--verbatims", "--territoire", "Lyon")
    assert remade(project) == {"Lyon": freshness.ASKED, "Synthèse": freshness.ASKED}
    # the next full batch updates the two left out of date, and only them
    batch(project, "--verbatims")
    assert set(remade(project)) == {"Villeurbanne", "Ouest Rhône"}


@pytest.mark.lent
def test_a_published_file_changed_by_hand_gets_its_report_remade(project):
    batch(project, "--verbatims")
    year = project / "outputs" / str(YEAR)
    (year / "villeurbanne" / "indicateurs.csv").unlink()
    batch(project, "--verbatims")
    assert remade(project) == {"Villeurbanne": freshness.FILES_CHANGED}
    assert (year / "villeurbanne" / "indicateurs.csv").is_file()


@pytest.mark.lent
def test_the_state_stays_out_of_the_year_that_partners_receive(project):
    batch(project, "--verbatims")
    state = project / "outputs" / freshness.STATE_DIR / f"{YEAR}.json"
    assert state.is_file()
    recorded = json.loads(state.read_text(encoding="utf-8"))
    assert set(recorded["rapports"]) == {*FOLDERS.values(), freshness.SYNTHESIS}
    for path in (project / "outputs" / str(YEAR)).rglob("*"):
        if path.suffix in (".json", ".html", ".csv", ".ipynb"):
            assert recorded["donnees"]["empreinte"] not in path.read_text(encoding="utf-8")


# --- the decision itself, without a batch ----------------------------------------------


def dependencies(**changed: str) -> Dependencies:
    components = {key: f"{key}-1" for key in freshness.COMPONENTS}
    return Dependencies({**components, **changed}, {})


@pytest.fixture
def published(tmp_path) -> tuple[Path, dict]:
    """A year with one territory and the synthesis, and the state that describes it."""
    year = tmp_path / "2024"
    (year / "lyon").mkdir(parents=True)
    (year / "lyon" / "rapport.html").write_text("lyon", encoding="utf-8")
    (year / "synthese.html").write_text("synthèse", encoding="utf-8")
    (year / "index.html").write_text("sommaire", encoding="utf-8")
    reports = {}
    for report in (Report("Lyon", "lyon"), Report("Synthèse", ".")):
        reports[report.folder] = freshness.entry_for(report, year, 2024, dependencies(), "")
    return year, {"rapports": reports}


REPORTS = [Report("Lyon", "lyon"), Report("Synthèse", ".")]
NO_COMMENTARY = {"lyon": "", ".": ""}


@pytest.mark.parametrize("component", list(freshness.COMPONENTS))
def test_a_change_of_any_common_input_remakes_every_report(published, component):
    year, state = published
    changed = dependencies(**{component: "autre"})
    decisions = freshness.plan(REPORTS, state, year, 2024, changed, NO_COMMENTARY)
    assert [(d.remake, d.reasons) for d in decisions] == [
        (True, [freshness.COMPONENTS[component]])
    ] * 2


def test_the_environment_is_python_and_the_declared_libraries():
    versions = freshness.environment()
    assert {"python", "pandas", "matplotlib", "nbconvert", "papermill"} <= set(versions)
    assert "pytest" not in versions  # the tests' packages make no report


def test_unchanged_reports_are_carried_over_and_a_missing_file_is_noticed(published):
    year, state = published
    decisions = freshness.plan(REPORTS, state, year, 2024, dependencies(), NO_COMMENTARY)
    assert [d.remake for d in decisions] == [False, False]
    assert decisions[0].previous["fichiers"] == {"lyon/rapport.html": freshness.sha256(
        year / "lyon" / "rapport.html"
    )}  # fmt: skip
    (year / "lyon" / "rapport.html").write_text("modifié à la main", encoding="utf-8")
    decisions = freshness.plan(REPORTS, state, year, 2024, dependencies(), NO_COMMENTARY)
    assert [(d.remake, d.reasons) for d in decisions] == [
        (True, [freshness.FILES_CHANGED]),
        (False, []),
    ]


def test_the_synthesis_owns_the_top_files_but_not_the_index_nor_the_manifest(published):
    year, _ = published
    (year / "manifest.json").write_text("{}", encoding="utf-8")
    (year / "envoi").mkdir()
    (year / "envoi" / "synthese-2024.pdf").write_bytes(b"%PDF")
    (year / "envoi" / "lyon-2024.pdf").write_bytes(b"%PDF")
    assert freshness.owned_files(year, Report("Synthèse", "."), 2024) == [
        "envoi/synthese-2024.pdf",
        "synthese.html",
    ]
    assert freshness.owned_files(year, Report("Lyon", "lyon"), 2024) == [
        "envoi/lyon-2024.pdf",
        "lyon/rapport.html",
    ]
