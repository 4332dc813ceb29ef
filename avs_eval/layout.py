"""The plan of the two reports: which sections, in which order, with which titles.

One owner for the plan, read by the reports (numbered headings, table of contents)
and by `avs-eval commentaires` (the headings of an evaluator's commentary file), so
that the two never disagree. The sections of the questionnaire come from the catalog.
The evaluator's analysis has no section of its own: each part of it is shown in the
section it comments (`commentaires.parts`).
"""

from __future__ import annotations

from avs_eval.catalog import Catalog, Section
from avs_eval.config import Config

# (anchor, title, internal edition only)
TERRITORY_BEFORE: tuple[tuple[str, str, bool], ...] = (
    ("a-retenir", "À retenir", False),
    ("fiche-action", "La fiche action", False),
    ("actions", "Mise en œuvre des actions", False),
    ("participation", "Participation à l'enquête et offre", False),
    ("chiffres-cles", "Chiffres clés", False),
)
TERRITORY_AFTER: tuple[tuple[str, str, bool], ...] = (
    ("types", "Centres sociaux et espaces de vie sociale", False),
    ("methode", "Méthode", False),
    ("qualite", "Qualité des données", True),
    ("provenance", "Provenance", True),
)
SYNTHESIS: tuple[tuple[str, str, bool], ...] = (
    ("a-retenir", "À retenir", False),
    ("fiche-action", "La fiche action", False),
    ("actions", "Mise en œuvre des actions", False),
    ("participation", "Participation par territoire et offre", False),
    ("cartes", "Cartes des chiffres clés", False),
    ("carte", "Les indicateurs par territoire", False),
    ("evolutions", "Évolutions", False),
    ("politique-ville", "Quartiers prioritaires de la politique de la ville", False),
    ("details", "Les détails des indicateurs", False),
    ("types", "Centres sociaux et espaces de vie sociale", False),
    ("methode", "Méthode", False),
    ("provenance", "Provenance", True),
)


def plan(
    kind: str, catalog: Catalog, config: Config, interne: bool = False
) -> list[tuple[str, str, str, Section | None]]:
    """(anchor, title, short title, catalog section or None) of each section, in order."""
    if kind == "synthese":
        fixed = [(k, t, t, None) for k, t, internal in SYNTHESIS if interne or not internal]
        return fixed
    before = [(k, t, t, None) for k, t, internal in TERRITORY_BEFORE if interne or not internal]
    middle = [(s.key, s.titre, s.court, s) for s in catalog.sections(config)]
    after = [(k, t, t, None) for k, t, internal in TERRITORY_AFTER if interne or not internal]
    return before + middle + after


def all_keys(kind: str, catalog: Catalog, config: Config) -> set[str]:
    """Every anchor a notebook may name, in either edition."""
    keys = {k for k, _, _, _ in plan(kind, catalog, config, interne=True)}
    return keys | set(catalog.section_keys(config))
