"""Publication of a year's folder, step by step, without notebooks: fast and exhaustive.

A year is a few small files here; what is checked is the folder dance: the lock, the
journaled swap killed at each of its steps then recovered, renames refused as
Windows refuses them, the batch kept « ready to publish », the debris of dead
batches, the free-space check, a full disk while copying a kept report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from avs_eval import freshness, paths, publication, testhooks
from avs_eval.cli import main
from avs_eval.errors import EnvironmentProblem, UsageError
from avs_eval.publication import LOCK_NAME, SWAP_JOURNAL, Publication, PublicationBlocked

YEAR = 2024
MINI = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"


def mini_options(folder: Path) -> list[str]:
    structures, reponses = folder / "structures.csv", folder / "reponses.csv"
    return ["--structures", str(structures), "--reponses", str(reponses)]


def make_year(folder: Path, label: str) -> Path:
    """A year with two territories, each file saying which batch made it."""
    for name in ("index.html", "manifest.json", "lyon/rapport.html", "ouest/rapport.html"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{label} {name}", encoding="utf-8")
    return folder


def contents(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(root: Path) -> list[str]:
    """What is hidden in the output folder, the lock file apart."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".") and p.name != LOCK_NAME)


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv(testhooks.ENV, raising=False)
    testhooks.reset()
    make_year(tmp_path / str(YEAR), "ancien")
    return tmp_path


def test_a_swap_replaces_the_year_and_leaves_nothing_hidden(root):
    make_year(root / ".2024.en-cours-1", "nouveau")
    publication.swap(root, YEAR, root / ".2024.en-cours-1")
    assert set(contents(root / "2024").values()) == {
        f"nouveau {n}"
        for n in ("index.html", "manifest.json", "lyon/rapport.html", "ouest/rapport.html")
    }
    assert hidden(root) == []


KILL_SCRIPT = """
import sys
from pathlib import Path
from avs_eval import publication
root = Path(sys.argv[1])
publication.swap(root, 2024, root / ".2024.en-cours-77")
"""


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_a_swap_killed_at_any_step_is_finished_by_the_next_batch(root, step):
    make_year(root / ".2024.en-cours-77", "nouveau")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(root)],
        env={**os.environ, testhooks.ENV: f"arret:{step}"},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 137, killed.stderr  # died at that step, as in a power cut
    told = []
    with Publication(root, YEAR, told.append):
        pass
    assert set(contents(root / "2024").values()) == {
        f"nouveau {n}"
        for n in ("index.html", "manifest.json", "lyon/rapport.html", "ouest/rapport.html")
    }
    assert hidden(root) == []
    if step <= 3:  # the journal was there: the swap is finished and said so, in one line
        assert len(told) == 1 and "interrompue" in told[0] and "achevée" in told[0]
    elif step == 4:  # only the old year set aside was left
        assert len(told) == 1 and "Nettoyage" in told[0] and ".2024.ancien-" in told[0]
        assert "1 élément laissé par des lots interrompus supprimé (0,0 Mo)" in told[0]
    else:
        assert told == []


def test_an_unreadable_swap_journal_is_dropped_without_harm(root):
    (root / SWAP_JOURNAL).write_text("{pas du json", encoding="utf-8")
    told = []
    with Publication(root, YEAR, told.append):
        pass
    assert set(contents(root / "2024").values()) >= {"ancien index.html"}
    assert hidden(root) == []


@pytest.mark.parametrize("refused", [1, 2])
def test_a_refused_rename_keeps_the_year_whole_and_the_batch_ready_to_publish(
    root, monkeypatch, refused
):
    monkeypatch.setenv(testhooks.ENV, f"renommage:{refused}")
    told = []
    with (
        pytest.raises(PublicationBlocked) as blocked,
        Publication(root, YEAR, told.append) as held,
    ):
        make_year(held.new_staging(), "nouveau")
        held.publish({"empreinte_lot": "abc", "rapports": {}})
    message = str(blocked.value)
    assert blocked.value.exit_code == 3
    assert "2024-pret-a-publier" in message and "relancez" in message
    assert contents(root / "2024")["index.html"] == "ancien index.html"
    assert contents(root / "2024-pret-a-publier")["index.html"] == "nouveau index.html"
    # what it was made from is kept beside it, out of the folder partners receive
    assert freshness.read_state(root, "2024-pret-a-publier")["empreinte_lot"] == "abc"
    assert freshness.read_state(root, "2024") == {}
    assert hidden(root) == [freshness.STATE_DIR]


def test_a_file_held_open_is_named_in_the_message(root, monkeypatch):
    monkeypatch.setenv(testhooks.ENV, "fichier-ouvert:lyon/rapport.html")
    with (
        pytest.raises(PublicationBlocked) as blocked,
        Publication(root, YEAR, print) as held,
    ):
        make_year(held.new_staging(), "nouveau")
        held.publish({})
    assert "le fichier" in str(blocked.value)
    assert str(Path("2024") / "lyon" / "rapport.html") in str(blocked.value)
    assert contents(root / "2024")["lyon/rapport.html"] == "ancien lyon/rapport.html"


def ready_folder(root: Path, fingerprint: str) -> Path:
    folder = make_year(root / "2024-pret-a-publier", "pret")
    (folder / "manifest.json").write_text('{"annee": 2024}', encoding="utf-8")
    state = freshness.state_path(root, folder.name)
    state.parent.mkdir(exist_ok=True)
    state.write_text(
        json.dumps({"version": freshness.STATE_VERSION, "empreinte_lot": fingerprint}),
        encoding="utf-8",
    )
    return folder


def test_a_ready_batch_made_from_the_same_inputs_is_published_first(root):
    ready_folder(root, "abc")
    told = []
    with Publication(root, YEAR, told.append) as held:
        manifest = held.take_ready("abc")
    assert manifest == {"annee": 2024}
    assert contents(root / "2024")["index.html"] == "pret index.html"
    assert not (root / "2024-pret-a-publier").exists()
    assert any("publié" in line for line in told)
    # its state now describes the year in place
    assert freshness.read_state(root, "2024")["empreinte_lot"] == "abc"
    assert not freshness.state_path(root, "2024-pret-a-publier").exists()
    assert hidden(root) == [freshness.STATE_DIR]


def test_a_ready_batch_made_from_other_inputs_is_discarded_and_said_so(root):
    ready_folder(root, "abc")
    told = []
    with Publication(root, YEAR, told.append) as held:
        assert held.take_ready("autre") is None
    assert not (root / "2024-pret-a-publier").exists()
    assert not freshness.state_path(root, "2024-pret-a-publier").exists()
    assert contents(root / "2024")["index.html"] == "ancien index.html"
    assert any("supprimé" in line and "changé" in line for line in told)


def test_debris_of_dead_batches_is_removed_and_listed_but_nothing_else(root):
    make_year(root / ".2024.en-cours-4242", "mort")
    make_year(root / ".2023.ancien-4343", "mort")
    (root / ".index.html.abcd.tmp").write_text("x", encoding="utf-8")
    ready_folder(root, "abc")
    (root / ".autre-chose").mkdir()  # not ours: left alone
    told = []
    with Publication(root, YEAR, told.append):
        pass
    assert hidden(root) == sorted([freshness.STATE_DIR, ".autre-chose"])
    assert (root / "2024-pret-a-publier").is_dir()  # not debris
    assert len(told) == 1
    for name in (".2024.en-cours-4242", ".2023.ancien-4343", ".index.html.abcd.tmp"):
        assert name in told[0]


def test_not_enough_space_refuses_before_anything_is_written(root, monkeypatch):
    monkeypatch.setenv(testhooks.ENV, "place:1000")
    with Publication(root, YEAR, print) as held, pytest.raises(publication.DiskFull) as full:
        held.check_space(16)
    message = str(full.value)
    assert "place insuffisante" in message and "Mo" in message and "libérez" in message
    assert full.value.exit_code == 3
    assert hidden(root) == []


@dataclass
class _Failed:
    folder: str
    stem: str = "rapport"
    kept_previous: bool = False


def test_a_full_disk_while_copying_a_kept_report_leaves_the_year_whole(root, monkeypatch):
    monkeypatch.setenv(testhooks.ENV, "disque-plein:*/ouest/rapport.html")
    with pytest.raises(publication.DiskFull) as full, Publication(root, YEAR, print) as held:
        staging = held.new_staging()
        held.keep_previous([_Failed(str(staging / "ouest"))])
    assert "disque plein" in str(full.value)
    assert contents(root / "2024")["ouest/rapport.html"] == "ancien ouest/rapport.html"
    assert hidden(root) == []


def test_an_environment_problem_carries_exit_code_3():
    assert EnvironmentProblem("x").exit_code == 3
    assert issubclass(PublicationBlocked, EnvironmentProblem)


def test_a_folder_that_cannot_be_written_ends_in_french_with_exit_code_3(root):
    with pytest.raises(EnvironmentProblem) as refused, Publication(root, YEAR, print) as held:
        staging = held.new_staging()
        raise PermissionError(13, "Permission non accordée", str(staging / "index.html"))
    assert refused.value.exit_code == 3
    assert "impossible d'écrire" in str(refused.value) and "relancez" in str(refused.value)
    assert contents(root / "2024")["index.html"] == "ancien index.html"
    assert hidden(root) == []


def test_an_interrupted_swap_that_cannot_be_finished_yet_is_said_and_retried(root, monkeypatch):
    make_year(root / ".2024.en-cours-77", "nouveau")
    (root / SWAP_JOURNAL).write_text(
        '{"annee": "2024", "nouveau": ".2024.en-cours-77", "ancien": ".2024.ancien-77"}',
        encoding="utf-8",
    )
    monkeypatch.setenv(testhooks.ENV, "fichier-ouvert:lyon/rapport.html")
    with pytest.raises(EnvironmentProblem) as refused, Publication(root, YEAR, print):
        pass
    assert "interrompue" in str(refused.value) and "relancez" in str(refused.value)
    assert contents(root / "2024")["index.html"] == "ancien index.html"
    monkeypatch.delenv(testhooks.ENV)  # the file is closed: the next batch finishes the swap
    told = []
    with Publication(root, YEAR, told.append):
        pass
    assert contents(root / "2024")["index.html"] == "nouveau index.html"
    assert hidden(root) == [] and "achevée" in told[0]


# --- the user's files are never the batch's (issue 24, items 5 and 7) ----------------------


def test_a_symlinked_year_folder_is_refused_and_neither_it_nor_its_target_is_touched(root):
    """A year's folder that is a link to a shared drive: the swap used to rename the link
    aside, put the new year in its place and fail to delete the link (rmtree refuses
    links, errors ignored), so every later batch said it removed `.2024.ancien-…`,
    which stayed. The year is now refused before anything moves."""
    shared = root / "partage" / str(YEAR)
    shared.parent.mkdir()
    (root / str(YEAR)).rename(shared)
    (root / str(YEAR)).symlink_to(shared, target_is_directory=True)
    said = []
    with (
        pytest.raises(UsageError, match="lien symbolique") as refused,
        Publication(root, YEAR, said.append),
    ):
        pass
    assert refused.value.exit_code == 2
    assert (root / str(YEAR)).is_symlink()
    assert contents(shared) == contents(make_year(root / "attendu", "ancien"))
    assert hidden(root) == []
    with Publication(root, 2025, said.append):  # the lock was released
        pass


def test_a_symlink_left_aside_by_an_older_batch_is_unlinked_once_and_its_target_kept(root):
    target = make_year(root / "ailleurs", "ailleurs")
    (root / ".2024.ancien-77").symlink_to(target, target_is_directory=True)
    said = []
    publication.remove_debris(root, said.append)
    assert not os.path.lexists(root / ".2024.ancien-77")
    assert ".2024.ancien-77" in said[0]
    assert contents(target)  # the link's target is the user's: never deleted
    said.clear()
    publication.remove_debris(root, said.append)
    assert said == []  # not said again: it is gone


@pytest.mark.parametrize("name", ["2024", "2024-interne", "2024-pret-a-publier"])
def test_input_files_inside_a_folder_the_batch_replaces_are_refused(tmp_path, name, capsys):
    """`rapports --structures out/2025/structures.csv … --sortie out` exited 0 and both
    input files were gone with the old year."""
    out = tmp_path / "out"
    folder = out / name
    folder.mkdir(parents=True)
    for file in ("structures.csv", "reponses.csv"):
        (folder / file).write_bytes((MINI / file).read_bytes())
    before = {p: p.read_bytes() for p in folder.iterdir()}
    code = main(
        ["rapports", "--structures", str(folder / "structures.csv"),
         "--reponses", str(folder / "reponses.csv"), "--annee", "2024", "--sortie", str(out)]
    )  # fmt: skip
    assert code == 2
    message = capsys.readouterr().err
    assert "structures.csv" in message and "serait supprimé" in message
    assert {p: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing written


def test_an_output_folder_inside_parameters_is_refused(tmp_path, capsys, monkeypatch):
    """Its reports were fingerprinted as parameters: every batch re-made every report."""
    monkeypatch.setattr(paths, "PARAMETERS_DIR", tmp_path / "parameters")
    out = paths.PARAMETERS_DIR / "sorties"
    code = main(["rapports", *mini_options(MINI), "--sortie", str(out)])
    assert code == 2
    assert "est dans parameters/" in capsys.readouterr().err
    assert not out.exists()
