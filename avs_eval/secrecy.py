"""Statistical secrecy: which figures a shared report must not show.

Primary secrecy is the `secret` flag of the indicator table (denominator below
the threshold). Secondary secrecy closes the back door of subtraction: the
territories of a collectivité add up to it, the collectivités to Ensemble, the
structures in a QPV, out of one and with `qpv` blank to Ensemble, and CS plus EVS
to all structures. When exactly one cell of such a sum is masked
while the total is shown, a reader recovers it by subtraction; so the smallest
other cell of the sum is masked too. A part that is its whole (a territory with no
structure in a QPV, or with CS only) is masked with it, and a masked total whose
parts are all shown gets one of them masked. This is repeated until nothing changes.

That simple rule misses what a solver finds (a part equal to its whole, shown parts
that force the masked ones to 0 % or 100 %): the pattern is then audited
(`avs_eval.audit`, linear programming over every published relation) and extended
until every masked count keeps an interval of at least the protection level of
`parameters/config.yaml`. The audit's figures ride along in `table.attrs["audit"]`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from avs_eval import audit, audit_model, paths
from avs_eval.catalog import RESPONSE_RATE
from avs_eval.errors import SecrecyAuditFailed
from avs_eval.formatting import count, counted, plural
from avs_eval.output import write_atomic
from avs_eval.schema import ALL_PERIMETER, LEVELS

MASK = "masque"
AUDIT = "audit"  # key of the table's `attrs` holding the `audit.AuditResult`
SECRET_SYMBOL = "s"
SECRET_NOTE = (
    "« s » : effectif insuffisant. Une part calculée sur moins de {n} structures, ou qui "
    "permettrait d'en retrouver une par différence, n'est pas diffusée (secret statistique)."
)


def apply(
    table: pd.DataFrame,
    collectivite_of: dict[str, str],
    relations: list | None = None,
    protection: int | None = None,
) -> pd.DataFrame:
    """Add the `masque` column (primary or secondary secrecy) to an indicator table.

    The table may carry a `type` column (CS / EVS split, see indicators.compute with
    by_type=True) next to the unsplit rows, which have `type` = "Ensemble".
    `collectivite_of` maps each territory to its collectivité. Vectorised: each pass
    handles every additive relation at once, and passes repeat until nothing changes.
    `relations`: those of `additive_relations` for the same rows, when the caller keeps
    them (the explorer applies several thresholds to one table: building the relations
    was three quarters of the time).
    `protection`: the audit's protection level (None: that of config.yaml; 0: no audit,
    for tests of the simple rule alone). The result's `attrs["audit"]` is the
    `audit.AuditResult`: cells audited, suppressions added, narrowest interval.
    """
    frame = table.reset_index(drop=True)
    has_type = "type" in frame.columns
    if not has_type:
        frame = frame.assign(type=ALL_PERIMETER)
    masked = frame["secret"].to_numpy(dtype=bool).copy()
    if frame.empty:
        return frame.assign(**{MASK: masked})
    denominators = frame["denominateur"].to_numpy()
    numerators = frame["numerateur"].to_numpy()
    empty = _without_structures(frame)
    if relations is None:
        relations = Relations(_relations(frame, collectivite_of))
    changed = True
    while changed:
        changed = False
        for parts, totals in relations:
            changed |= _protect(parts, totals, masked, denominators, empty, numerators)
    level = protection_level(protection)
    result = None
    if level > 0:
        model = _model(frame, relations)
        masked, result = _audited(model, masked, level)
        if not result.ok:
            raise SecrecyAuditFailed(_failure(result))
    frame[MASK] = masked
    out = frame if has_type else frame.drop(columns="type")
    out.attrs[AUDIT] = result
    return out


def summary(table: pd.DataFrame, year: int) -> str:
    """What secrecy did to year `year`'s published figures, in one French sentence.

    For the journal of every batch and the internal edition: the cells of the contract's
    levels (what `indicateurs.csv` publishes), how many are masked, and why (under the
    threshold, or by the secondary rules: a difference, a part equal to its whole, a value
    forced by what the shown parts leave), then what the audit did, for every year at once
    (`audit.AuditResult.summary`), or that it was off.
    """
    rows = table[
        (table["annee"] == year)
        & table["niveau"].isin(LEVELS)
        & (table.get("type", ALL_PERIMETER) == ALL_PERIMETER)
    ]
    masked = rows[MASK].astype(bool)
    primary = rows["secret"].astype(bool) & masked
    secondary = masked & ~primary
    text = (
        f"secret statistique {year} : {counted(masked.sum(), 'part masquée', 'parts masquées')}"
        f" sur {count(len(rows))} {plural(len(rows), 'publiable')} "
        f"({count(primary.sum())} sous le seuil, "
        f"{count(secondary.sum())} par les règles du secret secondaire)"
    )
    result = audit_of(table)
    if result is None:
        return text + " ; pas d'audit du secret (niveau de protection 0)"
    return f"{text} ; {result.summary()}"


def audit_added(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """The published cells of year `year` the audit masked beyond the simple rules.

    Keys of the table (`audit.KEYS`), for the partner edition, which names them: each is
    shown « s » anyway; the sentence tells the reader why those that are not under the
    threshold are masked too. Empty when the table was not audited.
    """
    result = audit_of(table)
    cells = pd.DataFrame(result.added if result else [], columns=audit.KEYS)
    keep = (
        (cells["annee"] == year) & cells["niveau"].isin(LEVELS) & (cells["type"] == ALL_PERIMETER)
    )
    return cells[keep].reset_index(drop=True)


@functools.cache
def _audit_code() -> str:
    """What else than the table decides the audit's pattern: its code and its solver.

    The audit's results kept on disk are keyed by it. A version number bumped by hand
    was forgotten twice in a row (a development machine kept returning a pattern two
    commits old); the source of the modules that decide the pattern, and the version of
    SciPy, whose HiGHS solves the linear programs, are not forgotten.
    """
    digest = hashlib.sha256()
    for module in (audit, audit_model):
        with open(module.__file__, "rb") as source:
            digest.update(source.read())
    digest.update(importlib.metadata.version("scipy").encode())
    return digest.hexdigest()[:16]


def _audited(model, masked: np.ndarray, level: int):
    """`audit.protect`, or its result for the same table, pattern and level computed before.

    Keyed by everything the result depends on: the rows, their true values, the pattern
    of the simple rules and the level name the file, in the folder of the audit's code
    and solver. A cache that cannot be read or written is no cache.
    """
    digest = hashlib.sha256()
    for part in (
        pd.util.hash_pandas_object(model.labels, index=False).to_numpy(),
        model.values,
        model.audited,
        model.published,
        masked,
    ):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(str(level).encode())
    path = paths.AUDIT_CACHE_DIR / _audit_code() / f"{digest.hexdigest()}.pickle"
    try:
        with open(path, "rb") as handle:
            cached_mask, result = pickle.load(handle)
        if len(cached_mask) == len(masked):
            with contextlib.suppress(OSError):
                os.utime(path)  # used: the last to go when the folder is pruned
            return cached_mask, result
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        pass
    protected, result = audit.protect(model, masked, level)
    with contextlib.suppress(OSError):
        write_atomic(path, pickle.dumps((protected, result), protocol=pickle.HIGHEST_PROTOCOL))
    _prune_kept_audits(path.parent)
    return protected, result


# Results kept by the current code (about 10 KB each: a year's data at a few thresholds
# and both levels, the explorer's neighbouring thresholds, a few data sets).
KEPT_AUDITS = 200
# A result of another code, or an unfinished write, untouched for this long belongs to no
# running process: a kernel started before an update may still use its code's folder.
STALE_AFTER = 3600  # seconds


def _prune_kept_audits(current: Path) -> None:
    """Keep the audit's folder from growing: results of another code, killed writes, excess.

    Every change of the audit's code, or of SciPy, starts a folder of its own, whose
    results the earlier folders can never be; they go once unused for `STALE_AFTER`, as
    do the temporary files of writers that were killed. Within the current folder, the
    least recently used go first beyond `KEPT_AUDITS`. A file another process holds
    (Windows) or has just removed is left alone: pruning is never worth a failure.
    """
    stale = time.time() - STALE_AFTER

    def unused(path: Path) -> bool:  # a folder: none of its results read or written since
        inside = path.iterdir() if path.is_dir() else ()
        return max([path.stat().st_mtime] + [p.stat().st_mtime for p in inside]) < stale

    with contextlib.suppress(OSError):
        for entry in current.parent.iterdir():
            if entry != current and unused(entry):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:  # kept before results had a folder per code
                    entry.unlink(missing_ok=True)
        unfinished = [path for path in current.glob(".*.tmp") if unused(path)]
        kept = sorted(current.glob("*.pickle"), key=lambda path: path.stat().st_mtime)
        for path in unfinished + kept[: max(0, len(kept) - KEPT_AUDITS)]:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def _failure(result) -> str:
    """Why nothing is published: the cells left exposed, and what decides them."""
    cells = [
        " · ".join(str(part) for part in (year, perimeter, indicator, modality) if part != "")
        for year, _, perimeter, indicator, modality, _ in result.exposed
    ]
    shown = " ; ".join(cells[:5]) + (" ; …" if len(cells) > 5 else "")
    n = len(cells)
    return (
        f"audit du secret : {counted(n, 'part')} sous le seuil "
        f"{plural(n, 'reste déductible', 'restent déductibles')} par un lecteur qui "
        f"croise les fichiers publiés, même en masquant {plural(n, 'ses', 'leurs')} "
        f"voisines ({shown}). "
        "Rien n'est publié. Baissez `secret > niveau_protection` ou relevez `min_effectif` "
        "dans parameters/config.yaml, puis relancez."
    )


def protection_level(given: int | None = None) -> int:
    """The audit's protection level: the one given, or `secret > niveau_protection`."""
    if given is not None:
        return int(given)
    from avs_eval.config import load_config

    return load_config().niveau_protection


def audit_of(table: pd.DataFrame):
    """The `audit.AuditResult` of a masked table (None when it was not audited)."""
    return table.attrs.get(AUDIT)


class Relations(list):
    """The additive relations of a table's rows, with the audit's model built once for them."""

    model = None


def _model(frame: pd.DataFrame, relations: list):
    if isinstance(relations, Relations):
        if relations.model is None or relations.model.size != len(frame):
            relations.model = audit.build_model(frame, relations)
        return relations.model
    return audit.build_model(frame, relations)


def additive_relations(table: pd.DataFrame, collectivite_of: dict[str, str]) -> list:
    """The additive relations of a table's rows (which depend on its rows, not on the
    threshold), for `apply(..., relations=…)` on the same rows in the same order."""
    frame = table.reset_index(drop=True)
    if "type" not in frame.columns:
        frame = frame.assign(type=ALL_PERIMETER)
    return Relations(_relations(frame, collectivite_of) if not frame.empty else [])


def _relations(frame: pd.DataFrame, collectivite_of: dict[str, str]):
    """Each additive relation as (group id of every part row or -1, total row of each group)."""
    cell = ["annee", "indicateur", "modalite"]
    level = frame["niveau"]
    is_split = frame["type"] != ALL_PERIMETER
    parent = frame["perimetre"].map(collectivite_of)
    yield _relation(
        frame.assign(_parent=parent),
        level == "territoire",
        [*cell, "type", "_parent"],
        level == "collectivite",
        [*cell, "type", "perimetre"],
    )
    yield _relation(
        frame.assign(_parent=ALL_PERIMETER),
        level == "collectivite",
        [*cell, "type", "_parent"],
        level == "departement",
        [*cell, "type", "perimetre"],
    )
    # Structures in a QPV, out of one, and with `qpv` blank (rows kept for this relation
    # only, then dropped) add up to Ensemble: the same rule protects the split.
    yield _relation(
        frame.assign(_parent=ALL_PERIMETER),
        level == "qpv",
        [*cell, "type", "_parent"],
        level == "departement",
        [*cell, "type", "perimetre"],
    )
    if (level == "territoire_qpv").any():  # the same split inside each territory
        parent = frame["perimetre"].str.split(" · ").str[0]
        yield _relation(
            frame.assign(_parent=parent),
            level == "territoire_qpv",
            [*cell, "type", "_parent"],
            level == "territoire",
            [*cell, "type", "perimetre"],
        )
    if is_split.any():
        yield _relation(
            frame,
            is_split,
            [*cell, "niveau", "perimetre"],
            ~is_split,
            [*cell, "niveau", "perimetre"],
        )


def _relation(frame, part_mask, part_keys, total_mask, total_keys) -> tuple[np.ndarray, np.ndarray]:
    parts = frame.loc[part_mask, part_keys]
    parts.columns = range(len(part_keys))
    group = parts.groupby(list(parts.columns), sort=False, dropna=False).ngroup()
    part_group = np.full(len(frame), -1)
    part_group[group.index.to_numpy()] = group.to_numpy()
    keys = parts.assign(_g=group.to_numpy()).drop_duplicates("_g")
    totals = frame.loc[total_mask, total_keys]
    totals.columns = range(len(total_keys))
    totals = totals.assign(_row=totals.index.to_numpy())
    joined = keys.merge(totals, on=list(range(len(part_keys))), how="left")
    total_row = np.full(len(keys), -1)
    found = joined["_row"].notna().to_numpy()
    total_row[joined.loc[found, "_g"].to_numpy()] = joined.loc[found, "_row"].to_numpy(dtype=int)
    return part_group, total_row


def _without_structures(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a perimeter with no approved structure: public (the register), so empty.

    The number of structures of a perimeter is the denominator of its response rate,
    which the reports print; a part known to have none hides nothing.
    """
    keys = ["annee", "niveau", "perimetre", "type"]
    rates = frame.loc[(frame["indicateur"] == RESPONSE_RATE) & (frame["modalite"] == ""), keys]
    population = frame.loc[rates.index, "denominateur"]
    rates = rates.assign(_structures=population.to_numpy())
    joined = frame[keys].merge(rates, on=keys, how="left")
    return (joined["_structures"].to_numpy(dtype=float) == 0).astype(bool)


def _protect(
    part_group: np.ndarray,
    total_row: np.ndarray,
    masked: np.ndarray,
    denominators: np.ndarray,
    empty: np.ndarray,
    numerators: np.ndarray,
) -> bool:
    """Mask one more cell of every sum whose masked cells a reader could recover.

    A part of a perimeter with no structure (`empty`) is known to be empty: it hides
    nothing, and the other parts add up to the whole without it. Of the other parts:
    - one masked part, its total shown: the smallest other part is masked too;
    - a single part, masked, its total shown: the part is its whole, the total is masked;
    - the total masked, every part shown: their sum gives it, the smallest part is masked;
    - several masked parts, their total shown, and what the shown parts leave forces one
      of them to a single value (all 100 %: 5 respondents left for masked territories of
      2 and 3 structures; or all 0 %): the smallest other part is masked too, or the
      total when no part is left. A reader is granted every denominator here (more than
      the files give), so what passes this rule passes for every reader. A total at 0 %
      or 100 % is the stated limit: it says it of every part, whatever is masked.
    """
    rows = np.flatnonzero(part_group >= 0)
    rows = rows[~empty[rows]]
    groups = part_group[rows]
    size = len(total_row)
    n_masked = np.bincount(groups, weights=masked[rows], minlength=size)
    n_parts = np.bincount(groups, minlength=size)
    has_total = total_row >= 0
    total_shown = np.zeros(size, dtype=bool)
    total_shown[has_total] = ~masked[total_row[has_total]]
    total_masked = has_total & ~total_shown
    one_of_many = (n_masked == 1) & (n_parts >= 2) & total_shown
    alone = (n_masked == 1) & (n_parts == 1) & total_shown
    summed = (n_masked == 0) & (n_parts >= 1) & total_masked
    forced = _forced(rows, groups, total_row, total_shown, masked, numerators, denominators)
    forced &= n_masked >= 2
    n_shown = n_parts - n_masked
    forced_total = forced & (n_shown == 0)
    if not (one_of_many.any() or alone.any() or summed.any() or forced.any()):
        return False
    masked[total_row[alone | forced_total]] = True
    candidates = rows[(one_of_many | summed | forced)[groups] & ~masked[rows]]
    order = np.lexsort((candidates, denominators[candidates], part_group[candidates]))
    ordered = candidates[order]
    _, first = np.unique(part_group[ordered], return_index=True)
    masked[ordered[first]] = True
    return True


def _forced(rows, groups, total_row, total_shown, masked, numerators, denominators) -> np.ndarray:
    """Per group: a masked part that the shown total and shown parts force to one value.

    What the shown parts leave, R, is shared by the masked parts of denominators d_i
    (sum D): part i lies in [max(0, R - (D - d_i)), min(d_i, R)], the Fréchet bounds.
    """
    size = len(total_row)
    shown = ~masked[rows]
    n = numerators[rows].astype(float)
    d = denominators[rows].astype(float)
    has_total = total_row >= 0
    total_n = np.zeros(size)
    total_d = np.zeros(size)
    total_n[has_total] = numerators[total_row[has_total]]
    total_d[has_total] = denominators[total_row[has_total]]
    left = total_n - np.bincount(groups, weights=n * shown, minlength=size)
    masked_d = np.bincount(groups, weights=d * ~shown, minlength=size)
    low = np.maximum(0.0, left[groups] - (masked_d[groups] - d))
    high = np.minimum(d, left[groups])
    single = ~shown & (d > 0) & (high - low < 1)
    extreme = (total_n == 0) | (total_n == total_d)  # the stated limit
    forced = np.bincount(groups, weights=single, minlength=size) > 0
    return forced & total_shown & has_total & ~extreme


PUBLISHED_BLANKS = ["numerateur", "denominateur", "part", "ic_bas", "ic_haut"]


def published(table: pd.DataFrame) -> pd.DataFrame:
    """An indicator table as partners may receive it: what the reports show as « s » is empty.

    `table` carries `masque` (primary and secondary secrecy). Every masked row keeps its
    keys, gets `secret` = True, and loses its counts, share and interval: a published
    count under the threshold would give the share back, or another cell by difference.
    """
    out = table.copy()
    masked = out[MASK].to_numpy(dtype=bool)
    out["secret"] = masked
    for column in PUBLISHED_BLANKS:
        out[column] = out[column].astype(object).where(~masked, None)
    return out
