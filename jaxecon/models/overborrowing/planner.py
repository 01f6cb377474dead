"""The constrained-efficient (social planner's) allocation of Bianchi (2011) by time iteration."""

from __future__ import annotations

from ...numerics import Axis
from .equilibrium import _check_config
from .params import Params, check_grid
from .time_iteration import Solution, solve_time_iteration

__all__ = ["solve_planner"]


def solve_planner(
    params: Params,
    grid: Axis,
    *,
    init=None,
    tol: float = 1e-9,
    max_iter: int = 2000,
    damping: float = 0.0,
) -> Solution:
    """Constrained-efficient planner (Bianchi 2011, §II): the same resource and collateral
    constraints, but the planner internalizes that cT moves the price p(cT) in the constraint.
    Its Euler equation adds the pecuniary-externality term Ψ = κ yN ∂p/∂cT = κ(1+η) p yN / cT:

        u_T(cT) + μ Ψ(cT) = β R E[u_T(cT') + μ' Ψ(cT') | s] + μ,   μ >= 0,
        μ (b' + κ (p yN + yT)) = 0,   cT + b' = R b + yT.

    Derivation: the Lagrangian ``u + βEV(b') + λ(Rb + yT − cT − b') + μ(b' + κ(p(cT) yN + yT))``
    gives ``λ = u_T + μΨ`` (FOC cT), ``βE V_b' = λ − μ`` (FOC b') and ``V_b = R λ`` (envelope).
    Where the constraint binds the allocation equals the decentralized one at that state (cT
    from the constraint), with ``μ = (u_T − βR EΛ') / (1 − Ψ)``. Arguments as
    :func:`solve_equilibrium`; a good ``init`` is the decentralized ``(cT, mu)``.

    Returns:
        :class:`Solution` with ``planner=True``.
    """
    _check_config(tol, max_iter, damping)
    check_grid(params, grid)
    return solve_time_iteration(params, grid, True, init=init, tol=tol, max_iter=max_iter, damping=damping)
