"""Multilinear interpolation: exactness, agreement with scipy, clamping, gradients, bad grids."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.interpolate import RegularGridInterpolator

import jaxecon  # noqa: F401
from jaxecon.numerics import Interpolator, interp_grad, interp_multilinear, points_axis, power_axis, uniform_axis


def _axes(d):
    return [uniform_axis(-1.0, 2.0, 7), power_axis(0.0, 3.0, 9, 2.5), points_axis(np.array([0.0, 0.1, 0.5, 0.6, 2.0]))][:d]


@pytest.mark.parametrize("d", [1, 2, 3])
def test_exact_on_multilinear_functions(d):
    axes = _axes(d)
    mesh = np.meshgrid(*[np.asarray(a.points) for a in axes], indexing="ij")
    coef = np.arange(1, 2**d + 1, dtype=float)

    def f(*xs):
        out = 0.0
        for corner in range(2**d):
            term = coef[corner]
            for k in range(d):
                if (corner >> k) & 1:
                    term = term * xs[k]
            out = out + term
        return out

    values = f(*mesh)
    rng = np.random.default_rng(0)
    lo = np.array([a.points[0] for a in axes])
    hi = np.array([a.points[-1] for a in axes])
    x = lo + (hi - lo) * rng.uniform(size=(200, d))
    got = interp_multilinear(axes, jnp.asarray(values), jnp.asarray(x))
    np.testing.assert_allclose(got, f(*x.T), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_agrees_with_scipy_regular_grid_interpolator(d):
    axes = _axes(d)
    rng = np.random.default_rng(1)
    values = rng.normal(size=tuple(a.n for a in axes) + (2,))  # two trailing value columns
    lo = np.array([a.points[0] for a in axes])
    hi = np.array([a.points[-1] for a in axes])
    x = lo + (hi - lo) * rng.uniform(size=(5, 11, d))  # batched query shape
    ref = RegularGridInterpolator([np.asarray(a.points) for a in axes], values)(x.reshape(-1, d)).reshape(5, 11, 2)
    got = interp_multilinear(axes, jnp.asarray(values), jnp.asarray(x))
    assert got.shape == (5, 11, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_outside_grid_clamps_or_extrapolates():
    ax = [uniform_axis(0.0, 1.0, 3)]
    v = jnp.array([0.0, 1.0, 4.0])
    np.testing.assert_allclose(interp_multilinear(ax, v, jnp.array([[-1.0], [2.0]])), [0.0, 4.0])
    np.testing.assert_allclose(
        interp_multilinear(ax, v, jnp.array([[-1.0], [2.0]]), extrapolate=True), [-2.0, 10.0]
    )


def test_differentiable_in_query_and_values():
    axes = _axes(2)
    X, Y = jnp.meshgrid(axes[0].points, axes[1].points, indexing="ij")
    itp = Interpolator(tuple(axes), 2.0 * X + 3.0 * Y + X * Y)
    g = jax.grad(lambda p: itp(p))(jnp.array([0.3, 1.7]))
    np.testing.assert_allclose(g, [2.0 + 1.7, 3.0 + 0.3], rtol=1e-10)
    gv = jax.grad(lambda v: interp_multilinear(tuple(axes), v, jnp.array([0.3, 1.7])))(jnp.zeros(X.shape))
    np.testing.assert_allclose(gv.sum(), 1.0)  # weights sum to one


def test_jit_and_vmap():
    ax = (uniform_axis(0.0, 1.0, 5),)
    vals = jnp.stack([jnp.linspace(0, 1, 5), jnp.linspace(0, 2, 5)])  # two value sets
    f = jax.jit(jax.vmap(lambda v: interp_multilinear(ax, v, jnp.array([[0.25]]))))
    np.testing.assert_allclose(f(vals)[:, 0], [0.25, 0.5])


def test_bad_grids():
    with pytest.raises(ValueError, match="increasing"):
        points_axis(np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError):
        uniform_axis(1.0, 0.0, 5)
    with pytest.raises(ValueError):
        uniform_axis(0.0, 1.0, 1)
    with pytest.raises(ValueError, match="does not match"):
        interp_multilinear([uniform_axis(0, 1, 4)], jnp.zeros(5), jnp.zeros((1, 1)))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_interp_grad_matches_autodiff_of_interp_multilinear(d):
    # values and slopes of the struct-of-arrays interpolant against jax.jacfwd of interp_multilinear,
    # at points inside the box, beyond it (clamped: zero slope) and, with extrapolate, beyond it
    # along the first axis (linear extension: the boundary cell's slope); a tail index picks a state
    rng = np.random.default_rng(d)
    axes = (power_axis(-1.0, 2.0, 9, 2.0), uniform_axis(0.1, 0.9, 6), points_axis(np.array([0.0, 0.2, 0.7, 1.0])))[:d]
    n_s, n_cols = 4, 3
    table = jnp.asarray(rng.normal(size=tuple(a.n for a in axes) + (n_s, n_cols)))
    lo = np.array([float(a.points[0]) for a in axes])
    hi = np.array([float(a.points[-1]) for a in axes])
    pts = rng.uniform(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo), size=(200, d))
    s = rng.integers(0, n_s, size=200)
    for ext in (False, (True,) + (False,) * (d - 1)):
        value, grad = interp_grad(axes, table, [jnp.asarray(pts[:, k]) for k in range(d)], extrapolate=ext,
                                  tail=(jnp.asarray(s),))
        assert value.shape == (200, n_cols) and len(grad) == d
        ref = lambda x, s_: _reference(axes, jnp.take(table, s_, axis=d), x, ext)
        np.testing.assert_allclose(value, jax.vmap(ref)(jnp.asarray(pts), jnp.asarray(s)), rtol=1e-12, atol=1e-12)
        J = jax.vmap(jax.jacfwd(ref))(jnp.asarray(pts), jnp.asarray(s))  # (200, n_cols, d)
        np.testing.assert_allclose(jnp.stack(grad, axis=-1), J, rtol=1e-10, atol=1e-10)
        inside = np.all((pts > lo) & (pts < hi), axis=1)
        assert inside.sum() > 20 and (~inside).sum() > 20  # both cases were exercised
    with pytest.raises(ValueError, match="coordinate arrays"):
        interp_grad(axes, table, [jnp.asarray(pts[:, 0])] * (d + 1), tail=(jnp.asarray(s),))
    with pytest.raises(ValueError, match="does not match"):
        interp_grad(axes, table[1:], [jnp.asarray(pts[:, k]) for k in range(d)], tail=(jnp.asarray(s),))


def _reference(axes, values, x, ext):
    """interp_multilinear with per-axis extrapolation: clamp by hand the axes that do not extrapolate."""
    if ext is False:
        return interp_multilinear(axes, values, x)
    lo = jnp.array([float(a.points[0]) for a in axes])
    hi = jnp.array([float(a.points[-1]) for a in axes])
    clamped = jnp.where(jnp.array(ext), x, jnp.clip(x, lo, hi))
    return interp_multilinear(axes, values, clamped, extrapolate=True)


def test_cell_index_is_computed_once_and_exactly():
    # Axis.locate ends its index computation with an exact identity built on a square root
    # (numerics.interp._computed_once) so that XLA stores the index once instead of re-fusing the
    # locating compares into every gather that uses it
    from jaxecon.numerics.interp import _computed_once

    i = jnp.arange(2**22, dtype=jnp.int32)
    np.testing.assert_array_equal(jax.jit(_computed_once)(i), i)
    # on a 40-point power axis, 4 corner gathers of 7 columns plus the point gathers used to carry
    # the 38 compares each; now the compares live in one fusion outside the gathers
    ax = (power_axis(-1.0, 2.0, 40, 1.6), uniform_axis(0.1, 0.9, 15))
    table = jnp.ones((40, 15, 25, 7))
    f = jax.jit(lambda b, k, s: interp_grad(ax, table, [jnp.exp(b) - 1.0, k], tail=(s,))[0])
    x = jnp.linspace(0.0, 1.0, 1000)
    hlo = f.lower(x, x, jnp.zeros(1000, jnp.int32)).compile().as_text()
    gathers = [c for c in hlo.split("\n\n") if " gather(" in c]
    assert gathers and max(c.count("direction=GE") for c in gathers) <= 4
