"""A file wrong on every row: the terminal listing stays short, the CSV holds everything.

`avs-eval valider` shows the first 50 findings in full, then a count per rule (file,
column, rule); `--erreurs F.csv` writes every finding (fichier, ligne, colonne, valeur,
message) for the evaluator to work through. Both stay fast on 10,000 bad rows.
"""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path

from conftest import MiniData, data_options, run_cli

from avs_eval.errors import SHOWN, Finding, ValidationError, findings_csv, listing, rule_of

BAD_ROWS = 10_000


def wrong_everywhere(mini: MiniData) -> tuple[Path, Path]:
    """The mini register and 10,000 answers, each with an unknown yes/no and an unknown code."""
    template = mini.rows["reponses"][1]
    header = mini.rows["reponses"][0]
    rows = []
    for number in range(BAD_ROWS):
        row = dict(zip(header, template, strict=True))
        row["structure_id"] = f"S{number % 8 + 1}"
        row["annee"] = str(2022 + number % 5)
        row["permanence_partenaire"] = "peut-être"
        row["contrats"] = f"contrat_{number}"
        rows.append([row[h] for h in header])
    mini.rows["reponses"] = [header, *rows]
    return mini.write()


def run(*arguments: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`avs-eval valider ARGUMENTS` and the seconds it took."""
    start = time.perf_counter()
    result = run_cli("valider", *arguments, cwd=cwd)
    return result, time.perf_counter() - start


def test_ten_thousand_bad_rows_fifty_lines_then_counts_and_the_full_csv(mini, tmp_path):
    structures, reponses = wrong_everywhere(mini)
    target = tmp_path / "toutes" / "erreurs.csv"
    result, seconds = run(
        *data_options(structures, reponses), "--erreurs", str(target), cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    full = [line for line in listed if "ligne " in line and " × " not in line]
    counts = [line for line in listed if " × " in line]
    assert len(full) == SHOWN
    # one count per rule that fails: unknown yes/no, unknown code, duplicated answers
    assert any("réponse oui/non non reconnue" in line for line in counts), counts
    assert any("code inconnu" in line for line in counts), counts
    assert any("10\u202f000 × " in line and "permanence_partenaire" in line for line in counts)
    assert "--erreurs" in result.stderr
    assert len(result.stderr.splitlines()) < SHOWN + 20
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["fichier", "ligne", "colonne", "valeur", "message"]
    bad_yes_no = [r for r in rows[1:] if r[2] == "permanence_partenaire"]
    assert len(bad_yes_no) == BAD_ROWS
    assert {int(r[1]) for r in bad_yes_no} == set(range(2, BAD_ROWS + 2))
    assert all(r[3] == "peut-être" for r in bad_yes_no)
    unknown_codes = [r for r in rows[1:] if r[2] == "contrats"]
    assert len(unknown_codes) == BAD_ROWS
    first = next(r for r in unknown_codes if r[1] == "2")
    assert first[3] == "contrat_0" and "code inconnu « contrat_0 »" in first[4]
    assert seconds < 30, f"{seconds:.1f} s"


def test_the_csv_holds_the_same_findings_as_the_validation(mini, tmp_path):
    mini.set("reponses", 3, "permanence_partenaire", "peut-être")
    mini.set("structures", 2, "code_insee", "01053")
    structures, reponses = mini.write()
    target = tmp_path / "erreurs.csv"
    result, _ = run(*data_options(structures, reponses), "--erreurs", str(target), cwd=tmp_path)
    assert result.returncode == 1
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for row in rows:  # every line of the CSV is shown in the terminal, few as they are
        assert f"ligne {row['ligne']}" in result.stderr and row["message"] in result.stderr
    assert {r["colonne"] for r in rows} >= {"permanence_partenaire", "code_insee"}


def test_valid_data_the_csv_receives_the_warnings(mini, tmp_path):
    mini.set("reponses", 3, "permanence_partenaires", "caf")  # filled although "non"
    structures, reponses = mini.write()
    target = tmp_path / "avertissements.csv"
    result, _ = run(*data_options(structures, reponses), "--erreurs", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert any(r["ligne"] == "3" and r["colonne"] == "permanence_partenaires" for r in rows)


def test_an_unwritable_errors_file_is_said_without_traceback(mini, tmp_path):
    mini.set("reponses", 3, "permanence_partenaire", "peut-être")
    structures, reponses = mini.write()
    blocker = tmp_path / "fichier"
    blocker.write_text("")
    result, _ = run(
        *data_options(structures, reponses), "--erreurs", str(blocker / "erreurs.csv"), cwd=tmp_path
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr and "impossible d'écrire" in result.stderr


def test_few_findings_are_all_shown_and_many_are_counted_by_rule():
    few = [Finding("r.csv", n, "annee", "x", "année attendue") for n in range(2, 12)]
    assert listing(few, "erreur") == [f"  - {f}" for f in few]
    many = [
        Finding("r.csv", n, "contrats", f"c{n}", f"code inconnu « c{n} » (codes acceptés : a)")
        for n in range(2, 2 + 120)
    ]
    lines = listing(many, "erreur")
    assert lines[:SHOWN] == [f"  - {f}" for f in many[:SHOWN]]
    assert "70 autres erreurs" in lines[SHOWN]
    assert lines[SHOWN + 1] == (
        "  - 120 × r.csv, colonne « contrats » : code inconnu « … » (codes acceptés : a)"
    )
    report = ValidationError(many).report()
    assert report.count("\n") == SHOWN + 3


def test_a_rule_leaves_out_its_particulars():
    assert rule_of("réponse en double pour 2024 (déjà ligne 8)") == "réponse en double pour …"
    assert rule_of("code inconnu « xyz » (codes acceptés : a, b)") == (
        "code inconnu « … » (codes acceptés : a, b)"
    )


def test_findings_csv_keeps_values_whole():
    value = "x" * 200 + ';\n"y"'
    text = findings_csv([Finding("f.csv", None, None, value, "m")])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(text[1:].splitlines(keepends=True), delimiter=";"))
    assert rows[1] == ["f.csv", "", "", value, "m"]
