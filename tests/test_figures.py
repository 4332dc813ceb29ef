"""Charts: a frame reused from an earlier chart gives the same image as a full drawing;
the theme spelled out in figures.py is seaborn's, with our settings on top."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from avs_eval import figures, formatting
from avs_eval.schema import ALL_PERIMETER, METROPOLE, RHONE
from avs_eval.secrecy import SECRET_SYMBOL

PERIMETERS = ["Villeurbanne", "Métropole de Lyon", "Ensemble"]
YEARS = [2022, 2023, 2024, 2025]


def year_rows(seed: int, masked: tuple[bool, ...] = (False, False, False)) -> pd.DataFrame:
    share = np.random.default_rng(seed).uniform(0.1, 0.9, len(PERIMETERS))
    return pd.DataFrame(
        {
            "perimetre": PERIMETERS,
            "part": share,
            "ic_bas": share - 0.1,
            "ic_haut": np.minimum(share + 0.1, 1),
            "masque": list(masked),
        }
    )


def trend_rows(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {"annee": year, "perimetre": p, "part": rng.uniform(0.1, 0.9), "masque": False}
        for year in YEARS
        for p in PERIMETERS
    ]
    rows[0]["masque"] = True
    return pd.DataFrame(rows)


def comparison(seed: int, target: float | None = None, masked=(False, False, False)) -> bytes:
    figure = figures.comparison(
        year_rows(seed, masked), trend_rows(seed), f"Question {seed}", 2025, target
    )
    return figures.png(figure)


@pytest.mark.parametrize(
    ("target", "masked"), [(None, (False, False, False)), (0.6, (True, False, False))]
)
def test_reused_frame_gives_the_image_of_a_full_drawing(target, masked):
    figures._FRAMES.clear()
    comparison(1)  # draws the frame and keeps it
    reused = comparison(2, target, masked)
    figures._FRAMES.clear()
    drawn = comparison(2, target, masked)
    assert reused == drawn
    assert comparison(3) != drawn  # other data, other image: the data are drawn


def test_breakdown_frame_shared_across_territories():
    codes = ["a", "b", "c"]
    labels = {"a": "Premier", "b": "Deuxième, long", "c": "Troisième"}

    def chart(territory: str, seed: int) -> bytes:
        rng = np.random.default_rng(seed)
        perimeters = [territory, "Métropole de Lyon", "Ensemble"]
        share = rng.uniform(0.1, 0.9, 9)
        rows = pd.DataFrame(
            {
                "perimetre": np.repeat(perimeters, 3),
                "modalite": codes * 3,
                "part": share,
                "ic_bas": share - 0.05,
                "ic_haut": share + 0.05,
                "masque": [False] * 9,
            }
        )
        return figures.png(figures.breakdown(rows, "Canaux en 2025", codes, labels))

    figures._FRAMES.clear()
    chart("Lyon", 1)
    reused = chart("Villeurbanne", 2)
    figures._FRAMES.clear()
    assert chart("Villeurbanne", 2) == reused


THEMES = """
import json, sys
import matplotlib
from matplotlib.colors import to_hex

def current():
    params = {key: str(value) for key, value in matplotlib.rcParams.items()}
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    params["axes.prop_cycle"] = [to_hex(color) for color in colors]
    params.pop("image.cmap")  # seaborn's own colour map, registered when seaborn loads
    return params

from avs_eval import figures  # applies its theme on import
ours = current()
matplotlib.rc_file_defaults()
import seaborn
seaborn.set_theme(style="whitegrid", rc=figures.STYLE, color_codes=False)
json.dump({"ours": ours, "seaborn": current()}, sys.stdout)
"""


def test_the_theme_is_seaborn_whitegrid_with_our_settings():
    """figures.py spells out seaborn's theme so that kernels need not import seaborn."""
    done = subprocess.run(
        [sys.executable, "-c", THEMES], capture_output=True, text=True, check=True
    )
    themes = json.loads(done.stdout)
    differences = {
        key: (value, themes["seaborn"].get(key))
        for key, value in themes["ours"].items()
        if value != themes["seaborn"].get(key)
    }
    assert not differences


def test_a_report_imports_neither_seaborn_nor_scipy():
    """What every report kernel pays before its first chart: no SciPy (1.3 s)."""
    code = (
        "import sys, avs_eval.report; "
        "print(sorted({'seaborn', 'scipy', 'statsmodels'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_chart_is_freed_once_drawn():
    """A warm kernel draws hundreds of charts: none may outlive its report.

    The frame registry held each chart's artists under a weak key; the artists refer to
    their figure, so no chart was ever freed (40 MB more per report at 100 territories).
    """
    import gc
    import weakref

    figure = figures.comparison(year_rows(4), trend_rows(4), "Question 4", 2025, None)
    figures.png(figure)
    gone = weakref.ref(figure)
    del figure
    gc.collect()
    assert gone() is None
    assert len(figures._FRAMES) <= figures._FRAMES_KEPT


# --- issue 23: charts never contradict their own text ---------------------------------------


def shares(perimeters: list[str], part: list[float], census: bool = False) -> pd.DataFrame:
    part = np.asarray(part, dtype=float)
    return pd.DataFrame(
        {
            "perimetre": perimeters,
            "part": part,
            "ic_bas": np.nan if census else part - 0.1,
            "ic_haut": np.nan if census else np.minimum(part + 0.1, 1),
            "masque": False,
        }
    )


def texts(figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def test_bar_labels_and_axis_round_as_formatting_does():
    """5/8 reads « 63 % » in a chart as in the workbook (halves away from zero)."""
    figure = figures.comparison(
        shares(PERIMETERS, [5 / 8, 1 / 8, 0.285]), trend_rows(1), "Question", 2025
    )
    assert [formatting.percentage(v) for v in (5 / 8, 1 / 8, 0.285)] == [
        "63\u202f%",
        "13\u202f%",
        "29\u202f%",
    ]
    assert {"63\u202f%", "13\u202f%", "29\u202f%"} <= set(texts(figure))
    axis = figure.axes[0].yaxis
    assert axis.get_major_formatter()(0.25, 0) == formatting.percentage(0.25)


def test_a_census_chart_announces_no_interval_and_labels_its_bars():
    """The response rate is a census: no error bar, no « intervalle » in the subtitle,
    and every bar carries its value."""
    rows = shares(PERIMETERS, [0.93, 0.91, 0.92], census=True)
    figure = figures.comparison(rows, trend_rows(2), "Taux de réponse", 2025)
    left = figure.axes[0]
    assert left.get_title() == "En 2025"
    assert [formatting.percentage(v) for v in rows["part"]] == [t.get_text() for t in left.texts]
    assert all(len(c.get_segments()) == 0 for c in left.collections[1:])  # no error bar
    with_interval = figures.comparison(shares(PERIMETERS, [0.5] * 3), trend_rows(2), "Q", 2025)
    assert "intervalle de confiance" in with_interval.axes[0].get_title()
    rate = figures.participation(shares(["Lyon", "Villeurbanne"], [0.93, 5 / 8], census=True), "T")
    assert texts(rate) == ["93\u202f%", "63\u202f%"]


def _bar_colors(ax) -> list[str]:
    return [to_hex(c) for coll in ax.collections[::2] for c in coll.get_facecolors()[:1]]


def test_a_collectivite_and_a_type_have_one_colour_in_every_chart():
    """The Métropole was orange in territory reports and blue in the synthesis; CS and
    EVS switched colours between the charts and the maps."""
    metropole, rhone = figures.PERIMETER_COLORS[METROPOLE], figures.PERIMETER_COLORS[RHONE]
    department = figures.PERIMETER_COLORS[ALL_PERIMETER]
    assert len({figures.TERRITORY_COLOR, metropole, rhone, department}) == 4
    assert not set(figures.TYPE_COLORS.values()) & set(figures.PERIMETER_COLORS.values())
    # a territory report: the territory, its collectivité, the department
    for territory, collectivite in (("Lyon", METROPOLE), ("Ouest Rhône", RHONE)):
        names = [territory, collectivite, ALL_PERIMETER]
        figure = figures.comparison(shares(names, [0.5, 0.6, 0.7]), trend_rows(3), "Q", 2025)
        bars = figure.axes[0].collections[0]
        expected = [figures.TERRITORY_COLOR, figures.PERIMETER_COLORS[collectivite], department]
        assert [to_hex(c) for c in bars.get_facecolors()] == expected
    # the synthesis: the collectivités and the department, in whatever order
    years = pd.DataFrame(
        [
            {
                "annee": y,
                "perimetre": p,
                "part": 0.5,
                "ic_bas": 0.4,
                "ic_haut": 0.6,
                "masque": False,
            }
            for p in (ALL_PERIMETER, RHONE, METROPOLE)
            for y in YEARS
        ]
    )
    for figure in (
        figures.trends(years, "Évolution"),
        figures.trajectory(years, "Trajectoire", {}),
    ):
        lines = {to_hex(line.get_color()) for line in figure.axes[0].lines}
        assert lines >= {metropole, rhone, department}
        assert figures.TERRITORY_COLOR not in lines
    codes = ["a", "b"]
    rows = pd.concat(
        [shares([p, p], [0.4, 0.6]).assign(modalite=codes) for p in (METROPOLE, RHONE)]
    )
    chart = figures.breakdown(rows, "Canaux", codes, {"a": "A", "b": "B"})
    assert _bar_colors(chart.axes[0]) == [metropole, rhone]
    by_type = pd.concat(
        [
            shares(["x", "y"], [0.4, 0.6]).assign(type=t, indicateur=["x", "y"])
            for t in ("CS", "EVS")
        ]
    )
    chart = figures.by_type(by_type, "Types", ["x", "y"], {"x": "X", "y": "Y"})
    assert _bar_colors(chart.axes[0]) == [figures.TYPE_COLORS["CS"], figures.TYPE_COLORS["EVS"]]


def test_heatmap_is_darker_for_better_whatever_the_sens():
    """« Difficultés de gouvernance » (`sens: baisse`): a low share is the dark one."""
    matrix = pd.DataFrame({"Contrat": [0.9, 0.1], "Difficultés": [0.9, 0.1]}, index=["A", "B"])
    masked = matrix.map(lambda _: False)
    figure = figures.heatmap(matrix, masked, "Indicateurs", lower_is_better=["Difficultés"])
    mesh = figure.axes[0].collections[0]
    shades = np.asarray(mesh.get_array()).reshape(2, 2)
    assert shades[0, 0] > shades[1, 0]  # Contrat: 90 % darker than 10 %
    assert shades[0, 1] < shades[1, 1]  # Difficultés: 10 % darker than 90 %
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert "moins = mieux" in labels[1] and "moins = mieux" not in labels[0]
    assert "inversée" in figure.axes[1].get_ylabel()  # the colour bar says how to read it
    assert {"90\u202f%", "10\u202f%"} <= set(texts(figure))


def test_trends_draw_their_targets_and_name_only_what_is_drawn():
    rows = pd.DataFrame(
        [
            {"annee": y, "perimetre": p, "part": 0.5, "ic_bas": 0.4, "ic_haut": 0.6, "masque": m}
            for p, m in ((METROPOLE, False), (RHONE, False), (ALL_PERIMETER, True))
            for y in YEARS
        ]
    )
    figure = figures.trends(rows, "Évolution", targets={y: 0.7 for y in YEARS})
    legend = [t.get_text() for t in figure.texts]
    assert legend == [METROPOLE, RHONE, "cible"]  # the masked series draws nothing
    (target,) = [line for line in figure.axes[0].lines if line.get_linestyle() == "--"]
    assert set(target.get_ydata()) == {0.7}
    plain = figures.trends(rows, "Évolution", targets={y: None for y in YEARS})
    assert "cible" not in [t.get_text() for t in plain.texts]
    assert SECRET_SYMBOL not in texts(plain)
