"""Issue 19 items 1-3: trend state of the two-industry preset, initial allocations per CZ inverted
from machinery income shares, and the gradient calibration of (θ or β, μ_1 − μ_2)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid, two_industry_params
from jaxecon.models.specialization.initial import (cz_machinery_shares, income_share, initial_allocation)
from jaxecon.models.specialization.params import trend_levels


# ------------------------------------------------------------------------------------------------
# item 1: trend state
# ------------------------------------------------------------------------------------------------
def test_no_trend_is_todays_economy_exactly():
    a, b = two_industry_params(), two_industry_params(g=0.0, n_trend=1)
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    assert all(x.shape == y.shape and np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb))


def test_trend_chain_kronecker_and_drift():
    base = two_industry_params()
    g, M = 0.01, 8
    p = two_industry_params(g=g, n_trend=M)
    n = base.n_states
    assert p.z.shape == (M * n, 2) and p.P.shape == (M * n, M * n)
    levels = trend_levels(g, M)
    np.testing.assert_allclose(levels, np.linspace(0.0, 0.7, M))
    j = np.repeat(np.arange(M), n)
    s = np.tile(np.arange(n), M)
    # z̄_1 = exp(u_1 + ℓ_j), z̄_2 and R unchanged (trend state slowest)
    np.testing.assert_allclose(np.asarray(p.z[:, 0]), np.asarray(base.z[s, 0]) * np.exp(levels[j]), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(p.z[:, 1]), np.asarray(base.z[s, 1]), rtol=0)
    np.testing.assert_allclose(np.asarray(p.R), np.asarray(base.R[s]), rtol=0)
    P = np.asarray(p.P)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    # expected next trend level = level + g inside the grid (lottery), last level absorbing
    ell = levels[j]
    e_next = P @ ell
    inner = j < M - 1
    np.testing.assert_allclose(e_next[inner], ell[inner] + g, atol=1e-12)
    np.testing.assert_allclose(e_next[~inner], levels[-1], atol=1e-12)
    # the TFP block of the chain is unchanged: marginalizing over next trend levels gives the base P
    blk = P.reshape(M * n, M, n).sum(1)
    np.testing.assert_allclose(blk, np.asarray(base.P)[s], atol=1e-13)


def test_trend_common_range_stacks_g_zero():
    shapes = {two_industry_params(g=g, n_trend=5, trend_range=(-0.7, 0.7)).P.shape for g in (-0.01, 0.0, 0.01)}
    assert shapes == {(125, 125)}
    p0 = two_industry_params(g=0.0, n_trend=5, trend_range=(-0.7, 0.7))
    P = np.asarray(p0.P).reshape(5, 25, 5, 25)
    # g = 0: the trend never moves
    np.testing.assert_allclose(P.sum(3)[np.arange(5), :, np.arange(5)], 1.0, atol=1e-12)


@pytest.mark.parametrize("kw,match", [
    (dict(g=0.01, n_trend=1), "n_trend >= 2"),
    (dict(g=0.0, n_trend=4), "trend_range"),
    (dict(g=float("nan"), n_trend=4), "finite"),
    (dict(g=0.01, n_trend=0), "n_trend"),
    (dict(g=0.02, n_trend=5, trend_range=(0.0, 0.7)), "off its grid"),
    (dict(g=0.01, n_trend=4, trend_range=(-0.5, 0.7)), "no node at 0"),
    (dict(g=0.01, n_trend=4, trend_range=(0.7, 0.0)), "lo < hi"),
])
def test_trend_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        two_industry_params(**kw)


# ------------------------------------------------------------------------------------------------
# item 2: initial allocation per CZ
# ------------------------------------------------------------------------------------------------
def test_inversion_round_trip_exact():
    p = two_industry_params(mu=(-1.0, 0.0))
    grid = Grid(n_b=4, n_k=6, k_min=0.002, k_max=0.99)
    k_true = np.array([0.002, 0.01, 0.05, 0.2, 0.5, 0.9, 0.99])
    s = np.asarray(income_share(p, jnp.asarray(k_true), p.z[12]))
    a = initial_allocation(s, p, grid, state=12)
    assert bool(np.all(a.fits)) and bool(np.all(a.converged))
    np.testing.assert_allclose(np.asarray(a.model_share), s, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.asarray(a.k[:, 0]), k_true, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(a.k.sum(1)), 1.0, rtol=0, atol=1e-15)
    # the independent check: y_1/(y_1 + y_2) by hand at the returned k
    z, al = np.asarray(p.z[12]), 0.3 + np.asarray(p.xi)
    k = np.asarray(a.k)
    y = z * k ** al
    np.testing.assert_allclose(y[:, 0] / y.sum(1), s, atol=1e-14)


def test_impossible_shares_flagged_or_named():
    p = two_industry_params()
    grid = Grid(n_b=4, n_k=6)  # share grid [0.02, 0.98]: income shares [0.158, 0.844] at the median state
    s = np.array([0.3, 0.01, 0.99, np.nan, 0.5])
    with pytest.raises(ValueError, match=r"3 of 5 machinery shares have no capital share k on the share grid.*czone 11"):
        initial_allocation(s, p, grid, czone=np.arange(10, 15))
    a = initial_allocation(s, p, grid, outside="flag")
    np.testing.assert_array_equal(np.asarray(a.status), [0, 1, 2, 3, 0])
    assert np.all(np.isfinite(np.asarray(a.k)))
    np.testing.assert_allclose(np.asarray(a.k[1:3, 0]), [0.02, 0.98])
    np.testing.assert_allclose(np.asarray(a.model_share)[[0, 4]], [0.3, 0.5], atol=1e-14)
    with pytest.raises(ValueError, match="two-industry"):
        from jaxecon.models.specialization import three_industry_params
        initial_allocation([0.3], three_industry_params(), Grid(n_b=4, n_k=4))
    with pytest.raises(ValueError, match="outside"):
        initial_allocation([0.3], p, grid, outside="clip")


def test_cz_machinery_shares_synthetic_and_real():
    syn = cz_machinery_shares(source="synthetic")
    assert syn.source == "synthetic" and syn.share.shape == (722,)
    ok = np.isfinite(syn.share)
    assert np.all((syn.share[ok] >= 0) & (syn.share[ok] <= 1))
    assert 0.0 < syn.weighted_mean() < 0.5
    try:
        real = cz_machinery_shares(source="adh")
    except FileNotFoundError as err:
        pytest.skip(f"ADH files absent ({err})")
    assert real.year == 1980 and real.source == "ADH" and real.share.shape == (722,)
    # independent recomputation from the long frame: rows labelled 1990 hold the 1980 shares
    from jaxecon.data import load_adh
    adh = load_adh()
    df = adh.industry_shares.merge(adh.industries[["sic87dd", "sic2"]], on="sic87dd")
    df = df[df["year"] == 1990]
    tot = df.groupby("czone")["ind_share"].sum()
    mach = df[df["sic2"] == 35].groupby("czone")["ind_share"].sum().reindex(tot.index, fill_value=0.0)
    expect = (mach / tot.where(tot > 0)).reindex(real.czone).to_numpy()
    np.testing.assert_allclose(real.share, expect, rtol=1e-12, equal_nan=True)
    assert np.isnan(real.share).sum() == 2 and np.all(real.weight[np.isnan(real.share)] == 0)
