"""Published tables open right in French Excel: BOM, `;`, decimal comma, oui / non (issue 23)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from conftest import MINI_DIR

from avs_eval import evolutions, indicators, tableur
from avs_eval.catalog import RESPONSE_RATE, RESPONSE_RATE_LABEL, load_catalog
from avs_eval.loading import load
from avs_eval.sources import DataSource

CATALOG = load_catalog()


def _mini_table() -> pd.DataFrame:
    dataset = load(DataSource.from_options(MINI_DIR / "structures.csv", MINI_DIR / "reponses.csv"))
    return indicators.compute(dataset, min_effectif=2)


def _read_back(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")


def test_the_file_is_what_french_excel_reads(tmp_path):
    table = _mini_table()
    path = tmp_path / "indicateurs.csv"
    tableur.write_published_csv(path, table)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    first = raw.decode("utf-8-sig").splitlines()[0]
    assert first.split(";") == [
        "annee",
        "niveau",
        "perimetre",
        "indicateur",
        "libelle",
        "modalite",
        "libelle_modalite",
        *indicators.COLUMNS[5:],
    ]
    back = _read_back(path)
    assert len(back) == len(table)
    assert set(back["secret"]) <= {"oui", "non"} and {"oui", "non"} <= set(back["secret"])
    # shares to 4 decimals, read back as numbers thanks to the decimal comma
    shown = table["part"].notna().to_numpy()
    assert back["part"].dtype == float
    assert np.allclose(back["part"][shown], table["part"][shown], atol=5e-5)
    text = raw.decode("utf-8-sig")
    assert ";0,6667;" in text or ";0,3333;" in text  # four decimals
    assert "True" not in text and "False" not in text
    # counts stay whole numbers
    assert back["denominateur"].dropna().astype(str).str.fullmatch(r"\d+").all()


def test_labels_sit_beside_their_codes():
    table = _mini_table()
    labelled = tableur.with_labels(table)
    for row in labelled.head(200).itertuples():
        assert row.libelle == CATALOG.label(row.indicateur)
        if row.modalite:
            assert row.libelle_modalite == CATALOG.label(row.indicateur, row.modalite)
        else:
            assert row.libelle_modalite == ""
    assert RESPONSE_RATE_LABEL in set(labelled.loc[labelled.indicateur == RESPONSE_RATE, "libelle"])
    assert list(table.columns) == indicators.COLUMNS  # the input is left as it was


def test_evolutions_get_one_label_and_keep_their_columns():
    table = pd.DataFrame(
        {
            "annee": [2025, 2025],
            "indicateur": [RESPONSE_RATE, "code_inconnu"],
            "ecart": [0.625, -1 / 3],
            "p_valeur": [7.66013e-07, np.nan],
            "significatif": pd.array([True, pd.NA], dtype="boolean"),
            "n_apparies": [None, None],
        }
    )
    text = tableur.published_csv(table)
    back = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=";", decimal=",")
    assert list(back.columns) == [
        "annee",
        "indicateur",
        "libelle",
        "ecart",
        "p_valeur",
        "significatif",
        "n_apparies",
    ]
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1] == f"2025;{RESPONSE_RATE};{RESPONSE_RATE_LABEL};0,6250;0,000000766013;oui;"
    assert lines[2] == "2025;code_inconnu;;-0,3333;;;"  # ASCII minus: Excel reads a number


def test_a_cell_holding_the_separator_is_quoted():
    table = pd.DataFrame({"perimetre": ["Nord ; Sud", 'Le "Centre"'], "part": [0.5, 0.125]})
    text = tableur.french_csv(table)
    back = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=";", decimal=",")
    assert list(back["perimetre"]) == ["Nord ; Sud", 'Le "Centre"']
    assert list(back["part"]) == [0.5, 0.125]
    assert "0,1250" in text  # four decimals, halves away from zero


def test_cells():
    assert tableur.cell(True) == "oui" and tableur.cell(np.bool_(False)) == "non"
    assert tableur.cell(np.int64(7)) == "7" and tableur.cell(7.0) == "7"
    assert tableur.cell(0.00125, 4) == "0,0013"
    assert [tableur.cell(v) for v in (float("nan"), None, pd.NA)] == ["", "", ""]
    assert tableur.cell("s") == "s"


def test_real_evolutions_table(tmp_path):
    dataset = load(DataSource.from_options(MINI_DIR / "structures.csv", MINI_DIR / "reponses.csv"))
    changes = evolutions.compute(dataset, min_effectif=2)
    path = tmp_path / "evolutions.csv"
    tableur.write_published_csv(path, changes)
    back = _read_back(path)
    assert len(back) == len(changes)
    assert list(back.columns) == [
        *evolutions.COLUMNS[:5],
        "libelle",
        *evolutions.COLUMNS[5:],
    ]
    assert set(back["secret"]) <= {"oui", "non"}
