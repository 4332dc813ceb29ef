"""Charts: a frame reused from an earlier chart gives the same image as a full drawing."""

from __future__ import annotations

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
