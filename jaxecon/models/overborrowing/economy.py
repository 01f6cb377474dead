"""The economy's static relations: utility, marginal utility, prices, the collateral constraint.

All functions take scalar or array ``cT``/``yN`` (broadcast) and a (single) :class:`Params`; they
are the building blocks of the time iteration, the value functions and the simulation.
"""

from __future__ import annotations

import jax.numpy as jnp

from ...numerics import newton
from .params import Params

__all__ = [
    "composite",
    "utility",
    "marginal_utility",
    "price",
    "price_index",
    "externality",
    "collateral_slack",
    "binding_consumption",
]


def composite(params: Params, cT, yN):
    """CES basket ``C = [ω cT^(−η) + (1−ω) yN^(−η)]^(−1/η)`` (Bianchi 2011, §I.A)."""
    w, e = params.omega, params.eta
    return (w * cT ** (-e) + (1.0 - w) * yN ** (-e)) ** (-1.0 / e)


def utility(params: Params, cT, yN):
    """Period utility ``u(C) = C^(1−σ)/(1−σ)`` (log for σ = 1) at ``cN = yN`` (§I.A)."""
    C = composite(params, cT, yN)
    s = params.sigma
    return jnp.where(s == 1.0, jnp.log(C), C ** (1.0 - s) / jnp.where(s == 1.0, 1.0, 1.0 - s))


def marginal_utility(params: Params, cT, yN):
    """``u_T = ∂u/∂cT = ω cT^(−η−1) [ω cT^(−η) + (1−ω) yN^(−η)]^((σ−1)/η − 1)`` (households' FOC)."""
    w, e, s = params.omega, params.eta, params.sigma
    X = w * cT ** (-e) + (1.0 - w) * yN ** (-e)
    return w * cT ** (-e - 1.0) * X ** ((s - 1.0) / e - 1.0)


def price(params: Params, cT, yN):
    """Relative price of nontradables ``p = (1−ω)/ω (cT/yN)^(1+η)`` (intratemporal condition)."""
    return (1.0 - params.omega) / params.omega * (cT / yN) ** (1.0 + params.eta)


def price_index(params: Params, p):
    """CES price index in tradable units (the real exchange rate of ``main.m`` l. 496-497):
    ``P = [ω^(1/(1+η)) + (1−ω)^(1/(1+η)) p^(η/(1+η))]^((1+η)/η)``; a fall is a real depreciation."""
    e = params.eta
    a = 1.0 / (1.0 + e)
    return (params.omega**a + (1.0 - params.omega) ** a * p ** (e * a)) ** (1.0 / (e * a))


def externality(params: Params, cT, yN):
    """``Ψ = κ yN ∂p/∂cT = κ (1+η) p yN / cT``: how one more unit of cT relaxes the constraint.

    The planner's marginal value of wealth is ``u_T + μ Ψ`` (Bianchi 2011, §II, the planner's
    Euler equation); ``1 − Ψ > 0`` on the rising branch of the constraint map.
    """
    return params.kappa * (1.0 + params.eta) * price(params, cT, yN) * yN / cT


def collateral_slack(params: Params, b_next, cT, yT, yN):
    """``b' + κ (p(cT) yN + yT)``: nonnegative when the collateral constraint (§I.A) holds."""
    return b_next + params.kappa * (price(params, cT, yN) * yN + yT)


def binding_consumption(params: Params, cash, yT, yN, *, tol: float = 1e-13, max_iter: int = 100):
    """Tradable consumption at which the collateral constraint binds, from the constraint itself.

    With ``b' = −κ (p(cT) yN + yT)`` and ``cT = cash − b'`` (``cash = R b + yT``):
    ``g(cT) ≡ cT − κ p(cT) yN = cash + κ yT ≡ A``. For η > 0, ``g`` is concave with maximum at
    ``c* = yN [ω / ((1−ω) κ (1+η))]^(1/η)``; the equilibrium root is the one on the rising branch
    (``g' = 1 − Ψ > 0``), found by Newton from ``cT0 = A`` (left of the root since ``g(c) <= c``, so
    the iteration increases monotonically). Feasible consumption satisfying the constraint is
    ``cT <= root``. When ``A >= g(c*)`` no root exists: the constraint cannot bind at any cT.

    Returns:
        ``(c_bind, binds_possible, feasible, converged)``: ``c_bind`` the root (``inf`` when none
        exists), ``binds_possible`` whether a root exists, ``feasible`` whether some cT > 0
        satisfies the constraint (``A > 0``), ``converged`` the Newton flag (True where no root is
        needed).
    """
    k, e, w = params.kappa, params.eta, params.omega
    A = cash + k * yT
    k_safe = jnp.where(k > 0, k, 1.0)
    c_star = jnp.where(k > 0, yN * (w / ((1.0 - w) * k_safe * (1.0 + e))) ** (1.0 / e), jnp.inf)
    c_star_f = jnp.where(jnp.isfinite(c_star), c_star, 1.0)
    g_max = jnp.where(jnp.isfinite(c_star), c_star_f - k * price(params, c_star_f, yN) * yN, jnp.inf)
    feasible = A > 0
    exists = feasible & (A < g_max)
    a_pos = jnp.where(feasible, A, 1.0)

    def g(c):
        return c - k * price(params, c, yN) * yN

    # where no root is needed, solve the trivial problem g(c) = g(1) from c = 1 (zero iterations)
    target = jnp.where(exists, a_pos, g(1.0))
    res = newton(lambda c, a: g(c) - a, jnp.where(exists, a_pos, 1.0), (target,), tol=tol, max_iter=max_iter)
    c_bind = jnp.where(exists, res.x, jnp.inf)
    converged = jnp.where(exists, res.converged, True)
    return c_bind, exists, feasible, converged
