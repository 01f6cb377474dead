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
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

__all__ = ["AndersonState", "anderson_init", "anderson_step"]


class AndersonState(eqx.Module):
    """History of an Anderson-accelerated iteration (batched under ``vmap``).

    Attributes:
        dx, df: the last ``m`` differences of iterates and of residuals, ``(m, n)`` (a ring buffer).
        gram: ``ΔFᵀΔF``, the ``(m, m)`` inner products of the rows of ``df``, kept up to date one row
            at a time (entries of slots not in use are ignored).
        x_prev, f_prev: the previous iterate and its residual, ``(n,)``.
        count: number of steps since the last restart (history columns in use: ``min(count − 1, m)``).
    """

    dx: Float[Array, "m n"]
    df: Float[Array, "m n"]
    gram: Float[Array, "m m"]
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
    m = int(memory)
    z = jnp.zeros((m,) + x0.shape)
    return AndersonState(dx=z, df=z, gram=jnp.zeros((m, m)), x_prev=jnp.zeros_like(x0), f_prev=jnp.zeros_like(x0),
                         count=jnp.asarray(0))


def anderson_step(state: AndersonState, x, gx, *, restart=False, regularization: float = 1e-10):
    """One accelerated step from iterate ``x`` with map value ``gx = g(x)``.

    A restart is a scalar ``lax.cond``: it only records ``x`` and ``g(x) − x`` and leaves the
    history's ``(m, n)`` arrays untouched. Under ``vmap`` with a batched ``restart`` both branches run.

    Args:
        state: the history (from :func:`anderson_init` or the previous step).
        x, gx: the current iterate and its image, ``(n,)``.
        restart: (traceable bool) drop the history first; the step is then ``gx``.
        regularization: Tikhonov weight relative to ``trace(ΔFᵀΔF)/m``.

    Returns:
        ``(x_next, state)``: the mixed iterate ``gx − (ΔX + ΔF) γ`` (``gx`` while the history is
        empty) and the updated history.
    """
    restarted = lambda s_, x_, gx_: (gx_, AndersonState(dx=s_.dx, df=s_.df, gram=s_.gram, x_prev=x_, f_prev=gx_ - x_,
                                                         count=jnp.ones_like(s_.count)))
    step = lambda s_, x_, gx_: _mixed_step(s_, x_, gx_, regularization)
    return jax.lax.cond(jnp.asarray(restart), restarted, step, state, x, gx)


def _mixed_step(state: AndersonState, x, gx, regularization):
    """:func:`anderson_step` without a restart."""
    m = state.dx.shape[0]
    f = gx - x
    count = state.count
    # record the difference to the previous iterate (only if there was one since the restart), in
    # place in the ring buffer, and the new row of the Gram matrix: one (m, n) x (n, 2) product
    # instead of the whole ΔFᵀΔF (which on a CPU cost as much as the rest of the step)
    slot = (count - 1) % m
    have_prev = count > 0
    new_dx = jnp.where(have_prev, x - state.x_prev, state.dx[slot])
    new_df = jnp.where(have_prev, f - state.f_prev, state.df[slot])
    dx = jax.lax.dynamic_update_index_in_dim(state.dx, new_dx, slot, 0)
    df = jax.lax.dynamic_update_index_in_dim(state.df, new_df, slot, 0)
    products = df @ jnp.stack([new_df, f], axis=1)  # (m, 2): ΔFᵀ Δf_new and ΔFᵀ f
    row = products[:, 0]
    gram = state.gram.at[slot, :].set(row).at[:, slot].set(row)
    gram = jnp.where(have_prev, gram, state.gram)
    n_cols = jnp.minimum(count, m)
    used = jnp.arange(m) < n_cols
    both = used[:, None] & used[None, :]
    scale = jnp.maximum(jnp.trace(jnp.where(both, gram, 0.0)) / m, 1e-300)
    A = jnp.where(both, gram, 0.0) + jnp.diag(jnp.where(used, regularization * scale, 1.0))
    rhs = jnp.where(used, products[:, 1], 0.0)
    gamma = jnp.linalg.solve(A, rhs)
    gamma = jnp.where(jnp.all(jnp.isfinite(gamma)), gamma, 0.0)
    # Σ_j γ_j (Δx_j + Δf_j) written out over the m rows: one fused pass (a (m,) @ (m, n) product
    # went through a separate (m, n) sum and a dot kernel)
    x_next = gx
    for j in range(m):
        x_next = x_next - gamma[j] * (dx[j] + df[j])
    new = AndersonState(dx=dx, df=df, gram=gram, x_prev=x, f_prev=f, count=count + 1)
    return x_next, new
