"""The catalog `parameters/questionnaire.yaml`: checked when read, and all else follows from it.

The round trip is the promise made to evaluators: adding one entry to the catalog and
one column to the answers is all it takes for a new question to be validated,
computed, shown in the reports and asked in the questionnaire. It runs on a copy of
the project, so the committed catalog is never touched.
"""

from __future__ import annotations

import csv
import html
import io
import random
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from conftest import copy_project, environment, run_cli

from avs_eval import paths
from avs_eval.catalog import Catalog, load_catalog
from avs_eval.config import load_config
from avs_eval.errors import ValidationError

CATALOG = load_catalog()

NEW_QUESTION = """
  - colonne: observatoire_local
    type: oui_non
    intitule: Participez-vous à un observatoire local ou à un diagnostic partagé du territoire ?
    libelle: Participation à un observatoire local
    action: 2
    cle: true
    cible: 0.5
"""
NEW_LABEL = "Participation à un observatoire local"


# --- a copy of the project --------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project as a user has it, in a temporary folder: code, notebooks, parameters, data."""
    return copy_project(tmp_path_factory.mktemp("projet") / "avs-eval")


def snapshot(root: Path) -> dict[str, bytes]:
    """The project's files, but for caches (Python's, and the secrecy audit's `.cache/`,
    which the batch fills and no user edits)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not {"__pycache__", ".cache"} & set(p.relative_to(root).parts)
    }


def run(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """`avs-eval` from the copy: its own package, parameters and notebooks."""
    env = environment(drop=[paths.CONTEXT_ENV], PYTHONPATH=str(project))
    return run_cli(*arguments, cwd=project, env=env)


def add_answers(path: Path, column: str, seed: int = 7) -> None:
    """Append `column` to an answers file, with random yes/no answers and a few blanks."""
    rng = random.Random(seed)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0].append(column)
    for row in rows[1:]:
        row.append(rng.choice(["oui", "oui", "non", ""]))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


# --- the new-question round trip ----------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(project: Path) -> dict[str, bytes]:
    """The copy's files before the new question is added."""
    return snapshot(project)


@pytest.fixture(scope="module")
def with_new_question(project: Path, pristine) -> Path:
    """The copy with the README's example entry and its column: nothing else is edited."""
    catalog = project / "parameters" / "questionnaire.yaml"
    text = catalog.read_text(encoding="utf-8")
    head, derived = text.split("\nindicateurs_derives:", 1)
    catalog.write_text(
        head.rstrip("\n") + "\n" + NEW_QUESTION + "\nindicateurs_derives:" + derived,
        encoding="utf-8",
    )
    add_answers(project / "data" / "exemple" / "reponses.csv", "observatoire_local")
    return project


def test_round_trip_valider_accepts_and_checks_the_new_column(with_new_question, tmp_path):
    done = run(with_new_question, "valider")
    assert done.returncode == 0, done.stderr
    assert "observatoire_local" not in done.stdout  # no warning about it
    answers = tmp_path / "reponses.csv"
    text = (with_new_question / "data" / "exemple" / "reponses.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",peut-être"
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    structures = with_new_question / "data" / "exemple" / "structures.csv"
    done = run(
        with_new_question, "valider", "--structures", str(structures), "--reponses", str(answers)
    )
    assert done.returncode == 1
    assert "ligne 6, colonne « observatoire_local », valeur « peut-être »" in done.stderr
    assert "Traceback" not in done.stderr


def test_round_trip_indicateurs_has_rows_at_every_level(with_new_question):
    done = run(with_new_question, "indicateurs")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout), keep_default_na=False)
    rows = table[table["indicateur"] == "observatoire_local"]
    assert set(rows["niveau"]) == {"territoire", "collectivite", "departement", "qpv"}
    assert set(rows["annee"]) == {2022, 2023, 2024, 2025}  # action 2 starts in 2022
    assert (rows.loc[rows["niveau"] == "departement", "denominateur"] > 50).all()


@pytest.mark.lent
def test_round_trip_reports_show_the_new_question(with_new_question, tmp_path):
    done = run(
        with_new_question,
        "rapports",
        "--territoire",
        "Lyon",
        "--sortie",
        str(tmp_path),
        "--jobs",
        "2",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "2025" / "lyon" / "rapport.html").read_text(encoding="utf-8")
    text = html.unescape(page)
    key_figures = text.split("Chiffres clés", 2)[2].split("Indicateur 1 :")[0]
    assert NEW_LABEL in key_figures  # in the key figures table...
    row = key_figures.split(NEW_LABEL, 1)[1].split("</tr>")[0]
    assert "50\u202f%" in row  # ...with its target
    action_2 = text.split("Action 2 : Participer aux instances", 1)[1].split("Action 3 :")[0]
    assert f'alt="{NEW_LABEL}' in action_2  # its chart, in the section of action 2
    synthesis = html.unescape((tmp_path / "2025" / "synthese.html").read_text(encoding="utf-8"))
    assert f'alt="{NEW_LABEL} : évolution' in synthesis  # its trend chart


def test_round_trip_questionnaire_asks_it(with_new_question, tmp_path):
    form = tmp_path / "questionnaire.xlsx"
    done = run(with_new_question, "questionnaire", "--format", "xlsform", "--sortie", str(form))
    assert done.returncode == 0, done.stderr
    survey = openpyxl.load_workbook(form)["survey"]
    rows = {row[1]: row for row in survey.iter_rows(values_only=True)}
    assert rows["observatoire_local"][0] == "select_one oui_non"
    assert rows["observatoire_local"][2].startswith("Participez-vous à un observatoire local")


def test_round_trip_touches_only_the_catalog_and_the_data(with_new_question, pristine):
    before = pristine
    after = snapshot(with_new_question)
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    assert changed == ["data/exemple/reponses.csv", "parameters/questionnaire.yaml"]


# --- broken catalogs ----------------------------------------------------------------------


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


BROKEN = {
    "type_inconnu": (
        _replace("oui_non\n    intitule: Un partenaire", "ouinon\n    intitule: Un partenaire"),
        "questions > permanence_partenaire > type », valeur « ouinon » : valeur inconnue",
    ),
    "colonne_en_double": (
        _replace("  - colonne: contrats\n", "  - colonne: contrat_local\n"),
        "valeur « contrat_local » : colonne en double",
    ),
    "condition_sans_question_oui_non": (
        _replace("condition: contrat_local", "condition: contrats_locaux"),
        "condition doit nommer une question oui/non du catalogue",
    ),
    "condition_sur_une_liste": (
        _replace("condition: contrat_local", "condition: communication_canaux"),
        "condition doit nommer une question oui/non du catalogue",
    ),
    "cible_hors_0_1": (
        _replace("cible: 0.60", "cible: 60"),
        "questions > permanence_partenaire > cible », valeur « 60 » : une part entre 0 et 1",
    ),
    "cible_par_annee_hors_0_1": (
        _replace("cible: 0.60", "cible: {2024: 0.55, 2026: 1.2}"),
        "cible > 2026 », valeur « 1.2 » : une part entre 0 et 1",
    ),
    "yaml_invalide": (
        _replace("    libelle: Lieux de l'aller-vers\n", "    libelle: Lieux : de l'aller-vers\n"),
        "YAML invalide",
    ),
    "code_en_double": (
        _replace("{code: cpam, libelle: CPAM}", "{code: cpam, libelle: CPAM}\n      - {code: cpam}"),  # noqa: E501
        "modalites > cpam », valeur « cpam » : code en double",
    ),
    "jusqu_a_avant_depuis": (
        _replace("    action: 3\n", "    action: 3\n    jusqu_a: 2022\n"),
        "jusqu_a », valeur « 2022 » : dernière année avant la première (2023)",
    ),
    "jusqu_a_avant_depuis_explicite": (
        _replace("    action: 3\n", "    action: 3\n    depuis: 2024\n    jusqu_a: 2023\n"),
        "jusqu_a », valeur « 2023 » : dernière année avant la première (2024)",
    ),
    "derive_sur_code_inconnu": (
        _replace("[rencontres_partenaires,", "[rencontre_partenaires,"),
        "au_moins_un_de », valeur « rencontre_partenaires » : code absent de communication_canaux",
    ),
    "cle_inconnue": (
        _replace("    cle: true\n    cible: 0.60", "    cle: true\n    cibles: 0.60"),
        "questions > permanence_partenaire > cibles » : clé inconnue",
    ),
    "action_inconnue": (
        _replace("    action: 3\n", "    action: 7\n"),
        "action », valeur « 7 » : action inconnue de parameters/config.yaml",
    ),
}  # fmt: skip


def _broken_catalog(tmp_path: Path, case: str) -> Path:
    edit, _ = BROKEN[case]
    path = tmp_path / "questionnaire.yaml"
    path.write_text(edit(paths.CATALOG_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_catalog_is_reported_with_line_and_key(tmp_path, case):
    path = _broken_catalog(tmp_path, case)
    with pytest.raises(ValidationError) as caught:
        load_catalog.__wrapped__(path)
    report = caught.value.report()
    assert "erreur" in report and "dans les paramètres" in report
    assert BROKEN[case][1] in report, report
    assert re.search(r"questionnaire\.yaml, ligne \d+", report), report


@pytest.mark.parametrize("case", ["type_inconnu", "yaml_invalide", "derive_sur_code_inconnu"])
def test_broken_catalog_stops_the_cli_before_any_data(project, tmp_path, case):
    copy = tmp_path / "projet"
    shutil.copytree(project, copy)
    (copy / "parameters" / "questionnaire.yaml").write_text(
        BROKEN[case][0](paths.CATALOG_FILE.read_text(encoding="utf-8")), encoding="utf-8"
    )
    for command in (["valider"], ["indicateurs"], ["modele", "--sortie", str(tmp_path / "m.xlsx")]):
        done = run(copy, *command)
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr
        assert BROKEN[case][1] in done.stderr
        assert "parameters/questionnaire.yaml, ligne" in done.stderr
    assert not (tmp_path / "m.xlsx").exists()


CONFIG_BROKEN = {
    "cle_inconnue": (_replace("min_effectif: 5", "min_efectif: 5"), "min_efectif » : clé inconnue"),
    "type": (_replace("min_effectif: 5", "min_effectif: cinq"), "un nombre entier est attendu"),
    "annees": (
        _replace("  fin: 2026\n\n", "  fin: 2021\n\n"),
        "periode > fin », valeur « 2021 » : fin avant le début",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_BROKEN))
def test_broken_config_is_reported_with_line_and_key(project, tmp_path, case):
    copy = tmp_path / "projet"
    shutil.copytree(project, copy)
    config = copy / "parameters" / "config.yaml"
    config.write_text(CONFIG_BROKEN[case][0](config.read_text(encoding="utf-8")), encoding="utf-8")
    done = run(copy, "valider")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert CONFIG_BROKEN[case][1] in done.stderr
    assert re.search(r"parameters/config\.yaml, ligne \d+", done.stderr)


# --- years: a code added later, a question retired ------------------------------------------


def test_years_of_questions_and_codes(tmp_path, monkeypatch):
    """A code added in 2024 has no row before it; a question retired after 2023 none after."""
    from avs_eval import catalog as catalog_module
    from avs_eval import indicators
    from avs_eval.loading import load
    from avs_eval.sources import DataSource

    text = paths.CATALOG_FILE.read_text(encoding="utf-8")
    text = text.replace(
        "      - {code: pre, libelle: Programme de réussite éducative (PRE)}\n",
        "      - {code: pre, libelle: Programme de réussite éducative (PRE)}\n"
        "      - {code: clspd, libelle: Conseil local de sécurité, depuis: 2024}\n",
    )
    text = text.replace(
        "    action: 2\n    cle: true\n    cible: 0.80\n", "    action: 2\n    jusqu_a: 2023\n"
    )
    path = tmp_path / "questionnaire.yaml"
    path.write_text(text, encoding="utf-8")
    changed = catalog_module.load_catalog.__wrapped__(path)
    monkeypatch.setattr(catalog_module, "load_catalog", lambda *a: changed)
    for module in ("indicators", "loading"):
        monkeypatch.setattr(f"avs_eval.{module}.load_catalog", lambda *a: changed)
    mini = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"
    dataset = load(DataSource(mini / "structures.csv", mini / "reponses.csv"))
    table = indicators.compute(dataset, min_effectif=1)
    clspd = table[(table["indicateur"] == "contrats") & (table["modalite"] == "clspd")]
    assert set(clspd["annee"]) == {y for y in dataset.years if y >= 2024}
    retired = table[table["indicateur"] == "instances_coordination"]
    assert set(retired["annee"]) == {y for y in dataset.years if y <= 2023}
    # the answers given after it was retired are set aside, and said so
    assert any("question non posée en 2024" in w.message for w in dataset.warnings)


# --- what the catalog decides elsewhere --------------------------------------------------------


def test_every_section_of_the_sheet_has_a_cell_in_the_territory_notebook():
    notebook = nbformat.read(paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb", as_version=4)
    sources = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for key in CATALOG.section_keys():
        assert f'rapport.section("{key}")' in sources


def test_sections_follow_the_sheet_and_hold_each_question_once():
    sections = CATALOG.sections()
    assert [s.key for s in sections] == [
        "indicateur-1", "indicateur-2", "indicateur-3", "indicateur-4",
        "action-2", "action-3", "action-4",
    ]  # fmt: skip
    placed = [item.nom for s in sections for item in s.items]
    expected = [q.colonne for q in CATALOG.questions] + [d.nom for d in CATALOG.derived]
    assert sorted(placed) == sorted(expected)


def test_defaults_come_from_the_actions_and_targets_from_the_catalog():
    config = load_config()
    assert CATALOG.by_column["projet_social_partage"].depuis == config.action(3).debut == 2023
    assert CATALOG.by_column["permanence_partenaire"].depuis == config.debut
    assert CATALOG.target("permanence_partenaire", 2025) == 0.60
    assert CATALOG.direction("difficultes_gouvernance") == "baisse"
    headline = CATALOG.headline()
    assert headline[0] == "communication_partenaires"  # indicator 1's headline comes first
    assert set(CATALOG.yes_no_columns) <= set(headline)


def test_target_per_year_takes_the_last_year_set():
    from avs_eval.catalog import Target

    target = Target(((2024, 0.55), (2026, 0.60)))
    assert [target.at(y) for y in (2023, 2024, 2025, 2026)] == [None, 0.55, 0.55, 0.60]


def test_reference_lists_the_catalog_columns_and_codes():
    readme = (paths.PROJECT_ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    for question in CATALOG.questions:
        assert f"| {question.colonne} |" in readme, question.colonne
        if question.codes:
            assert f"- `{question.colonne}` : {', '.join(question.codes)}" in readme


def test_catalog_type_is_the_project_catalog():
    assert isinstance(CATALOG, Catalog)
    assert CATALOG.fichier == "parameters/questionnaire.yaml"
