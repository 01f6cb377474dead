"""Value functions of given allocations (policy evaluation), the welfare gain and the optimal tax."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...numerics import Axis, fixed_point
from .economy import marginal_utility, utility
from .params import Params
from .time_iteration import Solution, _interp_b

__all__ = ["evaluate_policy", "welfare_gain", "optimal_tax"]


def evaluate_policy(params: Params, grid: Axis, sol: Solution, *, tol: float = 1e-11, max_iter: int = 10_000):
    """Value of following the policy of ``sol`` forever (policy evaluation):

        V(b, s) = u(cT(b, s), yN(s)) + β Σ_s' P(s, s') V(b'(b, s), s'),

    with V interpolated linearly in b' (as the policies are). Solved by
    :func:`jaxecon.numerics.fixed_point` (a β-contraction). Returns ``(V, converged)``, V ``(nb, ns)``.
    """
    return _evaluate(params, grid, sol.cT, sol.b_next, float(tol), int(max_iter))


@functools.partial(jax.jit, static_argnames=("tol", "max_iter"))
def _evaluate(params, grid, cT, b_next, tol, max_iter):
    U = utility(params, cT, params.yN[None, :])
    nb, ns = U.shape
    ss = jnp.broadcast_to(jnp.arange(ns)[None, :], (nb, ns))

    def T(V, _):
        EV = V @ params.chain.P.T
        return U + params.beta * jax.vmap(jax.vmap(lambda b, s: _interp_b(grid, EV, b, s)))(b_next, ss)

    fp = fixed_point(T, U / (1.0 - params.beta), None, tol=tol, max_iter=max_iter)
    return fp.value, fp.converged


def welfare_gain(params: Params, V_de, V_sp):
    """Welfare gain of the planner's allocation in units of permanent consumption:
    ``Λ = (V_SP / V_DE)^(1/(1−σ)) − 1`` (CRRA utility scales with C^(1−σ)); for σ = 1,
    ``Λ = exp((1−β)(V_SP − V_DE)) − 1``."""
    s = params.sigma
    crra = (V_sp / V_de) ** (1.0 / jnp.where(s == 1.0, 2.0, 1.0 - s)) - 1.0
    log_case = jnp.exp((1.0 - params.beta) * (V_sp - V_de)) - 1.0
    return jnp.where(s == 1.0, log_case, crra)


def optimal_tax(params: Params, grid: Axis, sp: Solution):
    """The state-contingent tax on debt that decentralizes the planner's allocation:
    ``τ = u_T(cT) / (β R E[u_T(cT') | s]) − 1`` at planner grid points where the constraint is
    slack, 0 where it binds (README of the shared data; the households' Euler with a tax τ on
    borrowing, ``u_T = (1+τ) βR E[u_T']``, then reproduces the planner's Euler). Also 0 where b'
    sits at an end of the bond grid: there the wedge is the numerical bound's multiplier, present
    in the DE as well, not the externality. Shape ``(nb, ns)``."""
    return _tax(params, grid, sp.cT, sp.b_next, sp.binding | sp.at_grid_bound)


@jax.jit
def _tax(params, grid, cT, b_next, mask):
    yN = params.yN[None, :]
    uT = marginal_utility(params, cT, yN)
    EU = uT @ params.chain.P.T
    nb, ns = uT.shape
    ss = jnp.broadcast_to(jnp.arange(ns)[None, :], (nb, ns))
    E_next = jax.vmap(jax.vmap(lambda b, s: _interp_b(grid, EU, b, s)))(b_next, ss)
    tau = uT / (params.beta * params.R * E_next) - 1.0
    return jnp.where(mask, 0.0, tau)
