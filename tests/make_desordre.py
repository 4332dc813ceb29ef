"""Write tests/fixtures/desordre/: a messy survey export and what `avs-eval valider` said of it.

Run from the project root: `.venv/bin/python tests/make_desordre.py` writes the data
(deterministic: a fixed seed); `--attendu` also writes the expected outputs from the
code as it is. The expected outputs committed were written by the validator as it was
before findings were recorded in bulk (one `Finding` object per row), so that
tests/test_constats_en_masse.py shows the bulk path says exactly the same: same
messages, lines, columns, values, order, counts per rule, and the same `--erreurs` CSV.

The data are those of a real export, small: 70 structures x 5 years, a third of the
rows with a warning (answers to a question before its first year, a follow-up after a
« non », an exclusive code beside others), accepted spellings (« Oui », « O », « vrai »,
« centre social »), empty cells, free text with `;`, quotes, a line break and more than
60 characters. `reponses_erreurs.csv` adds errors on more than 50 rows (unknown yes/no
and codes, a year that is not one, an unknown structure, an answer given twice) and
lacks a question's column (a warning).
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from avs_eval.catalog import load_catalog  # noqa: E402

FOLDER = ROOT / "tests" / "fixtures" / "desordre"
STRUCTURES = 70
YEARS = range(2022, 2027)
PLACES = (
    ("Lyon", "69123", "Lyon", "Métropole de Lyon"),
    ("Villeurbanne", "69266", "Villeurbanne", "métropole de lyon"),
    ("Givors", "69091", "Givors", "Rhône"),
    ("Tarare", "69243", "Tarare", "rhône"),
)
YES = ("oui", "oui", "oui", "Oui", "O", "vrai", "OUI", "1")
NO = ("non", "non", "non", "Non", "N", "faux")
FREE_TEXT = (
    'lettre « maison » ; affiches "A3"',
    "une réponse libre bien plus longue que soixante caractères, pour voir la coupure",
    "deux lignes\ndans une cellule",
)


def structures(rng: random.Random) -> list[list[str]]:
    header = ["structure_id", "nom", "type", "commune", "code_insee", "territoire"]
    header += ["collectivite", "qpv", "annee_debut", "annee_fin"]
    rows = [header]
    for number in range(1, STRUCTURES + 1):
        commune, insee, territoire, collectivite = rng.choice(PLACES)
        kind = rng.choice(("CS", "CS", "centre social", "EVS", "espace de vie sociale"))
        qpv = rng.choice(YES + NO + ("",))
        identity = [f"S{number:03d}", f"Structure {number}", kind]
        rows.append([*identity, commune, insee, territoire, collectivite, qpv, "", ""])
    return rows


def answer(question, rng: random.Random) -> str:
    if rng.random() < 0.05:
        return ""
    if question.kind == "oui_non":
        return rng.choice(YES + NO)
    if question.kind == "liste":
        codes = [m.code for m in question.modalites if not m.exclusive]
        return ";".join(rng.sample(codes, rng.randint(1, 3)))
    return ""


def responses(rng: random.Random) -> list[list[str]]:
    catalog = load_catalog()
    columns = [q.colonne for q in catalog.questions]
    rows = [["structure_id", "annee", *columns]]
    for year in YEARS:
        for number in range(1, STRUCTURES + 1):
            if rng.random() < 0.1:
                continue
            cells = {}
            for question in catalog.questions:
                cells[question.colonne] = answer(question, rng) if question.asked_in(year) else ""
                condition = question.condition
                if condition and not question.condition_code and cells[condition] not in YES:
                    cells[question.colonne] = ""
            if rng.random() < 1 / 3:  # a warning
                warn(catalog, cells, year, rng)
            rows.append([f"S{number:03d}", str(year), *(cells[c] for c in columns)])
    return rows


def warn(catalog, cells: dict, year: int, rng: random.Random) -> None:
    """One of the warnings of real exports, or several when a question is not yet asked."""
    unasked = [q for q in catalog.questions if not q.asked_in(year)]
    choice = rng.random()
    if unasked and choice < 0.5:
        for question in unasked:
            cells[question.colonne] = rng.choice(YES) if question.kind == "oui_non" else "x"
    elif choice < 0.7:
        cells["permanence_partenaire"] = rng.choice(NO)
        cells["permanence_partenaires"] = "caf;pmi"
    elif choice < 0.85:
        cells["communication_canaux"] = "site_internet;aucun"
    else:
        cells["communication_canaux"] = "site_internet"
        cells["communication_autre"] = rng.choice(FREE_TEXT)


def with_errors(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    header = rows[0]
    dropped = header.index("accompagnement_gouvernance")
    out = [[c for k, c in enumerate(row) if k != dropped] for row in rows]
    at = {name: k for k, name in enumerate(out[0])}
    for row in out[1:]:
        draw = rng.random()
        if draw < 0.12:
            row[at["permanence_partenaire"]] = rng.choice(("peut-être", "oui;non", "?"))
        elif draw < 0.2:
            row[at["contrats"]] = rng.choice(("contrat_inconnu", "ctg;zzz", "CTG, abc"))
        elif draw < 0.23:
            row[at["annee"]] = "20x4"
        elif draw < 0.26:
            row[at["structure_id"]] = "S999"
    out.append(list(out[1]))  # the same answer twice
    return out


def write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def write_expected() -> None:
    """The terminal and the `--erreurs` CSV of `avs-eval valider`, as the code says now.

    Run on copies outside the project, so that files are named by their names alone.
    """
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in ("structures.csv", "reponses.csv", "reponses_erreurs.csv"):
            shutil.copy(FOLDER / name, work / name)
        for case, reponses in CASES.items():
            result = subprocess.run(
                [sys.executable, "-m", "avs_eval.cli", *valider_arguments(reponses, case)],
                cwd=work,
                capture_output=True,
                text=True,
                encoding="utf-8",
                check=False,
            )
            output = f"code {result.returncode}\n{result.stdout}{result.stderr}"
            (FOLDER / f"{case}.sortie.txt").write_text(output, encoding="utf-8")
            shutil.copy(work / f"{case}.csv", FOLDER / f"{case}.attendu.csv")


CASES = {"valide": "reponses.csv", "invalide": "reponses_erreurs.csv"}


def valider_arguments(reponses: str, case: str) -> list[str]:
    """`valider` on the files of the current folder, the findings into `<case>.csv`."""
    files = ["--structures", "structures.csv", "--reponses", reponses]
    return ["valider", *files, "--erreurs", f"{case}.csv"]


def main() -> None:
    rng = random.Random(2022)
    FOLDER.mkdir(parents=True, exist_ok=True)
    write(FOLDER / "structures.csv", structures(rng))
    answers = responses(rng)
    write(FOLDER / "reponses.csv", answers)
    write(FOLDER / "reponses_erreurs.csv", with_errors(answers, rng))
    if "--attendu" in sys.argv:
        write_expected()


if __name__ == "__main__":
    main()
