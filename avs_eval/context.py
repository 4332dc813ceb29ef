"""The data of a batch, computed once: validated data and the masked indicator table.

Kept apart from `report` (which draws charts) so that the batch's parent process
can validate and compute without importing matplotlib and seaborn, which only the
kernels need: 1.5 s off every batch.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from avs_eval import indicators, paths, secrecy
from avs_eval.caches import Recent, stamp
from avs_eval.config import secrecy_threshold
from avs_eval.loading import Dataset, load
from avs_eval.output import write_atomic
from avs_eval.reading import ReadFailure
from avs_eval.schema import ALL_PERIMETER
from avs_eval.sources import DataSource


@dataclass
class Context:
    """A validated data set with its full masked indicator table (all levels, CS/EVS)."""

    dataset: Dataset
    min_effectif: int
    table: pd.DataFrame  # contract columns + `type` (ALL_PERIMETER, "CS", "EVS") + `masque`
    population: pd.DataFrame
    key: tuple = field(default_factory=tuple)
    # the data's date as a batch knows it (`freshness.data_days`): the same bytes copied
    # again keep it; None outside a batch (the files' modification time then)
    data_day: date | None = None
    _evolutions: dict = field(default_factory=dict, repr=False)
    _backgrounds: dict = field(default_factory=dict, repr=False)
    _published_evolutions: dict = field(default_factory=dict, repr=False)

    @property
    def years(self) -> list[int]:
        return self.dataset.years

    @property
    def collectivite_of(self) -> dict[str, str]:
        return self.dataset.collectivites

    @cached_property
    def _positions(self) -> dict[tuple, int]:
        keys = ["annee", "niveau", "perimetre", "indicateur", "modalite", "type"]
        columns = [self.table[k].tolist() for k in keys]
        return {key: i for i, key in enumerate(zip(*columns, strict=True))}

    def row(self, annee, niveau, perimetre, indicateur, modalite="", type=ALL_PERIMETER):
        """One row of the masked table, or None: a dictionary look-up, not a scan."""
        position = self._positions.get((annee, niveau, perimetre, indicateur, modalite, type))
        return None if position is None else self.table.iloc[position]

    def evolutions(self, annee: int) -> pd.DataFrame:
        """Changes since each question's baseline, for year `annee` (internal, with flags)."""
        cached = self._evolutions.get(annee)
        if cached is None:
            from avs_eval import evolutions

            cached = evolutions.compute(
                self.dataset, annee, min_effectif=self.min_effectif, table=self.table
            )
            self._evolutions[annee] = cached
        return cached

    def background(self, fond_de_carte="", champ_insee="code", communes_territoires=""):
        """The map background joined to this register (`geographie.Background`), built once.

        The batch builds the one its reports use before it hands the Context to the
        kernels, so that no kernel reads or unions the shapes again.
        """
        key = (str(fond_de_carte or ""), champ_insee or "code", str(communes_territoires or ""))
        if key not in self._backgrounds:
            from avs_eval import geographie

            self._backgrounds[key] = geographie.prepare(self, *key)
        return self._backgrounds[key]

    def published_evolutions(self, annee: int) -> pd.DataFrame:
        """The same, as partners may read them: masked where a share is, no paired counts."""
        cached = self._published_evolutions.get(annee)
        if cached is None:  # asked once per headline figure by every report
            from avs_eval import evolutions

            cached = evolutions.published(self.evolutions(annee), self.table)
            self._published_evolutions[annee] = cached
        return cached

    @cached_property
    def _groups(self) -> dict[str, dict]:
        """Row positions by indicator and by perimeter, built once per kernel.

        A report asks for a few hundred slices of a table that has 125,000 rows at 100
        territories; comparing whole string columns for each one made a report's time
        grow with the number of territories.
        """
        return {
            "indicateur": self.table.groupby("indicateur", sort=False).indices,
            "perimetre": self.table.groupby(["niveau", "perimetre"], sort=False).indices,
        }

    def rows(self, **criteria) -> pd.DataFrame:
        """Rows of the masked table matching every `column=value` (type defaults to all)."""
        criteria.setdefault("type", ALL_PERIMETER)
        table = self.table
        if "indicateur" in criteria:
            positions = self._groups["indicateur"].get(criteria.pop("indicateur"), [])
            table = table.iloc[positions]
        mask = pd.Series(True, index=table.index)
        for column, value in criteria.items():
            mask &= table[column] == value
        return table[mask]

    def perimeter(self, niveau: str, perimetre: str) -> pd.DataFrame:
        """Every row of one perimeter (all years, indicators and types)."""
        positions = self._groups["perimetre"].get((niveau, perimetre), [])
        return self.table.iloc[positions]


def source_key(source: DataSource, min_effectif: int) -> tuple:
    """What a Context is kept by: its files' paths, dates and sizes, and its threshold
    (the explorer compares it to know whether its data changed on disk)."""
    stamps = []
    for file in source.files:
        try:
            stamps.append(stamp(file))
        except OSError:  # missing or unreadable: said as the reader says it, with the file
            raise ReadFailure(paths.display_path(file), "fichier introuvable") from None
    return (tuple(stamps), min_effectif)


# The last Context built, by its files' stamps and its threshold: a warm kernel runs
# report after report on the same data, and one data set at a time.
_CACHE: Recent[Context] = Recent(1)


def build_context(source: DataSource, min_effectif: int | None = None) -> Context:
    """Load, validate and compute everything a report needs; reuse it when possible.

    In a warm kernel the same files give the same Context without reloading; in a
    batch the parent process computes it once and points every kernel at a pickle.
    """
    # None or 0 (a notebook's default): the threshold of parameters/config.yaml
    threshold = secrecy_threshold(min_effectif)
    key = source_key(source, threshold)
    return _CACHE.get(key, lambda: _shared(key) or _compute(source, threshold, key))


def _shared(key: tuple) -> Context | None:
    """The batch's Context, when the environment points at its pickle and it fits `key`."""
    shared = os.environ.get(paths.CONTEXT_ENV)
    if shared and Path(shared).exists():
        with open(shared, "rb") as handle:
            context = pickle.load(handle)
        if context.key == key:
            return context
    return None


def _compute(source: DataSource, threshold: int, key: tuple) -> Context:
    dataset = load(source)
    years = dataset.years  # years with answers: an unsurveyed year is not a 0 % year
    table = masked_table(unmasked_table(dataset), threshold, dataset.collectivites)
    context = Context(dataset, threshold, table, indicators.population(dataset, years), key)
    context.evolutions(max(years))  # here, once per batch: the reports' kernels then skip SciPy
    return context


def unmasked_table(dataset: Dataset) -> pd.DataFrame:
    """Every indicator row the reports need, before secrecy: all structures, then CS and EVS.

    Years with answers only (an unsurveyed year is not a 0 % year); the QPV split of
    the department and of each territory, with the rows of a blank `qpv` that
    secrecy needs as the third part of each split.
    """
    options = {"annees": dataset.years, "with_unknown_qpv": True}
    plain = indicators.compute(dataset, qpv_by_territory=True, **options)
    split = indicators.compute(dataset, by_type=True, **options)
    return pd.concat([plain.assign(type=ALL_PERIMETER), split], ignore_index=True)


def masked_table(
    unmasked: pd.DataFrame, threshold: int, collectivites: dict, relations: list | None = None
) -> pd.DataFrame:
    """`secret` below `threshold`, primary and secondary secrecy, blank-`qpv` rows dropped.

    `relations`: `secrecy.additive_relations(unmasked, collectivites)`, kept by a caller
    that masks the same table for several thresholds.
    """
    table = unmasked.assign(secret=unmasked["denominateur"].to_numpy() < threshold)
    table = secrecy.apply(table, collectivites, relations)
    unknown = table["perimetre"].str.endswith(indicators.QPV_UNKNOWN)
    return table[~unknown].reset_index(drop=True)


def save_context(context: Context, path: Path) -> None:
    write_atomic(path, pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL))


def slug(name: str) -> str:
    """File-system name of a territory: "Val d'Yzeron" -> "val-d-yzeron" (`paths.slug`)."""
    return paths.slug(name)
