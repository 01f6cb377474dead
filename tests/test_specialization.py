"""Specialization model (issue 6): decentralized equilibrium by time iteration.

Independent checks: a linear solve of the asset-pricing recursion over the Markov chain (NumPy),
θ = huge vs θ = inf, the symmetry of symmetric industries, vmap vs separate solves, sharded vs
unsharded, complementary slackness/feasibility identities, npz round trip.
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models.specialization import (
    NPZ_KEYS, RESULTS, EquilibriumSolution, Grid, Params, euler_errors, one_industry_params, policy_at, simulate,
    solve_equilibrium, two_industry_params,
)
from jaxecon.numerics import stack

INF = float("inf")
# one industry, no friction: impatient agents (beta R < 1) borrow toward the natural debt limit
# (about -14.7 here), so the grid reaches down there and extends c' linearly below it
P1 = dict(theta=INF, phi=0.0, n_z=3, R_bar=1.05, sigma=0.1, rho=0.5)
G1 = Grid(n_b=40, b_min=-13.0, b_max=3.0, b_curvature=2.0, b_extrapolate=True)
G2 = Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8)


@pytest.fixture(scope="module")
def one_inf():
    return solve_equilibrium(one_industry_params(**P1), G1, tol=1e-10)


@pytest.fixture(scope="module")
def two_small():
    return solve_equilibrium(two_industry_params(n_z=3), G2)


def _interp_weights(points, x):
    """Linear-interpolation weights of x on points (NumPy, linear extension beyond both ends)."""
    n = len(points)
    i = np.clip(np.searchsorted(points, x, side="right") - 1, 0, n - 2)
    t = (x - points[i]) / (points[i + 1] - points[i])
    return i, t


def test_one_industry_q_is_discounted_dividends(one_inf):
    sol = one_inf
    assert bool(sol.converged), sol.summary()
    p = sol.params
    assert not np.any(np.asarray(sol.binding)) and np.all(np.asarray(sol.eta) == 0.0)
    b_pts = np.asarray(sol.axes[0].points)
    c, bn, q = (np.asarray(a) for a in (sol.c, sol.b_next, sol.q))  # (n_b, n_s)
    P, z, R = np.asarray(p.P), np.asarray(p.z)[:, 0], np.asarray(p.R)
    beta, gamma, alpha = float(p.beta), float(p.gamma), float(p.alpha)
    nb, ns = c.shape
    # u'(c(b,s)) q(b,s) = beta sum_s' P(s,s') [u'(c') q' + u'(c') alpha z(s')](b', s'), every product
    # u'(c')q' and u'(c') interpolated linearly in b' (the solver's expectation tables): a linear
    # system in q over all (b, s) with the solved u'(c) as the stochastic discount factor
    mu = c ** (-gamma)
    A = np.zeros((nb * ns, nb * ns))
    r = np.zeros(nb * ns)
    for ib in range(nb):
        for s in range(ns):
            row = ib * ns + s
            i, t = _interp_weights(b_pts, bn[ib, s])
            for s2 in range(ns):
                w = beta * P[s, s2] / mu[ib, s]
                A[row, i * ns + s2] += w * (1 - t) * mu[i, s2]
                A[row, (i + 1) * ns + s2] += w * t * mu[i + 1, s2]
                r[row] += w * alpha * z[s2] * ((1 - t) * mu[i, s2] + t * mu[i + 1, s2])
    q_lin = np.linalg.solve(np.eye(nb * ns) - A, r).reshape(nb, ns)
    np.testing.assert_allclose(q, q_lin, rtol=1e-7)
    # and q is a plausible price: a few times the dividend alpha*z, discounted at about 1/(1-beta)
    assert 3.0 < q.mean() / (alpha * z.mean()) < 40.0


def test_huge_theta_equals_no_constraint(one_inf):
    big = solve_equilibrium(one_industry_params(**{**P1, "theta": 1e9}), G1, tol=1e-10)
    assert bool(big.converged) and not np.any(np.asarray(big.binding))
    for name in ("c", "q", "b_next", "eta"):
        np.testing.assert_allclose(getattr(big, name), getattr(one_inf, name), rtol=1e-9, atol=1e-12)


def test_grid_wide_equilibrium_conditions(two_small):
    sol = two_small
    assert bool(sol.converged), sol.summary()
    assert sol.c.dtype == jnp.float64
    p = sol.params
    c, q, eta, bn, kn = (np.asarray(a) for a in (sol.c, sol.q, sol.eta, sol.b_next, sol.k_next))
    R = np.asarray(p.R)[None, None, :]
    th = float(p.theta)
    binding = np.asarray(sol.binding)
    assert 0.05 < binding.mean() < 0.95  # the constraint binds somewhere, not everywhere
    np.testing.assert_allclose(kn.sum(-1), 1.0, atol=1e-13)
    assert np.all(kn > 0) and np.all(c > 0) and np.all(q > 0)
    assert np.all(eta >= 0.0)
    assert np.all(eta[~binding] == 0.0)
    assert np.all(-bn / R <= th * q * (1 + 1e-9) + 1e-12)  # constraint holds
    np.testing.assert_allclose((-bn / R)[binding], (th * q)[binding], rtol=1e-9)  # slackness: binds exactly
    # the budget identity c = Y - sum Phi + b - b'/R at every node (independent NumPy evaluation)
    b_pts = np.asarray(sol.axes[0].points)
    k_pts = np.asarray(sol.axes[1].points)
    z = np.asarray(p.z)
    a, xi, phi = float(p.alpha), np.asarray(p.xi), np.asarray(p.phi)
    k = np.stack([k_pts, 1 - k_pts], -1)[None, :, None, :]
    Y = np.sum(z[None, None] * k ** (a + xi), -1)
    Phi = np.sum(0.5 * phi * (kn / k - 1) ** 2 * k, -1)
    np.testing.assert_allclose(c, Y - Phi + b_pts[:, None, None] - bn / R, rtol=1e-10)
    # Euler errors off the grid are small and every diagnostic is finite
    # (the consistent allocation at uniform interior states on this coarse 12 x 5 grid: measured
    # -2.63 bond, -1.97 capital)
    e = euler_errors(sol, jax.random.key(0), 500)
    assert e["bond"]["mean_log10"] < -2.4 and e["capital"]["mean_log10"] < -1.8
    assert e["clearing"]["max_log10"] < -12


def test_symmetric_industries_choose_symmetric_capital():
    p = two_industry_params(xi=(0.13, 0.13), phi=(0.2, 0.2), rho=(0.8, 0.8), sigma=(0.02, 0.02), n_z=3)
    sol = solve_equilibrium(p, G2)
    assert bool(sol.converged), sol.summary()
    z = np.asarray(p.z)
    ns = z.shape[0]
    swap = np.array([int(np.where(np.all(np.isclose(z, z[s, ::-1]), axis=1))[0][0]) for s in range(ns)])
    k1 = np.asarray(sol.k_next[..., 0])
    c = np.asarray(sol.c)
    # k'_1(b, k, s) = k'_2(b, 1-k, swap(s)) = 1 - k'_1(b, 1-k, swap(s)); the k grid is symmetric
    np.testing.assert_allclose(k1, 1.0 - k1[:, ::-1, :][:, :, swap], atol=1e-7)
    np.testing.assert_allclose(c, c[:, ::-1, :][:, :, swap], rtol=1e-7)
    sym = np.where(np.isclose(z[:, 0], z[:, 1]))[0]
    mid = k1.shape[1] // 2
    np.testing.assert_allclose(k1[:, mid, sym], 0.5, atol=1e-7)


def test_acceleration_and_chunking_do_not_change_the_solution(two_small):
    # plain time iteration (anderson=0) reaches the same fixed point as the accelerated default, in
    # more sweeps; solving the nodes in chunks of 64 instead of all at once changes nothing
    plain = solve_equilibrium(two_small.params, G2, anderson=0)
    assert bool(plain.converged) and int(plain.iterations) > int(two_small.iterations)
    for name in ("c", "q", "b_next", "k_next"):
        np.testing.assert_allclose(getattr(plain, name), getattr(two_small, name), rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(plain.binding, two_small.binding)
    chunked = solve_equilibrium(two_small.params, G2, chunk_size=64)
    assert int(chunked.iterations) == int(two_small.iterations)
    for name in ("c", "q", "eta", "b_next", "k_next"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(two_small, name), rtol=1e-12, atol=1e-14)


def test_batched_equals_separate():
    ps = [one_industry_params(theta=0.02, n_z=3), one_industry_params(theta=0.015, n_z=3, sigma=0.02)]
    g = Grid(n_b=15, b_min=-0.4, b_max=0.8)
    batched = jax.vmap(lambda p: solve_equilibrium(p, g))(stack(ps))
    for j, p in enumerate(ps):
        one = solve_equilibrium(p, g)
        assert int(batched.iterations[j]) == int(one.iterations)
        # equal to round-off: the batched expectation tables are a batched matrix product whose
        # summation order may differ from the single one (measured 1.5e-12 after the whole solve)
        for name in ("c", "q", "eta", "b_next"):
            np.testing.assert_allclose(getattr(batched, name)[j], getattr(one, name), rtol=1e-10, atol=1e-14)
        assert bool(batched.converged[j]) == bool(one.converged)
    assert np.all(np.asarray(batched.converged)), batched.result


SHARD_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax, numpy as np
    import jaxecon
    from jaxecon.numerics import stack, sharded_vmap, shard_batch
    from jaxecon.models.specialization import one_industry_params, solve_equilibrium, Grid
    assert jax.device_count() == 4
    g = Grid(n_b=10, b_min=-0.4, b_max=0.8)
    ps = stack([one_industry_params(theta=t, n_z=3) for t in (0.01, 0.012, 0.015, 0.018, 0.02)])
    f = lambda p: solve_equilibrium(p, g, max_iter=300)
    ref = jax.jit(jax.vmap(f))(ps)
    got = sharded_vmap(f, ps)
    assert np.all(np.asarray(ref.converged))
    for name in ("c", "q", "eta", "b_next", "iterations"):
        np.testing.assert_allclose(np.asarray(getattr(got, name)), np.asarray(getattr(ref, name)), rtol=1e-9, atol=1e-12)
    print("SHARDED_OK")
    """
)


@pytest.mark.slow
def test_sharded_equals_unsharded():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", SHARD_SCRIPT], capture_output=True, text=True, env=env,
                         timeout=600, cwd=os.getcwd())
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED_OK" in out.stdout


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(gamma=0.0), "gamma"),
        (dict(gamma=-1.0), "gamma"),
        (dict(theta=-0.1), "theta"),
        (dict(theta=INF, beta=0.99, R_bar=1.02), "beta"),
        (dict(alpha=1.2), "alpha"),
        (dict(xi=(0.8, 0.1)), "alpha \\+ Params.xi"),
        (dict(phi=(-0.1, 0.1)), "phi"),
    ],
)
def test_invalid_params_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        two_industry_params(**kw)


def test_invalid_grids_and_shares_raise(two_small):
    with pytest.raises(ValueError, match="b_points"):
        Grid(b_points=(0.0, 1.0, 0.5))
    with pytest.raises(ValueError, match="b_max > b_min"):
        Grid(b_min=1.0, b_max=0.0)
    with pytest.raises(ValueError, match="k_points"):
        Grid(k_points=(0.1, 0.5, 1.2))
    with pytest.raises(ValueError, match="simplex"):
        simulate(two_small, jnp.zeros(2), jnp.array([[0.7, 0.6], [0.5, 0.5]]), key=jax.random.key(0), periods=3)
    with pytest.raises(ValueError, match="simplex"):
        simulate(two_small, jnp.zeros(1), jnp.array([[1.2, -0.2]]), key=jax.random.key(0), periods=3)
    with pytest.raises(ValueError, match="damping"):
        solve_equilibrium(two_industry_params(n_z=3), G2, damping=1.5)
    with pytest.raises(ValueError, match="chunk_size"):
        solve_equilibrium(two_industry_params(n_z=3), G2, chunk_size=0)
    with pytest.raises(ValueError, match="anderson"):
        solve_equilibrium(two_industry_params(n_z=3), G2, anderson=-1)
    with pytest.raises(ValueError, match="newton_sweep_iter"):
        solve_equilibrium(two_industry_params(n_z=3), G2, newton_sweep_iter=0)


def test_paper_theta_is_diagnosed_as_no_equilibrium():
    # the bond grid must reach the region where theta = 0.35 binds (-b'/R = 0.35 q is several units)
    sol = solve_equilibrium(two_industry_params(n_z=3, theta=0.35), Grid(n_b=12, n_k=5, b_min=-4.0, b_max=0.8),
                            max_iter=60)
    assert int(sol.n_no_equilibrium) > 0 and sol.result == RESULTS.no_equilibrium and not bool(sol.converged)
    assert np.all(np.asarray(sol.no_equilibrium).sum() == int(sol.n_no_equilibrium))
    assert "NO EQUILIBRIUM" in sol.summary()
    for name in ("c", "q", "eta", "b_next", "k_next"):
        assert np.all(np.isfinite(np.asarray(getattr(sol, name)))), name  # flagged, never NaN


def test_nonconvergence_and_narrow_grid_are_flagged():
    sol = solve_equilibrium(two_industry_params(n_z=3), G2, max_iter=3)
    assert not bool(sol.converged) and sol.result == RESULTS.max_steps_reached and int(sol.iterations) <= 4
    assert np.all(np.isfinite(np.asarray(sol.c)))
    narrow = solve_equilibrium(two_industry_params(n_z=3), Grid(n_b=12, n_k=5, b_min=-0.1, b_max=0.8), max_iter=300)
    assert float(narrow.share_b_low) > 0.05  # b' = -R theta q lies below the grid: reported
    assert narrow.result == RESULTS.grid_edge and not bool(narrow.converged) and "OFF THE GRID" in narrow.summary()


def test_npz_roundtrip(two_small, tmp_path):
    path = tmp_path / "sol.npz"
    two_small.to_npz(path)
    with np.load(path) as f:
        assert tuple(sorted(f.files)) == tuple(sorted(NPZ_KEYS))
        nb, nk, ns = 12, 5, 9
        assert f["c"].shape == (nb, nk, ns) and f["k_next"].shape == (nb, nk, ns, 2)
        assert f["b_grid"].shape == (nb,) and f["k_grid"].shape == (nk,) and f["z"].shape == (ns, 2)
        assert f["P"].shape == (ns, ns) and f["xi"].shape == (2,) and f["theta"].shape == ()
    back = EquilibriumSolution.from_npz(path)
    for name in ("c", "q", "eta", "b_next", "k_next"):
        np.testing.assert_array_equal(getattr(back, name), getattr(two_small, name))
    b = jnp.array([-0.2, 0.1, 0.33]); k = jnp.array([[0.3, 0.7], [0.5, 0.5], [0.81, 0.19]]); s = jnp.array([0, 4, 8])
    a1, a2 = policy_at(two_small, b, k, s), policy_at(back, b, k, s)
    np.testing.assert_allclose(a1["c"], a2["c"], rtol=1e-13)


def test_npz_one_industry_layout(one_inf, tmp_path):
    one_inf.to_npz(tmp_path / "one.npz")
    with np.load(tmp_path / "one.npz") as f:
        assert f["k_grid"].shape == (1,) and f["c"].shape == (40, 1, 3) and f["k_next"].shape == (40, 1, 3, 1)


def test_simulation_paths(two_small):
    n = 6
    k0 = jnp.stack([jnp.linspace(0.1, 0.9, n), 1 - jnp.linspace(0.1, 0.9, n)], 1)
    paths = simulate(two_small, jnp.zeros(n), k0, key=jax.random.key(1), periods=40)
    assert paths.b.shape == (n, 40) and paths.k.shape == (n, 40, 2)
    np.testing.assert_allclose(np.asarray(paths.k.sum(-1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(paths.gini[:, 0], np.abs(k0[:, 0] - k0[:, 1]) / 2, atol=1e-12)
    np.testing.assert_allclose(paths.b[:, 1:], paths.b_next[:, :-1])
    assert 0.0 < float(paths.binding.mean()) < 1.0
    common = simulate(two_small, jnp.zeros(n), k0, key=jax.random.key(1), periods=10, common_shocks=True)
    assert np.all(np.asarray(common.s) == np.asarray(common.s[0]))


@pytest.mark.slow
def test_consistent_allocation_accuracy_on_grids_of_the_default_size():
    """Issue 14's targets (mean log10 Euler errors of the consistent allocation <= -3.5 bond, -3.0
    capital) on the 40 x 15 default grid (measured -3.76 / -3.17 with b' interpolated net of output;
    -3.36 / -2.79 with b' interpolated directly) and on 20 x 30, the same number of nodes (-3.62 / -3.42)."""
    p = two_industry_params()
    for grid, bond, capital in ((Grid(), -3.5, -3.0), (Grid(n_b=20, n_k=30), -3.5, -3.0)):
        sol = solve_equilibrium(p, grid)
        assert bool(sol.converged), sol.summary()
        e = euler_errors(sol, jax.random.key(0), 20_000)
        assert e["bond"]["mean_log10"] <= bond and e["capital"]["mean_log10"] <= capital, (grid, e["bond"], e["capital"])
        assert e["collateral"]["max_log10"] < -10 and e["clearing"]["max_log10"] < -12


@pytest.mark.slow
def test_three_industries_symmetric_and_feasible():
    from jaxecon.models.specialization import three_industry_params

    p = three_industry_params()
    g = Grid(n_b=8, n_k=5, b_min=-0.35, b_max=0.8)
    sol = solve_equilibrium(p, g)
    assert bool(sol.converged), sol.summary()
    feas = np.asarray(sol.feasible)
    assert 0 < feas.mean() < 1  # corners with k_1 + k_2 > 1 - k_min are masked
    kn = np.asarray(sol.k_next)
    np.testing.assert_allclose(kn.sum(-1), 1.0, atol=1e-13)
    assert np.all(np.asarray(sol.eta) >= 0) and np.all(np.asarray(sol.c) > 0)
    # symmetric state: k = (1/3, 1/3, 1/3) is not on the grid, but k_1 <-> k_2 symmetry is
    z = np.asarray(p.z)
    swap = np.array([int(np.where(np.all(np.isclose(z, z[s][[1, 0, 2]]), axis=1))[0][0]) for s in range(z.shape[0])])
    k1, k2 = kn[..., 0], kn[..., 1]
    np.testing.assert_allclose(k1, np.transpose(k2, (0, 2, 1, 3))[..., swap], atol=1e-7)


def test_frictionless_counterfactual_with_ad_hoc_debt_limit():
    """θ = inf with Grid.debt_limit: b' >= b_min everywhere, binding exactly at b_min where it binds,
    the limit's multiplier >= 0 and zero where slack; with a finite θ the flag changes nothing."""
    g = Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8, debt_limit=True)
    sol = solve_equilibrium(two_industry_params(n_z=3, theta=INF), g)
    assert bool(sol.converged), sol.summary()
    bn, eta, binding = (np.asarray(a) for a in (sol.b_next, sol.eta, sol.binding))
    assert np.all(bn >= -0.35 - 1e-10)
    assert np.any(binding)  # impatient agents (beta R < 1) hit the limit somewhere
    assert np.all(eta >= 0.0) and np.all(eta[~binding] == 0.0)
    np.testing.assert_allclose(bn[binding], -0.35, atol=1e-10)
    finite = solve_equilibrium(two_industry_params(n_z=3), g)
    plain = solve_equilibrium(two_industry_params(n_z=3), G2)
    # the same equilibrium up to rounding (the two compiled programs may order operations differently)
    np.testing.assert_allclose(np.asarray(finite.c), np.asarray(plain.c), rtol=1e-12)


@pytest.mark.slow
def test_stalled_iteration_switches_to_full_solves_and_converges():
    """θ = inf on the 40 x 15 grid with ONE Newton step per sweep stalls (the sweep-to-sweep change
    stays far above tol); the stall guard switches to full per-node solves, which converge to the
    same equilibrium as the default two steps per sweep (which does not stall here). On the 20 x 30
    default grid the full solves after the switch cycle instead (change about 1.8 after 1000 sweeps)
    while the default two steps converge in 39 sweeps: the guard is a fallback, not a guarantee."""
    p = two_industry_params(theta=INF)
    g = Grid(n_b=40, n_k=15, debt_limit=True)
    guarded = solve_equilibrium(p, g, newton_sweep_iter=1)
    assert int(guarded.sweep_newton_steps) == 30 and "full solves" in guarded.summary()
    assert float(guarded.max_change) <= 1e-7  # the iteration itself converged after the switch
    two = solve_equilibrium(p, g)
    assert bool(two.converged) and int(two.sweep_newton_steps) == 2
    # where a node's full Newton solve still failed it is flagged (node_failure, counted), never hidden
    assert int(guarded.n_unsolved) <= 2 and (bool(guarded.converged) or guarded.result == RESULTS.node_failure)
    # every node agrees with the two-step solution except the (counted) unsolved ones
    for name in ("c", "q", "b_next"):
        a, b = np.asarray(getattr(guarded, name)), np.asarray(getattr(two, name))
        assert np.sum(~np.isclose(a, b, rtol=1e-6, atol=1e-7)) <= int(guarded.n_unsolved)


@pytest.mark.parametrize("case", ["one_inf_extrapolated", "two_binding_mix", "two_debt_limit", "three"])
def test_node_system_jacobian_matches_autodiff(case):
    """The hand-written Jacobian of the node equations equals jax.jacfwd of the residual, for I = 1,
    2, 3, both regimes, a finite θ, θ = inf with the ad hoc debt limit, and a bond axis extended
    linearly (random unknowns around the initial policies, random regimes)."""
    from jaxecon.models.specialization import system
    from jaxecon.models.specialization.equilibrium import _initial_policies, _x_from
    from jaxecon.models.specialization.grid import grid_states, policy_shape, state_axes
    from jaxecon.models.specialization.params import three_industry_params

    p, g = {
        "one_inf_extrapolated": (one_industry_params(**P1), Grid(n_b=12, b_min=-13.0, b_max=3.0, b_curvature=2.0,
                                                                 b_extrapolate=True)),
        "two_binding_mix": (two_industry_params(n_z=3), G2),
        "two_debt_limit": (two_industry_params(n_z=3, theta=INF), Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8,
                                                                         debt_limit=True)),
        "three": (three_industry_params(n_z=2), Grid(n_b=8, n_k=4)),
    }[case]
    I = p.n_industries
    b, k, s, _ = grid_states(g, I, p.n_states)
    c, q, _, _, kn, _ = _initial_policies(p, g)
    rng = np.random.default_rng(0)
    eta = jnp.asarray(rng.uniform(0.0, 0.1, c.shape))
    table = system.expected_tables(p, c, q, eta, kn, policy_shape(g, I, p.n_states))
    nodes = system.node_states(p, b, k, s)
    x = _x_from(c, q, kn) + jnp.asarray(rng.normal(0.0, 0.1, (c.shape[0], I + 1)))
    regime = jnp.asarray(rng.uniform(size=c.shape) < 0.5)
    axes = state_axes(g, I)
    args = (p, table, axes, g.b_extrapolate, g.debt_limit)
    r, J, _ = system.node_system([x[:, a] for a in range(I + 1)], nodes, regime, *args, jacobian=True)
    residual = lambda xv, node, reg: jnp.stack(system.node_system(list(xv), node, reg, *args)[0])
    auto = jax.vmap(jax.jacfwd(residual))(x, nodes, regime)
    J = jnp.stack([jnp.stack(row, axis=-1) for row in J], axis=-2)
    assert bool(jnp.all(jnp.isfinite(J)))
    np.testing.assert_allclose(J, auto, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(jnp.stack(r, axis=1), jax.vmap(residual)(x, nodes, regime), rtol=1e-14, atol=1e-14)


def test_solver_settings_are_validated_before_any_sweep():
    # each of these used to run (every sweep, one sweep, or a wrong 'no equilibrium' diagnosis)
    p = two_industry_params(n_z=3)
    for kw, word in ((dict(tol=-1.0), "tol"), (dict(max_iter=0), "max_iter"), (dict(newton_tol=-1.0), "newton_tol"),
                     (dict(damping=1.0), "damping"), (dict(n_halvings=-1), "n_halvings")):
        with pytest.raises(ValueError, match=word):
            solve_equilibrium(p, G2, **kw)


def test_paper_theta_on_the_default_bounds_says_its_policies_leave_the_grid():
    # theta = 0.35 with the default bond bounds: no state binds and b' runs off the bottom of the
    # grid everywhere; the solve says so (result and summary) instead of just hitting its cap
    sol = solve_equilibrium(two_industry_params(n_z=3, theta=0.35), Grid(n_b=12, n_k=5), max_iter=100)
    assert sol.result == RESULTS.grid_edge and not bool(sol.converged)
    assert float(sol.share_off_grid) > 0.5 and "OFF THE GRID" in sol.summary()


@pytest.mark.slow
def test_the_two_grid_shapes_agree_and_the_default_has_the_smaller_policy_errors():
    """20 x 30 and the 40 x 15 default (the same number of nodes) describe the same equilibrium
    (their consistent allocations agree to about 1e-3), and against a 61 x 45 solve on a bond grid
    that shares no interior point with either, the default's c, q and b' are the closer: why the
    default keeps its bond points although 20 x 30 has the smaller Euler errors."""
    from jaxecon.models.specialization import allocation_at, random_states

    p = two_industry_params()
    wide, default, fine = (solve_equilibrium(p, g) for g in (Grid(n_b=20, n_k=30), Grid(),
                                                              Grid(n_b=61, n_k=45, b_curvature=1.3)))
    assert all(bool(s.converged) for s in (wide, default, fine))
    b, k, s = random_states(default, jax.random.key(3), 4000)
    a_wide, a_def, a_fine = (allocation_at(sol, b, k, s) for sol in (wide, default, fine))
    for key, med in (("c", 5e-3), ("q", 2e-2), ("b_next", 1e-2)):
        rel = lambda x, y: np.abs(np.asarray(x[key]) - np.asarray(y[key])) / (1 + np.abs(np.asarray(y[key])))
        assert np.median(rel(a_wide, a_def)) < med, key
        assert np.median(rel(a_def, a_fine)) < np.median(rel(a_wide, a_fine)), key
