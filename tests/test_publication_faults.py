"""Publication under real batches: a report held open, a full disk, kills at any moment.

Each test starts from a copy of one published year (Lyon and Ouest Rhône, made once
for the module) and checks what a user relies on: after any of these faults the year's
folder is the whole previous year or the whole new one, the message is French with no
traceback, the exit code is 3 (environment), and nothing hidden is left behind once a
batch has run normally.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CLI, MINI_DIR, environment, report_notebook_with, run_cli, waiting_notebook

from avs_eval import testhooks
from avs_eval.freshness import STATE_DIR
from avs_eval.publication import LOCK_NAME

YEAR = "2024"
FAILING = "Ouest Rhône"  # fails in the second batch: its previous report is copied

pytestmark = pytest.mark.lent  # every test here runs batches with faults injected


def faulty(path: str = "posix", fault: str = "") -> dict[str, str]:
    """The environment of a batch on `path` with `fault` injected (none if empty)."""
    return environment(path, drop=[testhooks.ENV], **({testhooks.ENV: fault} if fault else {}))


def arguments(output: Path, *extra: str) -> list[str]:
    return [
        "rapports",
        "--structures",
        str(MINI_DIR / "structures.csv"),
        "--reponses",
        str(MINI_DIR / "reponses.csv"),
        "--annee",
        YEAR,
        "--min-effectif",
        "2",
        "--territoire",
        "Lyon",
        FAILING,
        "--jobs",
        "2",
        "--sortie",
        str(output),
        *extra,
    ]


def batch(output: Path, *extra: str, path: str = "posix", fault: str = ""):
    return run_cli(*arguments(output, *extra), env=faulty(path, fault), timeout=300)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(folder: Path) -> list[str]:
    """What a batch left hidden, its lock file and its state (freshness) apart."""
    return sorted(p.name for p in folder.glob(".*") if p.name not in (LOCK_NAME, STATE_DIR))


def failing_notebook(target: Path) -> Path:
    source = f'if territoire == "{FAILING}":\n    raise RuntimeError("échec volontaire")'
    return report_notebook_with(target, source, 3)


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """An output folder holding one published year, made by a normal batch."""
    output = tmp_path_factory.mktemp("precedent") / "sorties"
    done = batch(output)
    assert done.returncode == 0, done.stderr
    return output


@pytest.fixture
def output(previous, tmp_path) -> Path:
    copy = tmp_path / "sorties"
    shutil.copytree(previous, copy)
    return copy


def assert_clean_failure(done, code: int = 3) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "avs-eval : erreur :" in done.stderr


# --- a file of the published year held open by another program ---------------------------


@pytest.mark.parametrize("path", ["portable"])  # Windows' case; the same code on POSIX
def test_a_report_held_open_keeps_the_year_and_the_next_run_publishes_the_kept_batch(output, path):
    before = digests(output / YEAR)
    blocked = batch(output, path=path, fault="fichier-ouvert:lyon/rapport.html")
    assert_clean_failure(blocked)
    message = " ".join(blocked.stderr.split())
    assert f"{YEAR}/lyon/rapport.html" in message.replace(os.sep, "/")
    assert "relancez" in message and "pret-a-publier" in message
    assert re.search(r"rapports? produits? sur", blocked.stdout)  # the summary still printed
    assert digests(output / YEAR) == before
    ready = output / f"{YEAR}-pret-a-publier"
    made = digests(ready)
    assert "index.html" in made and "lyon/rapport.html" in made
    assert hidden(output) == []

    again = batch(output, path=path)  # the file is closed now; same inputs
    assert again.returncode == 0, again.stderr
    assert "prêt à publier" in again.stderr and "publié" in again.stderr
    assert "Rapports:" not in again.stderr  # nothing was run again
    assert digests(output / YEAR) == made
    assert not ready.exists()
    assert hidden(output) == []


def test_a_kept_batch_made_from_other_inputs_is_discarded_and_said_so(output):
    blocked = batch(output, fault="fichier-ouvert:lyon/rapport.html")
    assert_clean_failure(blocked)
    changed = batch(output, "--verbatims")
    assert changed.returncode == 0, changed.stderr
    assert "supprimé" in changed.stderr and "changé" in changed.stderr
    assert not (output / f"{YEAR}-pret-a-publier").exists()
    assert hidden(output) == []


# --- a full disk ------------------------------------------------------------------------------

WRITES = {
    "notebook": "*/lyon/rapport.ipynb",  # by the worker
    "page": "*/lyon/rapport.html",  # by the worker
    "table": "*/lyon/indicateurs.csv",  # by the kernel, inside the notebook
    "sommaire": "*/index.html",  # by the batch
    "manifeste": "*/manifest.json",  # by the batch
    "copie": "*/ouest-rhone/rapport.html",  # the failed territory's previous report
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_full_disk_on_any_write_keeps_the_previous_year_and_says_what_to_do(
    output, tmp_path, write
):
    before = digests(output / YEAR)
    model = failing_notebook(tmp_path / "modele.ipynb")
    done = batch(output, "--modele", str(model), fault=f"disque-plein:{WRITES[write]}")
    assert_clean_failure(done)
    message = " ".join(done.stderr.split())
    assert "disque plein" in message and "libérez de la place" in message
    assert str(output) in message or "sorties" in message
    assert " Mo" in message
    assert digests(output / YEAR) == before
    assert hidden(output) == []
    assert not (output / f"{YEAR}-pret-a-publier").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, where the machine lets us mount one (root, Linux)."""
    folder = tmp_path / "petit-disque"
    folder.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("monter un tmpfs demande Linux et les droits root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"tmpfs impossible à monter ici : {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_real_small_disk_is_refused_before_the_batch_starts(small_disk):
    done = batch(small_disk / "sorties")
    assert_clean_failure(done)
    assert "place insuffisante" in done.stderr
    assert not (small_disk / "sorties" / YEAR).exists()
    assert hidden(small_disk / "sorties") == []


def test_a_real_disk_filling_during_the_batch_leaves_no_debris(small_disk):
    # the free-space check is told there is room, so that the disk really fills mid-batch
    done = batch(small_disk / "sorties", fault=f"place:{10**10}")
    assert_clean_failure(done)
    assert "disque plein" in done.stderr
    assert not (small_disk / "sorties" / YEAR).exists()
    assert hidden(small_disk / "sorties") == []


# --- batches killed at any moment (power cut, closed terminal, Task Manager) ---------------


def kill_batch_after(output: Path, wait, *extra: str) -> None:
    process = subprocess.Popen(
        [*CLI, *arguments(output, *extra)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=faulty(),
        start_new_session=True,
    )
    wait(process)
    os.killpg(process.pid, signal.SIGKILL)  # the batch and its workers, all at once
    process.wait(timeout=30)


def until_staging(output: Path):
    def wait(process) -> None:
        deadline = time.monotonic() + 90
        while not list(output.glob(f".{YEAR}.en-cours-*")) and time.monotonic() < deadline:
            time.sleep(0.1)

    return wait


def until_started(started: Path):
    def wait(process) -> None:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists()

    return wait


def test_batches_killed_at_any_moment_then_a_normal_batch_leave_no_debris(output, tmp_path):
    before = digests(output / YEAR)
    started = tmp_path / "commence"
    model = waiting_notebook(tmp_path / "attente.ipynb", started)
    moments = [
        (lambda process: time.sleep(1), ()),  # validating the data
        (until_staging(output), ()),  # the staging folder just made
        (until_started(started), ("--modele", str(model))),  # a notebook under way
    ]
    for moment, extra in moments:
        kill_batch_after(output, moment, *extra)
        assert digests(output / YEAR) == before
    assert hidden(output)  # debris, as a power cut leaves it

    # killed in the middle of its swap, the previous year set aside: no year in place
    # (the next batch, first, removes the debris of the killed ones and says so)
    swapped = batch(output, fault="arret:2")
    assert swapped.returncode != 0
    assert "Nettoyage" in swapped.stderr and ".en-cours-" in swapped.stderr
    assert not (output / YEAR).exists()

    done = batch(output)
    assert done.returncode == 0, done.stderr
    assert "interrompue" in done.stderr and "achevée" in done.stderr
    assert hidden(output) == []
    assert set(digests(output / YEAR)) == set(before)  # a whole year, the same files
