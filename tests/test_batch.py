"""`avs-eval rapports` end to end: real kernels, one shared batch run, French output.

One batch (module fixture) produces three territory reports and the synthesis from
a copy of the sample data where "Val d'Yzeron" is renamed with a `/` and a `'`,
through a report notebook that fails on purpose for "Plateau Nord". The tests then
read what the batch left on disk: the pages, the tables, the index, the manifest,
the journal. The batch runs twice: on the POSIX path and on the portable one
(`AVS_EVAL_PORTABLE=1`: TCP kernels, no signals of our own), the Windows code path.
"""

from __future__ import annotations

import csv
import getpass
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import data_options, environment, report_notebook_with, run_cli

from avs_eval import freshness, paths, plateforme, publication
from avs_eval.errors import EnvironmentProblem
from avs_eval.indicators import COLUMNS
from avs_eval.loading import load
from avs_eval.sources import DataSource

YEAR = 2025
RENAMED = "Val d'Yzeron / Coteaux"
SMALL = "Ouest Nord"  # 4 structures: every territory-level share is secret
FAILING = "Plateau Nord"
FAILURE_MESSAGE = "échec volontaire"
HEADER = ",".join(COLUMNS)  # the machine form (the CLI's)
# the published form, opened by French Excel: `;`, the labels beside the codes
PUBLISHED_COLUMNS = list(COLUMNS)
PUBLISHED_COLUMNS.insert(PUBLISHED_COLUMNS.index("indicateur") + 1, "libelle")
PUBLISHED_COLUMNS.insert(PUBLISHED_COLUMNS.index("modalite") + 1, "libelle_modalite")
PUBLISHED_HEADER = ";".join(PUBLISHED_COLUMNS)
LOCK_NAME = publication.LOCK_NAME


def rename_territory(source: Path, target: Path, old: str, new: str) -> None:
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("territoire")
    for row in rows[1:]:
        if row[column] == old:
            row[column] = new
    with open(target, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def failing_notebook(target: Path) -> Path:
    source = f'if territoire == "{FAILING}":\n    raise RuntimeError("{FAILURE_MESSAGE}")'
    return report_notebook_with(target, source, 3)  # right after the setup cell (index 2)


class Batch:
    def __init__(self, process, root: Path, structures: Path, reponses: Path, path: str) -> None:
        self.process = process
        self.path = path
        self.root = root  # the --sortie folder
        self.year_dir = root / str(YEAR)
        self.structures = structures
        self.reponses = reponses


@pytest.fixture(scope="module", params=["posix", "portable"])
def batch(request, tmp_path_factory) -> Batch:
    base = tmp_path_factory.mktemp(f"lot-{request.param}")
    data = base / "donnees"
    data.mkdir()
    structures, reponses = data / "structures.csv", data / "reponses.csv"
    rename_territory(paths.SAMPLE_STRUCTURES, structures, "Val d'Yzeron", RENAMED)
    reponses.write_bytes(paths.SAMPLE_RESPONSES.read_bytes())
    model = failing_notebook(base / "rapport_qui_echoue.ipynb")
    out = base / "sortie"
    process = run_cli(
        "rapports",
        *data_options(structures, reponses),
        "--annee",
        str(YEAR),
        "--territoire",
        RENAMED,
        SMALL,
        FAILING,
        "--jobs",
        "2",
        "--modele",
        str(model),
        "--sortie",
        str(out),
        cwd=base,
        env=environment(request.param),
    )
    return Batch(process, out, structures, reponses, request.param)


# --- a tiny HTML table reader -------------------------------------------------------


class TableParser(HTMLParser):
    """Every <table> of a page as a list of rows of cell texts (th and td alike)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._depth += 1
            self.tables.append([])
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> list[list[list[str]]]:
    parser = TableParser()
    parser.feed(page)
    return [t for t in parser.tables if t]


def table_starting_with(page: str, first_header: str) -> list[list[str]]:
    found = [t for t in tables_of(page) if t[0] and t[0][0] == first_header]
    assert found, f"aucun tableau dont l'en-tête commence par « {first_header} »"
    return found[0]


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.linked_texts: list[str] = []
        self._in_link = False

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href)
                self._in_link = True
                self.linked_texts.append("")

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_link = False

    def handle_data(self, data):
        if self._in_link:
            self.linked_texts[-1] += data


# --- the run as a whole ---------------------------------------------------------------


@pytest.mark.lent
def test_batch_reports_the_failure_in_french_without_traceback(batch):
    process = batch.process
    output = process.stdout + process.stderr
    assert process.returncode == 1, output
    assert FAILING in output
    assert FAILURE_MESSAGE in output
    assert "ÉCHEC" in process.stdout
    assert "Traceback" not in process.stderr
    assert "TCP" not in output  # ipykernel's warning on TCP kernels is not for the user


@pytest.mark.lent
def test_batch_writes_every_file_and_a_complete_manifest(batch):
    year = batch.year_dir
    for folder in ("val-d-yzeron-coteaux", "ouest-nord"):
        for name in ("rapport.html", "rapport.ipynb", "indicateurs.csv"):
            assert (year / folder / name).is_file(), f"{folder}/{name} manquant"
    for name in ("synthese.html", "synthese.ipynb", "index.html", "manifest.json"):
        assert (year / name).is_file(), f"{name} manquant"
    assert not (year / "plateau-nord" / "rapport.html").exists()

    manifest = json.loads((year / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["annee"] == YEAR
    statuses = {entry["nom"]: entry["etat"] for entry in manifest["notebooks"]}
    assert statuses == {RENAMED: "ok", SMALL: "ok", FAILING: "echec", "Synthèse": "ok"}
    failed = next(e for e in manifest["notebooks"] if e["nom"] == FAILING)
    assert FAILURE_MESSAGE in failed["erreur"]
    # the data files by name, size and date: a fingerprint is not for partners
    assert len(manifest["entrees"]) == 2
    for entry in manifest["entrees"].values():
        assert entry["octets"] > 0 and re.fullmatch(r"\d{4}-\d\d-\d\d", entry["modifie_le"])
    assert all(entry["refait"] for entry in manifest["notebooks"])
    # the batch's own versions, and those of what the reports imported, from the kernels
    for package in ("avs_eval", "python", "papermill", "nbconvert", "pandas", "matplotlib"):
        assert manifest["versions"][package]
    assert "ipykernel" not in manifest["versions"]  # the kernel's own, not the reports'
    assert str(batch.root) not in json.dumps(manifest, ensure_ascii=False)

    # the lock file stays (the OS lock on it is what counts), and the state of what each
    # report was made from (freshness); nothing else hidden
    leftovers = sorted(p.name for p in batch.root.iterdir() if p.name.startswith("."))
    assert set(leftovers) <= {LOCK_NAME, freshness.STATE_DIR}, f"restes : {leftovers}"
    assert [p.name for p in (batch.root / freshness.STATE_DIR).iterdir()] == ["2025.json"]
    assert not list(batch.root.rglob(".contexte.pkl"))
    assert sorted(p.name for p in batch.root.iterdir() if not p.name.startswith(".")) == [
        "2025",
        "journaux",
    ]


@pytest.mark.lent
def test_the_journal_tells_each_notebook_and_the_failing_cell(batch):
    journals = list((batch.root / "journaux").glob("2025-*.txt"))
    assert len(journals) == 1
    text = journals[0].read_text(encoding="utf-8")
    for name in (RENAMED, SMALL, FAILING, "Synthèse"):
        line = next(line for line in text.splitlines() if line.startswith(f"{name} : début"))
        assert re.search(r"début \d\d:\d\d:\d\d, fin \d\d:\d\d:\d\d, (ok|ÉCHEC), [\d,]+ s", line)
    assert FAILURE_MESSAGE in text
    assert "code de sortie 1" in text
    # what secrecy masked, for the team: counts only (issue 24)
    assert re.search(r"secret statistique 2025 : \d+ parts masquées sur \d+ publiables", text)
    assert ("chemin portable" if batch.path == "portable" else "chemin POSIX") in text
    assert str(batch.root.parent) not in text  # paths relative to the project, or names
    assert str(Path.home()) not in text
    assert "Journal : " in batch.process.stdout


@pytest.mark.lent
def test_every_link_of_the_index_leads_to_a_file(batch):
    page = (batch.year_dir / "index.html").read_text(encoding="utf-8")
    links = LinkParser()
    links.feed(page)
    assert links.hrefs, "le sommaire ne contient aucun lien"
    for href in links.hrefs:
        assert not href.startswith(("/", "file:", "http")), href
        assert (batch.year_dir / href).is_file(), f"lien mort dans le sommaire : {href}"
    assert "val-d-yzeron-coteaux/rapport.html" in links.hrefs
    assert "ouest-nord/indicateurs.csv" in links.hrefs
    assert "synthese.html" in links.hrefs
    assert FAILING in page  # listed, with its failure...
    assert FAILING not in links.linked_texts  # ...but not linked to a missing page
    assert not any("plateau-nord" in href for href in links.hrefs)


@pytest.mark.lent
def test_the_index_speaks_to_partners_synthesis_first(batch):
    page = (batch.year_dir / "index.html").read_text(encoding="utf-8")
    links = LinkParser()
    links.feed(page)
    assert links.hrefs[0] == "synthese.html"  # the department first, then the territories
    assert "3 rapports produits sur 4" in page and "(s)" not in page
    assert freshness.NEW not in page  # a first run: nothing was « absent » before it


@pytest.mark.lent
def test_a_published_csv_opens_in_french_excel_with_numbers_as_numbers(batch, tmp_path):
    """LibreOffice reads it as French Excel does on a double-click: `;`, UTF-8 (by its
    BOM), decimal comma, French locale (filter options 59,34,76,1,,1036)."""
    if batch.path != "posix":
        pytest.skip("the same files on both paths: read once")
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice absent")
    import openpyxl

    source = batch.year_dir / "val-d-yzeron-coteaux" / "indicateurs.csv"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profil", "--headless",
         "--convert-to", "xlsx", "--infilter=CSV:59,34,76,1,,1036", "--outdir", str(tmp_path),
         str(source)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if "could not be loaded" in done.stderr:  # LibreOffice without Calc (writer only)
        pytest.skip("LibreOffice Calc absent (apt-get install libreoffice-calc-nogui)")
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(tmp_path / "indicateurs.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header == PUBLISHED_COLUMNS
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    shares = [r["part"] for r in records if r["part"] is not None]
    assert shares and all(isinstance(v, float | int) and 0 <= v <= 1 for v in shares)
    assert all(isinstance(r["annee"], int) for r in records)
    assert {r["secret"] for r in records} <= {"oui", "non"}
    assert any(r["perimetre"] == "Métropole de Lyon" for r in records)  # accents intact


@pytest.mark.lent
def test_no_published_file_holds_a_fingerprint_a_machine_path_or_a_user_name(batch):
    """Everything under SORTIE/ANNEE/ may be forwarded: notebooks and manifest included."""
    user = getpass.getuser()
    machine = [str(batch.root), str(paths.PROJECT_ROOT), str(Path.home()), "/tmp/", "en-cours"]
    files = [p for p in batch.year_dir.rglob("*") if p.is_file()]
    assert {".ipynb", ".json", ".csv", ".html"} <= {p.suffix for p in files}
    for path in files:
        if path.suffix == ".xlsx":
            continue  # zipped; its cells are read in test_evaluation
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(batch.year_dir)
        assert not re.search(r"\b[0-9a-f]{64}\b", text), f"{name} contient une empreinte"
        for value in machine:
            assert value not in text, f"{name} contient « {value} »"
        # `root` is also a CSS word (`:root`): as a user, only its home folder would tell
        named = "/root" in text if user == "root" else re.search(rf"\b{re.escape(user)}\b", text)
        assert not named, f"{name} contient le nom d'utilisateur"


@pytest.mark.lent
def test_pages_show_no_code_and_no_machine_path(batch):
    pages = sorted(batch.year_dir.rglob("*.html"))
    assert len(pages) == 4  # two reports, the synthesis, the index
    code = ["TerritoryReport(", "SynthesisReport(", "import ", "jp-InputArea-editor", "In&nbsp;["]
    machine = [str(batch.root), str(paths.PROJECT_ROOT), str(Path.home()), "/root", "/tmp"]
    for page_path in pages:
        page = page_path.read_text(encoding="utf-8")
        name = page_path.relative_to(batch.year_dir)
        # The embedded JupyterLab style sheet names `.jp-InputArea-editor`; no element may.
        without_style = re.sub(r"<style\b.*?</style>", "", page, flags=re.S)
        for text in code:
            assert text not in without_style, f"{name} contient « {text} »"
        for text in machine:
            assert text not in page, f"{name} contient « {text} »"
        if page_path.name == "rapport.html":  # the inserted cell's code stays hidden
            assert "raise RuntimeError" not in page
            assert FAILURE_MESSAGE not in page
        assert not re.search(r"<script[^>]*\bsrc\s*=", page), f"{name} charge un script externe"


@pytest.mark.lent
def test_small_territory_shows_only_secret_marks(batch):
    """A territory whose every figure is secret gets the short report: its key figures
    give its collectivité's and the department's for reference, never a figure of its own
    (an all-« s » column is no table); the participation says its count is secret."""
    page = (batch.year_dir / "ouest-nord" / "rapport.html").read_text(encoding="utf-8")

    key = table_starting_with(page, "Indicateur")
    header, body = key[0], key[1:]
    assert SMALL not in header and header[1:3] == ["Métropole de Lyon", "Ensemble"]
    assert body
    assert "le nombre de répondantes et le taux de réponse relèvent du secret statistique" in page

    # The same secrecy as the indicator table of the package computes.
    dataset = load(DataSource.from_options(batch.structures, batch.reponses))
    from avs_eval import indicators

    table = indicators.compute(dataset, annees=[YEAR], min_effectif=5, territoire=SMALL)
    own = table[(table["niveau"] == "territoire") & (table["perimetre"] == SMALL)]
    assert not own.empty
    assert own["secret"].astype(str).str.lower().isin(["true"]).all()

    assert "La liste des structures sans réponse n'est pas publiée" in page


@pytest.mark.lent
def test_indicator_table_holds_the_territory_its_collectivite_and_ensemble(batch):
    path = batch.year_dir / "val-d-yzeron-coteaux" / "indicateurs.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # French Excel reads UTF-8 by it
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == PUBLISHED_HEADER
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert rows
    perimeters = {(r["niveau"], r["perimetre"]) for r in rows}
    assert perimeters == {
        ("territoire", RENAMED),
        ("collectivite", "Métropole de Lyon"),
        ("departement", "Ensemble"),
    }
    assert {int(r["annee"]) for r in rows} == {2022, 2023, 2024, YEAR}


# --- outside the shared run -------------------------------------------------------------


@pytest.mark.lent
def test_papermill_runs_the_committed_notebook_with_the_documented_command(tmp_path):
    target = tmp_path / "sortie_test"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "notebooks/rapport_territoire.ipynb",
            str(tmp_path / "out.ipynb"),
            "-p",
            "territoire",
            "Lyon",
            "-p",
            "annee",
            "2024",
            "-p",
            "dossier_sortie",
            str(target),
        ],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert (target / "indicateurs.csv").is_file()
    text = (target / "indicateurs.csv").read_text(encoding="utf-8-sig")
    assert text.startswith(PUBLISHED_HEADER)  # a notebook alone writes the published tables


@pytest.mark.lent
def test_a_live_lock_stops_a_second_batch_clearly_with_exit_code_3(tmp_path):
    out = tmp_path / "sortie"
    out.mkdir()
    with plateforme.lock(out / LOCK_NAME):  # this process holds it
        process = run_cli("rapports", "--territoire", SMALL, "--sortie", str(out), cwd=tmp_path)
    assert process.returncode == 3
    assert "en cours" in process.stderr
    assert "Traceback" not in process.stderr
    assert not (out / str(YEAR)).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from avs_eval import plateforme; plateforme.lock(sys.argv[1]).acquire()",
            str(tmp_path / LOCK_NAME),
        ]
    )
    dead.wait()
    assert (tmp_path / LOCK_NAME).exists()
    with publication.Publication(tmp_path, YEAR, print):
        pass


def test_a_live_lock_is_refused_in_process(tmp_path):
    with (
        plateforme.lock(tmp_path / LOCK_NAME),
        pytest.raises(EnvironmentProblem, match="en cours") as refused,
        publication.Publication(tmp_path, YEAR, print),
    ):
        pass
    assert refused.value.exit_code == 3


@pytest.mark.lent
def test_an_output_folder_that_cannot_be_made_exits_with_3(tmp_path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    process = run_cli(
        "rapports", "--territoire", SMALL, "--sortie", str(blocker / "sortie"), cwd=tmp_path
    )
    assert process.returncode == 3, process.stderr
    assert "impossible d'écrire dans le dossier de sortie" in process.stderr
    assert "Traceback" not in process.stderr


def test_help_states_the_exit_codes():
    process = run_cli("rapports", "--help", cwd=paths.PROJECT_ROOT)
    text = " ".join(process.stdout.split())
    for code in ("0 tout va bien", "1 données", "2 option mal employée", "3 problème", "130"):
        assert code in text
    assert "le plus élevé" in text
    assert "--journal" in text
