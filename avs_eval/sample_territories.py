"""The sample's territories: where its structures are, and its commune -> territory table.

Hand-tuned for the reports to show what they must: territories of the Métropole and of
the Rhône, of different sizes and dynamism, two of them under the secrecy threshold.
The communes and their INSEE codes are real, so that the maps and joins with public
reference data work. `avs_eval.sample` draws the structures and their answers from
these; the table that puts every commune of the background in a territory is computed
here, from the background's coordinates alone.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from avs_eval import paths
from avs_eval.geographie import MERGED_INTO
from avs_eval.schema import METROPOLE, RHONE


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
        ("Décines-Charpieu", "69275", 2, 0.60),
        ("Meyzieu", "69282", 2, 0.60),
        ("Jonage", "69279", 1, 0.00),
    ),
    _t(
        "Porte des Alpes",
        METROPOLE,
        6,
        -0.10,
        ("Bron", "69029", 3, 0.70),
        ("Saint-Priest", "69290", 3, 0.70),
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
        ("Oullins-Pierre-Bénite", "69149", 2, 0.50),
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

# --- the commune -> territory table for the maps ------------------------------------

# The communes of the Métropole de Lyon in the background's geography (2018): the 58 of
# 2024 plus Pierre-Bénite (69152), merged into Oullins-Pierre-Bénite (69149) in 2024.
# A public fact, written here so that the sample needs no other file; tests/test_cartes.py
# checks it against the reference list in ../shared/reference.
_METROPOLE_CODES = """
    69003 69029 69033 69034 69040 69044 69046 69063 69068 69069 69071 69072 69081 69085 69087
    69088 69089 69091 69096 69100 69116 69117 69123 69127 69142 69143 69149 69152 69153 69163
    69168 69191 69194 69199 69202 69204 69205 69207 69233 69244 69250 69256 69259 69260 69266
    69271 69273 69275 69276 69278 69279 69282 69283 69284 69286 69290 69292 69293 69296
"""
METROPOLE_CODES: tuple[str, ...] = tuple(_METROPOLE_CODES.split())


def commune_territories(background: Path = paths.DEFAULT_BACKGROUND) -> list[tuple[str, str]]:
    """(code_insee, territoire) for every commune of `background`, sorted by code.

    So that the sample's maps show whole territories, as a real commune -> territory
    table would: a commune where the sample has structures keeps their territory; any
    commune merged since into one of them goes with it (Pierre-Bénite with Oullins); any
    other goes to the nearest territory of its own collectivité (Métropole communes to
    Métropole territories, the others to the Rhône's), the distance being the one between
    the commune's centre and the nearest centre of the territory's communes. Plain
    Python arithmetic on the GeoJSON's coordinates (no geometry library, no set
    iterated, ties broken by name), so the file is the same on every machine.
    """
    centres = {code: _centre(rings) for code, rings in _communes(background)}
    seeds = [(t, c.code_insee) for t in TERRITORIES for c in t.communes]
    metropole = frozenset(METROPOLE_CODES)
    owner = {code: territory.nom for territory, code in seeds}
    for old, new in MERGED_INTO.items():
        if old in centres and new in owner:
            owner.setdefault(old, owner[new])
    rows = []
    for code in sorted(centres):
        if code not in owner:
            collectivite = METROPOLE if code in metropole else RHONE
            x, y = centres[code]
            candidates = [
                (math.hypot(x - centres[seed][0], y - centres[seed][1]), territory.nom)
                for territory, seed in seeds
                if territory.collectivite == collectivite and seed in centres
            ]
            owner[code] = min(candidates)[1]
        rows.append((code, owner[code]))
    return rows


# Degrees of longitude are shorter than degrees of latitude: at the Rhône's latitude
# (45.9° N) one of longitude is cos(45.9°) = 0.696 of one of latitude.
_LONGITUDE_SCALE = 0.696


def _communes(background: Path) -> list[tuple[str, list]]:
    """(INSEE code, outer rings) of each feature of a GeoJSON file of communes."""
    with open(background, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    communes = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        communes.append((str(feature["properties"]["code"]), [p[0] for p in polygons]))
    return communes


def _centre(rings: list) -> tuple[float, float]:
    """Area-weighted centroid of outer rings (shoelace formula), longitude scaled."""
    weight = cx = cy = 0.0
    for ring in rings:
        area = x = y = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            area += cross
            x += (x0 + x1) * cross
            y += (y0 + y1) * cross
        if area:  # x / (3 area) is the ring's centroid whichever way the ring turns
            weight += abs(area)
            cx += abs(area) * x / (3 * area)
            cy += abs(area) * y / (3 * area)
    return (cx / weight * _LONGITUDE_SCALE, cy / weight)
