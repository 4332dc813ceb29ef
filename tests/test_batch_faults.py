"""Reliability and secrecy of the batch: faults, interruptions, nothing lost, nothing leaked.

One data set built from the mini fixture carries the traps: a structure named
"<script>…", a free-text answer "<img onerror=…>", a territory whose name holds
HTML and a "$", a territory whose notebook kills its own kernel, and one whose
notebook hangs. A first batch makes "previous" reports; the second, failing one
must keep them where it fails and publish the rest.

Every batch test runs on the POSIX path and on the portable one (`AVS_EVAL_PORTABLE=1`:
TCP kernels, interrupts through the kernel manager, no signals of our own), which is
the code path a Windows machine takes.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import os
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import (
    CLI,
    MINI_DIR,
    data_options,
    environment,
    report_notebook_with,
    run_cli,
    waiting_notebook,
)

from avs_eval import freshness, paths, plateforme
from avs_eval.blocs import share_cell
from avs_eval.catalog import load_catalog
from avs_eval.context import build_context, slug
from avs_eval.output import write_atomic
from avs_eval.report import TerritoryReport
from avs_eval.sources import DataSource

CATALOG = load_catalog()

SCRIPT_NAME = "<script>alert('nom')</script>"
IMG_ANSWER = "<img src=x onerror=alert(1)>"
ODD_TERRITORY = "Ville <i>urbanne</i> & $Cie$"
YEAR = "2024"
THRESHOLD = "2"


def hidden(folder: Path) -> list[str]:
    """What is hidden in an output folder, its lock file (the OS lock is what counts) and
    the state of what each report was made from (freshness) apart."""
    kept = (".avs-eval.lock", freshness.STATE_DIR)
    return sorted(p.name for p in folder.glob(".*") if p.name not in kept)


def read_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def make_data(folder: Path) -> tuple[Path, Path]:
    structures = read_rows(MINI_DIR / "structures.csv")
    for row in structures:
        if row["structure_id"] == "S3":
            row["nom"] = SCRIPT_NAME  # no answer in 2024: listed among non-respondents
        if row["territoire"] == "Villeurbanne":
            row["territoire"] = ODD_TERRITORY
    structures.append(
        {**structures[-1], "structure_id": "S9", "nom": "EVS Iota", "territoire": "Sommeil"}
    )
    answers = read_rows(MINI_DIR / "reponses.csv")
    for row in answers:
        if row["structure_id"] == "S1" and row["annee"] == YEAR:
            row["communication_canaux"] = "site_internet|autre"
            row["communication_autre"] = IMG_ANSWER
    answers.append({**answers[-1], "structure_id": "S9"})
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(folder / "structures.csv", structures)
    write_rows(folder / "reponses.csv", answers)
    return folder / "structures.csv", folder / "reponses.csv"


def faulty_notebook(target: Path) -> Path:
    trap = (
        "import os, signal, time\n"
        'if territoire == "Ouest Rhône":\n'
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        'if territoire == "Sommeil":\n'
        "    time.sleep(600)"
    )
    return report_notebook_with(target, trap, 2)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def batch_arguments(structures, reponses, output, *extra):
    return [
        "rapports",
        *data_options(structures, reponses),
        "--annee",
        YEAR,
        "--min-effectif",
        THRESHOLD,
        "--sortie",
        str(output),
        *extra,
    ]


@pytest.fixture(scope="module", params=["posix", "portable"])
def run(request, tmp_path_factory):
    path = request.param
    base = tmp_path_factory.mktemp(f"fiabilite-{path}")
    structures, reponses = make_data(base / "donnees")
    inputs_before = digests(base / "donnees")
    output = base / "sorties"
    first = run_cli(
        *batch_arguments(structures, reponses, output, "--territoire", "Ouest Rhône"),
        env=environment(path),
    )
    assert first.returncode == 0, first.stderr
    previous = (output / YEAR / "ouest-rhone" / "rapport.html").read_bytes()
    second = run_cli(
        *batch_arguments(
            structures,
            reponses,
            output,
            "--verbatims",
            "--jobs",
            "2",
            "--delai",
            "25",
            "--modele",
            str(faulty_notebook(base / "piege.ipynb")),
        ),
        env=environment(path),
    )
    return {
        "path": path,
        "base": base,
        "structures": structures,
        "reponses": reponses,
        "inputs_before": inputs_before,
        "year": output / YEAR,
        "previous_report": previous,
        "result": second,
    }


@pytest.mark.lent
def test_failures_are_named_and_the_others_complete(run):
    result = run["result"]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "TCP" not in result.stderr + result.stdout  # ipykernel's warning stays hidden
    lines = result.stdout.splitlines()
    dead = next(line for line in lines if "Ouest Rhône" in line)
    assert "noyau" in dead
    hung = next(line for line in lines if "Sommeil" in line)
    assert "délai dépassé" in hung
    for folder in ("lyon", slug(ODD_TERRITORY)):
        assert (run["year"] / folder / "rapport.html").exists()
    assert (run["year"] / "synthese.html").exists()


@pytest.mark.lent
def test_a_failed_territory_keeps_its_previous_report(run):
    kept = run["year"] / "ouest-rhone" / "rapport.html"
    assert kept.read_bytes() == run["previous_report"]
    index = (run["year"] / "index.html").read_text(encoding="utf-8")
    assert "rapport précédent conservé" in index
    assert not (run["year"] / "sommeil" / "rapport.html").exists()


@pytest.mark.lent
def test_input_files_are_never_written(run):
    assert digests(run["base"] / "donnees") == run["inputs_before"]


@pytest.mark.lent
def test_names_and_free_text_are_escaped_everywhere(run):
    pages = list(run["year"].rglob("*.html"))
    assert len(pages) >= 4
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT_NAME not in text
        assert IMG_ANSWER not in text
        assert "<i>urbanne</i>" not in text
    lyon = (run["year"] / "lyon" / "rapport.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in lyon  # verbatims were asked for
    odd = (run["year"] / slug(ODD_TERRITORY) / "rapport.html").read_text(encoding="utf-8")
    assert "&lt;i&gt;urbanne&lt;/i&gt;" in odd


@pytest.mark.lent
def test_structure_names_are_escaped_in_the_list_of_non_respondents(run):
    # Lyon's response rate is masked in the batch (threshold 2), so its list is withheld
    # there; with a threshold of 1 the list is published, and the name must read as text.
    report = TerritoryReport(
        "Lyon",
        int(YEAR),
        fichier_structures=str(run["structures"]),
        fichier_reponses=str(run["reponses"]),
        min_effectif=1,
        interne=True,  # the names are listed in the internal edition only
    )
    listed = report.non_respondents().data
    assert "&lt;script&gt;alert(&#x27;nom&#x27;)&lt;/script&gt;" in listed
    assert SCRIPT_NAME not in listed


@pytest.mark.lent
def test_reports_hold_no_machine_path_nor_user_name(run):
    user = getpass.getuser()
    for page in run["year"].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert str(run["base"]) not in text
        assert str(paths.PROJECT_ROOT) not in text
        assert f"/home/{user}" not in text and f"/{user}/" not in text


class _Tables(HTMLParser):
    """The text of every table cell, table by table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.mark.lent
def test_masked_shares_never_appear_in_a_report(run):
    context = build_context(DataSource(run["structures"], run["reponses"]), int(THRESHOLD))
    table = context.table
    masked = table[table["masque"] & (table["annee"] == int(YEAR))]
    assert not masked.empty
    checked = 0
    for territory in ("Lyon", ODD_TERRITORY):
        html = (run["year"] / slug(territory) / "rapport.html").read_text(encoding="utf-8")
        collectivite = context.collectivite_of[territory]
        shown_here = masked[
            ((masked["niveau"] == "territoire") & (masked["perimetre"] == territory))
            | ((masked["niveau"] == "collectivite") & (masked["perimetre"] == collectivite))
            | (masked["niveau"] == "departement")
        ]
        # the exact cell a masked share would have printed (share, interval and n) must not
        # be in the page; skipped where an unmasked share has the same counts
        public = table[~table["masque"] & (table["annee"] == int(YEAR))]
        public_counts = set(zip(public["numerateur"], public["denominateur"], strict=True))
        for _, row in shown_here.iterrows():
            if (
                row["denominateur"] == 0
                or (row["numerateur"], row["denominateur"]) in public_counts
            ):
                continue
            revealed = row.copy()
            revealed["masque"] = False
            assert share_cell(revealed) not in html
            checked += 1
        parser = _Tables()
        parser.feed(html)
        key = next(t for t in parser.tables if t and t[0] and t[0][0] == "Indicateur")
        if territory not in key[0]:  # the short report: no column of « s » at all
            for indicateur in CATALOG.yes_no_columns:
                row = context.row(int(YEAR), "territoire", territory, indicateur)
                assert row is None or row["masque"], indicateur
            checked += 1
            continue
        column = key[0].index(territory)
        for indicateur in CATALOG.yes_no_columns:
            row = context.row(int(YEAR), "territoire", territory, indicateur)
            if row is None or not row["masque"]:
                continue
            cells = next(r for r in key[1:] if r[0].startswith(CATALOG.label(indicateur)))
            assert cells[column] == "s"
            checked += 1
    assert checked


def _ctrl_c_as_in_a_terminal() -> None:
    """In the batch's process, before it starts: Ctrl-C as a terminal delivers it. An
    ignored signal is inherited, and the test runner's process may ignore SIGINT (an
    earlier test on the same worker, a library): Python then installs no KeyboardInterrupt
    handler and the batch never sees the interrupt (CI, 03/12/2026: exit 0, not 130)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.lent
def test_an_interrupted_batch_leaves_the_previous_reports_as_they_were(run, tmp_path):
    output = tmp_path / "sorties"
    done = run_cli(
        *batch_arguments(run["structures"], run["reponses"], output, "--territoire", "Lyon"),
        env=environment(run["path"]),
    )
    assert done.returncode == 0, done.stderr
    before = digests(output / YEAR)
    started = tmp_path / "commence"
    model = waiting_notebook(tmp_path / "attente.ipynb", started)
    process = subprocess.Popen(
        [
            *CLI,
            *batch_arguments(
                run["structures"], run["reponses"], output, "--jobs", "2", "--modele", str(model)
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
        env=environment(run["path"]),
    )
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert started.exists() and list(output.glob(f".{YEAR}.en-cours-*"))  # mid-notebook
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrompu" in stderr
    assert "Traceback" not in stderr
    assert digests(output / YEAR) == before
    leftover = hidden(output)
    if leftover and run["path"] == "portable":
        # Known intermittent case on the portable path (closing note): the staging folder
        # can outlive the interrupt; the next batch must then remove it and say so.
        again = run_cli(
            *batch_arguments(run["structures"], run["reponses"], output, "--territoire", "Lyon"),
            env=environment(run["path"]),
        )
        assert again.returncode == 0, again.stderr
        assert leftover[0] in again.stderr + again.stdout or "supprim" in again.stderr
        leftover = hidden(output)
    assert leftover == []  # no staging folder left behind


@pytest.mark.lent
def test_two_batches_at_once_the_second_refuses(run, tmp_path):
    output = tmp_path / "sorties"
    arguments = batch_arguments(run["structures"], run["reponses"], output, "--territoire", "Lyon")
    # the first batch makes every report, one at a time: it still holds the lock when the
    # second, started once the lock exists, has validated its data and asks for it
    first = subprocess.Popen(
        [
            *CLI,
            *batch_arguments(run["structures"], run["reponses"], output, "--jobs", "1"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(run["path"]),
    )
    deadline = time.monotonic() + 60
    while not list(output.glob(f".{YEAR}.en-cours-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    second = run_cli(*arguments, env=environment(run["path"]))
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert second.returncode == 3
    assert "en cours" in second.stderr
    assert "Traceback" not in second.stderr


def test_write_atomic_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "rapport.html"
    target.write_text("ancien", encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(target, "nouveau")
    assert target.read_text(encoding="utf-8") == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.html"]


@pytest.mark.lent
def test_fresh_kernels_report_a_killed_kernel_and_a_hung_notebook_too(run, tmp_path):
    if run["path"] == "portable":  # the same faults on that path: the `run` fixture's batch
        pytest.skip("chemin portable : déjà couvert par le lot du module (noyaux chauds)")
    result = run_cli(
        *batch_arguments(
            run["structures"],
            run["reponses"],
            tmp_path / "sorties",
            "--noyau-neuf",
            "--delai",
            "25",
            "--territoire",
            "Lyon",
            "Ouest Rhône",
            "Sommeil",
            "--modele",
            str(faulty_notebook(tmp_path / "piege.ipynb")),
        ),
        env=environment(run["path"]),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert "noyau" in next(line for line in lines if "Ouest Rhône" in line)
    assert "délai dépassé" in next(line for line in lines if "Sommeil" in line)
    assert (tmp_path / "sorties" / YEAR / "lyon" / "rapport.html").exists()


def kernels_using(runtime: Path) -> list[str]:
    """Command lines of the processes still running a kernel whose files are in `runtime`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(runtime) in command:
            found.append(command)
    return found


@pytest.mark.lent
@pytest.mark.parametrize("problem", ["donnees", "verrou"])
def test_a_refused_batch_stops_its_workers_and_their_kernels(run, tmp_path, problem):
    """Workers and kernels start before validation; a refusal must leave none behind."""
    runtime, scratch, output = tmp_path / "runtime", tmp_path / "tmp", tmp_path / "sorties"
    for folder in (runtime, scratch, output):
        folder.mkdir()
    structures, reponses = run["structures"], run["reponses"]
    if problem == "donnees":
        rows = read_rows(reponses)
        rows[0]["permanence_partenaire"] = "peut-être"
        reponses = tmp_path / "reponses.csv"
        write_rows(reponses, rows)
    lock = plateforme.lock(output / ".avs-eval.lock")
    if problem == "verrou":
        lock.acquire()  # this process holds it, as a live batch would
    try:
        done = run_cli(
            *batch_arguments(structures, reponses, output, "--jobs", "2"),
            env=environment(run["path"], JUPYTER_RUNTIME_DIR=str(runtime), TMPDIR=str(scratch)),
        )
    finally:
        if problem == "verrou":
            lock.release()

    assert done.returncode == (1 if problem == "donnees" else 3)
    assert ("peut-être" if problem == "donnees" else "en cours") in done.stderr
    assert "Traceback" not in done.stderr
    assert not kernels_using(runtime)
    assert not list(runtime.glob("kernel-*.json"))  # connection files removed
    assert not list(scratch.iterdir())  # no socket folder, no private folder
    # refused before anything is written; a refused lock is noted in the run's journal
    assert sorted(p.name for p in output.iterdir()) == (
        [] if problem == "donnees" else [".avs-eval.lock", "journaux"]
    )
