"""The evaluation indicators: shares with Wilson intervals, per perimeter and year.

Every indicator is a pair of counts per structure-year (numerator, denominator),
summed over the structures of a perimeter. Counts are built as one integer matrix
and summed with a single group-by, then reshaped into the long table of the
contract: the cost grows linearly with the number of structures, with no Python
loop over them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avs_eval.catalog import RESPONSE_RATE, Catalog, load_catalog
from avs_eval.errors import UsageError
from avs_eval.loading import Dataset, code_column
from avs_eval.schema import ALL_PERIMETER, LEVELS, sort_key

# The `qpv` level: structures in a quartier prioritaire de la politique de la ville, or not
# (register column `qpv`); a blank `qpv` is in neither, its rows kept only for secrecy.
QPV_IN = "En QPV"
QPV_OUT = "Hors QPV"
QPV_UNKNOWN = "QPV non renseigné"
# The split inside each territory (territory reports only, never in the contract's table).
TERRITORY_QPV = "territoire_qpv"
QPV_SEPARATOR = " · "

COLUMNS: list[str] = [
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
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Measure:
    indicateur: str
    modalite: str = ""


def measures(catalog: Catalog | None = None) -> list[Measure]:
    """Every row an indicator table can hold for one perimeter, in questionnaire order.

    Derived indicators come last. A year before a question's (or a code's) `depuis`
    or after its `jusqu_a` gets no row at all: see `_asked`.
    """
    catalog = catalog or load_catalog()
    rows = [Measure(RESPONSE_RATE)]
    for question in catalog.questions:
        if question.kind == "oui_non":
            rows.append(Measure(question.colonne))
        elif question.kind == "liste":
            rows.extend(Measure(question.colonne, code) for code in question.codes)
    rows.extend(Measure(item.nom) for item in catalog.derived)
    return rows


def approved(dataset: Dataset, years: Iterable[int]) -> pd.DataFrame:
    """Structures approved each year: one row per structure-year of the population."""
    structures = dataset.structures
    frames = []
    for year in years:  # a handful of years: the loop is over years, not structures
        selected = dataset.approved_in(year)
        frames.append(
            selected[
                ["structure_id", "nom", "type", "commune", "territoire", "collectivite", "qpv"]
            ].assign(annee=year)
        )
    if not frames:
        return structures.head(0).assign(annee=pd.Series(dtype=int))
    return pd.concat(frames, ignore_index=True)


def population(dataset: Dataset, years: Iterable[int]) -> pd.DataFrame:
    """Structures approved each year, with their answers of that year when they answered."""
    pop = approved(dataset, years)
    responses = dataset.responses.drop(columns=["_ligne"], errors="ignore")
    merged = pop.merge(responses, on=["structure_id", "annee"], how="left", indicator=True)
    merged["repondant"] = merged.pop("_merge").eq("both")
    return merged


def _group_sums(dataset: Dataset, pop: pd.DataFrame, groups: np.ndarray, size: int) -> np.ndarray:
    """Numerator and denominator sums per group: a (size, 2 x measures) integer matrix.

    Each measure is one `np.bincount` over the structure-years: no matrix of all
    measures for all structure-years is ever built, so memory stays proportional to
    one column, and time to the number of structure-years.
    """
    responses = dataset.responses
    answers = pd.MultiIndex.from_frame(responses[["structure_id", "annee"]])
    position = answers.get_indexer(pd.MultiIndex.from_frame(pop[["structure_id", "annee"]]))
    respondent = position >= 0
    rows = position[respondent]
    group_of_respondent = groups[respondent]

    def total(weights: np.ndarray, among_respondents: bool = True) -> np.ndarray:
        where = group_of_respondent if among_respondents else groups
        return np.bincount(where, weights=weights, minlength=size)

    catalog = load_catalog()
    numerators = [total(respondent.astype(float), among_respondents=False)]
    denominators = [np.bincount(groups, minlength=size).astype(float)]
    for question in catalog.questions:
        column = question.colonne
        if question.kind == "oui_non":
            values = responses[column].to_numpy(dtype=float, na_value=np.nan)[rows]
            numerators.append(total(np.nan_to_num(values, nan=0.0)))
            denominators.append(total((~np.isnan(values)).astype(float)))
        elif question.kind == "liste":
            onehot = [
                responses[code_column(column, c)].to_numpy(dtype=bool)[rows] for c in question.codes
            ]
            filled = total(np.logical_or.reduce(onehot).astype(float))
            for flags in onehot:
                numerators.append(total(flags.astype(float)))
                denominators.append(filled)
    for item in catalog.derived:  # yes when at least one of its codes is cited
        codes = [
            responses[code_column(item.source, c)].to_numpy(dtype=bool)[rows]
            for c in catalog.by_column[item.source].codes
        ]
        chosen = [
            responses[code_column(item.source, c)].to_numpy(dtype=bool)[rows] for c in item.codes
        ]
        numerators.append(total(np.logical_or.reduce(chosen).astype(float)))
        denominators.append(total(np.logical_or.reduce(codes).astype(float)))
    return np.rint(np.column_stack(numerators + denominators)).astype(np.int64)


def compute(
    dataset: Dataset,
    annees: Iterable[int] | None = None,
    min_effectif: int | None = None,
    territoire: str | None = None,
    by_type: bool = False,
    with_unknown_qpv: bool = False,
    qpv_by_territory: bool = False,
) -> pd.DataFrame:
    """The indicator table of the contract (see `COLUMNS`).

    `by_type` splits every perimeter into CS and EVS (extra column `type`), for the
    reports' comparisons; the contract's table is the one without it. The `qpv` level
    splits Ensemble into structures in and out of a quartier prioritaire; those whose
    `qpv` is blank are in neither, and `with_unknown_qpv` adds their rows (perimeter
    `QPV_UNKNOWN`) for secrecy, which must treat them as the third part of the split.
    `qpv_by_territory` adds the same split inside each territory (level
    `TERRITORY_QPV`, perimeter « territoire · En QPV »), for the territory reports only.
    """
    config = dataset.config
    years = sorted(set(annees)) if annees is not None else dataset.years
    outside = [y for y in years if y not in config.annees]
    if outside:
        raise UsageError(
            f"année {outside[0]} hors de la période d'évaluation ({config.debut}-{config.fin})"
        )
    threshold = config.min_effectif if min_effectif is None else int(min_effectif)
    if territoire is not None:
        dataset.check_territory(territoire)

    pop = approved(dataset, years)
    catalogue = measures()
    m = len(catalogue)
    extra = ["type"] if by_type else []
    pop = pop.assign(_qpv=pop["qpv"].map({True: QPV_IN, False: QPV_OUT}).fillna(QPV_UNKNOWN))
    keys = ["annee", "territoire", "collectivite", "_qpv", *extra]
    grouped = pop.groupby(keys, sort=False, observed=True)
    finest = pd.concat(
        [
            grouped.size().reset_index()[keys],
            pd.DataFrame(
                _group_sums(dataset, pop, grouped.ngroup().to_numpy(), grouped.ngroups),
                columns=range(2 * m),
            ),
        ],
        axis=1,
    )
    sums = list(range(2 * m))
    qpv = finest.groupby(["annee", "_qpv", *extra], sort=False)[sums].sum().reset_index()
    if not with_unknown_qpv:
        qpv = qpv[qpv["_qpv"] != QPV_UNKNOWN]
    levels = {
        "territoire": finest.groupby(["annee", "territoire", *extra], sort=False)[sums]
        .sum()
        .reset_index()
        .rename(columns={"territoire": "perimetre"}),
        "collectivite": finest.groupby(["annee", "collectivite", *extra], sort=False)[
            list(range(2 * m))
        ]
        .sum()
        .reset_index()
        .rename(columns={"collectivite": "perimetre"}),
        "departement": finest.groupby(["annee", *extra], sort=False)[list(range(2 * m))]
        .sum()
        .reset_index()
        .assign(perimetre=ALL_PERIMETER),
        "qpv": qpv.rename(columns={"_qpv": "perimetre"}),
    }
    if qpv_by_territory:
        split = finest.groupby(["annee", "territoire", "_qpv", *extra], sort=False)[sums]
        split = split.sum().reset_index()
        if not with_unknown_qpv:
            split = split[split["_qpv"] != QPV_UNKNOWN]
        split["perimetre"] = split["territoire"] + QPV_SEPARATOR + split["_qpv"]
        levels[TERRITORY_QPV] = split.drop(columns=["territoire", "_qpv"])
    long = pd.concat(
        [_long(frame, level, catalogue, extra) for level, frame in levels.items()],
        ignore_index=True,
    )
    long = long[_asked(long)]
    if with_unknown_qpv:  # a blank part with no denominator hides nothing: left out
        unknown = long["perimetre"].str.endswith(QPV_UNKNOWN)
        long = long[~unknown | (long["denominateur"] > 0)]
    if territoire is not None:
        collectivite = dataset.collectivite_of(territoire)
        keep = (
            ((long["niveau"] == "territoire") & (long["perimetre"] == territoire))
            | ((long["niveau"] == "collectivite") & (long["perimetre"] == collectivite))
            | (long["niveau"] == "departement")
        )
        long = long[keep]
    long = _with_shares(long, threshold)
    return _sorted(long, extra)


def _long(frame: pd.DataFrame, level: str, catalogue: list[Measure], extra: list[str]):
    m = len(catalogue)
    k = len(frame)
    out = {
        "annee": np.repeat(frame["annee"].to_numpy(dtype=int), m),
        "niveau": level,
        "perimetre": np.repeat(frame["perimetre"].to_numpy(dtype=object), m),
    }
    for column in extra:
        out[column] = np.repeat(frame[column].to_numpy(dtype=object), m)
    out["indicateur"] = np.tile(np.array([x.indicateur for x in catalogue], dtype=object), k)
    out["modalite"] = np.tile(np.array([x.modalite for x in catalogue], dtype=object), k)
    out["numerateur"] = frame[list(range(m))].to_numpy(dtype=np.int64).ravel()
    out["denominateur"] = frame[list(range(m, 2 * m))].to_numpy(dtype=np.int64).ravel()
    return pd.DataFrame(out)


def _asked(long: pd.DataFrame) -> np.ndarray:
    """Rows of a year when their question (and code) was asked: one test per distinct key."""
    catalog = load_catalog()
    keys = long[["indicateur", "modalite", "annee"]].drop_duplicates()
    asked = {
        (i, m, y): catalog.asked(i, int(y), m)
        for i, m, y in keys.itertuples(index=False, name=None)
    }
    index = pd.MultiIndex.from_frame(long[["indicateur", "modalite", "annee"]])
    return np.fromiter((asked[k] for k in index), dtype=bool, count=len(long))


# The normal quantile of the interval, 1.959963984540054: the value SciPy's
# `norm.isf(0.025)` gives, written out so that computing indicators imports neither
# statsmodels nor SciPy (about 1 s). tests/test_wilson.py checks both.
Z_95 = 1.959963984540054


def wilson(numerateur: np.ndarray, denominateur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson interval, clipped to [0, 1], NaN where the denominator is 0.

    statsmodels' `proportion_confint(method="wilson")` formula, in numpy: equal to it
    within 1e-12 (tests/test_wilson.py), without its import.
    """
    numerateur = np.asarray(numerateur, dtype=float)
    denominateur = np.asarray(denominateur, dtype=float)
    low = np.full(numerateur.shape, np.nan)
    high = np.full(numerateur.shape, np.nan)
    ok = denominateur > 0
    if ok.any():
        count, nobs = numerateur[ok], denominateur[ok]
        share = count / nobs
        crit2 = Z_95**2
        denom = 1 + crit2 / nobs
        center = (share + crit2 / (2 * nobs)) / denom
        dist = Z_95 * np.sqrt(share * (1.0 - share) / nobs + crit2 / (4.0 * nobs**2)) / denom
        low[ok] = np.clip(center - dist, 0, 1)
        high[ok] = np.clip(center + dist, 0, 1)
    return low, high


def _with_shares(long: pd.DataFrame, threshold: int) -> pd.DataFrame:
    num = long["numerateur"].to_numpy()
    den = long["denominateur"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    low, high = wilson(num, den)
    # The response rate counts the whole population (every approved structure): it is
    # not an estimate, so it has no confidence interval.
    census = (long["indicateur"] == RESPONSE_RATE).to_numpy()
    low[census] = np.nan
    high[census] = np.nan
    return long.assign(part=share, ic_bas=low, ic_haut=high, secret=den < threshold)


def _modality_rank() -> dict[tuple[str, str], int]:
    ranks = {(RESPONSE_RATE, ""): 0}
    catalog = load_catalog()
    for question in catalog.questions:
        ranks[(question.colonne, "")] = 0
        for position, code in enumerate(question.codes, start=1):
            ranks[(question.colonne, code)] = position
    for item in catalog.derived:
        ranks[(item.nom, "")] = 0
    return ranks


def _sorted(long: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    ranks = _modality_rank()
    level_rank = {level: i for i, level in enumerate(LEVELS)}
    perimeters = long["perimetre"].unique()
    perimeter_rank = {p: i for i, p in enumerate(sorted(perimeters, key=sort_key))}
    keys = pd.DataFrame(
        {
            "a": long["annee"].to_numpy(),
            "n": long["niveau"].map(level_rank).to_numpy(),
            "p": long["perimetre"].map(perimeter_rank).to_numpy(),
            "i": long["indicateur"].to_numpy(),
            "m": _modality_positions(long, ranks),
        }
    )
    for column in extra:
        keys[column] = long[column].to_numpy()
    order = keys.sort_values(["a", "n", "p", *extra, "i", "m"], kind="stable").index
    result = long.iloc[order].reset_index(drop=True)
    return result[COLUMNS + extra] if extra else result[COLUMNS]


def _modality_positions(long: pd.DataFrame, ranks: dict[tuple[str, str], int]) -> np.ndarray:
    labels = long["indicateur"].astype(str) + "\x1f" + long["modalite"].astype(str)
    flat = {f"{i}\x1f{m}": r for (i, m), r in ranks.items()}
    return labels.map(flat).to_numpy()


def to_csv(table: pd.DataFrame, path=None) -> str | None:
    """Write the contract's CSV: UTF-8, `,`, decimal point, secret as True/False."""
    return table[COLUMNS].to_csv(path, index=False, lineterminator="\n")
