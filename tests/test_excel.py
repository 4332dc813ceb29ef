"""The indicator workbook describes itself right and shows what the reports show (issue 23)."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from avs_eval import formatting, indicators
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.evolutions import COLUMNS as EVOLUTION_COLUMNS
from avs_eval.excel import (
    EVOLUTIONS_SHEET,
    LEVEL_SHEETS,
    NOTICE_SHEET,
    P_VALUE_CLASS_HEADER,
    SECRET_MARK,
    indicators_workbook,
)
from avs_eval.schema import ALL_PERIMETER

YES_NO, OTHER = (item.nom for item in load_catalog().binary[:2])  # two yes/no indicators


def _row(level: str, perimeter: str, indicateur: str, num: int, den: int, secret=False) -> dict:
    share = num / den
    return {
        "annee": 2025,
        "niveau": level,
        "perimetre": perimeter,
        "indicateur": indicateur,
        "modalite": "",
        "numerateur": num,
        "denominateur": den,
        "part": share,
        "ic_bas": max(share - 0.2, 0.0),
        "ic_haut": min(share + 0.2, 1.0),
        "secret": secret,
    }


def _territory_table() -> pd.DataFrame:
    """What a territory report writes: its territory, its collectivité, Ensemble; no QPV."""
    rows = []
    for level, perimeter in (
        ("territoire", "Lyon"),
        ("collectivite", "Métropole de Lyon"),
        ("departement", ALL_PERIMETER),
    ):
        rows += [_row(level, perimeter, YES_NO, 5, 8), _row(level, perimeter, RESPONSE_RATE, 1, 8)]
    rows.append(_row("territoire", "Lyon", OTHER, 1, 2, secret=True))
    return pd.DataFrame(rows, columns=indicators.COLUMNS)


def _changes(p_value: float = 7.66013e-07) -> pd.DataFrame:
    row = dict.fromkeys(EVOLUTION_COLUMNS)
    row.update(
        annee=2025,
        annee_reference=2023,
        niveau="territoire",
        perimetre="Lyon",
        indicateur=YES_NO,
        part_reference=0.455,
        part=0.625,
        ecart=0.17,
        ecart_apparie=-0.0312,
        p_valeur=p_value,
        significatif=True,
        secret=False,
    )
    secret = {**row, "perimetre": "Vallons", "secret": True}
    return pd.DataFrame([row, secret], columns=EVOLUTION_COLUMNS)


def _open(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _notice(workbook: openpyxl.Workbook) -> str:
    return " ".join(str(r[0]) for r in workbook[NOTICE_SHEET].iter_rows(values_only=True))


def _records(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_the_notice_describes_the_sheets_written_and_no_other():
    workbook = _open(indicators_workbook(_territory_table(), 5, _changes(), published=True))
    written = [LEVEL_SHEETS[x] for x in ("territoire", "collectivite", "departement")]
    assert workbook.sheetnames == [NOTICE_SHEET, *written, EVOLUTIONS_SHEET]
    notice = _notice(workbook)
    for name in (*written, EVOLUTIONS_SHEET):
        assert f"« {name} »" in notice
    assert LEVEL_SHEETS["qpv"] not in notice  # no « Politique de la ville » sheet here
    assert "vient en premier" not in notice  # the response rate does not come first


@pytest.mark.parametrize("position", ["first", "last"])
def test_the_notice_says_where_the_response_rate_is(position):
    table = _territory_table()
    table = table[table["niveau"] == "departement"]
    if position == "first":
        table = table.iloc[::-1]
    notice = _notice(_open(indicators_workbook(table, 5)))
    word = "premier" if position == "first" else "dernier"
    assert f"le taux de réponse vient en {word}" in notice
    assert "Une feuille d'indicateurs : « Ensemble »." in notice


def test_the_notice_of_a_full_table_lists_every_level():
    table = _territory_table()
    qpv = _row("qpv", "En QPV", YES_NO, 3, 4)
    table = pd.concat([table, pd.DataFrame([qpv])], ignore_index=True)
    workbook = _open(indicators_workbook(table, 5))
    assert workbook.sheetnames == [NOTICE_SHEET, *LEVEL_SHEETS.values()]
    assert f"et « {LEVEL_SHEETS['qpv']} »." in _notice(workbook)
    assert EVOLUTIONS_SHEET not in _notice(workbook)


def test_shares_and_counts_have_the_formats_of_the_reports():
    workbook = _open(indicators_workbook(_territory_table(), 5))
    for record in _records(workbook[LEVEL_SHEETS["territoire"]]):
        if record["Part"].value == SECRET_MARK:
            assert record["IC bas"].value == SECRET_MARK
            assert record["Part"].alignment.horizontal == "right"
            continue
        assert record["Part"].number_format == formatting.EXCEL_PERCENT
        assert record["IC haut"].number_format == formatting.EXCEL_PERCENT
        assert record["Numérateur"].number_format == formatting.EXCEL_COUNT
    first = _records(workbook[LEVEL_SHEETS["territoire"]])[0]
    assert first["Part"].value == pytest.approx(5 / 8)  # Excel shows 63 %, as the report now


def test_changes_are_in_points_and_p_values_are_not_general():
    workbook = _open(indicators_workbook(_territory_table(), 5, _changes(), published=False))
    shown, secret = _records(workbook[EVOLUTIONS_SHEET])
    gap = shown["Écart (points)"]
    assert gap.value == 17 and gap.number_format == formatting.EXCEL_POINTS  # +17 pts
    paired = shown["Écart sur les mêmes structures (points)"]
    assert paired.value == -3 and paired.number_format == formatting.EXCEL_POINTS
    assert shown["Part"].number_format == formatting.EXCEL_PERCENT
    p_value = shown["p-valeur (McNemar)"]
    assert p_value.value == pytest.approx(7.66013e-07)
    assert p_value.number_format == formatting.EXCEL_P_VALUE != "General"
    assert shown["Évolution nette"].value == "oui"
    assert secret["Écart (points)"].value == SECRET_MARK
    assert secret["p-valeur (McNemar)"].value == SECRET_MARK


@pytest.mark.parametrize(
    ("p_value", "label"), [(7.66013e-07, "< 0,001"), (0.03, "< 0,05"), (0.0625, "≥ 0,05")]
)
def test_the_published_workbook_gives_p_values_in_classes(p_value, label):
    workbook = _open(indicators_workbook(_territory_table(), 5, _changes(p_value), published=True))
    shown = _records(workbook[EVOLUTIONS_SHEET])[0]
    assert shown[P_VALUE_CLASS_HEADER].value == label.replace(" ", formatting.NBSP)
    notice = _notice(workbook)
    assert "par classe" in notice


def test_a_p_value_already_in_its_published_form_is_kept():
    changes = _changes()
    changes["p_valeur"] = changes["p_valeur"].astype(object)
    changes.loc[0, "p_valeur"] = "< 0,05"
    workbook = _open(indicators_workbook(_territory_table(), 5, changes, published=True))
    assert _records(workbook[EVOLUTIONS_SHEET])[0][P_VALUE_CLASS_HEADER].value == "< 0,05"


def test_every_sheet_prints_as_a_committee_file():
    content = indicators_workbook(_territory_table(), 5, _changes(), published=True)
    workbook = _open(content)
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert "Table des indicateurs" in sheet.oddHeader.center.text
        assert sheet.oddFooter.center.text == "Page &P sur &N"
        if sheet.title != NOTICE_SHEET:
            assert sheet.print_title_rows == "$1:$1"  # the header row on every page
            assert sheet.title in sheet.oddHeader.center.text


def test_excel_rounding_matches_the_reports_on_the_stored_values():
    """What Excel shows for a share cell is `formatting.percentage` of the same value:
    the cell holds the double; Excel reads it with 15 significant digits and rounds that
    decimal half away from zero (modelled here with the decimal module, independently)."""
    for num, den in [(5, 8), (1, 8), (57, 200), (29, 200), (1, 3), (2, 3), (7, 9)]:
        share = np.float64(num) / den
        excel = (Decimal(f"{share:.15g}") * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert formatting.percent_value(share) == int(excel), (num, den)
