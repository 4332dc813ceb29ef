"""The locator map: where a territory lies in its collectivité, its communes and structures.

Drawn on the background `avs_eval.geographie` prepares, with the map pages' pieces of
`avs_eval.cartes` (frame, boundaries, legend, source line, text alternative). Its colours
are the charts' (`avs_eval.figures` owns them): the territory in its colour, its
collectivité's other territories in a tint of the collectivité's, as in every chart of
every report; both panels fill them as the legend says.
"""

from __future__ import annotations

import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.transforms import Bbox

from avs_eval import figures, placement
from avs_eval.cartes import (
    BORDER_COLOR,
    WIDTH,
    add_caption,
    describe_map,
    draw_boundaries,
    drawable_path,
    frame_map,
    map_page,
)
from avs_eval.formatting import plural
from avs_eval.geographie import Background, label_anchor, line_arrays, polygon_rings

MAX_NAMES = 24  # commune names tried on a locator map: those with structures, then the largest
# The colours of the territory, the collectivités and the types are those of every chart
# (`avs_eval.figures` owns them): on a map, a collectivité is a light tint of its colour.
HIGHLIGHT_COLOR = figures.TERRITORY_COLOR  # the territory's outline
TERRITORY_FACE = "#a9c6e8"  # the territory's fill: its colour, light enough to write on
OTHER_COLLECTIVITE = "#f2f2f2"  # the territories of the other collectivité
TYPE_STYLES = {  # CS and EVS as points: shape and colour both differ
    "CS": {"marker": "o", "color": figures.TYPE_COLORS["CS"], "label": "centre social (CS)"},
    "EVS": {
        "marker": "^",
        "color": figures.TYPE_COLORS["EVS"],
        "label": "espace de vie sociale (EVS)",
    },
}


def tint(color: str, strength: float = 0.3) -> str:
    """`color` mixed with white: a collectivité's area on a map, under names and points."""
    red, green, blue = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    mixed = (round(255 - (255 - c) * strength) for c in (red, green, blue))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def collectivite_face(collectivite: str) -> str:
    """The fill of a collectivité's territories on a map: a tint of its charts' colour."""
    color = figures.COLLECTIVITE_COLORS.get(collectivite)
    return tint(color) if color else OTHER_COLLECTIVITE


def locator_map(background: Background, dataset, territoire: str, annee: int | None = None):
    """A territory within its collectivité, its communes (named) and its structures.

    Left, the whole department with the territory highlighted and the Métropole /
    Rhône boundary; right, the territory enlarged with its communes' names (those that
    fit) and its structures approved in `annee` (all when None), CS and EVS as
    different markers.
    """
    collectivite = background.collectivite_of.get(territoire, "")
    points = _approved(background.points[background.points["territoire"] == territoire], annee)
    communes = [c for c, t in background.territory_of.items() if t == territoire]
    legend = _locator_entries(collectivite)
    map_height = 3.96  # inches, as before the legend was measured
    figure, bottom = map_page(WIDTH, 1.08 + map_height, legend)
    height = figure.get_figheight()
    ax_all = figure.add_axes((0.01, bottom / height, 0.33, map_height / height))
    ax_zoom = figure.add_axes((0.36, bottom / height, 0.63, map_height / height))
    _department_panel(ax_all, background, territoire, collectivite)
    _territory_panel(ax_zoom, background, territoire, collectivite, communes, points)
    figure.suptitle(
        figures.wrap(_locator_title(territoire, collectivite, len(communes), points, annee), 100),
        fontsize=12,
        weight="bold",
        x=0.02,
        ha="left",
        y=1 - 0.15 / height,
        va="top",
    )
    placement.legend(figure, 0.5, legend, BORDER_COLOR)
    add_caption(
        figure,
        background,
        "Chaque structure est placée dans sa commune, pas à son "
        "adresse. Noms des communes : ceux qui tiennent sur la carte.",
    )
    names = background.communes_of(territoire)
    shown = ", ".join(names[:MAX_NAMES]) + (
        f" et {len(names) - MAX_NAMES} autres" if len(names) > MAX_NAMES else ""
    )
    communes = f"Communes du territoire : {shown}. " if names else ""
    describe_map(figure, f"{communes}{background.caption}")
    return figure


def _approved(points: pd.DataFrame, annee: int | None) -> pd.DataFrame:
    """The structures approved in `annee` (all of them when None)."""
    if annee is None:
        return points
    start = points["annee_debut"].fillna(annee)
    end = points["annee_fin"].fillna(annee)
    return points[(start <= annee) & (end >= annee)]


def _locator_title(
    territoire: str, collectivite: str, count: int, points: pd.DataFrame, annee: int | None
) -> str:
    """« Carte de situation du territoire T (C) : 4 communes et 9 structures (5 CS, 4 EVS) »."""
    counts = points["type"].value_counts()
    detail = ", ".join(
        f"{int(counts.get(kind, 0))}\u00a0{kind}" for kind in TYPE_STYLES if counts.get(kind, 0)
    )
    total = len(points)
    structures = f"{total}\u00a0{plural(total, 'structure')}" + (f" ({detail})" if detail else "")
    when = f" agréées en {annee}" if annee is not None else ""
    return (
        f"Carte de situation du territoire {territoire} ({collectivite}) : "
        f"{count} {plural(count, 'commune')} et {structures}{when}"
    )


def _department_panel(ax, background: Background, territoire: str, collectivite: str) -> None:
    """The whole department: the territory, its collectivité's other territories, the rest.

    Filled as in the zoomed panel and the legend (`_locator_legend`): the territory in
    its light colour outlined in its dark one, its collectivité in the collectivité's tint.
    """
    frame_map(ax, background)
    if background.outside_path is not None:
        ax.add_collection(
            PathCollection(
                [drawable_path(background.outside_path)], facecolors="#f7f7f7", edgecolors="none"
            ),
            autolim=False,
        )
    others = [t for t in background.territory_paths if t != territoire]
    tones = [
        collectivite_face(collectivite)
        if background.collectivite_of.get(t) == collectivite
        else OTHER_COLLECTIVITE
        for t in others
    ]
    ax.add_collection(
        PathCollection(
            [drawable_path(background.territory_paths[t]) for t in others],
            facecolors=tones,
            edgecolors="#999",
            linewidths=0.3,
        ),
        autolim=False,
    )
    if territoire in background.territory_paths:
        ax.add_collection(
            PathCollection(
                [drawable_path(background.territory_paths[territoire])],
                facecolors=TERRITORY_FACE,
                edgecolors=HIGHLIGHT_COLOR,
                linewidths=1.6,
                gid="territoire",
            ),
            autolim=False,
        )
    draw_boundaries(ax, background)
    ax.set_title("Dans le département", fontsize=10, weight="bold")


def _commune_face(background: Background, code: str, collectivite: str) -> str:
    """A commune around the territory: its collectivité's tint when it is in a territory
    of the same collectivité, grey otherwise."""
    other = background.territory_of.get(code)
    if other is not None and background.collectivite_of.get(other) == collectivite:
        return collectivite_face(collectivite)
    return OTHER_COLLECTIVITE


def _territory_panel(
    ax,
    background: Background,
    territoire: str,
    collectivite: str,
    communes: list[str],
    points: pd.DataFrame,
) -> None:
    """The territory enlarged: its communes named where they fit, its structures as points."""
    shape = background.territory_geometry.get(territoire)
    extent = shape.bounds if shape is not None else None
    if extent is not None:
        minx, miny, maxx, maxy = extent
        margin = max(maxx - minx, maxy - miny) * 0.08
        extent = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    frame_map(ax, background, extent)
    geometry = background.shapes.geometry
    around = [
        c
        for c, g in geometry.items()
        if c not in communes and extent is not None and shapely.intersects(g, shapely.box(*extent))
    ]
    ax.add_collection(
        PathCollection(
            [drawable_path(polygon_rings(geometry[c])) for c in around],
            facecolors=[_commune_face(background, c, collectivite) for c in around],
            edgecolors="#bbb",
            linewidths=0.4,
        ),
        autolim=False,
    )
    ax.add_collection(
        PathCollection(
            [drawable_path(polygon_rings(geometry[c])) for c in communes],
            facecolors=TERRITORY_FACE,
            edgecolors="#7a8fa6",
            linewidths=0.5,
            gid="territoire",
        ),
        autolim=False,
    )
    if shape is not None:
        ax.add_collection(
            LineCollection(line_arrays(shape.boundary), colors=HIGHLIGHT_COLOR, linewidths=1.6),
            autolim=False,
        )
    draw_boundaries(ax, background)
    placed = _structures(ax, points)
    with_structures = set(points["code"])
    order = sorted(communes, key=lambda c: (c not in with_structures, -geometry[c].area))
    labels = [
        (label_anchor(geometry[code]), background.shapes.names[code]) for code in order[:MAX_NAMES]
    ]
    renderer = ax.figure.canvas.get_renderer()
    placement.place_labels(
        ax, labels, renderer, placed, fontsize=7.5, color="#222", gid="commune-label"
    )
    count = len(communes)
    ax.set_title(f"{territoire} : {count} {plural(count, 'commune')}", fontsize=10, weight="bold")


def _structures(ax, points: pd.DataFrame) -> list:
    """The structures as points, CS and EVS as different markers; their display boxes."""
    placed = []
    for kind, style in TYPE_STYLES.items():
        chosen = points[points["type"] == kind]
        if chosen.empty:
            continue
        dots = ax.scatter(
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
        ax.apply_aspect()  # the final box, before measuring where the points are
        offsets = ax.transData.transform(dots.get_offsets())
        placed += [Bbox.from_bounds(x - 4, y - 4, 8, 8) for x, y in offsets]
    return placed


def _locator_entries(collectivite: str) -> list[tuple[str, dict]]:
    """The locator map's legend: the markers of CS and EVS, then the fills, as drawn."""
    entries = [
        (
            style["label"],
            {
                "marker": style["marker"],
                "color": style["color"],
                "markeredgecolor": "white",
                "markersize": 7,
                "linestyle": "none",
            },
        )
        for style in TYPE_STYLES.values()
    ]
    entries.append(
        (
            "le territoire",
            {"facecolor": TERRITORY_FACE, "edgecolor": HIGHLIGHT_COLOR, "linewidth": 1.6},
        )
    )
    if collectivite:
        entries.append(
            (
                f"les autres territoires : {collectivite}",
                {"facecolor": collectivite_face(collectivite)},
            )
        )
    return entries
