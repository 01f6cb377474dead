"""Optimal taxes as wedges and the regulated competitive equilibrium (DESIGN.md "Optimal taxes as
wedges"; paper 002 §3.4, Proposition 1, eqs. 25-28).

At the planner's allocation (``c, q, b', k'`` and ``H``, the private multiplier of the economy
that implements it), the taxes are the wedges between the private Euler equations and that
allocation, with ``η' = H'``:

    1 + τ^B = (u'(c) − H) / (β R E[u'(c')])                      (τ^B = 0 where binding with H > 0)
    1 + τ^K_i = [u'(c)(q + Φ_i,2) − β E[u'(c')(q' − Φ_i,1) + θ q' η']] / (β E[u'(c') α z̄'_i k'_i^(α+ξ_i−1)])

``τ^K_i`` is chosen at t (a function of today's state) on the return at t + 1. They satisfy
``Σ_i k'_i τ^K_i β E[u'(c') MPK'_i] = 0`` (the aggregate price is untaxed, because the planner's
``q`` is the share-weighted private Euler); revenue is rebated lump sum, so the budget is the DE's.

The regulated DE (:func:`solve_regulated`) is the DE's node problem
(:class:`.equilibrium.DEProblem`, its regimes, passes and diagnostics) with the private Euler
equations taxed,

    u'(c) = β R (1 + τ^B) E[u'(c')] + η,
    u'(c)(q + Φ_i,2) = β E[u'(c')(q' + (1 + τ^K_i) α z̄'_i k'_i^(α+ξ_i−1) − Φ_i,1) + θ q' η'],

the taxes given on the grid nodes (the regulated economy lives on the planner's grid, so no
interpolation of the taxes is needed there) or as constants. Proposition 1 is the statement that
this regulated DE reproduces the planner's allocation.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import interp_grad
from ...numerics.time_iteration import TimeIteration, solve_time_iteration
from . import primitives as pr
from .equilibrium import DEProblem, _initial_policies, _levels, _x_from
from .solution import EquilibriumSolution
from .grid import grid_states, policy_shape, state_axes
from .params import Grid, Params
from .equilibrium import solution_fields
from .planner import jvp_jacobian
from .system import expected_tables, node_states, node_system, shares_from_logits

__all__ = ["optimal_taxes", "solve_regulated", "RegulatedProblem", "TaxedNodes", "capital_tax_identity"]

def _wedges(params, grid, c, q, H, bn, kn, k, s):
    """``(τ^B, τ^K (N, I), β E[u' MPK'_i] (N, I))`` at nodes (flattened policies, module docstring)."""
    I = kn.shape[-1]
    shape = policy_shape(grid, I, params.n_states)
    table = expected_tables(params, c, q, H, kn, shape)
    axes = state_axes(grid, I)
    ext = (grid.b_extrapolate,) + (False,) * (I - 1)
    val, _ = interp_grad(axes, table, [bn] + [kn[:, j] for j in range(I - 1)], extrapolate=ext, tail=(s,))
    beta, theta = params.beta, pr.finite_theta(params)
    up = pr.marginal_utility(params, c)
    e_u, e_uq, e_qH = val[:, 0], val[:, 1], val[:, 2 + 2 * I]
    tau_b = (up - H) / (beta * params.R[s] * e_u) - 1.0
    phi, delta, alpha, xi = params.phi, params.delta, params.alpha, params.xi
    lhs = up[:, None] * (q[:, None] + pr.adj_cost_d2(params, k, kn))
    ex = e_uq[:, None] + 0.5 * phi * (val[:, 2 + I: 2 + 2 * I] / kn**2 - (1.0 + delta) ** 2 * e_u[:, None]) + theta * e_qH[:, None]
    ret = beta * alpha * kn ** (alpha + xi - 1.0) * val[:, 2: 2 + I]
    tau_k = (lhs - beta * ex) / ret - 1.0
    return tau_b, tau_k, ret


@functools.partial(jax.jit, static_argnames=("grid",))
def _taxes(params, grid, c, q, H, bn, kn):
    I = kn.shape[-1]
    shape = c.shape
    flat = lambda a: a.reshape(-1)
    _, k, s, _ = grid_states(grid, I, params.n_states)
    tau_b, tau_k, ret = _wedges(params, grid, flat(c), flat(q), flat(H), flat(bn), kn.reshape(-1, I), k, s)
    return tau_b.reshape(shape), tau_k.reshape(shape + (I,)), ret.reshape(shape + (I,))


def optimal_taxes(planner_solution):
    """``(tau_b, tau_k)`` on the grid: ``tau_b`` of the policy shape, ``tau_k`` with a trailing axis
    of length I (module docstring; DESIGN.md "Optimal taxes as wedges")."""
    sp = planner_solution
    tau_b, tau_k, _ = _taxes(sp.params, sp.grid, sp.c, sp.q, sp.eta, sp.b_next, sp.k_next)
    return tau_b, tau_k


def capital_tax_identity(planner_solution, tau_k):
    """``Σ_i k'_i τ^K_i β E[u'(c') MPK'_i] / (u'(c) q)`` on the grid: zero for the optimal taxes (the
    aggregate price is untaxed), a check of :func:`optimal_taxes`."""
    sp = planner_solution
    _, _, ret = _taxes(sp.params, sp.grid, sp.c, sp.q, sp.eta, sp.b_next, sp.k_next)
    up = pr.marginal_utility(sp.params, sp.c)
    return jnp.sum(sp.k_next * tau_k * ret, axis=-1) / (up * sp.q)


class TaxedNodes(NamedTuple):
    """The DE's :class:`.system.NodeState` fields plus each node's taxes (subset with the nodes)."""

    k: jax.Array
    s: jax.Array
    wealth: jax.Array
    tau_b: jax.Array
    tau_k: jax.Array


class RegulatedProblem(DEProblem):
    """:class:`.equilibrium.DEProblem` with the taxed private Euler equations (module docstring);
    ``nodes`` is a :class:`TaxedNodes`. The node Jacobian is the DE's analytic one with the bond row
    rescaled and the capital-tax terms differentiated by ``jax.jvp``."""

    def _system(self, x, node, regime, table, jacobian):
        p = self.params
        I = node.k.shape[-1]
        axes = self._axes
        ext = (self.grid.b_extrapolate,) + (False,) * (I - 1)

        def correction(*xs):
            """The capital taxes' terms τ^K_i β α k'_i^(α+ξ_i−1) E[u' z̄'_i] / (u'(c)(q + Φ_i,2)), i = 1..I."""
            c, q = jnp.exp(xs[0]), jnp.exp(xs[1])
            kn, log_kn = shares_from_logits(list(xs[2:]), like=xs[0])
            adj = sum(0.5 * p.phi[i] * (kn[i] / node.k[..., i] - 1.0 - p.delta[i]) ** 2 * node.k[..., i]
                      for i in range(I))
            bn = p.R[node.s] * (node.wealth - adj - c)
            val, _ = interp_grad(axes, table, [bn] + kn[: I - 1], extrapolate=ext, tail=(node.s,))
            up = jnp.exp(-p.gamma * xs[0])
            out = []
            for i in range(I):
                d_i = q + p.phi[i] * (kn[i] / node.k[..., i] - 1.0 - p.delta[i])
                mpk = p.alpha * jnp.exp((p.alpha + p.xi[i] - 1.0) * log_kn[i])
                out.append(node.tau_k[..., i] * p.beta * mpk * val[..., 2 + i] / (up * d_i))
            return out, ()

        base = node_system(list(x), node, regime, p, table, axes, self.grid.b_extrapolate, self.grid.debt_limit,
                           jacobian=jacobian)
        r, aux = base[0], base[-1]
        c, q, eta, bn, kn, viol, mu = aux
        one_b = 1.0 + node.tau_b
        fac = jnp.exp(-jnp.log(one_b) / p.gamma)  # u'^(−1) of the taxed bond return, relative
        r0 = jnp.where(regime, r[0], fac * (r[0] + 1.0) - 1.0)
        aux = (c, q, jnp.where(regime, one_b * eta - node.tau_b * mu, 0.0), bn, kn, viol, mu)
        if not jacobian:
            extra, _ = correction(*x)
            return [r0] + [r[1 + i] + extra[i] for i in range(I)], aux
        extra, dextra, _ = jvp_jacobian(correction, list(x))
        J = base[1]
        J0 = [jnp.where(regime, v, fac * v) for v in J[0]]
        J = [J0] + [[J[1 + i][b] + dextra[i][b] for b in range(len(x))] for i in range(I)]
        return [r0] + [r[1 + i] + extra[i] for i in range(I)], J, aux


def _check_taxes(tau, shape, name):
    a = np.asarray(tau) if not isinstance(tau, jax.core.Tracer) else None
    sh = jnp.shape(tau)
    if sh != () and sh != shape[-1:] and sh != shape:
        raise ValueError(f"{name} must be a scalar, shape {shape[-1:]} or the grid shape {shape}; got {sh}")
    if a is not None and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return jnp.broadcast_to(jnp.asarray(tau, dtype=float), shape)


@functools.partial(jax.jit, static_argnames=("grid", "n_halvings", "chunk_size", "anderson"))
def _solve(params, grid, init, tau_b, tau_k, tol, damping, newton_tol, max_iter, newton_max_iter, newton_sweep_iter, *,
           n_halvings, chunk_size, anderson):
    I, ns = params.n_industries, params.n_states
    b, k, s, feasible = grid_states(grid, I, ns)

    base = node_states(params, b, k, s)
    nodes = TaxedNodes(k=base.k, s=base.s, wealth=base.wealth, tau_b=tau_b.reshape(-1), tau_k=tau_k.reshape(-1, I))
    problem = RegulatedProblem(params=params, nodes=nodes, feasible=feasible, grid=grid, newton_tol=newton_tol,
                               n_halvings=n_halvings, chunk_size=chunk_size)
    solver = TimeIteration(tol=tol, max_iter=max_iter, damping=damping, sweep_steps=newton_sweep_iter,
                           full_steps=newton_max_iter, anderson=anderson)
    c0, q0, eta0, bn0, kn0, regime0 = init
    out = solve_time_iteration(solver, problem, (_x_from(c0, q0, kn0), eta0, bn0), regime0)
    (x, eta, bn), regime = out.policy, out.carry
    c, q, kn = _levels(x)
    no_eq, unsolved, resid = out.info.stats
    return EquilibriumSolution(**solution_fields(params, grid, out, c, q, eta, bn, kn, regime, no_eq, unsolved, resid,
                                                 feasible))


def solve_regulated(params: Params, grid: Grid | None, tau_b, tau_k, *, init: EquilibriumSolution | None = None,
                    max_iter: int = 1000, tol: float = 1e-7, damping: float = 0.0, newton_tol: float = 1e-10,
                    newton_max_iter: int = 30, newton_sweep_iter: int = 2, n_halvings: int = 3,
                    chunk_size: int = 1024, anderson: int = 5) -> EquilibriumSolution:
    """The competitive equilibrium with the debt tax ``tau_b`` and the capital taxes ``tau_k``
    (module docstring), lump-sum rebated, by the DE's time iteration.

    Args:
        params, grid: the economy (``grid`` default ``Grid()``).
        tau_b: a scalar or the grid's policy shape ``(n_b, n_k.., n_s)``.
        tau_k: shape ``(I,)`` (constants per industry) or ``policy shape + (I,)``; e.g. the output
            of :func:`optimal_taxes`.
        init: a solution on the same grid to start from (e.g. the planner: Proposition 1 says it is
            the fixed point); default the DE's initial guess.
        The other settings as :func:`solve_equilibrium`.

    Returns:
        :class:`EquilibriumSolution` (``eta`` the private multiplier of the regulated economy).
    """
    grid = Grid() if grid is None else grid
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    I, ns = params.n_industries, params.n_states
    shape = policy_shape(grid, I, ns)
    tb = _check_taxes(tau_b, shape, "tau_b")
    if jnp.shape(tau_k) not in ((I,), shape + (I,)):
        raise ValueError(f"tau_k must have shape ({I},) or the grid shape plus industries {shape + (I,)}; "
                         f"got {jnp.shape(tau_k)}")
    tk = jnp.broadcast_to(jnp.asarray(tau_k, dtype=float), shape + (I,))
    if not isinstance(tau_b, jax.core.Tracer) and not isinstance(tau_k, jax.core.Tracer):
        if np.any(np.asarray(tb) <= -1.0):
            raise ValueError("tau_b must be > -1 (1 + tau_b scales the bond return)")
    if init is None:
        pol0 = _initial_policies(params, grid)
    else:
        if init.grid != grid or init.c.shape != shape:
            raise ValueError("init must be a solution on the same grid")
        flat = lambda a: a.reshape(-1)
        pol0 = (flat(init.c), flat(init.q), flat(init.eta), flat(init.b_next), init.k_next.reshape(-1, I),
                flat(init.binding))
    return _solve(params, grid, pol0, tb, tk, jnp.asarray(tol, float), jnp.asarray(damping, float),
                  jnp.asarray(newton_tol, float), jnp.asarray(max_iter, dtype=int), jnp.asarray(int(newton_max_iter)),
                  jnp.asarray(int(newton_sweep_iter)), n_halvings=int(n_halvings), chunk_size=int(chunk_size),
                  anderson=int(anderson))
