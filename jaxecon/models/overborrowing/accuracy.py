"""Euler-equation errors off the grid, in log10 units of tradable consumption."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ...numerics import Axis, newton
from .economy import externality, marginal_utility
from .params import Params
from .simulate import _policy_at
from .time_iteration import Solution, _bounds, _interp_b

__all__ = ["euler_errors"]


def euler_errors(params: Params, grid: Axis, sol: Solution, b, s):
    """Euler-equation errors at arbitrary states ``(b, s)`` (arrays of equal shape).

    At each state the policy is the linear interpolant of ``cT`` capped by the exact collateral
    root (as in the simulation); next period, for every ``s'``, the same rule gives ``c'`` and, for
    the planner, ``μ'`` (linear interpolant of the multiplier policy, 0 in slack regions), so
    ``Λ' = u_T(c') + χ μ' Ψ(c')`` with no interpolation of the expectation. The Euler-implied
    consumption ``c*`` solves ``u_T(c*) = βR E[Λ' | s]`` (Newton); the constrained optimum is
    ``min(c*, c_max)`` (``c_max`` the collateral root / grid bound), and the error is
    ``log10 |min(c*, c_max) / c − 1|`` (``−inf`` mapped to −16).

    Returns:
        log10 errors, same shape as ``b``.
    """
    chi = jnp.asarray(1.0 if sol.planner else 0.0)
    b = jnp.asarray(b, dtype=float)
    s = jnp.asarray(s)
    out = _errors(params, grid, sol.cT, sol.mu, chi, b.reshape(-1), s.reshape(-1))
    return out.reshape(b.shape)


@jax.jit
def _errors(params, grid, cT_grid, mu_grid, chi, b, s):
    ns = params.n_states

    def one(b_i, s_i):
        c, cash = _policy_at(params, grid, cT_grid, b_i, s_i)
        b_next = cash - c

        def next_value(s2):
            c2, _ = _policy_at(params, grid, cT_grid, b_next, s2)
            m2 = _interp_b(grid, mu_grid, b_next, s2)
            return marginal_utility(params, c2, params.yN[s2]) + chi * m2 * externality(params, c2, params.yN[s2])

        lam = jax.vmap(next_value)(jnp.arange(ns))
        target = params.beta * params.R * (params.chain.P[s_i] @ lam)
        yN = params.yN[s_i]
        res = newton(lambda x: jnp.log(marginal_utility(params, jnp.exp(x), yN)) - jnp.log(target), jnp.log(c), tol=1e-13)
        _, c_max, _, _, _ = _bounds(params, grid, b_i, s_i)
        c_opt = jnp.minimum(jnp.exp(res.x), c_max)
        err = jnp.abs(c_opt / c - 1.0)
        return jnp.log10(jnp.maximum(err, 1e-16))

    return jax.vmap(one)(b, s)
