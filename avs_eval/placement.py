"""Where texts go on a figure: legends laid out in rows, labels moved off each other.

The maps (`avs_eval.cartes`) need both. A legend here is measured from the font's
metrics before anything is drawn, so that a map page can be sized to hold it; a label
is tried at growing distances from its anchor until it overlaps no other, and left out
when it fits nowhere. Both work in inches and display boxes, whatever the coordinates
of the data.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

GROUND_PAD = 0.15  # a label's ground around its text, in font sizes
TEXT_GROUND = {
    "boxstyle": f"square,pad={GROUND_PAD}",
    "facecolor": "white",
    "alpha": 0.75,
    "edgecolor": "none",
}  # a label's translucent ground
GAP = 2.5  # points between two labels' grounds


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


def legend_height(width: float, entries: list[tuple[str, dict]]) -> float:
    """The height in inches `legend` will take on a figure `width` inches wide."""
    return math.ceil(len(entries) / _legend_columns(width, entries)) * 0.3


def legend(figure: Figure, y: float, entries: list[tuple[str, dict]], edgecolor: str) -> float:
    """A legend of boxes and lines laid out by hand in rows (inches from the bottom).

    Returns the height used. `entries`: (label, style) where style has `facecolor`
    (a box edged in `edgecolor`, optionally `hatch`) or `color` (a line). Columns as many
    as fit.
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
            edge = {"edgecolor": edgecolor, "linewidth": 0.5, **style}
            figure.add_artist(Rectangle((x, top), 0.32, 0.18, transform=inches, **edge))
        elif "marker" in style:  # a point: one marker in the middle of the sample
            figure.add_artist(Line2D([x + 0.16], [top + 0.09], transform=inches, **style))
        else:
            figure.add_artist(Line2D([x, x + 0.32], [top + 0.09] * 2, transform=inches, **style))
        figure.text(x + 0.42, top + 0.09, label, va="center", fontsize=9, transform=inches)
    return rows * 0.3


def place_labels(ax, labels: list, renderer, placed: list, **style) -> list:
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
    # a label's box: its text, its ground's padding, and a gap that keeps two names
    # apart (grounds that touch read as one name: « Albigny-sur-Saône » over the next)
    margin = (GROUND_PAD * style["fontsize"] + GAP) * scale
    for (x, y), text in labels:
        artist = ax.text(x, y, text, zorder=6, **style)
        extent = artist.get_window_extent(renderer).padded(margin)
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
                ax.add_line(Line2D([x, end[0]], [y, end[1]], color="#666", lw=0.5, zorder=5))
            break
        else:
            artist.remove()
    return boxes
