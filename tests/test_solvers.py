"""Batched Newton and the implicitly differentiated fixed point."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.numerics import anderson_init, anderson_step, fixed_point, newton, newton_soa, solve_small, solve_small_soa


def test_newton_scalar_batch_under_vmap():
    a = jnp.array([8.0, 27.0, -1.0, 1e-3])
    res = jax.jit(jax.vmap(lambda a: newton(lambda x, a: x**3 - a, 1.0, (a,), tol=1e-14)))(a)
    np.testing.assert_allclose(res.x, np.cbrt(np.asarray(a)), rtol=1e-9)
    assert bool(jnp.all(res.converged))
    assert res.residual.shape == (4,)


def test_newton_system_and_line_search():
    # circle x^2 + y^2 = 4 meets y = 1 - e^x at a known point near (1.0042, -1.7296)
    def f(x):
        return jnp.array([x[0] ** 2 + x[1] ** 2 - 4.0, jnp.exp(x[0]) + x[1] - 1.0])

    res = newton(f, jnp.array([2.0, -2.0]), tol=1e-12, max_iter=100)
    assert bool(res.converged)
    x = np.asarray(res.x)
    np.testing.assert_allclose(x[0] ** 2 + x[1] ** 2, 4.0, atol=1e-11)
    np.testing.assert_allclose(np.exp(x[0]) + x[1], 1.0, atol=1e-11)
    np.testing.assert_allclose(x, [1.00416873, -1.72963728], atol=1e-7)
    res2 = newton(lambda x: jnp.arctan(x), 10.0)  # plain Newton diverges from 10
    assert bool(res2.converged) and abs(float(res2.x)) < 1e-10


def test_newton_flags_unsolvable_problems():
    res = jax.vmap(lambda c: newton(lambda x, c: x**2 + c, 0.5, (c,), max_iter=30))(jnp.array([-4.0, 1.0]))
    np.testing.assert_array_equal(res.converged, [True, False])
    np.testing.assert_allclose(res.x[0], 2.0)
    assert float(res.residual[1]) >= 0.5  # x^2 + 1 >= 1 everywhere; never a silent NaN
    assert np.all(np.isfinite(np.asarray(res.x)))


def test_newton_aux_is_evaluated_at_the_root_and_steps_are_bounded():
    # f(x) = x^3 - a with aux = (x^2, a): the aux returned must be that of the returned root
    a = jnp.array([8.0, 1e3])
    res = jax.vmap(lambda a: newton(lambda x, a: (x**3 - a, (x**2, a)), 1.0, (a,), tol=1e-13, has_aux=True))(a)
    np.testing.assert_allclose(res.x, np.cbrt(np.asarray(a)), rtol=1e-12)
    np.testing.assert_allclose(res.aux[0], np.asarray(res.x) ** 2, rtol=1e-14)
    np.testing.assert_array_equal(res.aux[1], a)
    # max_step bounds every step: reaching x = 10 from 1 with steps <= 0.5 takes at least 18 steps
    bounded = newton(lambda x: x - 10.0, 1.0, tol=1e-12, max_step=0.5)
    assert bool(bounded.converged) and int(bounded.iterations) == 18
    # a start that already solves the system takes no step (and its aux is that start's)
    zero = newton(lambda x: (x - 2.0, x + 1.0), 2.0, has_aux=True)
    assert int(zero.iterations) == 0 and float(zero.aux) == 3.0 and bool(zero.converged)
    with pytest.raises(ValueError, match="max_step"):
        newton(lambda x: x, 1.0, max_step=0.0)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_solve_small_agrees_with_lapack_and_flags_singular_systems(m):
    rng = np.random.default_rng(m)
    A = rng.normal(size=(500, m, m)) + 3.0 * np.eye(m)  # well conditioned
    b = rng.normal(size=(500, m))
    got = jax.vmap(solve_small)(jnp.asarray(A), jnp.asarray(b))
    np.testing.assert_allclose(got, np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-10, atol=1e-12)
    singular = np.ones((m, m)) if m > 1 else np.zeros((1, 1))
    if m <= 3:  # Cramer's rule: det = 0 gives non-finite values, which newton() refuses as a step
        assert not np.all(np.isfinite(np.asarray(solve_small(jnp.asarray(singular), jnp.ones(m)))))


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_solve_small_soa_agrees_with_lapack(m):
    rng = np.random.default_rng(10 + m)
    A = rng.normal(size=(500, m, m)) + 3.0 * np.eye(m)
    b = rng.normal(size=(500, m))
    got = solve_small_soa([[jnp.asarray(A[:, i, j]) for j in range(m)] for i in range(m)],
                          [jnp.asarray(b[:, i]) for i in range(m)])
    np.testing.assert_allclose(np.stack(got, axis=1), np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-10, atol=1e-12)


def _circle_system(shift):
    """x^2 + y^2 = 4 and e^x + y = 1 + shift, per element, with the analytic Jacobian and an aux."""

    def system(x, jacobian):
        f = [x[0] ** 2 + x[1] ** 2 - 4.0, jnp.exp(x[0]) + x[1] - 1.0 - shift]
        aux = (x[0] + x[1],)
        if not jacobian:
            return f, aux
        J = [[2.0 * x[0], 2.0 * x[1]], [jnp.exp(x[0]), jnp.ones_like(x[1])]]
        return f, J, aux

    return system


def test_newton_soa_matches_vmapped_newton_element_by_element():
    # same steps, line search, bounds and per-element stopping as vmap(newton) with jacfwd:
    # iterates, iteration counts and convergence flags agree element by element, from starts that
    # need halvings (the [2, -2] start), bounded steps, and an element with no root (shift = 10)
    shift = jnp.array([0.0, 0.3, -0.5, 10.0, 0.1])
    x0 = jnp.array([[2.0, -2.0], [1.0, -1.5], [0.5, -1.0], [1.0, 1.0], [1.00416873, -1.72963728 + 0.1]])
    kw = dict(tol=1e-12, max_iter=40, n_halvings=5, max_step=1.5)
    soa = newton_soa(_circle_system(shift), [x0[:, 0], x0[:, 1]], **kw)

    def one(x, sh):
        f = lambda x_: jnp.stack(_circle_system(sh)([x_[0], x_[1]], False)[0])
        return newton(lambda x_: (f(x_), x_[0] + x_[1]), x, has_aux=True, **kw)

    ref = jax.vmap(one)(x0, shift)
    np.testing.assert_allclose(np.stack(soa.x, axis=1), ref.x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(soa.iterations, ref.iterations)
    np.testing.assert_array_equal(soa.converged, ref.converged)
    np.testing.assert_array_equal(soa.converged, [True, True, True, False, True])
    np.testing.assert_allclose(soa.aux[0], soa.x[0] + soa.x[1], rtol=1e-14)  # aux at the returned x
    assert float(soa.residual[3]) > 1e-3 and np.all(np.isfinite(np.asarray(soa.x[0])))
    # one step only: every element has taken exactly one step (none was solved at its start)
    one_step = newton_soa(_circle_system(shift), [x0[:, 0], x0[:, 1]], **{**kw, "max_iter": 1})
    np.testing.assert_array_equal(one_step.iterations, 1)
    with pytest.raises(ValueError, match="max_step"):
        newton_soa(_circle_system(shift), [x0[:, 0], x0[:, 1]], max_step=0.0)


def test_anderson_solves_a_linear_contraction_in_far_fewer_steps():
    # x = A x + b with spectral radius 0.97: plain iteration needs ~800 steps to 1e-10; Anderson(5)
    # must reach the np.linalg.solve answer in under 60, and a restart every step is plain iteration
    rng = np.random.default_rng(0)
    n = 30
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    A = Q @ np.diag(rng.uniform(0.5, 0.97, n)) @ Q.T
    b = rng.normal(size=n)
    x_star = np.linalg.solve(np.eye(n) - A, b)
    step = jax.jit(lambda st, x, restart: anderson_step(st, x, A @ x + b, restart=restart))

    def run(restart, n_max):
        x, st = jnp.zeros(n), anderson_init(jnp.zeros(n), 5)
        for it in range(n_max):
            if np.max(np.abs(A @ x + b - x)) < 1e-10:
                return it, x
            x, st = step(st, x, restart)
        return n_max, x

    it_aa, x_aa = run(False, 200)
    assert it_aa < 60
    np.testing.assert_allclose(x_aa, x_star, atol=1e-8)
    # the Gram matrix kept row by row equals ΔFᵀΔF of the ring buffer after it has wrapped around
    x, st = jnp.zeros(n), anderson_init(jnp.zeros(n), 5)
    for _ in range(8):
        x, st = step(st, x, False)
    np.testing.assert_allclose(st.gram, st.df @ st.df.T, rtol=1e-10, atol=1e-14)
    it_plain, x_plain = run(True, 60)
    assert it_plain == 60  # restarting every step is the plain (slow) iteration: x_60 = sum_{j<60} A^j b
    x_ref = np.zeros(n)
    for _ in range(60):
        x_ref = A @ x_ref + b
    np.testing.assert_allclose(x_plain, x_ref, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="memory"):
        anderson_init(jnp.zeros(3), 0)


def test_fixed_point_value_and_diagnostics():
    res = fixed_point(lambda x, a: a * jnp.cos(x), 0.5, 1.0, tol=1e-12)
    np.testing.assert_allclose(res.value, 0.7390851332151607, rtol=1e-11)
    assert bool(res.converged) and float(res.residual) <= 1e-12 and int(res.iterations) > 10


def test_fixed_point_gradient_matches_finite_differences():
    # 30-dimensional contraction with parameters theta; gradient of a scalar of x*(theta)
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(30, 30)) * 0.05)

    def f(x, theta):
        return jnp.tanh(A @ x) + theta

    @jax.jit
    def loss(theta):
        return jnp.sum(fixed_point(f, jnp.zeros(30), theta, tol=1e-13, max_iter=500).value ** 2)

    theta = jnp.asarray(rng.normal(size=30))
    g = jax.grad(loss)(theta)
    eps = 1e-6
    fd = np.array([(loss(theta.at[i].add(eps)) - loss(theta.at[i].add(-eps))) / (2 * eps) for i in range(5)])
    np.testing.assert_allclose(g[:5], fd, rtol=1e-6, atol=1e-8)


def test_damping_rescues_an_oscillating_map_and_nonconvergence_is_flagged():
    f = lambda x, a: -1.5 * x + a  # slope -1.5: undamped iteration diverges
    bad = fixed_point(f, 0.0, 1.0, max_iter=50)
    assert not bool(bad.converged)
    good = fixed_point(f, 0.0, 1.0, damping=0.5, tol=1e-12)
    assert bool(good.converged)
    np.testing.assert_allclose(good.value, 0.4, rtol=1e-10)
    with pytest.raises(ValueError, match="damping"):
        fixed_point(f, 0.0, 1.0, damping=1.5)


def test_fixed_point_vmaps_over_parameters():
    # x = a cos x contracts for a = 0.5, 0.8, 1.1 but not for a = 1.5 (slope -a sin x* < -1):
    # that element alone must be flagged, the others solved
    a = jnp.array([0.5, 0.8, 1.1, 1.5])
    res = jax.vmap(lambda a: fixed_point(lambda x, a: a * jnp.cos(x), 0.5, a, tol=1e-12, max_iter=400))(a)
    np.testing.assert_array_equal(res.converged, [True, True, True, False])
    ok = np.asarray(res.converged)
    np.testing.assert_allclose(res.value[ok], (a * jnp.cos(res.value))[ok], atol=1e-11)
