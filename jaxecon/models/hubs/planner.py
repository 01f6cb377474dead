"""The constrained planner of paper 001 §II (Proposition 1 of Rossi-Hansberg, Sarte & Schwartzman 2020):
the optimal allocation as the equilibrium under taxes and transfers,

    P_n C^k_n = (1 − t_L)(w^k_n + Δ^k_n) + χ^k + R^k,   t_L = 1/(1 + ν),

    Δ^k_n = Σ_{k',j} (w^k'_n L^k'j_n / L^k_n) ∂ln λ^k'j_n / ∂ln L^k_n,
    ∂ln λ^k'j_n/∂ln L^k_n = τ^R,k'j (1{k' = k} − L^k_n/L_n) + τ^L,j L^k_n/L_n        (from eq. 1),

(the paper's Σ_kj runs over every occupation-sector pair k', j whose productivity an extra k worker
changes; DESIGN.md's shorthand Σ_j keeps only k' = k, and the two coincide when τ^R = 0), and R^k
balancing the budget, Σ_k R^k L^k = Σ_kn [t_L (w^k_n + Δ^k_n) − Δ^k_n] L^k_n, with the split between
occupations chosen, as the paper's welfare weights, so that every occupation gains the same
proportion of welfare, U^k = (Σ_n (A^k_n C^k_n)^ν)^(1/ν).

Δ depends on wages and employment, and R^k on the allocation, so (Δ, R) are unknowns of the same
joint fixed point as the equilibrium (module ``equilibrium``): each sweep sets Δ by the formula at the
sweep's wages and employment, and R by one Newton step on the equal-gain conditions and the budget
(d ln U^k / d R^k = Σ_n ℓ^k_n / e^k_n, ℓ the location shares); at a fixed point Δ satisfies its
formula, gains are equal and the budget balances.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ...numerics import fixed_point
from .equilibrium import (Equilibrium, Policy, _adjoint_solver, _numeraire, _rescale, _state_size, build_equilibrium,
                          evaluate, solve_equilibrium, trade_kernel)
from .params import Params

__all__ = ["PlannerSolution", "solve_planner", "subsidies"]


def subsidies(p: Params, w, L, bill):
    """Δ^k_n of the module docstring, ``(K, N)``, from wages, populations and the wage bills
    ``bill[k, j, n]`` = w^k_n L^kj_n."""
    share = L / jnp.sum(L, axis=0, keepdims=True)                      # L^k_n / L_n
    own = jnp.sum(bill * p.tau_R[:, :, None], axis=1)                   # Σ_j w^k L^kj τ^R,kj
    all_R = jnp.sum(own, axis=0)                                        # Σ_k'j w L τ^R
    all_L = jnp.sum(bill * p.tau_L[None, :, None], axis=(0, 1))         # Σ_k'j w L τ^L,j
    return (own + share * (all_L - all_R)[None, :]) / L


class PlannerSolution(eqx.Module):
    """Outcome of :func:`solve_planner`.

    Attributes:
        allocation: the optimal allocation, an :class:`Equilibrium` under the planner's :class:`Policy`.
        laissez_faire: the competitive equilibrium it is compared with.
        Delta: ``(K, N)`` subsidies Δ^k_n; R: ``(K,)`` transfers R^k; t_L: income tax.
        welfare_gain: ``(K,)`` U^k(planner)/U^k(equilibrium) − 1 (equal across k by construction).
        iterations, max_residual, converged: of the planner's fixed point (the laissez-faire solve
            reports its own in ``laissez_faire``).
    """

    allocation: Equilibrium
    laissez_faire: Equilibrium
    Delta: Float[Array, "K N"]
    R: Float[Array, " K"]
    t_L: Float[Array, ""]
    welfare_gain: Float[Array, " K"]
    iterations: Int[Array, ""]
    max_residual: Float[Array, ""]
    converged: Bool[Array, ""]


def _planner_map(z, args):
    p, t_L, D, lU_eq, scale = args
    policy = Policy(t_L=t_L, Delta=z["Delta"], R=z["Rk"])
    ev = evaluate(p, z, policy, D)
    Delta_new = scale * subsidies(p, ev["w"], ev["L"], ev["bill"])
    # transfers: one Newton step on  ln U^k − ln U^k_eq = ln ḡ (all k),  Σ_k R^k L^k = budget
    C = ev["spend"] / jnp.exp(ev["lPn"])[None, :]
    V = p.nu * jnp.log(p.A * C)
    lU = jax.scipy.special.logsumexp(V, axis=1) / p.nu
    ell = jax.nn.softmax(V, axis=1)
    m = jnp.sum(ell / ev["spend"], axis=1)                               # d ln U^k / d R^k
    g = lU - lU_eq
    budget = jnp.sum((t_L * (ev["w"] + z["Delta"]) - z["Delta"]) * ev["L"])
    lg = (budget - jnp.sum(p.Lk * z["Rk"]) + jnp.sum(p.Lk * g / m)) / jnp.sum(p.Lk / m)
    R_new = z["Rk"] + (lg - g) / m
    ls = _numeraire(p, ev["new"], ev["L"])
    out = _rescale(ev["new"], ls)
    out["Delta"] = Delta_new / jnp.exp(ls)
    out["Rk"] = R_new / jnp.exp(ls)
    return out


def solve_planner(params: Params, *, t_L=None, subsidy_scale=1.0, laissez_faire: Equilibrium | None = None,
                  tol: float = 1e-11,
                  max_iter: int = 10_000, damping: float = 0.5, linear_solver=None) -> PlannerSolution:
    """The planner's allocation, subsidies Δ, transfers R^k and welfare gains (module docstring).

    Args:
        params: :class:`Params`.
        t_L: income tax; default 1/(1 + ν) (paper §II). ``t_L=0`` with τ = 0 gives back the
            laissez-faire equilibrium exactly.
        subsidy_scale: Δ = subsidy_scale × the formula (1 = optimal; other values are the policy
            experiments "a fraction of the optimal subsidies", with R^k still equalizing gains).
        laissez_faire: the competitive equilibrium if already solved (else solved here).
        tol, max_iter, damping, linear_solver: as :func:`solve_equilibrium`; the fixed point starts
            from the laissez-faire state with Δ = 0 and R = 0.

    Works under ``jax.vmap``; convergence reported, never assumed (strong externalities can make the
    planner's problem non-concave, Proposition 1's premise, and the iteration fail).
    """
    t_L = 1.0 / (1.0 + params.nu) if t_L is None else jnp.asarray(t_L, dtype=float)
    eq = solve_equilibrium(params, tol=tol, max_iter=max_iter, damping=damping) if laissez_faire is None \
        else laissez_faire
    K, N = params.A.shape[-2:]
    z0 = dict(eq.state, Delta=jnp.zeros((K, N)), Rk=jnp.zeros((K,)))
    lU_eq = jnp.log(eq.welfare)
    args = (params, t_L, trade_kernel(params), lU_eq, jnp.asarray(subsidy_scale, dtype=float))
    res = fixed_point(_planner_map, z0, args, damping=damping, tol=tol, max_iter=max_iter,
                      linear_solver=_adjoint_solver(_state_size(params) + K * N + K, linear_solver))
    z = res.value
    policy = Policy(t_L=jnp.asarray(t_L, dtype=float), Delta=z["Delta"], R=z["Rk"])
    alloc = build_equilibrium(params, {k: z[k] for k in ("lw", "lL", "lr", "lP", "lX")}, policy,
                              res.iterations, res.residual, res.converged)
    gain = alloc.welfare / eq.welfare - 1.0
    return PlannerSolution(allocation=alloc, laissez_faire=eq, Delta=z["Delta"], R=z["Rk"], t_L=policy.t_L,
                           welfare_gain=gain, iterations=res.iterations, max_residual=res.residual,
                           converged=res.converged & eq.converged)
