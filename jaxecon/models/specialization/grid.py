"""The endogenous-state grid ``(b, k_1..k_{I−1})`` and its feasibility mask.

Policies live on the tensor grid ``b_axis × k_axis^(I−1) × s`` (shape ``(n_b, n_k, ..., n_k, n_s)``);
the last share is ``k_I = 1 − Σ_{i<I} k_i``. For I = 3 the corners with ``k_I < k_min`` are infeasible:
they are masked (excluded from every diagnostic) and their policies are those of the feasible point
``k ← k (1 − k_min)/Σ_{i<I} k_i`` so that the multilinear interpolant stays defined on the whole box.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ...numerics import Axis, points_axis, power_axis, uniform_axis
from .params import Grid

__all__ = ["bond_axis", "share_axis", "state_axes", "grid_states", "policy_shape"]


def bond_axis(grid: Grid) -> Axis:
    """The bond axis: explicit points, or power-spaced ``b_min + (b_max − b_min) u^curvature``."""
    if grid.b_points is not None:
        return points_axis(np.asarray(grid.b_points, dtype=float))
    if grid.b_curvature == 1.0:
        return uniform_axis(grid.b_min, grid.b_max, grid.n_b)
    return power_axis(grid.b_min, grid.b_max, grid.n_b, grid.b_curvature)


def share_axis(grid: Grid) -> Axis:
    """The axis of each of the first I−1 capital shares (uniform on ``[k_min, k_max]``)."""
    if grid.k_points is not None:
        return points_axis(np.asarray(grid.k_points, dtype=float))
    return uniform_axis(grid.k_min, grid.k_max, grid.n_k)


def state_axes(grid: Grid, n_industries: int) -> tuple:
    """``(b_axis, k_axis, ..., k_axis)`` with I−1 share axes (just the bond axis when I = 1)."""
    return (bond_axis(grid),) + (share_axis(grid),) * (n_industries - 1)


def policy_shape(grid: Grid, n_industries: int, n_states: int) -> tuple:
    """``(n_b, n_k, ..., n_k, n_s)`` with I−1 share dimensions."""
    return (grid.size_b,) + (grid.size_k,) * (n_industries - 1) + (n_states,)


def grid_states(grid: Grid, n_industries: int, n_states: int):
    """Every grid node, flattened in C order over ``policy_shape``.

    Returns:
        ``(b, k, s, feasible)``: bonds ``(N,)``, the full share vector ``(N, I)`` (projected onto the
        feasible set for masked nodes), state indices ``(N,)`` and the feasibility mask ``(N,)``.
    """
    axes = state_axes(grid, n_industries)
    I = n_industries
    mesh = jnp.meshgrid(*[a.points for a in axes], jnp.arange(n_states), indexing="ij")
    b = mesh[0].reshape(-1)
    s = mesh[-1].reshape(-1).astype(jnp.int32)
    if I == 1:
        return b, jnp.ones((b.shape[0], 1)), s, jnp.ones(b.shape[0], dtype=bool)
    k_head = jnp.stack([m.reshape(-1) for m in mesh[1:-1]], axis=1)  # (N, I-1)
    total = jnp.sum(k_head, axis=1)
    k_floor = float(grid.k_points[0]) if grid.k_points is not None else float(grid.k_min)
    limit = 1.0 - k_floor
    feasible = total <= limit + 1e-12
    scale = jnp.where(feasible, 1.0, limit / total)
    k_head = k_head * scale[:, None]
    k = jnp.concatenate([k_head, 1.0 - jnp.sum(k_head, axis=1, keepdims=True)], axis=1)
    return b, k, s, feasible
