"""A small-system Newton solver for use at every grid point under ``vmap``.

Why not ``optimistix.root_find(Newton)`` here: DESIGN.md measured a vmapped optimistix loop at
6-10x the cost of this fixed-structure Newton on 1e5 scalar problems (optimistix carries a heavier
state and runs until its slowest element converges with full bookkeeping). For *outer* problems that
are differentiated through, use :func:`jaxecon.numerics.fixed_point`, which wraps optimistix's
implicit adjoint.
"""

from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

__all__ = ["NewtonResult", "newton"]


class NewtonResult(eqx.Module):
    """Outcome of :func:`newton` (per problem; batched under ``vmap``).

    Attributes:
        x: the last iterate (the root when ``converged``), same shape as ``x0``.
        converged: ``max|f(x)| <= tol`` reached with a finite iterate.
        iterations: Newton steps taken.
        residual: ``max|f(x)|`` at ``x`` (``inf`` when the iterate became non-finite).
    """

    x: Float[Array, "..."]
    converged: Bool[Array, ""]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]


def newton(
    fn: Callable,
    x0,
    args=(),
    *,
    tol: float = 1e-10,
    max_iter: int = 50,
    n_halvings: int = 10,
) -> NewtonResult:
    """Solve ``fn(x, *args) = 0`` for a small system by damped Newton with a backtracking search.

    Step: ``J dx = −f`` with ``J = ∂f/∂x`` by forward-mode autodiff; the step length is the largest
    ``λ ∈ {1, 1/2, ..., 2^−n_halvings}`` with ``‖f(x + λ dx)‖² <= (1 − 1e−4 λ) ‖f(x)‖²``, found by
    halving from the full step (one residual evaluation when the full step is accepted); if none
    decreases the residual enough the smallest step is taken. Stops when ``max|f| <= tol`` or after ``max_iter`` steps. A non-finite
    trial point is never accepted. Scale ``fn`` so that ``tol`` is meaningful (e.g. relative Euler
    errors).

    Works unchanged under ``jax.vmap`` (each problem reports its own ``converged``; the loop runs
    until all are done, finished ones frozen).

    Args:
        fn: ``fn(x, *args) -> residual`` with the residual of the same size as ``x``.
        x0: initial guess, shape ``()`` or ``(m,)``.
        args: extra arguments passed to ``fn``.
    """
    x0 = jnp.asarray(x0, dtype=float)
    scalar = x0.ndim == 0
    shape = x0.shape

    def F(x):
        r = fn(x.reshape(shape), *args)
        return jnp.reshape(jnp.asarray(r, dtype=float), (-1,))

    def sqnorm(r):
        return jnp.where(jnp.all(jnp.isfinite(r)), jnp.sum(r**2), jnp.inf)

    def body(state):
        x, r, it, _ = state
        J = jax.jacfwd(F)(x)
        dx = jnp.linalg.solve(J, -r)
        dx = jnp.where(jnp.all(jnp.isfinite(dx)), dx, jnp.zeros_like(dx))
        f0 = jnp.sum(r**2)

        # backtracking: full step first, halve only while the residual does not decrease enough
        # (under vmap the loop runs while any element still halves; usually zero extra passes)
        def ls_cond(ls):
            k, _, _, ok = ls
            return (~ok) & (k < n_halvings)

        def ls_body(ls):
            k, _, _, _ = ls
            k = k + 1
            lam = 0.5**k
            x_t = x + lam * dx
            r_t = F(x_t)
            f_t = sqnorm(r_t)
            return k, x_t, r_t, f_t <= (1.0 - 1e-4 * lam) * f0

        x1 = x + dx
        r1 = F(x1)
        ok1 = sqnorm(r1) <= (1.0 - 1e-4) * f0
        _, x_new, r_new, _ = jax.lax.while_loop(ls_cond, ls_body, (jnp.asarray(0), x1, r1, ok1))
        accept = jnp.isfinite(sqnorm(r_new))
        x_new = jnp.where(accept, x_new, x)
        r_new = jnp.where(accept, r_new, r)
        stuck = ~accept | jnp.all(dx == 0)
        return x_new, r_new, it + 1, stuck

    def cond(state):
        _, r, it, stuck = state
        done = jnp.max(jnp.abs(r)) <= tol
        return (~done) & (it < max_iter) & (~stuck)

    x = jnp.reshape(x0, (-1,))
    r0 = F(x)
    x, r, it, _ = jax.lax.while_loop(cond, body, (x, r0, jnp.asarray(0), jnp.asarray(False)))
    res = jnp.where(jnp.all(jnp.isfinite(r)), jnp.max(jnp.abs(r)), jnp.inf)
    converged = (res <= tol) & jnp.all(jnp.isfinite(x))
    return NewtonResult(x=x.reshape(shape) if not scalar else x[0], converged=converged, iterations=it, residual=res)
