"""Maps of the territories, drawn on the background that `avs_eval.geographie` prepares.

Partners read territorial evaluations as maps. This module only draws; reading the
shapes and joining them to the register is `avs_eval.geographie`'s job, which the numbers
layer uses without importing matplotlib. Four maps, in the order a report calls them::

    background = geographie.prepare(context)           # or context.background(...)
    synthesis_maps(background, context.table, 2025, headline, labels)
    response_rate_map(background, context.table, 2025)
    carte_situation.locator_map(background, dataset, "Lyon", 2025)  # its own module
    explorer_map(background, context.table, selection)

- `synthesis_maps`: one choropleth per headline indicator, small multiples on one
  figure with one colour scale, masked territories hatched and labelled « s »;
- `response_rate_map`: the response rate by territory, with a zoom on the Métropole;
- `locator_map`: a territory within its collectivité, its communes and structures;
- `explorer_map`: the explorer's indicator for its selection.

Each returns a matplotlib Figure whose title starts with « Carte » (what
`figures.title_of` and so `report.chart` give as alt text) and which carries a longer
text alternative, `figure.alt_text` (the title, then the values the colours show).
A shared map is drawn once per kernel: the same data give the same Figure object.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.path import Path

from avs_eval import figures, formatting, placement
from avs_eval.caches import Recent
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.geographie import Background, Rings, line_arrays
from avs_eval.schema import ALL_PERIMETER, METROPOLE, STRUCTURE_CHOICES, sort_key
from avs_eval.secrecy import MASK, SECRET_SYMBOL

WIDTH = 10.0  # inches, as the report's other charts


# One colour scale for every map: five classes of 20 points, ColorBrewer's « Blues »
# (sequential, legible in grey and by colour-blind readers).
CLASS_BOUNDS = (0.2, 0.4, 0.6, 0.8)
CLASS_COLORS = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
_BOUNDS_SHOWN = [formatting.percentage(b) for b in CLASS_BOUNDS]  # « 20 % » … « 80 % »
CLASS_LABELS = (
    f"moins de {_BOUNDS_SHOWN[0]}",
    *(f"{low[:-2]} à {high}" for low, high in itertools.pairwise(_BOUNDS_SHOWN)),
    f"{_BOUNDS_SHOWN[-1]} ou plus",
)
SHARE_HEADING = "Part des structures du territoire :"
RESPONSE_HEADING = "Part des structures agréées qui ont répondu :"
REVERSED_HEADING = "Part des structures du territoire (moins = mieux : plus foncé, plus faible) :"
OUTSIDE_COLOR = "#ececec"  # communes outside every territory
NO_DATA_COLOR = "#ffffff"
SECRET_FACE = "#d9d9d9"
HATCH = "////"
BORDER_COLOR = "#555555"
COLLECTIVITE_COLOR = "#111111"
# --- values ------------------------------------------------------------------------------


def territory_values(
    table: pd.DataFrame, annee: int, indicateur: str, modalite: str = "", type: str = ALL_PERIMETER
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


def drawable_path(rings: Rings) -> Path:
    """The matplotlib path of prepared rings."""
    return Path(rings[0], rings[1])


def frame_map(ax, background: Background, extent=None) -> None:
    """Axes without frame nor ticks, true to the map's aspect, around `extent`."""
    ax.set_aspect(background.aspect)
    ax.set_axis_off()
    minx, miny, maxx, maxy = extent if extent is not None else background.bounds
    pad_x, pad_y = (maxx - minx) * 0.02, (maxy - miny) * 0.02
    ax.set_xlim(minx - pad_x, maxx + pad_x)
    ax.set_ylim(miny - pad_y, maxy + pad_y)


def _choropleth(
    ax,
    background: Background,
    values: pd.DataFrame,
    extent=None,
    *,
    reverse: bool = False,
    secret_labels: bool = True,
) -> list:
    """Territories coloured by class, masked ones hatched (and labelled « s »).

    Darker always means better: `reverse` (an indicator whose `sens` is `baisse`)
    colours a low share dark. `secret_labels` False leaves the hatching alone, for small
    maps where the « s » of neighbouring territories would pile up.
    Returns the display boxes of the « s », for labels added afterwards to avoid.
    """
    frame_map(ax, background, extent)
    if background.outside_path is not None:
        ax.add_collection(
            PathCollection(
                [drawable_path(background.outside_path)],
                facecolors=OUTSIDE_COLOR,
                edgecolors="none",
            ),
            autolim=False,
        )
    shown, colors, secret, missing = [], [], [], []
    for territoire, rings in background.territory_paths.items():
        path = drawable_path(rings)
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
            k = class_of(float(row["part"]))
            colors.append(CLASS_COLORS[len(CLASS_COLORS) - 1 - k if reverse else k])
    border = {"edgecolors": BORDER_COLOR, "linewidths": 0.5}
    ax.add_collection(PathCollection(shown, facecolors=colors, **border), autolim=False)
    ax.add_collection(PathCollection(missing, facecolors=NO_DATA_COLOR, **border), autolim=False)
    hatched = PathCollection(
        [drawable_path(background.territory_paths[t]) for t in secret],
        facecolors=SECRET_FACE,
        **border,
    )
    hatched.set_hatch(HATCH)
    hatched.set_gid("secret")
    ax.add_collection(hatched, autolim=False)
    draw_boundaries(ax, background)
    if not secret_labels:
        return []
    # « s » on each masked territory, moved off a neighbour's « s » where they crowd
    labels = [(background.anchors[t], SECRET_SYMBOL) for t in secret]
    renderer = ax.figure.canvas.get_renderer()
    style = {"fontsize": 9, "weight": "bold", "color": "#8c4a00", "gid": "secret-label"}
    return placement.place_labels(ax, labels, renderer, [], **style)


def draw_boundaries(ax, background: Background) -> None:
    """The communes' outlines, and the collectivités' in a heavier line."""
    ax.add_collection(
        LineCollection(background.outline_lines, colors=BORDER_COLOR, linewidths=0.8),
        autolim=False,
    )
    ax.add_collection(
        LineCollection(background.collectivite_lines, colors=COLLECTIVITE_COLOR, linewidths=1.8),
        autolim=False,
    )


REVERSED_NOTE = f"« {figures.LOWER_IS_BETTER} »"  # an indicator whose `sens` is `baisse`


def _class_entries(normal: bool = True, reversed_: bool = False) -> list[tuple[str, dict]]:
    """The classes, light to dark. Dark is always better: on a reversed map (`sens:
    baisse`) the darkest class is the lowest share; with both kinds of map on one page
    each colour gives both readings, the reversed one in parentheses."""
    upside_down = CLASS_LABELS[::-1]
    if normal and reversed_:
        labels = [
            f"{label} ({REVERSED_NOTE} : {other})"
            for label, other in zip(CLASS_LABELS, upside_down, strict=True)
        ]
    else:
        labels = upside_down if reversed_ else CLASS_LABELS
    return [
        (label, {"facecolor": color}) for label, color in zip(labels, CLASS_COLORS, strict=True)
    ]


def _other_entries(
    background: Background, secret: bool, missing: bool, secret_labels: bool = True
) -> list:
    entries = []
    if secret:
        name = "« s » : secret statistique" if secret_labels else "hachures : secret statistique"
        entries.append((name, {"facecolor": SECRET_FACE, "hatch": HATCH}))
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


def add_caption(figure: Figure, background: Background, extra: str = "") -> None:
    """The map's source line (its communes' year and origin) at its foot, after `extra`."""
    text = f"{extra} {background.caption}".strip()
    figure.text(
        0.3,
        0.12,
        figures.wrap(text, 150),
        fontsize=8,
        color="#444",
        transform=figure.dpi_scale_trans,
        va="bottom",
    )


def map_page(width: float, top: float, legend: list[tuple[str, dict]]) -> tuple[Figure, float]:
    """A map page `width` inches wide: `top` inches of title and maps above the legend.

    Returns the figure, ready to draw, and the height of the maps' bottom edge above the
    page's foot (the legend, its heading and the source line below it).
    """
    bottom = 0.55 + placement.legend_height(width, legend) + 0.35
    figure = Figure(figsize=(width, top + bottom), dpi=figures.DPI)
    figures.FigureCanvasAgg(figure)
    return figure, bottom


def _panels(figure: Figure, count: int, bottom: float, height: float) -> list:
    """`count` map axes side by side, `height` inches high from `bottom` up."""
    width, page_height = figure.get_figwidth(), figure.get_figheight()
    panel_width = (width - 0.4) / count
    return [
        figure.add_axes(
            (
                (0.2 + k * panel_width) / width,
                bottom / page_height,
                (panel_width - 0.2) / width,
                height / page_height,
            )
        )
        for k in range(count)
    ]


def _page_frame(
    figure: Figure,
    background: Background,
    title: str,
    heading: str,
    legend: list[tuple[str, dict]],
    details: str,
    *,
    caption: str = "",
    title_size: float = 12,
    title_top: float = 0.2,
) -> None:
    """What frames every choropleth page: title, legend under its heading, source, alt text.

    Written in one place so that every map page puts them where a reader looks for them;
    `caption` comes before the background's source line, `details` after the title in the
    text alternative (`describe_map`).
    """
    height = figure.get_figheight()
    figure.suptitle(
        title,
        fontsize=title_size,
        weight="bold",
        y=1 - title_top / height,
        va="top",
        x=0.03,
        ha="left",
    )
    legend_height = placement.legend(figure, 0.5, legend, BORDER_COLOR)
    figure.text(
        0.3,
        0.5 + legend_height + 0.08,
        heading,
        fontsize=9,
        weight="bold",
        transform=figure.dpi_scale_trans,
    )
    add_caption(figure, background, caption)
    # the source line is drawn in the image: a screen reader gets it from the alt text
    describe_map(figure, f"{details} {background.caption}".strip())


def _has_missing(background: Background, values: pd.DataFrame) -> bool:
    for territoire in background.territory_paths:
        if territoire not in values.index:
            return True
        row = values.loc[territoire]
        if not bool(row[MASK]) and pd.isna(row["part"]):
            return True
    return False


# A shared map is drawn once per kernel: the synthesis is not redrawn per call.
_FIGURES: Recent[Figure] = Recent(8)


def _cached(key: tuple, draw) -> Figure:
    return _FIGURES.get(key, draw)


def _table_key(table: pd.DataFrame, annee: int, names: Iterable[str]) -> int:
    rows = table[(table["annee"] == annee) & table["indicateur"].isin(list(names))]
    return int(pd.util.hash_pandas_object(rows, index=False).sum())


def synthesis_maps(
    background: Background,
    table: pd.DataFrame,
    annee: int,
    headline: list[str],
    labels: dict[str, str] | None = None,
    lower_is_better: Iterable[str] | None = None,
) -> Figure:
    """One choropleth per headline indicator, on one figure with one colour scale.

    `table` is the masked indicator table (`Context.table`); `headline` the indicators
    (the catalog's headline figures asked in `annee`); `labels` their French labels
    (the catalog's by default); `lower_is_better` those whose scale is reversed so that
    darker means better (the catalog's `sens: baisse` by default). Masked territories
    are hatched: an « s » on each would pile up on maps this small, the legend says it.
    """
    names = list(headline)
    if labels is None or lower_is_better is None:
        catalog = load_catalog()
        labels = labels or {name: catalog.label(name) for name in names}
        if lower_is_better is None:
            lower_is_better = [n for n in names if catalog.direction(n) == "baisse"]
    reversed_ = frozenset(lower_is_better) & set(names)
    key = (
        "synthese",
        background.key,
        annee,
        tuple(names),
        tuple(labels[n] for n in names),
        tuple(sorted(reversed_)),
        _table_key(table, annee, names),
    )
    return _cached(key, lambda: _synthesis(background, table, annee, names, labels, reversed_))


def _synthesis(background, table, annee, names, labels, reversed_) -> Figure:
    count = max(len(names), 1)
    columns = 4 if count > 6 else min(3, count)
    rows = math.ceil(count / columns)
    minx, miny, maxx, maxy = background.bounds
    panel_width = (10 - 0.4) / columns
    ratio = (maxy - miny) * background.aspect / (maxx - minx)
    panel_height = min(panel_width * ratio, 4.0)
    title_room = 0.5  # each panel's title, on two lines
    values = {name: territory_values(table, annee, name) for name in names}
    secret = any(v[MASK].any() for v in values.values())
    missing = any(_has_missing(background, v) for v in values.values())
    legend = _class_entries(len(reversed_) < len(names), bool(reversed_))
    legend += _other_entries(background, secret, missing, secret_labels=False)
    figure, _ = map_page(WIDTH, 0.9 + rows * (panel_height + title_room), legend)
    height = figure.get_figheight()
    for k, name in enumerate(names):
        row, column = divmod(k, columns)
        left = 0.2 + column * panel_width
        top = height - 0.9 - row * (panel_height + title_room) - title_room
        ax = figure.add_axes(
            (left / 10, (top - panel_height) / height, panel_width / 10, panel_height / height)
        )
        flip = name in reversed_
        _choropleth(ax, background, values[name], reverse=flip, secret_labels=False)
        title = labels[name] + (f" ({figures.LOWER_IS_BETTER})" if flip else "")
        ax.set_title(
            figures.wrap(title, 30 if columns > 3 else 40),
            fontsize=9,
            weight="bold",
            pad=3,
            loc="center",
        )
    _page_frame(
        figure,
        background,
        f"Carte des indicateurs clés par territoire en {annee}, une carte par indicateur",
        SHARE_HEADING,
        legend,
        f"Indicateurs : {' ; '.join(labels[n] for n in names)}. "
        "Chaque territoire est coloré selon la part de ses structures, en cinq classes de 20 "
        "points"
        + (
            f", plus foncé pour une part plus faible sur les cartes {REVERSED_NOTE}"
            if reversed_
            else ""
        )
        + " ; les territoires hachurés sont sous secret statistique ; les valeurs figurent "
        "dans le tableau des indicateurs par territoire.",
    )
    figure.text(
        0.3,
        height - 0.62,
        (
            "Plus foncé = meilleure situation (échelle inversée sur les cartes "
            f"{REVERSED_NOTE}). Même échelle pour toutes les cartes."
            if reversed_
            else "Plus la couleur est foncée, plus la part des structures "
            "du territoire est élevée. Même échelle pour toutes les cartes."
        ),
        fontsize=9,
        transform=figure.dpi_scale_trans,
    )
    return figure


def describe_map(figure: Figure, details: str) -> None:
    """The map's text alternative: its title, then what a sighted reader sees on it.

    Set as `figure.alt_text`; `title_of(figure)` (the title alone, « Carte … ») remains
    the short one. A screen reader gets the values too, which a map shows only as colours.
    """
    title = " ".join(figure.get_suptitle().split())
    figure.alt_text = f"{title}. {details}".strip() if details else title


def _values_text(background: Background, values: pd.DataFrame, what: str) -> str:
    """« Taux de réponse par territoire : Lyon 93 % ; Ouest Nord s ; … »."""
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
            shown = formatting.percentage(float(row["part"]))
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
    map_height = 5.6
    legend = _class_entries() + _other_entries(
        background, bool(values[MASK].any()), _has_missing(background, values)
    )
    figure, bottom = map_page(WIDTH, 0.8 + map_height, legend)
    renderer = figure.canvas.get_renderer()
    placed: list = []
    axes = _panels(figure, len(panels), bottom, map_height)
    for ax, extent in zip(axes, panels, strict=True):
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
            text = f"{figures.wrap(territoire, 16)}\n" + (
                "–" if pd.isna(share) else formatting.percentage(float(share))
            )
            labels.append((background.anchors[territoire], text))
        if extent is None and zoom is not None:
            ax.add_patch(
                Rectangle(
                    zoom.bounds[:2],
                    zoom.bounds[2] - zoom.bounds[0],
                    zoom.bounds[3] - zoom.bounds[1],
                    fill=False,
                    edgecolor="#b00020",
                    linewidth=1,
                    linestyle="--",
                )
            )
        placed += placement.place_labels(ax, labels, renderer, placed)
    _page_frame(
        figure,
        background,
        f"Carte du taux de réponse à l'enquête par territoire en {annee}",
        RESPONSE_HEADING,
        legend,
        _values_text(background, values, "Taux de réponse"),
        caption="Cadre rouge : la partie agrandie." if zoom is not None else "",
    )
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
    # darker means better: reversed for an indicator whose `sens` is `baisse`
    flip = load_catalog().direction(selection.indicateur) == "baisse"
    legend = _class_entries(not flip, flip) + _other_entries(background, secret, missing)
    if chosen:
        legend.append(("territoire choisi", {"color": "#b00020", "linewidth": 2}))
    figure, bottom = map_page(width, 0.9 + map_height, legend)
    for ax, kind in zip(_panels(figure, len(types), bottom, map_height), types, strict=True):
        _choropleth(ax, background, values[kind], reverse=flip)
        for territoire in chosen:
            if territoire in background.territory_geometry:
                ax.add_collection(
                    LineCollection(
                        line_arrays(background.territory_geometry[territoire].boundary),
                        colors="#b00020",
                        linewidths=2,
                    ),
                    autolim=False,
                )
        if len(types) > 1:
            ax.set_title(STRUCTURE_CHOICES[kind][0], fontsize=10, weight="bold")
    _page_frame(
        figure,
        background,
        figures.wrap(
            f"Carte : {selection.label}, par territoire, en {annee} ({_lower_first(label)})",
            80,
        ),
        RESPONSE_HEADING
        if selection.indicateur == RESPONSE_RATE
        else (REVERSED_HEADING if flip else SHARE_HEADING),
        legend,
        " ".join(_values_text(background, values[k], STRUCTURE_CHOICES[k][0]) for k in types),
        title_size=11,
        title_top=0.15,
    )
    return figure
