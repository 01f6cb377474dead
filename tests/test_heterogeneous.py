"""Heterogeneous CZs (issue 19 item 8): rest-of-manufacturing HHI, per-CZ composite volatility, the
stacked economies and their batched solve."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid, solve_equilibrium, two_industry_params
from jaxecon.models.specialization.calibration import with_values
from jaxecon.models.specialization.heterogeneous import (composite_sigma, heterogeneous_params,
                                                         rest_of_manufacturing_hhi, solve_heterogeneous)

VALUES = {"theta": 0.0306, "dmu": -1.1646, "beta": 0.95}  # the calibrated economy's values (rounded)
SMALL = dict(n_z=3)  # 9 exogenous states: fast solves


@pytest.fixture(scope="module")
def adh(adh_path):
    from jaxecon.data import load_adh

    return load_adh(adh_path)


# ------------------------------------------------------------------------------------------------
# the HHI
# ------------------------------------------------------------------------------------------------
def _pandas_hhi(adh, czones, by):
    """Independent HHI from the long frame: rows labelled 1990 hold the 1980 shares."""
    df = adh.industry_shares.merge(adh.industries[["sic87dd", "sic2"]], on="sic87dd")
    df = df[(df["year"] == 1990) & (df["sic2"] != 35) & df["czone"].isin(czones)]
    g = df.groupby(["czone", by])["ind_share"].sum().reset_index()
    g["w"] = g["ind_share"] / g.groupby("czone")["ind_share"].transform("sum")
    return (g["w"] ** 2).groupby(g["czone"]).sum().reindex(czones).to_numpy()


@pytest.mark.parametrize("level, by", [("sic2", "sic2"), ("sic87dd", "sic87dd")])
def test_hhi_equals_an_independent_pandas_computation(adh, level, by):
    h = rest_of_manufacturing_hhi(adh, source="adh", level=level, report=None)
    assert h.year == 1980 and h.source == "ADH" and h.hhi.shape == (722,)
    rng = np.random.default_rng(3)
    rows = rng.choice(np.nonzero(h.ok)[0], size=8, replace=False)
    np.testing.assert_allclose(h.hhi[rows], _pandas_hhi(adh, h.czone[rows], by), rtol=1e-12)
    # HHI bounds: 1/K <= HHI <= 1 with K industries present
    ok = h.ok
    assert np.all(h.hhi[ok] <= 1 + 1e-12) and np.all(h.hhi[ok] >= 1.0 / h.n_industries[ok] - 1e-12)


def test_czs_without_rest_of_manufacturing_are_flagged_never_used(adh):
    lines = []
    h = rest_of_manufacturing_hhi(adh, source="adh", report=lines.append)
    # the two CZ-years without any manufacturing in 1980
    assert int(np.sum(h.status == 1)) == 2 and np.all(np.isnan(h.hhi[h.status == 1]))
    assert np.all(h.weight[h.status == 1] == 0) and lines and "no rest-of-manufacturing" in lines[0]
    # a CZ with machinery but nothing else: also no composite
    sh = np.array(adh.share_arrays[1980], float)
    mach = np.asarray(adh.industries["sic2"]) == 35
    j = int(np.nonzero(h.ok)[0][0])
    sh[j, ~mach] = 0.0
    sh[j, mach] = 0.01
    fake = dataclasses.replace(adh, share_arrays={**adh.share_arrays, 1980: sh})
    h2 = rest_of_manufacturing_hhi(fake, report=None)
    assert h2.status[j] == 1 and np.isnan(h2.hhi[j]) and int(np.sum(h2.status == 1)) == 3
    # sigma() uses the ok CZs only; passing the NaN on raises a named error
    assert h2.sigma().shape == (719,) and np.all(np.isfinite(h2.sigma()))
    with pytest.raises(ValueError, match="missing or outside"):
        composite_sigma(h2.hhi)
    with pytest.raises(ValueError, match="finite and > 0"):
        heterogeneous_params(with_values(two_industry_params(), VALUES), np.sqrt(h2.hhi) * 0.013)


def test_hhi_on_the_synthetic_czs():
    h = rest_of_manufacturing_hhi(source="synthetic", report=None)
    assert h.source == "synthetic" and h.hhi.shape == (722,) and h.level == "sic2"
    emp = h.weight[h.ok]
    assert np.all(emp > 0) and np.all((h.hhi[h.ok] > 0) & (h.hhi[h.ok] <= 1))


def test_composite_sigma_is_sigma_sqrt_hhi_and_checks_its_inputs():
    np.testing.assert_allclose(composite_sigma([1.0, 0.25, 0.04], 0.02), [0.02, 0.01, 0.004], rtol=1e-15)
    for bad in (0.0, -0.01, np.nan):
        with pytest.raises(ValueError, match="sigma_base"):
            composite_sigma([0.5], bad)
    with pytest.raises(ValueError, match="outside"):
        composite_sigma([1.5])
    with pytest.raises(ValueError, match="source"):
        rest_of_manufacturing_hhi(source="census")
    with pytest.raises(ValueError, match="level"):
        rest_of_manufacturing_hhi(source="synthetic", level="sic3")


# ------------------------------------------------------------------------------------------------
# the stacked economies
# ------------------------------------------------------------------------------------------------
def test_hhi_one_gives_exactly_the_base_params():
    base = with_values(two_industry_params(), VALUES)
    sig = composite_sigma([1.0], 0.013)  # σ_c = base σ_2
    p = heterogeneous_params(base, sig)
    one = jax.tree.map(lambda x: x[0], p)
    for name in ("z", "R", "P", "gamma", "alpha", "beta", "theta", "xi", "phi", "delta"):
        assert np.array_equal(np.asarray(getattr(one, name)), np.asarray(getattr(base, name))), name


def test_rebuilt_chain_scales_log_z2_and_keeps_the_rest():
    """Tauchen: the nodes of log z̄_2 scale with σ (μ_2 = 0), the transition matrix does not depend on it."""
    base = with_values(two_industry_params(), VALUES)
    sig = np.array([0.004, 0.013, 0.009, 0.004])
    p = heterogeneous_params(base, sig)
    assert p.z.shape == (4, 25, 2) and p.P.shape == (4, 25, 25) and p.theta.shape == (4,)
    for c, s in enumerate(sig):
        np.testing.assert_allclose(np.log(p.z[c, :, 1]), (s / 0.013) * np.log(base.z[:, 1]), rtol=1e-12, atol=1e-15)
        assert np.array_equal(p.z[c, :, 0], base.z[:, 0])
        np.testing.assert_allclose(p.P[c], base.P, atol=1e-13)
    # so the chain's stationary s.d. of log z̄_2 moves in proportion to σ_c
    sd = lambda c: np.sqrt(np.sum(np.asarray(jaxecon.numerics.stationary_distribution(p.P[c]))  # noqa: E731
                                  * np.log(p.z[c, :, 1]) ** 2))
    np.testing.assert_allclose(sd(0) / sd(1), 0.004 / 0.013, rtol=1e-10)


def test_trend_arguments_pass_through():
    tr = dict(g=0.01, n_trend=4, trend_range=(-0.35, 0.7))
    expect = with_values(two_industry_params(**tr), VALUES)
    # a stationary base with the trend requested here: the trend is built in, z̄_1 keeps base's factor
    got = heterogeneous_params(with_values(two_industry_params(), VALUES), [0.013, 0.006], **tr)
    assert got.z.shape == (2, 100, 2)
    np.testing.assert_allclose(got.z[0], expect.z, rtol=1e-13)
    np.testing.assert_allclose(got.P[0], expect.P, atol=1e-14)
    # a base that has the trend already: exactly itself at σ_c = σ_2
    same = heterogeneous_params(expect, [0.013], **tr)
    assert np.array_equal(same.z[0], expect.z) and np.array_equal(same.P[0], expect.P)
    np.testing.assert_allclose(got.z[1, :, 1], two_industry_params(sigma=(0.027, 0.006), **tr).z[:, 1], rtol=1e-14)


def test_heterogeneous_params_named_errors():
    base = with_values(two_industry_params(), VALUES)
    for bad in ([0.01, 0.0], [-0.01], [np.nan]):
        with pytest.raises(ValueError, match="finite and > 0"):
            heterogeneous_params(base, bad)
    for shape_bad in (np.full((2, 2), 0.01), [], 0.01):
        with pytest.raises(ValueError, match="1-D"):
            heterogeneous_params(base, shape_bad)
    with pytest.raises(ValueError, match="unbatched"):
        heterogeneous_params(heterogeneous_params(base, [0.01]), [0.01])
    with pytest.raises(ValueError, match="chain keywords"):  # base built with 3 nodes, defaults say 5
        heterogeneous_params(with_values(two_industry_params(n_z=3), VALUES), [0.01])
    with pytest.raises(ValueError, match="not the one"):  # same shape, another rho
        heterogeneous_params(base, [0.01], rho=(0.85, 0.7))
    with pytest.raises(ValueError, match="unknown chain keyword"):
        heterogeneous_params(base, [0.01], theta=0.01)


# ------------------------------------------------------------------------------------------------
# the batched solve
# ------------------------------------------------------------------------------------------------
GRID = Grid(n_b=8, n_k=5, b_min=-0.3)


@pytest.fixture(scope="module")
def batch():
    base = with_values(two_industry_params(**SMALL), VALUES)
    return heterogeneous_params(base, [0.004, 0.013, 0.008], **SMALL)


@pytest.mark.slow  # two compiles (the sharded program and the single solve): 80 s at load 9 on 2 cores, ~35 s of CPU
def test_batched_solve_equals_single_solves(batch):
    lines = []
    sol = solve_heterogeneous(batch, GRID, report=lines.append)
    assert sol.c.shape[0] == 3 and sol.converged.shape == (3,)
    assert lines and f"{int(np.sum(sol.converged))} of 3 economies converged" in lines[0]
    for c in range(3):
        one = solve_equilibrium(jax.tree.map(lambda x: x[c], batch), GRID)
        assert bool(one.converged) == bool(sol.converged[c]) and int(one.iterations) == int(sol.iterations[c])
        for f in ("c", "q", "b_next", "k_next", "eta"):
            np.testing.assert_allclose(getattr(sol, f)[c], getattr(one, f), rtol=1e-8, atol=1e-10, err_msg=f)
    # the economies do differ (a test that would pass with one economy copied would be empty)
    assert float(np.max(np.abs(sol.q[0] - sol.q[1]))) > 1e-6


def test_solve_heterogeneous_named_errors(batch):
    one = jax.tree.map(lambda x: x[0], batch)
    with pytest.raises(ValueError, match="batched Params"):
        solve_heterogeneous(one, GRID)
    with pytest.raises(ValueError, match="chunk"):
        solve_heterogeneous(batch, GRID, chunk=0)
    with pytest.raises(ValueError, match="mode"):
        solve_heterogeneous(batch, GRID, mode="pmap")
    with pytest.raises(ValueError, match="init"):
        solve_heterogeneous(batch, GRID, init=None)
    with pytest.raises(ValueError, match="Grid"):
        solve_heterogeneous(batch, (8, 5))


@pytest.mark.slow
def test_vmap_and_chunked_solves_equal_the_sharded_one(batch):
    ref = solve_heterogeneous(batch, GRID, report=None)
    for kw in (dict(mode="vmap"), dict(chunk=2)):
        sol = solve_heterogeneous(batch, GRID, report=None, **kw)
        np.testing.assert_array_equal(np.asarray(sol.converged), np.asarray(ref.converged))
        for f in ("c", "q", "b_next"):
            np.testing.assert_allclose(getattr(sol, f), getattr(ref, f), rtol=1e-8, atol=1e-10, err_msg=f"{kw} {f}")
