"""Distributions on a tensor grid with lottery weights (Young 2010), differentiable.

A policy sends the mass at node ``(e, s)`` (``e`` a node of the endogenous tensor grid, ``s`` an
exogenous state) to the point ``x'(e, s)``, which lies between grid nodes. Young's (2010, "Solving
the incomplete markets model with aggregate uncertainty using the Krusell-Smith algorithm and
non-stochastic simulations", JEDC 34) lottery splits it over the ``2^d`` corners of the cell around
``x'`` with the multilinear weights, and then over ``s'`` with the transition matrix:

    π'(e', s') = Σ_{e, s} π(e, s) w_{e'}(x'(e, s)) P[s, s'].

The weights are continuous in ``x'`` (piecewise linear), so moments of the stationary
distribution are differentiable in the policies and, through them, in the parameters. The
stationary distribution is found by iterating the map; its gradient comes from the implicit
function theorem on ``π = F(π) + (1 − Σπ) u`` (``u`` uniform), whose Jacobian ``I − F + u 1ᵀ`` is
nonsingular when the chain on the grid has one ergodic class, solved by GMRES.
"""

from __future__ import annotations

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int

from .time_iteration import nan_tangent_unless

__all__ = ["Lottery", "lottery", "push_forward", "StationaryDistribution", "stationary_lottery"]


class Lottery(eqx.Module):
    """Where each node's mass goes: for the nodes ``(e, s)`` flattened in C order over
    ``(n_1, ..., n_d, n_s)``, the flat endogenous index of each of the ``2^d`` cell corners and
    its weight, ``(N, 2^d)`` each; and the transition matrix ``P``."""

    index: Int[Array, "N K"]
    weight: Float[Array, "N K"]
    P: Float[Array, "ns ns"]


def lottery(axes, points, P) -> Lottery:
    """Lottery weights of next-period endogenous points ``points`` (a list of d arrays ``(N,)``,
    one per axis, for the N nodes in C order over the grid and ``s``), clamped to the grid box."""
    d = len(axes)
    sizes = [a.n for a in axes]
    cells = []
    for ax, x in zip(axes, points):
        i, t = ax.locate(x)
        cells.append((i, jnp.clip(t, 0.0, 1.0)))
    index, weight = [], []
    for corner in itertools.product((0, 1), repeat=d):
        flat = jnp.zeros_like(cells[0][0])
        w = jnp.ones_like(cells[0][1])
        for dim, (bit, (i, t)) in enumerate(zip(corner, cells)):
            flat = flat * sizes[dim] + i + bit
            w = w * (t if bit else 1.0 - t)
        index.append(flat)
        weight.append(w)
    return Lottery(index=jnp.stack(index, axis=1), weight=jnp.stack(weight, axis=1), P=jnp.asarray(P))


def push_forward(dist, lot: Lottery):
    """One period of the distribution: ``dist`` of shape ``(N,)`` (nodes in C order over the
    endogenous grid and ``s``) to the next period's (module docstring). Linear in ``dist``."""
    ns = lot.P.shape[0]
    n_end = dist.shape[0] // ns
    s = jnp.broadcast_to(jnp.arange(ns)[None, :], (n_end, ns)).reshape(-1)
    mass = dist[:, None] * lot.weight
    moved = jnp.zeros((n_end, ns), dist.dtype).at[lot.index, s[:, None]].add(mass)  # (e', s), today's s
    return (moved @ lot.P).reshape(-1)


class StationaryDistribution(eqx.Module):
    """Outcome of :func:`stationary_lottery`.

    Attributes:
        dist: the stationary distribution over nodes, ``(N,)``, summing to one.
        iterations: periods iterated.
        max_change: sup-norm of the last period's change of ``dist``.
        converged: ``max_change <= tol`` (gradients are NaN otherwise).
    """

    dist: Float[Array, " N"]
    iterations: Int[Array, ""]
    max_change: Float[Array, ""]
    converged: Bool[Array, ""]


def _iterate(inputs):
    lot, dist0, tol, max_iter = inputs[:4]

    def body(c):
        d, _, it = c
        new = push_forward(d, lot)
        return new, jnp.max(jnp.abs(new - d)), it + 1

    def cond(c):
        return (c[1] > tol) & (c[2] < max_iter)

    d, change, it = jax.lax.while_loop(cond, body, (dist0, jnp.asarray(jnp.inf), jnp.asarray(0)))
    return d, StationaryDistribution(dist=d, iterations=it, max_change=change, converged=change <= tol)


def _stationarity(dist, aux, inputs):
    lot = inputs[0]
    return dist - push_forward(dist, lot) - (1.0 - jnp.sum(dist)) / dist.shape[0]


def stationary_lottery(lot: Lottery, *, dist0=None, tol: float = 1e-13, max_iter: int = 100_000,
                       linear_solver=None) -> StationaryDistribution:
    """The stationary distribution of :func:`push_forward` (from ``dist0``, default uniform),
    iterated until its sup-norm change is ``<= tol``; differentiable in ``lot`` (and so in the
    policies that made it) by the implicit function theorem (module docstring)."""
    n = lot.index.shape[0]
    dist0 = jnp.full((n,), 1.0 / n) if dist0 is None else jnp.asarray(dist0, float)
    solver = linear_solver or lx.GMRES(rtol=1e-11, atol=1e-14, restart=50, stagnation_iters=50, max_steps=5000)
    adjoint = optx.ImplicitAdjoint(linear_solver=solver)
    dist, out = adjoint.apply(_iterate, _stationarity, (lot, dist0, jnp.asarray(tol), jnp.asarray(max_iter)),
                              frozenset())
    return eqx.tree_at(lambda o: o.dist, out, nan_tangent_unless(dist, out.converged, lot))
