"""Bianchi (2011) overborrowing: DE and planner solvers, welfare, tax, simulation (fast tests).

Independent references: scipy's brentq for the binding consumption, autodiff of the utility for
the marginal utility and the price, a dense linear solve for policy evaluation, the NumPy time
iteration of ``benchmarks/bench_overborrowing.py`` (bisection, written separately) for the DE
policies, and the no-binding limit (huge κ) where planner = DE.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import jaxecon  # noqa: F401
from jaxecon.models import overborrowing as ob
from jaxecon.numerics import MarkovChain, stack

NB = 100
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    # the checks below are calibrated on the paper's income process: never on the synthetic fallback
    try:
        chain = ob.load_income_process()
    except FileNotFoundError as err:
        pytest.skip(f"needs the original Bianchi (2011) income process (../shared/data/bianchi2011): {err}")
    return ob.bianchi2011_params(chain=chain)


@pytest.fixture(scope="module")
def grid():
    return ob.bond_grid(NB)


@pytest.fixture(scope="module")
def solved(params, grid):
    de = ob.solve_equilibrium(params, grid)
    sp = ob.solve_planner(params, grid, init=(de.cT, de.mu))
    return de, sp


def _numpy_reference():
    spec = importlib.util.spec_from_file_location("bench_overborrowing", ROOT / "benchmarks" / "bench_overborrowing.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.numpy_time_iteration


# ---------------------------------------------------------------------------- inputs and checks
def test_default_chain_is_the_shared_files():
    try:
        chain = ob.load_income_process()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    default = ob.bianchi2011_chain()
    np.testing.assert_array_equal(default.values, chain.values)
    # both endowments have stationary mean 1 (README)
    pi = np.asarray(jaxecon.numerics.stationary_distribution(chain))
    np.testing.assert_allclose(pi @ np.asarray(chain.values), [1.0, 1.0], atol=1e-6)


def test_synthetic_chain_matches_the_stored_moments(tmp_path):
    """The fallback chain reproduces sd, autocorrelation and correlation of log yT, log yN."""
    syn = ob.synthetic_income_chain()
    pi = np.asarray(jaxecon.numerics.stationary_distribution(syn))
    P, y = np.asarray(syn.P), np.log(np.asarray(syn.values))
    np.testing.assert_allclose(pi @ np.asarray(syn.values), [1.0, 1.0], atol=1e-12)
    d = y - pi @ y
    var = pi @ d**2
    ac = np.array([pi @ (d[:, j] * (P @ d[:, j])) for j in range(2)]) / var
    corr = (pi @ (d[:, 0] * d[:, 1])) / np.sqrt(var.prod())
    np.testing.assert_allclose(np.sqrt(var), [0.057059, 0.055551], rtol=1e-5)
    np.testing.assert_allclose(ac, [0.525633, 0.621454], rtol=1e-5)
    np.testing.assert_allclose(corr, 0.833272, rtol=1e-5)
    with pytest.warns(UserWarning, match="synthetic"):
        fallback = ob.bianchi2011_chain(tmp_path / "nowhere")
    np.testing.assert_array_equal(fallback.values, syn.values)
    try:  # the stored moments are those of the real chain, when it is present
        real = ob.load_income_process()
    except FileNotFoundError:
        return
    pr = np.asarray(jaxecon.numerics.stationary_distribution(real))
    yr = np.log(np.asarray(real.values))
    dr = yr - pr @ yr
    np.testing.assert_allclose(np.sqrt(pr @ dr**2), [0.057059, 0.055551], rtol=1e-4)


@pytest.mark.parametrize(
    "field,value,match",
    [("sigma", -1.0, "sigma"), ("beta", 1.0, "beta"), ("omega", 1.2, "omega"), ("kappa", -0.1, "kappa"),
     ("eta", -0.5, "eta"), ("R", 0.0, "R")],
)
def test_bad_parameters_raise(field, value, match):
    with pytest.raises(ValueError, match=match):
        ob.bianchi2011_params(**{field: value})


def test_bad_inputs_raise(params, grid):
    with pytest.raises(ValueError, match="unknown parameter"):
        ob.bianchi2011_params(gamma=2.0)
    with pytest.raises(ValueError, match="two columns"):
        ob.bianchi2011_params(chain=MarkovChain(values=jnp.ones((2, 1)), P=jnp.eye(2)))
    with pytest.raises(ValueError, match="endowments"):
        ob.bianchi2011_params(chain=MarkovChain(values=-jnp.ones((2, 2)), P=jnp.eye(2)))
    with pytest.raises(ValueError, match="non-positive tradable consumption"):
        ob.solve_equilibrium(params, ob.bond_grid(20, lo=-3.0, hi=-0.2))
    with pytest.raises(ValueError, match="damping"):
        ob.solve_planner(params, grid, damping=1.5)
    with pytest.raises(ValueError, match="max_iter"):
        ob.solve_equilibrium(params, grid, max_iter=0)


# ---------------------------------------------------------------------------- static relations
def test_marginal_utility_and_price_match_autodiff(params):
    cT, yN = jnp.array([0.6, 0.9, 1.3]), jnp.array([0.9, 1.0, 1.1])
    u = lambda c, n: ob.utility(params, c, n)
    uT = jax.vmap(jax.grad(u, argnums=0))(cT, yN)
    uN = jax.vmap(jax.grad(u, argnums=1))(cT, yN)
    np.testing.assert_allclose(ob.marginal_utility(params, cT, yN), uT, rtol=1e-12)
    np.testing.assert_allclose(ob.price(params, cT, yN), uN / uT, rtol=1e-12)  # p = u_N / u_T
    dp = jax.vmap(jax.grad(lambda c, n: ob.price(params, c, n)))(cT, yN)
    np.testing.assert_allclose(ob.externality(params, cT, yN), params.kappa * yN * dp, rtol=1e-12)


def test_binding_consumption_matches_brentq(params):
    s = np.arange(16)
    cash = -1.0 * 1.04 + np.asarray(params.yT)  # b = -1.0
    c, exists, feasible, ok = ob.binding_consumption(params, jnp.asarray(cash), params.yT, params.yN)
    assert bool(jnp.all(ok)) and bool(jnp.all(feasible))
    k, w, e = 0.3235, 0.307, 1 / 0.83 - 1
    for j in s:
        yT, yN = float(params.yT[j]), float(params.yN[j])
        g = lambda x: x - k * (1 - w) / w * (x / yN) ** (1 + e) * yN - (cash[j] + k * yT)
        c_star = yN * (w / ((1 - w) * k * (1 + e))) ** (1 / e)
        if g(c_star) > 0:  # a root on the rising branch
            assert bool(exists[j])
            np.testing.assert_allclose(float(c[j]), brentq(g, 1e-9, c_star, xtol=1e-15), rtol=1e-11)
        else:
            assert not bool(exists[j]) and np.isinf(float(c[j]))


# ---------------------------------------------------------------------------- solutions
@pytest.mark.parametrize("which", [0, 1])
def test_solution_satisfies_constraint_and_complementarity(solved, which):
    sol = solved[which]
    assert sol.planner == bool(which)
    assert bool(sol.converged) and float(sol.euler_residual) < 1e-7
    assert sol.cT.dtype == jnp.float64
    slack, mu, binding = map(np.asarray, (sol.slack, sol.mu, sol.binding))
    assert slack.min() >= -1e-12  # the constraint holds everywhere
    assert mu.min() >= 0.0  # nonnegative multiplier
    assert np.all(mu[~binding] == 0.0)  # zero where slack
    assert np.all(np.abs(slack[binding]) < 1e-10)  # binding means b' = -κ(p yN + yT)
    assert 0 < binding.sum() < binding.size
    # budget identity
    b = np.asarray(sol.b)[:, None]
    np.testing.assert_allclose(np.asarray(sol.cT) + np.asarray(sol.b_next), 1.04 * b + np.asarray(ob.bianchi2011_chain().values[:, 0]), atol=1e-13)


def test_de_policies_match_numpy_reference(params, grid, solved):
    de = solved[0]
    ref = _numpy_reference()
    c, it, ok = ref(2.0, 1 / 0.83 - 1, 0.906, 0.307, 0.3235, 1.04, np.asarray(params.yT), np.asarray(params.yN),
                    np.asarray(params.chain.P), np.asarray(grid.points))
    assert ok
    np.testing.assert_allclose(np.asarray(de.cT), c, atol=1e-8)


def test_planner_borrows_less(solved):
    de, sp = solved
    # the planner internalizes the externality: weakly more saving (less consumption) where slack
    slack_both = ~np.asarray(de.binding) & ~np.asarray(sp.binding)
    assert np.all(np.asarray(sp.b_next)[slack_both] >= np.asarray(de.b_next)[slack_both] - 1e-10)
    assert np.any(np.asarray(sp.b_next) > np.asarray(de.b_next) + 1e-4)


def test_huge_kappa_never_binds_and_planner_equals_de(grid):
    p = ob.bianchi2011_params(kappa=50.0)
    de = ob.solve_equilibrium(p, grid)
    sp = ob.solve_planner(p, grid)
    assert bool(de.converged) and bool(sp.converged)
    assert not np.any(np.asarray(de.binding)) and not np.any(np.asarray(sp.binding))
    assert float(jnp.max(de.mu)) == 0.0 and float(jnp.max(sp.mu)) == 0.0
    np.testing.assert_allclose(sp.cT, de.cT, atol=1e-12)
    Vde, _ = ob.evaluate_policy(p, grid, de)
    Vsp, _ = ob.evaluate_policy(p, grid, sp)
    np.testing.assert_allclose(ob.welfare_gain(p, Vde, Vsp), 0.0, atol=1e-12)
    np.testing.assert_allclose(ob.optimal_tax(p, grid, sp), 0.0, atol=1e-9)


def test_batched_sweep_equals_separate_solves(grid):
    plist = [ob.bianchi2011_params(kappa=k, beta=b) for k, b in [(0.30, 0.9), (0.3235, 0.906), (0.34, 0.91)]]
    batched = jax.vmap(lambda p: ob.solve_equilibrium(p, grid))(stack(plist))
    assert bool(jnp.all(batched.converged))
    for j, p in enumerate(plist):
        one = ob.solve_equilibrium(p, grid)
        np.testing.assert_allclose(batched.cT[j], one.cT, atol=1e-10)
        np.testing.assert_array_equal(batched.binding[j], one.binding)


def test_non_convergence_is_flagged(params, grid):
    sol = ob.solve_equilibrium(params, grid, max_iter=3)
    assert not bool(sol.converged)
    assert float(sol.max_change) > 1e-9
    assert np.all(np.isfinite(np.asarray(sol.cT)))  # no silent NaNs


# ---------------------------------------------------------------------------- welfare and tax
def test_policy_evaluation_matches_dense_linear_solve(params, grid, solved):
    de = solved[0]
    V, ok = ob.evaluate_policy(params, grid, de)
    assert bool(ok)
    nb, ns = de.cT.shape
    b = np.asarray(grid.points)
    U = np.asarray(ob.utility(params, de.cT, params.yN[None, :]))
    bn = np.asarray(de.b_next)
    P = np.asarray(params.chain.P)
    # V = U + β M V with M the (interpolation x transition) matrix, built with np.interp weights
    M = np.zeros((nb * ns, nb * ns))
    for i in range(nb):
        for s in range(ns):
            x = np.clip(bn[i, s], b[0], b[-1])
            j = min(np.searchsorted(b, x, side="right") - 1, nb - 2)
            t = (x - b[j]) / (b[j + 1] - b[j])
            for s2 in range(ns):
                M[i * ns + s, j * ns + s2] += (1 - t) * P[s, s2]
                M[i * ns + s, (j + 1) * ns + s2] += t * P[s, s2]
    V_ref = np.linalg.solve(np.eye(nb * ns) - 0.906 * M, U.reshape(-1)).reshape(nb, ns)
    np.testing.assert_allclose(np.asarray(V), V_ref, rtol=1e-10)


def test_welfare_gain_is_permanent_consumption_equivalent(params):
    V = jnp.array([-12.0, -9.5])
    lam = 0.013
    np.testing.assert_allclose(ob.welfare_gain(params, V, V * (1 + lam) ** (1 - 2.0)), lam, rtol=1e-12)


def test_tax_positive_and_equals_externality_wedge(params, grid, solved):
    de, sp = solved
    tau = np.asarray(ob.optimal_tax(params, grid, sp))
    slack = ~np.asarray(sp.binding) & ~np.asarray(sp.at_grid_bound)
    assert np.all(tau[np.asarray(sp.binding)] == 0.0)
    assert tau[slack].min() > -1e-7 and tau[slack].max() > 0.01
    # where slack, u_T = βR E[u_T' + μ'Ψ'] so τ = E[μ'Ψ'] / E[u_T'] (evaluated at the node's b')
    i, s = np.argwhere(slack & (tau > 0.02))[0]
    bn = float(sp.b_next[i, s])
    cn = np.array([np.interp(bn, np.asarray(grid.points), np.asarray(sp.cT[:, k])) for k in range(16)])
    mn = np.array([np.interp(bn, np.asarray(grid.points), np.asarray(sp.mu[:, k])) for k in range(16)])
    yN = np.asarray(params.yN)
    uT = np.asarray(ob.marginal_utility(params, jnp.asarray(cn), params.yN))
    psi = np.asarray(ob.externality(params, jnp.asarray(cn), params.yN))
    Pm = np.asarray(params.chain.P)[s]
    # the grid interpolates u_T and μΨ (not c, μ) linearly, so allow the interpolation gap
    np.testing.assert_allclose(tau[i, s], Pm @ (mn * psi) / (Pm @ uT), rtol=2e-2)


# ---------------------------------------------------------------------------- simulation, accuracy
def test_simulation_identities_and_crisis_statistics(params, grid, solved):
    de, sp = solved
    sim_de, sim_sp = ob.simulate_pair(params, grid, de, sp, jax.random.key(3), n_periods=20_000, burn=1_000)
    np.testing.assert_array_equal(sim_de["states"], sim_sp["states"])  # the same shocks
    for sim in (sim_de, sim_sp):
        yT = np.asarray(params.yT)[sim["states"]]
        np.testing.assert_allclose(sim["cT"] + sim["b_next"], 1.04 * sim["b"] + yT, atol=1e-12)
        assert sim["slack"].min() >= -1e-12
        np.testing.assert_allclose(sim["b"][1:], sim["b_next"][:-1])
    c_de, c_sp, thr = ob.crisis_flags(sim_de, sim_sp)
    assert np.all(sim_de["binding"][c_de]) and np.all(sim_de["CA"][c_de] > thr)
    # crises are far more frequent without the planner (paper: 5.5% vs 0.4%)
    assert 0.03 < c_de.mean() < 0.08 and c_sp.mean() < 0.01
    m_de, m_sp = ob.moments(sim_de), ob.moments(sim_sp)
    assert m_sp["std_rer"] < m_de["std_rer"] and m_sp["debt_gdp"] < m_de["debt_gdp"]


@pytest.mark.parametrize("which", [0, 1])
def test_euler_errors_off_grid(params, grid, solved, which):
    k1, k2 = jax.random.split(jax.random.key(7))
    b = jax.random.uniform(k1, (2000,), minval=-1.0, maxval=-0.3)
    s = jax.random.randint(k2, (2000,), 0, 16)
    err = np.asarray(ob.euler_errors(params, grid, solved[which], b, s))
    assert np.all(np.isfinite(err))
    assert err.mean() < -4.5 and err.max() < -1.0


def test_income_loader_rejects_a_non_stochastic_transition_matrix(tmp_path):
    import shutil

    from jaxecon.data import data_dir

    try:
        src = data_dir() / "bianchi2011"
    except FileNotFoundError as err:
        pytest.skip(f"needs the shared Bianchi (2011) files: {err}")
    if not (src / "transition.csv").is_file():
        pytest.skip("needs the shared Bianchi (2011) files")
    shutil.copy(src / "income_states.csv", tmp_path / "income_states.csv")
    import pandas as pd

    tr = pd.read_csv(src / "transition.csv")
    tr.loc[2, "s1"] += 0.1  # row 3 now sums to 1.1
    tr.to_csv(tmp_path / "transition.csv", index=False)
    with pytest.raises(ValueError, match="row 3 of the transition matrix sums to 1.1"):
        ob.load_income_process(tmp_path)
    ok = ob.load_income_process(src)
    np.testing.assert_allclose(np.asarray(ok.P).sum(1), 1.0, atol=1e-12)
