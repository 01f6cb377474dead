"""Welfare: the value of an allocation by policy evaluation and the consumption-equivalent gain of
the planner over the competitive economy (DESIGN.md "Welfare"; paper 002 §5, eq. 29 with its
exponent corrected).

Welfare comparisons use the homothetic ``u(c) = c^(1−γ)/(1−γ)`` (DESIGN.md), so that scaling
consumption by ``1 + Λ`` in every period scales the value by ``(1 + Λ)^(1−γ)``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ...numerics.lottery import lottery
from .solution import EquilibriumSolution
from .grid import grid_states, state_axes

__all__ = ["policy_value", "evaluate_policy", "welfare_gain", "homothetic_utility", "simulated_comparison"]


def homothetic_utility(params, c):
    """``u(c) = c^(1−γ)/(1−γ)`` (γ ≠ 1), the welfare utility of DESIGN.md."""
    return jnp.exp((1.0 - params.gamma) * jnp.log(jnp.maximum(c, 1e-300))) / (1.0 - params.gamma)


@functools.partial(jax.jit, static_argnames=("grid", "max_iter"))
def policy_value(params, grid, c, b_next, k_next, tol=1e-12, max_iter: int = 5000):
    """The value of following the grid policies forever (policy evaluation, a linear fixed point):

        V(b, k, s) = u(c(b, k, s)) + β Σ_s' P[s, s'] V(b'(b, k, s), k'(b, k, s), s'),

    ``V`` multilinear in ``(b', k'_1..k'_{I−1})`` between grid nodes (the lottery weights of
    :func:`jaxecon.numerics.lottery`, clamped to the grid box, as the solver's interpolation), iterated
    from ``u/(1 − β)`` (a β-contraction) to the relative sup change ``tol``.

    Args:
        params, grid: the economy; c, b_next: ``policy shape``; k_next: ``policy shape + (I,)``.

    Returns:
        ``(V, converged)`` with ``V`` of the policy shape.
    """
    I = k_next.shape[-1]
    shape = c.shape
    ns = shape[-1]
    axes = state_axes(grid, I)
    _, _, s, _ = grid_states(grid, I, ns)
    points = [b_next.reshape(-1)] + [k_next[..., j].reshape(-1) for j in range(I - 1)]
    lot = lottery(axes, points, params.P)
    U = homothetic_utility(params, c.reshape(-1))

    def T(V):
        EV = V.reshape(-1, ns) @ params.P.T  # EV[e', s] = Σ_s' P[s, s'] V(e', s')
        return U + params.beta * jnp.sum(lot.weight * EV[lot.index, s[:, None]], axis=1)

    def body(carry):
        V, _, n = carry
        new = T(V)
        return new, jnp.max(jnp.abs(new - V) / (1.0 + jnp.abs(V))), n + 1

    V0 = U / (1.0 - params.beta)
    V, change, _ = jax.lax.while_loop(lambda cr: (cr[1] > tol) & (cr[2] < max_iter), body,
                                      (V0, jnp.asarray(jnp.inf), jnp.asarray(0)))
    return V.reshape(shape), change <= tol


def evaluate_policy(solution: EquilibriumSolution, *, tol: float = 1e-12, max_iter: int = 5000):
    """:func:`policy_value` of a solution's allocation on its grid (at grid nodes the consistent
    allocation IS the grid policies: ``c`` there satisfies the budget with the policy ``b'``)."""
    return policy_value(solution.params, solution.grid, solution.c, solution.b_next, solution.k_next, tol,
                        max_iter=int(max_iter))


def welfare_gain(de_solution: EquilibriumSolution, planner_solution, *, v_de=None):
    """The consumption-equivalent welfare gain ``Λ(b, k, s)`` of the planner over the competitive
    economy, from ``(1 + Λ)^(1−γ) V^DE = V^SP`` (DESIGN.md; the seed's eq. 29 misprints the
    exponent):  ``Λ = (V^SP / V^DE)^(1/(1−γ)) − 1``.

    ``V^DE`` by policy evaluation of the DE's allocation (:func:`evaluate_policy`, or pass ``v_de``),
    ``V^SP = planner_solution.v`` (the planner's value, evaluated the same way). Both solutions must
    be on the same grid. Returns ``Λ`` of the policy shape.
    """
    if de_solution.grid != planner_solution.grid or de_solution.c.shape != planner_solution.c.shape:
        raise ValueError("welfare_gain: the DE and planner solutions must be on the same grid")
    if v_de is None:
        v_de, _ = evaluate_policy(de_solution)
    g = de_solution.params.gamma
    return jnp.exp(jnp.log(planner_solution.v / v_de) / (1.0 - g)) - 1.0


def simulated_comparison(de_solution: EquilibriumSolution, planner_solution, key, *, n: int = 1000,
                         periods: int = 500, burn: int = 100) -> dict:
    """DE and planner simulated on COMMON shock paths (:func:`.simulate.simulate`, the consistent
    allocation), from ``b = 0`` and equal shares, the first ``burn`` periods dropped.

    Returns ``{"DE": {...}, "SP": {...}}`` with ``crisis_frequency`` (share of periods in which the
    collateral constraint binds: ``η > 0`` for the DE, the planner's ``μ > 0`` for the SP),
    ``debt_output`` (mean ``−b/Y``), ``consumption_volatility`` (mean over paths of the standard
    deviation of ``log c``) and ``gini`` (mean Gini of the capital shares).
    """
    import equinox as eqx

    from .simulate import simulate

    if de_solution.grid != planner_solution.grid:
        raise ValueError("simulated_comparison: the DE and planner solutions must be on the same grid")
    if int(burn) >= int(periods):
        raise ValueError(f"burn ({burn}) must be smaller than periods ({periods})")
    I = de_solution.n_industries
    b0 = jnp.zeros(int(n))
    k0 = jnp.full((int(n), I), 1.0 / I)
    paths_de = simulate(de_solution, b0, k0, key=key, periods=int(periods))
    sp = eqx.tree_at(lambda t: t.eta, planner_solution, planner_solution.mu)  # binding = the planner's μ > 0
    paths_sp = simulate(sp, b0, k0, s_paths=paths_de.s, periods=int(periods))

    def moments(pth):
        sl = slice(int(burn), None)
        return {"crisis_frequency": float(jnp.mean(pth.binding[:, sl])),
                "debt_output": float(jnp.mean(-pth.b[:, sl] / pth.output[:, sl])),
                "consumption_volatility": float(jnp.mean(jnp.std(jnp.log(pth.c[:, sl]), axis=1))),
                "gini": float(jnp.mean(pth.gini[:, sl]))}

    return {"DE": moments(paths_de), "SP": moments(paths_sp)}
