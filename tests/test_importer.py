"""avs-eval importer: KoboToolbox/ODK exports and mapped exports (Google Forms)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import surveys
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from avs_eval import indicators, paths, questionnaire
from avs_eval.catalog import load_catalog
from avs_eval.cli import main
from avs_eval.config import load_config
from avs_eval.errors import ValidationError
from avs_eval.formatting import count
from avs_eval.importer import (
    GOOGLE_FORMS_MAPPING,
    _split_labels,
    google_forms_mapping,
    load_mapping,
)
from avs_eval.loading import load, load_structures
from avs_eval.sources import DataSource

CATALOG = load_catalog()

SAMPLE_STRUCTURES = paths.SAMPLE_DIR / "structures.csv"
SAMPLE_RESPONSES = paths.SAMPLE_DIR / "reponses.csv"
GOOGLE_EXPORT = FIXTURES / "google_forms" / "reponses_google_forms.csv"


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return load_structures(SAMPLE_STRUCTURES)


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_RESPONSES, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def xlsform(register) -> bytes:
    return questionnaire.xlsform(load_config(), register)


@pytest.fixture(scope="module")
def sample_indicators() -> pd.DataFrame:
    return indicators.compute(load())


def run_import(source: str, export: Path, output: Path, *options: str) -> int:
    """`avs-eval importer`, as a user types it."""
    return main(
        [
            "importer",
            "--source",
            source,
            "--fichier",
            str(export),
            *options,
            "--sortie",
            str(output),
        ]
    )


def import_mapped(
    export: Path, output: Path, mapping: Path = GOOGLE_FORMS_MAPPING, *options: str
) -> int:
    return run_import("correspondance", export, output, "--correspondance", str(mapping), *options)


def indicators_of(responses: Path) -> pd.DataFrame:
    return indicators.compute(load(DataSource.from_options(SAMPLE_STRUCTURES, responses)))


# --- KoboToolbox round trip -----------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "separator", "groups", "split", "combined"),
    [
        ("xlsx", "", True, True, True),  # Kobo's default XLSX export
        ("csv", ";", False, False, True),  # CSV, no group names, no split columns
        ("csv", ",", True, True, False),  # only the split 0/1 columns of multiple choices
    ],
)
def test_kobo_round_trip(
    tmp_path, xlsform, answers, sample_indicators, capsys, form, separator, groups, split, combined
):
    """XLSForm from the register -> Kobo export of the sample -> import -> same indicators."""
    # S005 first answered for 2025 with other answers, then corrected: the correction wins,
    # though the stale submission comes last in the file (Kobo sorts by _id, not by time).
    stale = answers[(answers.structure_id == "S005") & (answers.annee == "2025")].copy()
    stale["permanence_partenaire"] = (
        "non" if stale.iloc[0].permanence_partenaire == "oui" else "oui"
    )
    stale["communication_canaux"] = "aucun"
    stale["_submission_time"] = datetime(2025, 1, 2, 8, 0)
    headers, rows = surveys.kobo_export(
        xlsform, pd.concat([answers, stale]), groups=groups, split=split, combined=combined
    )
    export = tmp_path / f"export_kobo.{form}"
    if form == "xlsx":
        export.write_bytes(surveys.write_xlsx(headers, rows))
    else:
        export.write_bytes(surveys.write_csv(headers, rows, separator))
    output = tmp_path / "reponses.csv"
    code = run_import("kobo", export, output, "--structures", str(SAMPLE_STRUCTURES))
    err = capsys.readouterr().err
    assert code == 0, err
    read, imported = count(len(answers) + 1), count(len(answers))
    assert f"{read} soumissions lues, {imported} réponses importées" in err
    assert "1 soumission écartée :" in err and "S005" in err
    assert "_submission_time" in err  # the tool's columns are named, not silently dropped
    pd.testing.assert_frame_equal(indicators_of(output), sample_indicators)
    imported = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(imported.columns) == list(CATALOG.response_columns)


def test_kobo_unknown_code_names_the_export_cell(tmp_path, xlsform, answers, capsys):
    headers, rows = surveys.kobo_export(xlsform, answers.head(5), groups=True, split=False)
    column = headers.index("projet/contrats")
    rows[2][column] = "ctg contrat_de_ville"
    export = tmp_path / "export.csv"
    export.write_bytes(surveys.write_csv(headers, rows))
    output = tmp_path / "reponses.csv"
    output.write_text("précieux\n", encoding="utf-8")
    code = main(["importer", "--source", "kobo", "--fichier", str(export), "--sortie", str(output)])
    err = capsys.readouterr().err
    assert code == 1
    assert "export.csv, ligne 4, colonne « projet/contrats »" in err
    assert "contrat_de_ville" in err and "Traceback" not in err
    assert output.read_text(encoding="utf-8") == "précieux\n"  # previous file kept


def test_kobo_bad_checkbox_and_date(tmp_path, xlsform, answers, capsys):
    headers, rows = surveys.kobo_export(
        xlsform, answers.head(3), groups=False, split=True, combined=False
    )
    rows[0][headers.index("contrats/ctg")] = "peut-être"
    rows[1][headers.index("_submission_time")] = "hier soir"
    export = tmp_path / "export.csv"
    export.write_bytes(surveys.write_csv(headers, rows))
    output = tmp_path / "reponses.csv"
    code = main(["importer", "--source", "kobo", "--fichier", str(export), "--sortie", str(output)])
    err = capsys.readouterr().err
    assert code == 1 and not output.exists()
    assert "ligne 2, colonne « contrats/ctg », valeur « peut-être » : case à cocher" in err
    assert "ligne 3, colonne « _submission_time », valeur « hier soir »" in err


def test_kobo_missing_question_lists_unknown_headers(tmp_path, xlsform, answers, capsys):
    headers, rows = surveys.kobo_export(xlsform, answers.head(3), groups=False, split=False)
    headers[headers.index("contrat_local")] = "contrat_politique_locale"
    export = tmp_path / "export.csv"
    export.write_bytes(surveys.write_csv(headers, rows))
    code = main(
        [
            "importer",
            "--source",
            "kobo",
            "--fichier",
            str(export),
            "--sortie",
            str(tmp_path / "r.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "aucune colonne pour la question contrat_local" in err
    assert "« contrat_politique_locale »" in err


def test_kobo_unknown_structure_checked_against_register(tmp_path, xlsform, answers, capsys):
    headers, rows = surveys.kobo_export(xlsform, answers.head(3), groups=False, split=False)
    rows[1][headers.index("structure_id")] = "S999"
    export = tmp_path / "export.csv"
    export.write_bytes(surveys.write_csv(headers, rows))
    arguments = ["importer", "--source", "kobo", "--fichier", str(export)]
    output = tmp_path / "r.csv"
    assert main([*arguments, "--sortie", str(output)]) == 1  # the sample's register by default
    err = capsys.readouterr().err
    assert "ligne 3, colonne « structure_id », valeur « S999 » : structure inconnue" in err
    assert "indiquez le vôtre avec --structures" in err
    register = tmp_path / "structures.csv"
    text = SAMPLE_STRUCTURES.read_text(encoding="utf-8")
    register.write_text(text.replace("S002,", "S999,", 1), encoding="utf-8")
    rows[2][headers.index("structure_id")] = "S999"  # S002's row, in the renamed register
    rows[1][headers.index("structure_id")] = "S002"
    export.write_bytes(surveys.write_csv(headers, rows))
    code = main([*arguments, "--structures", str(register), "--sortie", str(output)])
    err = capsys.readouterr().err
    assert code == 1
    assert "ligne 3, colonne « structure_id », valeur « S002 » : structure inconnue" in err
    assert "--structures" not in err


# --- Google Forms, through the shipped mapping ------------------------------------------


def test_google_forms_mapping_is_generated_from_the_vocabulary():
    assert GOOGLE_FORMS_MAPPING.read_text(encoding="utf-8") == google_forms_mapping(), (
        "parameters/correspondances/google_forms.yaml est à régénérer : make regenerer"
    )
    mapping = load_mapping(GOOGLE_FORMS_MAPPING)
    assert sorted(mapping.columns.values()) == sorted(CATALOG.response_columns)
    for question in CATALOG.questions:
        if question.kind == "liste":
            assert set(mapping.values[question.colonne].values()) == set(question.codes)


def test_google_forms_export(tmp_path, register, answers, capsys):
    output = tmp_path / "reponses.csv"
    code = import_mapped(
        GOOGLE_EXPORT, output, GOOGLE_FORMS_MAPPING, "--structures", str(SAMPLE_STRUCTURES)
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "11 soumissions lues, 10 réponses importées" in err
    assert "ligne 3" in err and "S033" in err  # the earlier submission, set aside
    assert "Adresse e-mail" not in err  # declared as ignored in the mapping
    imported = pd.read_csv(output, dtype=str, keep_default_na=False)
    ids = register.loc[register.territoire == "Villeurbanne", "structure_id"]
    expected = answers[(answers.annee == "2025") & answers.structure_id.isin(ids)]
    expected = expected.sort_values("structure_id").reset_index(drop=True)
    # Labels holding the separator ("Plaquette, affichage", "Mairie, CCAS") came back whole.
    pd.testing.assert_frame_equal(imported, expected)


def test_google_forms_unknown_label_and_header(tmp_path, capsys):
    text = GOOGLE_EXPORT.read_text(encoding="utf-8")
    text = text.replace("Médiathèque, ", "Ludothèque, ", 1)
    text = text.replace("Adresse e-mail", "Commentaire", 1)
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    output = tmp_path / "reponses.csv"
    code = import_mapped(export, output)
    err = capsys.readouterr().err
    assert code == 1 and not output.exists()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "Ludothèque" in row)
    assert f"export.csv, ligne {line}, colonne « Chez quels partenaires" in err
    assert "valeur « Ludothèque » : libellé sans correspondance pour aller_vers_lieux" in err
    assert "valeurs > aller_vers_lieux" in err


def test_unmapped_header_is_listed(tmp_path, capsys):
    text = GOOGLE_EXPORT.read_text(encoding="utf-8").replace("Adresse e-mail", "Commentaire", 1)
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    code = import_mapped(export, tmp_path / "r.csv")
    err = capsys.readouterr().err
    assert code == 0
    assert "1 colonne sans correspondance, ignorée : « Commentaire »" in err


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("colonnes:\n  Votre structure: structure\n", "ligne 2, colonne « colonnes > Votre"),
        ("colonnes:\n  A: annee\nvaleurs:\n  contrats:\n    CTG: ctgg\n", "ligne 5"),
        ("colonnes: [\n", "YAML invalide"),
        ("colonnes:\n  A: annee\n  B: annee\n", "déjà associée"),
        ("colonne:\n  A: annee\n", "clé inconnue"),
        ("colonnes:\n  A: annee\nvaleurs:\n  communication_autre:\n    x: y\n", "pas une question"),
    ],
)
def test_mapping_errors(tmp_path, capsys, yaml_text, expected):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        load_mapping(mapping)
    assert expected in raised.value.report()
    code = import_mapped(GOOGLE_EXPORT, tmp_path / "r.csv", mapping)
    err = capsys.readouterr().err
    assert code == 1 and "m.yaml" in err and "Traceback" not in err


def test_usage_errors(tmp_path, capsys):
    base = ["importer", "--fichier", str(GOOGLE_EXPORT), "--sortie", str(tmp_path / "r.csv")]
    assert main([*base, "--source", "correspondance"]) == 2
    assert "--correspondance" in capsys.readouterr().err
    assert main([*base, "--source", "kobo", "--correspondance", str(GOOGLE_FORMS_MAPPING)]) == 2
    capsys.readouterr()
    assert main(["importer", "--source", "kobo", "--fichier", "x", "--sortie", "r.xlsx"]) == 2
    assert ".csv" in capsys.readouterr().err
    assert (
        main(
            [
                "importer",
                "--source",
                "kobo",
                "--fichier",
                str(tmp_path / "absent.csv"),
                "--sortie",
                str(tmp_path / "r.csv"),
            ]
        )
        == 1
    )
    assert "fichier introuvable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cell", "codes", "unknown"),
    [
        ("Plaquette, affichage, Site internet", ["plaquette_affichage", "site_internet"], []),
        ("Presse, bulletin municipal", ["presse_bulletin"], []),
        ("Site internet, Pigeon voyageur, Autre", ["site_internet", "autre"], ["Pigeon voyageur"]),
        ("site INTERNET,plaquette,  affichage", ["site_internet", "plaquette_affichage"], []),
        ("", [], []),
    ],
)
def test_split_labels(cell, codes, unknown):
    question = next(q for q in CATALOG.questions if q.colonne == "communication_canaux")
    from avs_eval.importer import _key

    labels = {_key(m.libelle): m.code for m in question.modalites}
    assert _split_labels(cell, labels, ", ") == (codes, unknown)


def test_importer_help_in_french(cli):
    result = cli("importer", "--help", check=True)
    assert "utilisation : avs-eval importer" in result.stdout or "utilisation :" in result.stdout
    assert "--correspondance" in result.stdout and "Google Forms" in result.stdout


LIST_QUESTIONS = [q for q in CATALOG.questions if q.kind == "liste"]


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_any_choice_of_labels_splits_back(data):
    """Whatever boxes are ticked, in whatever order, the codes come back: no label is cut."""
    from avs_eval.importer import _key

    question = data.draw(st.sampled_from(LIST_QUESTIONS))
    chosen = data.draw(st.lists(st.sampled_from(question.modalites), unique=True))
    cell = ", ".join(m.libelle for m in chosen)
    labels = {_key(m.libelle): m.code for m in question.modalites}
    assert _split_labels(cell, labels, ", ") == ([m.code for m in chosen], [])
