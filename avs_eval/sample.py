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
from avs_eval.catalog import load_catalog
from avs_eval.sample_territories import (
    SMALL_TERRITORIES,
    TERRITORIES,
    Commune,
    Territory,
    commune_territories,
)
from avs_eval.schema import STRUCTURE_OPTIONAL, STRUCTURE_REQUIRED

SEED = 3122022  # action sheet PA 3.1.2, first year 2022; changing it changes every file
YEARS: tuple[int, ...] = (2022, 2023, 2024, 2025)
STRUCTURE_COLUMNS: tuple[str, ...] = STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL
YES, NO, BLANK = "oui", "non", ""

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
TYPE_SHIFT = {"CS": 0.10, "EVS": -0.14}
QPV_SHIFT = {
    "permanence_partenaire": 0.40,
    "aller_vers_partenaire": 0.30,
    "contrat_local": 0.70,
    "difficultes_gouvernance": 0.20,
}
# Weights of the structure's lasting propensity and of the year's noise in a score:
# the first makes answers persist from year to year, the second lets some change.
LATENT_WEIGHT = 1.3
YEARLY_NOISE = 0.6

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

    def row(self) -> dict[str, str]:
        return {
            "structure_id": self.structure_id,
            "nom": self.nom,
            "type": self.type,
            "commune": self.commune.nom,
            "code_insee": self.commune.code_insee,
            "territoire": self.territory.nom,
            "collectivite": self.territory.collectivite,
            "qpv": YES if self.qpv else NO,
            "annee_debut": str(self.annee_debut or ""),
            "annee_fin": str(self.annee_fin or ""),
        }


class _Generator:
    """All draws go through one seeded generator, in a fixed order."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.other_channels: list[str] = []

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
                code: self.rng.random() for code in load_catalog().by_column[column].codes
            }
        structure.silence = self.normal()

    # responses

    def responses(self, structures: list[_Structure]) -> list[dict[str, str]]:
        offsets = {
            (t.nom, column): 0.35 * self.normal() for t in TERRITORIES for column in YES_NO_TRENDS
        }
        rows: list[dict[str, str]] = []
        for index, year in enumerate(YEARS):
            approved = [s for s in structures if s.approved(year)]
            silent = self._silent(approved, NON_RESPONSE[index])
            respondents = [s for s in approved if s.structure_id not in silent]
            year_rows = [self._channels(s, year, index) for s in respondents]
            for column in YES_NO_TRENDS:
                self._yes_no(respondents, year_rows, column, index, offsets)
            for structure, row in zip(respondents, year_rows, strict=True):
                for condition, column in _FOLLOW_UPS.items():
                    if row[condition] == YES:
                        weights = _FOLLOW_UP_WEIGHTS[column](structure.qpv)
                        row[column] = self._codes(structure, column, weights, 4)
            rows.extend(year_rows)
        self._no_communication(rows, structures)
        self._deliberate_anomalies(rows)
        by_id = {s.structure_id: s for s in structures}
        for question in load_catalog().questions:
            if question.colonne not in _TUNED:
                _Other(question).answer(rows, by_id)
        return rows

    def _silent(self, approved: list[_Structure], rate: float) -> list[str]:
        """Who does not answer this year: exactly the target share, the most reluctant."""
        never = [s.structure_id for s in approved if s.never_answers]
        others = [s for s in approved if not s.never_answers]
        scores = [(s.silence + self.normal(), s.structure_id) for s in others]
        count = max(round(rate * len(approved)) - len(never), 0)
        return never + [sid for _, sid in sorted(scores, reverse=True)[:count]]

    def _channels(self, structure: _Structure, year: int, index: int) -> dict[str, str]:
        """A new answer row with its communication channels; the rest is filled later."""
        row = dict.fromkeys(load_catalog().response_columns, BLANK)
        row["structure_id"] = structure.structure_id
        row["annee"] = str(year)
        if not self.chance(BLANK_RATE):
            weights = _channel_weights(structure.type, index)
            channels = self._codes(structure, "communication_canaux", weights, 8)
            row["communication_canaux"] = channels
            if "autre" in channels.split(";"):
                if not structure.other_channel:  # a structure keeps its own "autre" channel
                    self.other_channels = self.other_channels or list(OTHER_CHANNELS)
                    structure.other_channel = self.take(self.other_channels)
                row["communication_autre"] = structure.other_channel
        return row

    def _yes_no(
        self,
        respondents: list[_Structure],
        rows: list[dict[str, str]],
        column: str,
        index: int,
        offsets: dict[tuple[str, str], float],
    ) -> None:
        """Answer one yes/no question for a whole year.

        Each structure gets a score (territory, type, QPV, its latent propensity and
        some yearly noise); the highest scores say "oui", as many as the year's trend
        asks for. Ranking rather than thresholding keeps the shares on the trend
        whatever the draws, while territories and types still differ.
        """
        trend = YES_NO_TRENDS[column][index]
        if trend is None:
            return  # not asked yet: the action starts later
        condition = load_catalog().by_column[column].condition
        sign = -1.0 if column == "difficultes_gouvernance" else 1.0
        scored = []
        for position, (structure, row) in enumerate(zip(respondents, rows, strict=True)):
            if condition and row[condition] != YES:
                continue
            if self.chance(BLANK_RATE):
                continue
            score = (
                0.6 * structure.territory.offset
                + offsets[structure.territory.nom, column]
                + sign * TYPE_SHIFT[structure.type]
                + QPV_SHIFT.get(column, 0.0) * structure.qpv
                + LATENT_WEIGHT * structure.answers[column]
                + YEARLY_NOISE * self.normal()
            )
            scored.append((score, position))
        yes = round(trend * len(scored))
        for rank, (_, position) in enumerate(sorted(scored, reverse=True)):
            rows[position][column] = YES if rank < yes else NO

    def _codes(
        self, structure: _Structure, column: str, weights: dict[str, float], cap: int
    ) -> str:
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
        order = load_catalog().by_column[column].codes
        return ";".join(code for code in order if code in chosen)

    def _no_communication(self, rows: list[dict[str, str]], structures: list[_Structure]) -> None:
        """Three EVS and one CS say they did not communicate at all in 2022 (one in 2023 too).

        "aucun" is exclusive, so these rows carry it alone; the first year of the plan is
        when such answers are plausible, before action 1 had any effect.
        """
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


# Columns answered by the tuned models above; any other question of the catalog (a new
# one added by an evaluator) is answered by `_Other`.
_TUNED = {"communication_canaux", "communication_autre", *YES_NO_TRENDS, *_FOLLOW_UPS.values()}


class _Other:
    """Plausible answers to a question the tuned models do not know, e.g. a new one.

    Its own generator, seeded by the column's name, so adding a question to the catalog
    changes no other answer of the sample. A yes/no share rises a little each year and
    depends on the structure (answers persist); a list cites a few codes; a free text
    is rare. Years when the question (or a code) is not asked stay blank, and a
    follow-up is answered only when its condition holds.
    """

    def __init__(self, question) -> None:
        self.question = question
        self.rng = random.Random(f"{SEED}:{question.colonne}")

    def answer(self, rows: list[dict[str, str]], structures: dict) -> None:
        question = self.question
        latent = {sid: self.rng.random() for sid in sorted(structures)}
        base = 0.35 + 0.3 * self.rng.random()
        for row in rows:
            year = int(row["annee"])
            if not question.asked_in(year) or not self._condition_met(row):
                continue
            if self.rng.random() < BLANK_RATE:
                continue
            index = year - YEARS[0]
            if question.kind == "oui_non":
                share = base + 0.04 * index
                draw = 0.7 * latent[row["structure_id"]] + 0.3 * self.rng.random()
                row[question.colonne] = YES if draw < share else NO
            elif question.kind == "liste":
                codes = [m.code for m in question.modalites if m.asked_in(year) and not m.exclusive]
                chosen = [c for c in codes if self.rng.random() < 0.3] or codes[:1]
                row[question.colonne] = ";".join(chosen)
            elif self.rng.random() < 0.1:
                row[question.colonne] = "Réponse libre (exemple)"

    def _condition_met(self, row: dict[str, str]) -> bool:
        question = self.question
        if not question.condition:
            return True
        value = row.get(question.condition, "")
        if question.condition_code:
            return question.condition_code in value.split(";")
        return value == YES


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Plain UTF-8 CSV with "\n" line ends, so the committed files diff cleanly in git."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)


COMMUNE_TERRITORIES_FILE = paths.SAMPLE_COMMUNE_TERRITORIES.name


def generate(directory: Path = paths.SAMPLE_DIR) -> None:
    """Write structures.csv, reponses.csv and communes_territoires.csv into `directory`.

    The same code always writes the same bytes, so the committed sample can be
    checked against a fresh run and regenerated on purpose after a change here.
    """
    generator = _Generator()
    structures = generator.structures()
    responses = generator.responses(structures)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / "structures.csv", STRUCTURE_COLUMNS, [s.row() for s in structures])
    _write(directory / "reponses.csv", load_catalog().response_columns, responses)
    write_commune_territories(directory / COMMUNE_TERRITORIES_FILE)


def write_commune_territories(path: Path, background: Path = paths.DEFAULT_BACKGROUND) -> None:
    """The sample's commune -> territory table (`sample_territories.commune_territories`)."""
    rows = [{"code_insee": c, "territoire": t} for c, t in commune_territories(background)]
    _write(path, ("code_insee", "territoire"), rows)


if __name__ == "__main__":
    generate()
