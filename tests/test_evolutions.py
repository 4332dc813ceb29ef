"""Change since the baseline on the same structures, checked against hand computations.

The mini fixture (tests/fixtures/mini) has answers for 2023 and 2024. By hand, for
`projet_social_partage` (action 3, first asked in 2023), 2024 against 2023:
S1 oui→oui, S2 non→oui, S7 non→non are paired; S3 left it blank in 2023, S4 opened
in 2024 and S8 did not answer in 2023 (not paired); S5 closed in 2023.
"""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from avs_eval import evolutions, indicators, paths
from avs_eval.schema import ALL_PERIMETER

MINI = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"


@pytest.fixture(scope="module")
def table(mini_dataset) -> pd.DataFrame:
    return evolutions.compute(mini_dataset, annee=2024, min_effectif=2)


def row(table: pd.DataFrame, perimetre: str, indicateur: str) -> pd.Series:
    found = table[(table["perimetre"] == perimetre) & (table["indicateur"] == indicateur)]
    assert len(found) == 1, (perimetre, indicateur)
    return found.iloc[0]


def test_columns_are_the_contract(table):
    assert list(table.columns) == evolutions.COLUMNS


def test_paired_counts_computed_by_hand(table):
    ensemble = row(table, ALL_PERIMETER, "projet_social_partage")
    assert ensemble["annee_reference"] == 2023  # action 3 starts in 2023
    assert (ensemble["n_apparies"], ensemble["passes_oui"], ensemble["passes_non"]) == (3, 1, 0)
    assert ensemble["ecart_apparie"] == pytest.approx(1 / 3)
    assert ensemble["p_valeur"] == pytest.approx(1.0)  # one discordant pair: 2 x 0.5
    assert not ensemble["significatif"]
    # shares of the indicator table: 2024 3/5 (S1, S2, S8 of S1 S2 S4 S7 S8); 2023 2/4
    assert ensemble["part"] == pytest.approx(3 / 5)
    assert ensemble["part_reference"] == pytest.approx(2 / 4)
    assert ensemble["ecart"] == pytest.approx(3 / 5 - 2 / 4)
    lyon = row(table, "Lyon", "projet_social_partage")
    assert (lyon["n_apparies"], lyon["passes_oui"], lyon["passes_non"]) == (2, 1, 0)
    assert not lyon["secret"]
    hors_qpv = row(table, "Hors QPV", "projet_social_partage")
    assert (hors_qpv["n_apparies"], hors_qpv["passes_oui"]) == (2, 1)


def test_a_perimeter_with_no_discordant_pair_has_p_one(table):
    ouest = row(table, "Ouest Rhône", "projet_social_partage")  # S7 non→non
    assert (ouest["n_apparies"], ouest["passes_oui"], ouest["passes_non"]) == (1, 0, 0)
    assert ouest["p_valeur"] == 1.0
    assert ouest["secret"]  # one pair, under the threshold of 2


def test_no_pair_leaves_cells_empty_not_zero(table):
    villeurbanne = row(table, "Villeurbanne", "projet_social_partage")
    assert villeurbanne["n_apparies"] == 0
    assert pd.isna(villeurbanne["ecart_apparie"]) and pd.isna(villeurbanne["p_valeur"])
    assert pd.isna(villeurbanne["significatif"])


def test_question_not_asked_in_the_reference_year(table):
    # permanence_partenaire is asked from 2022 (action 2), but the data start in 2023
    ensemble = row(table, ALL_PERIMETER, "permanence_partenaire")
    assert ensemble["annee_reference"] == 2022
    assert pd.isna(ensemble["part_reference"]) and pd.isna(ensemble["n_apparies"])
    assert ensemble["part"] == pytest.approx(3 / 6)


def test_reference_option_and_a_structure_opened_later(mini_dataset):
    table = evolutions.compute(mini_dataset, annee=2024, reference=2023, min_effectif=2)
    ensemble = row(table, ALL_PERIMETER, "permanence_partenaire")
    # S1 oui→oui, S2 non→oui, S7 non→non; S4 opened in 2024 and S6 has no 2023 answer
    assert (ensemble["n_apparies"], ensemble["passes_oui"], ensemble["passes_non"]) == (3, 1, 0)
    assert set(table["annee_reference"]) == {2023}


def test_reference_after_the_year_is_refused(mini_dataset):
    from avs_eval.errors import UsageError

    with pytest.raises(UsageError, match="doit précéder"):
        evolutions.compute(mini_dataset, annee=2023, reference=2024)


def test_mcnemar_matches_the_binomial_test():
    from scipy.stats import binomtest

    for b, c in [(5, 0), (7, 2), (12, 11), (0, 9)]:
        expected = binomtest(min(b, c), b + c, 0.5).pvalue
        assert math.isclose(evolutions.mcnemar_exact(b, c), expected, rel_tol=1e-12)
    assert evolutions.mcnemar_exact(0, 0) == 1.0


def test_published_version_masks_secret_rows_and_paired_counts(mini_dataset, table):
    from avs_eval import secrecy

    plain = indicators.compute(mini_dataset, min_effectif=2)
    masked = secrecy.apply(plain, mini_dataset.collectivites)
    shown = evolutions.published(table, masked)
    assert shown[evolutions.PAIRED].isna().all().all()
    secret = shown[shown["secret"]]
    assert not secret.empty
    assert secret[evolutions.FIGURES].isna().all().all()
    visible = shown[~shown["secret"] & shown["part"].notna()]
    assert not visible.empty


def test_cli_writes_the_csv(cli, tmp_path):
    arguments = ["--structures", str(MINI / "structures.csv"), "--reponses"]
    arguments += [str(MINI / "reponses.csv"), "--min-effectif", "2", "--territoire", "Lyon"]
    done = cli("evolutions", *arguments)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ",".join(evolutions.COLUMNS)
    table = pd.read_csv(io.StringIO(done.stdout), keep_default_na=False)
    assert set(table["perimetre"]) == {"Lyon", "Métropole de Lyon", ALL_PERIMETER}
    assert set(table["secret"]) <= {"True", "False", True, False}
    cells = {cell for line in done.stdout.splitlines() for cell in line.split(",")}
    assert not cells & {"nan", "NaN", "<NA>", "None"}


def test_mcnemar_in_bulk_is_statsmodels_to_the_last_bit():
    """One vectorised call gives statsmodels' exact McNemar p-values exactly (the kernels
    no longer import statsmodels, 1.5 s), and the table of `published_form` the same."""
    import numpy as np
    from statsmodels.stats.contingency_tables import mcnemar

    pairs = [(b, c) for b in range(60) for c in range(60)] + [(5000, 5200), (3, 40000)]
    b, c = (np.array(side) for side in zip(*pairs, strict=True))
    bulk = evolutions.mcnemar_exact_many(b, c)
    expected = [
        1.0 if x + y == 0 else float(mcnemar([[0, x], [y, 0]], exact=True).pvalue) for x, y in pairs
    ]
    assert bulk.tolist() == expected
    table = evolutions.mcnemar_table(40)
    assert table[7, 2] == expected[7 * 60 + 2]
    assert np.isnan(table[30, 20])
