"""Charts for readers who are not statisticians: French labels, percentages, "s" for secrecy.

Figures are built with the object API (`matplotlib.figure.Figure`), never with
pyplot's global state: a warm kernel running report after report starts each
one with nothing left over but the pixels of a few chart frames (axes, ticks,
legends: see `_FRAMES`), which give the same images as a drawing from scratch.
Every function takes rows of an indicator table that already carry the `masque`
column, so a masked share can never reach a chart: its bar is replaced by the
letter "s".

Drawing is most of the time of a report (text above all: matplotlib lays out and
renders every glyph of every label), hence what is drawn here: no automatic
layout, bars and error bars as collections, legends placed by hand, ticks only
where they carry information, and frames drawn once.
"""

from __future__ import annotations

import io
import textwrap
import weakref
from collections.abc import Iterable

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import PIL.Image
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter
from matplotlib.transforms import ScaledTranslation

from avs_eval import formatting
from avs_eval.caches import Recent
from avs_eval.schema import ALL_PERIMETER, METROPOLE, RHONE
from avs_eval.secrecy import MASK, SECRET_SYMBOL

DPI = 100

# One colour per perimeter and per type of structure, in every chart and map of every
# report: a reader who has learnt that the Métropole is orange in one chart must find it
# orange in the next, and in the synthesis. These constants are the only owners of those
# colours (`avs_eval.cartes` takes its own from here).
TERRITORY_COLOR = "#0b5394"  # the report's territory (and the locator map's outline)
COLLECTIVITE_COLORS = {METROPOLE: "#e69138", RHONE: "#6aa84f"}
DEPARTMENT_COLOR = "#595959"  # « Ensemble »: the whole department, a neutral reference
PERIMETER_COLORS = {**COLLECTIVITE_COLORS, ALL_PERIMETER: DEPARTMENT_COLOR}
TYPE_COLORS = {"CS": "#8e7cc3", "EVS": "#45818e"}
# Other series (the territory first, then the explorer's selections): none of the above.
PALETTE = [TERRITORY_COLOR, "#c27ba0", "#b45f06", "#3d85c6", "#741b47", "#999900"]
TARGET_COLOR = "#b00020"
ERROR_COLOR = "#333"
SHARE_TICKS = [0, 0.25, 0.5, 0.75, 1]


def perimeter_colors(names) -> list[str]:
    """The colour of each perimeter: its own for a collectivité and « Ensemble », the
    territory's (then the next free colours) for any other name."""
    free = iter(PALETTE)
    return [PERIMETER_COLORS.get(str(name)) or next(free, PALETTE[-1]) for name in names]


def type_colors(types) -> list[str]:
    """The colour of each type of structure (« Ensemble » is the territory's colour)."""
    return [TYPE_COLORS.get(str(kind), TERRITORY_COLOR) for kind in types]


def _percent() -> FuncFormatter:
    """Shares on an axis as `formatting.percentage` writes them, « 40 % ». One per axis: a
    formatter keeps its axis, so a shared one would keep the last chart (its figure) alive."""
    return FuncFormatter(lambda value, _position: formatting.percentage(value))


LABEL_GROUND = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}

# seaborn's "whitegrid" theme, as `seaborn.set_theme(style="whitegrid")` sets it, spelled
# out: importing seaborn (and SciPy with it) would cost every kernel 1.3 s, and only the
# heatmap draws with seaborn. tests/test_figures.py checks this is still seaborn's theme.
WHITEGRID = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 12.0,
    "axes.linewidth": 1.25,
    "axes.prop_cycle": cycler(
        color=[
            "#4C72B0",
            "#DD8452",
            "#55A868",
            "#C44E52",
            "#8172B3",
            "#937860",
            "#DA8BC3",
            "#8C8C8C",
            "#CCB974",
            "#64B5CD",
        ]  # seaborn's "deep" palette
    ),
    "axes.titlesize": 12.0,
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "font.size": 12.0,
    "grid.color": ".8",
    "grid.linewidth": 1.0,
    "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.labelsize": 11.0,
    "xtick.major.size": 6.0,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0,
    "ytick.color": ".15",
    "ytick.labelsize": 11.0,
    "ytick.left": False,
    "ytick.major.size": 6.0,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4.0,
    "ytick.minor.width": 1.0,
}
# ours, on top of it
STYLE = {
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titley": 1.0,  # fixed title position: automatic placement measures every axis
    "text.hinting": "no_hinting",  # unhinted glyphs: as legible at 100 dpi, rendered faster
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "font.family": "DejaVu Sans",
    "text.parse_math": False,  # a "$" in a territory name is text, not a formula
}
matplotlib.rcParams.update({**WHITEGRID, **STYLE})


def wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def title_of(figure: Figure) -> str:
    """The chart's title on one line: its figure title, else its first axes' title."""
    heading = figure.get_suptitle()
    if not heading and figure.axes:
        heading = figure.axes[0].get_title()
    return " ".join(heading.split()) or "Graphique"


def png(figure: Figure) -> bytes:
    """The figure as a PNG, with no timestamp or software name.

    A chart has a few flat colours and their anti-aliased edges: 256 colours (an 8-bit
    palette) keep it indistinguishable from the RGBA image at a third of the size (every
    report carries its charts inline), and compressing one byte per pixel instead of four
    is twice as fast. A chart of continuous shades (none drawn today: the heatmap has
    ten classes) would keep all its colours. Identical charts give identical files.
    """
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    # popped, not read: the entry's artists refer to their figure, so a weak key would
    # never let go of it, and every chart of every report stayed in the kernel's memory
    # (40 MB per report at 100 territories)
    frame = _FRAMES_OF.pop(figure, None)
    if frame is None:
        canvas.draw()
    else:
        _draw_on_frame(figure, canvas, *frame)
    image = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    image = image.convert("RGB")
    if figure not in _SHADES:
        image = image.quantize(256, method=PIL.Image.Quantize.FASTOCTREE)
        # a colour of the palette is the mean of the colours it stands for: the
        # background must stay pure white, like the page around it
        palette = np.asarray(image.getpalette(), dtype=np.uint8).reshape(-1, 3)
        palette[(palette >= 250).all(axis=1)] = 255
        image.putpalette(palette.ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="png", dpi=(DPI, DPI))
    return buffer.getvalue()


# Figures whose colours are shades of a colour map: 256 colours would merge the lightest
# with the white background and band the colour bar.
_SHADES: weakref.WeakSet[Figure] = weakref.WeakSet()


# The eight comparison charts of a report have the same frame (axes, ticks, tick labels,
# axis titles, legend: same perimeters, years and layout), and drawing it is most of the
# cost of such a chart; the breakdown of a question has the same frame in every report.
# So a chart can register its data (the artists that change from one chart to the next)
# with a key that names everything the rest depends on: the first chart with a key
# draws its frame alone and keeps the pixels, the next ones start from them and draw
# only their data. Same key, same frame: whatever a figure draws from its arguments must
# be in its data or in its key (the style set above is fixed). `png` gives the same
# bytes whether the frame was drawn or reused; `savefig` still draws everything.
_FRAMES_OF: weakref.WeakKeyDictionary[Figure, tuple[tuple, list]] = weakref.WeakKeyDictionary()
_FRAMES_KEPT = 8  # a report uses 6: 1 comparison, 4 breakdowns, 1 by type
_FRAMES: Recent = Recent(_FRAMES_KEPT)  # key -> pixels of the frame


def _on_frame(figure: Figure, key: tuple, data: list) -> None:
    """Register `data`, the artists of `figure` drawn from data; `key` names the rest."""
    _FRAMES_OF[figure] = (key, data)


def _draw_on_frame(figure: Figure, canvas: FigureCanvasAgg, key: tuple, data: list) -> None:
    pixels = _FRAMES.get(key, lambda: _frame_alone(figure, canvas, data))
    canvas.restore_region(pixels)
    renderer = canvas.get_renderer()
    for ax in figure.axes:
        # the spines go over the bars, as in a drawing of the whole figure
        layers = [artist for artist in data if artist.axes is ax] + list(ax.spines.values())
        for artist in sorted(layers, key=lambda artist: artist.get_zorder()):
            artist.draw(renderer)
    for artist in data:
        if artist.axes is None:
            artist.draw(renderer)


def _frame_alone(figure: Figure, canvas: FigureCanvasAgg, data: list):
    """The pixels of `figure` without its data: drawn with the data hidden."""
    shown = [artist for artist in data if artist.get_visible()]
    for artist in shown:
        artist.set_visible(False)
    canvas.draw()
    for artist in shown:
        artist.set_visible(True)
    return canvas.copy_from_bbox(figure.bbox)


def _new(
    width: float,
    height: float,
    ncols: int = 1,
    *,
    left: float = 0.7,
    right: float = 0.3,
    top: float = 0.5,
    bottom: float = 0.6,
    wspace: float = 0.25,
    **kwargs,
) -> tuple[Figure, list]:
    """A figure with fixed margins in inches.

    Fixed margins instead of a layout engine: constrained layout lays the figure out
    several times per save, which doubled the cost of every chart of a report.
    """
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)  # its renderer measures the legend names, then draws the figure
    axes = figure.subplots(1, ncols, squeeze=False, **kwargs)[0]
    figure.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=wspace,
    )
    return figure, list(axes)


def _share_axis(ax, horizontal: bool) -> None:
    axis = ax.xaxis if horizontal else ax.yaxis
    axis.set_major_locator(FixedLocator(SHARE_TICKS))
    axis.set_major_formatter(_percent())
    (ax.set_xlim if horizontal else ax.set_ylim)(0, 1.12)


def _bars(ax, rows: pd.DataFrame, colors, positions, horizontal=False, height=0.8) -> None:
    """Bars with Wilson error bars; a masked row gets an "s" instead.

    `rows` may hold rows of NaN (a perimeter with no answer): they get a dash.
    The bars are one collection and the error bars another (plus one line of cap
    markers): `Axes.bar` and `Axes.errorbar` make an artist per bar and per cap,
    several times slower to build for the same picture.
    """
    positions = np.asarray(positions, dtype=float)
    colors = np.asarray(colors, dtype=object)
    masked = rows[MASK].fillna(False).astype(bool).to_numpy()
    share = rows["part"].to_numpy(dtype=float)
    low = rows["ic_bas"].to_numpy(dtype=float)
    high = rows["ic_haut"].to_numpy(dtype=float)
    shown = ~masked & ~np.isnan(share)
    at, value = positions[shown], share[shown]
    zero, half = np.zeros_like(value), height / 2
    # (category, value) corners of each bar and ends of each error bar
    bars = np.stack(
        [
            np.column_stack([at - half, zero]),
            np.column_stack([at + half, zero]),
            np.column_stack([at + half, value]),
            np.column_stack([at - half, value]),
        ],
        axis=1,
    )
    # a census (the response rate) has no interval: no error bar, the label by the bar
    ranged = ~np.isnan(low[shown]) & ~np.isnan(high[shown])
    ends = np.column_stack([np.minimum(low[shown], value), np.maximum(high[shown], value)])[ranged]
    whiskers = np.stack(
        [np.column_stack([at[ranged], ends[:, 0]]), np.column_stack([at[ranged], ends[:, 1]])], 1
    ).reshape(-1, 2, 2)
    cap_at, cap_value = np.concatenate([at[ranged], at[ranged]]), ends.T.ravel()
    if horizontal:
        bars, whiskers = bars[..., ::-1], whiskers[..., ::-1]
        cap_at, cap_value = cap_value, cap_at
    ax.add_collection(
        PolyCollection(
            bars,
            facecolors=list(colors[shown]),
            edgecolors="white",
            linewidths=matplotlib.rcParams["patch.linewidth"],
        ),
        autolim=False,
    )
    error_bars = LineCollection(whiskers, colors=ERROR_COLOR, linewidths=1)
    ax.add_collection(error_bars, autolim=False)
    (caps,) = ax.plot(
        cap_at,
        cap_value,
        linestyle="none",
        marker="|" if horizontal else "_",
        markersize=6,
        markeredgewidth=1,
        color=ERROR_COLOR,
    )
    # what `Axes.errorbar` would have registered, for code that looks for the error bars
    ax.add_container(
        ErrorbarContainer(
            (None, (caps,), (error_bars,)), has_xerr=horizontal, has_yerr=not horizontal
        )
    )
    tops = np.where(np.isnan(high), share, np.fmax(high, share))
    for position, value, top, hidden in zip(positions, share, tops, masked, strict=True):
        if hidden or np.isnan(value):
            text = SECRET_SYMBOL if hidden else "–"
            if horizontal:
                ax.text(0.01, position, text, va="center", ha="left", fontsize=10, weight="bold")
            else:
                ax.text(position, 0.02, text, ha="center", va="bottom", fontsize=11, weight="bold")
        elif horizontal:
            ax.text(top + 0.015, position, formatting.percentage(value), va="center", fontsize=8)
        else:  # on a white ground: a target line crossing the label stays behind it
            ax.text(
                position,
                top + 0.02,
                formatting.percentage(value),
                ha="center",
                va="bottom",
                fontsize=9,
                bbox=LABEL_GROUND,
            )


INTERVAL_NOTE = "barre : intervalle de confiance à 95\u202f%"


def _has_interval(rows: pd.DataFrame) -> bool:
    """Whether a shown bar of `rows` gets an error bar (a census has no interval)."""
    shown = rows[~rows[MASK].fillna(False).astype(bool) & rows["part"].notna()]
    return bool(shown["ic_bas"].notna().any() and shown["ic_haut"].notna().any())


def comparison(
    year_rows: pd.DataFrame,
    trend_rows: pd.DataFrame,
    title: str,
    annee: int,
    target: float | None = None,
    reference: int | None = None,
) -> Figure:
    """Left: the year's share for each perimeter; right: the same shares over the years.

    `reference`, the baseline year of the report's changes, is marked on the right.

    `year_rows` has one row per perimeter (in display order); `trend_rows` has
    `annee`, `perimetre`, `part`, `masque`.
    """
    labels = [wrap(p, 12) for p in year_rows["perimetre"]]
    lines = max(label.count("\n") + 1 for label in labels)
    bottom = 0.3 + 0.15 * lines  # room for perimeter names wrapped on several lines
    figure, (left, right) = _new(
        10,
        3.0 + bottom,
        ncols=2,
        left=0.8,
        right=1.9,
        top=0.75,
        bottom=bottom,
        gridspec_kw={"width_ratios": [1, 1.3]},
    )
    colors = perimeter_colors(year_rows["perimetre"])
    _bars(left, year_rows, colors, np.arange(len(labels)))
    _category_axis(left.xaxis, labels)
    left.set_xlim(-0.5, len(labels) - 0.5)
    _share_axis(left, horizontal=False)
    # the subtitle announces an interval only when one is drawn (a census has none)
    ranged = _has_interval(year_rows)
    left.set_title(f"En {annee}" + (f" ({INTERVAL_NOTE})" if ranged else ""), fontsize=10)
    left.set_ylabel("Part des structures")
    legend = []
    for k, (color, perimeter) in enumerate(zip(colors, year_rows["perimetre"], strict=False)):
        series = trend_rows[trend_rows["perimetre"] == perimeter].sort_values("annee")
        shown = series[~series[MASK] & series["part"].notna()]
        style = {"color": color, "marker": "o", "markevery": [1]}
        right.plot(shown["annee"], shown["part"], marker="o", color=color)
        legend.append((perimeter, style))
        for year in series.loc[series[MASK], "annee"]:
            # one height per perimeter, so that the "s" of several perimeters do not overlap
            y = 0.03 + 0.06 * k
            right.text(year, y, SECRET_SYMBOL, color=color, ha="center", weight="bold")
    if target is not None:
        target_style = {"color": TARGET_COLOR, "linestyle": "--", "linewidth": 1.2}
        left.axhline(target, **target_style)
        right.axhline(target, **target_style)
        legend.append(("cible", target_style))
    years = sorted(int(year) for year in trend_rows["annee"].unique())
    if reference is not None and reference in years and reference != annee:
        right.axvline(reference, color="#6b7280", linestyle=":", linewidth=1.2)
        right.text(
            reference, 1.04, f"référence {reference}", color="#4b5563", ha="left", fontsize=8
        )
    margin = 0.05 * (years[-1] - years[0]) or 0.5
    right.xaxis.set_major_locator(FixedLocator(years))
    right.set_xlim(years[0] - margin, years[-1] + margin)  # not from the data: see the frame
    _share_axis(right, horizontal=False)
    right.set_title("Évolution", fontsize=10)
    legend_artists = _legend_right(right, legend)
    heading = figure.suptitle(wrap(title, 90), fontsize=12, weight="bold")
    # the data: the title, bars, lines and texts in the axes, the target's legend entry
    data = [heading, *(legend_artists[-2:] if target is not None else [])]
    data += [*_content(left), *_content(right)]
    key = ("comparison", tuple(labels), tuple(colors), tuple(years), annee, ranged)
    _on_frame(figure, key, data)
    return figure


def breakdown(rows: pd.DataFrame, title: str, order: list[str], labels: dict[str, str]) -> Figure:
    """Horizontal bars, one group per code, one bar per perimeter (the `perimetre` column)."""
    perimeters = list(dict.fromkeys(rows["perimetre"]))
    height = max(2.5, 0.22 * len(order) * len(perimeters) + 1.2)
    colors = perimeter_colors(perimeters)
    figure, names = _grouped_bars(
        rows, "perimetre", perimeters, colors, "modalite", order, labels, height
    )
    ax = figure.axes[0]
    ax.set_xlabel("Part des structures ayant répondu à la question")
    ax.set_title(wrap(title, 64))
    # the frame does not depend on the territory: the next reports of a warm kernel reuse it
    legend = _legend_below(figure, perimeters, colors)
    key = ("breakdown", height, names, tuple(colors), ax.get_title())
    _on_frame(figure, key, [*_content(ax), *legend])
    return figure


def by_type(rows: pd.DataFrame, title: str, order: list[str], labels: dict[str, str]) -> Figure:
    """CS against EVS: one group per indicator (`indicateur`), one bar per `type`."""
    types = ["CS", "EVS"]
    height = max(2.8, 0.55 * len(order) + 1.2)
    colors = type_colors(types)
    figure, names = _grouped_bars(rows, "type", types, colors, "indicateur", order, labels, height)
    ax = figure.axes[0]
    _legend_below(figure, ["Centres sociaux", "Espaces de vie sociale"], colors)
    ax.set_title(wrap(title, 64))
    # the title names the perimeter: data, so that both charts of a report share a frame
    _on_frame(figure, ("by_type", height, names), [*_content(ax), ax.title])
    return figure


def _grouped_bars(rows, hue, hues, colors, category, order, labels, height):
    """One group of horizontal bars per `category` value, one bar per `hue` value (its
    colour in `colors`).

    Returns the figure and the group names as shown.
    """
    figure, (ax,) = _new(9, height, left=2.7, right=0.3, top=0.75, bottom=1.05)
    step = 0.8 / len(hues)
    for k, (value, color) in enumerate(zip(hues, colors, strict=True)):
        data = rows[rows[hue] == value].set_index(category).reindex(order)
        data[MASK] = data[MASK].fillna(False).astype(bool)
        offsets = np.arange(len(order)) - 0.4 + step * (k + 0.5)
        colors = [color] * len(order)
        _bars(ax, data, colors, offsets, horizontal=True, height=step * 0.9)
    names = tuple(wrap(labels[c], 34) for c in order)
    _category_axis(ax.yaxis, names)
    ax.set_ylim(len(order) - 0.5, -0.5)  # top to bottom, room for the "s" of a masked group
    _share_axis(ax, horizontal=True)
    return figure, names


def _category_axis(axis, names) -> None:
    """One tick per name at 0, 1, 2…, made when the axis is drawn (not on a reused frame)."""
    axis.set_major_locator(FixedLocator(range(len(names))))
    axis.set_major_formatter(FixedFormatter(names))


def _content(ax) -> list:
    """What `ax` draws from the data: bars, error bars, lines, texts."""
    return [*ax.collections, *ax.lines, *ax.texts]


def _legend_below(figure: Figure, names: list[str], colors: list[str]) -> list:
    """A legend along the bottom of the figure, where it can never hide a bar.

    Laid out by hand (a colour key, then the name, entries centred on one line):
    `Figure.legend` packs nested boxes at every draw and cost as much as the bars.
    The names are measured with the figure's renderer, which keeps the measures for
    the drawing. Returns the artists made.
    """
    inches = figure.dpi_scale_trans  # coordinates in inches from the bottom-left corner
    renderer = figure.canvas.get_renderer()
    texts = [
        figure.text(0, 0.23, wrap(name, 40), va="center", fontsize=9, transform=inches)
        for name in names
    ]
    widths = [text.get_window_extent(renderer).width / figure.dpi for text in texts]
    key, pad, gap = 0.28, 0.08, 0.4
    x = (figure.get_figwidth() - sum(widths) - len(texts) * (key + pad + gap) + gap) / 2
    artists = list(texts)
    for text, width, color in zip(texts, widths, colors, strict=False):
        patch = Rectangle((x, 0.18), key, 0.1, facecolor=color, transform=inches)
        artists.append(figure.add_artist(patch))
        text.set_x(x + key + pad)
        x += key + pad + width + gap
    return artists


def _legend_right(ax, entries: list[tuple[str, dict]]) -> list:
    """A legend in the right margin: a sample of each line then its name (wrapped).

    `entries` are (name, line style). Laid out by hand in inches from the top right
    corner of `ax`, one entry under the other: `Axes.legend` packs nested boxes at
    every draw, which cost more than the lines it describes. Returns the artists made,
    a line and a text per entry.
    """
    figure = ax.get_figure()
    corner = figure.dpi_scale_trans + ScaledTranslation(1, 1, ax.transAxes)
    top, line = 0.0, 0.16  # inches below the top of `ax`; height of a line of text
    artists = []
    for name, style in entries:
        label = wrap(name, 18)
        y = top - line * (label.count("\n") + 1) / 2
        sample = Line2D([0.15, 0.3, 0.45], [y, y, y], transform=corner, **style)
        artists += [
            figure.add_artist(sample),
            figure.text(0.55, y, label, va="center", fontsize=9, transform=corner),
        ]
        top -= line * (label.count("\n") + 1) + 0.08
    return artists


# The heatmap's colours: ten classes of ten points (each cell also shows its share), from
# a light blue that stays distinct from the white page to a dark one. Flat classes, not
# a continuous ramp: the chart keeps its colours in an 8-bit palette, which holds a
# 100-territory heatmap in a few hundred kilobytes instead of more than one megabyte.
TALL_HEATMAP = 30  # rows beyond which the column labels are also written above the chart
HEATMAP_CLASSES = matplotlib.colors.ListedColormap(
    matplotlib.colormaps["Blues"](np.linspace(0.1, 0.95, 10)), name="classes_bleues"
)


LOWER_IS_BETTER = "moins = mieux"  # what a column whose scale is reversed says under its name


def heatmap(
    matrix: pd.DataFrame, masked: pd.DataFrame, title: str, lower_is_better: Iterable[str] = ()
) -> Figure:
    """Territories × indicators, shares as colours and numbers, "s" where masked.

    Darker always means better: the columns named in `lower_is_better` (the catalog's
    `sens: baisse`, e.g. difficulties) are coloured on the reversed scale, and say so
    under their name.
    """
    values = matrix.where(~masked)
    annotations = values.map(lambda v: "" if pd.isna(v) else formatting.percentage(v))
    annotations = annotations.where(~masked, SECRET_SYMBOL)
    flipped = set(lower_is_better)
    reversed_ = [c in flipped for c in matrix.columns]
    shades = values.astype(float).apply(lambda col: 1 - col if col.name in flipped else col)
    # Column labels stand upright, wrapped: slanted ones overlap once the catalog has
    # more than a few headline figures. The figure widens with the number of columns.
    labels = [
        wrap(c, 22) + (f"\n({LOWER_IS_BETTER})" if flip else "")
        for c, flip in zip(matrix.columns, reversed_, strict=True)
    ]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    longest = max((len(line) for label in labels for line in label.split("\n")), default=10)
    bottom = 0.3 + 0.065 * longest
    width = max(10.0, 4.3 + 0.75 * len(matrix.columns), 4.3 + 0.16 * lines * len(matrix.columns))
    # a tall heatmap (many territories) repeats the column labels above its first row
    both_ends = len(matrix) > TALL_HEATMAP
    top = 0.5 + (bottom if both_ends else 0.0)
    height = max(3.0, 0.42 * len(matrix) + top + bottom)
    figure, (ax,) = _new(width, height, left=2.9, right=0.2, top=top, bottom=bottom)
    import seaborn as sns  # here only: only the synthesis draws a heatmap

    sns.heatmap(
        shades,
        ax=ax,
        vmin=0,
        vmax=1,
        cmap=HEATMAP_CLASSES,
        annot=annotations.to_numpy(),
        fmt="",
        annot_kws={"fontsize": 8},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"format": _percent(), "label": _scale_label(any(reversed_))},
    )
    ax.grid(False)
    for row, column in zip(*np.nonzero(masked.to_numpy()), strict=True):
        ax.text(
            column + 0.5,
            row + 0.5,
            SECRET_SYMBOL,
            ha="center",
            va="center",
            fontsize=9,
            weight="bold",
            color="#8c4a00",
        )
    ax.set_xticklabels(labels, rotation=90, ha="center", va="top", fontsize=8)
    if both_ends:
        ax.secondary_xaxis("top").set_xticks(
            ax.get_xticks(), labels, rotation=90, ha="center", va="bottom", fontsize=8
        )
        ax.set_title(wrap(title, 90), pad=72 * bottom)  # points: above the labels
        return figure
    ax.set_yticklabels(matrix.index, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(wrap(title, 90))
    return figure


def _scale_label(reversed_: bool) -> str:
    """The colour bar's title: shares, and how to read a reversed column."""
    if reversed_:
        return f"Part des structures ; plus foncé = mieux\n(inversée si « {LOWER_IS_BETTER} »)"
    return "Part des structures (plus foncé = part plus élevée)"


def trends(
    rows: pd.DataFrame,
    title: str,
    hue: str = "perimetre",
    reference: int | None = None,
    targets: dict[int, float | None] | None = None,
) -> Figure:
    """Lines over the years, one per value of `hue`; masked points are an "s" on the axis.

    `reference`, the baseline year of the changes, is marked with a dotted line;
    `targets`, each year's target (None: none that year), a dashed step. The legend
    names only what is drawn: a series with nothing shown has no entry.
    """
    figure, (ax,) = _new(8, 3.4, left=0.8, right=2.0, top=0.6, bottom=0.5)
    groups = list(rows.groupby(hue, sort=False))
    colors = perimeter_colors(name for name, _ in groups) if hue == "perimetre" else PALETTE
    legend = []
    for k, (color, (name, series)) in enumerate(zip(colors, groups, strict=False)):
        # no "s" here: the explorer, which draws its own, reuses this chart
        if _series(ax, series, color, k, band=True, secret=False, width=1.5):
            legend.append((str(name), {"color": color, "marker": "o", "markevery": [1]}))
    years = sorted(int(y) for y in rows["annee"].unique())
    ax.set_xticks(years)
    _targets(ax, years, targets or {}, legend)
    _reference(ax, reference, years)
    _share_axis(ax, horizontal=False)
    _legend_right(ax, legend)
    ax.set_title(wrap(title, 64))
    return figure


def _series(ax, series, color: str, k: int, band: bool, secret: bool, width: float) -> bool:
    """One perimeter's line (and its 95 % band), an "s" on the axis for a masked year.

    The "s" of the `k`-th series sit at their own height, so that those of several
    series do not overlap. Returns whether anything was drawn.
    """
    series = series.sort_values("annee")
    masked = series[MASK].fillna(False).astype(bool)
    shown = series[~masked & series["part"].notna()]
    if not shown.empty:
        ax.plot(shown["annee"], shown["part"], marker="o", color=color, linewidth=width)
        if band:  # empty for a census (no interval), as the explorer expects one per line
            ax.fill_between(
                shown["annee"], shown["ic_bas"], shown["ic_haut"], color=color, alpha=0.12
            )
    if not secret:
        return not shown.empty
    for year in series.loc[masked, "annee"]:
        ax.text(year, 0.03 + 0.06 * k, SECRET_SYMBOL, color=color, ha="center", weight="bold")
    return not shown.empty or bool(masked.any())


def _targets(ax, years: list[int], targets: dict[int, float | None], legend: list) -> None:
    """Each year's target as a dashed step (a target that moves reads as one), in the
    legend only when there is one to draw."""
    steps = [(y, targets.get(y)) for y in years if targets.get(y) is not None]
    if not steps:
        return
    style = {"color": TARGET_COLOR, "linestyle": "--", "linewidth": 1.3}
    xs = [y for y, _ in steps] + [steps[-1][0] + 0.5]
    ys = [t for _, t in steps] + [steps[-1][1]]
    ax.step([xs[0] - 0.5, *xs], [ys[0], *ys], where="post", **style)
    label = "cible" if len({t for _, t in steps}) == 1 else "cible de l'année"
    legend.append((label, style))


def _reference(ax, reference: int | None, years: list[int]) -> None:
    """The first year of the changes tested, dotted (not when it is the last year)."""
    if reference is not None and reference in years[:-1]:
        ax.axvline(reference, color="#6b7280", linestyle=":", linewidth=1.2)
        ax.text(reference, 1.04, f"référence {reference}", color="#4b5563", fontsize=8)


def trajectory(
    rows: pd.DataFrame,
    title: str,
    targets: dict[int, float | None],
    reference: int | None = None,
) -> Figure:
    """A share year by year, one line per perimeter, with each year's target.

    The first perimeter of `rows` (the department) gets its 95 % interval as a band; a
    masked year is an "s" on the axis, never a point. `targets`: the target of each
    year (None: none that year), drawn as a dashed step so that a target that moves
    reads as one. `reference`: the first year of the change tested, dotted.
    """
    figure, (ax,) = _new(8, 3.2, left=0.8, right=2.1, top=0.6, bottom=0.45)
    groups = list(rows.groupby("perimetre", sort=False))
    colors = perimeter_colors(name for name, _ in groups)
    legend = []
    for k, (color, (name, series)) in enumerate(zip(colors, groups, strict=True)):
        if _series(ax, series, color, k, band=k == 0, secret=True, width=2 - 0.5 * bool(k)):
            legend.append((str(name), {"color": color, "marker": "o", "markevery": [1]}))
    years = sorted(int(y) for y in rows["annee"].unique())
    _targets(ax, years, targets, legend)
    _reference(ax, reference, years)
    ax.xaxis.set_major_locator(FixedLocator(years))
    ax.xaxis.set_major_formatter(FixedFormatter([str(y) for y in years]))
    ax.set_xlim(years[0] - 0.4, years[-1] + 0.4)
    _share_axis(ax, horizontal=False)
    _legend_right(ax, legend)
    ax.set_title(wrap(title, 64))
    return figure


def participation(rows: pd.DataFrame, title: str) -> Figure:
    """Response rate by territory (horizontal bars, "s" where masked)."""
    figure, (ax,) = _new(9, max(2.5, 0.32 * len(rows) + 1.2), left=2.9, right=0.3, top=0.5)
    labels = list(rows["perimetre"])
    colors = [TERRITORY_COLOR] * len(rows)  # every bar a territory's
    _bars(ax, rows, colors, np.arange(len(rows)), horizontal=True, height=0.7)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # top to bottom
    _share_axis(ax, horizontal=True)
    ax.set_xlabel("Taux de réponse")
    ax.set_title(wrap(title, 64))
    return figure


def perimeter_bars(
    rows: pd.DataFrame, title: str, order: list[str], types: list[str], names: list[str]
) -> Figure:
    """Horizontal bars with Wilson intervals, one group per perimeter, one bar per `type`.

    `order` lists the perimeters top to bottom; `names` labels the types in the legend
    (shown when there are several). Masked rows get an "s".
    """
    height = max(2.5, 0.3 * len(order) * len(types) + 1.6)
    labels = {p: p for p in order}
    colors = type_colors(types)
    figure, _ = _grouped_bars(rows, "type", types, colors, "perimetre", order, labels, height)
    ax = figure.axes[0]
    ranged = _has_interval(rows)
    ax.set_xlabel("Part des structures" + (f" ({INTERVAL_NOTE})" if ranged else ""))
    if len(types) > 1:
        _legend_below(figure, names, colors)
    ax.set_title(wrap(title, 64))
    return figure
