"""The questionnaire of action sheet PA 3.1.2, as data.

This module is the single source of truth for the data contract: column names,
vocabularies (codes with their French labels), accepted spellings and the
link between a question and the indicator or action it measures. The loader,
the indicators, the reports, the questionnaire generator and the explorer all
read it, so adding a code or a question is a change here and nowhere else.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

QuestionKind = Literal["oui_non", "liste", "texte"]


@dataclass(frozen=True)
class Modalite:
    """One code of a vocabulary, with the French label shown to readers."""

    code: str
    libelle: str
    exclusive: bool = False  # e.g. "aucun": makes no sense beside another code


@dataclass(frozen=True)
class Question:
    """One column of the `reponses` table."""

    colonne: str
    kind: QuestionKind
    intitule: str  # the question as asked to structures
    libelle: str  # short label for tables and charts
    mesure: str = ""  # which indicator or action of the sheet it feeds
    modalites: tuple[Modalite, ...] = ()
    # A follow-up question is asked only when `condition` (a yes/no column) is yes,
    # or, for a list, when `condition_code` is among the codes of `condition`.
    condition: str | None = None
    condition_code: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.modalites)

    def label_of(self, code: str) -> str:
        for m in self.modalites:
            if m.code == code:
                return m.libelle
        return code


def _m(*pairs: tuple[str, str], exclusive: tuple[str, ...] = ()) -> tuple[Modalite, ...]:
    return tuple(Modalite(code, label, code in exclusive) for code, label in pairs)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "communication_canaux",
        "liste",
        "Par quels moyens communiquez-vous sur votre projet social et votre projet familles "
        "auprès de vos partenaires ?",
        "Canaux de communication du projet social",
        "Indicateur 1",
        _m(
            ("site_internet", "Site internet"),
            ("reseaux_sociaux", "Réseaux sociaux"),
            ("plaquette_affichage", "Plaquette, affichage"),
            ("rapport_activite", "Rapport d'activité"),
            ("assemblee_generale", "Assemblée générale"),
            ("rencontres_partenaires", "Rencontres avec les partenaires"),
            ("instances_locales", "Instances locales"),
            ("presse_bulletin", "Presse, bulletin municipal"),
            ("lettre_information", "Lettre d'information"),
            ("autre", "Autre"),
            ("aucun", "Aucune communication"),
            exclusive=("aucun",),
        ),
    ),
    Question(
        "communication_autre",
        "texte",
        "Autre moyen de communication (précisez)",
        "Autre canal (texte libre)",
        "Indicateur 1",
        condition="communication_canaux",
        condition_code="autre",
    ),
    Question(
        "permanence_partenaire",
        "oui_non",
        "Un partenaire tient-il une permanence dans vos locaux ?",
        "Permanence d'un partenaire dans les locaux",
        "Indicateur 2",
    ),
    Question(
        "permanence_partenaires",
        "liste",
        "Quels partenaires tiennent une permanence dans vos locaux ?",
        "Partenaires tenant une permanence",
        "Indicateur 2",
        _m(
            ("caf", "Caf"),
            ("france_services", "France services"),
            ("france_travail", "France Travail"),
            ("mission_locale", "Mission locale"),
            ("cpam", "CPAM"),
            ("pmi", "PMI"),
            ("maison_metropole_rhone", "Maison de la Métropole / du Rhône"),
            ("ccas_mairie", "CCAS, mairie"),
            ("acces_droit", "Point d'accès au droit"),
            ("ecrivain_public", "Écrivain public"),
            ("sante", "Acteur de santé"),
            ("association", "Association"),
            ("autre", "Autre"),
        ),
        condition="permanence_partenaire",
    ),
    Question(
        "aller_vers_partenaire",
        "oui_non",
        "Menez-vous des actions d'aller-vers dans les locaux d'un partenaire "
        "(médiathèque, école…) ?",
        "Aller-vers dans les locaux d'un partenaire",
        "Indicateur 3",
    ),
    Question(
        "aller_vers_lieux",
        "liste",
        "Chez quels partenaires menez-vous ces actions d'aller-vers ?",
        "Lieux de l'aller-vers",
        "Indicateur 3",
        _m(
            ("mediatheque", "Médiathèque"),
            ("etablissement_scolaire", "Établissement scolaire"),
            ("bailleur_social", "Bailleur social"),
            ("mjc_equipement_jeunesse", "MJC, équipement jeunesse"),
            ("equipement_sportif_culturel", "Équipement sportif ou culturel"),
            ("structure_sante_medicosociale", "Structure de santé ou médico-sociale"),
            ("mairie_ccas", "Mairie, CCAS"),
            ("autre", "Autre"),
        ),
        condition="aller_vers_partenaire",
    ),
    Question(
        "contrat_local",
        "oui_non",
        "La structure est-elle intégrée ou partenaire d'un contrat ou projet de politique "
        "locale (CTG, CLSM, contrat de ville…) ?",
        "Intégrée à un contrat de politique locale",
        "Indicateur 4",
    ),
    Question(
        "contrats",
        "liste",
        "Lesquels ?",
        "Contrats et projets de politique locale",
        "Indicateur 4",
        _m(
            ("ctg", "Convention territoriale globale (CTG)"),
            ("contrat_ville", "Contrat de ville"),
            ("clsm", "Conseil local de santé mentale (CLSM)"),
            ("cls", "Contrat local de santé (CLS)"),
            ("pedt", "Projet éducatif de territoire (PEDT)"),
            ("cite_educative", "Cité éducative"),
            ("pre", "Programme de réussite éducative (PRE)"),
            ("autre", "Autre"),
        ),
        condition="contrat_local",
    ),
    Question(
        "instances_coordination",
        "oui_non",
        "Participez-vous à des instances locales de coordination ou d'observation du territoire ?",
        "Participation aux instances de coordination",
        "Action 2",
    ),
    Question(
        "projet_social_partage",
        "oui_non",
        "Votre projet social a-t-il été présenté à vos partenaires et reconnu par eux ?",
        "Projet social présenté et reconnu",
        "Action 3",
    ),
    Question(
        "difficultes_gouvernance",
        "oui_non",
        "Rencontrez-vous des difficultés de gouvernance ou de modèle socio-économique ?",
        "Difficultés de gouvernance ou de modèle",
        "Action 4",
    ),
    Question(
        "accompagnement_gouvernance",
        "oui_non",
        "Avez-vous bénéficié d'un accompagnement pour y faire face ?",
        "Accompagnement reçu face aux difficultés",
        "Action 4",
        condition="difficultes_gouvernance",
    ),
)

QUESTIONS_BY_COLUMN: dict[str, Question] = {q.colonne: q for q in QUESTIONS}
YES_NO_COLUMNS: tuple[str, ...] = tuple(q.colonne for q in QUESTIONS if q.kind == "oui_non")
LIST_COLUMNS: tuple[str, ...] = tuple(q.colonne for q in QUESTIONS if q.kind == "liste")
TEXT_COLUMNS: tuple[str, ...] = tuple(q.colonne for q in QUESTIONS if q.kind == "texte")

# The participation indicator, computed for every perimeter before the questions.
RESPONSE_RATE = "taux_reponse"
RESPONSE_RATE_LABEL = "Taux de réponse à l'enquête"

# The four evaluation indicators of the action sheet, in the sheet's order.
HEADLINE_INDICATORS: tuple[str, ...] = (
    "communication_canaux",
    "permanence_partenaire",
    "aller_vers_partenaire",
    "contrat_local",
)


def indicator_label(indicateur: str, modalite: str = "") -> str:
    """French label of an indicator row, as printed in tables and charts."""
    if indicateur == RESPONSE_RATE:
        return RESPONSE_RATE_LABEL
    question = QUESTIONS_BY_COLUMN[indicateur]
    if modalite:
        return question.label_of(modalite)
    return question.libelle


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
RESPONSE_KEYS: tuple[str, ...] = ("structure_id", "annee")
RESPONSE_COLUMNS: tuple[str, ...] = RESPONSE_KEYS + tuple(q.colonne for q in QUESTIONS)

DEPARTMENT_CODE = "69"
ALL_PERIMETER = "Ensemble"

LEVELS: tuple[str, ...] = ("territoire", "collectivite", "departement")
LEVEL_LABELS: dict[str, str] = {
    "territoire": "Territoire",
    "collectivite": "Collectivité",
    "departement": "Département",
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
COLLECTIVITES = Vocabulary(
    "collectivite",
    {"Métropole de Lyon": (), "Rhône": ()},
)
YES_SPELLINGS: tuple[str, ...] = ("oui", "o", "1", "vrai", "true", "yes")
NO_SPELLINGS: tuple[str, ...] = ("non", "n", "0", "faux", "false", "no")
YES_NO_LOOKUP: dict[str, bool] = {s: True for s in YES_SPELLINGS} | {s: False for s in NO_SPELLINGS}
YES_NO_SPELLINGS = ", ".join(YES_SPELLINGS + NO_SPELLINGS)
LIST_SEPARATORS = ";,|"


def normalise(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how accepted spellings are compared."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def sort_key(text: str) -> str:
    """French reading order for names: accents and case do not move a name."""
    return normalise(text)
