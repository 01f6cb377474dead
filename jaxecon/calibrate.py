"""Gradient-based calibration: fit a parameter pytree to targets by minimizing a loss with optax.

Model-agnostic. The pieces:

* **parameters** -- any pytree of float arrays (e.g. a dict of *unconstrained* log-parameters; map
  them to a model's Params inside the loss, so positivity and bounds hold by construction);
* **targets and loss** -- ``loss_fn(params, *args) -> scalar``; :func:`target_loss` builds one from a
  model function and a pytree of targets with a named distance (``"sse"``, ``"log_sse"``,
  ``"cross_entropy"`` for shares), optionally weighted;
* **optimizer** -- any optax ``GradientTransformation`` (default ``optax.lbfgs()``, whose line search
  receives ``value``, ``grad`` and ``value_fn``; first-order methods such as ``optax.adam`` ignore them);
* **stopping rule** -- stop (converged) at the first step where the gradient's sup-norm is
  ``<= grad_tol``, or, only when the caller passes a target ``loss_tol``, where ``loss <= loss_tol``;
  stop (*not* converged) when the relative loss decrease over the last ``patience`` steps is below
  ``rtol`` (a stall) or at ``max_steps``. There is no default loss target: whether a loss value
  means "fitted" depends on its offset (a loss shifted by a constant has the same minimizer), so only
  a caller who knows the loss's minimum (e.g. 0 for a sum of squares of exactly attainable targets)
  may set one;
* **history** -- the loss and gradient norm at every step (NaN after the stop).

The whole loop is one ``lax.while_loop`` under ``jit``, so :func:`calibrate` also runs under
``jax.vmap`` (e.g. one calibration per region or per bootstrap draw), with per-element flags.
"""

from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, Int, PyTree

__all__ = ["CalibrationResult", "calibrate", "target_loss", "DISTANCES"]


class CalibrationResult(eqx.Module):
    """Outcome of :func:`calibrate` (per problem; batched under ``vmap``).

    Attributes:
        params: the parameter pytree at the stop.
        loss: the loss at ``params``.
        grad_norm: sup-norm of the gradient at ``params``.
        iterations: optimizer steps taken.
        converged: stopped by ``grad_tol`` or an explicit ``loss_tol`` (not by the step cap or a stall).
        stalled: stopped because the loss stopped decreasing (``rtol`` over ``patience`` steps).
        loss_history: ``(max_steps + 1,)`` loss before each step (entry i = after i steps); NaN after the stop.
        grad_norm_history: ``(max_steps + 1,)`` gradient sup-norm, likewise.
    """

    params: PyTree
    loss: Float[Array, ""]
    grad_norm: Float[Array, ""]
    iterations: Int[Array, ""]
    converged: Bool[Array, ""]
    stalled: Bool[Array, ""]
    loss_history: Float[Array, " S"]
    grad_norm_history: Float[Array, " S"]

    def summary(self) -> str:
        """One line: status, steps, final loss and gradient norm (concrete results only)."""
        status = "converged" if bool(self.converged) else ("stalled" if bool(self.stalled) else "hit max_steps")
        return (f"calibration {status} after {int(self.iterations)} steps: loss {float(self.loss):.3e}, "
                f"|grad|_inf {float(self.grad_norm):.3e}")


def _sse(model, target):
    return jnp.sum((model - target) ** 2)


def _log_sse(model, target):
    return jnp.sum((jnp.log(model) - jnp.log(target)) ** 2)


def _cross_entropy(model, target):
    # Σ target (ln target - ln model): Kullback-Leibler divergence of shares (>= 0, 0 iff equal).
    return jnp.sum(jnp.where(target > 0, target * (jnp.log(jnp.where(target > 0, target, 1.0)) - jnp.log(model)), 0.0))


#: Named distances for :func:`target_loss`: distance(model_leaf, target_leaf) -> scalar.
DISTANCES = {"sse": _sse, "log_sse": _log_sse, "cross_entropy": _cross_entropy}


def target_loss(model_fn: Callable, targets: PyTree, distance: str | Callable = "sse",
                weights: PyTree | None = None) -> Callable:
    """A loss ``loss(params, *args) = Σ_leaves w_leaf · distance(model_fn(params, *args)_leaf, target_leaf)``.

    Args:
        model_fn: maps the parameter pytree (and optional extra args) to a pytree of model moments
            with the same structure as ``targets``.
        targets: pytree of target arrays (the data moments).
        distance: a name in :data:`DISTANCES` or a callable ``(model, target) -> scalar``.
        weights: pytree of scalar weights per target leaf (default 1).
    """
    if isinstance(distance, str) and distance not in DISTANCES:
        raise ValueError(f"distance must be one of {sorted(DISTANCES)} or a callable; got {distance!r}")
    dist = DISTANCES[distance] if isinstance(distance, str) else distance
    w = weights if weights is not None else jax.tree.map(lambda _: 1.0, targets)

    def loss(params, *args):
        model = model_fn(params, *args)
        terms = jax.tree.map(lambda m, t, wi: wi * dist(m, t), model, targets, w)
        return sum(jax.tree.leaves(terms))

    return loss


def _finite_number(x) -> bool:
    """True for a concrete finite real scalar (Python or NumPy number)."""
    try:
        return bool(jnp.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def _sup_norm(tree) -> Array:
    leaves = [jnp.max(jnp.abs(x)) for x in jax.tree.leaves(tree)]
    return jnp.max(jnp.stack(leaves)) if leaves else jnp.asarray(0.0)


def calibrate(loss_fn: Callable, params0: PyTree, *args, optimizer: optax.GradientTransformation | None = None,
              max_steps: int = 1000, loss_tol: float | None = None, grad_tol: float = 1e-8, rtol: float = 0.0,
              patience: int = 50) -> CalibrationResult:
    """Minimize ``loss_fn(params, *args)`` over the parameter pytree from ``params0`` with optax.

    Iterates ``params <- optax.apply_updates(params, optimizer.update(grad, state, params, value=...,
    grad=..., value_fn=...))`` inside a ``lax.while_loop`` and stops by the rule in the module
    docstring. Convergence is reported (``converged``), never assumed. jit/vmap-safe (``max_steps``,
    ``patience`` and the optimizer are static).

    Args:
        loss_fn: scalar loss, differentiable in its first argument.
        params0: initial parameter pytree (float arrays).
        *args: extra arguments passed to ``loss_fn`` unchanged (e.g. targets), not optimized.
        optimizer: optax transformation (default ``optax.lbfgs()``).
        max_steps: step cap.
        loss_tol: a loss target: stop (converged) when the loss is <= this. Default None: no loss
            test (convergence is judged by the gradient alone, which a constant offset of the loss
            does not change).
        grad_tol: stop (converged) when the gradient sup-norm is <= this (> 0).
        rtol: stop (stalled) when ``loss[i - patience] - loss[i] <= rtol * |loss[i]|``; 0 disables
            all but exact stalls.
        patience: window of the stall test.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1; got {max_steps}")
    if patience < 1:
        raise ValueError(f"patience must be >= 1; got {patience}")
    if not _finite_number(grad_tol) or not grad_tol > 0:
        raise ValueError(f"grad_tol must be a finite number > 0; got {grad_tol!r}")
    if not _finite_number(rtol) or not rtol >= 0:
        raise ValueError(f"rtol must be a finite number >= 0; got {rtol!r}")
    if loss_tol is not None and not _finite_number(loss_tol):
        raise ValueError(f"loss_tol must be None (no loss target) or a finite number; got {loss_tol!r}")
    opt = optimizer if optimizer is not None else optax.lbfgs()
    f = lambda p: loss_fn(p, *args)  # noqa: E731
    vg = jax.value_and_grad(f)

    def run(p0):
        v0, g0 = vg(p0)
        hist = jnp.full((max_steps + 1,), jnp.nan, dtype=jnp.result_type(float)).at[0].set(v0)
        ghist = jnp.full((max_steps + 1,), jnp.nan, dtype=jnp.result_type(float)).at[0].set(_sup_norm(g0))

        def stop_flags(i, v, gn, hist):
            ok = gn <= grad_tol
            if loss_tol is not None:
                ok = ok | (v <= loss_tol)
            past = hist[jnp.maximum(i - patience, 0)]
            stall = (i >= patience) & (past - v <= rtol * jnp.abs(v))
            bad = ~jnp.isfinite(v)
            return ok, stall, bad

        def cond(c):
            i, p, st, v, g, hist, ghist = c
            ok, stall, bad = stop_flags(i, v, _sup_norm(g), hist)
            return (i < max_steps) & ~ok & ~stall & ~bad

        def body(c):
            i, p, st, v, g, hist, ghist = c
            upd, st = opt.update(g, st, p, value=v, grad=g, value_fn=f)
            p = optax.apply_updates(p, upd)
            v, g = vg(p)
            i = i + 1
            return i, p, st, v, g, hist.at[i].set(v), ghist.at[i].set(_sup_norm(g))

        init = (jnp.asarray(0), p0, opt.init(p0), v0, g0, hist, ghist)
        i, p, _, v, g, hist, ghist = jax.lax.while_loop(cond, body, init)
        gn = _sup_norm(g)
        ok, stall, bad = stop_flags(i, v, gn, hist)
        return CalibrationResult(params=p, loss=v, grad_norm=gn, iterations=i, converged=ok & ~bad,
                                 stalled=stall & ~ok, loss_history=hist, grad_norm_history=ghist)

    return jax.jit(run)(params0)
