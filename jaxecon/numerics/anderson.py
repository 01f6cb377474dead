"""Anderson acceleration of a fixed-point iteration ``x ← g(x)``, one step at a time.

Type-II Anderson mixing (Walker and Ni 2011, "Anderson acceleration for fixed-point iterations",
SIAM J. Numer. Anal. 49(4)), written as a pure state update so that a caller's own loop (e.g. a
time iteration that also tracks discrete regimes) decides when to accelerate and when to restart.
With residuals ``f_j = g(x_j) − x_j`` and the differences ``ΔF = [f_{j+1} − f_j]``,
``ΔX = [x_{j+1} − x_j]`` over the last ``m`` iterates,

    γ = argmin_γ ‖f_k − ΔF γ‖₂,        x_{k+1} = g(x_k) − (ΔX + ΔF) γ.

The least-squares problem is solved through its ``m × m`` normal equations with a small Tikhonov
term relative to their trace (history columns are nearly collinear close to convergence). A restart
empties the history, so the next step is the plain update ``g(x_k)``.

Hand-written rather than imported: jaxopt's ``AndersonAcceleration`` owns the whole loop (no hook to
restart on a regime switch) and jaxopt is in maintenance mode; optimistix has no Anderson solver.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

__all__ = ["AndersonState", "anderson_init", "anderson_step"]


class AndersonState(eqx.Module):
    """History of an Anderson-accelerated iteration (batched under ``vmap``).

    Attributes:
        dx, df: the last ``m`` differences of iterates and of residuals, ``(m, n)`` (a ring buffer).
        x_prev, f_prev: the previous iterate and its residual, ``(n,)``.
        count: number of steps since the last restart (history columns in use: ``min(count − 1, m)``).
    """

    dx: Float[Array, "m n"]
    df: Float[Array, "m n"]
    x_prev: Float[Array, " n"]
    f_prev: Float[Array, " n"]
    count: Int[Array, ""]


def anderson_init(x0, memory: int) -> AndersonState:
    """An empty history for iterates shaped like the 1-D ``x0`` and ``memory`` (m >= 1) columns."""
    x0 = jnp.asarray(x0, dtype=float)
    if x0.ndim != 1:
        raise ValueError(f"anderson_init expects a 1-D iterate; got shape {x0.shape}")
    if int(memory) < 1:
        raise ValueError(f"Anderson memory must be >= 1; got {memory}")
    z = jnp.zeros((int(memory),) + x0.shape)
    return AndersonState(dx=z, df=z, x_prev=jnp.zeros_like(x0), f_prev=jnp.zeros_like(x0), count=jnp.asarray(0))


def anderson_step(state: AndersonState, x, gx, *, restart=False, regularization: float = 1e-10):
    """One accelerated step from iterate ``x`` with map value ``gx = g(x)``.

    Args:
        state: the history (from :func:`anderson_init` or the previous step).
        x, gx: the current iterate and its image, ``(n,)``.
        restart: (traceable bool) drop the history first; the step is then ``gx``.
        regularization: Tikhonov weight relative to ``trace(ΔFᵀΔF)/m``.

    Returns:
        ``(x_next, state)``: the mixed iterate ``gx − (ΔX + ΔF) γ`` (``gx`` while the history is
        empty) and the updated history.
    """
    m = state.dx.shape[0]
    f = gx - x
    count = jnp.where(restart, 0, state.count)
    # record the difference to the previous iterate (only if there was one since the restart)
    slot = (count - 1) % m
    have_prev = count > 0
    dx = jnp.where(have_prev, state.dx.at[slot].set(x - state.x_prev), state.dx)
    df = jnp.where(have_prev, state.df.at[slot].set(f - state.f_prev), state.df)
    n_cols = jnp.minimum(count, m)
    used = jnp.arange(m) < n_cols
    A = df @ df.T
    scale = jnp.maximum(jnp.trace(jnp.where(used[:, None] & used[None, :], A, 0.0)) / m, 1e-300)
    A = jnp.where(used[:, None] & used[None, :], A, 0.0) + jnp.diag(jnp.where(used, regularization * scale, 1.0))
    rhs = jnp.where(used, df @ f, 0.0)
    gamma = jnp.linalg.solve(A, rhs)
    gamma = jnp.where(jnp.all(jnp.isfinite(gamma)), gamma, 0.0)
    x_next = gx - gamma @ (dx + df)
    new = AndersonState(dx=dx, df=df, x_prev=x, f_prev=f, count=count + 1)
    return x_next, new
