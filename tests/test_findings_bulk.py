"""Findings recorded in bulk say exactly what the objects one by one said.

tests/fixtures/desordre holds a messy export (warnings on a third of the rows, accepted
spellings, empty cells, free text with `;`, quotes and a line break) and, beside it, the
terminal output and the `--erreurs` CSV that `avs-eval valider` wrote for it before
findings were recorded as columns (tests/make_desordre.py). Both must stay identical,
byte for byte: same messages, lines, columns, values, order and counts per rule.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from make_desordre import CASES, FOLDER, valider_arguments

from avs_eval.cli import main
from avs_eval.errors import (
    FIELD_ORDER,
    Finding,
    FindingLog,
    Findings,
    ValidationError,
    _per_rule,
    findings_csv,
    listing,
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_valider_says_what_it_said_before_findings_in_bulk(case, tmp_path, monkeypatch, capsys):
    for name in ("structures.csv", "reponses.csv", "reponses_erreurs.csv"):
        shutil.copy(FOLDER / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    code = main(valider_arguments(CASES[case], case))
    captured = capsys.readouterr()
    expected = (FOLDER / f"{case}.sortie.txt").read_text(encoding="utf-8")
    assert f"code {code}\n{captured.out}{captured.err}" == expected
    written = (tmp_path / f"{case}.csv").read_bytes()
    assert written == (FOLDER / f"{case}.attendu.csv").read_bytes()


def some_findings(count: int, seed: int = 7) -> list[Finding]:
    """Findings with repeats, no line, no column, values to quote, messages per rule.

    Never both None and "" (or 0) in a field: the old order of such a tie was that of
    a set, arbitrary.
    """
    rng = random.Random(seed)
    findings = []
    for _ in range(count):
        line = rng.choice([None, 1, 2, 3, 10, 11])
        column = rng.choice([None, "annee", "contrats"])
        value = rng.choice([None, "oui", 'a;"b"', "x\ny", "é" * 80])
        message = rng.choice(
            [
                "code inconnu « xyz »",
                "code inconnu « abc »",
                "année attendue",
                "vide (déjà ligne 8)",
            ]
        )
        findings.append(Finding(rng.choice(["a.csv", "b.csv"]), line, column, value, message))
    return findings


def logged(findings: list[Finding]) -> FindingLog:
    """The same findings, half one by one, half as columns."""
    log = FindingLog()
    half = len(findings) // 2
    log.extend(findings[:half])
    for f in findings[half:]:
        line = np.array([-1 if f.ligne is None else f.ligne])
        log.add(f.fichier, line, f.colonne, np.array([f.valeur], dtype=object), f.message)
    return log


def test_columns_sort_count_and_write_as_the_objects_did():
    findings = some_findings(400)
    by_objects = ValidationError(findings, findings)
    in_bulk = ValidationError(logged(findings), logged(findings))
    assert isinstance(in_bulk.errors, Findings)
    assert in_bulk.errors == by_objects.errors
    assert list(in_bulk.warnings) == by_objects.warnings
    assert in_bulk.report() == by_objects.report()
    assert listing(in_bulk.errors, "erreur") == listing(by_objects.errors, "erreur")
    assert findings_csv(in_bulk.errors) == findings_csv(by_objects.errors)
    assert in_bulk.errors.per_rule() == _per_rule(by_objects.errors)
    # the dataclass's own order (`Dataset.warnings`), which cannot compare None with a value
    whole = [f for f in findings if None not in (f.ligne, f.colonne, f.valeur)]
    assert logged(whole).findings(FIELD_ORDER) == sorted(set(whole))


def test_findings_behave_as_the_list_they_replace():
    findings = ValidationError(some_findings(30)).errors
    held = logged(findings).findings()
    assert len(held) == len(findings) and bool(held)
    assert held[0] == findings[0] and held[-1] == findings[-1]
    assert held[2:5] == findings[2:5]
    assert findings[3] in held
    assert [f.message for f in held] == [f.message for f in findings]
    assert held == findings and held != findings[:-1]
    assert FindingLog().findings() == [] and not FindingLog().findings()
    with pytest.raises(IndexError):
        held[len(findings)]


def test_the_fixture_is_the_one_the_script_writes(tmp_path, monkeypatch):
    """The data committed are those tests/make_desordre.py writes (the expectations not)."""
    import make_desordre

    monkeypatch.setattr(make_desordre, "FOLDER", tmp_path)
    monkeypatch.setattr("sys.argv", ["make_desordre.py"])
    make_desordre.main()
    for name in ("structures.csv", "reponses.csv", "reponses_erreurs.csv"):
        assert (tmp_path / name).read_bytes() == (Path(FOLDER) / name).read_bytes(), name
