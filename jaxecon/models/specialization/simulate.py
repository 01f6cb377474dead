"""Simulating a batch of economies (e.g. 722 commuting zones) from their own initial states."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ..._checks import check_finite, is_concrete
from ...numerics import simulate_indices
from . import primitives as pr
from .equilibrium import EquilibriumSolution
from .policy import policy_at

__all__ = ["SimulationPaths", "simulate", "check_shares"]


class SimulationPaths(eqx.Module):
    """Paths of ``n`` economies over ``T`` periods (period 0 = the initial state).

    Attributes:
        s: exogenous state indices ``(n, T)``.
        b, k: bonds ``(n, T)`` and capital shares ``(n, T, I)`` at the start of each period.
        c, q, eta, b_next: interpolated policies ``(n, T)``.
        output: ``Y(k, s) = Σ z̄_i k_i^(α+ξ_i)`` ``(n, T)``.
        binding: ``η > 1e−6 u'(c)`` ``(n, T)``.
        gini: Gini coefficient of the capital shares (Imbs-Wacziarg, :func:`jaxecon.measures.gini`
            when available; for two shares ``|k_1 − k_2|/2``) ``(n, T)``.
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


def _gini(k):
    I = k.shape[-1]
    ks = jnp.sort(k, axis=-1)
    w = 2.0 * jnp.arange(1, I + 1) - I - 1.0
    return jnp.sum(w * ks, axis=-1) / (I * jnp.sum(ks, axis=-1))


@jax.jit
def _run(solution, b0, k0, s_paths):
    p = solution.params
    T = s_paths.shape[1]

    def step(carry, s_t):
        b, k = carry
        pol = policy_at(solution, b, k, s_t)
        kn = jnp.maximum(pol["k_next"], 1e-12)
        kn = kn / jnp.sum(kn, axis=1, keepdims=True)
        Y = pr.output(p, p.z[s_t], k)
        binding = pol["eta"] > 1e-6 * pr.marginal_utility(p, pol["c"])
        rec = (b, k, pol["c"], pol["q"], pol["eta"], pol["b_next"], Y, binding, _gini(k))
        return (pol["b_next"], kn), rec

    _, rec = jax.lax.scan(step, (b0, k0), s_paths.T)
    rec = [jnp.moveaxis(r, 0, 1) for r in rec]
    return SimulationPaths(s=s_paths, b=rec[0], k=rec[1], c=rec[2], q=rec[3], eta=rec[4], b_next=rec[5],
                           output=rec[6], binding=rec[7], gini=rec[8])


def simulate(solution: EquilibriumSolution, b0, k0, *, key=None, periods: int = 70, s_paths=None,
             common_shocks: bool = False, s0=None) -> SimulationPaths:
    """Simulate ``n`` economies that share one solution, each from its own ``(b0, k0)``.

    Each period the state ``(b, k, s)`` maps to the interpolated policies of
    :func:`jaxecon.models.specialization.policy.policy_at`; ``b ← b'``, ``k ← k'`` and ``s`` follows
    the chain. Economies with their own parameters: ``jax.vmap`` this over a batched solution.

    Args:
        solution: an unbatched solution.
        b0: initial bonds ``(n,)``; k0: initial capital shares ``(n, I)`` (on the simplex).
        key: PRNG key for the exogenous paths (ignored when ``s_paths`` is given).
        periods: number of periods T (static).
        s_paths: explicit state paths ``(n, T)``.
        common_shocks: one path of s shared by all economies (national industry shocks).
        s0: initial state index (default: drawn from the stationary law).
    """
    b0 = jnp.asarray(b0, dtype=float)
    k0 = jnp.asarray(k0, dtype=float)
    n = b0.shape[0]
    I = solution.n_industries
    if k0.shape != (n, I):
        raise ValueError(f"k0 must have shape ({n}, {I}); got {k0.shape}")
    check_shares(k0, "k0")
    check_finite(b0, "b0")
    if s_paths is None:
        if key is None:
            raise ValueError("simulate needs a PRNG key or explicit s_paths")
        chain = solution.params.chain
        if common_shocks:
            one = simulate_indices(chain, key, periods, init=s0)
            s_paths = jnp.broadcast_to(one, (n, periods))
        else:
            s_paths = simulate_indices(chain, key, periods, n_paths=n, init=s0)
    s_paths = jnp.asarray(s_paths, dtype=jnp.int32)
    return _run(solution, b0, k0, s_paths)
