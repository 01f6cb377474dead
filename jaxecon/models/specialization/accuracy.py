"""Accuracy of a solution: Euler-equation errors of the consistent allocation off the grid (DESIGN.md
"Accuracy: the consistent allocation")."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import primitives as pr
from .equilibrium import EquilibriumSolution
from .policy import allocation_at

__all__ = ["euler_errors", "random_states"]


def _interior(points, name):
    pts = np.asarray(points)
    if pts.shape[0] < 3:
        raise ValueError(f"random_states needs at least 3 points on the {name} axis (states lie one cell in "
                         f"from each edge); got {pts.shape[0]}")
    return pts[1], pts[-2]


def random_states(solution: EquilibriumSolution, key, n: int):
    """``n`` random states as DESIGN.md defines them for the accuracy check.

    b and each of k_1..k_{I−1} uniform on the interior of the grid box (one cell in from each edge:
    ``[x_2, x_{n−1}]`` of each axis; for I = 3 points whose ``k_1 + k_2`` exceeds ``1 − k_lo`` are
    scaled back onto that plane), ``k_I = 1 − Σ``, and ``s`` uniform over ALL exogenous states (rare
    states count as much as frequent ones).

    Returns:
        ``(b (n,), k (n, I), s (n,))``.
    """
    I = solution.n_industries
    axes = solution.axes
    ns = solution.params.n_states
    kb, kk, ks = jax.random.split(key, 3)
    blo, bhi = _interior(axes[0].points, "bond")
    b = jax.random.uniform(kb, (n,), minval=blo, maxval=bhi)
    if I > 1:
        klo, khi = _interior(axes[1].points, "capital-share")
        head = jax.random.uniform(kk, (n, I - 1), minval=klo, maxval=khi)
        tot = jnp.sum(head, axis=1)
        head = head * jnp.where(tot > 1.0 - klo, (1.0 - klo) / tot, 1.0)[:, None]
        k = jnp.concatenate([head, 1.0 - jnp.sum(head, axis=1, keepdims=True)], axis=1)
    else:
        k = jnp.ones((n, 1))
    s = jax.random.randint(ks, (n,), 0, ns).astype(jnp.int32)
    return b, k, s


@functools.partial(jax.jit, static_argnames="bonds")
def _errors(solution, b, k, s, bonds="net_of_output"):
    p = solution.params
    n = b.shape[0]
    today = allocation_at(solution, b, k, s, bonds=bonds)
    c, q, eta, bn, kn = today["c"], today["q"], today["eta"], today["b_next"], today["k_next"]
    I = solution.n_industries
    ns = p.n_states
    # tomorrow, every s': the same consistent allocation at (b', k', s')
    bb = jnp.repeat(bn, ns)
    kk = jnp.repeat(kn, ns, axis=0)
    ss = jnp.tile(jnp.arange(ns, dtype=jnp.int32), n)
    tom = allocation_at(solution, bb, kk, ss, bonds=bonds)
    cn = jnp.maximum(tom["c"].reshape(n, ns), 1e-12)
    qn = tom["q"].reshape(n, ns)
    en = tom["eta"].reshape(n, ns)
    knn = tom["k_next"].reshape(n, ns, I)
    c_pos = jnp.maximum(c, 1e-12)
    Pr = p.P[s]  # (n, ns)
    R = p.R[s]
    mun = pr.marginal_utility(p, cn)
    mu = pr.marginal_utility(p, c_pos)
    # bond Euler (eq. 13) in consumption units: |1 − u'^{-1}(β R E[u'(c')] + η)/c|
    bond = jnp.abs(1.0 - pr.inverse_marginal_utility(p, p.beta * R * jnp.sum(Pr * mun, 1) + eta) / c_pos)
    # capital Euler (eq. 12) per industry: |RHS/LHS − 1|
    div = qn[:, :, None] + pr.private_mpk(p, p.z[None], kn[:, None, :]) - pr.adj_cost_d1(p, kn[:, None, :], knn)
    term = mun[:, :, None] * div + (pr.finite_theta(p) * qn * en)[:, :, None]
    rhs = p.beta * jnp.sum(Pr[:, :, None] * term, 1)
    lhs = mu[:, None] * (q[:, None] + pr.adj_cost_d2(p, k, kn))
    capital = jnp.abs(rhs / lhs - 1.0)
    th = pr.finite_theta(p)
    finite_theta = jnp.isfinite(p.theta)
    collat = jnp.where(finite_theta, jnp.maximum(0.0, -bn / R - th * q) / (1.0 + th * q), 0.0)
    slack = jnp.where(finite_theta, jnp.abs(eta / mu * (bn / R + th * q)) / (1.0 + th * q), 0.0)
    clearing = jnp.abs(jnp.sum(kn, axis=1) - 1.0)
    # for information: the budget gap of the separately interpolated c table (not the allocation used)
    c_tab = today["c_interpolated"]
    budget_interp = jnp.abs(c_tab - c) / jnp.abs(c_tab)
    return {"bond": bond, "capital": capital, "collateral": collat, "slackness": slack,
            "clearing": clearing, "budget_interpolated_c": budget_interp}


def euler_errors(solution: EquilibriumSolution, key, n: int = 10_000, *, bonds: str = "net_of_output") -> dict:
    """Euler-equation errors of the consistent allocation at ``n`` random off-grid states.

    DESIGN.md "Accuracy: the consistent allocation": states from :func:`random_states` (b and k
    uniform on the interior of the grid box, s uniform over all exogenous states). Today's ``b', k'``
    are interpolated, ``c`` comes from the budget ``c = Y(k, s) − ΣΦ(k, k') + b − b'/R(s)``, ``q``
    and ``η`` are interpolated (:func:`~jaxecon.models.specialization.policy.allocation_at`);
    tomorrow's ``c', q', η', k''`` are the same allocation at ``(b', k', s')`` for every ``s'``.
    Errors, each reported as the mean and the max of ``log10`` (floored at 1e-17):

    - ``bond``: ``|1 − u'^{-1}(β R E[u'(c')] + η)/c|`` (eq. 13, consumption units);
    - ``capital``: ``|RHS/LHS − 1|`` of the capital Euler equation (eq. 12), every industry;
    - ``collateral``: ``max(0, −b'/R − θ q)/(1 + θ q)``;
    - ``slackness``: ``|η/u'(c) · (b'/R + θ q)|/(1 + θ q)``;
    - ``clearing``: ``|Σ k' − 1|``;
    - ``budget_interpolated_c`` (information only, not part of the allocation): ``|c̃ − c|/c̃``, the
      budget gap of the separately interpolated consumption table ``c̃``.

    ``bonds`` is passed to :func:`~jaxecon.models.specialization.policy.allocation_at`
    (``"net_of_output"``: ``b'`` interpolated in ``w = b'/R − Y``; ``"direct"``: ``b'`` itself).

    Returns:
        ``{name: {"mean_log10": float, "max_log10": float}}``, plus ``"raw"`` with the error arrays
        and ``"states"`` with the ``(b, k, s)`` used.
    """
    b, k, s = random_states(solution, key, int(n))
    raw = _errors(solution, b, k, s, bonds=bonds)
    out = {}
    for name, v in raw.items():
        lv = np.log10(np.maximum(np.asarray(v), 1e-17))
        out[name] = {"mean_log10": float(lv.mean()), "max_log10": float(lv.max())}
    out["raw"] = raw
    out["states"] = (b, k, s)
    return out
