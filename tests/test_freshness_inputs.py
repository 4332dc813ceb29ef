"""What a report is made from is what its fingerprint holds: no more, no less.

A report is carried over from the previous batch when nothing it was made from has
changed (`avs_eval.freshness`). Too little in the fingerprint serves a stale report
(a commune renamed in a Shapefile's `.dbf` while only the `.shp` was hashed); too
much re-makes every report for nothing (a notebook saved from JupyterLab with its
outputs, the empty commentary templates of `avs-eval commentaires`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import copy_project

from avs_eval import commentaires, freshness, paths
from avs_eval.freshness import Dependencies, Report
from avs_eval.sources import DataSource

MINI = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"
YEAR = 2024


def write_shapefile(target: Path) -> Path:
    """The shipped GeoJSON background as a Shapefile (.shp, .shx, .dbf, .prj, .cpg)."""
    from pyogrio.raw import read, write

    meta, _, geometry, values = read(paths.DEFAULT_BACKGROUND)
    target.parent.mkdir(parents=True, exist_ok=True)
    write(
        target, geometry, values, meta["fields"], geometry_type="MultiPolygon",
        promote_to_multi=True, crs=meta["crs"], encoding="UTF-8",
    )  # fmt: skip
    return target


def collect(map_files: list[Path], notebooks: list[Path] = ()) -> Dependencies:
    return Dependencies.collect(DataSource.sample(), map_files, notebooks, {})


# --- a Shapefile is five files --------------------------------------------------------


def test_a_commune_renamed_in_the_dbf_remakes_the_reports(tmp_path):
    """The bug: only the `.shp` was hashed, so a commune renamed in the `.dbf` (same
    length, same `.shp`) left « Villeurbanne » on its carried-over report, while
    `--tout` printed the new name."""
    shp = write_shapefile(tmp_path / "carte" / "communes.shp")
    before = collect([shp])
    dbf = shp.with_suffix(".dbf")
    data = dbf.read_bytes()
    assert data.count(b"Villeurbanne") == 1
    dbf.write_bytes(data.replace(b"Villeurbanne", b"Villeurbonne"))
    after = collect([shp])
    assert after.components["donnees"] != before.components["donnees"]
    year = tmp_path / "sortie" / str(YEAR)
    (year / "villeurbanne").mkdir(parents=True)
    (year / "villeurbanne" / "rapport.html").write_text("Villeurbanne", encoding="utf-8")
    report = Report("Villeurbanne", "villeurbanne")
    state = {"rapports": {"villeurbanne": freshness.entry_for(report, year, YEAR, before, "")}}
    decisions = freshness.plan([report], state, year, YEAR, after, {"villeurbanne": ""})
    assert [(d.remake, d.reasons) for d in decisions] == [(True, [freshness.COMPONENTS["donnees"]])]


@pytest.mark.parametrize("suffix", [".shx", ".prj", ".cpg"])
def test_every_file_of_a_shapefile_is_in_the_fingerprint(tmp_path, suffix):
    shp = write_shapefile(tmp_path / "communes.shp")
    before = collect([shp])
    with open(shp.with_suffix(suffix), "ab") as handle:
        handle.write(b" ")
    assert collect([shp]).components["donnees"] != before.components["donnees"]


def test_files_of_another_map_in_the_same_folder_are_not(tmp_path):
    shp = write_shapefile(tmp_path / "communes.shp")
    before = collect([shp])
    (tmp_path / "communes-2019.dbf").write_bytes(b"autre fond")
    (tmp_path / "LISEZMOI.md").write_text("notes", encoding="utf-8")
    assert collect([shp]).components["donnees"] == before.components["donnees"]


# --- a notebook saved with its outputs is the same notebook -----------------------------


def saved_after_a_run(path: Path) -> None:
    """What JupyterLab writes when the evaluator runs every cell and saves."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        cell.metadata["collapsed"] = False
        cell.metadata["scrolled"] = True
        cell.metadata["execution"] = {"iopub.status.busy": "2025-03-01T10:00:00"}
        cell.id = f"cellule-{number}"
        if cell.cell_type == "code":
            cell.execution_count = number
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="sortie\n"),
                nbformat.v4.new_output("display_data", data={"text/html": "<b>Lyon</b>"}),
            ]
    notebook.metadata["language_info"] = {"name": "python", "version": "3.12.9"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    notebook.metadata["toc-autonumbering"] = True
    nbformat.write(notebook, path)


def test_a_notebook_saved_with_its_outputs_is_the_same_notebook(tmp_path):
    """Issue 27: Run All then Ctrl+S in JupyterLab (13 KB -> 453 KB) re-made all 16
    reports, « notebook modifié », though no line of code changed."""
    notebook = tmp_path / "rapport_territoire.ipynb"
    shutil.copy(paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb", notebook)
    before = collect([], [notebook]).components["notebooks"]
    saved_after_a_run(notebook)
    assert collect([], [notebook]).components["notebooks"] == before


@pytest.mark.parametrize("change", ["source", "tags", "markdown", "kernel"])
def test_a_notebook_whose_code_text_or_tags_change_is_another(tmp_path, change):
    notebook = tmp_path / "rapport_territoire.ipynb"
    shutil.copy(paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb", notebook)
    before = collect([], [notebook]).components["notebooks"]
    content = nbformat.read(notebook, as_version=4)
    code = next(c for c in content.cells if c.cell_type == "code")
    text = next(c for c in content.cells if c.cell_type == "markdown")
    if change == "source":
        code.source += "\nprint('modifié')"
    elif change == "tags":
        code.metadata["tags"] = [*code.metadata.get("tags", []), "remove-input"]
    elif change == "markdown":
        text.source += " Phrase ajoutée."
    else:
        content.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    nbformat.write(content, notebook)
    assert collect([], [notebook]).components["notebooks"] != before


# --- an empty commentary template is no commentary --------------------------------------


@pytest.fixture
def parameters(tmp_path, monkeypatch) -> Path:
    """A parameters/ folder of its own, so the commentaries written here are the test's."""
    folder = tmp_path / "parameters"
    folder.mkdir()
    monkeypatch.setattr(paths, "PARAMETERS_DIR", folder)
    return folder


def test_the_templates_of_avs_eval_commentaires_remake_nothing(parameters):
    """Issue 27: `avs-eval commentaires` (empty templates only) re-made all 16 reports,
    each « commentaire de l'évaluateur modifié »."""
    assert freshness.commentary_digest(YEAR, "lyon") == ""
    created, _ = commentaires.create_missing(YEAR, {"Lyon": "lyon"})
    assert len(created) == 2
    assert freshness.commentary_digest(YEAR, "lyon") == ""
    assert freshness.commentary_digest(YEAR, commentaires.SYNTHESIS_NAME) == ""
    # blank lines and spaces added to the template, or Windows line ends: still nothing
    path = commentaires.path_for(YEAR, "lyon")
    edited = "\r\n\r\n".join(path.read_text(encoding="utf-8").splitlines()) + "\r\n   \r\n"
    path.write_bytes(edited.encode("utf-8"))
    assert freshness.commentary_digest(YEAR, "lyon") == ""


def test_real_text_in_a_commentary_remakes_its_report(parameters):
    commentaires.create_missing(YEAR, {"Lyon": "lyon"})
    path = commentaires.path_for(YEAR, "lyon")
    template = path.read_text(encoding="utf-8")
    path.write_text(template + "\nLa permanence a doublé.\n", encoding="utf-8")
    written = freshness.commentary_digest(YEAR, "lyon")
    assert written != ""
    path.write_text(template + "\nLa permanence a triplé.\n", encoding="utf-8")
    assert freshness.commentary_digest(YEAR, "lyon") not in ("", written)
    # the same text with a BOM and Windows line ends is the same commentary
    text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert freshness.commentary_digest(YEAR, "lyon") not in ("", written)


# --- every file a report reads, traced ----------------------------------------------------

OPEN = re.compile(r'\b(?:openat|open)\((?:AT_FDCWD, )?"((?:[^"\\]|\\.)*)", ([A-Z_|]+)')
WRITING = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_DIRECTORY")


def opened_for_reading(trace: Path) -> set[Path]:
    """The files opened for reading by the batch and every process it started."""
    found = set()
    for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
        match = OPEN.search(line)
        if match and not any(flag in match.group(2) for flag in WRITING):
            found.add(Path(match.group(1).encode().decode("unicode_escape")))
    return found


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace absent (Linux seulement)")
def test_every_file_a_report_reads_is_in_its_fingerprint(tmp_path):
    """A batch traced with strace (the kernels, the workers and GDAL's own opens from C,
    which no Python audit hook sees), with a Shapefile background and a commune table:
    every file of the project or of the data that it reads is fingerprinted, else a
    change to it would leave a stale report. On the code before this test, the
    Shapefile's `.dbf`, `.shx`, `.prj` and `.cpg` were read and not fingerprinted."""
    project = tmp_path / "avs-eval"
    copy_project(project, "commentaires")  # as the incremental batches make it
    shutil.copytree(MINI, project / "data" / "mini")
    write_shapefile(project / "data" / "carte" / "communes.shp")
    home = tmp_path / "home"  # jupyter's and matplotlib's caches, outside the project
    home.mkdir()
    table = project / "data" / "carte" / "communes_territoires.csv"
    table.write_text(
        "code_insee,territoire\n69123,Lyon\n69266,Villeurbanne\n"
        "69006,Ouest Rhône\n69243,Ouest Rhône\n",
        encoding="utf-8",
    )
    trace = tmp_path / "ouvertures.txt"
    probe = subprocess.run(
        ["strace", "-f", "-qq", "--seccomp-bpf", "-o", os.devnull, "true"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("strace refusé ici (ptrace interdit)")
    done = subprocess.run(
        [
            "strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat", "-o", str(trace),
            sys.executable, "-m", "avs_eval.cli", "rapports",
            "--structures", "data/mini/structures.csv", "--reponses", "data/mini/reponses.csv",
            "--annee", str(YEAR), "--min-effectif", "2", "--jobs", "1", "--sortie", "outputs",
            "--fond-de-carte", "data/carte/communes.shp",
            "--communes-territoires", "data/carte/communes_territoires.csv",
        ],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    opened = {p for p in opened_for_reading(trace) if p.is_absolute() and p.is_file()}
    outputs = project / "outputs"
    # the secrecy audit's results (`.cache/audit/`) are read back by the content of the
    # table they audit (`secrecy._audited`): a cache of what is fingerprinted, not an input
    cache = project / ".cache"
    read = sorted(
        p
        for p in opened
        if project in p.parents
        and not {outputs, cache} & set(p.parents)
        and "__pycache__" not in p.parts
    )
    manifest = json.loads((outputs / str(YEAR) / "manifest.json").read_text("utf-8"))
    assert manifest["refaits"] == 4
    # the batch's own fingerprints, computed the way it computes them, moved to the copy
    dependencies = Dependencies.collect(
        DataSource(project / "data/mini/structures.csv", project / "data/mini/reponses.csv"),
        [project / "data/carte/communes.shp", table],
        [project / "notebooks/rapport_territoire.ipynb", project / "notebooks/synthese.ipynb"],
        {},
    )
    relocated = Dependencies(
        dependencies.components,
        dependencies.files,
        tuple(_relocate(p, project) for p in dependencies.sources),
    )
    # what the reports are known to read: a trace that saw none of them traced nothing
    names = {p.relative_to(project).as_posix() for p in read}
    assert {"data/carte/communes.dbf", "data/mini/reponses.csv"} <= names, names
    assert any(name.startswith("avs_eval/templates/") for name in names), names
    assert any(name.startswith("parameters/") for name in names), names
    unfingerprinted = [p.relative_to(project).as_posix() for p in read if not relocated.covers(p)]
    assert unfingerprinted == []


def _relocate(path: Path, project: Path) -> Path:
    """A path of the package's own project, moved to the copy the batch ran in."""
    root = paths.PROJECT_ROOT.resolve()
    return project / path.relative_to(root) if root in (path, *path.parents) else path


# --- the data's date, printed in every report ---------------------------------------------


def test_the_data_files_date_shown_in_every_report_is_in_the_fingerprint(tmp_path):
    """Reports print « fichiers du JJ/MM/AAAA » (the data files' date). Carried over on
    their bytes alone, they kept the date of the files they were made from while the
    same bytes, copied back with another date, gave another date to every report
    re-made beside them and to `--tout`."""
    structures, reponses = tmp_path / "structures.csv", tmp_path / "reponses.csv"
    shutil.copy(MINI / "structures.csv", structures)
    shutil.copy(MINI / "reponses.csv", reponses)
    source = DataSource(structures, reponses)
    for path in source.files:
        os.utime(path, (1_699_963_200, 1_699_963_200))  # 14/11/2023 at noon (UTC)
    before = Dependencies.collect(source, [], [], {}).components["donnees"]
    os.utime(reponses, (1_699_963_260, 1_699_963_260))  # a minute later: the same day
    assert Dependencies.collect(source, [], [], {}).components["donnees"] == before
    os.utime(reponses, (1_710_000_000, 1_710_000_000))  # copied in March, same bytes
    assert Dependencies.collect(source, [], [], {}).components["donnees"] != before
    assert freshness.data_day(source.files) == "09/03/2024"


@pytest.mark.lent
def test_the_data_copied_again_keeps_the_data_s_date_in_every_report(tmp_path):
    """The provenance line gives the data's date, not the day the files were copied: the
    same bytes copied again (a new modification time) leave every report, carried over or
    re-made, saying « fichiers du 14/11/2023 », and re-make nothing but what is asked."""
    from conftest import data_options, run_cli

    structures, reponses = tmp_path / "structures.csv", tmp_path / "reponses.csv"
    shutil.copy(MINI / "structures.csv", structures)
    shutil.copy(MINI / "reponses.csv", reponses)
    for path in (structures, reponses):
        os.utime(path, (1_699_963_200, 1_699_963_200))  # 14/11/2023 at noon (UTC)
    out = tmp_path / "sortie"
    data = data_options(structures, reponses)
    done = run_cli("rapports", *data, "--sortie", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    for path in (structures, reponses):  # copied again in March: same bytes, another date
        os.utime(path, (1_710_000_000, 1_710_000_000))
    done = run_cli("rapports", *data, "--sortie", str(out), "--territoire", "Lyon")
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((out / str(YEAR) / "manifest.json").read_text(encoding="utf-8"))
    pages = sorted((out / str(YEAR)).rglob("*.html"))
    pages = [page for page in pages if page.name != "index.html"]
    assert len(pages) == 4  # three territories and the synthesis
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "fichiers du 14/11/2023" in text, page
        assert "09/03/2024" not in text
    # the same data: Lyon and the synthesis re-made as asked, the others carried over
    assert (manifest["refaits"], manifest["repris"]) == (2, 2)
    assert {entry["modifie_le"] for entry in manifest["entrees"].values()} == {"2023-11-14"}
