"""The map background: commune shapes read from a file and joined to the register.

Partners read territorial evaluations as maps; this module prepares what every map
needs and `avs_eval.cartes` draws it. It reads a background of commune shapes (the
project's default, `data/fond_de_carte/communes-69.geojson`, or the user's GeoJSON,
GeoPackage or Shapefile) and assigns its communes to the register's territories (a
commune -> territory table, or else the communes of each territory's structures)::

    background = load_background("", "code", "", dataset)   # "" = the defaults
    background = prepare(context)                           # the same, from a Context
    background.warnings                                     # Finding list (codes named)
    background.communes_of("Lyon")                          # names, for the text

Geometry is shapely alone, plus pyogrio (GDAL) imported only to read a GeoPackage or a
Shapefile: shapely costs a kernel about 25 ms to import where geopandas costs about
220 ms and pyogrio 300 ms, and the GeoJSON default needs no GDAL. No reprojection is needed:
structures are placed in their commune (the register has no coordinates), so any
coordinate system of the background serves; longitude/latitude only gets its aspect.

Joins are on the INSEE code, never on the name. Everything that depends on the
background and the register alone (unions of communes into territories and
collectivités, outlines as arrays, positions of the structures) is computed once in
`load_background`, cached by the files' identity, and picklable, so that a batch can
compute it once with its `Context` and every kernel reuses it. Nothing here imports
matplotlib (about a second): the numbers layer (`avs_eval.context`) imports this module,
never the drawing one.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import shapely

from avs_eval import paths
from avs_eval.caches import stamp
from avs_eval.errors import Finding, ValidationError
from avs_eval.schema import METROPOLE, sort_key

DEFAULT_YEAR = 2018
DEFAULT_SOURCE = "IGN Admin Express, Licence Ouverte"
DEFAULT_FIELD = "code"
LYON = "69123"
LYON_ARRONDISSEMENTS = tuple(f"6938{k}" for k in range(1, 10))
# Communes merged since the default background's year: old code -> new code. A
# background that still has the old commune draws it with the new one's territory.
MERGED_INTO = {"69152": "69149"}  # Pierre-Bénite -> Oullins-Pierre-Bénite, 1 January 2024
NAME_FIELDS = ("nom", "name", "nom_com", "nom_commune", "libelle", "libgeo", "lib_com")
# matplotlib's path codes (matplotlib.path.Path.MOVETO, LINETO, CLOSEPOLY)
MOVETO, LINETO, CLOSEPOLY = 1, 2, 79
Rings = tuple[np.ndarray, np.ndarray]  # vertices and path codes: a matplotlib path to be

# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shapes:
    """Commune polygons as read from a background file, one per INSEE code."""

    label: str  # the file, as named in messages
    geometry: dict[str, object]  # code -> shapely (Multi)Polygon
    names: dict[str, str]  # code -> commune name (the code when the file has none)
    year: int | None
    source: str


def read_shapes(fond_de_carte: str | Path = "", champ_insee: str = DEFAULT_FIELD) -> Shapes:
    """The communes of department 69 in a GeoJSON, GeoPackage or Shapefile.

    Empty `fond_de_carte`: the project's default. `champ_insee` names the property
    holding the INSEE code. A file that cannot be read, or has no such property, raises
    a `ValidationError` naming the file (and the properties it does have).
    """
    path = paths.resolve(fond_de_carte) if fond_de_carte else paths.DEFAULT_BACKGROUND
    champ = (champ_insee or DEFAULT_FIELD).strip()
    if not path.exists():
        raise _unreadable(paths.display_path(path), "fichier introuvable")
    return _read_shapes(path, stamp(path), champ)


@functools.lru_cache(maxsize=1)  # one background at a time: a kernel does not switch often
def _read_shapes(path: Path, state: tuple, champ: str) -> Shapes:
    """The shapes of one state of a file (`state`: its `caches.stamp`), read once."""
    label = paths.display_path(path)
    return _shapes(path, label, champ, _records(path, label))


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
    default = path == paths.DEFAULT_BACKGROUND
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
    from avs_eval.reading import LINE, read_table

    file = paths.resolve(path)
    label = paths.display_path(file)
    raw = read_table(file, label)  # a ReadFailure is the ValidationError naming the file
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
        _, miny, _, maxy = self.bounds
        return 1 / math.cos(math.radians((miny + maxy) / 2))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(shapely.total_bounds(list(self.shapes.geometry.values())))

    def communes_of(self, territoire: str) -> list[str]:
        """Names of the territory's communes, in alphabetical order (French)."""
        names = [self.shapes.names[c] for c, t in self.territory_of.items() if t == territoire]
        return sorted(names, key=sort_key)

    def warning_lines(self) -> list[str]:
        """The warnings as short French sentences, for a report's data-quality block."""
        return [str(finding) for finding in self.warnings]


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
        stamp(table_path) if table_path and table_path.is_file() else str(table_path),
        tuple(sorted(getattr(dataset, "hashes", {}).items()))
        or pd.util.hash_pandas_object(register[["code_insee", "territoire"]]).sum(),
    )
    return _background(_Sources(key, shapes, register, _register_label(dataset), table_path))


@dataclass(frozen=True)
class _Sources:
    """What a background is joined from; equal (one cache entry) when their keys are."""

    key: tuple  # the shapes, the table file's state and the register's content
    shapes: Shapes = field(compare=False)
    register: pd.DataFrame = field(compare=False)
    register_label: str = field(compare=False)
    table_path: Path | None = field(compare=False)


@functools.lru_cache(maxsize=1)  # one background at a time, as for the shapes
def _background(sources: _Sources) -> Background:
    """The join and its unions, once per key: the costly part of every map."""
    background = _join(sources)
    shapes = sources.shapes
    background.key = (shapes.label, shapes.year, sources.key[2], sources.key[3])
    _prepare(background)
    return background


def prepare(
    context,
    fond_de_carte: str | Path = "",
    champ_insee: str = DEFAULT_FIELD,
    communes_territoires: str | Path = "",
) -> Background:
    """The background of a `Context`'s data: what a batch computes once and shares.

    For `context.build_context` to call after the indicators and keep in the pickled
    Context (a `Background` pickles), so that no kernel reads or unions shapes again.
    """
    return load_background(fond_de_carte, champ_insee, communes_territoires, context.dataset)


def _table_path(communes_territoires, dataset) -> Path | None:
    if communes_territoires:
        return paths.resolve(communes_territoires)
    source = getattr(dataset, "source", None)
    if source is not None and source.is_sample and paths.SAMPLE_COMMUNE_TERRITORIES.exists():
        return paths.SAMPLE_COMMUNE_TERRITORIES
    return None


def _register_label(dataset) -> str:
    source = getattr(dataset, "source", None)
    files = getattr(source, "files", None) or []
    return paths.display_path(files[0]) if files else "registre des structures"


def _join(sources: _Sources) -> Background:
    """Each commune of the shapes to its territory, and what could not be joined.

    The steps: read the commune -> territory table, if any; match the codes of Lyon;
    name the register's codes the shapes lack; assign the table's communes, then those
    of the register's structures (all of them when there is no table), then the
    communes merged since into an assigned one; place the structures.
    """
    register = sources.register
    collectivite_of = dict(zip(register["territoire"], register["collectivite"], strict=False))
    table = _read_table(sources.table_path)
    used = set(register["code_insee"]) | (set(table["code_insee"]) if table is not None else set())
    shapes, code_of = _lyon(sources.shapes, used)
    known = set(shapes.geometry)
    warnings = _missing_codes(shapes, register, code_of, sources.register_label)
    territory_of: dict[str, str] = {}
    rows_of: dict[str, tuple[str, int]] = {}  # commune -> (table, line) that assigned it
    if table is not None:
        label = paths.display_path(sources.table_path)
        territories = set(collectivite_of)
        warnings += _assign_from_table(
            shapes, table, label, code_of, territories, territory_of, rows_of
        )
    counts = register.assign(_code=register["code_insee"].map(code_of))
    counts = counts[counts["_code"].isin(known)]
    warnings += _assign_from_register(counts, territory_of, rows_of)
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


def _read_table(table_path: Path | None) -> pd.DataFrame | None:
    """The commune -> territory table, all its malformed rows raised at once."""
    if table_path is None:
        return None
    table, errors = read_commune_territories(table_path)
    if errors:
        raise ValidationError(errors)
    return table


def _lyon(shapes: Shapes, used: set[str]) -> tuple[Shapes, dict[str, str]]:
    """Lyon as one commune or as its nine arrondissements, as the shapes and data allow.

    Returns the shapes (Lyon's arrondissements dissolved into one commune when the data
    name Lyon and the shapes do not) and, for each code `used` by the register or the
    table, the code of the shapes it is drawn in: an arrondissement goes to Lyon when
    the shapes have none, or when the data also name Lyon whole.
    """
    known = set(shapes.geometry)
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
        if LYON not in shapes.names:
            shapes = Shapes(
                shapes.label, geometry, {**shapes.names, LYON: "Lyon"}, shapes.year, shapes.source
            )
    if geometry is not shapes.geometry:
        names = {c: shapes.names.get(c, "Lyon" if c == LYON else c) for c in geometry}
        shapes = Shapes(shapes.label, geometry, names, shapes.year, shapes.source)
    return shapes, {code: shape_code(code) for code in sorted(used)}


def _missing_codes(
    shapes: Shapes, register: pd.DataFrame, code_of: dict[str, str], label: str
) -> list[Finding]:
    """A warning per register code the shapes lack, naming the structures not drawn."""
    warnings = []
    missing = register[~register["code_insee"].map(code_of).isin(set(shapes.geometry))]
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
    return warnings


def _assign_from_table(
    shapes: Shapes,
    table: pd.DataFrame,
    label: str,
    code_of: dict[str, str],
    territories: set[str],
    territory_of: dict[str, str],
    rows_of: dict[str, tuple[str, int]],
) -> list[Finding]:
    """The table's communes into `territory_of` (the first row wins); the rows left out."""
    warnings = []
    for code, territoire, line in table.itertuples(index=False):
        target = code_of[code]
        if territoire not in territories:
            warnings.append(
                Finding(
                    label,
                    line,
                    "territoire",
                    territoire,
                    "territoire inconnu du registre des structures : la commune "
                    f"{code} reste en gris sur les cartes",
                )
            )
        elif target not in shapes.geometry:
            warnings.append(
                Finding(
                    label,
                    line,
                    "code_insee",
                    code,
                    f"code INSEE absent du fond de carte ({_geography(shapes)}) : "
                    "cette commune n'est pas dessinée",
                )
            )
        else:
            territory_of.setdefault(target, territoire)
            rows_of.setdefault(target, (label, line))
    return warnings


def _assign_from_register(
    counts: pd.DataFrame, territory_of: dict[str, str], rows_of: dict[str, tuple[str, int]]
) -> list[Finding]:
    """Each commune of the register's structures not yet assigned, to its main territory.

    A commune the table put in a territory none of its structures belongs to is left
    there, with a warning on the table's row.
    """
    warnings = []
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
    return warnings


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
    """Unions and the paths matplotlib will draw: the costly part, done once per background."""
    geometry = background.shapes.geometry
    by_territory: dict[str, list] = {}
    for code, territoire in background.territory_of.items():
        by_territory.setdefault(territoire, []).append(geometry[code])
    for territoire, parts in sorted(by_territory.items()):
        shape = background.territory_geometry[territoire] = _dissolve(parts)
        background.territory_paths[territoire] = polygon_rings(shape)
        background.anchors[territoire] = label_anchor(shape)
    by_collectivite: dict[str, list] = {}
    for territoire, shape in background.territory_geometry.items():
        collectivite = background.collectivite_of.get(territoire, "")
        by_collectivite.setdefault(collectivite, []).append(shape)
    for collectivite, parts in sorted(by_collectivite.items()):
        background.collectivite_geometry[collectivite] = _dissolve(parts)
    outside = [g for c, g in geometry.items() if c not in background.territory_of]
    background.outside_path = polygon_rings(_dissolve(outside)) if outside else None
    everything = _dissolve(list(geometry.values()))
    background.outline_lines = line_arrays(everything.boundary)
    if len(background.collectivite_geometry) > 1:
        # the line between collectivités: the Métropole's (or the first one's) outline,
        # less the department's outline
        first = background.collectivite_geometry.get(METROPOLE)
        if first is None:
            first = next(iter(background.collectivite_geometry.values()))
        seam = 1e-4 if background.geographic else 10.0  # 10 m: a vertex rounded apart
        inner = first.boundary.difference(everything.boundary.buffer(seam))
        background.collectivite_lines = line_arrays(inner)


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


def label_anchor(shape) -> tuple[float, float]:
    """Where a name goes: the point of the largest part farthest from its edges."""
    from shapely.ops import polylabel

    parts = [p for p in getattr(shape, "geoms", [shape]) if p.geom_type == "Polygon"]
    if not parts:
        point = shape.representative_point()
        return (point.x, point.y)
    largest = max(parts, key=lambda p: p.area)
    point = polylabel(largest, tolerance=math.sqrt(largest.area) / 50)
    return (point.x, point.y)


def polygon_rings(shape) -> Rings:
    """A shapely (Multi)Polygon as the vertices and codes of one path, holes included."""
    vertices, codes = [], []
    for polygon in getattr(shape, "geoms", [shape]):
        if polygon.geom_type in ("MultiPolygon", "GeometryCollection"):
            sub_vertices, sub_codes = polygon_rings(polygon)
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


def line_arrays(shape) -> list:
    """A shapely line (or several) as a list of (n, 2) arrays for a LineCollection."""
    parts = getattr(shape, "geoms", [shape])
    return [np.asarray(line.coords) for line in parts if not line.is_empty and line.length]
