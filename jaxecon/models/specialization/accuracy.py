"""Accuracy of a solution: Euler-equation errors at random off-grid states (DESIGN.md)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import stationary_distribution
from . import primitives as pr
from .equilibrium import EquilibriumSolution
from .policy import policy_at

__all__ = ["euler_errors", "random_states"]


def random_states(solution: EquilibriumSolution, key, n: int):
    """``n`` random states: b and each of k_1..k_{I−1} uniform on the grid box (for I = 3 points
    outside the simplex are scaled onto it as in the grid), s from the stationary law of the chain."""
    g = solution.grid
    I = solution.n_industries
    axes = solution.axes
    kb, kk, ks = jax.random.split(key, 3)
    blo, bhi = axes[0].points[0], axes[0].points[-1]
    b = jax.random.uniform(kb, (n,), minval=blo, maxval=bhi)
    if I > 1:
        klo, khi = axes[1].points[0], axes[1].points[-1]
        head = jax.random.uniform(kk, (n, I - 1), minval=klo, maxval=khi)
        tot = jnp.sum(head, axis=1)
        head = head * jnp.where(tot > 1.0 - klo, (1.0 - klo) / tot, 1.0)[:, None]
        k = jnp.concatenate([head, 1.0 - jnp.sum(head, axis=1, keepdims=True)], axis=1)
    else:
        k = jnp.ones((n, 1))
    pi = stationary_distribution(solution.params.P)
    s = jax.random.choice(ks, pi.shape[0], (n,), p=pi)
    return b, k, s


@functools.partial(jax.jit, static_argnums=2)
def _errors(solution, key, n):
    p = solution.params
    b, k, s = random_states(solution, key, n)
    today = policy_at(solution, b, k, s)
    c, q, eta, bn, kn = today["c"], today["q"], today["eta"], today["b_next"], today["k_next"]
    I = solution.n_industries
    ns = p.n_states
    # tomorrow, every s'
    bb = jnp.repeat(bn, ns)
    kk = jnp.repeat(kn, ns, axis=0)
    ss = jnp.tile(jnp.arange(ns), n)
    tom = policy_at(solution, bb, kk, ss)
    cn = jnp.maximum(tom["c"].reshape(n, ns), 1e-12)
    qn = tom["q"].reshape(n, ns)
    en = tom["eta"].reshape(n, ns)
    knn = jnp.maximum(tom["k_next"].reshape(n, ns, I), 1e-12)
    Pr = p.P[s]  # (n, ns)
    R = p.R[s]
    mun = pr.marginal_utility(p, cn)
    # bond Euler: |1 − u'^{-1}(β R E[u'(c')] + η)/c|
    bond = jnp.abs(1.0 - pr.inverse_marginal_utility(p, p.beta * R * jnp.sum(Pr * mun, 1) + eta) / c)
    # capital Euler per industry: |RHS/LHS − 1|
    kn_ = jnp.maximum(kn, 1e-12)
    div = qn[:, :, None] + pr.private_mpk(p, p.z[None], kn_[:, None, :]) - pr.adj_cost_d1(p, kn_[:, None, :], knn)
    term = mun[:, :, None] * div + (pr.finite_theta(p) * qn * en)[:, :, None]
    rhs = p.beta * jnp.sum(Pr[:, :, None] * term, 1)
    lhs = pr.marginal_utility(p, c)[:, None] * (q[:, None] + pr.adj_cost_d2(p, k, kn_))
    capital = jnp.abs(rhs / lhs - 1.0)
    th = pr.finite_theta(p)
    finite_theta = jnp.isfinite(p.theta)
    collat = jnp.where(finite_theta, jnp.maximum(0.0, -bn / R - th * q) / (1.0 + th * q), 0.0)
    slack = jnp.where(finite_theta, jnp.abs(eta / pr.marginal_utility(p, c) * (bn / R + th * q)) / (1.0 + th * q), 0.0)
    clearing = jnp.abs(jnp.sum(kn, axis=1) - 1.0)
    resources = pr.output(p, p.z[s], k) - jnp.sum(pr.adj_cost(p, k, kn_), axis=1) + b
    budget = jnp.abs(c + bn / R - resources) / c
    return {"bond": bond, "capital": capital, "collateral": collat, "slackness": slack,
            "clearing": clearing, "budget": budget}


def euler_errors(solution: EquilibriumSolution, key, n: int = 10_000) -> dict:
    """Euler-equation errors at ``n`` random off-grid states (DESIGN.md "Accuracy").

    Today's ``c, q, η, b', k'`` and tomorrow's ``c', q', η', k''`` (at ``(b', k')`` for every
    ``s'``) are the solution's own interpolated policies. Errors, each reported as the mean and the
    max of ``log10`` (floored at 1e-17):

    - ``bond``: ``|1 − u'^{-1}(β R E[u'(c')] + η)/c|`` (eq. 13, consumption units);
    - ``capital``: ``|RHS/LHS − 1|`` of the capital Euler equation (eq. 12), every industry;
    - ``collateral``: ``max(0, −b'/R − θ q)/(1 + θ q)``;
    - ``slackness``: ``|η/u'(c) · (b'/R + θ q)|/(1 + θ q)``;
    - ``clearing``: ``|Σ k' − 1|``;
    - ``budget``: ``|c + b'/R − (Y − ΣΦ + b)|/c`` (c and b' are interpolated separately).

    States: b and k_1..k_{I−1} uniform on the grid box, s from the stationary distribution.

    Returns:
        ``{name: {"mean_log10": float, "max_log10": float}}`` plus ``"raw"`` with the arrays.
    """
    raw = _errors(solution, key, int(n))
    out = {}
    for name, v in raw.items():
        lv = np.log10(np.maximum(np.asarray(v), 1e-17))
        out[name] = {"mean_log10": float(lv.mean()), "max_log10": float(lv.max())}
    out["raw"] = raw
    return out
