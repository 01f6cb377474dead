"""Damped fixed-point iteration with implicit differentiation (wraps ``optimistix``).

Use it for the outer fixed points that calibration differentiates through (an equilibrium price
vector, a planner's policy): the gradient of the fixed point ``x*(θ)`` of ``x = f(x, θ)`` is taken
by the implicit function theorem, ``dx*/dθ = (I − ∂f/∂x)^−1 ∂f/∂θ``, never by unrolling the loop.
"""

from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int, PyTree

__all__ = ["FixedPointResult", "fixed_point"]


class FixedPointResult(eqx.Module):
    """Outcome of :func:`fixed_point`.

    Attributes:
        value: the fixed point (a pytree like ``x0``).
        iterations: iterations taken.
        residual: ``max|f(x) − x|`` of the *undamped* map at ``value``.
        converged: the iteration met ``tol`` before ``max_iter``.
    """

    value: PyTree
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    converged: Bool[Array, ""]


def fixed_point(
    fn: Callable,
    x0: PyTree,
    args=None,
    *,
    damping: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 1000,
    linear_solver: lx.AbstractLinearSolver | None = None,
) -> FixedPointResult:
    """Find ``x = fn(x, args)`` by the damped iteration ``x ← (1 − w) fn(x, args) + w x``.

    Damping ``w = damping ∈ [0, 1)`` is the weight on the old iterate (as optimistix's ``damp`` and
    every :class:`TimeIteration`; 0 = undamped). It leaves the fixed point unchanged and stabilises
    maps whose Jacobian has eigenvalues below −1. The iteration stops when ``max|fn(x) − x| <= tol``.

    Differentiable in ``args`` (and ``x0`` has no influence on the derivative) through
    ``optimistix.ImplicitAdjoint``; ``linear_solver`` solves the adjoint system (default: lineax's
    automatic dense solver; pass ``lineax.GMRES(rtol, atol)`` for large fixed points, which DESIGN.md
    measured 3.4x faster at 722 × 200 unknowns).

    Never raises on non-convergence: read ``converged`` (per element under ``vmap``).
    """
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping (the weight on the old iterate) must lie in [0, 1); got {damping}")

    def damped(x, a):
        fx = fn(x, a)
        return jax.tree.map(lambda xi, fi: damping * xi + (1.0 - damping) * fi, x, fx)

    solver = optx.FixedPointIteration(rtol=0.0, atol=tol * (1.0 - damping))
    adjoint = optx.ImplicitAdjoint(linear_solver=linear_solver or lx.AutoLinearSolver(well_posed=None))
    sol = optx.fixed_point(damped, solver, x0, args, max_steps=max_iter, throw=False, adjoint=adjoint)
    value = sol.value
    fx = fn(jax.lax.stop_gradient(value), args)
    diffs = jax.tree.map(lambda a, b: jnp.max(jnp.abs(a - b)), fx, jax.lax.stop_gradient(value))
    residual = jnp.max(jnp.stack(jax.tree.leaves(diffs)))
    converged = (sol.result == optx.RESULTS.successful) & jnp.isfinite(residual)
    return FixedPointResult(
        value=value, iterations=sol.stats["num_steps"], residual=residual, converged=converged
    )
