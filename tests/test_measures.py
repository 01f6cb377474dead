"""Tests of jaxecon.measures: hand cases, formulas, edge cases, jit/vmap, and the real ADH shares."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxecon  # noqa: F401  (enables float64)
from jaxecon.measures import gini, hhi, max_share, rank_persistence, rca, shares


def gini_pairwise(x):
    """Definition: sum_i sum_j |s_i - s_j| / (2 n^2 mean(s)), row by row (NumPy)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    s = x / x.sum(1, keepdims=True)
    n = s.shape[1]
    d = np.abs(s[:, :, None] - s[:, None, :]).sum((1, 2))
    return d / (2 * n**2 * s.mean(1))


# ----------------------------------------------------------------------------------------- hand cases
def test_hand_cases():
    assert float(gini(jnp.array([1.0, 0, 0, 0]))) == pytest.approx(0.75, abs=1e-15)
    assert float(gini(jnp.array([1.0, 0, 0, 0]), normalize=True)) == pytest.approx(1.0, abs=1e-15)
    assert float(gini(jnp.array([3.0, 3, 3]))) == pytest.approx(0.0, abs=1e-15)
    assert float(gini(jnp.array([1.0, 2.0]))) == pytest.approx(1 / 6, abs=1e-15)  # |1/3-2/3|*2/(2*4*1/2)
    assert float(hhi(jnp.array([1.0, 1.0]))) == pytest.approx(0.5, abs=1e-15)
    assert float(hhi(jnp.array([1.0, 0, 0]))) == pytest.approx(1.0, abs=1e-15)
    assert float(max_share(jnp.array([1.0, 3.0]))) == pytest.approx(0.75, abs=1e-15)
    np.testing.assert_allclose(shares(np.array([[1.0, 3.0], [2.0, 2.0]])), [[0.25, 0.75], [0.5, 0.5]], atol=1e-15)


def test_integer_input_and_dtype():
    g = gini(np.array([[1, 0, 0, 0], [1, 1, 1, 1]]))
    assert g.dtype == jnp.float64
    np.testing.assert_allclose(g, [0.75, 0.0], atol=1e-15)


def test_rca_hand_case():
    x = np.array([[1.0, 3.0], [3.0, 1.0], [0.0, 0.0]])
    # national shares (0.5, 0.5); region shares (0.25, 0.75), (0.75, 0.25); zero region -> NaN
    np.testing.assert_allclose(rca(x), [[0.5, 1.5], [1.5, 0.5], [np.nan, np.nan]], atol=1e-15)
    y = np.array([[1.0, 0.0, 1.0], [2.0, 0.0, 6.0]])  # industry 1 absent everywhere -> NaN column
    r = np.asarray(rca(y))
    assert np.all(np.isnan(r[:, 1]))
    np.testing.assert_allclose(r[:, [0, 2]], [[0.5 / 0.3, 0.5 / 0.7], [0.25 / 0.3, 0.75 / 0.7]], rtol=1e-14)
    with pytest.raises(ValueError, match="2-D"):
        rca(np.ones(3))


# ------------------------------------------------------------------------------ formulas and invariances
def test_sorted_equals_pairwise_random():
    rng = np.random.default_rng(0)
    x = rng.lognormal(0, 2, (40, 57)) * (rng.random((40, 57)) < 0.6)
    x[0] = 0.0
    x[0, 3] = 2.0  # one industry only
    np.testing.assert_allclose(gini(x), gini_pairwise(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gini(x, normalize=True), gini_pairwise(x) * 57 / 56, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hhi(x), ((x / x.sum(1, keepdims=True)) ** 2).sum(1), rtol=1e-13)
    np.testing.assert_allclose(max_share(x), (x / x.sum(1, keepdims=True)).max(1), rtol=1e-14)
    # 1-D input = one row
    assert float(gini(x[5])) == pytest.approx(float(gini_pairwise(x[5])[0]), rel=1e-12)


def test_scale_invariance():
    rng = np.random.default_rng(1)
    x = rng.random((6, 20))
    scale = rng.uniform(0.01, 1000, (6, 1))
    for f in (gini, hhi, max_share, shares):
        np.testing.assert_allclose(f(x * scale), f(x), rtol=1e-12)
    np.testing.assert_allclose(rca(x * 37.0), rca(x), rtol=1e-12)


def test_jit_vmap_grad():
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.random((5, 3, 11)))
    for f in (gini, hhi, max_share):
        eager = np.stack([np.asarray(f(x[b])) for b in range(5)])
        np.testing.assert_allclose(jax.jit(jax.vmap(f))(x), eager, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(jax.vmap(gini))(x), gini(x.reshape(15, 11)).reshape(5, 3), rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(rca)(x)[2], rca(x[2]), rtol=1e-13)
    g = jax.grad(lambda v: gini(v).sum())(x[0])
    assert np.all(np.isfinite(g))
    # strict dtype promotion (as used in parts of the test suite) must not break the measures
    with jax.numpy_dtype_promotion("strict"):
        gini(x[0], normalize=True), rca(x[0])
        rank_persistence(x[0, 0], x[0, 1], weights=x[0, 2])


# ------------------------------------------------------------------------------------------- edge cases
def test_zero_rows_are_nan():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    for f in (gini, hhi, max_share):
        v = np.asarray(f(x))
        assert np.isnan(v[0]) and np.isfinite(v[1])
    assert np.all(np.isnan(np.asarray(shares(x))[0]))
    assert np.isnan(float(gini(np.zeros(4))))
    # also under jit (no value checks there) and without NaN gradients leaking into other rows
    assert np.isnan(np.asarray(jax.jit(gini)(x))[0])
    g = jax.grad(lambda v: jnp.nansum(hhi(v)))(jnp.asarray(x))
    assert np.all(np.isfinite(g[1]))


@pytest.mark.parametrize("f", [gini, hhi, max_share, shares, rca])
def test_bad_input_raises(f):
    x = np.array([[1.0, -0.5], [1.0, 1.0]])
    with pytest.raises(ValueError, match="x must be >= 0"):
        f(x)
    with pytest.raises(ValueError, match="x must be >= 0"):
        f(np.array([[1.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="x must be finite"):
        f(np.array([[1.0, np.inf], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="x must be"):
        f(np.ones((2, 2, 2)))


def test_gini_normalize_needs_two_industries():
    with pytest.raises(ValueError, match="at least 2"):
        gini(np.ones((3, 1)), normalize=True)
    np.testing.assert_allclose(gini(np.ones((3, 1))), 0.0)


# -------------------------------------------------------------------------------------- rank persistence
def test_rank_persistence_matches_scipy():
    rng = np.random.default_rng(3)
    m0 = rng.random(50)
    m1 = 0.7 * m0 + 0.3 * rng.random(50)
    m0[:4] = m0[0]  # ties
    r0 = (stats.rankdata(m0) - 1) / 49
    r1 = (stats.rankdata(m1) - 1) / 49
    ref = stats.linregress(r0, r1)
    out = rank_persistence(m0, m1)
    assert float(out.slope) == pytest.approx(ref.slope, rel=1e-12)
    assert float(out.intercept) == pytest.approx(ref.intercept, rel=1e-12, abs=1e-14)
    assert int(out.n) == 50
    # weighted: WLS normal equations
    w = rng.uniform(0.1, 3, 50)
    X = np.column_stack([np.ones(50), r0])
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * r1))
    outw = rank_persistence(m0, m1, weights=w)
    np.testing.assert_allclose([outw.intercept, outw.slope], beta, rtol=1e-12)
    # perfectly persistent ranks, monotone transform
    p = rank_persistence(m0, np.exp(3 * m0))
    assert float(p.slope) == pytest.approx(1.0) and float(p.intercept) == pytest.approx(0.0, abs=1e-14)


def test_rank_persistence_hand_case_jit_vmap_and_errors():
    out = rank_persistence(np.array([1.0, 2, 3, 3]), np.array([2.0, 1, 3, 4]))
    # ranks (0, 1/3, 5/6, 5/6) and (1/3, 0, 2/3, 1)
    assert float(out.slope) == pytest.approx(7 / 9) and float(out.intercept) == pytest.approx(1 / 9)
    rng = np.random.default_rng(4)
    a, b = rng.random((6, 30)), rng.random((6, 30))
    batched = jax.jit(jax.vmap(rank_persistence))(a, b)
    np.testing.assert_allclose(batched.slope[3], rank_persistence(a[3], b[3]).slope, rtol=1e-13)
    with pytest.raises(ValueError, match="m0 must be finite"):
        rank_persistence(np.array([np.nan, 1.0, 2.0]), np.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        rank_persistence(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="weights must be >= 0"):
        rank_persistence(np.arange(3.0), np.arange(3.0), weights=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        rank_persistence(np.ones((2, 2)), np.ones((2, 2)))


# ------------------------------------------------------------------------------------------- real data
def test_real_adh_gini_hhi_match_pandas(adh_path):
    import pandas as pd

    from jaxecon.data import load_adh

    adh = load_adh(adh_path)
    long = adh.industry_shares[["czone", "share_year", "sic87dd", "ind_share"]].copy()
    # pandas: per CZ-year shares, sorted rank k within the group, G = sum (2k-n-1) s_(k) / (n sum s)
    long["tot"] = long.groupby(["czone", "share_year"])["ind_share"].transform("sum")
    long["s"] = long["ind_share"] / long["tot"]  # 0/0 -> NaN for the two CZ-years without manufacturing
    long = long.sort_values(["czone", "share_year", "s"], kind="mergesort")
    long["k"] = long.groupby(["czone", "share_year"]).cumcount() + 1
    n = 397
    long["gw"] = (2 * long["k"] - n - 1) * long["s"]
    long["s2"] = long["s"] ** 2
    grp = long.groupby(["czone", "share_year"])
    ref = pd.DataFrame({"gini": grp["gw"].sum(min_count=1) / (n * grp["s"].sum(min_count=1)),
                        "hhi": grp["s2"].sum(min_count=1)})
    assert ref["gini"].isna().sum() == 2
    for year, arr in adh.share_arrays.items():
        r = ref.xs(year, level="share_year").loc[adh.czones]
        np.testing.assert_allclose(np.asarray(gini(arr)), r["gini"].to_numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.asarray(hhi(arr)), r["hhi"].to_numpy(), rtol=0, atol=1e-12)
    # and on the 1980 -> 1990 specialization ranking: strongly persistent
    g80, g90 = np.asarray(gini(adh.share_arrays[1980])), np.asarray(gini(adh.share_arrays[1990]))
    ok = np.isfinite(g80) & np.isfinite(g90)
    p = rank_persistence(g80[ok], g90[ok])
    assert 0.5 < float(p.slope) < 1.0
