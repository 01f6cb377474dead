"""Clusters model (paper 000, issue 16): equilibrium identities, calibration and shock inversions."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

import jaxecon  # noqa: F401
from jaxecon.models.clusters import (NPZ_KEYS, Params, adh_import_changes, calibrate_baseline, china_shock,
                                     solve_equilibrium)

solve = jax.jit(solve_equilibrium)
shock = jax.jit(china_shock)


def _economy(seed=0, C=12, I=6, eta=0.15, tau=1.6, sigma=3.0, rho=5.0, L_star=2.0):
    rng = np.random.default_rng(seed)
    mu = rng.gamma(0.7, size=(C, I))
    mu[rng.random((C, I)) < 0.3] = 0.0
    mu[0] += 0.01  # every industry present somewhere
    mu /= mu.sum(0)
    z = np.exp(rng.normal(0, 0.3, (C, I)))
    zs = np.exp(rng.normal(0, 0.3, I))
    return Params(sigma=sigma, rho=rho, eta=eta, tau=tau, L_star=L_star, z=z, z_star=zs, mu=mu)


def _employment(seed=1, C=15, I=6):
    rng = np.random.default_rng(seed)
    E = rng.gamma(0.5, size=(C, I)) * 1000
    E[rng.random((C, I)) < 0.3] = 0.0
    E[0] += 1.0
    return E


def test_free_trade_no_spillover_closed_form():
    """η = 0, τ = 1: L_ic = μ z^(ρ−1) m^(−ρ) p_i^(σ−1)... in closed form, w* from a scalar balanced-trade root."""
    p = _economy(eta=0.0, tau=1.0)
    s, r = 3.0, 5.0
    m = r / (r - 1)
    mu, z, zs, Ls = (np.asarray(a) for a in (p.mu, p.z, p.z_star, p.L_star))
    Z = m ** (1 - r) * (mu * z ** (r - 1)).sum(0)  # Σ_c μ p_ic^(1−ρ) (no spillover)

    def parts(w):
        pi = (Z + (m * w / zs) ** (1 - r)) ** (1 / (1 - r))  # same index at Home and abroad when τ = 1
        P = (pi ** (1 - s)).sum() ** (1 / (1 - s))
        world = pi ** (1 - s) * P ** (s - 1) * (m + m * w * Ls)  # world spending on industry i
        return pi, P, world

    def foreign_income_gap(w):
        pi, P, world = parts(w)
        return ((m * w / zs) ** (1 - r) / pi ** (1 - r) * world).sum() / (m * w * Ls) - 1

    w = brentq(foreign_income_gap, 1e-3, 1e3, xtol=1e-15)
    pi, P, world = parts(w)
    L = mu * (m / z) ** (1 - r) / pi ** (1 - r) * world / m  # CES share of world spending on i, / m
    e = solve(p)
    assert bool(e.converged)
    np.testing.assert_allclose(e.w_star, w, rtol=1e-11)
    np.testing.assert_allclose(e.p, pi, rtol=1e-11)
    np.testing.assert_allclose(e.p_star, pi, rtol=1e-11)
    np.testing.assert_allclose(e.P, P, rtol=1e-11)
    np.testing.assert_allclose(e.L, L, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("seed,eta,tau", [(0, 0.0, 1.3), (1, 0.15, 1.6), (2, 0.24, 2.5), (3, 0.249, 1.1)])
def test_walras_and_balanced_trade(seed, eta, tau):
    e = solve(_economy(seed, eta=eta, tau=tau))
    assert bool(e.converged), e.summary()
    assert float(e.labor_residual) < 1e-11
    assert float(e.trade_residual) < 1e-11
    np.testing.assert_allclose(e.exports.sum(), e.imports.sum(), rtol=1e-11)
    np.testing.assert_allclose(e.L.sum(), 1.0, rtol=0, atol=1e-11)
    # the O(I) industry aggregates agree with the C x I arrays
    np.testing.assert_allclose(e.L.sum(0), e.L_industry, rtol=1e-11)
    np.testing.assert_allclose(e.exports_ic.sum(0), e.exports, rtol=1e-11)
    np.testing.assert_allclose(e.imports_ic.sum(0), e.imports, rtol=1e-11)


def test_homogeneity_scales_only_prices():
    p = _economy(4)
    lam = 3.0
    e0, e1 = solve(p), solve(p.replace(z=p.z * lam, z_star=p.z_star * lam))
    for a, b in ((e0.L, e1.L), (e0.w_star, e1.w_star), (e0.imports, e1.imports), (e0.exports_ic, e1.exports_ic)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(e1.p, e0.p / lam, rtol=1e-11)
    np.testing.assert_allclose(e1.P_star, e0.P_star / lam, rtol=1e-11)


def test_baseline_reproduces_employment_and_import_penetration():
    E = _employment()
    for eta in (0.0, 0.2):
        b = calibrate_baseline(E, eta=eta, import_penetration=0.2, foreign_size=2.0)
        e = solve(b.params)  # re-solved from the calibrated Params alone
        assert bool(e.converged)
        np.testing.assert_allclose(e.L, E / E.sum(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(e.imports.sum() / b.params.markup, 0.2, rtol=1e-12)
        np.testing.assert_allclose(e.w_star, 1.0, rtol=1e-12)
        assert float(b.params.tau) > 1
        # uniform import penetration: every industry's import share of Home spending is the target
        spend = e.p ** (1 - b.params.sigma) * e.P ** (b.params.sigma - 1) * b.params.markup
        np.testing.assert_allclose(e.imports / spend, 0.2, rtol=1e-11)
        np.testing.assert_allclose(np.mean(np.log(np.asarray(b.params.z_star))), 0.0, atol=1e-12)
    common = calibrate_baseline(E, import_penetration=0.2, foreign_size=2.0, uniform_penetration=False)
    np.testing.assert_allclose(common.params.z_star, 1.0)
    np.testing.assert_allclose(common.equilibrium.imports.sum() / common.params.markup, 0.2, rtol=1e-12)
    np.testing.assert_allclose(common.equilibrium.L, E / E.sum(), rtol=0, atol=1e-14)


def test_baseline_at_other_eta_is_the_calibration():
    """baseline_params_at_eta (closed form) equals calibrating afresh at that η."""
    from jaxecon.models.clusters import baseline_params_at_eta

    E = _employment()
    b1, b2 = calibrate_baseline(E, eta=0.05), calibrate_baseline(E, eta=0.2)
    moved = baseline_params_at_eta(b1.params, b1.target_L, 0.2)
    np.testing.assert_allclose(moved.z, b2.params.z, rtol=1e-12)
    np.testing.assert_allclose(solve(moved).L, E / E.sum(), rtol=0, atol=1e-13)


def test_feasible_import_changes_clips_only_infeasible_falls():
    from jaxecon.models.clusters import feasible_import_changes

    M = jnp.array([1.0, 2.0, 3.0])
    dM, n = feasible_import_changes(M, jnp.array([-0.5, -5.0, 4.0]), floor=0.1)
    np.testing.assert_allclose(dM, [-0.5, -1.8, 4.0])
    assert int(n) == 1


def test_shock_reproduces_target_import_changes():
    E = _employment()
    b = calibrate_baseline(E, eta=0.15)
    e0 = b.equilibrium
    dM = e0.imports * np.linspace(-0.3, 2.0, E.shape[1])
    r = shock(e0, dM)
    assert bool(r.converged)
    e1 = solve(r.equilibrium.params)  # independent re-solve with the inverted z*
    assert bool(e1.converged)
    np.testing.assert_allclose(e1.imports - e0.imports, dM, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.equilibrium.L, e1.L, rtol=1e-10, atol=1e-15)


def _mechanism_loss(eta):
    """Employment change of a concentrated (CZ 0: all industry 0) and a diversified CZ (1: equal over 0-3)."""
    E = np.array([[40.0, 0, 0, 0], [10, 10, 10, 10], [50, 90, 90, 90]])
    b = calibrate_baseline(E, eta=eta)
    e0 = b.equilibrium
    dM = np.zeros(4)
    dM[0] = 0.5 * float(e0.imports[0])  # the same import change in industry 0, whatever η
    e1 = shock(e0, dM).equilibrium
    loss = 1 - np.asarray(e1.L.sum(1) / e0.L.sum(1))
    return loss[0], loss[1]


def test_mechanism_spillovers_amplify_losses_in_concentrated_cz():
    gaps = []
    for eta in (0.0, 0.1, 0.2):
        conc, div = _mechanism_loss(eta)
        assert conc > div and conc > 0
        gaps.append(conc - div)
    assert gaps[0] < gaps[1] < gaps[2]


def test_reshuffle_within_industry_invariant_without_spillover():
    rng = np.random.default_rng(5)
    p = _economy(5, eta=0.0)
    z_common = np.broadcast_to(np.exp(rng.normal(0, 0.3, p.n_industries)), p.z.shape)
    mu2 = rng.gamma(0.5, size=p.mu.shape)
    mu2 /= mu2.sum(0)
    a = solve(p.replace(z=z_common))
    b = solve(p.replace(z=z_common, mu=mu2))
    for name in ("p", "p_star", "P", "P_star", "w_star", "imports", "exports", "L_industry"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12)
    # with spillovers the split across locations matters (the test can fail)
    a2 = solve(p.replace(z=z_common, eta=0.2))
    b2 = solve(p.replace(z=z_common, mu=mu2, eta=0.2))
    assert np.max(np.abs(np.asarray(a2.imports / b2.imports) - 1)) > 1e-3


def test_implicit_gradients_match_finite_differences():
    p = _economy(6, eta=0.18)
    wts = jnp.asarray(np.random.default_rng(0).normal(size=p.z.shape))

    def f(eta, tau, zs, z):
        e = solve_equilibrium(eqx.tree_at(lambda q: (q.eta, q.tau, q.z_star, q.z), p, (eta, tau, zs, z)))
        return jnp.sum(wts * e.L) + jnp.log(e.w_star) + jnp.sum(e.imports) + e.P

    args = (p.eta, p.tau, p.z_star, p.z)
    g = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3)))(*args)
    fwd = jax.jit(jax.jacfwd(f))(*args)
    f = jax.jit(f)
    h = 1e-6
    for i, gi in ((0, g[0]), (1, g[1])):
        up = list(args); dn = list(args)
        up[i] = args[i] + h; dn[i] = args[i] - h
        np.testing.assert_allclose(gi, (f(*up) - f(*dn)) / (2 * h), rtol=1e-6)
    dz = np.zeros(p.n_industries); dz[2] = h
    np.testing.assert_allclose(g[2][2], (f(args[0], args[1], args[2] + dz, args[3]) -
                                         f(args[0], args[1], args[2] - dz, args[3])) / (2 * h), rtol=1e-6)
    dZ = np.zeros(p.z.shape); dZ[0, 1] = h
    np.testing.assert_allclose(g[3][0, 1], (f(*args[:3], args[3] + dZ) - f(*args[:3], args[3] - dZ)) / (2 * h),
                               rtol=1e-6)
    # forward mode agrees with reverse mode
    np.testing.assert_allclose(fwd, g[0], rtol=1e-10)


@pytest.mark.slow
def test_shock_gradient_in_eta_matches_finite_differences():
    E = _employment(2, C=8, I=4)
    base = calibrate_baseline(E, eta=0.1)
    dM = base.equilibrium.imports * np.array([0.5, 0.1, 1.0, 0.0])

    def f(eta):
        pr = base.params
        m = pr.markup
        # the baseline's z_ic(η) in closed form (calibration docstring): z ∝ L^(-η) at fixed variety prices
        z = jnp.where(pr.mu > 0, pr.z * jnp.asarray(base.target_L) ** (pr.eta - eta), 1.0)
        e0 = solve_equilibrium(eqx.tree_at(lambda q: (q.eta, q.z), pr, (eta, z)))
        r = china_shock(e0, dM)
        return jnp.sum(r.equilibrium.L[:3] ** 2) + jnp.sum(r.d_log_z_star)

    g = jax.jit(jax.grad(f))(jnp.asarray(0.1))
    f = jax.jit(f)
    h = 1e-6
    np.testing.assert_allclose(g, (f(0.1 + h) - f(0.1 - h)) / (2 * h), rtol=1e-6)


def test_batched_equals_separate():
    ps = [_economy(7, eta=eta, tau=tau) for eta, tau in ((0.0, 1.2), (0.1, 1.8), (0.23, 3.0))]
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *ps)
    eb = jax.jit(jax.vmap(solve_equilibrium))(stacked)
    for j, p in enumerate(ps):
        e = solve(p)
        for name in ("p", "p_star", "w_star", "L", "imports", "exports"):
            np.testing.assert_allclose(getattr(eb, name)[j], getattr(e, name), rtol=1e-12, atol=1e-16)
    assert bool(jnp.all(eb.converged))


def test_to_npz_keys_and_shapes(tmp_path):
    p = _economy(8)
    e = solve(p)
    e.to_npz(tmp_path / "eq.npz")
    with np.load(tmp_path / "eq.npz") as f:
        assert sorted(f.files) == sorted(NPZ_KEYS)
        for k in ("sigma", "rho", "eta", "tau", "L_star", "w_star", "P", "P_star"):
            assert f[k].shape == ()
        for k in ("z", "mu", "L"):
            assert f[k].shape == (12, 6)
        for k in ("z_star", "p", "p_star"):
            assert f[k].shape == (6,)
        np.testing.assert_array_equal(f["L"], np.asarray(e.L))


def test_bad_input_named_errors():
    p = _economy(9)
    with pytest.raises(ValueError, match="eta"):
        p.replace(eta=0.25)  # η(ρ−1) = 1
    with pytest.raises(ValueError, match="rho must be > sigma"):
        p.replace(sigma=5.0)
    bad_mu = np.asarray(p.mu).copy(); bad_mu[0, 0] += 0.1
    with pytest.raises(ValueError, match="mu: each column"):
        p.replace(mu=bad_mu)
    with pytest.raises(ValueError, match="tau"):
        p.replace(tau=0.9)
    with pytest.raises(ValueError, match="z_star must have shape"):
        p.replace(z_star=np.ones(2))
    E = _employment(); E[2, 3] = np.nan
    with pytest.raises(ValueError, match="employment must be finite"):
        calibrate_baseline(E)
    E = _employment(); E[:, 1] = 0.0
    with pytest.raises(ValueError, match=r"industries \[1\]"):
        calibrate_baseline(E)
    shocks = pd.DataFrame({"year": [1990, 1990, 2000], "sic87dd": [2011, 2015, 2011], "g_importsUSA": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"industries \[2015\].*missing from file industry_shocks"):
        adh_import_changes(shocks, [2011, 2015], 2000)
    np.testing.assert_array_equal(adh_import_changes(shocks, [2015, 2011], 1990), [2.0, 1.0])
    e = solve(p)
    with pytest.raises(ValueError, match="nonpositive in industries"):
        china_shock(e, -2 * np.asarray(e.imports))


@pytest.mark.slow
def test_adh_baseline_exact(adh_path):
    """Real data: the 722 x 397 baseline reproduces ADH 1990 employment to round-off."""
    from jaxecon.models.clusters import cluster_data

    d = cluster_data(adh_path)
    assert d.source == "ADH 1990" and d.employment.shape == (722, 397)
    b = calibrate_baseline(d.employment, eta=0.1)
    assert bool(b.equilibrium.converged)
    assert float(b.employment_error) < 1e-14
    np.testing.assert_allclose(b.equilibrium.imports.sum() / b.params.markup, 0.14, rtol=1e-12)
