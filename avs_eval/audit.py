"""The secrecy audit: what an attacker holding every published figure can infer of a masked one.

Masking the cells under the threshold, then one more cell wherever a single masked
part sits beside its shown total (`secrecy._protect`), does not stop a reader with a
solver: a part equal to its whole (a territory with no structure in a QPV publishes
itself as « Hors QPV »), several shown parts that leave the masked ones no room (a
rest of 5 respondents for two masked territories of 2 and 3 structures: both 100 %),
a total whose parts are all masked beside shown siblings. Statistical offices audit a
suppression pattern instead (τ-ARGUS, R's sdcTable): for each masked cell, the
interval an attacker can infer from everything published, by linear programming;
more cells are masked until no interval is too narrow. This module does the same.

The attacker's knowledge (`audit_model.Model`) is every relation that holds between
the cells of the reports' table, whatever is masked (additive relations, the register,
the codes of list questions).

Published cells are constants. A masked cell's numerator and denominator are both
unknowns (its file shows neither), as are the rows no file publishes (blank `qpv`,
the modalities of the QPV and CS / EVS splits), bounded by the register: a
denominator is at most its perimeter's structures. The cells audited are the
sensitive ones, under the threshold (`secret`), as τ-ARGUS and sdcTable audit the
primary cells: the cells masked to protect them are no secret themselves. An audited
cell passes when its numerator can take values at least `protection` apart (or as
far apart as its denominator allows) and its share is not forced to 100 % (some
consistent table has n < d); a width of one or more also means not forced to 0 %.
Bounds are those of the linear relaxation rounded inwards to whole structures, as
τ-ARGUS computes them, found from witness tables (each a point of the relaxation, so
a witnessed width is never wider than the attacker's).

Only paired counts are left out: published changes give their p-value in classes
(`evolutions.published_form`), which no longer decode them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from avs_eval.audit_model import KEYS, Model, build_model, implied
from avs_eval.formatting import counted, plural

# the attacker's knowledge (`audit_model`), where the audit's users find it
__all__ = ["KEYS", "Model", "build_model", "implied"]
# LP values are floats: a bound within this of an integer is that integer.
TOLERANCE = 1e-6
# LPs with random objective signs tried on unsettled cells before exact bounds: each pair
# settles most of the cells that share a total; exact bounds cost two LPs per cell.
WITNESS_ROUNDS = 6
# After the first round, `protect` looks for witnesses within this many relations of the
# failing cells (every other cell at its true value): LPs of a few hundred unknowns
# instead of a year's thousands.
NEAR = 6
# The suppression LP (`_repair`) lets the published cells within this many relations of
# the failing ones move. On the sample, 4 and 6 mask the same 139 cells, 3 masks 151 and
# 2 finds no table for some cells; on 4,000 structures in 100 territories, 4 takes 27 s
# where 6 takes 33 s and the whole table 152 s. Where it finds no table (at level 2 on
# the sample), the whole table is tried before masking neighbours one by one.
REPAIR_NEAR = 4


@dataclass(frozen=True)
class Interval:
    """What an attacker infers of one masked cell."""

    cell: tuple  # KEYS
    numerateur: tuple[int, int]
    denominateur: tuple[int, int] | None = None  # None: not computed

    @property
    def width(self) -> int:
        return self.numerateur[1] - self.numerateur[0]


@dataclass
class AuditResult:
    """The audit's figures, for the internal edition and the journal.

    `added`: the cells the audit masked beyond primary and simple secondary secrecy;
    `exposed`: masked cells still too narrow (the audit failed: nothing may be
    published); `narrowest`: the narrowest numerator interval of all audited cells.
    """

    protection: int
    cells_audited: int = 0
    suppressions_added: int = 0
    added: list[tuple] = field(default_factory=list)
    exposed: list[tuple] = field(default_factory=list)
    narrowest: Interval | None = None
    seconds: float = 0.0
    linear_programs: int = 0

    @property
    def ok(self) -> bool:
        return not self.exposed

    def __deepcopy__(self, memo: dict) -> AuditResult:
        """The same object: it rides in the masked table's `attrs`, which pandas deep-copies
        at every slice and operation; complete once `protect` returns (never changed
        after), it is shared, not copied (copying it was two thirds of a warm report)."""
        return self

    def summary(self) -> str:
        """One French clause for the journal and the internal edition (`secrecy.summary`)."""

        audited, added = self.cells_audited, self.suppressions_added
        text = (
            f"audit du secret, toutes années : {counted(audited, 'part')} sous le seuil "
            f"{plural(audited, 'vérifiée')}, {counted(added, 'part')} {plural(added, 'masquée')}"
            " en plus pour les protéger"
        )
        if self.narrowest is not None:
            low, high = self.narrowest.numerateur
            text += f", intervalle le plus étroit déductible : de {low} à {high}"
        if self.exposed:
            exposed = len(self.exposed)
            text += f" ; ÉCHEC : {counted(exposed, 'part')} encore {plural(exposed, 'déductible')}"
        return text + f" (niveau de protection {self.protection})"


# --- the audit ------------------------------------------------------------------------
#
# The attacker the audit plays holds every published file: the numerator and the
# denominator of every shown row, the register's number of structures of every
# perimeter (the response rate's denominator, which the reports print whatever the
# secrecy), and every relation of the `Model`. A masked row's file shows neither its
# numerator nor its denominator: both are unknowns, bounded by the register
# (0 <= n <= d <= respondents <= structures).


class _Problem:
    """The attacker's LP for one masking pattern.

    Variables: the numerator of every unknown row (masked, or published by no file),
    then the denominator of those whose denominator the register does not publish.
    Variable j < `count` is the numerator of `rows[j]`; `d_var[j]` is its denominator's
    variable (-1: the denominator is public).
    """

    def __init__(self, model: Model, masked: np.ndarray) -> None:
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        self.model = model
        self.programs = 0
        size = model.size
        self.rows = np.flatnonzero(masked | ~model.published)
        self.implied = implied(model, masked)[self.rows]
        count = self.count = len(self.rows)
        hidden = ~model.public_denominator[self.rows]
        self.d_var = np.full(count, -1)
        self.d_var[hidden] = count + np.arange(int(hidden.sum()))
        columns = np.concatenate([self.rows, size + self.rows[hidden]])
        width = len(columns)
        values = model.values.copy()
        values[columns] = 0.0
        low = np.zeros(width)
        high = np.full(width, np.inf)
        # a denominator is at most its perimeter's structures (the register); no
        # perimeter has more than the department, which bounds every LP
        cap = max(float(model.structures.max(initial=0)), float(model.values[size:].max(initial=0)))
        structures = model.structures[self.rows[hidden]]
        high[count:] = np.where(structures >= 0, structures, cap)
        blocks = []
        for matrix, equality in ((model.equal, True), (model.at_most, False)):
            a = matrix[:, columns].tocsr()
            b = -(matrix @ values)
            per_row = np.diff(a.indptr)
            single = a[per_row == 1].tocoo()  # one unknown: a bound, not a constraint
            bound = b[per_row == 1][single.row] / single.data
            upper = (single.data > 0) | equality
            lower = (single.data < 0) | equality
            np.minimum.at(high, single.col[upper], bound[upper])
            np.maximum.at(low, single.col[lower], bound[lower])
            several = per_row > 1
            blocks.append((a[several], b[several]))
        (self.a_eq, self.b_eq), (self.a_ub, self.b_ub) = blocks
        self.low, self.high = low, high
        self.truth = model.values[columns]  # the true table: feasible, a witness for all
        n_eq = self.a_eq.shape[0]
        stacked = sparse.vstack([self.a_eq, self.a_ub]).tocsr()
        stacked.data = np.ones_like(stacked.data)
        self.by_constraint, self.by_variable = stacked, stacked.tocsc()
        graph = sparse.bmat([[None, stacked], [stacked.T, None]], format="csr")
        _, label = connected_components(graph, directed=False)
        n_cons = stacked.shape[0]
        self.label = label[n_cons:]  # per variable
        constraint_label = label[:n_cons]
        self.members = pd.Series(np.arange(width)).groupby(self.label).indices
        by_constraint = pd.Series(np.arange(n_cons)).groupby(constraint_label).indices
        empty = np.array([], dtype=int)
        self.constraints = {
            lab: (c[c < n_eq], c[c >= n_eq] - n_eq)
            for lab, c in ((lab, by_constraint.get(lab, empty)) for lab in self.members)
        }

    @property
    def width(self) -> int:
        return len(self.label)

    def alone(self) -> np.ndarray:
        """Numerators in no relation with another unknown: their bounds are their interval."""
        sizes = np.bincount(self.label)
        relations = np.zeros(len(sizes), dtype=int)
        for lab, (eq, ub) in self.constraints.items():
            relations[lab] = len(eq) + len(ub)
        label = self.label[: self.count]
        return (sizes[label] == 1) & (relations[label] == 0)

    def denominators(self, solution: np.ndarray) -> np.ndarray:
        """Each numerator variable's denominator in a full `solution` (NaN outside it)."""
        known = self.model.values[self.model.size + self.rows]
        return np.where(self.d_var >= 0, solution[np.maximum(self.d_var, 0)], known)

    def near(self, variables: np.ndarray, radius: int) -> np.ndarray:
        """The variables within `radius` constraints of `variables` (sorted)."""
        seen = np.zeros(self.width, dtype=bool)
        seen[variables] = True
        frontier = np.unique(variables)
        for _ in range(radius):
            constraints = np.unique(self.by_variable[:, frontier].indices)
            reached = np.unique(self.by_constraint[constraints].indices)
            frontier = reached[~seen[reached]]
            if not len(frontier):
                break
            seen[frontier] = True
        return np.flatnonzero(seen)

    def solve_near(self, unknowns: np.ndarray, objective: np.ndarray) -> np.ndarray:
        """Minimise `objective` over `unknowns` alone, every other variable at its true value.

        The true table is consistent with what is published, so any solution here,
        completed with the true values, is one too: a witness found in a neighbourhood
        is a witness of the whole problem, at the cost of an LP a hundred times smaller
        (it may miss room that only far-away cells give: the cell is then masked around).
        """
        fixed = self.truth.copy()
        fixed[unknowns] = 0.0
        parts = []
        for a, b in ((self.a_eq, self.b_eq), (self.a_ub, self.b_ub)):
            touching = np.unique(a[:, unknowns].tocoo().row)
            parts.append((a[touching][:, unknowns], b[touching] - a[touching] @ fixed))
        (a_eq, b_eq), (a_ub, b_ub) = parts
        return self._minimise(objective, unknowns, (a_eq, b_eq), (a_ub, b_ub))

    def solve(self, unknowns: np.ndarray, objective: np.ndarray) -> np.ndarray:
        """Minimise `objective` over the variables `unknowns` (whole components).

        Every variable is bounded (the register). The solution is a point of the linear
        relaxation: the audit rounds its bounds inwards to whole structures, as τ-ARGUS
        and sdcTable do (an attacker solving the integer program may sometimes narrow an
        interval further; the protection level is set with that margin in mind).
        """
        labels = np.unique(self.label[unknowns])
        eq = np.concatenate([self.constraints[lab][0] for lab in labels])
        ub = np.concatenate([self.constraints[lab][1] for lab in labels])
        equal = (self.a_eq[eq][:, unknowns], self.b_eq[eq])
        at_most = (self.a_ub[ub][:, unknowns], self.b_ub[ub])
        return self._minimise(objective, unknowns, equal, at_most)

    def _minimise(self, objective: np.ndarray, unknowns: np.ndarray, equal, at_most):
        """HiGHS on `objective` over `unknowns` within their bounds, with the (A, b) pairs
        `equal` (A x = b) and `at_most` (A x <= b), either possibly without rows."""
        from scipy.optimize import linprog

        (a_eq, b_eq), (a_ub, b_ub) = equal, at_most
        self.programs += 1
        result = linprog(
            objective,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=b_ub if a_ub.shape[0] else None,
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=b_eq if a_eq.shape[0] else None,
            bounds=np.stack([self.low[unknowns], self.high[unknowns]], axis=1),
            method="highs",
        )
        if result.status != 0:
            raise RuntimeError(f"audit du secret : programme linéaire en échec ({result.message})")
        return result.x


@dataclass
class _Certificate:
    """For each unknown numerator: the lowest and highest value of the witnesses found,
    and the most room any witness leaves below 100 % (d - n)."""

    low: np.ndarray
    high: np.ndarray
    room: np.ndarray
    exact: np.ndarray  # the bounds are the attacker's, not just witnessed

    def width(self) -> np.ndarray:
        return self.high - self.low


def _required(model: Model, rows: np.ndarray, protection: int) -> np.ndarray:
    """The width each cell needs: `protection`, or its denominator when smaller.

    A cell with d answering structures has a numerator between 0 and d: a width of d
    is the most a reader who learnt d could be denied, so it is all that is asked.
    """
    return np.minimum(protection, model.values[model.size + rows])


def _passes(problem: _Problem, cert: _Certificate, protection: int) -> np.ndarray:
    """Per unknown numerator: wide enough and not forced to 100 % (a width of one or more
    also means not forced to 0 %), or nothing to protect (no structure, or a published
    0 % or 100 % of its whole already says its value: `implied`)."""
    model, rows = problem.model, problem.rows
    denominators = model.values[model.size + rows]
    wide = cert.width() >= _required(model, rows, protection)
    not_full = cert.room >= 1  # some table has a share below 100 %
    return (wide & not_full) | (denominators == 0) | problem.implied


def certify(
    problem: _Problem,
    protection: int,
    stop_early: bool = False,
    start: _Certificate | None = None,
    rounds: int = WITNESS_ROUNDS,
    radius: int | None = None,
) -> _Certificate:
    """Witnesses for the audited numerators, a few LPs over all groups at once.

    The groups of related cells are independent, so one LP whose objective adds one
    term per group answers one question in every group. First all audited numerators
    are pushed down (their denominators up) then up; those not yet wide enough are
    pushed again with random signs; the rest get exact bounds, one cell per group and
    per LP. `stop_early`: skip the exact bounds (what the pushes left unsettled counts
    as failing). `start`: witnesses already found for a pattern with fewer masked cells
    (still tables consistent with this one: masking a cell only frees its value).
    `radius`: solve in the neighbourhood of the pushed cells only (`_Problem.solve_near`).
    """
    model = problem.model
    count = problem.count
    nan = np.full(count, np.nan)
    if start is None:
        cert = _Certificate(nan.copy(), nan.copy(), nan.copy(), np.zeros(count, bool))
    else:
        cert = start
    selected = model.audited[problem.rows]
    if not selected.any():
        return cert
    alone = problem.alone()
    single = selected & alone  # no relation left: its bounds are its interval
    cert.low[single] = np.ceil(problem.low[:count][single] - TOLERANCE)
    cert.high[single] = np.floor(problem.high[:count][single] + TOLERANCE)
    cert.room[single] = model.values[model.size + problem.rows[single]] - cert.low[single]
    cert.exact[single] = True
    linked = selected & ~alone

    def failing() -> np.ndarray:
        return linked & ~cert.exact & ~_passes(problem, cert, protection)

    def push(targets: np.ndarray, weights: np.ndarray, room: bool = False) -> None:
        """Solve over the groups of `targets` with these weights on their numerators
        (and, with `room`, their denominators pushed up)."""
        objective = np.zeros(problem.width)
        objective[targets] = weights
        if room:
            d = problem.d_var[targets]
            objective[d[d >= 0]] = -1.0
        solution = np.full(problem.width, np.nan)
        if radius is None:
            groups = np.isin(problem.label, np.unique(problem.label[targets]))
            unknowns = np.flatnonzero(groups)
            solution[unknowns] = problem.solve(unknowns, objective[unknowns])
        else:
            unknowns = problem.near(targets, radius)
            solution[unknowns] = problem.solve_near(unknowns, objective[unknowns])
        numerators = solution[:count]
        seen = ~np.isnan(numerators)
        # the relaxation's bounds rounded inwards to whole structures, as τ-ARGUS does
        cert.low[seen] = np.fmin(cert.low[seen], np.ceil(numerators[seen] - TOLERANCE))
        cert.high[seen] = np.fmax(cert.high[seen], np.floor(numerators[seen] + TOLERANCE))
        left = problem.denominators(solution)[seen] - numerators[seen]
        cert.room[seen] = np.fmax(cert.room[seen], np.floor(left + TOLERANCE))

    remaining = np.flatnonzero(failing())
    if len(remaining):
        push(remaining, np.ones(len(remaining)), room=True)  # down, denominators up
        push(remaining, -np.ones(len(remaining)))  # up
    # Then the unsettled ones with random signs: where parts share a fixed total, one
    # pushed up while its neighbour is pushed down shows the room both have. Seeded:
    # the same data always gives the same pattern.
    signs = np.random.default_rng(0)
    for turn in range(rounds):
        remaining = np.flatnonzero(failing())
        if not len(remaining):
            break
        if turn == 0:  # neighbours in table order pulled apart (siblings of one total)
            weights = np.where(np.arange(len(remaining)) % 2 == 0, 1.0, -1.0)
        else:
            weights = signs.choice([-1.0, 1.0], size=len(remaining))
        push(remaining, weights, room=True)
        push(remaining, -weights, room=True)
    if stop_early:
        return cert
    while True:  # exact bounds, the first unsettled cell of each group at a time
        remaining = np.flatnonzero(failing())
        if not len(remaining):
            break
        _, first = np.unique(problem.label[remaining], return_index=True)
        targets = remaining[first]
        ones = np.ones(len(targets))
        push(targets, ones)
        push(targets, -ones)
        push(targets, ones, room=True)
        cert.exact[targets] = True
    return cert


def audit(
    model: Model, masked: np.ndarray, protection: int
) -> tuple[np.ndarray, _Problem, _Certificate]:
    """The masked rows an attacker narrows below `protection` or whose share he forces."""
    masked = np.asarray(masked, dtype=bool)
    problem = _Problem(model, masked)
    cert = certify(problem, protection)
    failing = ~_passes(problem, cert, protection) & model.audited[problem.rows]
    return problem.rows[failing], problem, cert


def protect(model: Model, masked: np.ndarray, protection: int) -> tuple[np.ndarray, AuditResult]:
    """Mask more cells, at least cost, until the audit passes; the new mask and its figures.

    Each round audits the pattern (witness tables, `certify`), then asks one LP for the
    published cells to mask so that every failing cell gets its room at once (`_repair`:
    the small cells first), and adds that LP's table to the witnesses. Where no table
    gives them all their room, each failing cell gets its cheapest neighbour masked (the
    published cell of one of its relations with the smallest denominator), round after
    round, until nothing fails or no neighbour is left to mask (the cell stays
    `exposed`: the audit fails). Witnesses carry over from round to round: masking more
    only frees values, so a table consistent with the old pattern is consistent with
    the new; after the first round only the failing cells are pushed again, within
    `NEAR` relations of them. On the sample (level 1), two rounds and eleven LPs instead
    of 57 rounds of one neighbour each, and 139 cells masked in addition instead of 316.
    """
    start = time.perf_counter()
    masked = np.asarray(masked, dtype=bool).copy()
    initial = masked.copy()
    incidence = _incidence(model)
    exposed: list[int] = []
    programs = 0
    # Witnesses found so far, per row. Masking more only frees values: a table that was
    # consistent with what was published stays so, and a passing cell keeps passing.
    # Each round only the failing cells are pushed again.
    witnessed = _Certificate(*(np.full(model.size, np.nan) for _ in range(3)), np.zeros(0))
    first = True
    previous: list[int] = []  # the cells failing the round before
    while True:
        problem = _Problem(model, masked)
        rows = problem.rows
        start_cert = _Certificate(
            witnessed.low[rows].copy(),
            witnessed.high[rows].copy(),
            witnessed.room[rows].copy(),
            np.zeros(problem.count, bool),
        )
        radius = None if first else NEAR
        cert = certify(
            problem, protection, stop_early=True, start=start_cert, rounds=3, radius=radius
        )
        first = False
        programs += problem.programs
        witnessed.low[rows], witnessed.high[rows], witnessed.room[rows] = (
            cert.low,
            cert.high,
            cert.room,
        )
        audited = model.audited[rows]
        # the cells already known to be exposed are asked for no more
        failing_now = audited & ~_passes(problem, cert, protection) & ~np.isin(rows, exposed)
        failing = [int(r) for r in rows[failing_now]]
        if not failing:
            break
        narrow = cert.width()[failing_now] < _required(model, rows[failing_now], protection)
        full = ~(cert.room[failing_now] >= 1)
        repaired = None
        for radius in (REPAIR_NEAR, None):  # the whole table when the neighbourhood has no room
            repaired = _repair(
                model,
                masked,
                rows[failing_now],
                narrow,
                full,
                (cert.low[failing_now], cert.high[failing_now]),
                protection,
                radius,
            )
            programs += 1
            if repaired is not None:
                break
        if repaired is not None and (len(repaired[0]) or failing != previous):
            masked[repaired[0]] = True
            _fold(witnessed, repaired[1], model, masked)
            previous = failing
            continue
        previous = failing
        chosen: dict[int, int] = {}
        for row in failing:
            candidate = _cheapest_neighbour(model, incidence, masked, row)
            if candidate is None:
                exposed.append(row)
                continue
            chosen[row] = candidate
        if not chosen:
            break
        masked[np.array(sorted(set(chosen.values())))] = True
    added = np.flatnonzero(masked & ~initial)
    labels = model.labels
    result = AuditResult(
        protection=protection,
        cells_audited=int((masked & model.audited).sum()),
        suppressions_added=len(added),
        added=[tuple(labels.iloc[r]) for r in added],
        exposed=[tuple(labels.iloc[r]) for r in sorted(set(exposed))],
    )
    result.narrowest = _narrowest(model, masked, witnessed)
    result.linear_programs = programs
    result.seconds = time.perf_counter() - start
    return masked, result


def _fold(witnessed: _Certificate, table: np.ndarray, model: Model, masked: np.ndarray) -> None:
    """Add a table consistent with the pattern `masked` to the witnesses of its unknown rows."""
    size = model.size
    rows = np.flatnonzero(masked | ~model.published)
    n = table[rows]
    d = table[size + rows]
    witnessed.low[rows] = np.fmin(witnessed.low[rows], np.ceil(n - TOLERANCE))
    witnessed.high[rows] = np.fmax(witnessed.high[rows], np.floor(n + TOLERANCE))
    witnessed.room[rows] = np.fmax(witnessed.room[rows], np.floor(d - n + TOLERANCE))


def _incidence(model: Model) -> tuple:
    """Constraint x row incidence (a row is in a constraint by its numerator or denominator),
    by constraint (CSR) and by row (CSC)."""
    from scipy import sparse

    stacked = sparse.vstack([model.equal, model.at_most]).tocsr()
    size = model.size
    by_row = (abs(stacked[:, :size]) + abs(stacked[:, size:])).tocsr()
    by_row.data = np.ones_like(by_row.data)
    return by_row, by_row.tocsc()


def _cheapest_neighbour(model: Model, incidence, masked: np.ndarray, row: int) -> int | None:
    """The cell to mask for `row`: a published one in a relation with it, else with one of
    the masked cells related to it, and so on outwards; the smallest denominator first.

    `incidence` is (by constraint, by row) of `_incidence`. A cell with no structure is
    never chosen: its value is known (0) whether it is masked or not.
    """
    by_constraint, by_row = incidence
    candidate = model.published & ~masked & (model.values[model.size :] > 0)
    seen = np.zeros(model.size, dtype=bool)
    seen[row] = True
    frontier = np.array([row])
    while len(frontier):
        constraints = np.unique(by_row[:, frontier].indices)
        near = np.unique(by_constraint[constraints].indices)
        near = near[~seen[near]]
        seen[near] = True
        found = near[candidate[near]]
        if len(found):
            order = np.lexsort((found, model.cost[found]))
            return int(found[order[0]])
        frontier = near[masked[near] | ~model.published[near]]
    return None


def _narrowest(model: Model, masked: np.ndarray, witnessed: _Certificate) -> Interval | None:
    """The narrowest exact interval: cells in order of their witnessed width, until no
    witnessed width can be narrower than the best exact one found (a witnessed width is
    never wider than the true one). `witnessed`: per row, those `protect` found."""
    problem = _Problem(model, masked)
    if not problem.count:
        return None
    widths = witnessed.high[problem.rows] - witnessed.low[problem.rows]
    denominators = model.values[model.size + problem.rows]
    valid = model.audited[problem.rows] & (denominators > 0) & ~problem.implied & ~np.isnan(widths)
    widths = np.where(valid, widths, np.inf)
    order = np.argsort(widths, kind="stable")
    best: Interval | None = None
    for unknown in order:
        if not np.isfinite(widths[unknown]):
            break
        if best is not None and widths[unknown] >= best.width:
            break
        interval = _exact(problem, int(unknown))
        if best is None or interval.width < best.width:
            best = interval
    return best


def _bounds(problem: _Problem, variable: int) -> tuple[int, int | float]:
    """The attacker's lowest and highest value of one variable (two LPs)."""
    members = problem.members[problem.label[variable]]
    position = int(np.searchsorted(members, variable))
    values = []
    for sign in (1.0, -1.0):
        objective = np.zeros(len(members))
        objective[position] = sign
        values.append(problem.solve(members, objective)[position])
    return int(np.ceil(values[0] - TOLERANCE)), _int_or_inf(np.floor(values[1] + TOLERANCE))


def _exact(problem: _Problem, unknown: int) -> Interval:
    model = problem.model
    row = int(problem.rows[unknown])
    if problem.alone()[unknown]:
        numerator = (
            int(np.ceil(problem.low[unknown] - TOLERANCE)),
            _int_or_inf(np.floor(problem.high[unknown] + TOLERANCE)),
        )
    else:
        numerator = _bounds(problem, unknown)
    d_var = int(problem.d_var[unknown])
    if d_var >= 0:
        denominator = _bounds(problem, d_var)
    else:
        d = int(model.values[model.size + row])
        denominator = (d, d)
    return Interval(tuple(model.labels.iloc[row]), numerator, denominator)


def _int_or_inf(x: float):
    return int(x) if np.isfinite(x) else x


def intervals(model: Model, masked: np.ndarray) -> list[Interval]:
    """Every unknown row's exact interval for the audit's attacker (two LPs per bound)."""
    problem = _Problem(model, np.asarray(masked, dtype=bool))
    return [_exact(problem, j) for j in range(problem.count)]


def _repair(
    model: Model,
    masked: np.ndarray,
    failing: np.ndarray,
    narrow: np.ndarray,
    full: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray],
    protection: int,
    radius: int | None = REPAIR_NEAR,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The published cells to mask so that every `failing` row gets its room, at least cost.

    The suppression LP of cell-suppression practice (τ-ARGUS's modular and optimal
    methods): every published figure may move away from its true value at a price (its
    denominator per structure moved: small cells are lost first); each failing cell must
    move by its required width, down from 100 % (or up from 0 %), in one table that
    keeps every relation. The cells that moved are the ones to mask, and that table is a
    witness that the new pattern protects the failing cells. One LP for every failing
    cell at once, where masking a neighbour per cell and per round took dozens of rounds
    for a response rate (every indicator of its perimeter pins it). Returns (rows to
    mask, the witness table), or None when no table satisfies them all. `radius`: None
    lets every published cell move.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    size = model.size
    values = model.values
    # Only the cells within `radius` relations of the failing ones move; the others keep
    # their true values (the table stays consistent: a witness all the same), which keeps
    # the LP to a neighbourhood of a table that may hold a hundred territories.
    if radius is None:
        near = np.ones(size, dtype=bool)
    else:
        stacked = sparse.vstack([model.equal, model.at_most]).tocsr()
        near = _around(stacked, np.concatenate([failing, size + failing]), radius)
        near = near[:size] | near[size:]  # a row's numerator and denominator go together
    kept = np.concatenate([near, near])
    # the figures that may move, at a price: published, shown, with structures, near;
    # they take the bounds of an unknown
    movable = model.published & ~masked & (values[size:] > 0) & near
    rows = np.flatnonzero(movable)
    own = rows[~model.public_denominator[rows]]  # a register's denominator never moves
    columns = np.concatenate([rows, size + own])
    owner = np.concatenate([rows, own])
    low, high = _unknown_bounds(model, masked | ~model.published | movable)
    full = failing[full]
    _aim(model, failing[narrow], (seen[0][narrow], seen[1][narrow]), protection, low, high)
    # the LP over the kept columns, the others at their true values
    variables = np.flatnonzero(kept)
    position = np.full(2 * size, -1)
    position[variables] = np.arange(len(variables))
    fixed = np.where(kept, 0.0, values)
    blocks = []
    for matrix in (model.equal, model.at_most):
        touching = np.diff(matrix[:, variables].tocsr().indptr) > 0
        blocks.append((matrix[touching][:, variables], -(matrix[touching] @ fixed)))
    (a_eq, b_eq), (a_ub, b_ub) = blocks
    width = len(variables)
    extra = len(columns)
    # x_j = true_j + up_j - down_j for every movable column
    link = sparse.csr_matrix(
        (np.ones(extra), (np.arange(extra), position[columns])), shape=(extra, width)
    )
    deviation = sparse.hstack([-sparse.eye(extra), sparse.eye(extra)])
    a_eq = sparse.vstack(
        [sparse.hstack([a_eq, sparse.csr_matrix((a_eq.shape[0], 2 * extra))]),
         sparse.hstack([link, deviation])]
    ).tocsr()  # fmt: skip
    b_eq = np.concatenate([b_eq, values[columns]])
    room = sparse.csr_matrix(
        (
            np.tile([1.0, -1.0], len(full)),
            (
                np.repeat(np.arange(len(full)), 2),
                position[np.stack([full, size + full], 1)].ravel(),
            ),
        ),
        shape=(len(full), width),
    )
    a_ub = sparse.vstack([a_ub, room])
    a_ub = sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], 2 * extra))]).tocsr()
    b_ub = np.concatenate([b_ub, -np.ones(len(full))])
    price = np.tile(model.cost[owner], 2)
    objective = np.concatenate([np.zeros(width), price])
    bounds = np.concatenate(
        [
            np.stack([low[variables], high[variables]], 1),
            np.stack([np.zeros(2 * extra), np.full(2 * extra, np.inf)], 1),
        ]
    )
    result = linprog(
        objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if result.status != 0:
        return None
    moved = result.x[width : width + extra] + result.x[width + extra :]
    chosen = np.unique(owner[moved > TOLERANCE])
    table = values.copy()
    table[variables] = result.x[:width]
    return chosen, table


def _unknown_bounds(model: Model, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the bounds of the suppression LP: the true value, or for an `unknown`
    row a numerator of 0 or more and a denominator of at most its perimeter's structures
    (the register's denominators stay known)."""
    size = model.size
    values = model.values
    low = values.copy()
    high = values.copy()
    cap = max(float(model.structures.max(initial=0)), float(values[size:].max(initial=0)))
    low[:size][unknown] = 0.0
    high[:size][unknown] = np.inf
    hidden = unknown & ~model.public_denominator
    low[size:][hidden] = 0.0
    high[size:][hidden] = np.where(model.structures[hidden] >= 0, model.structures[hidden], cap)
    return low, high


def _aim(
    model: Model,
    failing: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray],
    protection: int,
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """Bound each narrow `failing` row's numerator away from the witnesses `seen` (lowest,
    highest) by the width it needs: down from the highest, else down to 0 (the rest of
    the width upwards next round), else up from 0. In place, on `low` and `high`."""
    n = model.values[failing]
    required = np.minimum(protection, model.values[model.size + failing])
    lowest = np.fmin(np.where(np.isnan(seen[0]), n, seen[0]), n)
    highest = np.fmax(np.where(np.isnan(seen[1]), n, seen[1]), n)
    ceiling = np.where(highest >= required, highest - required, 0.0)
    down = (highest >= required) | (lowest > 0)
    high[failing[down]] = np.minimum(high[failing[down]], ceiling[down])
    low[failing[~down]] = np.maximum(low[failing[~down]], lowest[~down] + required[~down])


def _around(stacked, columns: np.ndarray, radius: int) -> np.ndarray:
    """Per column of `stacked` (relations x columns): within `radius` relations of `columns`."""
    by_column = stacked.tocsc()
    seen = np.zeros(stacked.shape[1], dtype=bool)
    seen[columns] = True
    frontier = np.unique(columns)
    for _ in range(radius):
        relations = np.unique(by_column[:, frontier].indices)
        reached = np.unique(stacked[relations].indices)
        frontier = reached[~seen[reached]]
        if not len(frontier):
            break
        seen[frontier] = True
    return seen
