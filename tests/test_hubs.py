"""Hubs model (paper 001): equilibrium, inversion, planner, estimation."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import hubs
from jaxecon.numerics import stack

ROOT = Path(__file__).resolve().parents[1]
N, J = 8, 4
TOL = 1e-13


def _replace(p, **kw):
    """A new Params with fields replaced (re-runs the checks)."""
    fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
    fields.update(kw)
    return hubs.Params(**fields)


@pytest.fixture(scope="module")
def econ():
    p, info = hubs.synthetic_economy(jax.random.key(3), N, J, externalities=1.0)
    return p, info


@pytest.fixture(scope="module")
def solve():
    return jax.jit(lambda p: hubs.solve_equilibrium(p, tol=TOL))


@pytest.fixture(scope="module")
def eq(econ, solve):
    return solve(econ[0])


def _numpy_reference():
    spec = importlib.util.spec_from_file_location("bench_hubs", ROOT / "benchmarks" / "bench_hubs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.numpy_equilibrium


# ---------------------------------------------------------------------------- bad input
def test_bad_params_named_errors(econ):
    p, _ = econ
    d = np.array(p.d)
    d0 = d.copy(); d0[1, 0, 2] = 0.0
    with pytest.raises(ValueError, match=r"d \(trade costs\) must be > 0"):
        _replace(p, d=d0)
    d1 = d.copy(); d1[0, 3, 3] = 1.2
    with pytest.raises(ValueError, match=r"d\[j, n, n\].*must equal 1"):
        _replace(p, d=d1)
    d2 = d.copy(); d2[0, 1, 2] = 0.5
    with pytest.raises(ValueError, match=r"d \(trade costs\) must lie in \[1.0"):
        _replace(p, d=d2)
    with pytest.raises(ValueError, match="alpha .* must sum to one"):
        _replace(p, alpha=np.array(p.alpha) * 1.1)
    gi = np.array(p.gamma_io); gi[2, 1] += 0.05
    with pytest.raises(ValueError, match=r"cost shares .* sectors \[2\]"):
        _replace(p, gamma_io=gi)
    with pytest.raises(ValueError, match="epsilon must be > 0 and != 1"):
        _replace(p, epsilon=1.0)
    with pytest.raises(ValueError, match="nu must be > 0"):
        _replace(p, nu=-1.0)
    with pytest.raises(ValueError, match=r"A must have shape \(2, 8\)"):
        _replace(p, A=np.ones((2, N + 1)))
    with pytest.raises(ValueError, match="lam_hat must be > 0"):
        _replace(p, lam_hat=-np.array(p.lam_hat))


def test_bad_data_named_errors(econ, eq):
    p, _ = econ
    Lkj = np.array(eq.Lkj); Lkj[1, 2, 5] = 0.0
    with pytest.raises(ValueError, match=r"Lkj \(employment\) has 1 zero or negative cell.*\(1, 2, 5\)"):
        hubs.CityData(w=eq.w, Lkj=Lkj)
    with pytest.raises(ValueError, match="w must have shape"):
        hubs.CityData(w=eq.w[:, :-1], Lkj=eq.Lkj)
    # data whose sector totals cannot clear under these alphas: named, before any iteration
    Lkj = np.array(eq.Lkj); Lkj[:, 0, :] *= 1.5
    data = hubs.CityData(w=eq.w, Lkj=Lkj)
    with pytest.raises(ValueError, match="national revenue and expenditure differ in sectors"):
        hubs.invert(data, p)
    alpha = hubs.consistent_alpha(data, p)
    np.testing.assert_allclose(np.sum(alpha), 1.0, atol=1e-12)
    assert np.max(np.abs(hubs.sector_imbalance(data, _replace(p, alpha=alpha)))) < 1e-12


# ---------------------------------------------------------------------------- equilibrium
def test_free_trade_closed_form(econ, solve):
    """τ = 0 and d = 1: one price per sector; π^j_mn = R^j_m/Σ_m R^j_m for every destination (EK shares are
    sales shares); Cobb-Douglas spending X − Γᵀ R = α E; sector totals R^j = [(I − Γᵀ)^-1 α]_j Y."""
    p, _ = econ
    p0 = _replace(p, d=np.ones_like(p.d), tau_R=np.zeros_like(p.tau_R), tau_L=np.zeros_like(p.tau_L))
    e = solve(p0)
    assert bool(e.converged)
    np.testing.assert_allclose(e.P, np.broadcast_to(e.P[:, :1], e.P.shape), rtol=1e-11)
    share = e.R / jnp.sum(e.R, axis=1, keepdims=True)
    np.testing.assert_allclose(e.pi, np.broadcast_to(share[:, :, None], e.pi.shape), rtol=1e-10)
    E = jnp.sum(e.spend * e.L, axis=0)
    np.testing.assert_allclose(e.X - p0.gamma_io.T @ e.R, p0.alpha[:, None] * E[None], rtol=1e-10)
    Y = float(jnp.sum(E))
    totals = np.linalg.solve(np.eye(J) - np.asarray(p0.gamma_io).T, np.asarray(p0.alpha)) * Y
    np.testing.assert_allclose(jnp.sum(e.R, axis=1), totals, rtol=1e-10)
    # factor payments: wage bill by occupation is the CES split of γ_L R, rents γ_H R
    np.testing.assert_allclose(jnp.sum(e.w * e.L) + jnp.sum(e.r * p0.H),
                               jnp.sum((p0.gamma_L + p0.gamma_H) @ e.R), rtol=1e-10)


def test_symmetric_cities_split_evenly(econ, solve):
    """Identical cities (same A, λ̂, H, T, equidistant) share every occupation equally, with equal wages."""
    p, _ = econ
    d = np.full((J, N, N), 1.7)
    d[:, np.arange(N), np.arange(N)] = 1.0
    ps = _replace(p, d=d, A=np.ones((2, N)), H=np.ones(N), T=np.ones((J, N)),
                  lam_hat=np.broadcast_to(np.array(p.lam_hat)[:, :, :1], (2, J, N)))
    e = solve(ps)
    assert bool(e.converged)
    np.testing.assert_allclose(e.L, np.broadcast_to(ps.Lk[:, None] / N, (2, N)), rtol=1e-11)
    np.testing.assert_allclose(e.w, np.broadcast_to(e.w[:, :1], (2, N)), rtol=1e-11)


@pytest.mark.parametrize("scale", [0.0, 1.0])
def test_every_market_clears(econ, solve, scale):
    p, _ = econ
    ps = _replace(p, tau_R=np.array(p.tau_R) * scale, tau_L=np.array(p.tau_L) * scale)
    e = solve(ps)
    assert bool(e.converged) and float(e.max_residual) < 10 * TOL and int(e.iterations) > 0
    res = {k: float(v) for k, v in hubs.market_residuals(e).items()}
    assert max(res.values()) < 1e-11, res
    np.testing.assert_allclose(jnp.sum(e.L, axis=1), ps.Lk, rtol=1e-14)
    assert e.w.dtype == jnp.float64


def test_non_convergence_is_reported(econ):
    e = hubs.solve_equilibrium(econ[0], max_iter=5)
    assert not bool(e.converged) and int(e.iterations) == 5
    assert np.isfinite(float(e.max_residual)) and float(e.max_residual) > 1e-6


def test_matches_numpy_damped_tatonnement(econ, eq):
    """A second, nested implementation (benchmarks/bench_hubs.py: wage tâtonnement with inner price and
    expenditure loops) reaches the same equilibrium."""
    p, _ = econ
    ref = _numpy_reference()(p, tol=1e-12)
    assert ref["converged"]
    np.testing.assert_allclose(ref["w"], eq.w, rtol=1e-9)
    np.testing.assert_allclose(ref["L"], eq.L, rtol=1e-9)
    np.testing.assert_allclose(ref["P"], eq.P, rtol=1e-9)


def test_batched_equals_separate(econ, solve):
    p, _ = econ
    ps = [hubs.synthetic_economy(jax.random.key(10 + i), N, J, externalities=0.5)[0] for i in range(3)]
    batch = jax.jit(jax.vmap(lambda q: hubs.solve_equilibrium(q, tol=TOL)))(stack(ps))
    assert batch.w.shape == (3, 2, N) and bool(jnp.all(batch.converged))
    for i, q in enumerate(ps):
        one = solve(q)
        np.testing.assert_allclose(batch.w[i], one.w, rtol=1e-11)
        np.testing.assert_allclose(batch.L[i], one.L, rtol=1e-11)


def test_implicit_gradient_matches_finite_differences(econ):
    """d/dθ of CNR welfare, of the population of city 0 and of a wage, θ = (ν, the τ scale, H_0); the
    GMRES adjoint (used above DENSE_ADJOINT_MAX unknowns) gives the dense adjoint's answer."""
    import lineax as lx
    p, _ = econ

    def outcome(theta, solver=None):
        q = dataclasses.replace(p, nu=theta[0], tau_R=p.tau_R * theta[1], tau_L=p.tau_L * theta[1],
                                H=p.H.at[0].multiply(theta[2]))
        e = hubs.solve_equilibrium(q, tol=1e-14, max_iter=20000, linear_solver=solver)
        return jnp.stack([jnp.log(e.welfare[0]), jnp.log(jnp.sum(e.L[:, 0])), jnp.log(e.w[1, 3])])

    theta = jnp.array([float(p.nu), 0.8, 1.0])
    jac = jax.jit(jax.jacrev(outcome))(theta)
    f = jax.jit(outcome)
    h = 1e-5
    fd = np.stack([(f(theta.at[i].add(h)) - f(theta.at[i].add(-h))) / (2 * h) for i in range(3)], axis=1)
    assert np.all(np.abs(fd) > 1e-6)
    np.testing.assert_allclose(jac, fd, rtol=2e-6, atol=1e-8)
    g = jax.jit(jax.grad(lambda t: outcome(t, lx.GMRES(rtol=1e-12, atol=1e-14, restart=50))[0]))(theta)
    np.testing.assert_allclose(g, jac[0], rtol=1e-8)


def test_to_npz_keys(eq, tmp_path):
    path = tmp_path / "eq.npz"
    eq.to_npz(path)
    z = np.load(path)
    K = 2
    shapes = dict(nu=(), vartheta=(), epsilon=(), alpha=(J,), gamma_L=(J,), gamma_H=(J,), gamma_io=(J, J),
                  d=(J, N, N), T=(J, N), H=(N,), lam=(K, J, N), A=(K, N), Lk=(K,), w=(K, N), L=(K, N),
                  Lkj=(K, J, N), P=(J, N), x=(J, N), r=(N,), X=(J, N), R=(J, N), pi=(J, N, N), chi=(K,))
    assert set(z.files) == set(shapes)
    for k, s in shapes.items():
        assert z[k].shape == s, k
    np.testing.assert_allclose(z["pi"].sum(axis=1), 1.0, rtol=1e-13)       # shares of each destination
    np.testing.assert_allclose(np.einsum("jmn,jn->jm", z["pi"], z["X"]), z["R"], rtol=1e-10)


# ---------------------------------------------------------------------------- inversion
@pytest.mark.parametrize("scale", [0.0, 1.0])
def test_inversion_round_trip(econ, solve, scale):
    p, _ = econ
    ps = _replace(p, tau_R=np.array(p.tau_R) * scale, tau_L=np.array(p.tau_L) * scale)
    e = solve(ps)
    lam, A = hubs.invert(hubs.data_from_equilibrium(e), ps)
    np.testing.assert_allclose(np.log(lam), np.log(hubs.normalize_lambda(e.lam)), atol=1e-8)
    np.testing.assert_allclose(np.log(A), np.log(hubs.normalize_amenities(ps.A)), atol=1e-8)
    # nominal units do not matter
    lam2, A2 = hubs.invert(hubs.CityData(w=3.0 * e.w, Lkj=e.Lkj), ps)
    np.testing.assert_allclose(lam2, lam, rtol=1e-9)
    # and the recovered parameters reproduce the data (λ̂ = λ / externality, here τ = 0 after substituting λ)
    q = _replace(ps, lam_hat=lam, A=A, tau_R=np.zeros_like(ps.tau_R), tau_L=np.zeros_like(ps.tau_L))
    e2 = solve(q)
    np.testing.assert_allclose(e2.Lkj, e.Lkj, rtol=1e-8)


# ---------------------------------------------------------------------------- planner
@pytest.fixture(scope="module")
def planner():
    return jax.jit(lambda p, t, s: hubs.solve_planner(p, t_L=t, subsidy_scale=s, tol=TOL))


def _no_externalities(p):
    return _replace(p, tau_R=np.zeros_like(p.tau_R), tau_L=np.zeros_like(p.tau_L))


def test_planner_without_externalities(econ, planner, solve):
    p0 = _no_externalities(econ[0])
    t = 1.0 / (1.0 + float(p0.nu))
    s = planner(p0, t, 1.0)
    assert bool(s.converged)
    assert float(jnp.max(jnp.abs(s.Delta))) == 0.0                       # τ = 0: no subsidies
    # it is the equilibrium under its own tax and transfers (the t_L term), and nothing else
    e = hubs.solve_equilibrium(p0, hubs.Policy(t_L=s.t_L, Delta=s.Delta, R=s.R), tol=TOL)
    np.testing.assert_allclose(s.allocation.L, e.L, rtol=1e-10)
    np.testing.assert_allclose(s.allocation.w, e.w, rtol=1e-10)
    # without the tax it is the laissez-faire equilibrium
    s0 = planner(p0, 0.0, 1.0)
    np.testing.assert_allclose(s0.allocation.L, s0.laissez_faire.L, rtol=1e-10)
    np.testing.assert_allclose(s0.R, 0.0, atol=1e-11)
    np.testing.assert_allclose(s0.welfare_gain, 0.0, atol=1e-11)


def test_planner_budget_and_equal_gains(econ, planner):
    p = econ[0]
    s = planner(p, 1.0 / (1.0 + float(p.nu)), 1.0)
    assert bool(s.converged)
    a = s.allocation
    res = {k: float(v) for k, v in hubs.market_residuals(a).items()}
    assert max(res.values()) < 1e-11, res
    np.testing.assert_allclose(s.welfare_gain[0], s.welfare_gain[1], rtol=1e-9)
    assert float(s.welfare_gain[0]) > 0
    np.testing.assert_allclose(s.Delta, hubs.subsidies(p, a.w, a.L, a.w[:, None, :] * a.Lkj), rtol=1e-10)


def test_planner_policy_is_optimal(econ, planner):
    """Paper §II's t_L = 1/(1+ν) and Δ maximize the (equal) welfare gain: moving either lowers it."""
    p = _replace(econ[0], tau_R=np.array(econ[0].tau_R) * 0.5, tau_L=np.array(econ[0].tau_L) * 0.5)
    t = 1.0 / (1.0 + float(p.nu))
    g = {(tt, ss): float(planner(p, tt, ss).welfare_gain[0])
         for tt, ss in [(t, 1.0), (t - 0.05, 1.0), (t + 0.05, 1.0), (t, 0.9), (t, 1.1)]}
    best = g[(t, 1.0)]
    assert all(best > v for k, v in g.items() if k != (t, 1.0)), g


def test_one_externality_moves_the_subsidized_occupation(econ, planner):
    """τ^R on for CNR in one sector only: relative to the planner without externalities (same t_L), CNR
    workers move toward the cities where their subsidy rate Δ^CNR_n / w^CNR_n is highest."""
    p0 = _no_externalities(econ[0])
    groups = hubs.sector_groups(J)
    tR = np.zeros((2, J)); tR[0, groups.index("PS")] = 0.8
    t = 1.0 / (1.0 + float(p0.nu))
    base = planner(p0, t, 1.0)
    s = planner(_replace(p0, tau_R=tR), t, 1.0)
    assert bool(s.converged) and bool(base.converged)
    rate = np.asarray(s.Delta[0] / s.allocation.w[0])
    move = np.log(np.asarray(s.allocation.L[0] / base.allocation.L[0]))
    assert np.all(np.asarray(s.Delta[0]) > 0) and np.all(np.asarray(s.Delta[1]) < 0)   # sign of the formula
    assert np.corrcoef(move, rate)[0, 1] > 0.7
    assert move[np.argmax(rate)] > move[np.argmin(rate)]


# ---------------------------------------------------------------------------- estimation
def test_estimation_exact_without_city_shocks(econ, solve):
    """λ̂ constant across cities: ln λ is exactly linear in the regressors, so OLS and 2SLS with the model's
    instruments return Table 1 by group to round-off; the counterfactual has λ flat across cities."""
    p, info = econ
    lam_flat = np.broadcast_to(np.exp(np.log(np.array(p.lam_hat)).mean(-1, keepdims=True)), p.lam_hat.shape)
    p = _replace(p, lam_hat=lam_flat, tau_R=np.array(p.tau_R) * 0.5, tau_L=np.array(p.tau_L) * 0.5)
    e = solve(p)
    assert bool(e.converged)
    lam, A = hubs.invert(hubs.data_from_equilibrium(e), p)
    cf = solve(_replace(p, lam_hat=np.broadcast_to(np.exp(np.log(lam).mean(-1, keepdims=True)), lam.shape), A=A,
                        tau_R=np.zeros_like(p.tau_R), tau_L=np.zeros_like(p.tau_L)))
    np.testing.assert_allclose(cf.lam, np.broadcast_to(cf.lam[..., :1], cf.lam.shape), rtol=1e-12)
    tR, tL = hubs.table1_externalities(info["groups"], 0.5)
    for method in ("2sls", "ols"):
        est = hubs.estimate_externalities(lam, e, info["groups"], A=A, method=method, counterfactual=cf)
        assert list(est.table.index) == ["M", "PS", "HE", "ATT"]
        for g in est.table.index:
            j = info["groups"].index(g)
            np.testing.assert_allclose(est.table.loc[g, ["tau_R_0", "tau_R_1", "tau_L"]].to_numpy(float),
                                       [tR[0, j], tR[1, j], tL[j]], atol=1e-7)
    # the instruments are the allocation of counterfactual_allocation (same λ averages, τ = 0)
    cf2 = hubs.counterfactual_allocation(lam, p, A=A, tol=TOL)
    np.testing.assert_allclose(cf2.L, cf.L, rtol=1e-10)


# ---------------------------------------------------------------------------- ADH commuting zones
@pytest.mark.slow
def test_adh_economy_reproduces_the_czs(adh_path):
    """722 CZs: populations and manufacturing shares are the ADH 1990 ones, and the built economy's
    equilibrium (Table 1 externalities) is that allocation."""
    from jaxecon.data import load_adh
    adh = load_adh(adh_path)
    econ = hubs.adh_economy(adh, jax.random.key(0))
    assert econ.converged and econ.reproduction_error < 1e-8
    L = np.asarray(econ.data.L.sum(0))
    pop = np.asarray(adh.population[1990])
    np.testing.assert_allclose(L, pop / pop.sum(), rtol=1e-12)
    m = [j for j, g in enumerate(econ.info["groups"]) if g == "M"]
    manuf = np.asarray(econ.data.Lkj[:, m].sum(axis=(0, 1))) / L
    # equal up to the floor of 1e-4 on each of the 5 manufacturing sectors' shares (logs need > 0)
    np.testing.assert_allclose(manuf, np.asarray(adh.manuf_share[1990]), atol=6e-4)
