"""LOWESS against statsmodels (it=0, same span) and its bootstrap."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.econometrics import lowess, lowess_bootstrap

sm_lowess = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess").lowess


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(7)
    x = rng.normal(size=250)
    y = np.tanh(2 * x) + 0.3 * rng.normal(size=250)
    return x, y


@pytest.mark.parametrize("frac", [0.1, 0.3, 2.0 / 3.0])
def test_matches_statsmodels(xy, frac):
    x, y = xy
    ref = sm_lowess(y, x, frac=frac, it=0, delta=0.0, return_sorted=False)
    np.testing.assert_allclose(np.asarray(lowess(x, y, frac=frac)), ref, atol=1e-10)
    grid = np.linspace(-2, 2, 21)
    ref = sm_lowess(y, x, frac=frac, it=0, delta=0.0, xvals=grid)
    np.testing.assert_allclose(np.asarray(lowess(x, y, frac=frac, xeval=grid)), ref, atol=1e-10)


def test_linear_data_reproduced_exactly():
    x = np.linspace(0, 1, 50)
    np.testing.assert_allclose(np.asarray(lowess(x, 2 - 3 * x, frac=0.2)), 2 - 3 * x, atol=1e-12)


def test_frequency_weights_equal_duplicated_rows_and_bands(xy):
    """Bootstrap counts as weights = statsmodels on the physically resampled data."""
    x, y = xy
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x), len(x))
    counts = np.bincount(idx, minlength=len(x)).astype(float)
    grid = np.linspace(-1.5, 1.5, 13)
    ref = sm_lowess(y[idx], x[idx], frac=0.3, it=0, delta=0.0, xvals=grid)
    np.testing.assert_allclose(np.asarray(lowess(x, y, frac=0.3, xeval=grid, weights=counts)), ref, atol=1e-10)

    bands = lowess_bootstrap(jax.random.PRNGKey(1), x, y, frac=0.3, xeval=grid, n_boot=60, chunk=30)
    assert bands.draws.shape == (60, 13)
    assert np.all(np.asarray(bands.lower) <= np.asarray(bands.fit) + 1e-12)
    assert np.all(np.asarray(bands.upper) >= np.asarray(bands.fit) - 1e-12)
    np.testing.assert_allclose(np.asarray(bands.fit), sm_lowess(y, x, frac=0.3, it=0, delta=0.0, xvals=grid), atol=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match="frac"):
        lowess([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], frac=1.5)
    with pytest.raises(ValueError, match="same length"):
        lowess([0.0, 1.0], [0.0])
