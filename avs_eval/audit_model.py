"""The attacker's knowledge: every relation between the cells of the reports' table.

What `avs_eval.audit` solves over. The relations hold whatever is masked:

- the additive relations of `secrecy` (territories → collectivité → Ensemble; in,
  out of a QPV and blank `qpv` → Ensemble, and the same split inside each territory;
  CS + EVS → all structures), numerators and denominators alike. A missing part is
  a part the attacker knows is empty, so a single-part group is a part equal to its
  whole;
- 0 ≤ numerator ≤ denominator ≤ respondents (the response rate's numerator of the
  same perimeter), and the response rate's denominator is the number of approved
  structures, published by the register tables whatever the secrecy;
- the codes of a list question and the indicators derived from it share their
  denominator (the structures that cited at least one code); a derived indicator
  cites at least as many as each of its codes and at most their sum; the codes of a
  list add up to at least its denominator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from scipy import sparse

from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.indicators import QPV_UNKNOWN
from avs_eval.schema import ALL_PERIMETER, LEVELS

KEYS = ["annee", "niveau", "perimetre", "indicateur", "modalite", "type"]


@dataclass(frozen=True)
class Model:
    """The attacker's relations between the cells of one table (they depend on its rows only).

    Columns 0..R-1 are the numerators of the R rows, R..2R-1 their denominators.
    `equal` rows say `equal @ x = 0`, `at_most` rows `at_most @ x <= 0`.
    """

    size: int
    equal: sparse.csr_matrix
    at_most: sparse.csr_matrix
    public_denominator: np.ndarray  # bool per row: the register publishes it
    structures: np.ndarray  # approved structures of the row's perimeter (-1: unknown)
    values: np.ndarray  # the true numerators then denominators (2R)
    cost: np.ndarray  # the order in which cells are masked to protect others
    labels: pd.DataFrame  # KEYS of each row
    published: np.ndarray  # bool per row: some file shows it when it is not masked
    # bool per row: protected when masked: a sensitive cell (under the threshold) that a
    # file publishes when shown, or a blank-`qpv` part
    audited: np.ndarray
    respondents_of: np.ndarray  # per `at_most` row: the row whose d <= respondents, or -1
    # (part row, whole row) of the additive relations, (code row, derived row) of the lists:
    # what a published 0 % or 100 % of the whole says of its parts (`implied`)
    part_of: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=int))
    code_of: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=int))


def build_model(table: pd.DataFrame, relations: list) -> Model:
    """The relations between the rows of `table` (in its order), with `secrecy`'s relations.

    `table` has the KEYS (a missing `type` is Ensemble), `numerateur`, `denominateur`.
    """
    frame = table.reset_index(drop=True)
    if "type" not in frame.columns:
        frame = frame.assign(type=ALL_PERIMETER)
    size = len(frame)
    equal = _Triplets()
    at_most = _Triplets()
    for part_group, total_row in relations:
        _additive(equal, part_group, total_row, size)
    rows = np.arange(size)
    at_most.add_rows(np.stack([rows, size + rows], axis=1), np.array([1.0, -1.0]))
    rate = (frame["indicateur"] == RESPONSE_RATE).to_numpy()
    place = ["annee", "niveau", "perimetre", "type"]
    rate_rows = pd.Series(rows[rate], index=pd.MultiIndex.from_frame(frame.loc[rate, place]))
    rate_rows = rate_rows[~rate_rows.index.duplicated()]
    rate_of = rate_rows.reindex(pd.MultiIndex.from_frame(frame[place])).to_numpy()
    has_rate = ~np.isnan(rate_of) & ~rate
    rate_of = np.where(np.isnan(rate_of), -1, rate_of).astype(int)
    # denominator <= respondents
    asking = rows[has_rate]
    at_most.add_rows(np.stack([size + asking, rate_of[asking]], axis=1), np.array([1.0, -1.0]))
    respondents_of = np.concatenate([np.full(size, -1), asking])
    pairs = [_part_pairs(part_group, total_row) for part_group, total_row in relations]
    codes = _lists(frame, equal, at_most, size)
    respondents_of = np.concatenate(
        [respondents_of, np.full(at_most.count - len(respondents_of), -1)]
    )
    denominators = frame["denominateur"].to_numpy(dtype=float)
    structures = np.full(size, -1.0)
    structures[rate] = denominators[rate]
    structures[has_rate] = denominators[rate_of[has_rate]]
    values = np.concatenate([frame["numerateur"].to_numpy(dtype=float), denominators])
    blank = frame["perimetre"].str.endswith(QPV_UNKNOWN).to_numpy()
    whole = (frame["type"] == ALL_PERIMETER) & frame["niveau"].isin(LEVELS)
    # the cells secrecy protects: those under the threshold (`secret`); the cells masked
    # to protect them are no secret themselves, and may stay narrow
    sensitive = frame["secret"].to_numpy(dtype=bool) if "secret" in frame else np.ones(size, bool)
    # indicateurs.csv: every row of the contract's levels; the reports: the QPV split of a
    # territory and the CS / EVS split, for the indicators without modality
    published = ~blank & (whole | (frame["modalite"] == "")).to_numpy()
    return Model(
        size=size,
        equal=equal.matrix(2 * size),
        at_most=at_most.matrix(2 * size),
        public_denominator=rate,
        structures=structures,
        values=values,
        cost=denominators,
        labels=frame[KEYS],
        published=published,
        audited=(published | blank) & sensitive,
        respondents_of=respondents_of,
        part_of=np.concatenate([np.zeros((0, 2), dtype=int), *pairs]).astype(int),
        code_of=codes,
    )


def implied(model: Model, masked: np.ndarray) -> np.ndarray:
    """Masked rows whose value a published 0 % or 100 % gives away: the limit that remains.

    A whole shown at 0 % says every part of it is at 0 % (and a derived indicator at 0 %
    every code it counts); at 100 %, every part at 100 %, however deep. Masking cannot
    hide what the published share states of every member, so the audit does not ask it
    (the README and docs/methode.md state this limit).
    """
    size = model.size
    n, d = model.values[:size], model.values[size:]
    shown = model.published & ~masked & (d > 0)
    zero, full = shown & (n == 0), shown & (n == d)
    parts, wholes = model.part_of[:, 0], model.part_of[:, 1]
    codes, derived = model.code_of[:, 0], model.code_of[:, 1]
    while True:
        new_zero = zero.copy()
        new_zero[parts[zero[wholes]]] = True
        new_zero[codes[zero[derived]]] = True
        new_full = full.copy()
        new_full[parts[full[wholes]]] = True
        if (new_zero == zero).all() and (new_full == full).all():
            return (zero | full) & masked
        zero, full = new_zero, new_full


def _part_pairs(part_group: np.ndarray, total_row: np.ndarray) -> np.ndarray:
    """(part row, total row) of one additive relation."""
    parts = np.flatnonzero(part_group >= 0)
    totals = total_row[part_group[parts]]
    keep = totals >= 0
    return np.stack([parts[keep], totals[keep]], axis=1)


class _Triplets:
    """A sparse matrix built one block of constraints at a time."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.count = 0

    def add(self, constraint: np.ndarray, column: np.ndarray, coef: np.ndarray) -> None:
        """Entries (constraint id relative to this block, column, coefficient)."""
        if len(constraint) == 0:
            return
        self.rows.append(self.count + constraint)
        self.cols.append(column)
        self.data.append(np.broadcast_to(coef, column.shape).astype(float))
        self.count += int(constraint.max()) + 1

    def add_rows(self, columns: np.ndarray, coefs: np.ndarray) -> None:
        """One constraint per row of `columns` (k columns each, coefficients `coefs`)."""
        if len(columns) == 0:
            return
        k = columns.shape[1]
        ids = np.repeat(np.arange(len(columns)), k)
        self.add(ids, columns.ravel(), np.tile(coefs, len(columns)))

    def matrix(self, width: int) -> sparse.csr_matrix:
        from scipy import sparse

        if not self.rows:
            return sparse.csr_matrix((0, width))
        return sparse.csr_matrix(
            (np.concatenate(self.data), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.count, width),
        )


def _additive(equal: _Triplets, part_group: np.ndarray, total_row: np.ndarray, size: int):
    """Parts minus total = 0, for numerators and for denominators."""
    parts = np.flatnonzero(part_group >= 0)
    groups = part_group[parts]
    keep = total_row[groups] >= 0
    parts, groups = parts[keep], groups[keep]
    with_total = np.flatnonzero(total_row >= 0)
    for offset in (0, size):  # numerators, then denominators
        ids = np.concatenate([groups, with_total])
        columns = np.concatenate([offset + parts, offset + total_row[with_total]])
        coefs = np.concatenate([np.ones(len(parts)), -np.ones(len(with_total))])
        _, dense = np.unique(ids, return_inverse=True)
        equal.add(dense, columns, coefs)


def _lists(frame: pd.DataFrame, equal: _Triplets, at_most: _Triplets, size: int) -> np.ndarray:
    """Shared denominators of a list's codes and derived indicators; derived <= sum of codes.

    Returns the (code row, derived row) pairs: a derived indicator at 0 says its codes are 0.
    """
    catalog = load_catalog()
    source_of = {q.colonne: q.colonne for q in catalog.questions if q.kind == "liste"}
    source_of.update({d.nom: d.source for d in catalog.derived})
    source = frame["indicateur"].map(source_of)
    listed = source.notna().to_numpy()
    pairs: list[tuple[int, int]] = []
    if not listed.any():
        return np.zeros((0, 2), dtype=int)
    place = ["annee", "niveau", "perimetre", "type"]
    keyed = frame.loc[listed, place].assign(_source=source[listed].to_numpy())
    group = keyed.groupby([*place, "_source"], sort=False).ngroup().to_numpy()
    rows = np.flatnonzero(listed)
    # every row of a group has the denominator of the group's first row
    first = pd.Series(rows).groupby(group).transform("first").to_numpy()
    other = rows != first
    at = np.stack([size + rows[other], size + first[other]], axis=1)
    equal.add_rows(at, np.array([1.0, -1.0]))
    position = {key: i for i, key in enumerate(zip(*[frame[k] for k in KEYS], strict=True))}

    def row_of(key: tuple) -> int | None:
        return position.get(key)

    derived = {d.nom: d for d in catalog.derived}
    lists = {q.colonne: q for q in catalog.questions if q.kind == "liste"}
    heads = frame.loc[listed & frame["modalite"].eq("").to_numpy(), KEYS]
    for key in heads.itertuples(index=False, name=None):
        annee, niveau, perimetre, indicateur, _, kind = key
        if indicateur in derived:
            item = derived[indicateur]
            here = row_of(key)
            codes = [row_of((annee, niveau, perimetre, item.source, c, kind)) for c in item.codes]
            codes = [c for c in codes if c is not None]
            for code in codes:  # n_code - n_derived <= 0
                at_most.add_rows(np.array([[code, here]]), np.array([1.0, -1.0]))
                pairs.append((code, here))
            if codes:  # n_derived - sum n_codes <= 0
                at_most.add(
                    np.zeros(len(codes) + 1, dtype=int),
                    np.array([here, *codes]),
                    np.array([1.0] + [-1.0] * len(codes)),
                )
    # every structure counted in a list's denominator cited at least one code
    for column in lists:
        rows_q = np.flatnonzero((frame["indicateur"] == column).to_numpy())
        if len(rows_q) == 0:
            continue
        ids = frame.loc[rows_q, place].groupby(place, sort=False).ngroup().to_numpy()
        groups, first = np.unique(ids, return_index=True)
        at_most.add(  # d - sum of the codes' n <= 0
            np.concatenate([groups, ids]),
            np.concatenate([size + rows_q[first], rows_q]),
            np.concatenate([np.ones(len(groups)), -np.ones(len(rows_q))]),
        )
    return np.array(pairs, dtype=int).reshape(-1, 2)
