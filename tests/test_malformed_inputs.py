"""`avs-eval valider` on every malformed input of tests/malformes/, as a user runs it.

Each folder holds the files of one case and `attendu.yaml` (see tests/make_malformes.py,
which wrote them). The command must fail with the expected exit code, print no
traceback, and print, on one line per expected error, the file, the spreadsheet row,
the column, the value and the French words of the explanation.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

MALFORMES = Path(__file__).parent / "malformes"
CASES = sorted(p for p in MALFORMES.iterdir() if p.is_dir()) if MALFORMES.is_dir() else []
MIN_CASES = 40


def test_corpus_has_at_least_40_cases():
    assert len(CASES) >= MIN_CASES, [p.name for p in CASES]


def test_every_case_has_its_expectation_and_its_files():
    for folder in CASES:
        names = {p.name for p in folder.iterdir()}
        assert "attendu.yaml" in names, folder.name
        data = names - {"attendu.yaml"}
        classeur = {n for n in data if n.startswith("classeur.")}
        pair = {n for n in data if n.startswith(("structures.", "reponses."))}
        assert (classeur and not pair) or (len(pair) == 2 and not classeur), (folder.name, data)


def arguments(folder: Path) -> list[str]:
    """The command line for a case, with paths relative to the case folder."""
    files = sorted(p.name for p in folder.iterdir() if p.name != "attendu.yaml")
    by_role = {name.split(".")[0]: name for name in files}
    if "classeur" in by_role:
        return ["--classeur", by_role["classeur"]]
    return ["--structures", by_role["structures"], "--reponses", by_role["reponses"]]


def expected_pieces(error: dict) -> list[str | re.Pattern]:
    """What one error line must contain, in the words of errors.Finding.__str__."""
    pieces: list[str | re.Pattern] = [error["fichier"]]
    if "ligne" in error:
        pieces.append(re.compile(rf"\bligne {error['ligne']}\b"))
    if "colonne" in error:
        pieces.append(f"colonne « {error['colonne']} »")
    if "valeur" in error:
        pieces.append(f"valeur « {error['valeur']} »")
    pieces += error.get("mots", [])
    return pieces


def contains(line: str, piece: str | re.Pattern) -> bool:
    return bool(piece.search(line)) if isinstance(piece, re.Pattern) else piece in line


def run_case(folder: Path, work: Path) -> subprocess.CompletedProcess:
    """`avs-eval valider` on a copy of the case, from its folder, with relative paths."""
    shutil.copytree(folder, work)
    return run_cli("valider", *arguments(work), cwd=work, errors="replace")


@pytest.fixture(scope="module")
def results(request, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Run the selected cases in parallel (one Python start each, ~0.7 s): a module's worth."""
    selected = [
        item.callspec.params["folder"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_cli_rejects_malformed_input_in_french"
    ]
    root = tmp_path_factory.mktemp("malformes")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {f.name: pool.submit(run_case, f, root / f.name) for f in selected}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("folder", CASES, ids=[p.name for p in CASES])
def test_cli_rejects_malformed_input_in_french(folder: Path, results):
    expected = yaml.safe_load((folder / "attendu.yaml").read_text(encoding="utf-8"))
    result = results[folder.name]
    output = result.stdout + result.stderr
    assert result.returncode == expected["code_retour"], output
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "Warning" not in output, output  # a library's English remarks, not for the user
    assert "erreur" in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    for error in expected["erreurs"]:
        pieces = expected_pieces(error)
        assert any(all(contains(line, p) for p in pieces) for line in lines), (
            f"aucune ligne ne contient {pieces}:\n{result.stderr}"
        )


def test_corpus_is_what_the_generator_writes(tmp_path: Path):
    """The committed files are the generator's output: rerunning it changes nothing."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import make_malformes
    finally:
        sys.path.pop(0)
    names = make_malformes.build(tmp_path)
    assert sorted(names) == [p.name for p in CASES]
    for name in names:
        assert make_malformes.contents(tmp_path / name) == make_malformes.contents(
            MALFORMES / name
        ), name
