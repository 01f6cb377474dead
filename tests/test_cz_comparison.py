"""Per-CZ planner comparison (issue 19 item 7; paper 002 Figures 11 and 13).

Independent checks: θ = ∞ and ξ = 0 (no externality: the planner is the DE, so every CZ's
difference and Λ vanish to solver tolerance); Λ interpolated at grid nodes is the table entry and an
affine table is reproduced exactly between nodes; the batch equals one CZ at a time and the
consistent allocation of allocation_at; the summaries equal pandas groupbys computed here.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid, allocation_at, solve_equilibrium, two_industry_params
from jaxecon.models.specialization.cz_comparison import (TERTILE_LABELS, CZPlannerComparison, by_group_summary,
                                                         cz_planner_comparison, cz_planner_table, interpolate_gain,
                                                         plot_cz_comparison, tertile_summary)
from jaxecon.models.specialization.planner import solve_planner
from jaxecon.models.specialization.welfare import welfare_gain

INF = float("inf")
G = Grid(n_b=8, n_k=9, b_min=-0.35, b_max=0.8, debt_limit=True)


P_NOEXT = two_industry_params(n_z=2, theta=INF, xi=0.0)  # θ = ∞ (ad hoc debt limit), ξ = 0


@pytest.fixture(scope="module")
def pair():
    """The no-externality DE and a second economy on the same grid (other adjustment costs), standing
    in for a planner that differs from the DE, with a non-trivial Λ table (any table works for the
    interpolation, batching and summary checks)."""
    de = solve_equilibrium(P_NOEXT, G, tol=1e-10)
    alt = solve_equilibrium(two_industry_params(n_z=2, theta=INF, xi=0.0, phi=(0.02, 0.6)), G, tol=1e-10)
    assert bool(de.converged) and bool(alt.converged)
    lam = 0.01 + 0.005 * np.random.default_rng(1).standard_normal(de.c.shape)
    return de, alt, lam


@pytest.fixture(scope="module")
def planner(pair):
    """θ = ∞ and ξ = 0: no externality, so the planner is the DE (the planner's own solve)."""
    de = pair[0]
    sp = solve_planner(P_NOEXT, G, init=de, tol=1e-10)
    assert bool(sp.converged), sp.summary()
    return de, sp


def _states(de, n, seed=0):
    rng = np.random.default_rng(seed)
    bp, kp = np.asarray(de.axes[0].points), np.asarray(de.axes[1].points)
    b = rng.uniform(bp[0], bp[-1], n)
    k1 = rng.uniform(kp[0], kp[-1], n)
    s = rng.integers(0, de.params.n_states, n)
    return b, np.stack([k1, 1.0 - k1], axis=1), s


@pytest.mark.slow
def test_no_externality_planner_equals_de_for_every_cz(planner):
    de, sp = planner
    b, k, s = _states(de, 200)
    comp = cz_planner_comparison(de, sp, b, k, s)
    assert isinstance(comp, CZPlannerComparison) and comp.n == 200
    assert float(np.max(np.abs(np.asarray(comp.gini_sp_minus_de)))) < 1e-7
    assert float(np.max(np.abs(np.asarray(comp.k_next_sp) - np.asarray(comp.k_next_de)))) < 1e-7
    assert float(np.max(np.abs(np.asarray(comp.welfare_gain)))) < 1e-7
    assert bool(np.all(np.asarray(comp.in_grid_box)))
    # the default lam is welfare_gain(de, sp)
    same = cz_planner_comparison(de, sp, b, k, s, lam=welfare_gain(de, sp))
    np.testing.assert_array_equal(np.asarray(same.welfare_gain), np.asarray(comp.welfare_gain))


def test_gain_at_grid_nodes_is_the_table_entry_and_affine_tables_are_exact(pair):
    de, alt, lam = pair
    bp, kp = np.asarray(de.axes[0].points), np.asarray(de.axes[1].points)
    ns = de.params.n_states
    B, K, S = (a.ravel() for a in np.meshgrid(bp, kp, np.arange(ns), indexing="ij"))
    k = np.stack([K, 1.0 - K], axis=1)
    comp = cz_planner_comparison(de, alt, B, k, S, lam=lam)
    np.testing.assert_array_equal(np.asarray(comp.welfare_gain), lam.reshape(-1))
    # a table affine in (b, k_1) within each state is multilinear: reproduced exactly off the nodes
    a0, a1, a2 = np.random.default_rng(4).standard_normal((3, ns))
    Bg, Kg, Sg = np.meshgrid(bp, kp, np.arange(ns), indexing="ij")
    affine = a0[Sg] + a1[Sg] * Bg + a2[Sg] * Kg
    b, k, s = _states(de, 300, seed=3)
    got = np.asarray(interpolate_gain(de, affine, b, k, s))
    np.testing.assert_allclose(got, a0[s] + a1[s] * b + a2[s] * k[:, 0], rtol=0, atol=1e-13)


def test_batch_equals_one_at_a_time_and_the_consistent_allocation(pair):
    de, alt, lam = pair
    b, k, s = _states(de, 60, seed=7)  # the summaries' states: one compile for both tests
    batch = cz_planner_comparison(de, alt, b, k, s, lam=lam)
    assert float(np.max(np.abs(np.asarray(batch.gini_sp_minus_de)))) > 1e-4  # the two economies differ
    for i in range(0, b.shape[0], 5):
        one = cz_planner_comparison(de, alt, b[i:i + 1], k[i:i + 1], int(s[i]), lam=lam)
        for name in ("k_next_de", "k_next_sp", "gini_sp_minus_de", "welfare_gain", "b_next_sp"):
            np.testing.assert_allclose(np.asarray(getattr(one, name))[0], np.asarray(getattr(batch, name))[i],
                                       rtol=1e-13, atol=1e-15, err_msg=name)
    a_de, a_sp = allocation_at(de, b, k, s), allocation_at(alt, b, k, s)
    np.testing.assert_allclose(np.asarray(batch.k_next_de), np.asarray(a_de["k_next"]), rtol=1e-13)
    # Gini of two shares is |k1 - k2| / 2
    g = lambda kk: np.abs(kk[:, 0] - kk[:, 1]) / 2
    np.testing.assert_allclose(np.asarray(batch.gini_sp_minus_de),
                               g(np.asarray(a_sp["k_next"])) - g(np.asarray(a_de["k_next"])), atol=1e-13)
    # a scalar s0 is broadcast
    common = cz_planner_comparison(de, alt, b, k, 1, lam=lam)
    ref = cz_planner_comparison(de, alt, b, k, np.ones(60, int), lam=lam)
    np.testing.assert_array_equal(np.asarray(common.welfare_gain), np.asarray(ref.welfare_gain))


def test_named_errors(pair):
    de, alt, lam = pair
    b, k, s = _states(de, 5)
    with pytest.raises(ValueError, match="b0 must be"):
        cz_planner_comparison(de, alt, b[:, None], k, s, lam=lam)
    with pytest.raises(ValueError, match="k0 must have shape"):
        cz_planner_comparison(de, alt, b, k[:4], s, lam=lam)
    with pytest.raises(ValueError, match="k0 must have shape"):
        cz_planner_comparison(de, alt, b, k[:, :1], s, lam=lam)
    with pytest.raises(ValueError, match="s0 must be"):
        cz_planner_comparison(de, alt, b, k, s[:3], lam=lam)
    with pytest.raises(ValueError, match="simplex"):
        cz_planner_comparison(de, alt, b, k * 1.1, s, lam=lam)
    with pytest.raises(ValueError, match="s0"):
        cz_planner_comparison(de, alt, b, k, np.full(5, 99), lam=lam)
    with pytest.raises(ValueError, match="lam must have the policy shape"):
        cz_planner_comparison(de, alt, b, k, s, lam=lam[:, :, :1])
    with pytest.raises(ValueError, match="lam"):
        cz_planner_comparison(de, alt, b, k, s, lam=np.where(lam > 0.01, np.nan, lam))
    with pytest.raises(ValueError, match="pass lam"):
        cz_planner_comparison(de, alt, b, k, s)
    with pytest.raises(ValueError, match="b0"):
        cz_planner_comparison(de, alt, np.where(np.arange(5) == 2, np.nan, b), k, s, lam=lam)
    coarse = dataclasses.replace(alt, grid=Grid(n_b=8, n_k=9, b_min=-0.3, b_max=0.8, debt_limit=True))
    with pytest.raises(ValueError, match="same grid"):
        cz_planner_comparison(de, coarse, b, k, s, lam=lam)


def test_summaries_agree_with_pandas_groupby(pair, tmp_path):
    de, alt, lam = pair
    n = 60
    b, k, s = _states(de, n, seed=7)
    comp = cz_planner_comparison(de, alt, b, k, s, lam=lam)
    df = comp.to_frame()
    # tertiles by sorting: the n/3 smallest differences are "lower", and so on
    d = df["gini_sp_minus_de"].to_numpy()
    tert = np.empty(n, int)
    tert[np.argsort(d, kind="stable")] = np.arange(n) * 3 // n
    ref = df.groupby(tert)[["welfare_gain", "gini_sp_minus_de", "gini0"]].mean()
    got = tertile_summary(comp)
    assert list(got.index) == list(TERTILE_LABELS) and list(got["count"]) == [n // 3] * 3
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-14, err_msg=col)
    np.testing.assert_allclose(got["share_sp_less_specialized"].to_numpy(),
                               pd.Series(d < 0).groupby(tert).mean().to_numpy())
    assert np.all(got["gini_sp_minus_de_max"].to_numpy()[:-1] <= got["gini_sp_minus_de_min"].to_numpy()[1:])
    by_g0 = tertile_summary(comp, by="gini0")
    t0 = np.empty(n, int)
    t0[np.argsort(df["gini0"].to_numpy(), kind="stable")] = np.arange(n) * 3 // n
    np.testing.assert_allclose(by_g0["welfare_gain"].to_numpy(), df.groupby(t0)["welfare_gain"].mean().to_numpy())
    # by group, with flagged rows (status != 0) dropped from a table
    groups = np.random.default_rng(2).integers(1, 6, n)
    table = df.assign(status=np.where(np.arange(n) % 7 == 0, 2, 0), state_fips=groups)
    got = by_group_summary(table, "state_fips")
    kept = table[table["status"] == 0]
    ref = kept.groupby("state_fips").agg(count=("welfare_gain", "size"), mean=("welfare_gain", "mean"),
                                         lo=("welfare_gain", "min"), hi=("welfare_gain", "max"),
                                         diff=("gini_sp_minus_de", "mean"))
    assert list(got.index) == list(ref.index)
    np.testing.assert_array_equal(got["count"].to_numpy(), ref["count"].to_numpy())
    for a, r in (("welfare_gain_mean", "mean"), ("welfare_gain_min", "lo"), ("welfare_gain_max", "hi"),
                 ("gini_sp_minus_de_mean", "diff")):
        np.testing.assert_allclose(got[a].to_numpy(), ref[r].to_numpy(), rtol=1e-14, err_msg=a)
    assert int(by_group_summary(comp, groups)["count"].sum()) == n  # a comparison has no flagged rows
    with pytest.raises(ValueError, match="one label per CZ"):
        by_group_summary(comp, groups[:-1])
    with pytest.raises(ValueError, match="no column"):
        tertile_summary(comp, by="nope")
    path = plot_cz_comparison(table, tmp_path / "cz.png")
    assert path.is_file() and path.stat().st_size > 1000


def test_cz_planner_table_synthetic(pair):
    de, alt, lam = pair
    df = cz_planner_table(de, alt, lam=lam, source="synthetic", b0=0.1, s0=2)
    assert len(df) == 722 and {"czone", "gini_sp_minus_de", "welfare_gain", "status", "machinery_share"} <= set(df.columns)
    assert df.attrs["s0"] == 2 and df.attrs["b0"] == 0.1
    assert np.all(np.isfinite(df[["gini_sp_minus_de", "welfare_gain", "k1_0"]].to_numpy()))  # flagged rows too
    from jaxecon.models.specialization import cz_machinery_shares, initial_allocation

    init = initial_allocation(cz_machinery_shares(source="synthetic").share, de.params, de.grid, state=2, outside="flag")
    np.testing.assert_array_equal(df["status"].to_numpy(), np.asarray(init.status))
    direct = cz_planner_comparison(de, alt, np.full(722, 0.1), init.k, 2, lam=lam)
    np.testing.assert_array_equal(df["welfare_gain"].to_numpy(), np.asarray(direct.welfare_gain))


def test_cz_planner_table_adh_state_fips(pair, adh_path):
    de, alt, lam = pair
    df = cz_planner_table(de, alt, lam=lam, data=adh_path, source="adh", b0=0.1, s0=2)
    assert len(df) == 722 and df.attrs["source"] == "ADH"
    ex = pd.read_csv(adh_path / "cz_exposure.csv.gz")
    fips = ex.drop_duplicates("czone").set_index("czone")["clus"]
    np.testing.assert_array_equal(df["state_fips"].to_numpy(), fips.loc[df["czone"]].to_numpy())
    got = by_group_summary(df, "state_fips")
    ok = df[df["status"] == 0]
    np.testing.assert_allclose(got["welfare_gain_mean"].to_numpy(),
                               ok.groupby("state_fips")["welfare_gain"].mean().sort_index().to_numpy(), rtol=1e-14)
    assert int(got["count"].sum()) == int((df["status"] == 0).sum())
