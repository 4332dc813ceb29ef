"""Generate the fictitious sample data set shipped in data/exemple.

The notebooks, the reports and the tests need data that look like a real survey
of the Rhône's centres sociaux (CS) and espaces de vie sociale (EVS) without
exposing any real structure's answers. This module builds that data set from a
fixed seed, so it is reproducible byte for byte: `python -m avs_eval.sample`
rewrites the committed files, and a test checks that nothing drifted.

The communes and their INSEE codes are real (so maps and joins with public
reference data work); the structures, their names and their answers are invented.
Answers follow trends by year, differ between territories and types, and depend
on a latent propensity per structure so that a structure answers alike from one
year to the next, as real respondents do.

Only `rng.random()`, `rng.randint()` and `rng.choice()` on lists are used, and no
set is ever iterated, so the output is the same on every Python 3.11+ interpreter.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import paths
from avs_eval.schema import QUESTIONS_BY_COLUMN, RESPONSE_COLUMNS, STRUCTURE_OPTIONAL

SEED = 3_1_2_2022
YEARS: tuple[int, ...] = (2022, 2023, 2024, 2025)
STRUCTURE_COLUMNS: tuple[str, ...] = (
    "structure_id",
    "nom",
    "type",
    "commune",
    "code_insee",
    "territoire",
    "collectivite",
    *STRUCTURE_OPTIONAL,
)
METROPOLE = "Métropole de Lyon"
RHONE = "Rhône"
YES, NO, BLANK = "oui", "non", ""

# --- territories ------------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    nom: str
    code_insee: str
    structures: int  # how many structures the sample places there
    qpv: float  # chance that a structure there serves a priority neighbourhood (QPV)


@dataclass(frozen=True)
class Territory:
    nom: str
    collectivite: str
    communes: tuple[Commune, ...]
    cs: int  # how many of its structures are centres sociaux (the rest are EVS)
    offset: float  # general dynamism on the logit scale, so territories differ

    @property
    def size(self) -> int:
        return sum(c.structures for c in self.communes)


def _t(nom: str, collectivite: str, cs: int, offset: float, *communes: tuple) -> Territory:
    return Territory(nom, collectivite, tuple(Commune(*c) for c in communes), cs, offset)


# The Métropole reports by Conférence territoriale des maires, the department by
# groups of intercommunalités. Ouest Nord and Monts du Lyonnais are deliberately
# small (under the secrecy threshold of 5) so that secrecy shows in the reports.
TERRITORIES: tuple[Territory, ...] = (
    _t("Lyon", METROPOLE, 24, 0.20, ("Lyon", "69123", 30, 0.65)),
    _t("Villeurbanne", METROPOLE, 8, 0.30, ("Villeurbanne", "69266", 10, 0.70)),
    _t(
        "Rhône Amont",
        METROPOLE,
        7,
        0.00,
        ("Vaulx-en-Velin", "69256", 5, 0.90),
        ("Décines-Charpieu", "69275", 2, 0.50),
        ("Meyzieu", "69282", 2, 0.50),
        ("Jonage", "69279", 1, 0.00),
    ),
    _t(
        "Porte des Alpes",
        METROPOLE,
        6,
        -0.10,
        ("Bron", "69029", 3, 0.70),
        ("Saint-Priest", "69290", 3, 0.60),
        ("Chassieu", "69271", 1, 0.00),
        ("Mions", "69283", 1, 0.00),
    ),
    _t(
        "Les Portes du Sud",
        METROPOLE,
        8,
        0.15,
        ("Vénissieux", "69259", 6, 0.90),
        ("Saint-Fons", "69199", 2, 0.90),
        ("Feyzin", "69276", 1, 0.30),
        ("Corbas", "69273", 1, 0.00),
    ),
    _t(
        "Lônes et Coteaux du Rhône",
        METROPOLE,
        6,
        -0.20,
        ("Oullins-Pierre-Bénite", "69149", 2, 0.40),
        ("Irigny", "69100", 1, 0.50),
        ("Saint-Genis-Laval", "69204", 2, 0.30),
        ("Givors", "69091", 2, 0.90),
        ("Grigny-sur-Rhône", "69096", 1, 0.80),
        ("La Mulatière", "69142", 1, 0.30),
    ),
    _t(
        "Val d'Yzeron",
        METROPOLE,
        4,
        -0.30,
        ("Tassin-la-Demi-Lune", "69244", 2, 0.00),
        ("Francheville", "69089", 2, 0.00),
        ("Craponne", "69069", 1, 0.00),
        ("Sainte-Foy-lès-Lyon", "69202", 2, 0.30),
    ),
    _t(
        "Plateau Nord",
        METROPOLE,
        5,
        0.10,
        ("Caluire-et-Cuire", "69034", 3, 0.20),
        ("Rillieux-la-Pape", "69286", 3, 0.90),
        ("Sathonay-Camp", "69292", 1, 0.00),
    ),
    _t(
        "Val de Saône",
        METROPOLE,
        3,
        -0.15,
        ("Neuville-sur-Saône", "69143", 2, 0.50),
        ("Fontaines-sur-Saône", "69088", 2, 0.30),
        ("Genay", "69278", 1, 0.00),
    ),
    _t(
        "Ouest Nord",
        METROPOLE,
        2,
        -0.40,
        ("Écully", "69081", 2, 0.40),
        ("Dardilly", "69072", 1, 0.00),
        ("Limonest", "69116", 1, 0.00),
    ),
    _t(
        "Villefranche Beaujolais Saône",
        RHONE,
        8,
        0.25,
        ("Villefranche-sur-Saône", "69264", 8, 0.75),
        ("Gleizé", "69092", 2, 0.00),
        ("Arnas", "69013", 1, 0.00),
        ("Limas", "69115", 2, 0.00),
    ),
    _t(
        "Ouest Rhône",
        RHONE,
        6,
        -0.25,
        ("Tarare", "69243", 4, 0.60),
        ("Amplepuis", "69006", 2, 0.00),
        ("Thizy-les-Bourgs", "69248", 2, 0.30),
        ("L'Arbresle", "69010", 3, 0.00),
    ),
    _t(
        "Monts du Lyonnais",
        RHONE,
        1,
        -0.50,
        ("Saint-Symphorien-sur-Coise", "69238", 2, 0.00),
        ("Saint-Laurent-de-Chamousset", "69220", 1, 0.00),
    ),
    _t(
        "Vallons du Lyonnais et Pays Mornantais",
        RHONE,
        7,
        -0.10,
        ("Brignais", "69027", 4, 0.00),
        ("Chaponost", "69043", 3, 0.00),
        ("Mornant", "69141", 3, 0.00),
        ("Montagny", "69136", 2, 0.00),
    ),
    _t(
        "Est lyonnais",
        RHONE,
        5,
        -0.35,
        ("Genas", "69277", 3, 0.00),
        ("Saint-Bonnet-de-Mure", "69287", 2, 0.00),
        ("Saint-Laurent-de-Mure", "69288", 2, 0.00),
        ("Pusignan", "69285", 1, 0.00),
    ),
)
SMALL_TERRITORIES: tuple[str, ...] = ("Ouest Nord", "Monts du Lyonnais")

# --- invented names ---------------------------------------------------------------

LYON_QUARTERS: tuple[str, ...] = (
    "de Gerland",
    "de la Duchère",
    "Mermoz",
    "de la Croix-Rousse",
    "de Vaise",
    "des États-Unis",
    "des Pentes",
    "de Monplaisir",
    "du Bachut",
    "de la Guillotière",
    "Sans-Souci",
    "de Montchat",
    "de Saint-Rambert",
    "du Point-du-Jour",
    "de Ménival",
    "de Champvert",
    "des Brotteaux",
    "de Saint-Just",
    "de la Confluence",
    "Jean Macé",
    "Langlet-Santy",
    "de Gorge de Loup",
    "du Vieux Lyon",
    "de la Part-Dieu",
    "de Grange Blanche",
    "de Moncey",
    "de Perrache",
    "de l'Industrie",
)
CS_NAMES: tuple[str, ...] = (
    "des Tilleuls",
    "des Platanes",
    "des Marronniers",
    "du Moulin",
    "de la Source",
    "des Érables",
    "des Acacias",
    "du Parc",
    "des Noyers",
    "de la Fontaine",
    "du Lavoir",
    "des Charmilles",
    "du Plateau",
    "des Glycines",
    "des Vergers",
    "de la Roseraie",
    "des Peupliers",
    "du Vieux Bourg",
    "des Sablons",
    "des Genêts",
    "des Iris",
    "de la Clairière",
    "des Lilas",
    "des Cerisiers",
    "des Saules",
    "des Mûriers",
    "du Grand Pré",
    "des Prairies",
    "des Balmes",
    "du Mas",
    "des Terrasses",
    "de la Colline",
    "des Coteaux",
    "du Vallon",
    "de la Gare",
    "des Canuts",
    "des Mariniers",
    "des Tisserands",
    "du Château",
    "de la Croisée",
    "des Quatre Vents",
    "des Alouettes",
    "des Hirondelles",
    "des Semailles",
    "du Ruisseau",
    "de l'Étang",
    "des Jardins",
    "de la Plaine",
    "du Belvédère",
    "des Rives",
    "du Port",
    "de la Chapelle",
    "des Verchères",
    "des Essarts",
    "des Granges",
    "des Pins",
    "des Chênes",
    "des Bruyères",
    "du Champ Fleuri",
    "des Ormes",
    "des Bleuets",
    "des Tanneurs",
    "des Forges",
    "Simone Delorme",
    "Étienne Morel",
    "Yvonne Berthet",
    "André Chabanel",
    "Marcelle Guillot",
    "Louis Ravier",
    "Jeanne Vernay",
    "Antoine Dufour",
    "Lucienne Brun",
    "Gaston Perret",
    "Odette Rivoire",
    "Henri Favre",
    "Madeleine Chapuis",
    "Raymond Giraud",
    "Suzanne Pellet",
)
EVS_NAMES: tuple[str, ...] = (
    "La Passerelle",
    "Le Trait d'union",
    "L'Escale",
    "La Ruche",
    "La Boussole",
    "Le Kiosque",
    "La Courte Échelle",
    "Le Fil d'Ariane",
    "L'Arbre à palabres",
    "La Marelle",
    "Le Relais",
    "La Maison des familles",
    "Le Pont des générations",
    "L'Îlot",
    "La Cabane",
    "Le Tremplin",
    "La Grange",
    "L'Atelier",
    "La Clé des champs",
    "Le Cerf-volant",
    "La Fabrique",
    "Le Phare",
    "La Boîte à liens",
    "Le Lien",
    "La Toile",
    "Le Carrefour",
    "L'Oasis",
    "La Source vive",
    "Le Jardin partagé",
    "Le Café des voisins",
    "La Récré",
    "Les Colibris",
    "Les Castors",
    "Le Préau",
    "L'Entre-deux",
    "La Parenthèse",
    "Le Point-virgule",
    "La Bulle",
    "Le Moulin à paroles",
    "Les Petits Pas",
    "L'Envol",
    "Le Nid",
    "La Pépinière",
    "L'Étoile",
    "Le Grenier",
    "La Halte",
    "L'Aventure",
    "Les Tournesols",
    "La Cordée",
    "Le Fil rouge",
    "La Main tendue",
    "Le Sablier",
    "La Rencontre",
    "Le Jardin des possibles",
)
OTHER_CHANNELS: tuple[str, ...] = (
    "Stand au forum des associations",
    "Vidéo de présentation diffusée en mairie",
    "Porte ouverte annuelle",
    "Journal de quartier, distribué dans les boîtes aux lettres",
    "Fête de quartier et repas partagé",
    "Affichage chez les commerçants du quartier",
    "Réunion d'information à l'école",
    "Panneau lumineux de la commune",
    "Émission sur la radio locale",
    "Tract distribué au marché, le samedi matin",
    "Groupe de messagerie des habitants",
    "Présentation à l'accueil des nouveaux habitants",
)

# --- answer models ----------------------------------------------------------------

# Share of "oui" by year (None: the question is not asked that year: actions 3 and 4
# of the sheet start in 2023).
YES_NO_TRENDS: dict[str, tuple[float | None, ...]] = {
    "permanence_partenaire": (0.45, 0.51, 0.57, 0.62),
    "aller_vers_partenaire": (0.35, 0.42, 0.49, 0.55),
    "contrat_local": (0.60, 0.66, 0.71, 0.76),
    "instances_coordination": (0.68, 0.72, 0.76, 0.80),
    "projet_social_partage": (None, 0.40, 0.53, 0.66),
    "difficultes_gouvernance": (None, 0.22, 0.18, 0.15),
    "accompagnement_gouvernance": (None, 0.45, 0.58, 0.70),
}
# Logit shifts for a CS versus an EVS and for a structure serving a QPV.
TYPE_SHIFT = {"CS": 0.18, "EVS": -0.22}
QPV_SHIFT = {
    "permanence_partenaire": 0.40,
    "aller_vers_partenaire": 0.30,
    "contrat_local": 0.90,
    "difficultes_gouvernance": 0.20,
}
# An answer is "oui" when trend + shifts + latent + yearly noise is positive. Latent
# and noise are (nearly) normal with standard deviation `SPREAD`; as Φ(x / 1.7) is close
# to the logistic function, scaling the trend's logit by SPREAD / 1.7 keeps the share
# of "oui" near the trend.
LATENT_WEIGHT = 1.3
YEARLY_NOISE = 0.6
SPREAD = math.hypot(LATENT_WEIGHT, YEARLY_NOISE)
STRETCH = SPREAD / 1.7

BLANK_RATE = 0.03  # items left unanswered in a returned questionnaire
NON_RESPONSE = (0.18, 0.14, 0.11, 0.08)
NEVER_ANSWER = 3  # structures that never return the questionnaire
KEEP_LATENT = 0.88  # chance that a list code keeps the structure's usual choice


def _channel_weights(kind: str, year_index: int) -> dict[str, float]:
    evs = kind == "EVS"
    return {
        "site_internet": 0.62 if evs else 0.80,
        "reseaux_sociaux": (0.64 if evs else 0.70) + 0.035 * year_index,
        "plaquette_affichage": 0.55,
        "rapport_activite": 0.35 if evs else 0.58,
        "assemblee_generale": 0.70 if evs else 0.78,
        "rencontres_partenaires": (0.22 if evs else 0.32) + 0.09 * year_index,
        "instances_locales": (0.25 if evs else 0.38) + 0.04 * year_index,
        "presse_bulletin": 0.32,
        "lettre_information": 0.08 if evs else 0.15,
        "autre": 0.08,
    }


def _partner_weights(qpv: bool) -> dict[str, float]:
    return {
        "caf": 0.30,
        "france_services": 0.18,
        "france_travail": 0.20 if qpv else 0.10,
        "mission_locale": 0.28 if qpv else 0.12,
        "cpam": 0.15,
        "pmi": 0.25,
        "maison_metropole_rhone": 0.22,
        "ccas_mairie": 0.25,
        "acces_droit": 0.18 if qpv else 0.08,
        "ecrivain_public": 0.30 if qpv else 0.12,
        "sante": 0.12,
        "association": 0.30,
        "autre": 0.05,
    }


def _place_weights(qpv: bool) -> dict[str, float]:
    return {
        "mediatheque": 0.45,
        "etablissement_scolaire": 0.55,
        "bailleur_social": 0.40 if qpv else 0.08,
        "mjc_equipement_jeunesse": 0.22,
        "equipement_sportif_culturel": 0.18,
        "structure_sante_medicosociale": 0.12,
        "mairie_ccas": 0.20,
        "autre": 0.05,
    }


def _contract_weights(qpv: bool) -> dict[str, float]:
    return {
        "ctg": 0.82,
        "contrat_ville": 0.75 if qpv else 0.04,
        "clsm": 0.18,
        "cls": 0.20,
        "pedt": 0.35,
        "cite_educative": 0.22 if qpv else 0.0,
        "pre": 0.18 if qpv else 0.03,
        "autre": 0.05,
    }


# --- the generator ----------------------------------------------------------------


@dataclass
class _Structure:
    structure_id: str
    nom: str
    type: str
    commune: Commune
    territory: Territory
    qpv: bool
    annee_debut: int | None = None
    annee_fin: int | None = None
    # latent propensities, drawn once so that answers persist from year to year
    answers: dict[str, float] = field(default_factory=dict)
    codes: dict[str, dict[str, float]] = field(default_factory=dict)
    silence: float = 0.0  # latent reluctance to return the questionnaire
    never_answers: bool = False
    other_channel: str = ""

    def approved(self, year: int) -> bool:
        return (self.annee_debut or year) <= year <= (self.annee_fin or year)

    def row(self) -> list[str]:
        return [
            self.structure_id,
            self.nom,
            self.type,
            self.commune.nom,
            self.commune.code_insee,
            self.territory.nom,
            self.territory.collectivite,
            YES if self.qpv else NO,
            str(self.annee_debut or ""),
            str(self.annee_fin or ""),
        ]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


class _Generator:
    """All draws go through one seeded generator, in a fixed order."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    # small helpers, written with the three stable primitives only

    def normal(self) -> float:
        """An approximately standard normal draw (Irwin-Hall with four uniforms)."""
        return (sum(self.rng.random() for _ in range(4)) - 2.0) * math.sqrt(3.0)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def take(self, pool: list):
        """Remove and return a random element of a list (draw without replacement)."""
        return pool.pop(self.rng.randint(0, len(pool) - 1))

    def shuffled(self, items: list) -> list:
        items = list(items)
        for i in range(len(items) - 1, 0, -1):
            j = self.rng.randint(0, i)
            items[i], items[j] = items[j], items[i]
        return items

    # structures

    def structures(self) -> list[_Structure]:
        quarters = list(LYON_QUARTERS)
        cs_names = list(CS_NAMES)
        evs_names = list(EVS_NAMES)
        result: list[_Structure] = []
        for territory in TERRITORIES:
            places = [c for c in territory.communes for _ in range(c.structures)]
            kinds = self.shuffled(["CS"] * territory.cs + ["EVS"] * (territory.size - territory.cs))
            for commune, kind in zip(places, kinds, strict=True):
                if kind == "CS":
                    pool = quarters if commune.code_insee == "69123" else cs_names
                    prefix = "Centre social et culturel" if self.chance(0.2) else "Centre social"
                else:
                    pool = evs_names
                    prefix = "Espace de vie sociale"
                nom = f"{prefix} {self.take(pool)}"
                qpv = self.chance(commune.qpv * (1.0 if kind == "CS" else 0.9))
                number = len(result) + 1
                result.append(_Structure(f"S{number:03d}", nom, kind, commune, territory, qpv))
        self._approval_years(result)
        for structure in result:
            self._latents(structure)
        for _ in range(NEVER_ANSWER):
            candidates = [s for s in result if not s.never_answers and s.annee_debut is None]
            self.take(candidates).never_answers = True
        return result

    def _approval_years(self, structures: list[_Structure]) -> None:
        """A few openings and closings during the period, and some older approvals."""
        movable = [s for s in structures if s.territory.nom not in SMALL_TERRITORIES]
        evs = [s for s in movable if s.type == "EVS"]
        cs = [s for s in movable if s.type == "CS"]
        for year, n_evs, n_cs in ((2023, 2, 1), (2024, 2, 1), (2025, 2, 0)):
            for pool, n in ((evs, n_evs), (cs, n_cs)):
                for _ in range(n):
                    self.take(pool).annee_debut = year
        for year, n_evs, n_cs in ((2023, 1, 1), (2024, 1, 0)):
            for pool, n in ((evs, n_evs), (cs, n_cs)):
                for _ in range(n):
                    self.take(pool).annee_fin = year
        older = [s for s in structures if s.annee_debut is None and s.annee_fin is None]
        older_evs = [s for s in older if s.type == "EVS"]
        older_cs = [s for s in older if s.type == "CS"]
        for pool, n in ((older_evs, 7), (older_cs, 3)):
            for _ in range(n):
                self.take(pool).annee_debut = self.rng.choice(
                    [2012, 2015, 2016, 2018, 2019, 2019, 2020, 2021]
                )

    def _latents(self, structure: _Structure) -> None:
        general = self.normal()  # a "dynamic" structure tends to say yes everywhere
        for column in YES_NO_TRENDS:
            own = self.normal()
            sign = -1.0 if column == "difficultes_gouvernance" else 1.0
            structure.answers[column] = sign * 0.55 * general + 0.84 * own
        for column in ("communication_canaux", *_FOLLOW_UPS.values()):
            structure.codes[column] = {
                code: self.rng.random() for code in QUESTIONS_BY_COLUMN[column].codes
            }
        structure.silence = self.normal()
        structure.other_channel = self.rng.choice(list(OTHER_CHANNELS))

    # responses

    def responses(self, structures: list[_Structure]) -> list[dict[str, str]]:
        offsets = {
            (t.nom, column): 0.35 * self.normal() for t in TERRITORIES for column in YES_NO_TRENDS
        }
        rows: list[dict[str, str]] = []
        for index, year in enumerate(YEARS):
            approved = [s for s in structures if s.approved(year)]
            silent = self._silent(approved, NON_RESPONSE[index])
            for structure in approved:
                if structure.structure_id not in silent:
                    rows.append(self._answer(structure, year, index, offsets))
        self._first_year_silence(rows, structures)
        self._deliberate_anomalies(rows)
        return rows

    def _silent(self, approved: list[_Structure], rate: float) -> list[str]:
        """Who does not answer this year: exactly the target share, the most reluctant."""
        never = [s.structure_id for s in approved if s.never_answers]
        others = [s for s in approved if not s.never_answers]
        scores = [(s.silence + 0.7 * self.normal(), s.structure_id) for s in others]
        count = max(round(rate * len(approved)) - len(never), 0)
        return never + [sid for _, sid in sorted(scores, reverse=True)[:count]]

    def _yes_no(self, structure: _Structure, column: str, index: int, offsets) -> str:
        trend = YES_NO_TRENDS[column][index]
        if trend is None:
            return BLANK
        if self.chance(BLANK_RATE):
            return BLANK
        score = (
            STRETCH * _logit(trend)
            + 0.6 * structure.territory.offset
            + offsets[structure.territory.nom, column]
            + TYPE_SHIFT[structure.type] * (-1 if column == "difficultes_gouvernance" else 1)
            + QPV_SHIFT.get(column, 0.0) * structure.qpv
            + LATENT_WEIGHT * structure.answers[column]
            + YEARLY_NOISE * self.normal()
        )
        return YES if score > 0 else NO

    def _codes(self, structure: _Structure, column: str, weights: dict[str, float], cap: int):
        """Codes whose latent draw falls under their weight; mostly the same every year."""
        usual = structure.codes[column]
        draws = {
            code: usual[code] if self.chance(KEEP_LATENT) else self.rng.random() for code in weights
        }
        chosen = [code for code in weights if draws[code] < weights[code]]
        by_fit = sorted(weights, key=lambda code: draws[code] / max(weights[code], 1e-6))
        if not chosen:
            chosen = by_fit[:1]
        if len(chosen) > cap:
            chosen = [code for code in by_fit if code in chosen][:cap]
        order = QUESTIONS_BY_COLUMN[column].codes
        return ";".join(code for code in order if code in chosen)

    def _answer(self, structure: _Structure, year: int, index: int, offsets) -> dict[str, str]:
        row = dict.fromkeys(RESPONSE_COLUMNS, BLANK)
        row["structure_id"] = structure.structure_id
        row["annee"] = str(year)
        if not self.chance(0.02):
            channels = self._codes(
                structure, "communication_canaux", _channel_weights(structure.type, index), 8
            )
            row["communication_canaux"] = channels
            if "autre" in channels.split(";"):
                row["communication_autre"] = structure.other_channel
        for column in YES_NO_TRENDS:
            row[column] = self._yes_no(structure, column, index, offsets)
        for condition, column in _FOLLOW_UPS.items():
            if row[condition] == YES:
                weights = _FOLLOW_UP_WEIGHTS[column](structure.qpv)
                row[column] = self._codes(structure, column, weights, 4)
        if row["difficultes_gouvernance"] != YES:
            row["accompagnement_gouvernance"] = BLANK
        return row

    def _first_year_silence(self, rows: list[dict[str, str]], structures) -> None:
        """A few structures, mostly EVS, said they did not communicate at all in 2022."""
        kinds = {s.structure_id: s.type for s in structures}
        first = [r for r in rows if r["annee"] == "2022" and r["communication_canaux"]]
        evs = [r for r in first if kinds[r["structure_id"]] == "EVS"]
        cs = [r for r in first if kinds[r["structure_id"]] == "CS"]
        chosen = [self.take(evs) for _ in range(3)] + [self.take(cs)]
        # one of them still did not in 2023
        chosen += [
            r
            for r in rows
            if r["annee"] == "2023" and r["structure_id"] == chosen[0]["structure_id"]
        ]
        for row in chosen:
            row["communication_canaux"] = "aucun"
            row["communication_autre"] = BLANK

    def _deliberate_anomalies(self, rows: list[dict[str, str]]) -> None:
        """Exactly two follow-up answers given despite a "non", for the validator's warnings."""
        pool = [r for r in rows if r["annee"] == "2024" and r["permanence_partenaire"] == NO]
        self.take(pool)["permanence_partenaires"] = "caf;ecrivain_public"
        pool = [r for r in rows if r["annee"] == "2025" and r["contrat_local"] == NO]
        self.take(pool)["contrats"] = "ctg"


_FOLLOW_UPS: dict[str, str] = {
    "permanence_partenaire": "permanence_partenaires",
    "aller_vers_partenaire": "aller_vers_lieux",
    "contrat_local": "contrats",
}
_FOLLOW_UP_WEIGHTS = {
    "permanence_partenaires": _partner_weights,
    "aller_vers_lieux": _place_weights,
    "contrats": _contract_weights,
}


def _write(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate(directory: Path = paths.SAMPLE_DIR) -> None:
    """Write structures.csv and reponses.csv, always the same bytes for the same code."""
    generator = _Generator()
    structures = generator.structures()
    responses = generator.responses(structures)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / "structures.csv", STRUCTURE_COLUMNS, [s.row() for s in structures])
    _write(
        directory / "reponses.csv",
        RESPONSE_COLUMNS,
        [[row[c] for c in RESPONSE_COLUMNS] for row in responses],
    )


if __name__ == "__main__":
    generate()
