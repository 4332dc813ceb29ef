"""Maps of the territories: the commune shapes, who belongs where, and the drawings.

Partners read territorial evaluations as maps. This module reads a background of
commune shapes (the project's default, `data/fond_de_carte/communes-69.geojson`, or
the user's GeoJSON, GeoPackage or Shapefile), assigns its communes to the register's
territories (a commune -> territory table, or else the communes of each territory's
structures) and draws:

- `synthesis_maps`: one choropleth per headline indicator, small multiples on one
  figure with one colour scale, masked territories hatched and labelled « s »;
- `response_rate_map`: the response rate by territory, with a zoom on the Métropole;
- `locator_map`: a territory within its collectivité, its communes and structures;
- `explorer_map`: the explorer's indicator for its selection.

Public API, in the order a report calls it::

    background = load_background("", "code", "", dataset)   # "" = the defaults
    background = prepare(context)                           # the same, from a Context
    background.warnings                                     # Finding list (codes named)
    background.communes_of("Lyon")                          # names, for the text
    synthesis_maps(background, context.table, 2025, headline, labels)
    response_rate_map(background, context.table, 2025)
    locator_map(background, dataset, "Lyon", 2025)
    explorer_map(background, context.table, selection)

Each returns a matplotlib Figure whose title starts with « Carte » (what
`figures.title_of` and so `report.chart` give as alt text) and which carries a longer
text alternative, `figure.alt_text` (the title, then the values the colours show).
A shared map is drawn once per kernel: the same data give the same Figure object.

Geometry is shapely alone, plus pyogrio (GDAL) imported only to read a GeoPackage or a
Shapefile: shapely costs a kernel about 25 ms to import where geopandas costs about
220 ms and pyogrio 300 ms, and the GeoJSON default needs no GDAL. No reprojection is needed:
structures are placed in their commune (the register has no coordinates), so any
coordinate system of the background serves; longitude/latitude only gets its aspect.

Joins are on the INSEE code, never on the name. Everything that depends on the
background and the register alone (unions of communes into territories and
collectivités, outlines as arrays, positions of the structures) is computed once in
`load_background`, without importing matplotlib, cached by the files' identity, and
picklable, so that a batch can compute it once with its `Context` and every kernel
reuses it.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from avs_eval import paths
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.errors import Finding, ValidationError
from avs_eval.secrecy import MASK, SECRET_SYMBOL

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class _Matplotlib:
    """matplotlib and the project's chart style, imported at the first drawing.

    Reading and preparing a background needs shapely, numpy and pandas only, so that the
    batch's parent process can prepare it with its `Context` without importing
    matplotlib (about a second: see context.py). Drawing functions reach matplotlib
    through `mpl.<name>`.
    """

    def __getattr__(self, name: str):
        from matplotlib.collections import LineCollection, PathCollection
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle
        from matplotlib.path import Path
        from matplotlib.transforms import Bbox

        from avs_eval import figures

        names = {
            "LineCollection": LineCollection,
            "PathCollection": PathCollection,
            "Figure": Figure,
            "Line2D": Line2D,
            "Rectangle": Rectangle,
            "Path": Path,
            "Bbox": Bbox,
            "figures": figures,
        }
        if name not in names:
            raise AttributeError(name)
        self.__dict__.update(names)  # later look-ups skip __getattr__
        return names[name]


mpl = _Matplotlib()

DEFAULT_BACKGROUND = paths.DEFAULT_BACKGROUND
DEFAULT_YEAR = 2018
DEFAULT_SOURCE = "IGN Admin Express, Licence Ouverte"
DEFAULT_FIELD = "code"
WIDTH = 10.0  # inches, as the report's other charts
SAMPLE_COMMUNE_TERRITORIES = paths.SAMPLE_COMMUNE_TERRITORIES
LYON = "69123"
LYON_ARRONDISSEMENTS = tuple(f"6938{k}" for k in range(1, 10))
# Communes merged since the default background's year: old code -> new code. A
# background that still has the old commune draws it with the new one's territory.
MERGED_INTO = {"69152": "69149"}  # Pierre-Bénite -> Oullins-Pierre-Bénite, 1 January 2024
METROPOLE = "Métropole de Lyon"
MAX_NAMES = 24  # commune names tried on a locator map: those with structures, then the largest
NAME_FIELDS = ("nom", "name", "nom_com", "nom_commune", "libelle", "libgeo", "lib_com")

# One colour scale for every map: five classes of 20 points, ColorBrewer's « Blues »
# (sequential, legible in grey and by colour-blind readers).
CLASS_BOUNDS = (0.2, 0.4, 0.6, 0.8)
CLASS_COLORS = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
CLASS_LABELS = ("moins de 20\u00a0%", "20 à 40\u00a0%", "40 à 60\u00a0%", "60 à 80\u00a0%")
CLASS_LABELS += ("80\u00a0% ou plus",)
SHARE_HEADING = "Part des structures du territoire :"
RESPONSE_HEADING = "Part des structures agréées qui ont répondu :"
OUTSIDE_COLOR = "#ececec"
TEXT_GROUND = {
    "boxstyle": "square,pad=0.15",
    "facecolor": "white",
    "alpha": 0.75,
    "edgecolor": "none",
}  # communes outside every territory
NO_DATA_COLOR = "#ffffff"
SECRET_FACE = "#d9d9d9"
HATCH = "////"
BORDER_COLOR = "#555555"
COLLECTIVITE_COLOR = "#111111"
# avs_eval.figures.PALETTE's first three colours (tests/test_cartes.py checks they still are)
HIGHLIGHT_COLOR = "#0b5394"
SAME_COLLECTIVITE = "#c6d7ea"
TYPE_STYLES = {  # CS and EVS as points: shape and colour both differ
    "CS": {"marker": "o", "color": "#e69138", "label": "centre social (CS)"},
    "EVS": {"marker": "^", "color": "#6aa84f", "label": "espace de vie sociale (EVS)"},
}


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shapes:
    """Commune polygons as read from a background file, one per INSEE code."""

    label: str  # the file, as named in messages
    geometry: dict[str, object]  # code -> shapely (Multi)Polygon
    names: dict[str, str]  # code -> commune name (the code when the file has none)
    year: int | None
    source: str


def _stamp(path: Path) -> tuple:
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


_SHAPES: dict[tuple, Shapes] = {}


def read_shapes(fond_de_carte: str | Path = "", champ_insee: str = DEFAULT_FIELD) -> Shapes:
    """The communes of department 69 in a GeoJSON, GeoPackage or Shapefile.

    Empty `fond_de_carte`: the project's default. `champ_insee` names the property
    holding the INSEE code. A file that cannot be read, or has no such property, raises
    a `ValidationError` naming the file (and the properties it does have).
    """
    path = paths.resolve(fond_de_carte) if fond_de_carte else DEFAULT_BACKGROUND
    label = paths.display_path(path)
    champ = (champ_insee or DEFAULT_FIELD).strip()
    if not path.exists():
        raise _unreadable(label, "fichier introuvable")
    key = (_stamp(path), champ)
    if key not in _SHAPES:
        records = _records(path, label)
        _SHAPES.clear()  # one background at a time: a kernel does not switch often
        _SHAPES[key] = _shapes(path, label, champ, records)
    return _SHAPES[key]


def _unreadable(label: str, reason: str) -> ValidationError:
    message = f"fond de carte illisible : {reason}"
    return ValidationError([Finding(label, None, None, None, message)])


def _records(path: Path, label: str) -> tuple[list[str], list[list], list]:
    """(field names, rows of field values, shapely geometries) of every feature."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            with open(path, encoding="utf-8-sig") as handle:
                features = json.load(handle)["features"]
            fields = list(dict.fromkeys(k for f in features for k in (f["properties"] or {})))
            rows = [[(f["properties"] or {}).get(k) for k in fields] for f in features]
            shapes = [
                shapely.geometry.shape(f["geometry"]) if f["geometry"] else None for f in features
            ]
        except (
            OSError,
            UnicodeDecodeError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            shapely.errors.ShapelyError,
        ) as exc:
            reason = f"ce n'est pas un GeoJSON de communes ({_reason(exc)})"
            raise _unreadable(label, reason) from None
        return fields, rows, shapes
    if suffix not in (".gpkg", ".shp"):
        raise _unreadable(
            label,
            f"format « {suffix or 'sans extension'} » non pris en charge : "
            "GeoJSON (.geojson), GeoPackage (.gpkg) ou Shapefile (.shp) attendu",
        )
    # GDAL: only for these formats, so that the default costs a kernel no import
    from pyogrio.raw import read

    try:
        meta, _, wkb, values = read(path)
    except (RuntimeError, OSError, ValueError) as exc:  # pyogrio's errors are RuntimeErrors
        raise _unreadable(label, _reason(exc)) from None
    if wkb is None:
        raise _unreadable(label, "le fichier ne contient aucune géométrie")
    fields = [str(name) for name in meta["fields"]]
    rows = [list(row) for row in zip(*values, strict=True)] if fields else [[] for _ in wkb]
    shapes = [None if w is None else shapely.from_wkb(w) for w in wkb]
    return fields, rows, shapes


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _shapes(path: Path, label: str, champ: str, records) -> Shapes:
    fields, rows, geometries = records
    by_name = {name.lower(): k for k, name in enumerate(fields)}
    if champ.lower() not in by_name:
        shown = ", ".join(f"« {name} »" for name in fields[:15]) or "aucune"
        message = (
            f"la propriété « {champ} », qui doit porter le code INSEE des communes, n'existe "
            f"pas dans ce fond de carte (propriétés présentes : {shown}) : indiquez la bonne "
            "avec --champ-insee"
        )
        raise ValidationError([Finding(label, None, champ, None, message)])
    column = by_name[champ.lower()]
    name_column = next((by_name[n] for n in NAME_FIELDS if n in by_name), None)
    parts: dict[str, list] = {}
    names: dict[str, str] = {}
    for row, geometry in zip(rows, geometries, strict=True):
        code = _code(row[column])
        if not code.startswith("69") or geometry is None or geometry.is_empty:
            continue  # a national file: the department's communes only
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        parts.setdefault(code, []).append(geometry)
        if name_column is not None and row[name_column]:
            names.setdefault(code, str(row[name_column]))
    if not parts:
        raise ValidationError(
            [
                Finding(
                    label,
                    None,
                    champ,
                    None,
                    "aucune commune du Rhône (code INSEE commençant par 69) dans ce fond de "
                    "carte : vérifiez le fichier et la propriété du code INSEE (--champ-insee)",
                )
            ]
        )
    geometry = {
        code: (shapes[0] if len(shapes) == 1 else shapely.union_all(shapes))
        for code, shapes in sorted(parts.items())
    }
    default = path == DEFAULT_BACKGROUND
    year = DEFAULT_YEAR if default else _year_in(path.name)
    source = DEFAULT_SOURCE if default else path.name
    return Shapes(label, geometry, {c: names.get(c, c) for c in geometry}, year, source)


def _code(value: object) -> str:
    """An INSEE code as text: 69123 (number or text) -> "69123"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if value is not None else ""
    return text.zfill(5) if text.isdigit() and len(text) == 4 else text


def _year_in(name: str) -> int | None:
    years = re.findall(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", name)
    return int(years[-1]) if years else None


def read_commune_territories(path: str | Path) -> tuple[pd.DataFrame, list[Finding]]:
    """The `code_insee,territoire` table (CSV or XLSX) with each row's spreadsheet line.

    Returns (rows with `code_insee`, `territoire`, `ligne`; errors). A file that cannot
    be read raises `ValidationError`; malformed rows are returned as errors, all at once.
    """
    from avs_eval.reading import LINE, ReadFailure, read_table

    file = paths.resolve(path)
    label = paths.display_path(file)
    try:
        raw = read_table(file, label)
    except ReadFailure as exc:
        raise ValidationError([exc.finding]) from None
    missing = [c for c in ("code_insee", "territoire") if c not in raw.frame.columns]
    if missing:
        names = " et ".join(f"« {c} »" for c in missing)
        message = f"colonne {names} absente : la table commune → territoire a deux colonnes, "
        message += "code_insee et territoire"
        raise ValidationError([Finding(label, raw.header_line, None, None, message)])
    frame = raw.frame.rename(columns={LINE: "ligne"})[["code_insee", "territoire", "ligne"]]
    errors = []
    seen: dict[str, tuple[str, int]] = {}
    for code, territoire, line in frame.itertuples(index=False):
        if not re.fullmatch(r"69\d{3}", code):
            errors.append(
                Finding(
                    label,
                    line,
                    "code_insee",
                    code,
                    "code INSEE de 5 chiffres commençant par 69 attendu",
                )
            )
        elif code in seen and seen[code][0] != territoire:
            errors.append(
                Finding(
                    label,
                    line,
                    "territoire",
                    territoire,
                    f"la commune {code} est déjà "
                    f"affectée au territoire « {seen[code][0]} » (ligne {seen[code][1]})",
                )
            )
        seen.setdefault(code, (territoire, line))
    return frame[frame["territoire"] != ""].drop_duplicates("code_insee"), errors


# --- the background: shapes joined to the register -------------------------------------------


@dataclass
class Background:
    """Everything the maps need that does not depend on the indicators, computed once.

    `territory_of` maps each commune drawn in a territory to it; `warnings` name what
    could not be drawn (register codes missing from the shapes, unknown territories),
    each with its file, line, column and value.
    """

    shapes: Shapes
    territory_of: dict[str, str]
    collectivite_of: dict[str, str]  # territory -> collectivité
    code_of_register: dict[str, str]  # register / table code -> code of the shapes
    points: pd.DataFrame  # one row per structure: structure_id, type, territoire, x, y, annees
    warnings: list[Finding]
    geographic: bool
    key: tuple = ()
    territory_geometry: dict[str, object] = field(default_factory=dict)
    collectivite_geometry: dict[str, object] = field(default_factory=dict)
    territory_paths: dict[str, Rings] = field(default_factory=dict)
    outside_path: Rings | None = None
    collectivite_lines: list = field(default_factory=list)  # boundary between collectivités
    outline_lines: list = field(default_factory=list)  # the department's outline
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)  # label points

    @property
    def year(self) -> int | None:
        return self.shapes.year

    @property
    def caption(self) -> str:
        """The map's source line, with the year of its communes."""
        year = f"géographie {self.year}" if self.year else "année du fond non précisée"
        return f"Fond de carte : communes, {year} ({self.shapes.source})."

    @property
    def aspect(self) -> float:
        """Degrees of longitude are shorter than those of latitude, by cos(latitude)."""
        if not self.geographic:
            return 1.0
        _, miny, _, maxy = self._bounds
        return 1 / math.cos(math.radians((miny + maxy) / 2))

    @property
    def _bounds(self) -> tuple[float, float, float, float]:
        return tuple(shapely.total_bounds(list(self.shapes.geometry.values())))

    def communes_of(self, territoire: str) -> list[str]:
        """Names of the territory's communes, in alphabetical order (French)."""
        from avs_eval.schema import sort_key

        names = [self.shapes.names[c] for c, t in self.territory_of.items() if t == territoire]
        return sorted(names, key=sort_key)

    def warning_lines(self) -> list[str]:
        """The warnings as short French sentences, for a report's data-quality block."""
        return [str(finding) for finding in self.warnings]


_BACKGROUNDS: dict[tuple, Background] = {}


def load_background(
    fond_de_carte: str | Path = "",
    champ_insee: str = DEFAULT_FIELD,
    communes_territoires: str | Path = "",
    dataset=None,
) -> Background:
    """The background joined to the register of `dataset` (a `loading.Dataset`).

    `fond_de_carte` empty: the project's shapes (2018). `communes_territoires` empty:
    the sample's table when `dataset` is the sample, otherwise none (each territory is
    then drawn as the communes of its structures). Cached by the files' identity and
    the register's content, so a warm kernel reuses it; picklable, so a batch can
    compute it once. Raises `ValidationError` for a file that cannot be used.
    """
    shapes = read_shapes(fond_de_carte, champ_insee)
    table_path = _table_path(communes_territoires, dataset)
    register = dataset.structures
    key = (
        shapes.label,
        id(shapes),
        _stamp(table_path) if table_path and table_path.is_file() else str(table_path),
        tuple(sorted(getattr(dataset, "hashes", {}).items()))
        or pd.util.hash_pandas_object(register[["code_insee", "territoire"]]).sum(),
    )
    cached = _BACKGROUNDS.get(key)
    if cached is not None:
        return cached
    background = _join(shapes, register, dataset, table_path)
    background.key = (shapes.label, shapes.year, key[2], key[3])
    _prepare(background)
    _BACKGROUNDS.clear()
    _BACKGROUNDS[key] = background
    return background


def prepare(context, fond_de_carte="", champ_insee=DEFAULT_FIELD, communes_territoires=""):
    """The background of a `Context`'s data: what a batch computes once and shares.

    For `context.build_context` to call after the indicators and keep in the pickled
    Context (a `Background` pickles), so that no kernel reads or unions shapes again.
    """
    return load_background(fond_de_carte, champ_insee, communes_territoires, context.dataset)


def _table_path(communes_territoires, dataset) -> Path | None:
    if communes_territoires:
        return paths.resolve(communes_territoires)
    source = getattr(dataset, "source", None)
    if source is not None and source.is_sample and SAMPLE_COMMUNE_TERRITORIES.exists():
        return SAMPLE_COMMUNE_TERRITORIES
    return None


def _register_label(dataset) -> str:
    source = getattr(dataset, "source", None)
    files = getattr(source, "files", None) or []
    return paths.display_path(files[0]) if files else "registre des structures"


def _join(shapes: Shapes, register: pd.DataFrame, dataset, table_path) -> Background:
    warnings: list[Finding] = []
    known = set(shapes.geometry)
    collectivite_of = dict(zip(register["territoire"], register["collectivite"], strict=False))
    table = None
    if table_path is not None:
        table, errors = read_commune_territories(table_path)
        if errors:
            raise ValidationError(errors)
    used = set(register["code_insee"]) | (set(table["code_insee"]) if table is not None else set())
    has_arrondissements = known.intersection(LYON_ARRONDISSEMENTS)
    uses_arrondissements = used.intersection(LYON_ARRONDISSEMENTS)

    def shape_code(code: str) -> str:
        if code in LYON_ARRONDISSEMENTS and (
            not has_arrondissements or (LYON in used and uses_arrondissements)
        ):
            return LYON
        return code

    geometry = dict(shapes.geometry)
    if has_arrondissements and LYON in used and LYON not in known:
        # shapes with arrondissements, a register with Lyon as one commune: dissolve them
        geometry[LYON] = shapely.union_all([geometry.pop(c) for c in sorted(has_arrondissements)])
        known = set(geometry)
        if LYON not in shapes.names:
            shapes = Shapes(
                shapes.label, geometry, {**shapes.names, LYON: "Lyon"}, shapes.year, shapes.source
            )
    if geometry is not shapes.geometry:
        names = {c: shapes.names.get(c, "Lyon" if c == LYON else c) for c in geometry}
        shapes = Shapes(shapes.label, geometry, names, shapes.year, shapes.source)

    # the register's codes: where its structures are drawn
    label = _register_label(dataset)
    code_of = {code: shape_code(code) for code in sorted(used)}
    missing = register[~register["code_insee"].map(code_of).isin(known)]
    for code, group in missing.groupby("code_insee", sort=True):
        line = int(group["_ligne"].min()) if "_ligne" in group else None
        ids = ", ".join(group["structure_id"].astype(str))
        which = (
            f"ses {len(group)} structures ({ids}) ne figurent"
            if len(group) > 1
            else f"sa structure ({ids}) ne figure"
        )
        message = (
            f"code INSEE absent du fond de carte ({_geography(shapes)}) : {which} sur aucune "
            "carte (commune fusionnée ou créée depuis, ou code mal saisi ?) ; les indicateurs "
            "en tiennent compte"
        )
        warnings.append(Finding(label, line, "code_insee", str(code), message))

    territory_of: dict[str, str] = {}
    rows_of: dict[str, tuple[str, int]] = {}  # commune -> (table, line) that assigned it
    if table is not None:
        table_label = paths.display_path(table_path)
        territories = set(collectivite_of)
        for code, territoire, line in table.itertuples(index=False):
            target = code_of.get(code, shape_code(code))
            if territoire not in territories:
                warnings.append(
                    Finding(
                        table_label,
                        line,
                        "territoire",
                        territoire,
                        "territoire inconnu du registre des structures : la commune "
                        f"{code} reste en gris sur les cartes",
                    )
                )
            elif target not in known:
                warnings.append(
                    Finding(
                        table_label,
                        line,
                        "code_insee",
                        code,
                        f"code INSEE absent du fond de carte ({_geography(shapes)}) : "
                        "cette commune n'est pas dessinée",
                    )
                )
            else:
                territory_of.setdefault(target, territoire)
                rows_of.setdefault(target, (table_label, line))
    # the communes of the register's structures (all of them when there is no table)
    counts = register.assign(_code=register["code_insee"].map(code_of))
    counts = counts[counts["_code"].isin(known)]
    for code, group in counts.groupby("_code", sort=True):
        own = group["territoire"].value_counts().index[0]
        if code not in territory_of:
            territory_of[code] = own
        elif territory_of[code] not in set(group["territoire"]):
            where, line = rows_of[code]
            warnings.append(
                Finding(
                    where,
                    line,
                    "territoire",
                    territory_of[code],
                    f"la commune {code} a des structures du territoire « {own} » dans le "
                    "registre : la carte la dessine dans le territoire de la table, et les "
                    f"structures de « {own} » y apparaissent hors de leur territoire",
                )
            )
    if table is None:
        for old, new in MERGED_INTO.items():
            if old in known and old not in territory_of and new in territory_of:
                territory_of[old] = territory_of[new]

    points = _points(shapes, counts)
    bounds = shapely.total_bounds(list(shapes.geometry.values()))
    geographic = bool(bounds[0] >= -180 and bounds[2] <= 180 and -90 <= bounds[1] <= 90)
    return Background(
        shapes,
        dict(sorted(territory_of.items())),
        collectivite_of,
        code_of,
        points,
        warnings,
        geographic,
    )


def _geography(shapes: Shapes) -> str:
    return f"géographie {shapes.year}" if shapes.year else shapes.label


def _points(shapes: Shapes, register: pd.DataFrame) -> pd.DataFrame:
    """Where each structure is drawn: spread around a point inside its commune.

    The register has no addresses, so a structure stands in its commune; several
    structures of one commune are spread in a sunflower pattern (each at its own
    place, none on another) within the commune, in the register's order.
    """
    rows = []
    golden = math.pi * (3 - math.sqrt(5))
    columns = ["structure_id", "type", "territoire", "annee_debut", "annee_fin", "_code"]
    by_code: dict[str, list] = {}
    for record in register[columns].to_dict("records"):  # plain dicts: 20x faster than rows
        by_code.setdefault(record["_code"], []).append(SimpleNamespace(**record))
    for code, group in sorted(by_code.items()):
        shape = shapes.geometry[code]
        centre = shape.representative_point()
        count = len(group)
        radius = 0.45 * math.sqrt(shape.area / math.pi)
        for k, structure in enumerate(group):
            r = radius * math.sqrt((k + 0.5) / count) if count > 1 else 0.0
            x = centre.x + r * math.cos(k * golden)
            y = centre.y + r * math.sin(k * golden)
            if not shape.contains(shapely.Point(x, y)):
                x, y = centre.x, centre.y
            rows.append(
                {
                    "structure_id": structure.structure_id,
                    "type": structure.type,
                    "territoire": structure.territoire,
                    "code": code,
                    "x": x,
                    "y": y,
                    "annee_debut": structure.annee_debut,
                    "annee_fin": structure.annee_fin,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "structure_id",
            "type",
            "territoire",
            "code",
            "x",
            "y",
            "annee_debut",
            "annee_fin",
        ],
    )


def _prepare(background: Background) -> None:
    """Unions and matplotlib paths: the costly part, done once per background."""
    geometry = background.shapes.geometry
    by_territory: dict[str, list] = {}
    for code, territoire in background.territory_of.items():
        by_territory.setdefault(territoire, []).append(geometry[code])
    for territoire, parts in sorted(by_territory.items()):
        background.territory_geometry[territoire] = _dissolve(parts)
        background.territory_paths[territoire] = _path(background.territory_geometry[territoire])
        background.anchors[territoire] = _anchor(background.territory_geometry[territoire])
    by_collectivite: dict[str, list] = {}
    for territoire, shape in background.territory_geometry.items():
        collectivite = background.collectivite_of.get(territoire, "")
        by_collectivite.setdefault(collectivite, []).append(shape)
    for collectivite, parts in sorted(by_collectivite.items()):
        background.collectivite_geometry[collectivite] = _dissolve(parts)
    outside = [g for c, g in geometry.items() if c not in background.territory_of]
    background.outside_path = _path(_dissolve(outside)) if outside else None
    everything = _dissolve(list(geometry.values()))
    background.outline_lines = _lines(everything.boundary)
    if len(background.collectivite_geometry) > 1:
        # the line between collectivités: the Métropole's (or the first one's) outline,
        # less the department's outline
        first = background.collectivite_geometry.get(METROPOLE)
        if first is None:
            first = next(iter(background.collectivite_geometry.values()))
        seam = 1e-4 if background.geographic else 10.0  # 10 m: a vertex rounded apart
        inner = first.boundary.difference(everything.boundary.buffer(seam))
        background.collectivite_lines = _lines(inner)


def _dissolve(parts: list):
    """The union of communes, without their inner borders.

    Communes tile the land without overlapping, sharing their borders vertex for vertex:
    a coverage union (100 times faster than a general one) is exact then. A background
    whose borders do not match (overlaps, gaps, rounded vertices) gets the general union.
    """
    if len(parts) == 1:
        return parts[0]
    union = shapely.coverage_union_all(parts)
    total = float(sum(part.area for part in parts))
    if union.is_valid and abs(union.area - total) <= 1e-6 * total:
        return union
    return shapely.union_all(parts)


def _anchor(shape) -> tuple[float, float]:
    """Where a name goes: the point of the largest part farthest from its edges."""
    from shapely.ops import polylabel

    parts = [p for p in getattr(shape, "geoms", [shape]) if p.geom_type == "Polygon"]
    if not parts:
        point = shape.representative_point()
        return (point.x, point.y)
    largest = max(parts, key=lambda p: p.area)
    point = polylabel(largest, tolerance=math.sqrt(largest.area) / 50)
    return (point.x, point.y)


# matplotlib's path codes (matplotlib.path.Path.MOVETO, LINETO, CLOSEPOLY)
MOVETO, LINETO, CLOSEPOLY = 1, 2, 79
Rings = tuple[np.ndarray, np.ndarray]  # vertices and path codes: a matplotlib path to be


def _path(shape) -> Rings:
    """A shapely (Multi)Polygon as the vertices and codes of one path, holes included."""
    vertices, codes = [], []
    for polygon in getattr(shape, "geoms", [shape]):
        if polygon.geom_type in ("MultiPolygon", "GeometryCollection"):
            sub_vertices, sub_codes = _path(polygon)
            vertices.append(sub_vertices)
            codes.append(sub_codes)
            continue
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)
            ring_codes = np.full(len(xy), LINETO, dtype=np.uint8)
            ring_codes[0] = MOVETO
            ring_codes[-1] = CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    if not vertices:
        return (np.zeros((1, 2)), np.array([MOVETO], dtype=np.uint8))
    return (np.concatenate(vertices), np.concatenate(codes))


def _drawable(rings: Rings):
    """The matplotlib path of prepared rings."""
    return mpl.Path(rings[0], rings[1])


def _lines(shape) -> list:
    """A shapely line (or several) as a list of (n, 2) arrays for a LineCollection."""
    parts = getattr(shape, "geoms", [shape])
    return [np.asarray(line.coords) for line in parts if not line.is_empty and line.length]


# --- values ------------------------------------------------------------------------------


def territory_values(
    table: pd.DataFrame, annee: int, indicateur: str, modalite: str = "", type: str = "Ensemble"
) -> pd.DataFrame:
    """perimetre -> part, masque for the territories, one year, one indicator."""
    rows = table[
        (table["annee"] == annee)
        & (table["niveau"] == "territoire")
        & (table["indicateur"] == indicateur)
        & (table["modalite"] == modalite)
        & (table["type"] == type)
    ]
    return rows.set_index("perimetre")[["part", MASK]]


def class_of(share: float) -> int:
    """The colour class of a share: 0 (under 20 %) to 4 (80 % or more)."""
    return int(np.searchsorted(CLASS_BOUNDS, share, side="right"))


# --- drawing -------------------------------------------------------------------------------


def _frame(ax, background: Background, extent=None) -> None:
    ax.set_aspect(background.aspect)
    ax.set_axis_off()
    minx, miny, maxx, maxy = extent if extent is not None else background._bounds
    pad_x, pad_y = (maxx - minx) * 0.02, (maxy - miny) * 0.02
    ax.set_xlim(minx - pad_x, maxx + pad_x)
    ax.set_ylim(miny - pad_y, maxy + pad_y)


def _choropleth(ax, background: Background, values: pd.DataFrame, extent=None) -> list:
    """Territories coloured by class, masked ones hatched with « s ».

    Returns the display boxes of the « s », for labels added afterwards to avoid.
    """
    _frame(ax, background, extent)
    if background.outside_path is not None:
        ax.add_collection(
            mpl.PathCollection(
                [_drawable(background.outside_path)], facecolors=OUTSIDE_COLOR, edgecolors="none"
            ),
            autolim=False,
        )
    shown, colors, secret, missing = [], [], [], []
    for territoire, rings in background.territory_paths.items():
        path = _drawable(rings)
        if territoire not in values.index:
            missing.append(path)
            continue
        row = values.loc[territoire]
        if bool(row[MASK]):
            secret.append(territoire)
        elif pd.isna(row["part"]):
            missing.append(path)
        else:
            shown.append(path)
            colors.append(CLASS_COLORS[class_of(float(row["part"]))])
    border = {"edgecolors": BORDER_COLOR, "linewidths": 0.5}
    ax.add_collection(mpl.PathCollection(shown, facecolors=colors, **border), autolim=False)
    ax.add_collection(
        mpl.PathCollection(missing, facecolors=NO_DATA_COLOR, **border), autolim=False
    )
    hatched = mpl.PathCollection(
        [_drawable(background.territory_paths[t]) for t in secret],
        facecolors=SECRET_FACE,
        **border,
    )
    hatched.set_hatch(HATCH)
    hatched.set_gid("secret")
    ax.add_collection(hatched, autolim=False)
    _boundaries(ax, background)
    # « s » on each masked territory, moved off a neighbour's « s » where they crowd
    labels = [(background.anchors[t], SECRET_SYMBOL) for t in secret]
    renderer = ax.figure.canvas.get_renderer()
    style = {"fontsize": 9, "weight": "bold", "color": "#8c4a00", "gid": "secret-label"}
    return _place_labels(ax, labels, renderer, [], **style)


def _boundaries(ax, background: Background) -> None:
    ax.add_collection(
        mpl.LineCollection(background.outline_lines, colors=BORDER_COLOR, linewidths=0.8),
        autolim=False,
    )
    ax.add_collection(
        mpl.LineCollection(
            background.collectivite_lines, colors=COLLECTIVITE_COLOR, linewidths=1.8
        ),
        autolim=False,
    )


def _legend_columns(width: float, entries: list[tuple[str, dict]]) -> int:
    """As many columns as the widest label allows in `width` inches (at most 4)."""
    widest = max(_text_width(label) for label, _ in entries)
    cell = widest + 0.42 + 0.3  # sample, gap, room before the next column
    return max(1, min(4, int((width - 0.6) // cell)))


@functools.lru_cache(maxsize=64)
def _text_width(text: str, size: float = 9) -> float:
    """Width in inches of a legend label, from the font's metrics (no drawing)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(family="DejaVu Sans", size=size)
    width, _, _ = TextToPath().get_text_width_height_descent(text, font, ismath=False)
    return width / 72


def _legend_height(width: float, entries: list[tuple[str, dict]]) -> float:
    return math.ceil(len(entries) / _legend_columns(width, entries)) * 0.3


def _legend(figure: Figure, y: float, entries: list[tuple[str, dict]]) -> float:
    """A legend of boxes and lines laid out by hand in rows (inches from the bottom).

    Returns the height used. `entries`: (label, style) where style has `facecolor`
    (a box, optionally `hatch`) or `color` (a line). Columns as many as fit.
    """
    inches = figure.dpi_scale_trans
    width = figure.get_figwidth()
    columns = _legend_columns(width, entries)
    cell = (width - 0.6) / columns
    rows = math.ceil(len(entries) / columns)
    for k, (label, style) in enumerate(entries):
        row, column = divmod(k, columns)
        x = 0.3 + column * cell
        top = y + (rows - 1 - row) * 0.3
        if "facecolor" in style:
            box = mpl.Rectangle(
                (x, top),
                0.32,
                0.18,
                transform=inches,
                edgecolor=BORDER_COLOR,
                linewidth=0.5,
                **style,
            )
            figure.add_artist(box)
        else:
            figure.add_artist(
                mpl.Line2D([x, x + 0.32], [top + 0.09] * 2, transform=inches, **style)
            )
        figure.text(x + 0.42, top + 0.09, label, va="center", fontsize=9, transform=inches)
    return rows * 0.3


def _class_entries() -> list[tuple[str, dict]]:
    return [
        (label, {"facecolor": color})
        for label, color in zip(CLASS_LABELS, CLASS_COLORS, strict=True)
    ]


def _other_entries(background: Background, secret: bool, missing: bool) -> list:
    entries = []
    if secret:
        entries.append(("« s » : secret statistique", {"facecolor": SECRET_FACE, "hatch": HATCH}))
    if missing:
        entries.append(("pas de donnée", {"facecolor": NO_DATA_COLOR}))
    if background.outside_path is not None:
        entries.append(("commune hors territoire", {"facecolor": OUTSIDE_COLOR}))
    entries.append(("limite de territoire", {"color": BORDER_COLOR, "linewidth": 0.8}))
    if background.collectivite_lines:
        entries.append(
            ("limite Métropole de Lyon / Rhône", {"color": COLLECTIVITE_COLOR, "linewidth": 1.8})
        )
    return entries


def _caption(figure: Figure, background: Background, extra: str = "") -> None:
    text = f"{extra} {background.caption}".strip()
    figure.text(
        0.3,
        0.12,
        mpl.figures.wrap(text, 150),
        fontsize=8,
        color="#444",
        transform=figure.dpi_scale_trans,
        va="bottom",
    )


def _has_missing(background: Background, values: pd.DataFrame) -> bool:
    for territoire in background.territory_paths:
        if territoire not in values.index:
            return True
        row = values.loc[territoire]
        if not bool(row[MASK]) and pd.isna(row["part"]):
            return True
    return False


_FIGURES: dict[tuple, Figure] = {}


def _cached(key: tuple, draw) -> Figure:
    """A shared map is drawn once per kernel: the synthesis is not redrawn per call."""
    if key not in _FIGURES:
        while len(_FIGURES) >= 8:
            del _FIGURES[next(iter(_FIGURES))]
        _FIGURES[key] = draw()
    return _FIGURES[key]


def _table_key(table: pd.DataFrame, annee: int, names: Iterable[str]) -> int:
    rows = table[(table["annee"] == annee) & table["indicateur"].isin(list(names))]
    return int(pd.util.hash_pandas_object(rows, index=False).sum())


def synthesis_maps(
    background: Background,
    table: pd.DataFrame,
    annee: int,
    headline: list[str],
    labels: dict[str, str] | None = None,
) -> Figure:
    """One choropleth per headline indicator, on one figure with one colour scale.

    `table` is the masked indicator table (`Context.table`); `headline` the indicators
    (the catalog's headline figures asked in `annee`); `labels` their French labels
    (the catalog's by default). Masked territories are hatched and labelled « s ».
    """
    names = list(headline)
    if labels is None:
        catalog = load_catalog()
        labels = {name: catalog.label(name) for name in names}
    key = (
        "synthese",
        background.key,
        annee,
        tuple(names),
        tuple(labels[n] for n in names),
        _table_key(table, annee, names),
    )
    return _cached(key, lambda: _synthesis(background, table, annee, names, labels))


def _synthesis(background, table, annee, names, labels) -> Figure:
    count = max(len(names), 1)
    columns = 4 if count > 6 else min(3, count)
    rows = math.ceil(count / columns)
    minx, miny, maxx, maxy = background._bounds
    panel_width = (10 - 0.4) / columns
    ratio = (maxy - miny) * background.aspect / (maxx - minx)
    panel_height = min(panel_width * ratio, 4.0)
    title_room = 0.5  # each panel's title, on two lines
    values = {name: territory_values(table, annee, name) for name in names}
    secret = any(v[MASK].any() for v in values.values())
    missing = any(_has_missing(background, v) for v in values.values())
    legend = _class_entries() + _other_entries(background, secret, missing)
    legend_height = _legend_height(WIDTH, legend)
    bottom = 0.55 + legend_height + 0.35
    height = 0.9 + rows * (panel_height + title_room) + bottom
    figure = mpl.Figure(figsize=(WIDTH, height), dpi=mpl.figures.DPI)
    mpl.figures.FigureCanvasAgg(figure)
    for k, name in enumerate(names):
        row, column = divmod(k, columns)
        left = 0.2 + column * panel_width
        top = height - 0.9 - row * (panel_height + title_room) - title_room
        ax = figure.add_axes(
            (left / 10, (top - panel_height) / height, panel_width / 10, panel_height / height)
        )
        _choropleth(ax, background, values[name])
        ax.set_title(
            mpl.figures.wrap(labels[name], 30 if columns > 3 else 40),
            fontsize=9,
            weight="bold",
            pad=3,
            loc="center",
        )
    figure.suptitle(
        f"Carte des indicateurs clés par territoire en {annee}, une carte par indicateur",
        fontsize=12,
        weight="bold",
        y=1 - 0.2 / height,
        va="top",
        x=0.03,
        ha="left",
    )
    figure.text(
        0.3,
        height - 0.62,
        "Plus la couleur est foncée, plus la part des structures "
        "du territoire est élevée. Même échelle pour toutes les cartes.",
        fontsize=9,
        transform=figure.dpi_scale_trans,
    )
    figure.text(
        0.3,
        0.5 + legend_height + 0.08,
        SHARE_HEADING,
        fontsize=9,
        weight="bold",
        transform=figure.dpi_scale_trans,
    )
    _legend(figure, 0.5, legend)
    _caption(figure, background)
    _describe(
        figure,
        f"Indicateurs : {' ; '.join(labels[n] for n in names)}. "
        "Chaque territoire est coloré selon la part de ses structures, en cinq classes de 20 "
        "points ; les valeurs figurent dans le tableau des indicateurs par territoire.",
    )
    return figure


def _describe(figure: Figure, details: str) -> None:
    """The map's text alternative: its title, then what a sighted reader sees on it.

    Set as `figure.alt_text`; `title_of(figure)` (the title alone, « Carte … ») remains
    the short one. A screen reader gets the values too, which a map shows only as colours.
    """
    title = " ".join(figure.get_suptitle().split())
    figure.alt_text = f"{title}. {details}".strip() if details else title


def _values_text(background: Background, values: pd.DataFrame, what: str) -> str:
    """« Taux de réponse par territoire : Lyon 93 % ; Ouest Nord s ; … »."""
    from avs_eval.schema import sort_key

    parts = []
    for territoire in sorted(background.territory_paths, key=sort_key):
        if territoire not in values.index:
            continue
        row = values.loc[territoire]
        if bool(row[MASK]):
            shown = f"{SECRET_SYMBOL} (secret statistique)"
        elif pd.isna(row["part"]):
            shown = "pas de donnée"
        else:
            shown = mpl.figures.percent(float(row["part"]))
        parts.append(f"{territoire} {shown}")
    return f"{what} par territoire : {' ; '.join(parts)}." if parts else ""


def response_rate_map(background: Background, table: pd.DataFrame, annee: int) -> Figure:
    """The response rate by territory: the department, and the Métropole enlarged."""
    key = ("reponse", background.key, annee, _table_key(table, annee, [RESPONSE_RATE]))
    return _cached(key, lambda: _response_rate(background, table, annee))


def _response_rate(background: Background, table: pd.DataFrame, annee: int) -> Figure:
    values = territory_values(table, annee, RESPONSE_RATE)
    zoom = background.collectivite_geometry.get(METROPOLE)
    panels = [None] + ([zoom.bounds] if zoom is not None else [])
    width, map_height = WIDTH, 5.6
    legend = _class_entries() + _other_entries(
        background, bool(values[MASK].any()), _has_missing(background, values)
    )
    legend_height = _legend_height(WIDTH, legend)
    bottom = 0.55 + legend_height + 0.35
    height = 0.8 + map_height + bottom
    figure = mpl.Figure(figsize=(width, height), dpi=mpl.figures.DPI)
    mpl.figures.FigureCanvasAgg(figure)
    renderer = figure.canvas.get_renderer()
    placed: list = []
    panel_width = (width - 0.4) / len(panels)
    for k, extent in enumerate(panels):
        ax = figure.add_axes(
            (
                (0.2 + k * panel_width) / width,
                bottom / height,
                (panel_width - 0.2) / width,
                map_height / height,
            )
        )
        placed += _choropleth(ax, background, values, extent)
        ax.set_title(
            "Tout le département" if extent is None else "Métropole de Lyon agrandie",
            fontsize=10,
            weight="bold",
        )
        inside = [
            t
            for t in background.territory_paths
            if (extent is None) == (background.collectivite_of.get(t) != METROPOLE) or zoom is None
        ]
        labels = []
        for territoire in inside:
            if territoire not in values.index or bool(values.loc[territoire, MASK]):
                continue  # « s » is already there
            share = values.loc[territoire, "part"]
            text = f"{mpl.figures.wrap(territoire, 16)}\n" + (
                "–" if pd.isna(share) else mpl.figures.percent(float(share))
            )
            labels.append((background.anchors[territoire], text))
        if extent is None and zoom is not None:
            ax.add_patch(
                mpl.Rectangle(
                    zoom.bounds[:2],
                    zoom.bounds[2] - zoom.bounds[0],
                    zoom.bounds[3] - zoom.bounds[1],
                    fill=False,
                    edgecolor="#b00020",
                    linewidth=1,
                    linestyle="--",
                )
            )
        placed += _place_labels(ax, labels, renderer, placed)
    figure.suptitle(
        f"Carte du taux de réponse à l'enquête par territoire en {annee}",
        fontsize=12,
        weight="bold",
        y=1 - 0.2 / height,
        va="top",
        x=0.03,
        ha="left",
    )
    figure.text(
        0.3,
        0.5 + legend_height + 0.08,
        RESPONSE_HEADING,
        fontsize=9,
        weight="bold",
        transform=figure.dpi_scale_trans,
    )
    _legend(figure, 0.5, legend)
    _caption(figure, background, "Cadre rouge : la partie agrandie." if zoom is not None else "")
    _describe(figure, _values_text(background, values, "Taux de réponse"))
    return figure


def _place_labels(ax, labels: list, renderer, placed: list, **style) -> list:
    """Texts at their anchors, moved (with a thin leader line) so that none overlaps.

    Each text is measured once, then its box is tried at the anchor and at points
    around it at growing distances; a text that fits nowhere is left out rather than
    drawn over another. Texts sit on a translucent white ground, so the map stays
    visible around them (a halo would draw every glyph as a path: twice as slow).
    Returns the display boxes used (for the next call), as Bbox objects.
    """
    ax.apply_aspect()  # the axes' final box: positions measured before it would be wrong
    style = {"fontsize": 8, "ha": "center", "va": "center", "bbox": TEXT_GROUND, **style}
    scale = ax.figure.dpi / 72
    offsets = [(0.0, 0.0)] + [
        (r * scale * math.cos(a), r * scale * math.sin(a))
        for r in (12, 20, 30, 42, 56, 72)
        for a in np.linspace(math.pi / 2, 5 * math.pi / 2, 12, endpoint=False)
    ]
    to_display, to_data = ax.transData, ax.transData.inverted()
    x0, y0, x1, y1 = ax.bbox.extents
    taken = np.array([b.extents for b in placed]).reshape(-1, 4)
    boxes = []
    for (x, y), text in labels:
        artist = ax.text(x, y, text, zorder=6, **style)
        extent = artist.get_window_extent(renderer).expanded(1.08, 1.15)
        anchor = to_display.transform((x, y))
        for dx, dy in offsets:
            box = extent.translated(dx, dy)
            if box.x0 < x0 or box.y0 < y0 or box.x1 > x1 or box.y1 > y1:
                continue
            clash = (
                (taken[:, 0] < box.x1)
                & (taken[:, 2] > box.x0)
                & (taken[:, 1] < box.y1)
                & (taken[:, 3] > box.y0)
            )
            if clash.any():
                continue
            taken = np.vstack([taken, box.extents])
            boxes.append(box)
            if dx or dy:
                artist.set_position(to_data.transform((anchor[0] + dx, anchor[1] + dy)))
                end = artist.get_position()
                ax.add_line(mpl.Line2D([x, end[0]], [y, end[1]], color="#666", lw=0.5, zorder=5))
            break
        else:
            artist.remove()
    return boxes


def locator_map(background: Background, dataset, territoire: str, annee: int | None = None):
    """A territory within its collectivité, its communes (named) and its structures.

    Left, the whole department with the territory highlighted and the Métropole /
    Rhône boundary; right, the territory enlarged with its communes' names (those that
    fit) and its structures approved in `annee` (all when None), CS and EVS as
    different markers.
    """
    collectivite = background.collectivite_of.get(territoire, "")
    points = background.points[background.points["territoire"] == territoire]
    if annee is not None:
        start = points["annee_debut"].fillna(annee)
        end = points["annee_fin"].fillna(annee)
        points = points[(start <= annee) & (end >= annee)]
    communes = [c for c, t in background.territory_of.items() if t == territoire]
    counts = points["type"].value_counts()
    detail = ", ".join(
        f"{int(counts.get(kind, 0))}\u00a0{kind}" for kind in TYPE_STYLES if counts.get(kind, 0)
    )
    total = len(points)
    figure = mpl.Figure(figsize=(10, 6.0), dpi=mpl.figures.DPI)
    mpl.figures.FigureCanvasAgg(figure)
    renderer = figure.canvas.get_renderer()
    ax_all = figure.add_axes((0.01, 0.16, 0.33, 0.66))
    ax_zoom = figure.add_axes((0.36, 0.16, 0.63, 0.66))
    # left: the department
    _frame(ax_all, background)
    base = [_drawable(p) for t, p in background.territory_paths.items() if t != territoire]
    tones = [
        SAME_COLLECTIVITE if background.collectivite_of.get(t) == collectivite else "#f2f2f2"
        for t in background.territory_paths
        if t != territoire
    ]
    if background.outside_path is not None:
        ax_all.add_collection(
            mpl.PathCollection(
                [_drawable(background.outside_path)], facecolors="#f7f7f7", edgecolors="none"
            ),
            autolim=False,
        )
    ax_all.add_collection(
        mpl.PathCollection(base, facecolors=tones, edgecolors="#999", linewidths=0.3), autolim=False
    )
    if territoire in background.territory_paths:
        ax_all.add_collection(
            mpl.PathCollection(
                [_drawable(background.territory_paths[territoire])],
                facecolors=HIGHLIGHT_COLOR,
                edgecolors="none",
            ),
            autolim=False,
        )
    _boundaries(ax_all, background)
    ax_all.set_title("Dans le département", fontsize=10, weight="bold")
    # right: the territory enlarged
    shape = background.territory_geometry.get(territoire)
    extent = shape.bounds if shape is not None else None
    if extent is not None:
        minx, miny, maxx, maxy = extent
        margin = max(maxx - minx, maxy - miny) * 0.08
        extent = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    _frame(ax_zoom, background, extent)
    geometry = background.shapes.geometry
    around = [
        _drawable(_path(g))
        for c, g in geometry.items()
        if c not in communes and extent is not None and shapely.intersects(g, shapely.box(*extent))
    ]
    ax_zoom.add_collection(
        mpl.PathCollection(around, facecolors="#f2f2f2", edgecolors="#bbb", linewidths=0.4),
        autolim=False,
    )
    ax_zoom.add_collection(
        mpl.PathCollection(
            [_drawable(_path(geometry[c])) for c in communes],
            facecolors="#d9e4f0",
            edgecolors="#7a8fa6",
            linewidths=0.5,
        ),
        autolim=False,
    )
    if shape is not None:
        ax_zoom.add_collection(
            mpl.LineCollection(_lines(shape.boundary), colors=HIGHLIGHT_COLOR, linewidths=1.6),
            autolim=False,
        )
    _boundaries(ax_zoom, background)
    placed = []
    for kind, style in TYPE_STYLES.items():
        chosen = points[points["type"] == kind]
        if chosen.empty:
            continue
        dots = ax_zoom.scatter(
            chosen["x"],
            chosen["y"],
            marker=style["marker"],
            color=style["color"],
            edgecolors="white",
            linewidths=0.6,
            s=52,
            zorder=4,
            gid=f"structures-{kind}",
        )
        ax_zoom.apply_aspect()  # the final box, before measuring where the points are
        offsets = ax_zoom.transData.transform(dots.get_offsets())
        placed += [mpl.Bbox.from_bounds(x - 4, y - 4, 8, 8) for x, y in offsets]
    with_structures = set(points["code"])
    order = sorted(communes, key=lambda c: (c not in with_structures, -geometry[c].area))
    labels = [
        (_anchor(geometry[code]), background.shapes.names[code]) for code in order[:MAX_NAMES]
    ]
    _place_labels(ax_zoom, labels, renderer, placed, fontsize=7.5, color="#222")
    count = len(communes)
    ax_zoom.set_title(
        f"{territoire} : {count} commune{'s' if count > 1 else ''}", fontsize=10, weight="bold"
    )
    structures = f"{total}\u00a0structure{'s' if total > 1 else ''}" + (
        f" ({detail})" if detail else ""
    )
    when = f" agréées en {annee}" if annee is not None else ""
    figure.suptitle(
        mpl.figures.wrap(
            f"Carte de situation du territoire {territoire} ({collectivite}) : "
            f"{count} commune{'s' if count > 1 else ''} et {structures}{when}",
            100,
        ),
        fontsize=12,
        weight="bold",
        x=0.02,
        ha="left",
        y=0.975,
        va="top",
    )
    inches = figure.dpi_scale_trans
    x = 0.3
    for style in TYPE_STYLES.values():
        figure.add_artist(
            mpl.Line2D(
                [x + 0.1],
                [0.62],
                marker=style["marker"],
                color=style["color"],
                markeredgecolor="white",
                markersize=7,
                linestyle="none",
                transform=inches,
            )
        )
        figure.text(x + 0.25, 0.62, style["label"], va="center", fontsize=9, transform=inches)
        x += 2.6
    for color, text in ((HIGHLIGHT_COLOR, "le territoire"), (SAME_COLLECTIVITE, "sa collectivité")):
        figure.add_artist(mpl.Rectangle((x, 0.53), 0.32, 0.18, facecolor=color, transform=inches))
        figure.text(x + 0.42, 0.62, text, va="center", fontsize=9, transform=inches)
        x += 1.7
    _caption(
        figure,
        background,
        "Chaque structure est placée dans sa commune, pas à son "
        "adresse. Noms des communes : ceux qui tiennent sur la carte.",
    )
    names = background.communes_of(territoire)
    shown = ", ".join(names[:MAX_NAMES]) + (
        f" et {len(names) - MAX_NAMES} autres" if len(names) > MAX_NAMES else ""
    )
    _describe(figure, f"Communes du territoire : {shown}." if names else "")
    return figure


def _lower_first(text: str) -> str:
    """« Toutes les structures » -> « toutes les structures »; « CS et EVS » unchanged."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def explorer_map(background: Background, table: pd.DataFrame, selection) -> Figure:
    """The explorer's indicator by territory for its last year (an `explorer.Selection`).

    A map shows one year: the last of the selection's range. « CS et EVS comparés »
    gives two maps side by side; the selected territories are outlined.
    """
    rows = table[
        (table["indicateur"] == selection.indicateur)
        & (table["modalite"] == selection.modalite)
        & (table["annee"] == int(selection.annees[1]))
    ]
    digest = int(pd.util.hash_pandas_object(rows, index=False).sum())
    chosen = tuple(p for n, p in selection.perimetres if n == "territoire")
    shown = (selection.indicateur, selection.modalite, selection.annees[1], selection.structures)
    # the first year and the other perimeters change the chart, not the map
    key = ("explorateur", background.key, shown, chosen, digest)
    # the same selection again (a control moved back) is not drawn again
    return _cached(key, lambda: _explorer(background, rows, selection))


def _explorer(background: Background, table: pd.DataFrame, selection) -> Figure:
    from avs_eval.explorer import STRUCTURE_CHOICES  # only the explorer draws this map

    annee = int(selection.annees[1])
    label, types = STRUCTURE_CHOICES[selection.structures]
    chosen = [p for n, p in selection.perimetres if n == "territoire"]
    width, map_height = 7.0 if len(types) == 1 else 10.0, 5.2
    values = {
        kind: territory_values(table, annee, selection.indicateur, selection.modalite, kind)
        for kind in types
    }
    secret = any(v[MASK].any() for v in values.values())
    missing = any(_has_missing(background, v) for v in values.values())
    legend = _class_entries() + _other_entries(background, secret, missing)
    if chosen:
        legend.append(("territoire choisi", {"color": "#b00020", "linewidth": 2}))
    legend_height = _legend_height(width, legend)
    bottom = 0.55 + legend_height + 0.35
    height = 0.9 + map_height + bottom
    figure = mpl.Figure(figsize=(width, height), dpi=mpl.figures.DPI)
    mpl.figures.FigureCanvasAgg(figure)
    panel_width = (width - 0.4) / len(types)
    for k, kind in enumerate(types):
        ax = figure.add_axes(
            (
                (0.2 + k * panel_width) / width,
                bottom / height,
                (panel_width - 0.2) / width,
                map_height / height,
            )
        )
        _choropleth(ax, background, values[kind])
        for territoire in chosen:
            if territoire in background.territory_geometry:
                ax.add_collection(
                    mpl.LineCollection(
                        _lines(background.territory_geometry[territoire].boundary),
                        colors="#b00020",
                        linewidths=2,
                    ),
                    autolim=False,
                )
        if len(types) > 1:
            ax.set_title(STRUCTURE_CHOICES[kind][0], fontsize=10, weight="bold")
    figure.suptitle(
        mpl.figures.wrap(
            f"Carte : {selection.label}, par territoire, en {annee} ({_lower_first(label)})",
            80,
        ),
        fontsize=11,
        weight="bold",
        x=0.03,
        ha="left",
        y=1 - 0.15 / height,
        va="top",
    )
    _legend(figure, 0.5, legend)
    figure.text(
        0.3,
        0.5 + legend_height + 0.08,
        RESPONSE_HEADING if selection.indicateur == RESPONSE_RATE else SHARE_HEADING,
        fontsize=9,
        weight="bold",
        transform=figure.dpi_scale_trans,
    )
    _caption(figure, background)
    _describe(
        figure,
        " ".join(
            _values_text(background, values[kind], mpl_label)
            for kind, mpl_label in ((k, STRUCTURE_CHOICES[k][0]) for k in types)
        ),
    )
    return figure
