"""Excel export of the indicators, the Excel entry template and the questionnaire."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import MINI_DIR, read_csv_rows

from avs_eval import indicators
from avs_eval.catalog import load_catalog
from avs_eval.cli import main
from avs_eval.config import load_config
from avs_eval.excel import INDICATOR_HEADERS, LEVEL_SHEETS, PERCENT_FORMAT, SECRET_MARK
from avs_eval.loading import load
from avs_eval.questionnaire import relevant
from avs_eval.schema import COLLECTIVITES, STRUCTURE_OPTIONAL, STRUCTURE_REQUIRED, STRUCTURE_TYPES
from avs_eval.sources import DataSource

CATALOG = load_catalog()

MINI = [
    "--structures",
    str(MINI_DIR / "structures.csv"),
    "--reponses",
    str(MINI_DIR / "reponses.csv"),
]


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    workbook = openpyxl.load_workbook(path)
    return list(workbook[sheet].iter_rows(values_only=True))


# --- indicateurs --sortie FICHIER.xlsx ------------------------------------------------


def test_indicators_xlsx(tmp_path):
    target = tmp_path / "indicateurs.xlsx"
    assert main(["indicateurs", *MINI, "--min-effectif", "2", "--sortie", str(target)]) == 0
    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == ["À lire", *LEVEL_SHEETS.values()]
    table = indicators.compute(load(DataSource.from_options(*MINI[1::2])), min_effectif=2)
    headers = [h for h, _ in INDICATOR_HEADERS]
    for level, name in LEVEL_SHEETS.items():
        sheet = workbook[name]
        assert [c.value for c in sheet[1]] == headers
        assert sheet.freeze_panes == "A2"
        expected = table[table["niveau"] == level].reset_index(drop=True)
        rows = list(sheet.iter_rows(min_row=2))
        assert len(rows) == len(expected)
        for cells, (_, row) in zip(rows, expected.iterrows(), strict=True):
            values = [c.value for c in cells]
            assert values[3] == CATALOG.label(row.indicateur)
            assert (values[4] or "") == (
                CATALOG.label(row.indicateur, row.modalite) if row.modalite else ""
            )
            assert values[5:7] == [row.numerateur, row.denominateur]
            part = cells[7]
            if row.secret:
                assert [c.value for c in cells[7:]] == [SECRET_MARK] * 3
            elif pd.notna(row.part):
                assert part.value == pytest.approx(row.part)
                assert part.number_format == PERCENT_FORMAT  # formatting.EXCEL_PERCENT
    secret = table["secret"]
    assert secret.any() and (~secret).any()  # both cases were exercised
    notice = " ".join(str(r[0]) for r in sheet_rows(target, "À lire"))
    assert "Secret statistique" in notice and "moins de 2 structures" in notice


def test_indicators_csv_unchanged(tmp_path):
    target = tmp_path / "indicateurs.csv"
    assert main(["indicateurs", *MINI, "--sortie", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith(",".join(indicators.COLUMNS))


# --- modele --sortie FICHIER.xlsx -----------------------------------------------------


def test_template_round_trip(tmp_path, capsys):
    template = tmp_path / "modele.xlsx"
    assert main(["modele", "--sortie", str(template)]) == 0
    workbook = openpyxl.load_workbook(template)
    assert {"structures", "reponses", "listes", "instructions"} <= set(workbook.sheetnames)
    structures, reponses = workbook["structures"], workbook["reponses"]
    assert [c.value for c in structures[1]] == list(STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL)
    assert [c.value for c in reponses[1]] == list(CATALOG.response_columns)

    lists = {v.formula1 for v in reponses.data_validations.dataValidation}
    assert lists == {'"oui,non"'}
    covered = {
        str(r).split(":")[0]
        for v in reponses.data_validations.dataValidation
        for r in v.sqref.ranges
    }
    letters = {
        openpyxl.utils.get_column_letter(CATALOG.response_columns.index(c) + 1)
        for c in CATALOG.yes_no_columns
    }
    assert {c.rstrip("0123456789") for c in covered} == letters
    formulas = {v.formula1 for v in structures.data_validations.dataValidation}
    assert '"' + ",".join(STRUCTURE_TYPES.values) + '"' in formulas
    assert '"' + ",".join(COLLECTIVITES.values) + '"' in formulas
    codes = {(r[0], r[1]) for r in sheet_rows(template, "listes")[1:]}
    for question in CATALOG.questions:
        assert {(question.colonne, code) for code in question.codes} <= codes

    for name in ("structures", "reponses"):
        for row in read_csv_rows(MINI_DIR / f"{name}.csv")[1:]:
            workbook[name].append([value or None for value in row])
    workbook.save(template)

    from_workbook = load(DataSource.from_options(classeur=template))
    from_csv = load(DataSource.from_options(*MINI[1::2]))
    pd.testing.assert_frame_equal(indicators.compute(from_workbook), indicators.compute(from_csv))
    capsys.readouterr()
    assert main(["valider", "--classeur", str(template)]) == 0
    assert "Données valides" in capsys.readouterr().out


def test_template_needs_xlsx(tmp_path, capsys):
    assert main(["modele", "--sortie", str(tmp_path / "modele.csv")]) == 2
    err = capsys.readouterr().err
    assert ".xlsx" in err and "Traceback" not in err


# --- questionnaire --------------------------------------------------------------------


def test_xlsform(tmp_path):
    target = tmp_path / "questionnaire.xlsx"
    assert main(["questionnaire", "--format", "xlsform", "--sortie", str(target)]) == 0
    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == ["survey", "choices", "settings"]
    survey = sheet_rows(target, "survey")
    assert survey[0] == ("type", "name", "label", "relevant", "required", "constraint", "hint")
    by_name = {row[1]: row for row in survey[1:]}
    assert list(by_name) == list(CATALOG.response_columns)
    assert by_name["structure_id"][0] == "text"
    config = load_config()
    assert by_name["annee"][0] == "integer"
    assert by_name["annee"][5] == f". >= {config.debut} and . <= {config.fin}"
    choices = {(r[0], r[1]): r[2] for r in sheet_rows(target, "choices")[1:]}
    assert ("oui_non", "oui") in choices and ("oui_non", "non") in choices
    for question in CATALOG.questions:
        row = by_name[question.colonne]
        assert row[2] == question.intitule
        if question.kind == "oui_non":
            assert row[0] == "select_one oui_non"
        elif question.kind == "liste":
            assert row[0] == f"select_multiple {question.colonne}"
            for m in question.modalites:
                assert choices[(question.colonne, m.code)] == m.libelle
        assert (row[3] or "") == relevant(question)
    assert by_name["permanence_partenaires"][3] == "${permanence_partenaire} = 'oui'"
    assert by_name["communication_autre"][3] == "selected(${communication_canaux}, 'autre')"
    assert CATALOG.by_column["communication_autre"].condition_code == "autre"
    settings = sheet_rows(target, "settings")
    assert settings[0] == ("form_title", "form_id", "version", "default_language")
    assert all(settings[1])


def test_xlsform_with_register(tmp_path):
    target = tmp_path / "questionnaire.xlsx"
    register = str(MINI_DIR / "structures.csv")
    args = ["questionnaire", "--format", "xlsform", "--structures", register]
    assert main([*args, "--sortie", str(target)]) == 0
    survey = {row[1]: row for row in sheet_rows(target, "survey")[1:]}
    assert survey["structure_id"][0] == "select_one structures"
    choices = [r for r in sheet_rows(target, "choices")[1:] if r[0] == "structures"]
    header, *rows = read_csv_rows(MINI_DIR / "structures.csv")
    column = {name: header.index(name) for name in ("structure_id", "nom", "commune")}
    expected = {
        (r[column["structure_id"]], f"{r[column['nom']]} — {r[column['commune']]}") for r in rows
    }
    assert {(r[1], r[2]) for r in choices} == expected
    assert ("S1", "Centre social Alpha — Lyon") in expected


def test_markdown(tmp_path):
    target = tmp_path / "questionnaire.md"
    assert main(["questionnaire", "--format", "markdown", "--sortie", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    for question in CATALOG.questions:
        assert question.intitule in text
        assert f"`{question.colonne}`" in text
        for m in question.modalites:
            assert f"{m.libelle} (`{m.code}`)" in text
    assert "(si « oui » à la question" in text
    assert "(si « Autre » est coché à la question 1)" in text


def test_questionnaire_errors(tmp_path, capsys):
    bad = ["questionnaire", "--format", "xlsform", "--sortie", str(tmp_path / "q.md")]
    assert main(bad) == 2
    missing = tmp_path / "absent.csv"
    args = ["questionnaire", "--format", "markdown", "--structures", str(missing)]
    assert main([*args, "--sortie", str(tmp_path / "q.md")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "absent.csv" in err
