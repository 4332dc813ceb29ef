"""A report's numbers beside the indicator table, and the tables it writes to disk.

What the masked indicator table does not hold: the register's offer year by year
(action 4: approved structures, openings, closures) and the mean number of choices
cited in a list question. The reports turn them into page blocks; they show them only
where secrecy allows. And the tables written beside a report (`indicateurs.csv`,
`evolutions.csv`, `indicateurs.xlsx`): whole in the internal edition, published (every
masked figure emptied) in the partners' one; and, beside the synthesis, the follow-up
of the actions (`suivi_actions.csv`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from avs_eval import indicators, secrecy
from avs_eval.schema import ALL_PERIMETER, LEVELS

if TYPE_CHECKING:
    from avs_eval.catalog import Question
    from avs_eval.context import Context

OFFER_KINDS = ("CS", "EVS")


def offer_counts(
    structures: pd.DataFrame, years: list[int], niveau: str, perimetre: str
) -> pd.DataFrame:
    """Approved structures, openings and closures of a perimeter, per year and kind.

    One row per year (index `annee`); for each kind, three columns: `<kind> agréés`
    (approved at some point of the year), `<kind> ouverts` (approved from that year),
    `<kind> fermés` (whose approval ended the year before). An empty `annee_debut` or
    `annee_fin` means approved since or until forever.
    """
    if niveau in ("territoire", "collectivite"):
        structures = structures[structures[niveau] == perimetre]
    records = []
    for year in years:
        record = {"annee": year}
        for kind in OFFER_KINDS:
            group = structures[structures["type"] == kind]
            debut, fin = group["annee_debut"], group["annee_fin"]
            approved = (debut.isna() | (debut <= year)) & (fin.isna() | (fin >= year))
            record[f"{kind} agréés"] = int(approved.sum())
            record[f"{kind} ouverts"] = int((debut == year).sum())
            record[f"{kind} fermés"] = int((fin == year - 1).sum())
        records.append(record)
    columns = [f"{kind} {what}" for kind in OFFER_KINDS for what in ("agréés", "ouverts", "fermés")]
    return pd.DataFrame.from_records(records, index="annee", columns=["annee", *columns])


def mean_choices(
    respondents: pd.DataFrame, question: Question, niveau: str, perimetre: str
) -> float:
    """How many choices a respondent of a perimeter cites on average in a list question.

    Among those who answered it; an exclusive choice (« aucun ») is not counted.
    """
    here = respondents[respondents[niveau] == perimetre]
    codes = [m.code for m in question.modalites if not m.exclusive]
    cells = here[question.colonne].fillna("")
    counts = cells.map(lambda cell: sum(code in codes for code in str(cell).split(";") if code))
    return counts[cells != ""].mean()


def write_report_tables(
    folder: Path,
    context: Context,
    table: pd.DataFrame,
    changes: pd.DataFrame,
    annee: int,
    interne: bool,
) -> None:
    """Write a report's tables into its folder, as its edition allows.

    `table` and `changes` are the report's rows (its perimeters) of the masked table and
    of the changes; only the contract's levels up to `annee` are written (no split
    inside a territory). The partners' edition writes them published: masked figures
    empty with `secret` = True, no paired count.
    """
    from avs_eval import evolutions as evolution_tables
    from avs_eval.excel import write_indicators
    from avs_eval.tableur import POINTS_COLUMNS, SHARE_COLUMNS, write_published_csv

    table = table[
        (table["type"] == ALL_PERIMETER) & (table["annee"] <= annee) & table["niveau"].isin(LEVELS)
    ]
    if interne:
        shown, shown_changes = table, changes
    else:
        shown = secrecy.published(table)
        shown_changes = evolution_tables.published(changes, context.table)
    # partners read changes in whole points and p-values in classes, never decodable
    # into paired counts (evolutions.published_form)
    changes_file = (
        shown_changes if interne else evolution_tables.published_form(shown_changes, context.table)
    )
    if not interne:  # the same rows emptied, from the same decoding (not done twice)
        shown_changes = evolution_tables.for_partners(
            shown_changes, context.table, public=changes_file
        )
    # both editions in French Excel's form: they are opened by people (avs_eval.tableur)
    write_published_csv(folder / "indicateurs.csv", shown[indicators.COLUMNS])
    write_published_csv(
        folder / "evolutions.csv",
        changes_file[evolution_tables.COLUMNS],
        share_columns=SHARE_COLUMNS if interne else SHARE_COLUMNS - POINTS_COLUMNS,
    )
    write_indicators(
        folder / "indicateurs.xlsx",
        shown,
        context.min_effectif,
        shown_changes,
        published=not interne,
    )


def write_follow_up(folder: Path, follow_up: pd.DataFrame) -> None:
    """`suivi_actions.csv` beside the year's tables: one row per year and action up to
    the report's year (`suivi.table`), in the French Excel form of the published tables.

    Written once a year, by the synthesis: the follow-up is the department's. It holds
    no survey figure, so both editions write it whole.
    """
    from avs_eval.tableur import write_french_csv

    write_french_csv(folder / "suivi_actions.csv", follow_up, share_columns=())
