"""The ergodic distribution of the simulated allocation on the grid, and its moments (DESIGN.md
"Gradients through solves"; the calibration targets of paper 002 §4.2).

The distribution lives on the policy grid ``(b, k_1..k_{I−1}, s)``: the mass at each node moves to
the consistent allocation's ``(b', k')`` there, split over the surrounding grid nodes with Young's
(2010) lottery weights, then over ``s'`` with the chain (:mod:`jaxecon.numerics.lottery`). Because
the weights are continuous in ``(b', k')`` and the solve is implicitly differentiable, every moment
below is differentiable in the parameters (``jax.grad`` through :func:`solve_equilibrium`,
:func:`ergodic_distribution` and :func:`ergodic_moments`).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ...measures import gini
from ...numerics.lottery import StationaryDistribution, lottery, stationary_lottery
from . import primitives as pr
from .equilibrium import EquilibriumSolution
from .grid import grid_states

__all__ = ["ergodic_distribution", "ErgodicMoments", "ergodic_moments"]


def ergodic_distribution(solution: EquilibriumSolution, *, tol: float = 1e-13,
                         max_iter: int = 100_000) -> StationaryDistribution:
    """The stationary distribution over the grid nodes (flattened in C order over the policy
    shape) of the solution's policies, with lottery weights; ``converged`` reports whether the
    iteration met ``tol`` (its gradient is NaN otherwise). Unbatched solutions (``vmap`` for a batch).
    """
    I = solution.n_industries
    points = [solution.b_next.reshape(-1)] + [solution.k_next[..., j].reshape(-1) for j in range(I - 1)]
    lot = lottery(solution.axes, points, solution.params.P)
    return stationary_lottery(lot, tol=tol, max_iter=max_iter)


class ErgodicMoments(eqx.Module):
    """Moments of the ergodic distribution (each a scalar; batched under ``vmap``).

    Attributes:
        debt_output: mean debt over output ``E[−b / Y(k, s)]`` (the paper's NFA/GDP with the sign
            flipped: 0.2 is a net foreign debt of 20% of output).
        binding_frequency: share of periods in which the collateral constraint binds (smooth in
            the parameters through the lottery-weighted distribution).
        gini: mean Gini coefficient of the capital shares ``(k_1..k_I)`` (:func:`jaxecon.measures.gini`).
        q: mean price of capital.
        share_1: mean capital share of industry 1.
    """

    debt_output: Float[Array, ""]
    binding_frequency: Float[Array, ""]
    gini: Float[Array, ""]
    q: Float[Array, ""]
    share_1: Float[Array, ""]


def ergodic_moments(solution: EquilibriumSolution, dist: StationaryDistribution | None = None) -> ErgodicMoments:
    """:class:`ErgodicMoments` of ``solution`` under ``dist`` (default :func:`ergodic_distribution`)."""
    dist = ergodic_distribution(solution) if dist is None else dist
    p = solution.params
    I = solution.n_industries
    b, k, s, _ = grid_states(solution.grid, I, p.n_states)
    w = dist.dist
    mean = lambda v: jnp.sum(w * v)
    Y = pr.output(p, p.z[s], k)
    return ErgodicMoments(
        debt_output=mean(-b / Y),
        binding_frequency=mean(solution.binding.reshape(-1).astype(w.dtype)),
        gini=mean(gini(k)) if I > 1 else jnp.zeros_like(w[0]),
        q=mean(solution.q.reshape(-1)),
        share_1=mean(k[:, 0]),
    )
