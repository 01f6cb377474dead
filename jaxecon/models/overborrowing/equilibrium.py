"""The decentralized (competitive) equilibrium of Bianchi (2011) by time iteration."""

from __future__ import annotations

from ...numerics import Axis
from .params import Params, check_grid
from .time_iteration import Solution, solve_time_iteration

__all__ = ["solve_equilibrium"]


def _check_config(tol, max_iter, damping):
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive int; got {max_iter!r}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0; got {tol}")
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping (the weight on the old iterate) must lie in [0, 1); got {damping}")


def solve_equilibrium(
    params: Params,
    grid: Axis,
    *,
    init=None,
    tol: float = 1e-9,
    max_iter: int = 2000,
    damping: float = 0.0,
) -> Solution:
    """Decentralized equilibrium: time iteration on the households' Euler equation (Bianchi 2011, §I)

        u_T(cT) = β R E[u_T(cT') | s] + μ,   μ >= 0,   μ (b' + κ (p yN + yT)) = 0,
        cT + b' = R b + yT,   p = (1−ω)/ω (cT/yN)^(1+η),

    with the price moving with consumption inside the constraint; where it binds, cT solves
    ``cT − κ p(cT) yN = R b + yT + κ yT`` (Newton, not a grid search). Next-period consumption is
    interpolated linearly in b'. Works under ``jax.vmap`` over stacked Params (``grid`` shared).

    Args:
        params: one parameter set (or stacked, under vmap).
        grid: the bond grid (:func:`bond_grid`).
        init: optional starting policies ``(cT, mu)``, each ``(nb, ns)``.
        tol: sup-norm change of ``(cT, μ)`` at which to stop.
        max_iter: iteration cap; reaching it gives ``converged=False`` (never an exception).
        damping: weight w on the old policy, ``x ← (1−w) T(x) + w x`` (0 = undamped), as in every
            :class:`jaxecon.numerics.TimeIteration`.

    Returns:
        :class:`Solution` with ``planner=False``.
    """
    _check_config(tol, max_iter, damping)
    check_grid(params, grid)
    return solve_time_iteration(params, grid, False, init=init, tol=tol, max_iter=max_iter, damping=damping)
