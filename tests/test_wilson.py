"""The Wilson interval computed with numpy equals statsmodels' to 1e-12.

`avs_eval.indicators.wilson` writes out statsmodels' formula so that computing the
indicators imports neither statsmodels nor SciPy (about a second at start-up).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from avs_eval import indicators


def test_the_quantile_is_scipys():
    assert abs(indicators.Z_95 - stats.norm.isf((1 - indicators.CONFIDENCE) / 2)) < 1e-14


def test_equal_to_statsmodels_on_every_count_up_to_300_and_large_ones():
    numerators, denominators = [], []
    for n in range(1, 301):
        numerators += range(n + 1)
        denominators += [n] * (n + 1)
    rng = np.random.default_rng(17)
    big = rng.integers(1, 500_000, 2_000)
    numerators += list(rng.integers(0, big + 1))
    denominators += list(big)
    num, den = np.array(numerators), np.array(denominators)
    low, high = indicators.wilson(num, den)
    expected_low, expected_high = proportion_confint(num, den, alpha=0.05, method="wilson")
    assert np.max(np.abs(low - np.clip(expected_low, 0, 1))) < 1e-12
    assert np.max(np.abs(high - np.clip(expected_high, 0, 1))) < 1e-12
    assert ((low >= 0) & (high <= 1) & (low <= high)).all()


def test_no_interval_without_a_denominator():
    low, high = indicators.wilson(np.array([0, 3]), np.array([0, 10]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert not np.isnan(low[1])


def test_indicators_import_neither_statsmodels_nor_scipy():
    code = (
        "import sys\n"
        "from avs_eval import indicators\n"
        "from avs_eval.loading import load\n"
        "indicators.compute(load())\n"
        "print(sorted({'statsmodels', 'scipy'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
