"""The time-iteration engine (numerics.time_iteration), its implicit gradients, and the ergodic
distribution with lottery weights (numerics.lottery) as the specialization and Bianchi (2011)
models use them.

Independent references: central finite differences of two tight solves (gradients), a linear
fixed point with a closed-form solution and derivative (the engine itself), and a dense transition
matrix built node by node in NumPy whose eigenvector is the stationary distribution.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import overborrowing as ob
from jaxecon.models.specialization import Grid, solve_equilibrium, two_industry_params
from jaxecon.models.specialization.ergodic import ergodic_distribution, ergodic_moments
from jaxecon.numerics import stack
from jaxecon.numerics.lottery import lottery, push_forward
from jaxecon.numerics.time_iteration import (RESULTS, SweepInfo, TimeIteration, TimeIterationProblem,
                                             solve_time_iteration)

GRID = Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8)
TIGHT = dict(tol=1e-13, newton_tol=1e-13)
H = 2e-6  # central-difference step (truncation error ~1e-7 relative here, round-off ~1e-8)


# ------------------------------------------------------------------------------------- the engine
class _Linear(TimeIterationProblem):
    """x = A x + b(p): a contraction with the closed form x* = (I − A)⁻¹ b."""

    A: jax.Array
    b: jax.Array

    def sweep(self, policy, carry, steps, final):
        return self.A @ policy + self.b, carry, SweepInfo(jnp.asarray(False), RESULTS.successful, ())

    def change(self, new, old):
        return jnp.max(jnp.abs(new - old))

    def residual(self, policy, carry):
        return policy - self.A @ policy - self.b


def _linear(scale=1.0):
    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (6, 6))
    A = 0.8 * A / A.sum(1, keepdims=True)
    return _Linear(A=jnp.asarray(A), b=jnp.asarray(rng.normal(size=6)) * scale)


def test_engine_solves_and_differentiates_a_linear_fixed_point():
    prob = _linear()
    exact = np.linalg.solve(np.eye(6) - np.asarray(prob.A), np.asarray(prob.b))
    sol = solve_time_iteration(TimeIteration(tol=1e-13, max_iter=500), prob, jnp.zeros(6), None)
    assert sol.result == RESULTS.successful and bool(sol.converged)
    np.testing.assert_allclose(sol.policy, exact, atol=1e-12)
    # d sum(x*)/db = (I − A)⁻ᵀ 1, through the implicit adjoint (reverse mode)
    g = jax.grad(lambda b: jnp.sum(solve_time_iteration(TimeIteration(tol=1e-13, max_iter=500),
                                                        eqx.tree_at(lambda p: p.b, prob, b), jnp.zeros(6),
                                                        None).policy))(prob.b)
    np.testing.assert_allclose(g, np.linalg.solve((np.eye(6) - np.asarray(prob.A)).T, np.ones(6)), rtol=1e-9)


def test_engine_damping_is_the_weight_on_the_old_iterate_and_caps_are_reported():
    prob = _linear()
    one = solve_time_iteration(TimeIteration(tol=1e-13, max_iter=1, damping=0.25), prob, jnp.zeros(6), None)
    # a single sweep is the final (undamped) one
    np.testing.assert_allclose(one.policy, prob.b, atol=0)
    two = solve_time_iteration(TimeIteration(tol=1e-13, max_iter=2, damping=0.25), prob, jnp.zeros(6), None)
    # the first sweep is damped, the second (the last allowed) is final and undamped
    np.testing.assert_allclose(two.policy, prob.A @ (0.75 * prob.b) + prob.b, atol=1e-15)
    assert two.result == RESULTS.max_steps_reached and not bool(two.converged)
    heavy = solve_time_iteration(TimeIteration(tol=1e-12, max_iter=2000, damping=0.9), prob, jnp.zeros(6), None)
    light = solve_time_iteration(TimeIteration(tol=1e-12, max_iter=2000, damping=0.0), prob, jnp.zeros(6), None)
    assert int(heavy.iterations) > 3 * int(light.iterations)
    for bad in (dict(damping=1.0), dict(damping=-0.1), dict(tol=0.0), dict(max_iter=0), dict(anderson=-1)):
        with pytest.raises(ValueError):
            TimeIteration(**bad)


class _Reporting(_Linear):
    """The linear contraction, reporting no equilibrium while ``carry`` (a sweep counter) is below
    ``until``; with ``stuck`` its change never falls (a sweep returns the old iterate rotated)."""

    until: int = eqx.field(static=True, default=10**9)
    stuck: bool = eqx.field(static=True, default=False)

    def sweep(self, policy, carry, steps, final):
        new = jnp.roll(policy, 1) if self.stuck else self.A @ policy + self.b
        status = RESULTS.where(carry < self.until, RESULTS.no_equilibrium, RESULTS.successful)
        return new, carry + 1, SweepInfo(jnp.asarray(False), status, ())


def test_engine_gives_up_on_persistent_no_equilibrium_only():
    base = _linear()
    x0 = jnp.arange(6.0)
    # stuck and reporting no equilibrium: stops after fail_patience sweeps without a new lowest change
    stuck = _Reporting(A=base.A, b=base.b, stuck=True)
    sol = solve_time_iteration(TimeIteration(tol=1e-12, max_iter=1000, fail_patience=7), stuck, x0, jnp.asarray(0))
    assert sol.result == RESULTS.no_equilibrium
    assert int(sol.iterations) == 8  # the first sweep sets the lowest change, then 7 that do not
    off = solve_time_iteration(TimeIteration(tol=1e-12, max_iter=200, fail_patience=0), stuck, x0, jnp.asarray(0))
    assert int(off.iterations) == 200 and off.result == RESULTS.no_equilibrium
    # reporting no equilibrium for 40 sweeps while the change keeps falling: never given up, converges
    early = _Reporting(A=base.A, b=base.b, until=40)
    sol = solve_time_iteration(TimeIteration(tol=1e-13, max_iter=500, fail_patience=5), early, jnp.zeros(6), jnp.asarray(0))
    assert sol.result == RESULTS.successful and int(sol.iterations) > 40
    with pytest.raises(ValueError, match="fail_patience"):
        TimeIteration(fail_patience=-1)


def test_engine_nonconverged_gradient_is_nan_not_a_number():
    prob = _linear()
    g = jax.grad(lambda b: jnp.sum(solve_time_iteration(TimeIteration(tol=1e-13, max_iter=3),
                                                        eqx.tree_at(lambda p: p.b, prob, b), jnp.zeros(6),
                                                        None).policy))(prob.b)
    assert np.all(np.isnan(np.asarray(g)))


# --------------------------------------------------------------------- specialization gradients
def _functionals(beta, theta, xi1, base):
    p = eqx.tree_at(lambda q: (q.beta, q.theta, q.xi), base, (beta, theta, base.xi.at[0].set(xi1)))
    sol = solve_equilibrium(p, GRID, **TIGHT)
    mom = ergodic_moments(sol)
    return jnp.stack([jnp.mean(sol.q), mom.debt_output, mom.gini])


@pytest.fixture(scope="module")
def base():
    return two_industry_params(n_z=3)


@pytest.mark.slow  # compiles the solve's JVP/VJP (about 40 s each on 2 cores)
def test_specialization_gradients_equal_finite_differences(base):
    x0 = (base.beta, base.theta, base.xi[0])
    jac = jax.jacfwd(_functionals, argnums=(0, 1, 2))(*x0, base)
    for a in range(3):
        up = list(x0)
        dn = list(x0)
        up[a] = up[a] + H
        dn[a] = dn[a] - H
        fd = (np.asarray(_functionals(*up, base)) - np.asarray(_functionals(*dn, base))) / (2 * H)
        np.testing.assert_allclose(np.asarray(jac[a]), fd, rtol=1e-5, err_msg=f"argument {a}")
    # reverse mode gives the same numbers as forward mode
    g = jax.grad(lambda b: _functionals(b, x0[1], x0[2], base)[1])(x0[0])
    np.testing.assert_allclose(float(g), float(jac[0][1]), rtol=1e-8)


@pytest.mark.slow  # compiles the solve's JVP/VJP (about 40 s each on 2 cores)
def test_specialization_gradients_batched_equal_separate(base):
    betas = jnp.array([0.94, 0.95])
    ps = stack([eqx.tree_at(lambda q: q.beta, base, b) for b in betas])

    def loss(p):
        return ergodic_moments(solve_equilibrium(p, GRID, **TIGHT)).debt_output

    batched = jax.vmap(jax.grad(loss))(ps)
    for j, b in enumerate(betas):
        one = jax.grad(loss)(eqx.tree_at(lambda q: q.beta, base, b))
        for name in ("beta", "theta", "xi", "z", "P"):
            np.testing.assert_allclose(np.asarray(getattr(batched, name))[j], np.asarray(getattr(one, name)),
                                       rtol=1e-7, atol=1e-12, err_msg=name)


def test_specialization_nonconverged_gradient_is_nan_with_its_flag(base):
    def mean_q(beta):
        sol = solve_equilibrium(eqx.tree_at(lambda q: q.beta, base, beta), GRID, max_iter=3)
        return jnp.mean(sol.q), sol

    g, sol = jax.grad(mean_q, has_aux=True)(base.beta)
    assert not bool(sol.converged) and sol.result == RESULTS.max_steps_reached
    assert np.isnan(float(g))


# --------------------------------------------------------------------------- Bianchi gradients
@pytest.mark.parametrize("planner", [False, True])
def test_bianchi_gradient_in_kappa_equals_finite_differences(planner):
    p = ob.bianchi2011_params(chain=ob.synthetic_income_chain())
    grid = ob.bond_grid(60)
    solve = ob.solve_planner if planner else ob.solve_equilibrium

    def mean_debt(kappa):
        return jnp.mean(solve(eqx.tree_at(lambda a: a.kappa, p, kappa), grid, tol=1e-13, max_iter=5000).b_next)

    g = jax.grad(mean_debt)(p.kappa)
    fd = (mean_debt(p.kappa + H) - mean_debt(p.kappa - H)) / (2 * H)
    np.testing.assert_allclose(float(g), float(fd), rtol=1e-5)


# ------------------------------------------------------------------------ ergodic distribution
def _dense_transition(sol):
    """The lottery transition matrix built node by node in NumPy (bilinear weights in (b', k'_1))."""
    b_pts = np.asarray(sol.axes[0].points)
    k_pts = np.asarray(sol.axes[1].points)
    P = np.asarray(sol.params.P)
    nb, nk, ns = sol.c.shape
    bn, kn = np.asarray(sol.b_next), np.asarray(sol.k_next)[..., 0]

    def cell(pts, x):
        i = int(np.clip(np.searchsorted(pts, x) - 1, 0, len(pts) - 2))
        t = float(np.clip((x - pts[i]) / (pts[i + 1] - pts[i]), 0.0, 1.0))
        return i, t

    T = np.zeros((nb * nk * ns, nb * nk * ns))
    for ib in range(nb):
        for ik in range(nk):
            for s in range(ns):
                i, t = cell(b_pts, bn[ib, ik, s])
                j, u = cell(k_pts, kn[ib, ik, s])
                src = (ib * nk + ik) * ns + s
                for di, wi in ((0, 1 - t), (1, t)):
                    for dj, wj in ((0, 1 - u), (1, u)):
                        for s2 in range(ns):
                            T[src, ((i + di) * nk + (j + dj)) * ns + s2] += wi * wj * P[s, s2]
    return T


def test_ergodic_distribution_is_the_dense_chains_eigenvector(base):
    sol = solve_equilibrium(base, GRID)
    dist = ergodic_distribution(sol)
    assert bool(dist.converged)
    T = _dense_transition(sol)
    np.testing.assert_allclose(T.sum(1), 1.0, atol=1e-12)
    w, v = np.linalg.eig(T.T)
    ref = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    ref = ref / ref.sum()
    np.testing.assert_allclose(np.asarray(dist.dist), ref, atol=1e-10)
    # one push-forward is the dense product
    x = np.random.default_rng(1).uniform(size=T.shape[0])
    I = sol.n_industries
    lot = lottery(sol.axes, [sol.b_next.reshape(-1)] + [sol.k_next[..., j].reshape(-1) for j in range(I - 1)],
                  sol.params.P)
    np.testing.assert_allclose(np.asarray(push_forward(jnp.asarray(x), lot)), T.T @ x, rtol=1e-12)
    # the moments are those weighted means
    mom = ergodic_moments(sol, dist)
    np.testing.assert_allclose(float(mom.q), float(np.sum(ref * np.asarray(sol.q).reshape(-1))), rtol=1e-9)
    assert 0.0 <= float(mom.binding_frequency) <= 1.0 and 0.0 <= float(mom.gini) <= 0.5
