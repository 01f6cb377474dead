"""The specialization trade-off on CZs (jaxecon.models.specialization.trade_off; issue 19 items 4-5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import jax
import jax.numpy as jnp

import jaxecon  # noqa: F401
from jaxecon.measures import gini
from jaxecon.models.specialization import Grid, allocation_at, simulate, solve_equilibrium
from jaxecon.models.specialization import primitives as pr
from jaxecon.models.specialization import trade_off as to

VALUES = {"theta": 0.01, "beta": 0.95, "dmu": -0.5}
GRID = Grid(n_b=8, n_k=9, b_min=-0.3)
SMALL = dict(n_z=2)  # 4 TFP states per trend level


@pytest.fixture(scope="module")
def trend_solution():
    e = to.trend_economy(VALUES, 0.004, n_trend=2, trend_range=(0.0, 0.35), **SMALL)
    sol = solve_equilibrium(e.params, GRID)
    assert bool(sol.converged), sol.summary()
    return e, sol


def _czs(n=12, seed=0):
    rng = np.random.default_rng(seed)
    k1 = rng.uniform(0.05, 0.9, n)
    return jnp.asarray(np.stack([k1, 1 - k1], 1)), jnp.asarray(rng.uniform(-0.1, 0.2, n))


def test_with_drift_equals_the_rebuilt_chain():
    e = to.trend_economy(VALUES, 0.004, n_trend=2, trend_range=(0.0, 0.35), **SMALL)
    e0 = to.trend_economy(VALUES, 0.0, n_trend=2, trend_range=(0.0, 0.35), **SMALL)
    np.testing.assert_allclose(np.asarray(to.with_drift(e0, 0.004).params.P), np.asarray(e.params.P), atol=1e-15)
    # d P / d g exists (the lottery weight is linear in g)
    dP = jax.jacfwd(lambda g: to.with_drift(e0, g).params.P)(0.004)
    assert float(jnp.abs(dP).max()) > 0


def test_a_trend_that_leaves_its_grid_is_a_named_error():
    with pytest.raises(ValueError, match="off its grid"):
        to.trend_economy(VALUES, 0.02)  # 70 × 0.02 = 1.4 > 0.7, the top of DEFAULT_TREND_RANGE
    with pytest.raises(ValueError, match="needs a trend state"):
        to.with_drift(to.trend_economy(VALUES, 0.0, n_trend=1, **SMALL), 0.01)


def test_allocation_on_trend_is_the_node_allocation_at_nodes_and_keeps_the_budget(trend_solution):
    e, sol = trend_solution
    k, b = _czs()
    n = b.shape[0]
    s_rest = jnp.full((n,), 1)
    for j in range(2):
        a = to.allocation_on_trend(sol, e.levels, e.n_rest, b, k, s_rest, e.levels[j])
        ref = allocation_at(sol, b, k, j * e.n_rest + s_rest)
        for key in ("c", "b_next", "k_next", "q", "output"):
            np.testing.assert_allclose(np.asarray(a[key]), np.asarray(ref[key]), rtol=1e-12, atol=1e-14)
    # between nodes: the saving net of output b'/R − Y is the linear mix of the nodes' and the budget
    # holds at the exact trend level
    ell = 0.1
    a = to.allocation_on_trend(sol, e.levels, e.n_rest, b, k, s_rest, ell)
    lo = allocation_at(sol, b, k, s_rest)
    hi = allocation_at(sol, b, k, e.n_rest + s_rest)
    w = ell / 0.35
    p = sol.params
    z = p.z[s_rest].at[:, 0].multiply(np.exp(ell))
    Y = pr.output(p, z, k)
    np.testing.assert_allclose(np.asarray(Y), np.asarray(a["output"]), rtol=1e-13)
    saving = lambda x, s_: np.asarray(x["b_next"] / p.R[s_] - x["output"])  # noqa: E731
    mixed = (1 - w) * saving(lo, s_rest) + w * saving(hi, e.n_rest + s_rest)
    np.testing.assert_allclose(np.asarray(a["b_next"] / p.R[s_rest] - Y), mixed, rtol=1e-12, atol=1e-14)
    lhs = a["c"] + a["b_next"] / p.R[s_rest]
    rhs = Y - jnp.sum(pr.adj_cost(p, k, a["k_next"]), axis=-1) + b
    np.testing.assert_allclose(np.asarray(lhs), np.asarray(rhs), rtol=1e-13)


def test_without_a_trend_the_paths_are_those_of_simulate():
    e = to.trend_economy(VALUES, 0.0, n_trend=1, **SMALL)
    sol = solve_equilibrium(e.params, GRID)
    k, b = _czs()
    path = to.national_shock_paths(e, jax.random.key(3), 15, 1)[0]
    pth = to.simulate_on_trend(sol, e.levels, e.n_rest, b, k, path, 0.0)
    ref = simulate(sol, b, k, s_paths=jnp.broadcast_to(path, (b.shape[0], path.shape[0])))
    np.testing.assert_allclose(np.asarray(pth.output), np.asarray(ref.output), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(pth.k1), np.asarray(ref.k[..., 0]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(pth.gini), np.asarray(ref.gini), rtol=1e-12, atol=1e-15)


def test_slopes_are_ordinary_least_squares(trend_solution):
    e, sol = trend_solution
    k, b = _czs(30, seed=1)
    share = jnp.asarray(np.linspace(0.05, 0.6, 30))
    wts = jnp.asarray((np.arange(30) % 7 != 0).astype(float))  # every 7th CZ flagged out
    paths = to.national_shock_paths(e, jax.random.key(0), 20, 2)
    r = to.trade_off_slopes(sol, e.levels, e.n_rest, 0.004, b, k, share, paths, wts, horizons=(20, 5))
    keep = np.asarray(wts) > 0
    g0 = np.asarray(gini(k))
    for p in range(2):
        for h in range(2):
            y = np.asarray(r.growth)[p, h]
            np.testing.assert_allclose(float(r.slope_gini[p, h]), np.polyfit(g0[keep], y[keep], 1)[0], rtol=1e-9)
            np.testing.assert_allclose(float(r.slope_machinery[p, h]),
                                       np.polyfit(np.asarray(share)[keep], y[keep], 1)[0], rtol=1e-9)
    pth = to.simulate_on_trend(sol, e.levels, e.n_rest, b, k, paths[0], 0.004)
    np.testing.assert_allclose(np.asarray(r.growth)[0, 1], np.log(pth.output[:, 5] / pth.output[:, 0]) / 5, rtol=1e-12)


def test_without_frictions_every_cz_jumps_to_the_same_allocation():
    """g = 0, θ = ∞ and φ = 0: no adjustment cost and no collateral constraint, so next period's
    portfolio does not depend on the current one; CZs differ after the first period only through
    their bonds (a small wealth effect on the portfolio), and their growth after period 1 does not
    depend on initial specialization."""
    e = to.trend_economy({**VALUES, "theta": np.inf}, 0.0, n_trend=1, phi=0.0, **SMALL)
    grid = Grid(n_b=8, n_k=9, b_min=-0.3, debt_limit=True)
    sol = solve_equilibrium(e.params, grid)
    assert bool(sol.converged), sol.summary()
    k, _ = _czs(40, seed=2)
    b = jnp.full((40,), 0.05)
    path = to.national_shock_paths(e, jax.random.key(1), 30, 1)[0]
    pth = to.simulate_on_trend(sol, e.levels, e.n_rest, b, k, path, 0.0)
    k1 = np.asarray(pth.k1)
    assert k1[:, 0].std() > 0.2
    assert k1[:, 1].std() < 1e-3 * k1[:, 0].std()
    later = (np.log(np.asarray(pth.output)[:, -1]) - np.log(np.asarray(pth.output)[:, 1])) / 29
    assert abs(np.polyfit(np.asarray(gini(k)), later, 1)[0]) < 1e-5


def test_data_side_needs_the_income_columns():
    class Fake:
        workfile = pd.DataFrame({"czone": [1], "year": [1990]})
        share_arrays = {1990: np.ones((1, 1))}

    with pytest.raises(ValueError, match="household income"):
        to.adh_trade_off(Fake())


def test_data_slope_on_the_adh_files(adh_path):
    """Against an independent computation from the raw CSV files."""
    from jaxecon.data import load_adh

    d = to.adh_trade_off(load_adh(adh_path))
    wf = pd.read_csv(adh_path / "workfile_china.csv.gz")
    a = wf[wf.year == 1990].set_index("czone")["l_avg_hhincsum_pc_pw"]
    w00 = wf[wf.year == 2000].set_index("czone")
    inc07 = w00["l_avg_hhincsum_pc_pw"] + 0.7 * w00["d_avg_hhincsum_pc_pw"]
    growth = np.log(inc07 / a) / 17
    sh = pd.read_csv(adh_path / "cz_industry_shares.csv.gz")
    ind = pd.read_csv(adh_path / "industries.csv")
    sh = sh[sh.year == 2000].merge(ind[["sic87dd", "sic2"]], on="sic87dd")  # rows labelled 2000 = 1990 shares
    mach = sh[sh.sic2 == 35].groupby("czone")["ind_share"].sum()
    tot = sh.groupby("czone")["ind_share"].sum()
    s = (mach.reindex(tot.index).fillna(0) / tot)
    g2 = (2 * s - 1).abs() / 2
    df = pd.DataFrame({"g": g2, "y": growth}).dropna()
    assert d.n == len(df)
    np.testing.assert_allclose(d.slope_gini, np.polyfit(df.g, df.y, 1)[0], rtol=1e-8)
    assert d.slope_gini < 0  # the data's trade-off sign over 1990-2007


def test_growth_per_economy_with_one_shared_economy_is_the_common_growth(trend_solution):
    e, sol = trend_solution
    k, b = _czs(6, seed=4)
    paths = to.national_shock_paths(e, jax.random.key(2), 12, 2)
    batch = jax.tree.map(lambda a: jnp.broadcast_to(a, (6,) + jnp.shape(a)), sol)
    gr = to.growth_per_economy(batch, e.levels, e.n_rest, 0.004, b, k, paths, horizons=(12, 4))
    r = to.trade_off_slopes(sol, e.levels, e.n_rest, 0.004, b, k, jnp.ones(6), paths, horizons=(12, 4))
    np.testing.assert_allclose(np.asarray(gr), np.asarray(r.growth), rtol=1e-12)
