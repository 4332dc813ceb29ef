"""The fixed part of the data contract: the register's columns and closed vocabularies.

The questions of the survey change every year and live in the catalog
(`parameters/questionnaire.yaml`, read by `avs_eval.catalog`); what does not change
with the survey (the register's columns, structure types, collectivités, yes/no
spellings, list separators, levels) is here, once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# --- the `structures` register -------------------------------------------------

STRUCTURE_REQUIRED: tuple[str, ...] = (
    "structure_id",
    "nom",
    "type",
    "commune",
    "code_insee",
    "territoire",
    "collectivite",
)
STRUCTURE_OPTIONAL: tuple[str, ...] = ("qpv", "annee_debut", "annee_fin")

DEPARTMENT_CODE = "69"
ALL_PERIMETER = "Ensemble"

LEVELS: tuple[str, ...] = ("territoire", "collectivite", "departement", "qpv")
LEVEL_LABELS: dict[str, str] = {
    "territoire": "Territoire",
    "collectivite": "Collectivité",
    "departement": "Département",
    "qpv": "Politique de la ville",
}


@dataclass(frozen=True)
class Vocabulary:
    """A closed list of canonical values with the spellings accepted for each."""

    name: str
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def lookup(self) -> dict[str, str]:
        """Map every normalised accepted spelling to its canonical value."""
        table = {}
        for canonical, spellings in self.values.items():
            for spelling in (canonical, *spellings):
                table[normalise(spelling)] = canonical
        return table


STRUCTURE_TYPES = Vocabulary(
    "type",
    {"CS": ("centre social", "centres sociaux"), "EVS": ("espace de vie sociale",)},
    {"CS": "Centre social", "EVS": "Espace de vie sociale"},
)
METROPOLE = "Métropole de Lyon"
RHONE = "Rhône"
COLLECTIVITES = Vocabulary("collectivite", {METROPOLE: (), RHONE: ()})
YES_SPELLINGS: tuple[str, ...] = ("oui", "o", "1", "vrai", "true", "yes")
NO_SPELLINGS: tuple[str, ...] = ("non", "n", "0", "faux", "false", "no")
YES_NO_LOOKUP: dict[str, bool] = {s: True for s in YES_SPELLINGS} | {s: False for s in NO_SPELLINGS}
YES_NO_SPELLINGS = ", ".join(YES_SPELLINGS + NO_SPELLINGS)
LIST_SEPARATORS = ";,|"
# The kinds of structures a reader can choose (explorer, maps): value -> (label, `type` values).
STRUCTURE_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    ALL_PERIMETER: ("Toutes les structures", (ALL_PERIMETER,)),
    "CS": ("Centres sociaux", ("CS",)),
    "EVS": ("Espaces de vie sociale", ("EVS",)),
    "CS+EVS": ("CS et EVS comparés", ("CS", "EVS")),
}


def normalise(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how accepted spellings are compared."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def sort_key(text: str) -> str:
    """French reading order for names: accents and case do not move a name."""
    return normalise(text)
