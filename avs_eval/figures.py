"""Charts for readers who are not statisticians: French labels, percentages, "s" for secrecy.

Figures are built with the object API (`matplotlib.figure.Figure`), never with
pyplot's global state: a warm kernel running report after report starts each
one with nothing left over, and nothing is drawn twice. Every function takes
rows of an indicator table that already carry the `masque` column, so a masked
share can never reach a chart: its bar is replaced by the letter "s".
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from avs_eval.secrecy import MASK, SECRET_SYMBOL

DPI = 100
PALETTE = ["#0b5394", "#e69138", "#6aa84f", "#8e7cc3", "#c27ba0", "#45818e"]
TARGET_COLOR = "#b00020"
PERCENT = PercentFormatter(1.0, decimals=0, symbol="\u00a0%")

sns.set_theme(
    style="whitegrid",
    rc={
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "font.family": "DejaVu Sans",
        "text.parse_math": False,  # a "$" in a territory name is text, not a formula
    },
)


def percent(value: float) -> str:
    """45 % in French typography (non-breaking space)."""
    return f"{value * 100:.0f}\u00a0%"


def wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes, with no timestamp so identical charts give identical files."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


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
    figure = Figure(figsize=(width, height))
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
    axis.set_major_formatter(PERCENT)
    (ax.set_xlim if horizontal else ax.set_ylim)(0, 1.12)


def _bars(ax, rows: pd.DataFrame, colors, positions, horizontal=False, height=0.8) -> None:
    """Bars with Wilson error bars, drawn in one call; a masked row gets an "s" instead.

    `rows` may hold rows of NaN (a perimeter with no answer): they get a dash.
    """
    positions = np.asarray(positions, dtype=float)
    colors = np.asarray(colors, dtype=object)
    masked = rows[MASK].fillna(False).astype(bool).to_numpy()
    share = rows["part"].to_numpy(dtype=float)
    low = rows["ic_bas"].to_numpy(dtype=float)
    high = rows["ic_haut"].to_numpy(dtype=float)
    shown = ~masked & ~np.isnan(share)
    error = np.vstack([np.clip(share - low, 0, None), np.clip(high - share, 0, None)])[:, shown]
    style = {"capsize": 3, "error_kw": {"elinewidth": 1, "ecolor": "#333"}}
    if horizontal:
        ax.barh(
            positions[shown],
            share[shown],
            height=height,
            color=list(colors[shown]),
            xerr=error,
            **style,
        )
    else:
        ax.bar(
            positions[shown],
            share[shown],
            width=height,
            color=list(colors[shown]),
            yerr=error,
            **style,
        )
    for position, value, top, hidden in zip(positions, share, high, masked, strict=True):
        if hidden or np.isnan(value):
            text = SECRET_SYMBOL if hidden else "–"
            if horizontal:
                ax.text(0.01, position, text, va="center", ha="left", fontsize=10, weight="bold")
            else:
                ax.text(position, 0.02, text, ha="center", va="bottom", fontsize=11, weight="bold")
        elif horizontal:
            ax.text(min(top + 0.015, 1.0), position, percent(value), va="center", fontsize=8)
        else:
            ax.text(position, min(top + 0.02, 1.04), percent(value), ha="center", fontsize=9)


def comparison(
    year_rows: pd.DataFrame,
    trend_rows: pd.DataFrame,
    title: str,
    annee: int,
    target: float | None = None,
) -> Figure:
    """Left: the year's share for each perimeter; right: the same shares over the years.

    `year_rows` has one row per perimeter (in display order); `trend_rows` has
    `annee`, `perimetre`, `part`, `masque`.
    """
    figure, (left, right) = _new(
        10,
        3.6,
        ncols=2,
        left=0.8,
        right=1.9,
        top=0.75,
        bottom=0.6,
        gridspec_kw={"width_ratios": [1, 1.3]},
    )
    labels = [wrap(p, 12) for p in year_rows["perimetre"]]
    _bars(left, year_rows, PALETTE[: len(year_rows)], np.arange(len(labels)))
    left.set_xticks(range(len(labels)), labels)
    _share_axis(left, horizontal=False)
    left.set_title(f"En {annee} (barre : intervalle de confiance à 95 %)", fontsize=10)
    left.set_ylabel("Part des structures")
    if target is not None:
        left.axhline(target, color=TARGET_COLOR, linestyle="--", linewidth=1.2)
    for color, perimeter in zip(PALETTE, year_rows["perimetre"], strict=False):
        series = trend_rows[trend_rows["perimetre"] == perimeter].sort_values("annee")
        shown = series[~series[MASK] & series["part"].notna()]
        right.plot(shown["annee"], shown["part"], marker="o", color=color, label=perimeter)
        for _, row in series[series[MASK]].iterrows():
            right.text(row["annee"], 0.03, SECRET_SYMBOL, color=color, ha="center", weight="bold")
    if target is not None:
        right.axhline(target, color=TARGET_COLOR, linestyle="--", linewidth=1.2, label="cible")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    _share_axis(right, horizontal=False)
    right.set_title("Évolution", fontsize=10)
    right.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    figure.suptitle(wrap(title, 90), fontsize=12, weight="bold")
    return figure


def breakdown(rows: pd.DataFrame, title: str, order: list[str], labels: dict[str, str]) -> Figure:
    """Horizontal bars, one group per code, one bar per perimeter (the `perimetre` column)."""
    perimeters = list(dict.fromkeys(rows["perimetre"]))
    height = max(2.5, 0.22 * len(order) * len(perimeters) + 1.2)
    figure = _grouped_bars(rows, "perimetre", perimeters, "modalite", order, labels, height)
    ax = figure.axes[0]
    ax.set_xlabel("Part des structures ayant répondu à la question")
    _legend_below(ax, perimeters, PALETTE)
    ax.set_title(wrap(title, 64))
    return figure


def by_type(rows: pd.DataFrame, title: str, order: list[str], labels: dict[str, str]) -> Figure:
    """CS against EVS: one group per indicator (`indicateur`), one bar per `type`."""
    types = ["CS", "EVS"]
    height = max(2.8, 0.55 * len(order) + 1.2)
    figure = _grouped_bars(rows, "type", types, "indicateur", order, labels, height)
    ax = figure.axes[0]
    _legend_below(ax, ["Centres sociaux", "Espaces de vie sociale"], PALETTE)
    ax.set_title(wrap(title, 64))
    return figure


def _grouped_bars(rows, hue, hues, category, order, labels, height) -> Figure:
    """One group of horizontal bars per `category` value, one bar per `hue` value."""
    figure, (ax,) = _new(9, height, left=2.7, right=0.3, top=0.75, bottom=1.05)
    step = 0.8 / len(hues)
    for k, (value, color) in enumerate(zip(hues, PALETTE, strict=False)):
        data = rows[rows[hue] == value].set_index(category).reindex(order)
        data[MASK] = data[MASK].fillna(False).astype(bool)
        offsets = np.arange(len(order)) - 0.4 + step * (k + 0.5)
        colors = [color] * len(order)
        _bars(ax, data, colors, offsets, horizontal=True, height=step * 0.9)
    ax.set_yticks(range(len(order)), [wrap(labels[c], 34) for c in order])
    ax.invert_yaxis()
    _share_axis(ax, horizontal=True)
    return figure


def _legend_below(ax, names: list[str], colors: list[str]) -> None:
    """A legend along the bottom of the figure, where it can never hide a bar."""
    handles = [Patch(color=c, label=n) for n, c in zip(names, colors, strict=False)]
    ax.figure.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=len(handles),
        frameon=False,
    )


def heatmap(matrix: pd.DataFrame, masked: pd.DataFrame, title: str) -> Figure:
    """Territories × indicators, shares as colours and numbers, "s" where masked."""
    values = matrix.where(~masked)
    annotations = values.map(lambda v: "" if pd.isna(v) else percent(v))
    annotations = annotations.where(~masked, SECRET_SYMBOL)
    height = max(3.0, 0.42 * len(matrix) + 2.2)
    figure, (ax,) = _new(10, height, left=2.9, right=0.2, top=0.5, bottom=1.7)
    sns.heatmap(
        values.astype(float),
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="Blues",
        annot=annotations.to_numpy(),
        fmt="",
        annot_kws={"fontsize": 8},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"format": PERCENT, "label": "Part des structures"},
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
    ax.set_xticklabels([wrap(c, 24) for c in matrix.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticklabels(matrix.index, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(wrap(title, 90))
    return figure


def trends(rows: pd.DataFrame, title: str, hue: str = "perimetre") -> Figure:
    """Lines over the years, one per value of `hue`; masked points are left out."""
    figure, (ax,) = _new(8, 3.4, left=0.8, right=2.0, top=0.6, bottom=0.5)
    for color, (name, series) in zip(PALETTE, rows.groupby(hue, sort=False), strict=False):
        series = series.sort_values("annee")
        shown = series[~series[MASK] & series["part"].notna()]
        ax.plot(shown["annee"], shown["part"], marker="o", color=color, label=name)
        ax.fill_between(shown["annee"], shown["ic_bas"], shown["ic_haut"], color=color, alpha=0.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _share_axis(ax, horizontal=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(wrap(title, 64))
    return figure


def participation(rows: pd.DataFrame, title: str) -> Figure:
    """Response rate by territory (horizontal bars, "s" where masked)."""
    figure, (ax,) = _new(9, max(2.5, 0.32 * len(rows) + 1.2), left=2.9, right=0.3, top=0.5)
    labels = list(rows["perimetre"])
    _bars(ax, rows, [PALETTE[0]] * len(rows), np.arange(len(rows)), horizontal=True, height=0.7)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
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
    figure = _grouped_bars(rows, "type", types, "perimetre", order, labels, height)
    ax = figure.axes[0]
    ax.set_ylim(len(order) - 0.5, -0.5)  # room for the "s" of a masked last group
    ax.set_xlabel("Part des structures (barre : intervalle de confiance à 95 %)")
    if len(types) > 1:
        _legend_below(ax, names, PALETTE)
    ax.set_title(wrap(title, 64))
    return figure
