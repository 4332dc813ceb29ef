"""The timeline of the actions: the follow-up of `suivi` drawn for the reports and the bilan.

Drawing never reads: `timeline` takes the years `suivi.load_all` read and imports
matplotlib inside, so reading, checking and publishing the follow-up (the CLI, the
CSV) never load it. The chart follows the reports' style (`figures`: fonts, grid,
fixed margins, French labels) and, like a map, carries a long text alternative
(`figure.alt_text`, from `suivi.describe`) that `report.chart` puts in the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from avs_eval.config import Action, Config
from avs_eval.suivi import (
    NOT_FILLED,
    STATE_LABELS,
    STATES,
    YearFollowUp,
    describe,
    milestones_over,
    state_in,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# One colour per state, light enough for the milestones' dark markers to read on them;
# « non renseignée » is hatched, so that a missing record never looks like a state.
STATE_COLORS: dict[str, str] = {
    "a_engager": "#d9d9d9",
    "en_cours": "#9fc5e8",
    "realisee": "#93c47d",
    "reportee": "#f6b26b",
    "abandonnee": "#e59999",
    NOT_FILLED: "#ffffff",
}
MARKER_COLOR = "#1f2937"
LATE_COLOR = "#b00020"
UPCOMING = "à venir"
_UPCOMING_EDGE = {"edgecolor": "#9ca3af", "linestyle": "--", "linewidth": 0.8}
_MARKER = {"linestyle": "none", "markersize": 7, "markeredgewidth": 1.6}


def _state_style(state: str) -> dict:
    """A year's cell: its state's colour; « non renseignée » white and hatched."""
    if state == NOT_FILLED:
        return {"facecolor": "white", "edgecolor": "#9ca3af", "hatch": "///", "linewidth": 0.8}
    return {"facecolor": STATE_COLORS[state], "edgecolor": "white", "linewidth": 0.8}


def timeline(history: Mapping[int, YearFollowUp], config: Config, report_year: int) -> Figure:
    """The actions over the schéma: one row per action, each year coloured by its state.

    Years after `report_year` are « à venir » (outlined); milestones are markers at their
    date: hollow when planned, filled when done (at the date done), red when late at the
    end of `report_year`. A dashed line closes the report's year. `figure.alt_text` says
    all of it in French sentences, for screen readers and the PDF's tagged structure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from avs_eval import figures  # the reports' chart style (fonts, grid, colours)

    years = list(config.annees)
    actions = list(config.actions)
    width, label_width, pitch = 10.0, 2.6, 0.78  # inches; `pitch`: one action's row
    height = 1.75 + pitch * len(actions)
    figure = Figure(figsize=(width, height), dpi=figures.DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes(
        (label_width / width, 1.05 / height, 1 - (label_width + 0.25) / width, 1 - 1.6 / height)
    )
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    upcoming = False
    for row, action in enumerate(actions):
        upcoming |= _years_of(ax, history, action, row, report_year)
        _milestones_of(ax, history, action.numero, row, report_year, (years[0], years[-1]))
    ax.axvline(report_year + 0.5, color="#374151", linestyle="--", linewidth=1.3)
    ax.text(
        report_year + 0.5,
        -0.5,
        f"fin {report_year}",
        ha="center",
        va="bottom",
        fontsize=8,
        color="#374151",
        bbox=figures.LABEL_GROUND,
    )
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.set_ylim(len(actions) - 0.5, -0.66)  # action 1 on top, room for the line's label
    ax.set_xticks(years, [str(y) for y in years])
    ax.tick_params(axis="x", length=0, labelsize=9)
    ax.set_yticks(
        range(len(actions)),
        [figures.wrap(f"Action {a.numero} : {a.court or a.intitule}", 30) for a in actions],
    )
    ax.tick_params(axis="y", length=0, labelsize=9)
    title = f"Mise en œuvre des actions ({years[0]}-{years[-1]}) : situation à fin {report_year}"
    figure.suptitle(title, x=0.5, y=1 - 0.12 / height, va="top", fontsize=12, weight="bold")
    _legends(figure, report_year, upcoming)
    figure.alt_text = describe(history, config, report_year)
    return figure


def _years_of(
    ax, history: Mapping[int, YearFollowUp], action: Action, row: int, report_year: int
) -> bool:
    """An action's row: a cell per year of its period, coloured and named by its state.

    Years after the report's are outlined, « à venir »; returns whether there was one.
    """
    from matplotlib.patches import Rectangle

    from avs_eval import figures

    upcoming = False
    for annee in range(action.debut, action.fin + 1):
        cell = {"xy": (annee - 0.47, row - 0.36), "width": 0.94, "height": 0.72}
        if annee > report_year:
            upcoming = True
            ax.add_patch(Rectangle(**cell, facecolor="white", **_UPCOMING_EDGE))
            continue
        state = state_in(history, action.numero, annee)
        ax.add_patch(Rectangle(**cell, **_state_style(state)))
        # the state in words too: colours alone fail in grey print and for some eyes
        ax.text(
            annee,
            row - 0.19,
            STATE_LABELS[state],
            ha="center",
            va="center",
            fontsize=7.5,
            color="#374151",
            bbox=figures.LABEL_GROUND if state == NOT_FILLED else None,  # over the hatch
        )
    return upcoming


def _milestones_of(ax, history, numero: int, row: int, report_year: int, span) -> None:
    """Markers at the milestones' dates: hollow planned, filled done, red edge when late."""
    for milestone in milestones_over(history, numero, report_year):
        when = milestone.realise or milestone.prevu
        if not span[0] - 0.5 <= when.position <= span[1] + 0.5:
            continue  # beyond the schéma: said in the alt text and the tables
        ax.plot(
            when.position,
            row + 0.13,
            **_MARKER,
            marker="D" if milestone.done else "o",
            markerfacecolor=MARKER_COLOR if milestone.done else "white",
            markeredgecolor=LATE_COLOR if milestone.late(report_year) else MARKER_COLOR,
        )


def _legends(figure, report_year: int, upcoming: bool) -> None:
    """Two lines of legend under the chart: the states of a year, then the milestones."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    states = [Patch(**_state_style(s), label=STATE_LABELS[s]) for s in (*STATES, NOT_FILLED)]
    if upcoming:
        states.append(Patch(facecolor="white", **_UPCOMING_EDGE, label=UPCOMING))
    steps = [
        Line2D([], [], **_MARKER, marker="o", markerfacecolor="white",
               markeredgecolor=MARKER_COLOR, label="jalon prévu"),
        Line2D([], [], **_MARKER, marker="D", markerfacecolor=MARKER_COLOR,
               markeredgecolor=MARKER_COLOR, label="jalon réalisé (à sa date de réalisation)"),
        Line2D([], [], **_MARKER, marker="o", markerfacecolor="white",
               markeredgecolor=LATE_COLOR, label=f"jalon en retard fin {report_year}"),
    ]  # fmt: skip
    height = figure.get_figheight()
    for handles, y in ((states, 0.36), (steps, 0.1)):
        figure.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, y / height),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
            handlelength=1.6,
            columnspacing=1.4,
            borderpad=0,
        )
