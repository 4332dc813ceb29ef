"""Change since the baseline, tested on the same structures (`avs-eval evolutions`).

Two shares of different years compare two sets of respondents: a structure that
joined the survey, or one that stopped answering, moves the share as much as a real
change would. So each change is also measured on the structures of the perimeter
that answered the question in both years (the paired sample), and tested with the
exact McNemar test, which only looks at the structures whose answer changed.
The baseline of a question is its first year (`depuis` in the catalog): 2023 for
the questions of actions 3 and 4, which started then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from avs_eval import indicators
from avs_eval.catalog import DerivedIndicator, Item, load_catalog
from avs_eval.errors import UsageError
from avs_eval.loading import Dataset, code_column
from avs_eval.schema import ALL_PERIMETER

COLUMNS: list[str] = [
    "annee",
    "annee_reference",
    "niveau",
    "perimetre",
    "indicateur",
    "part_reference",
    "part",
    "ecart",
    "n_apparies",
    "passes_oui",
    "passes_non",
    "ecart_apparie",
    "p_valeur",
    "significatif",
    "secret",
]
PAIRED = ["n_apparies", "passes_oui", "passes_non"]
# What a published table may not show of a secret row, and never shows of any row: the
# paired counts add up across territories and would give the masked ones by difference.
FIGURES = ["part_reference", "part", "ecart", "ecart_apparie", "p_valeur", "significatif"]
LEVEL = 0.05


def binary_answers(dataset: Dataset, item: Item) -> pd.Series:
    """Each structure-year's yes/no for a yes/no question or a derived indicator (NA: none)."""
    responses = dataset.responses
    if isinstance(item, DerivedIndicator):
        source = load_catalog().by_column[item.source]
        answered = responses[[code_column(source.colonne, c) for c in source.codes]].any(axis=1)
        cited = responses[[code_column(source.colonne, c) for c in item.codes]].any(axis=1)
        values = cited.astype("boolean").where(answered, pd.NA)
    else:
        values = responses[item.colonne].astype("boolean")
    return pd.Series(
        values.to_numpy(), index=pd.MultiIndex.from_frame(responses[["structure_id", "annee"]])
    )


def _perimeters(dataset: Dataset) -> pd.DataFrame:
    """Each structure's perimeter at every level (a structure is in one per level)."""
    register = dataset.structures
    qpv = register["qpv"].map({True: indicators.QPV_IN, False: indicators.QPV_OUT})
    frames = [
        pd.DataFrame({"structure_id": register["structure_id"], "niveau": level, "perimetre": p})
        for level, p in (
            ("territoire", register["territoire"]),
            ("collectivite", register["collectivite"]),
            ("departement", ALL_PERIMETER),
            ("qpv", qpv),
        )
    ]
    return pd.concat(frames, ignore_index=True).dropna(subset=["perimetre"])


def compute(
    dataset: Dataset,
    annee: int | None = None,
    reference: int | None = None,
    territoire: str | None = None,
    min_effectif: int | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The table of `COLUMNS`: one row per perimeter of year `annee` and yes/no indicator.

    `table` is the indicator table of the same data (all years), when the caller has
    it already (the reports' context); otherwise it is computed here.
    """
    year = dataset.check_year(annee)
    if reference is not None and int(reference) >= year:
        raise UsageError(f"l'année de référence ({reference}) doit précéder l'année {year}")
    threshold = int(min_effectif) if min_effectif else dataset.config.min_effectif
    catalog = load_catalog()
    items = [i for i in catalog.binary if i.asked_in(year)]
    if table is None:
        table = indicators.compute(
            dataset, annees=dataset.years, min_effectif=threshold, territoire=territoire
        )
    table = table[table["modalite"] == ""]
    if "type" in table.columns:  # the reports' table also holds the CS / EVS split
        table = table[table["type"] == ALL_PERIMETER]
    if territoire is not None:
        keep = {
            ("territoire", dataset.check_territory(territoire)),
            ("collectivite", dataset.collectivite_of(territoire)),
            ("departement", ALL_PERIMETER),
        }
        pairs = list(zip(table["niveau"], table["perimetre"], strict=True))
        table = table[[p in keep for p in pairs]]
    shares = table.set_index(["annee", "niveau", "perimetre", "indicateur"])[["part", "secret"]]
    current = table[(table["annee"] == year) & table["indicateur"].isin([i.nom for i in items])]
    perimeters = _perimeters(dataset)
    frames = []
    for item in items:
        base = int(reference) if reference is not None else item.depuis
        if base >= year:
            continue
        rows = current.loc[current["indicateur"] == item.nom, ["niveau", "perimetre"]]
        frames.append(_item_rows(dataset, item, year, base, rows, shares, perimeters, threshold))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    result = pd.concat(frames, ignore_index=True)
    return result[COLUMNS]


def _item_rows(dataset, item, year, base, rows, shares, perimeters, threshold) -> pd.DataFrame:
    out = rows.reset_index(drop=True).assign(annee=year, annee_reference=base, indicateur=item.nom)

    def share(y: int, column: str) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays(
            [np.full(len(out), y), out["niveau"], out["perimetre"], out["indicateur"]]
        )
        return shares[column].reindex(keys).to_numpy()

    out["part"] = share(year, "part").astype(float)
    out["part_reference"] = share(base, "part").astype(float)
    out["ecart"] = out["part"] - out["part_reference"]
    asked = item.asked_in(base) and base in dataset.years
    if asked:
        answers = binary_answers(dataset, item)
        now = answers.xs(year, level="annee").dropna()
        then = answers.xs(base, level="annee").dropna()
        both = pd.DataFrame({"avant": then, "apres": now}).dropna().astype(bool)
        both = both.join(perimeters.set_index("structure_id"), how="inner")
        grouped = both.assign(
            oui=~both["avant"] & both["apres"], non=both["avant"] & ~both["apres"]
        ).groupby(["niveau", "perimetre"])
        counts = pd.DataFrame(
            {"n": grouped.size(), "oui": grouped["oui"].sum(), "non": grouped["non"].sum()}
        )
        keys = pd.MultiIndex.from_frame(out[["niveau", "perimetre"]])
        counts = counts.reindex(keys).fillna(0).astype(int)
        out["n_apparies"] = pd.array(counts["n"].to_numpy(), dtype="Int64")
        out["passes_oui"] = pd.array(counts["oui"].to_numpy(), dtype="Int64")
        out["passes_non"] = pd.array(counts["non"].to_numpy(), dtype="Int64")
        n = counts["n"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (counts["oui"].to_numpy() - counts["non"].to_numpy()) / n
        out["ecart_apparie"] = np.where(n > 0, gap, np.nan)
        p_values = mcnemar_exact_many(counts["oui"].to_numpy(), counts["non"].to_numpy())
        out["p_valeur"] = np.where(n > 0, p_values, np.nan)
        out["significatif"] = pd.array(
            [None if np.isnan(p) else bool(p < LEVEL) for p in out["p_valeur"]], dtype="boolean"
        )
    else:  # not asked in the reference year: the row says so with empty figures
        for column in PAIRED:
            out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["ecart_apparie"] = np.nan
        out["p_valeur"] = np.nan
        out["significatif"] = pd.array([pd.NA] * len(out), dtype="boolean")
    secret_now = share(year, "secret")
    secret_then = share(base, "secret")
    few = out["n_apparies"].fillna(threshold).to_numpy(dtype=int) < threshold
    out["secret"] = (
        pd.Series(secret_now).fillna(False).astype(bool).to_numpy()
        | pd.Series(secret_then).fillna(False).astype(bool).to_numpy()
        | few
    )
    return out


def mcnemar_exact(passes_oui: int, passes_non: int) -> float:
    """Exact two-sided McNemar test: 1 when no structure changed its answer."""
    return float(mcnemar_exact_many(np.array([passes_oui]), np.array([passes_non]))[0])


def mcnemar_exact_many(passes_oui: np.ndarray, passes_non: np.ndarray) -> np.ndarray:
    """`mcnemar_exact` of every pair at once: min(1, 2 P(X <= min(b, c))), X ~ B(b + c, ½).

    statsmodels' exact McNemar test to the last bit, in one call instead of one per row,
    and without importing statsmodels (1.5 s in a kernel).
    """
    b = np.asarray(passes_oui, dtype=float)
    c = np.asarray(passes_non, dtype=float)
    with np.errstate(invalid="ignore"):
        p = np.minimum(1.0, 2 * _binomial_cdf(np.minimum(b, c), b + c))
    return np.where(b + c == 0, 1.0, p)


def _binomial_cdf(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """P(X <= k) for X ~ B(n, ½): SciPy's `binom.cdf`, from `scipy.special` when it has the
    function `binom.cdf` calls (a quarter of a second to import, not `scipy.stats`'s one)."""
    try:
        from scipy.special._ufuncs import _binom_cdf
    except ImportError:  # a SciPy that moved it: the public face, a second slower to import
        from scipy.stats import binom

        return binom.cdf(k, n, 0.5)
    return _binom_cdf(k, n, 0.5)


def published(evolutions: pd.DataFrame, masked: pd.DataFrame) -> pd.DataFrame:
    """The partner version: masked rows' figures emptied, paired counts never shown.

    `masked` is the reports' indicator table with its `masque` column (primary and
    secondary secrecy): a change is secret when either share is masked there.
    """
    if evolutions.empty:
        return evolutions
    all_types = masked.get("type", ALL_PERIMETER) == ALL_PERIMETER
    flags = masked[(masked["modalite"] == "") & all_types]
    flags = flags.set_index(["annee", "niveau", "perimetre", "indicateur"])["masque"]

    def hidden(year_column: str) -> np.ndarray:
        keys = pd.MultiIndex.from_frame(
            evolutions[[year_column, "niveau", "perimetre", "indicateur"]].set_axis(
                ["annee", "niveau", "perimetre", "indicateur"], axis=1
            )
        )
        return flags.reindex(keys).fillna(False).to_numpy(dtype=bool)

    out = evolutions.copy()
    secret = out["secret"].to_numpy(dtype=bool) | hidden("annee") | hidden("annee_reference")
    out["secret"] = secret
    for column in FIGURES:
        out[column] = out[column].astype(object).where(~secret, None)
    for column in PAIRED:
        out[column] = None
    return out


def to_csv(table: pd.DataFrame) -> str:
    """UTF-8, `,`; empty cells where a value is undefined, booleans True/False."""
    return table[COLUMNS].to_csv(index=False, lineterminator="\n", na_rep="")


# --- the published form: figures that cannot be decoded into paired counts ------------
#
# A paired gap (b - c) / n at full precision beside an exact p-value decodes (n, b, c):
# the attacker did it for 61 of 98 rows of the sample. Whole points and a class
# of p-value leave several (n, b, c) for each row; a row that would still admit a single
# one (possible for tiny n) loses its paired gap, and keeps its verdict.

P_CLASSES: tuple[tuple[float, str], ...] = (
    (0.001, "< 0,001"),
    (0.01, "< 0,01"),
    (0.05, "< 0,05"),
)
P_CLASS_NONE = "≥ 0,05"


def p_class(p: float | None) -> str | None:
    """The class of a p-value as published: « < 0,001 », « < 0,01 », « < 0,05 », « ≥ 0,05 »."""
    if p is None or pd.isna(p):
        return None
    for limit, label in P_CLASSES:
        if p < limit:
            return label
    return P_CLASS_NONE


def whole_points(share_gap) -> int | None:
    """A gap between two shares in whole percentage points (half away from zero)."""
    if share_gap is None or pd.isna(share_gap):
        return None
    value = float(share_gap) * 100
    return int(np.sign(value) * np.floor(abs(value) + 0.5 + 1e-9))


def mcnemar_table(largest: int) -> np.ndarray:
    """p[b, c] of the exact McNemar test for b + c <= `largest` (NaN beyond): one array.

    The same test as `mcnemar_exact` (two-sided binomial on the changed answers),
    computed for every pair at once, for the decoding check of `published_form`.
    """
    p = np.full((largest + 1, largest + 1), np.nan)
    b, c = np.indices((largest + 1, largest + 1))
    inside = b + c <= largest
    p[inside] = mcnemar_exact_many(b[inside], c[inside])
    return p


def decodings(
    gap_points: int, p_label: str, largest_n: int, table: np.ndarray | None = None
) -> int:
    """How many (n, b, c) with 1 <= n <= largest_n give this published gap and p-class.

    `table` (`mcnemar_table`): the p-values looked up; without it, computed for the pairs
    that fit the gap only, and the search stops at the second decoding, so a large
    sample costs what it needs, not a table of every pair.
    """
    found = 0
    for n in range(1, largest_n + 1):
        b = np.arange(n + 1)[:, None]
        c = np.arange(n + 1)[None, :]
        fits = b + c <= n
        gap = (b - c) * 100 / n
        rounded = np.sign(gap) * np.floor(np.abs(gap) + 0.5 + 1e-9)
        fits &= rounded == gap_points
        if not fits.any():
            continue
        bs, cs = np.nonzero(fits)
        p_values = table[bs, cs] if table is not None else mcnemar_exact_many(bs, cs)
        labels = [p_class(p) for p in p_values]
        found += sum(label == p_label for label in labels)
        if found > 1:
            return found
    return found


def published_form(
    evolutions: pd.DataFrame, masked: pd.DataFrame | None = None, table: np.ndarray | None = None
) -> pd.DataFrame:
    """What partners read of the changes: gaps in whole points, the p-value in classes.

    `evolutions` is `published(...)` (masked rows emptied, no paired counts). `masked`,
    the reports' indicator table, bounds the paired sample an attacker may assume (at
    most the smaller denominator of the two years; the number of structures otherwise):
    a row that still admits a single (n, b, c) within it loses its paired gap.
    """
    out = evolutions.copy()
    if out.empty:
        return out
    for column in ("ecart", "ecart_apparie"):
        out[column] = pd.array([whole_points(v) for v in out[column]], dtype="Int64")
    out["p_valeur"] = [p_class(None if v is None else float(v)) for v in out["p_valeur"]]
    bound = _paired_bound(out, masked)
    largest = int(max(bound, default=0))
    table = None if table is None or len(table) <= largest else table
    for position, (gap, label, n_max) in enumerate(
        zip(out["ecart_apparie"], out["p_valeur"], bound, strict=True)
    ):
        if pd.isna(gap) or not isinstance(label, str):
            continue
        if decodings(int(gap), label, int(n_max), table) <= 1:
            out.iloc[position, out.columns.get_loc("ecart_apparie")] = pd.NA
    return out


def _paired_bound(out: pd.DataFrame, masked: pd.DataFrame | None) -> list[int]:
    """The largest paired sample an attacker can assume for each row."""
    if masked is None or masked.empty:
        return [200] * len(out)
    rows = masked[masked["modalite"] == ""]
    if "type" in rows.columns:
        rows = rows[rows["type"] == ALL_PERIMETER]
    denominators = rows.set_index(["annee", "niveau", "perimetre", "indicateur"])["denominateur"]
    structures = rows[rows["indicateur"] == indicators.RESPONSE_RATE].set_index(
        ["annee", "niveau", "perimetre"]
    )["denominateur"]

    def of(year_column: str) -> np.ndarray:
        keys = pd.MultiIndex.from_frame(
            out[[year_column, "niveau", "perimetre", "indicateur"]].set_axis(
                ["annee", "niveau", "perimetre", "indicateur"], axis=1
            )
        )
        return denominators.reindex(keys).to_numpy(dtype=float)

    keys = pd.MultiIndex.from_frame(
        out[["annee", "niveau", "perimetre"]].set_axis(["annee", "niveau", "perimetre"], axis=1)
    )
    fallback = structures.reindex(keys).fillna(200).to_numpy(dtype=float)
    bound = np.fmin(of("annee"), of("annee_reference"))
    return [int(b) if not np.isnan(b) else int(f) for b, f in zip(bound, fallback, strict=True)]


def for_partners(
    published_changes: pd.DataFrame, masked: pd.DataFrame, public: pd.DataFrame | None = None
) -> pd.DataFrame:
    """`published(...)` rows whose paired gap would decode into paired counts emptied.

    For the workbook and the pages, which round the figures themselves (whole points,
    p-value classes): the same rows as `published_form`, in the same units as `compute`.
    `public`: `published_form(published_changes, masked)` when the caller has it already.
    """
    if public is None:
        public = published_form(published_changes, masked)
    if public.empty:
        return published_changes
    kept = public["ecart_apparie"].notna().to_numpy()
    return published_changes.assign(ecart_apparie=published_changes["ecart_apparie"].where(kept))
