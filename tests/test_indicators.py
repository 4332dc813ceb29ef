"""The indicator table against counts made by hand on the mini fixture.

Mini fixture, by year (approved structures; * = answered):
  2023  Lyon S1* S2* S3* | Villeurbanne S5* S6 | Ouest Rhône S7* S8
  2024  Lyon S1* S2* S3 S4* | Villeurbanne S6* | Ouest Rhône S7* S8*
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import MiniData
from statsmodels.stats.proportion import proportion_confint

from avs_eval import indicators
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.errors import UsageError
from avs_eval.schema import ALL_PERIMETER, normalise

CATALOG = load_catalog()

COLUMNS = [
    "annee",
    "niveau",
    "perimetre",
    "indicateur",
    "modalite",
    "numerateur",
    "denominateur",
    "part",
    "ic_bas",
    "ic_haut",
    "secret",
]
LEVEL_OF = {"Lyon": "territoire", "Villeurbanne": "territoire", "Ouest Rhône": "territoire"}
LEVEL_OF |= {"Métropole de Lyon": "collectivite", "Rhône": "collectivite"}
LEVEL_OF |= {ALL_PERIMETER: "departement"}


@pytest.fixture(scope="module")
def table(mini_dataset) -> pd.DataFrame:
    return indicators.compute(mini_dataset)


def counts(table: pd.DataFrame, annee: int, perimetre: str, indicateur: str, modalite: str = ""):
    rows = table[
        (table["annee"] == annee)
        & (table["niveau"] == LEVEL_OF[perimetre])
        & (table["perimetre"] == perimetre)
        & (table["indicateur"] == indicateur)
        & (table["modalite"] == modalite)
    ]
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    return int(row["numerateur"]), int(row["denominateur"])


HAND_COUNTS = [
    (2023, "Lyon", RESPONSE_RATE, "", (3, 3)),
    (2023, "Métropole de Lyon", RESPONSE_RATE, "", (4, 5)),
    (2023, ALL_PERIMETER, RESPONSE_RATE, "", (5, 7)),
    (2023, ALL_PERIMETER, "permanence_partenaire", "", (2, 5)),
    (2023, "Lyon", "permanence_partenaire", "", (2, 3)),
    # S3 left the list empty: it is not in the denominator
    (2023, "Lyon", "communication_canaux", "site_internet", (2, 2)),
    (2023, "Lyon", "communication_canaux", "reseaux_sociaux", (1, 2)),
    # S3 left the yes/no blank: not counted
    (2023, "Lyon", "aller_vers_partenaire", "", (1, 2)),
    (2024, "Lyon", RESPONSE_RATE, "", (3, 4)),
    (2024, ALL_PERIMETER, "permanence_partenaire", "", (3, 6)),
    (2024, ALL_PERIMETER, "contrat_local", "", (3, 6)),
    (2024, ALL_PERIMETER, "projet_social_partage", "", (3, 5)),
    # S5 closed after 2023, S4 opens in 2024 in Lyon: Villeurbanne has S6 only
    (2024, "Villeurbanne", RESPONSE_RATE, "", (1, 1)),
    (2023, "Villeurbanne", RESPONSE_RATE, "", (1, 2)),
    (2023, "Rhône", RESPONSE_RATE, "", (1, 2)),
    # case, spaces and `|` in the 2024 lists are read: S1, S2 (SITE_INTERNET), S6
    (2024, "Métropole de Lyon", "communication_canaux", "site_internet", (3, 4)),
    (2024, "Lyon", "communication_canaux", "assemblee_generale", (1, 3)),
]


@pytest.mark.parametrize(
    ("annee", "perimetre", "indicateur", "modalite", "expected"),
    HAND_COUNTS,
    ids=[f"{a}-{p}-{i}-{m}".rstrip("-") for a, p, i, m, _ in HAND_COUNTS],
)
def test_counts_match_hand_computation(table, annee, perimetre, indicateur, modalite, expected):
    assert counts(table, annee, perimetre, indicateur, modalite) == expected


def test_columns_are_exactly_those_of_the_contract(table):
    assert list(table.columns) == COLUMNS


def test_share_is_numerator_over_denominator_and_empty_when_no_denominator(table):
    answered = table["denominateur"] > 0
    np.testing.assert_allclose(
        table.loc[answered, "part"],
        table.loc[answered, "numerateur"] / table.loc[answered, "denominateur"],
    )
    assert (~answered).any(), "the mini fixture has perimeters with no answer to some questions"
    assert table.loc[~answered, ["part", "ic_bas", "ic_haut"]].isna().all().all()
    row = table[
        (table["annee"] == 2023)
        & (table["perimetre"] == "Lyon")
        & (table["indicateur"] == RESPONSE_RATE)
    ].iloc[0]
    assert row["part"] == 1.0


def test_confidence_interval_is_wilson_clipped_to_unit_interval(table):
    census = table["indicateur"] == RESPONSE_RATE  # a count of everyone: no interval
    assert table.loc[census, ["ic_bas", "ic_haut"]].isna().all().all()
    answered = table[(table["denominateur"] > 0) & ~census]
    low, high = proportion_confint(
        answered["numerateur"].to_numpy(),
        answered["denominateur"].to_numpy(),
        alpha=0.05,
        method="wilson",
    )
    np.testing.assert_allclose(answered["ic_bas"], np.clip(low, 0, 1), atol=1e-12)
    np.testing.assert_allclose(answered["ic_haut"], np.clip(high, 0, 1), atol=1e-12)
    assert (answered["ic_bas"] >= 0).all() and (answered["ic_haut"] <= 1).all()
    assert (answered["ic_bas"] <= answered["part"] + 1e-12).all()
    assert (answered["part"] <= answered["ic_haut"] + 1e-12).all()


def test_wilson_interval_of_known_values():
    low, high = indicators.wilson(np.array([0, 5, 3]), np.array([5, 5, 0]))
    expected_low, expected_high = proportion_confint([0, 5], [5, 5], alpha=0.05, method="wilson")
    np.testing.assert_allclose(low[:2], np.clip(expected_low, 0, 1), atol=1e-12)
    np.testing.assert_allclose(high[:2], np.clip(expected_high, 0, 1), atol=1e-12)
    assert 0 <= low[0] < 1e-12 and 1 - 1e-12 < high[1] <= 1
    assert np.isnan(low[2]) and np.isnan(high[2])


@pytest.mark.parametrize(("min_effectif", "threshold"), [(None, 5), (2, 2), (0, 0)])
def test_secret_flags_denominators_below_threshold(mini_dataset, min_effectif, threshold):
    table = indicators.compute(mini_dataset, min_effectif=min_effectif)
    assert table["secret"].dtype == bool
    assert (table["secret"] == (table["denominateur"] < threshold)).all()


def test_secret_at_default_threshold_on_hand_rows(table):
    rows = table.set_index(["annee", "niveau", "perimetre", "indicateur", "modalite"])["secret"]
    assert not rows[(2023, "departement", ALL_PERIMETER, RESPONSE_RATE, "")]  # 7 structures
    assert not rows[(2023, "collectivite", "Métropole de Lyon", RESPONSE_RATE, "")]  # 5
    assert rows[(2023, "territoire", "Lyon", RESPONSE_RATE, "")]  # 3


def test_every_code_of_every_list_has_a_row_even_when_never_ticked(table):
    expected = [(RESPONSE_RATE, "")]
    for question in CATALOG.questions:
        if question.kind == "oui_non":
            expected.append((question.colonne, ""))
        elif question.kind == "liste":
            expected += [(question.colonne, code) for code in question.codes]
    expected += [(item.nom, "") for item in CATALOG.derived]
    for _, group in table.groupby(["annee", "niveau", "perimetre"]):
        assert sorted(zip(group["indicateur"], group["modalite"], strict=True)) == sorted(expected)
    never = table[(table["indicateur"] == "contrats") & (table["modalite"] == "cite_educative")]
    assert len(never) > 0 and (never["numerateur"] == 0).all()
    assert not (table["indicateur"] == "communication_autre").any()  # free text: no indicator


def test_every_perimeter_of_each_year_is_present(table):
    perimeters = {(a, p) for a, p in zip(table["annee"], table["perimetre"], strict=True)}
    qpv = ("En QPV", "Hors QPV")
    assert perimeters == {(a, p) for a in (2023, 2024) for p in (*LEVEL_OF, *qpv)}


def test_territory_without_approved_structure_that_year_has_no_rows(mini: MiniData):
    line = mini.append_copy("structures", 9, structure_id="S9", territoire="Beaujolais")
    mini.set("structures", line, "annee_fin", "2023")
    mini.append_copy("reponses", 6, structure_id="S9")  # answers in 2023
    table = indicators.compute(mini.load())
    beaujolais = table[table["perimetre"] == "Beaujolais"]
    assert set(beaujolais["annee"]) == {2023}
    rhone_2023 = table[
        (table["annee"] == 2023)
        & (table["perimetre"] == "Rhône")
        & (table["indicateur"] == RESPONSE_RATE)
    ]
    assert rhone_2023[["numerateur", "denominateur"]].values.tolist() == [[2, 3]]


def test_structure_closed_before_a_year_leaves_the_population(table):
    # S5 (Villeurbanne) closed after 2023: in 2024 Métropole counts S1-S4 and S6 only
    assert counts(table, 2024, "Métropole de Lyon", RESPONSE_RATE) == (4, 5)
    assert counts(table, 2024, ALL_PERIMETER, RESPONSE_RATE) == (6, 7)


def _expected_order(table: pd.DataFrame) -> pd.DataFrame:
    level = {"territoire": 0, "collectivite": 1, "departement": 2, "qpv": 3}
    rank = {(RESPONSE_RATE, ""): 0}
    for question in CATALOG.questions:
        rank[(question.colonne, "")] = 0
        rank |= {(question.colonne, c): i for i, c in enumerate(question.codes, start=1)}
    rank |= {(item.nom, ""): 0 for item in CATALOG.derived}
    keys = pd.DataFrame(
        {
            "a": table["annee"],
            "n": table["niveau"].map(level),
            "p": table["perimetre"].map(normalise),
            "i": table["indicateur"],
            "m": [rank[k] for k in zip(table["indicateur"], table["modalite"], strict=True)],
        }
    )
    return table.loc[keys.sort_values(list(keys.columns), kind="stable").index]


def test_rows_sorted_by_year_level_perimeter_indicator_then_vocabulary_order(table):
    pd.testing.assert_frame_equal(table, _expected_order(table).reset_index(drop=True))
    lyon = table[(table["annee"] == 2023) & (table["perimetre"] == "Lyon")]
    canaux = lyon.loc[lyon["indicateur"] == "communication_canaux", "modalite"].tolist()
    assert (
        tuple(canaux)
        == next(q for q in CATALOG.questions if q.colonne == "communication_canaux").codes
    )
    assert table["niveau"].drop_duplicates().tolist() == [
        "territoire",
        "collectivite",
        "departement",
        "qpv",
    ]
    first_year = table[table["annee"] == 2023]
    assert first_year["perimetre"].drop_duplicates().tolist() == [
        "Lyon",
        "Ouest Rhône",
        "Villeurbanne",
        "Métropole de Lyon",
        "Rhône",
        ALL_PERIMETER,
        "En QPV",
        "Hors QPV",
    ]


def test_territory_option_keeps_territory_its_collectivite_and_all(mini_dataset, table):
    filtered = indicators.compute(mini_dataset, territoire="Ouest Rhône")
    assert set(filtered["perimetre"]) == {"Ouest Rhône", "Rhône", ALL_PERIMETER}
    expected = table[table["perimetre"].isin(["Ouest Rhône", "Rhône", ALL_PERIMETER])]
    pd.testing.assert_frame_equal(filtered, expected.reset_index(drop=True))


def test_unknown_territory_raises_usage_error_listing_known_ones(mini_dataset):
    with pytest.raises(UsageError) as caught:
        indicators.compute(mini_dataset, territoire="Lyonn")
    message = str(caught.value)
    assert "Lyonn" in message and "inconnu" in message
    for known in ("Lyon", "Ouest Rhône", "Villeurbanne"):
        assert known in message


def test_years_option_restricts_the_table(mini_dataset):
    table = indicators.compute(mini_dataset, annees=[2024])
    assert set(table["annee"]) == {2024}
    assert counts(table, 2024, "Lyon", RESPONSE_RATE) == (3, 4)


def test_year_outside_period_raises_usage_error(mini_dataset):
    with pytest.raises(UsageError, match="2030"):
        indicators.compute(mini_dataset, annees=[2030])


def test_csv_output_has_the_contract_header(table):
    text = indicators.to_csv(table)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    back = pd.read_csv(io.StringIO(text))
    assert len(back) == len(table)
    assert set(back["secret"]) <= {True, False}


def test_qpv_level_splits_ensemble_in_and_out_of_qpv(mini_dataset):
    table = indicators.compute(mini_dataset, with_unknown_qpv=True)
    assert "QPV non renseigné" not in set(indicators.compute(mini_dataset)["perimetre"])
    for _, group in table.groupby(["annee", "indicateur", "modalite"]):
        split = group[group["niveau"] == "qpv"]
        whole = group[group["niveau"] == "departement"]
        assert {"En QPV", "Hors QPV"} <= set(split["perimetre"])
        # in + out + blank = Ensemble, numerators and denominators alike
        assert split["numerateur"].sum() == whole["numerateur"].sum()
        assert split["denominateur"].sum() == whole["denominateur"].sum()


def test_qpv_split_is_protected_as_a_group_with_the_blank_part():
    from avs_eval import secrecy

    rows = pd.DataFrame(
        {
            "annee": 2024,
            "niveau": ["departement", "qpv", "qpv", "qpv"],
            "perimetre": [ALL_PERIMETER, "En QPV", "Hors QPV", "QPV non renseigné"],
            "indicateur": "contrat_local",
            "modalite": "",
            "numerateur": [20, 6, 12, 2],
            "denominateur": [30, 10, 17, 3],
            "secret": [False, False, False, True],
        }
    )
    masked = secrecy.apply(rows, {ALL_PERIMETER: ALL_PERIMETER})
    # the blank part (never published) is secret: one more part is masked, the smaller one
    assert masked["masque"].tolist() == [False, True, False, True]


def test_context_slices_by_index_equal_a_scan_of_the_whole_table():
    """Reports slice the table through indexes (by indicator, by perimeter): same rows."""
    from avs_eval.context import build_context
    from avs_eval.sources import DataSource

    context = build_context(DataSource.sample())
    table = context.table
    for indicateur in ("permanence_partenaire", "communication_canaux", "taux_reponse"):
        scanned = table[(table["indicateur"] == indicateur) & (table["type"] == "Ensemble")]
        pd.testing.assert_frame_equal(context.rows(indicateur=indicateur), scanned)
        with_year = scanned[scanned["annee"] == 2024]
        pd.testing.assert_frame_equal(context.rows(indicateur=indicateur, annee=2024), with_year)
    for niveau, perimetre in (("territoire", "Lyon"), ("departement", ALL_PERIMETER)):
        scanned = table[(table["niveau"] == niveau) & (table["perimetre"] == perimetre)]
        pd.testing.assert_frame_equal(context.perimeter(niveau, perimetre), scanned)
    assert context.rows(indicateur="inconnu").empty
    # published changes are computed once per year and reused
    assert context.published_evolutions(2025) is context.published_evolutions(2025)
