"""Simulating a batch of economies (e.g. 722 commuting zones) from their own initial states."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ..._checks import check_finite, is_concrete
from ...measures import gini
from ...numerics import simulate_indices
from .equilibrium import EquilibriumSolution
from .policy import allocation_at, check_state_indices

__all__ = ["SimulationPaths", "simulate", "check_shares", "ErgodicState", "ergodic_state"]


class SimulationPaths(eqx.Module):
    """Paths of ``n`` economies over ``T`` periods (period 0 = the initial state).

    Attributes:
        s: exogenous state indices ``(n, T)``.
        b, k: bonds ``(n, T)`` and capital shares ``(n, T, I)`` at the start of each period.
        c, q, eta, b_next: the consistent allocation ``(n, T)``
            (:func:`~jaxecon.models.specialization.policy.allocation_at`): ``b'`` (and the next
            period's ``k``) interpolated, ``c`` from the budget, ``q`` and ``η`` interpolated.
        output: ``Y(k, s) = Σ z̄_i k_i^(α+ξ_i)`` ``(n, T)``.
        binding: ``η > 1e−6 u'(c)`` ``(n, T)``.
        gini: Gini coefficient of the capital shares (Imbs-Wacziarg, :func:`jaxecon.measures.gini`;
            for two shares ``|k_1 − k_2|/2``) ``(n, T)``.
    """

    s: Int[Array, "n T"]
    b: Float[Array, "n T"]
    k: Float[Array, "n T I"]
    c: Float[Array, "n T"]
    q: Float[Array, "n T"]
    eta: Float[Array, "n T"]
    b_next: Float[Array, "n T"]
    output: Float[Array, "n T"]
    binding: Bool[Array, "n T"]
    gini: Float[Array, "n T"]


def check_shares(k, name: str = "k0") -> None:
    """Raise a ``ValueError`` if concrete capital shares leave the simplex (``k_i > 0``, ``Σ = 1``)."""
    if not is_concrete(k):
        return
    v = np.asarray(k, dtype=float)
    if np.any(v <= 0) or not np.allclose(v.sum(-1), 1.0, atol=1e-8):
        raise ValueError(f"{name}: capital shares must be positive and sum to one (the simplex); got sums "
                         f"in [{v.sum(-1).min():.6g}, {v.sum(-1).max():.6g}] and min {v.min():.3g}")


@jax.jit
def _run(solution, b0, k0, s_paths):
    def step(carry, s_t):
        b, k = carry
        a = allocation_at(solution, b, k, s_t)
        rec = (b, k, a["c"], a["q"], a["eta"], a["b_next"], a["output"], a["binding"], gini(k))
        return (a["b_next"], a["k_next"]), rec

    _, rec = jax.lax.scan(step, (b0, k0), s_paths.T)
    rec = [jnp.moveaxis(r, 0, 1) for r in rec]
    return SimulationPaths(s=s_paths, b=rec[0], k=rec[1], c=rec[2], q=rec[3], eta=rec[4], b_next=rec[5],
                           output=rec[6], binding=rec[7], gini=rec[8])


def simulate(solution: EquilibriumSolution, b0, k0, *, key=None, periods: int = 70, s_paths=None,
             common_shocks: bool = False, s0=None) -> SimulationPaths:
    """Simulate ``n`` economies that share one solution, each from its own ``(b0, k0)``.

    Each period the state ``(b, k, s)`` maps to the consistent allocation of
    :func:`jaxecon.models.specialization.policy.allocation_at` (``b', k'`` interpolated, ``c`` from
    the budget, so ``c + b'/R = Y − ΣΦ(k, k') + b`` holds exactly along every path); ``b ← b'``,
    ``k ← k'`` and ``s`` follows the chain. Economies with their own parameters: ``jax.vmap`` this
    over a batched solution.

    Args:
        solution: an unbatched solution.
        b0: initial bonds ``(n,)``; k0: initial capital shares ``(n, I)`` (on the simplex).
        key: PRNG key for the exogenous paths (ignored when ``s_paths`` is given).
        periods: number of periods T (static).
        s_paths: explicit state paths ``(n, T)`` of indices in ``[0, n_s)``.
        common_shocks: one path of s shared by all economies (national industry shocks).
        s0: initial state index in ``[0, n_s)``, a scalar or one per economy (default: drawn from
            the stationary law).

    Raises:
        ValueError: shares off the simplex, non-finite bonds, or a state index (``s0``, ``s_paths``)
            outside ``[0, n_s)``.
    """
    b0 = jnp.asarray(b0, dtype=float)
    k0 = jnp.asarray(k0, dtype=float)
    n = b0.shape[0]
    I = solution.n_industries
    if k0.shape != (n, I):
        raise ValueError(f"k0 must have shape ({n}, {I}); got {k0.shape}")
    check_shares(k0, "k0")
    check_finite(b0, "b0")
    ns = solution.params.n_states
    if s0 is not None:
        check_state_indices(s0, ns, "s0")
    if s_paths is None:
        if key is None:
            raise ValueError("simulate needs a PRNG key or explicit s_paths")
        chain = solution.params.chain
        if common_shocks:
            one = simulate_indices(chain, key, periods, init=s0)
            s_paths = jnp.broadcast_to(one, (n, periods))
        else:
            s_paths = simulate_indices(chain, key, periods, n_paths=n, init=s0)
    else:
        check_state_indices(s_paths, ns, "s_paths")
        if jnp.ndim(s_paths) != 2 or jnp.shape(s_paths)[0] != n:
            raise ValueError(f"s_paths must have shape ({n}, T); got {jnp.shape(s_paths)}")
    s_paths = jnp.asarray(s_paths, dtype=jnp.int32)
    return _run(solution, b0, k0, s_paths)


class ErgodicState(NamedTuple):
    """Mean state of the simulated stationary distribution (:func:`ergodic_state`).

    Attributes:
        b: mean bonds over the kept periods and paths.
        k: mean capital shares ``(I,)``.
        paths: the simulated :class:`SimulationPaths` (all periods).
        keep: number of final periods averaged.
    """

    b: float
    k: np.ndarray
    paths: SimulationPaths
    keep: int


def ergodic_state(solution: EquilibriumSolution, *, key=None, seed: int = 0, n: int = 2000, periods: int = 300,
                  keep: int = 100) -> ErgodicState:
    """Mean ``(b, k)`` of the stationary distribution, by simulation.

    ``n`` economies start at ``b = 0`` and equal shares ``k_i = 1/I`` with ``s`` from the
    stationary law, follow the consistent allocation (:func:`simulate`) for ``periods`` periods,
    and the means are taken over the last ``keep`` periods of all paths.

    Args:
        solution: an unbatched solution.
        key: PRNG key (default ``jax.random.key(seed)``).
        n, periods, keep: paths, path length, final periods averaged (``1 <= keep <= periods``).
    """
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"ergodic_state: n must be a positive number of paths; got {n!r}")
    if not (isinstance(keep, (int, np.integer)) and 1 <= keep <= periods):
        raise ValueError(f"ergodic_state: keep must lie in [1, periods={periods}]; got {keep!r}")
    key = jax.random.key(seed) if key is None else key
    I = solution.n_industries
    k0 = jnp.full((n, I), 1.0 / I)
    paths = simulate(solution, jnp.zeros(n), k0, key=key, periods=periods)
    b = float(np.asarray(paths.b[:, -keep:]).mean())
    k = np.asarray(paths.k[:, -keep:]).mean(axis=(0, 1))
    return ErgodicState(b=b, k=k, paths=paths, keep=int(keep))
