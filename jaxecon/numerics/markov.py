"""Finite Markov chains: discretizations of AR(1) processes, composition, stationary laws, simulation.

Every model in jaxecon sees its exogenous process as one finite :class:`MarkovChain` (node values and
a transition matrix). Per-variable chains built with :func:`tauchen`, :func:`rouwenhorst` or
:func:`drift_chain` compose with :func:`product_chain` (independent processes, Kronecker product), so
any combination reaches a solver in the same form.

The number of nodes ``n`` is a static Python ``int``; ``rho`` and ``sigma`` may be traced, so the
chains can be built inside ``jit`` and differentiated with respect to persistence and volatility.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_in_range, check_positive, is_concrete

__all__ = [
    "MarkovChain",
    "tauchen",
    "rouwenhorst",
    "product_chain",
    "drift_chain",
    "stationary_distribution",
    "simulate_indices",
    "chain_moments",
]


class MarkovChain(eqx.Module):
    """A finite Markov chain.

    Attributes:
        values: node values, shape ``(n, d)``: row ``s`` holds the value of each of the ``d``
            variables in state ``s`` (``d = 1`` for a single AR(1)).
        P: transition matrix, shape ``(n, n)``, ``P[s, s'] = Pr(s_{t+1} = s' | s_t = s)``; rows sum
            to one.
    """

    values: Float[Array, "n d"]
    P: Float[Array, "n n"]

    def __check_init__(self):
        if self.values.ndim != 2:
            raise ValueError(f"MarkovChain.values must have shape (n, d); got {self.values.shape}")
        n = self.values.shape[0]
        if self.P.shape != (n, n):
            raise ValueError(f"MarkovChain.P must have shape ({n}, {n}); got {self.P.shape}")
        if is_concrete(self.P):
            P = np.asarray(self.P)
            if np.any(P < -1e-12) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-8):
                raise ValueError("MarkovChain.P must be a stochastic matrix (entries >= 0, rows sum to 1)")

    @property
    def n(self) -> int:
        """Number of states."""
        return self.values.shape[0]

    @property
    def grid(self) -> Float[Array, " n"]:
        """The node values of a one-variable chain, shape ``(n,)``."""
        if self.values.shape[1] != 1:
            raise ValueError("grid is defined for one-variable chains; use values[:, j]")
        return self.values[:, 0]


def _check_ar1(n, rho, sigma):
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    check_positive(sigma, "sigma")
    check_in_range(rho, "rho", -1.0, 1.0, lo_open=True, hi_open=True)


def tauchen(n: int, rho, sigma, m: float = 3.0, mu=0.0) -> MarkovChain:
    """Tauchen (1986) discretization of ``y' = mu (1 - rho) + rho y + sigma e``, ``e ~ N(0, 1)``.

    Nodes are evenly spaced on ``mu ± m sigma_y`` with ``sigma_y = sigma / sqrt(1 - rho^2)``, step
    ``d``; ``P[i, j] = Φ((y_j - rho y_i + d/2)/sigma) - Φ((y_j - rho y_i - d/2)/sigma)`` (centred
    at the mean), with the end nodes absorbing the tails.

    Args:
        n: number of nodes (static ``int`` >= 2).
        rho: persistence, in (-1, 1).
        sigma: innovation standard deviation, > 0.
        m: half-width of the grid in unconditional standard deviations.
        mu: unconditional mean.
    """
    _check_ar1(n, rho, sigma)
    return _tauchen(int(n), rho, sigma, m, mu)


@functools.partial(jax.jit, static_argnums=0)
def _tauchen(n, rho, sigma, m, mu):
    rho = jnp.asarray(rho, dtype=float)
    sigma = jnp.asarray(sigma, dtype=float)
    sigma_y = sigma / jnp.sqrt(1.0 - rho**2)
    y = jnp.linspace(-m * sigma_y, m * sigma_y, n)
    d = y[1] - y[0]
    cond_mean = rho * y[:, None]
    upper = ndtr((y[None, :] - cond_mean + d / 2) / sigma)
    lower = ndtr((y[None, :] - cond_mean - d / 2) / sigma)
    P = upper - lower
    P = P.at[:, 0].set(upper[:, 0])
    P = P.at[:, -1].set(1.0 - lower[:, -1])
    return MarkovChain(values=(y + mu)[:, None], P=P)


def rouwenhorst(n: int, rho, sigma, mu=0.0) -> MarkovChain:
    """Rouwenhorst discretization (Kopecky-Suen 2010) of the same AR(1) as :func:`tauchen`.

    Nodes are evenly spaced on ``mu ± sqrt(n - 1) sigma_y``; ``P`` is built by the recursion with
    ``p = q = (1 + rho) / 2``. It matches the unconditional variance and the autocorrelation
    exactly for every ``n`` and is preferred for highly persistent processes.
    """
    _check_ar1(n, rho, sigma)
    return _rouwenhorst(int(n), rho, sigma, mu)


@functools.partial(jax.jit, static_argnums=0)
def _rouwenhorst(n, rho, sigma, mu):
    rho = jnp.asarray(rho, dtype=float)
    sigma = jnp.asarray(sigma, dtype=float)
    p = (1.0 + rho) / 2.0
    P = jnp.array([[p, 1.0 - p], [1.0 - p, p]])
    for k in range(3, n + 1):
        Z = jnp.zeros((k, k))
        Z = Z.at[:-1, :-1].add(p * P)
        Z = Z.at[:-1, 1:].add((1.0 - p) * P)
        Z = Z.at[1:, :-1].add((1.0 - p) * P)
        Z = Z.at[1:, 1:].add(p * P)
        Z = Z.at[1:-1, :].divide(2.0)
        P = Z
    sigma_y = sigma / jnp.sqrt(1.0 - rho**2)
    psi = jnp.sqrt(n - 1.0) * sigma_y
    y = jnp.linspace(-psi, psi, n) + mu
    return MarkovChain(values=y[:, None], P=P)


def product_chain(*chains: MarkovChain) -> MarkovChain:
    """Combine independent chains into one: ``P = P_1 ⊗ P_2 ⊗ ...`` (Kronecker product).

    The joint state index is ``s = s_1 n_2 n_3 ... + s_2 n_3 ... + ...`` (the first chain varies
    slowest, as in ``numpy.kron``); ``values`` stacks every chain's variables as columns, shape
    ``(n_1 n_2 ..., d_1 + d_2 + ...)``. The stationary law is the product of the marginals.
    """
    if not chains:
        raise ValueError("product_chain needs at least one chain")
    P = chains[0].P
    values = chains[0].values
    for c in chains[1:]:
        n_a, n_b = values.shape[0], c.n
        P = jnp.kron(P, c.P)
        values = jnp.concatenate(
            [jnp.repeat(values, n_b, axis=0), jnp.tile(c.values, (n_a, 1))], axis=1
        )
    return MarkovChain(values=values, P=P)


def drift_chain(grid, drift) -> MarkovChain:
    """A deterministic drift ``x' = x + drift`` on a fixed grid, with lottery weights between nodes.

    From node ``x_i`` the process moves to ``x_i + drift_i``; when that point lies between nodes
    ``x_j <= x_i + drift_i <= x_{j+1}`` it goes to ``x_j`` with probability
    ``(x_{j+1} - x)/(x_{j+1} - x_j)`` and to ``x_{j+1}`` otherwise, so the expected next value is
    exactly ``x_i + drift_i`` inside the grid. Targets beyond the grid are clamped to the end nodes.
    Used for slow relative trends of industry productivity (the "lottery" over grid levels).

    Args:
        grid: strictly increasing node values, shape ``(n,)``.
        drift: scalar or per-node drift, shape ``()`` or ``(n,)``.
    """
    from .._checks import check_increasing

    check_increasing(grid, "grid")
    grid = jnp.asarray(grid, dtype=float)
    n = grid.shape[0]
    target = jnp.clip(grid + jnp.broadcast_to(jnp.asarray(drift, dtype=float), (n,)), grid[0], grid[-1])
    j = jnp.clip(jnp.searchsorted(grid, target, side="right") - 1, 0, n - 2)
    w_hi = (target - grid[j]) / (grid[j + 1] - grid[j])
    rows = jnp.arange(n)
    P = jnp.zeros((n, n)).at[rows, j].add(1.0 - w_hi).at[rows, j + 1].add(w_hi)
    return MarkovChain(values=grid[:, None], P=P)


@jax.jit
def stationary_distribution(chain_or_P) -> Float[Array, " n"]:
    """The stationary law ``pi`` with ``pi P = pi``, ``sum(pi) = 1`` (irreducible chains).

    Solved as one linear system: ``(P' - I) pi = 0`` with the last equation replaced by
    ``sum(pi) = 1``.
    """
    P = chain_or_P.P if isinstance(chain_or_P, MarkovChain) else jnp.asarray(chain_or_P)
    n = P.shape[0]
    A = P.T - jnp.eye(n)
    A = A.at[-1, :].set(1.0)
    b = jnp.zeros(n).at[-1].set(1.0)
    return jnp.linalg.solve(A, b)


@functools.partial(jax.jit, static_argnums=1)
def chain_moments(chain: MarkovChain, column: int = 0):
    """Stationary mean, variance and first-order autocorrelation of one variable of a chain.

    Returns ``(mean, variance, autocorrelation)`` computed exactly from the stationary law:
    ``E[y] = pi·y``, ``Var[y] = pi·y² − E[y]²``, ``Corr(y, y') = (pi·(y ∘ P y) − E[y]²) / Var[y]``.
    """
    pi = stationary_distribution(chain)
    y = chain.values[:, column]
    mean = pi @ y
    var = pi @ (y**2) - mean**2
    autocov = pi @ (y * (chain.P @ y)) - mean**2
    return mean, var, autocov / var


def simulate_indices(
    chain: MarkovChain,
    key: PRNGKeyArray,
    n_periods: int,
    n_paths: int | None = None,
    init: Int[Array, "..."] | int | None = None,
) -> Int[Array, "... n_periods"]:
    """Simulate state indices of ``chain`` for ``n_periods`` periods from an explicit PRNG key.

    Args:
        chain: the chain.
        key: a ``jax.random`` key; the same key gives the same paths (bit for bit on one machine).
        n_periods: path length (static).
        n_paths: number of independent paths (static); ``None`` for a single path.
        init: initial state index (scalar, or one per path); ``None`` draws it from the stationary
            distribution.

    Returns:
        Integer indices, shape ``(n_periods,)`` or ``(n_paths, n_periods)``; column 0 is the
        initial state. Values are ``chain.values[indices]``.
    """
    if n_periods < 1:
        raise ValueError(f"n_periods must be >= 1; got {n_periods}")
    single = n_paths is None
    m = 1 if single else int(n_paths)
    k_init, k_path = jax.random.split(key)
    cum = jnp.cumsum(chain.P, axis=1)
    if init is None:
        pi = stationary_distribution(chain)
        s0 = jnp.searchsorted(jnp.cumsum(pi), jax.random.uniform(k_init, (m,)), side="right")
    else:
        s0 = jnp.broadcast_to(jnp.asarray(init, dtype=jnp.int32), (m,))
    s0 = jnp.clip(s0, 0, chain.n - 1).astype(jnp.int32)
    u = jax.random.uniform(k_path, (n_periods - 1, m))

    def step(s, u_t):
        # next state: first index where the cumulative row probability exceeds u
        s_next = jnp.sum(cum[s] <= u_t[:, None], axis=1)
        s_next = jnp.clip(s_next, 0, chain.n - 1).astype(jnp.int32)
        return s_next, s_next

    _, path = jax.lax.scan(step, s0, u)
    out = jnp.concatenate([s0[None, :], path], axis=0).T
    return out[0] if single else out
