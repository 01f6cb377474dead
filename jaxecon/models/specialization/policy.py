"""Evaluate a solution's policies at arbitrary (off-grid) states by multilinear interpolation."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ...numerics import interp_tables
from .equilibrium import EquilibriumSolution

__all__ = ["policy_at", "full_shares"]


def full_shares(k_head):
    """``(k_1..k_{I−1}) -> (k_1..k_I)`` with ``k_I = 1 − Σ`` (last axis)."""
    k_head = jnp.asarray(k_head, dtype=float)
    return jnp.concatenate([k_head, 1.0 - jnp.sum(k_head, axis=-1, keepdims=True)], axis=-1)


def policy_at(solution: EquilibriumSolution, b, k, s):
    """Interpolated policies at states ``(b, k, s)``.

    ``c, q, η, b', k'_1..k'_I`` are interpolated multilinearly in ``(b, k_1..k_{I−1})`` within
    exogenous state ``s`` (clamped to the grid box, or extended linearly in b with ``grid.b_extrapolate``, as in the solver).

    Args:
        solution: an unbatched :class:`EquilibriumSolution`.
        b: bonds, shape ``(n,)``.
        k: capital shares, shape ``(n, I)`` (only the first I−1 are used to locate the state).
        s: exogenous state indices, shape ``(n,)``.

    Returns:
        dict with ``c, q, eta, b_next`` of shape ``(n,)`` and ``k_next`` of shape ``(n, I)``.
    """
    I = solution.n_industries
    axes = solution.axes
    tables = (solution.c, solution.q, solution.eta, solution.b_next) + tuple(
        solution.k_next[..., i] for i in range(I)
    )

    def one(b_, k_, s_):
        xq = jnp.concatenate([jnp.reshape(b_, (1,)), k_[: I - 1]])
        vals = interp_tables(axes, tables, xq, extrapolate=(solution.grid.b_extrapolate,) + (False,) * (I - 1))
        return [v[s_] for v in vals]

    vals = jax.vmap(one)(jnp.asarray(b, float), jnp.asarray(k, float), jnp.asarray(s))
    return {"c": vals[0], "q": vals[1], "eta": vals[2], "b_next": vals[3], "k_next": jnp.stack(vals[4:], axis=-1)}
