"""Markov chains: AR(1) moments, Kronecker products, drift lotteries, simulation, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401  (enables float64)
from jaxecon.numerics import (
    MarkovChain,
    chain_moments,
    drift_chain,
    product_chain,
    rouwenhorst,
    simulate_indices,
    stationary_distribution,
    tauchen,
)

RHO, SIGMA = 0.9, 0.05
VAR = SIGMA**2 / (1 - RHO**2)


def test_float64_enabled():
    assert tauchen(5, RHO, SIGMA).P.dtype == jnp.float64


@pytest.mark.parametrize("n", [3, 7, 25])
def test_rouwenhorst_matches_ar1_exactly(n):
    mean, var, ac = chain_moments(rouwenhorst(n, RHO, SIGMA, mu=0.3))
    np.testing.assert_allclose([mean, var, ac], [0.3, VAR, RHO], rtol=1e-10, atol=1e-12)


def test_tauchen_moments_improve_with_n():
    """Tauchen's errors in variance and autocorrelation are 'the usual discretization error' and shrink with n."""
    errs = []
    for n in (5, 11, 25, 51):
        mean, var, ac = chain_moments(tauchen(n, RHO, SIGMA, m=3))
        assert abs(mean) < 1e-12  # symmetric chain
        errs.append((abs(var / VAR - 1), abs(ac - RHO)))
    errs = np.array(errs)
    assert errs[-1, 0] < 0.05 and errs[-1, 1] < 0.01
    assert np.all(np.diff(errs[:, 0]) < 0)  # variance error falls monotonically
    assert errs[-1, 1] < errs[0, 1]


def test_chains_are_stochastic():
    for c in (tauchen(9, 0.5, 1.0), rouwenhorst(9, -0.4, 0.2)):
        np.testing.assert_allclose(c.P.sum(axis=1), 1.0, atol=1e-12)
        assert np.all(np.asarray(c.P) >= 0)


def test_product_chain_has_product_stationary_law():
    a = tauchen(4, 0.8, 0.1)
    b = rouwenhorst(3, 0.3, 0.2)
    c = rouwenhorst(2, 0.5, 0.1)
    pc = product_chain(a, b, c)
    assert pc.values.shape == (24, 3) and pc.P.shape == (24, 24)
    expected = np.kron(np.kron(stationary_distribution(a), stationary_distribution(b)), stationary_distribution(c))
    np.testing.assert_allclose(stationary_distribution(pc), expected, atol=1e-12)
    # joint index ordering: first chain slowest
    np.testing.assert_allclose(pc.values[5], [a.grid[0], b.grid[2], c.grid[1]])


def test_stationary_distribution_is_invariant():
    c = tauchen(7, 0.7, 0.3)
    pi = stationary_distribution(c)
    np.testing.assert_allclose(pi @ c.P, pi, atol=1e-13)
    np.testing.assert_allclose(pi.sum(), 1.0)


def test_drift_chain_expected_value_is_exact_inside_grid():
    grid = jnp.array([0.0, 0.5, 1.0, 2.0, 3.0])
    c = drift_chain(grid, 0.3)
    expected_next = c.P @ grid
    np.testing.assert_allclose(expected_next[:-1], np.minimum(grid[:-1] + 0.3, 3.0), atol=1e-12)
    assert float(expected_next[-1]) == 3.0  # clamped at the top node
    np.testing.assert_allclose(c.P.sum(axis=1), 1.0)


def test_simulation_reproducible_and_matches_transition_frequencies():
    c = tauchen(3, 0.5, 0.5)
    key = jax.random.key(42)
    p1 = simulate_indices(c, key, 4000, n_paths=20)
    p2 = simulate_indices(c, key, 4000, n_paths=20)
    assert p1.shape == (20, 4000)
    np.testing.assert_array_equal(p1, p2)
    s, s_next = np.asarray(p1[:, :-1]).ravel(), np.asarray(p1[:, 1:]).ravel()
    counts = np.zeros((3, 3))
    np.add.at(counts, (s, s_next), 1)
    freq = counts / counts.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(freq, c.P, atol=0.02)
    single = simulate_indices(c, key, 10, init=2)
    assert single.shape == (10,) and int(single[0]) == 2


def test_chains_differentiable_in_rho():
    g = jax.grad(lambda r: chain_moments(rouwenhorst(5, r, 0.1))[2])(0.6)
    np.testing.assert_allclose(g, 1.0, rtol=1e-8)  # autocorrelation equals rho exactly


@pytest.mark.parametrize("bad", [dict(n=1), dict(sigma=0.0), dict(sigma=-1.0), dict(rho=1.0), dict(n=2.5)])
def test_bad_input(bad):
    kw = dict(n=5, rho=0.5, sigma=0.1) | bad
    with pytest.raises(ValueError):
        tauchen(**kw)
    with pytest.raises(ValueError):
        rouwenhorst(**kw)


def test_bad_chain_and_grid():
    with pytest.raises(ValueError, match="stochastic"):
        MarkovChain(values=jnp.zeros((2, 1)), P=jnp.array([[0.5, 0.6], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="increasing"):
        drift_chain(jnp.array([0.0, 1.0, 1.0]), 0.1)
