"""Charts: a frame reused from an earlier chart gives the same image as a full drawing;
the theme spelled out in figures.py is seaborn's, with our settings on top."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from avs_eval import figures

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
