"""Evaluate a solution off the grid: interpolated policies and the consistent allocation.

:func:`policy_at` interpolates every policy table (``c, q, η, b', k'``) separately.
:func:`allocation_at` is the allocation a user simulates with (DESIGN.md "Accuracy: the consistent
allocation"): ``b'`` and ``k'`` interpolated, ``c`` from the budget constraint, ``q`` and ``η``
interpolated. Off the grid the separately interpolated ``c`` violates the budget; the consistent
``c`` satisfies it by construction.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..._checks import is_concrete
from ...numerics import interp_tables
from . import primitives as pr
from .equilibrium import EquilibriumSolution

__all__ = ["policy_at", "allocation_at", "full_shares", "check_state_indices"]

# interpolated shares are floored here before renormalization (a share is never exactly zero)
_K_FLOOR = 1e-12


def full_shares(k_head):
    """``(k_1..k_{I−1}) -> (k_1..k_I)`` with ``k_I = 1 − Σ`` (last axis)."""
    k_head = jnp.asarray(k_head, dtype=float)
    return jnp.concatenate([k_head, 1.0 - jnp.sum(k_head, axis=-1, keepdims=True)], axis=-1)


def check_state_indices(s, n_states: int, name: str = "s") -> None:
    """Raise a ``ValueError`` naming ``name`` if concrete exogenous-state indices leave ``[0, n_states)``
    or are not integers (JAX would clamp an out-of-range index silently)."""
    if not is_concrete(s):
        return
    v = np.asarray(s)
    if v.size == 0:
        return
    if v.dtype == np.bool_:
        raise ValueError(f"{name}: exogenous-state indices must be integers; got booleans")
    if not np.issubdtype(v.dtype, np.integer):
        if not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
            raise ValueError(f"{name}: exogenous-state indices must be integers; got {v.ravel()[:8]}")
    bad = (v < 0) | (v >= n_states)
    if np.any(bad):
        raise ValueError(f"{name}: exogenous-state indices must lie in [0, {n_states - 1}] (the chain has "
                         f"{n_states} states); got {v[bad].ravel()[:8]}")


def _check_query(solution, b, k, s):
    if solution.iterations.ndim != 0:
        raise ValueError("needs an unbatched solution (index the batch first, or jax.vmap over it)")
    I = solution.n_industries
    b = jnp.asarray(b, dtype=float)
    k = jnp.asarray(k, dtype=float)
    if b.ndim != 1 or k.shape != (b.shape[0], I) or jnp.shape(s) != b.shape:
        raise ValueError(f"b must have shape (n,), k shape (n, {I}) and s shape (n,); got {b.shape}, {k.shape}, "
                         f"{jnp.shape(s)}")
    check_state_indices(s, solution.params.n_states, "s")
    return b, k, jnp.asarray(s, dtype=jnp.int32)


def _interp(solution, b, k, s):
    """``c, q, η, b', k'_1..k'_I`` interpolated at the queries (a list of ``(n,)`` arrays)."""
    I = solution.n_industries
    tables = (solution.c, solution.q, solution.eta, solution.b_next) + tuple(
        solution.k_next[..., i] for i in range(I)
    )
    axes = solution.axes
    ext = (solution.grid.b_extrapolate,) + (False,) * (I - 1)

    def one(b_, k_, s_):
        xq = jnp.concatenate([jnp.reshape(b_, (1,)), k_[: I - 1]])
        return interp_tables(axes, tables, xq, extrapolate=ext, tail=(s_,))

    return jax.vmap(one)(b, k, s)


def policy_at(solution: EquilibriumSolution, b, k, s):
    """Interpolated policies at states ``(b, k, s)``, each table separately.

    ``c, q, η, b', k'_1..k'_I`` are interpolated multilinearly in ``(b, k_1..k_{I−1})`` within
    exogenous state ``s`` (clamped to the grid box, or extended linearly in b with
    ``grid.b_extrapolate``, as in the solver). This ``c`` does not satisfy the budget off the grid;
    :func:`allocation_at` gives the consistent allocation.

    Args:
        solution: an unbatched :class:`EquilibriumSolution`.
        b: bonds, shape ``(n,)``.
        k: capital shares, shape ``(n, I)`` (only the first I−1 are used to locate the state).
        s: exogenous state indices in ``[0, n_s)``, shape ``(n,)`` (out of range: ``ValueError``).

    Returns:
        dict with ``c, q, eta, b_next`` of shape ``(n,)`` and ``k_next`` of shape ``(n, I)``.
    """
    b, k, s = _check_query(solution, b, k, s)
    vals = _interp(solution, b, k, s)
    return {"c": vals[0], "q": vals[1], "eta": vals[2], "b_next": vals[3], "k_next": jnp.stack(vals[4:], axis=-1)}


def allocation_at(solution: EquilibriumSolution, b, k, s):
    """The consistent allocation at states ``(b, k, s)`` (DESIGN.md "Accuracy: the consistent allocation").

    ``b'`` and ``k'`` are interpolated from the policies (``k'`` floored at 1e−12 and renormalized
    onto the simplex), ``q`` and ``η`` interpolated, and consumption comes from the budget
    constraint (paper eq. 10)::

        c = Y(k, s) − Σ_i Φ_i(k_i, k'_i) + b − b'/R(s),   Y(k, s) = Σ_i z̄_i(s) k_i^(α+ξ_i),

    so the budget holds exactly at every state. ``binding`` is ``η > 1e−6 u'(c)``.

    Args:
        solution: an unbatched :class:`EquilibriumSolution`.
        b: bonds ``(n,)``; k: capital shares ``(n, I)`` on the simplex; s: state indices ``(n,)``
            in ``[0, n_s)`` (out of range: ``ValueError``).

    Returns:
        dict with ``c`` (from the budget), ``q, eta, b_next``, ``output`` ``Y(k, s)``, ``binding``
        and ``c_interpolated`` (the separately interpolated table, for information) of shape
        ``(n,)``, and ``k_next`` ``(n, I)``.
    """
    b, k, s = _check_query(solution, b, k, s)
    p = solution.params
    vals = _interp(solution, b, k, s)
    c_interp, q, eta, bn = vals[:4]
    kn = jnp.maximum(jnp.stack(vals[4:], axis=-1), _K_FLOOR)
    kn = kn / jnp.sum(kn, axis=-1, keepdims=True)
    Y = pr.output(p, p.z[s], k)
    c = Y - jnp.sum(pr.adj_cost(p, k, kn), axis=-1) + b - bn / p.R[s]
    binding = eta > 1e-6 * pr.marginal_utility(p, jnp.maximum(c, 1e-300))
    return {"c": c, "q": q, "eta": eta, "b_next": bn, "k_next": kn, "output": Y, "binding": binding,
            "c_interpolated": c_interp}
